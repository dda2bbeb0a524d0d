//! The part of every Lambda's configuration that says where its data lives, read once at cold
//! start. Each function adds its own settings on top; all of them read through a `lookup`
//! function (the process environment in `main`, a map in tests) so tests never set variables.

/// `TABLE_NAME` and the optional `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
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

/// A variable's value; blank counts as absent.
pub fn present(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).filter(|value| !value.trim().is_empty())
}

impl StoreConfig {
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<StoreConfig, ConfigError> {
        let table_name = present(lookup, "TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let endpoint_url = present(lookup, "AWS_ENDPOINT_URL");
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "AWS_ENDPOINT_URL",
                problem: format!("{url:?} is not an http(s) URL"),
            });
        }
        Ok(StoreConfig {
            table_name,
            endpoint_url,
        })
    }

    pub fn from_env() -> Result<StoreConfig, ConfigError> {
        StoreConfig::from_lookup(&|name: &str| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_table_name_is_named_in_the_error() {
        let error = StoreConfig::from_lookup(&|_: &str| None).unwrap_err();
        assert_eq!(error, ConfigError::Missing("TABLE_NAME"));
        assert!(error.to_string().contains("TABLE_NAME"));
    }

    #[test]
    fn a_blank_value_counts_as_missing() {
        let error = StoreConfig::from_lookup(&|_: &str| Some("  ".to_owned())).unwrap_err();
        assert_eq!(error, ConfigError::Missing("TABLE_NAME"));
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused() {
        let lookup = |name: &str| match name {
            "TABLE_NAME" => Some("crm".to_owned()),
            "AWS_ENDPOINT_URL" => Some("localhost:5000".to_owned()),
            _ => None,
        };
        assert!(matches!(
            StoreConfig::from_lookup(&lookup),
            Err(ConfigError::Invalid {
                name: "AWS_ENDPOINT_URL",
                ..
            })
        ));
    }
}
