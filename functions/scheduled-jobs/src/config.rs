//! The Lambda's configuration, read once at cold start from the environment.

/// Environment variables of the scheduled-jobs Lambda.
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
    /// Reads the configuration through `lookup` (the process environment in `main`, a map in
    /// tests). Blank values count as missing.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let table_name = read("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let endpoint_url = read("AWS_ENDPOINT_URL");
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
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_table_name_is_enough() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "crm")])).unwrap();
        assert_eq!(config.table_name, "crm");
        assert_eq!(config.endpoint_url, None);
    }

    #[test]
    fn a_missing_or_blank_table_name_is_named_in_the_error() {
        for vars in [&[][..], &[("TABLE_NAME", "  ")][..]] {
            let error = Config::from_lookup(lookup(vars)).unwrap_err();
            assert_eq!(error, ConfigError::Missing("TABLE_NAME"));
            assert!(error.to_string().contains("TABLE_NAME"));
        }
    }

    #[test]
    fn an_emulator_endpoint_is_taken_when_it_is_a_url() {
        let vars = [
            ("TABLE_NAME", "crm"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ];
        let config = Config::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );

        let vars = [
            ("TABLE_NAME", "crm"),
            ("AWS_ENDPOINT_URL", "localhost:5000"),
        ];
        let error = Config::from_lookup(lookup(&vars)).unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Invalid {
                name: "AWS_ENDPOINT_URL",
                ..
            }
        ));
        assert!(error.to_string().contains("AWS_ENDPOINT_URL"));
    }
}
