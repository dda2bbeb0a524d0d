//! Serving the Router on Lambda behind an API Gateway HTTP API (payload v2).
//!
//! With `AUTH_MODE=gateway`, the gateway's JWT authorizer has verified the token and passes its
//! claims in the request context; [`trust_gateway_claims`] turns them into [`VerifiedClaims`]
//! before the Router's auth check runs. A request without them still needs a bearer token.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::auth::{Claims, Role, VerifiedClaims};

/// Claim names an authorizer may carry the role in (Cognito prefixes custom attributes).
const ROLE_CLAIMS: [&str; 2] = ["role", "custom:role"];

pub fn trust_gateway_claims(mut request: Request) -> Request {
    if let Some(claims) = gateway_claims(&request) {
        request.extensions_mut().insert(VerifiedClaims(claims));
    }
    request
}

fn gateway_claims(request: &Request) -> Option<Claims> {
    let RequestContext::ApiGatewayV2(context) = request.request_context_ref()? else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let role = ROLE_CLAIMS
        .iter()
        .find_map(|name| claims.get(*name))
        .and_then(|raw| Role::parse(raw))?;
    let number = |name: &str| claims.get(name).and_then(|raw| raw.parse::<i64>().ok());
    Some(Claims {
        sub: claims.get("sub")?.clone(),
        role,
        iat: number("iat").unwrap_or(0),
        exp: number("exp").unwrap_or(0),
    })
}
