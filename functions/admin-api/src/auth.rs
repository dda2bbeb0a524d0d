//! Bearer JWTs (HS256): who is calling and in which role.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::routes::AdminState;

/// The roles and what they may do are decided in [`crm_domain::records::policy`].
pub use crm_domain::records::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Claims that a trusted layer in front of the Router verified already (an API Gateway JWT
/// authorizer). Only code can insert them into a request's extensions; clients cannot.
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub Claims);

/// Verifies tokens; built once at start from the signing secret.
#[derive(Clone)]
pub struct TokenVerifier {
    hs256: Option<(DecodingKey, Validation)>,
}

impl TokenVerifier {
    pub fn hs256(secret: &[u8]) -> TokenVerifier {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenVerifier {
            hs256: Some((DecodingKey::from_secret(secret), validation)),
        }
    }

    /// Accepts only [`VerifiedClaims`] put in place by the gateway layer; bearer tokens that
    /// reach the function itself are refused.
    pub fn gateway_only() -> TokenVerifier {
        TokenVerifier { hs256: None }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let (key, validation) = self.hs256.as_ref().ok_or_else(|| {
            ApiError::Unauthorized(
                "this deployment accepts only gateway-verified tokens".to_owned(),
            )
        })?;
        jsonwebtoken::decode::<Claims>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|error| ApiError::Unauthorized(format!("invalid token: {error}")))
    }
}

/// Signs tokens for operators (`crm-local token`) and tests.
pub struct TokenIssuer {
    key: EncodingKey,
}

impl TokenIssuer {
    pub fn hs256(secret: &[u8]) -> TokenIssuer {
        TokenIssuer {
            key: EncodingKey::from_secret(secret),
        }
    }

    /// A token for `subject` in `role`, valid for `ttl_seconds` from `now_seconds`.
    pub fn issue(&self, subject: &str, role: Role, now_seconds: i64, ttl_seconds: i64) -> String {
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            iat: now_seconds,
            exp: now_seconds.saturating_add(ttl_seconds),
        };
        // HS256 signing of plain claims has no failure mode for a valid key.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).unwrap_or_default()
    }
}

/// Middleware on every admin route: a valid bearer token or a 401, before any handler runs.
pub async fn require_token(
    State(state): State<AdminState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(VerifiedClaims(claims)) = request.extensions().get::<VerifiedClaims>().cloned() {
        request.extensions_mut().insert(claims);
        return Ok(next.run(request).await);
    }
    if let Some(VerifiedClaims(claims)) = request.extensions().get::<VerifiedClaims>().cloned() {
        request.extensions_mut().insert(claims);
        return Ok(next.run(request).await);
    }
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("missing Authorization: Bearer <token>".to_owned())
        })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be Bearer <token>".to_owned())
        })?;
    let claims = state.tokens.verify(token)?;
    request.extensions_mut().insert(claims);
    Ok(next.run(request).await)
}
