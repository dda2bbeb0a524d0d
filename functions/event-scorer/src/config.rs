//! The Lambda's configuration, read once at cold start from the environment.

/// Environment variables of the event-scorer Lambda (documented in docs/configuration.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table holding every record.
    pub table_name: String,
    /// `AWS_ENDPOINT_URL` (optional): send AWS calls to an emulator instead of AWS.
    pub endpoint_url: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {problem}")]
    Invalid { name: &'static str, problem: String },
}

impl Config {
    /// Reads the configuration through `lookup` (the process environment in `main`, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let table_name = lookup("TABLE_NAME")
            .filter(|value| !value.trim().is_empty())
            .ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let endpoint_url = lookup("AWS_ENDPOINT_URL").filter(|value| !value.trim().is_empty());
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "AWS_ENDPOINT_URL",
                problem: format!("{url:?} is not an http(s) URL"),
            });
        }
        Ok(Config {
            table_name,
            endpoint_url,
        })
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_table_name_is_named_in_the_error() {
        let error = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(error, ConfigError::Missing("TABLE_NAME"));
        assert!(error.to_string().contains("TABLE_NAME"));
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused() {
        let lookup = |name: &str| match name {
            "TABLE_NAME" => Some("crm".to_owned()),
            "AWS_ENDPOINT_URL" => Some("localhost:5000".to_owned()),
            _ => None,
        };
        assert!(matches!(
            Config::from_lookup(lookup),
            Err(ConfigError::Invalid {
                name: "AWS_ENDPOINT_URL",
                ..
            })
        ));
    }
}
