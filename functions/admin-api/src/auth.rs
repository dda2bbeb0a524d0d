//! Bearer JWTs (HS256): who is calling and in which role.
//!
//! `jsonwebtoken` parses and validates the tokens; its cryptography comes from `HS256_ONLY`, a
//! `CryptoProvider` that knows HMAC-SHA256 alone (RustCrypto's `hmac` and `sha2`). The crate's
//! `rust_crypto` backend would also link RSA, ECDSA and EdDSA, 520 KiB of the Lambda, for
//! algorithms this API never accepts.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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

/// Verifies tokens; built once at start from the signing secret. Shared, not copied: the Router
/// clones its state into every route as it is built.
#[derive(Clone)]
pub struct TokenVerifier {
    hs256: Option<Arc<(DecodingKey, Validation)>>,
}

impl TokenVerifier {
    pub fn hs256(secret: &[u8]) -> TokenVerifier {
        use_hs256_only();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenVerifier {
            hs256: Some(Arc::new((DecodingKey::from_secret(secret), validation))),
        }
    }

    /// Accepts only [`VerifiedClaims`] put in place by the gateway layer; bearer tokens that
    /// reach the function itself are refused.
    pub fn gateway_only() -> TokenVerifier {
        TokenVerifier { hs256: None }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let (key, validation) = self.hs256.as_deref().ok_or_else(|| {
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
        use_hs256_only();
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

/// jsonwebtoken's cryptography for this process: HS256 only. Other algorithms are refused
/// before it is asked (`Validation` lists HS256 alone), and again here.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hs256_signer,
    verifier_factory: hs256_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Installs `HS256_ONLY` before the first token is signed or verified; later calls find it in
/// place. jsonwebtoken is built without a backend of its own, so no other provider can be.
fn use_hs256_only() {
    let _already_installed = HS256_ONLY.install_default();
}

struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(algorithm: &Algorithm, secret: &[u8]) -> jsonwebtoken::errors::Result<Hs256> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Hmac::new_from_slice(secret)
            .map(Hs256)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

fn hs256_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret()?)?))
}

fn hs256_verifier(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret()?)?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    /// `verify_slice` compares in constant time.
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
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
