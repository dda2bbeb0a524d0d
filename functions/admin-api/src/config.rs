//! The admin-api Lambda's configuration, read once at cold start from the environment.

use std::fmt;

use crm_store::env::{ConfigError, StoreConfig, present};

/// How callers prove who they are.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// The function verifies `Authorization: Bearer <JWT>` itself (HS256, `JWT_SECRET`).
    Token { secret: Vec<u8> },
    /// An API Gateway JWT authorizer verified the token; the function trusts the claims the
    /// gateway passes in the request context (`sub` and `role`).
    GatewayClaims,
}

impl fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMode::Token { .. } => f.write_str("Token { secret: <redacted> }"),
            AuthMode::GatewayClaims => f.write_str("GatewayClaims"),
        }
    }
}

/// Environment variables of the admin-api Lambda (documented in docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME` and the optional `AWS_ENDPOINT_URL`.
    pub store: StoreConfig,
    /// `AUTH_MODE` (`token`, the default, or `gateway`) and, for `token`, `JWT_SECRET`
    /// (at least 32 bytes).
    pub auth: AuthMode,
}

const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the configuration through `lookup` (the process environment in `main`, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let store = StoreConfig::from_lookup(&lookup)?;
        let auth = match present(&lookup, "AUTH_MODE").as_deref().unwrap_or("token") {
            "token" => {
                let secret =
                    present(&lookup, "JWT_SECRET").ok_or(ConfigError::Missing("JWT_SECRET"))?;
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(ConfigError::Invalid {
                        name: "JWT_SECRET",
                        problem: format!("must be at least {MIN_SECRET_BYTES} bytes"),
                    });
                }
                AuthMode::Token {
                    secret: secret.into_bytes(),
                }
            }
            "gateway" => AuthMode::GatewayClaims,
            other => {
                return Err(ConfigError::Invalid {
                    name: "AUTH_MODE",
                    problem: format!("{other:?} is neither \"token\" nor \"gateway\""),
                });
            }
        };
        Ok(Config { store, auth })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn token_mode_is_the_default_and_needs_a_long_secret() {
        let error = Config::from_lookup(lookup(&[("TABLE_NAME", "crm")])).unwrap_err();
        assert_eq!(error, ConfigError::Missing("JWT_SECRET"));
        let error = Config::from_lookup(lookup(&[("TABLE_NAME", "crm"), ("JWT_SECRET", "short")]))
            .unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Invalid {
                name: "JWT_SECRET",
                ..
            }
        ));
    }

    #[test]
    fn gateway_mode_needs_no_secret_and_an_unknown_mode_is_named() {
        let config =
            Config::from_lookup(lookup(&[("TABLE_NAME", "crm"), ("AUTH_MODE", "gateway")]))
                .unwrap();
        assert_eq!(config.auth, AuthMode::GatewayClaims);
        let error = Config::from_lookup(lookup(&[("TABLE_NAME", "crm"), ("AUTH_MODE", "cookie")]))
            .unwrap_err();
        assert!(error.to_string().contains("AUTH_MODE"));
    }
}
