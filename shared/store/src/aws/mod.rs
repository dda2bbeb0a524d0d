//! The configuration the AWS clients (DynamoDB, SQS) are built from, once per process: region,
//! credentials, the HTTP client and its roots of trust, the SDK's standard retry mode
//! (throttling and transient faults retried with backoff, 3 attempts), and an optional endpoint
//! override for a local emulator.
//!
//! Two ways to load it:
//! - [`AwsEnvironment`]: the environment only — `AWS_REGION` and the keys Lambda sets from the
//!   function's role. What the Lambdas use: no credential-provider chain, no profile files, no
//!   STS client compiled in (a smaller binary that starts faster).
//! - [`sdk_config_from_chain`] (feature `credential-chain`, `aws-config`): the SDK's standard
//!   chain (environment, profile files, web identity, ECS and EC2 metadata; no SSO), for
//!   crm-local's AWS mode on a workstation.
//!
//! Both trust only the roots AWS endpoints chain to, or `AWS_CA_BUNDLE` ([`TrustRoots`]).
//! Build the configuration once at start (a Lambda's cold start, crm-local's main), never per
//! request.

#[cfg(feature = "credential-chain")]
mod chain;
mod trust;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::sdk_config::{RetryConfig, SharedCredentialsProvider, TimeoutConfig};

use crate::env::{ConfigError, present};

#[cfg(feature = "credential-chain")]
pub use chain::sdk_config_from_chain;
pub use trust::{CA_BUNDLE_VARIABLE, TrustRoots};

/// The region used when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` (nor, with the chain, a
/// profile) names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per request, the first included, under the standard retry mode.
const MAX_ATTEMPTS: u32 = 3;

/// How long establishing a connection may take (the SDK's own default, which `aws-config` would
/// otherwise apply).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// What the AWS clients need from the environment Lambda provides, read once at cold start.
#[derive(Debug, Clone)]
pub struct AwsEnvironment {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else [`DEFAULT_REGION`].
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (both required) and `AWS_SESSION_TOKEN`
    /// (optional): on Lambda, the function role's temporary credentials. Its `Debug` hides the
    /// secrets.
    credentials: Credentials,
    /// `AWS_CA_BUNDLE`, else the embedded AWS roots.
    pub trust: TrustRoots,
}

impl AwsEnvironment {
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<AwsEnvironment, ConfigError> {
        let required = |name: &'static str| present(lookup, name).ok_or(ConfigError::Missing(name));
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            present(lookup, "AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        Ok(AwsEnvironment {
            region: region_from(lookup),
            credentials,
            trust: TrustRoots::from_lookup(lookup)?,
        })
    }

    pub fn from_env() -> Result<AwsEnvironment, ConfigError> {
        AwsEnvironment::from_lookup(&|name: &str| std::env::var(name).ok())
    }

    /// The configuration to build clients from (`Client::new(&config)`). `endpoint_url` overrides
    /// where every client sends its requests (for example `http://127.0.0.1:5000` for a moto
    /// server); `None` uses the AWS endpoints of the region.
    pub fn sdk_config(&self, endpoint_url: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(SharedCredentialsProvider::new(self.credentials.clone()))
            .http_client(self.trust.http_client())
            .retry_config(retry_config())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            );
        builder.set_endpoint_url(endpoint_url.map(str::to_owned));
        builder.build()
    }
}

/// [`AwsEnvironment::sdk_config`] from the process environment, for tests and tools.
///
/// # Panics
///
/// When the environment lacks credentials or `AWS_CA_BUNDLE` is unusable, naming the variable.
/// Binaries call [`AwsEnvironment::from_env`] and report the error instead.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    match AwsEnvironment::from_env() {
        Ok(environment) => environment.sdk_config(endpoint_url),
        Err(error) => panic!("AWS configuration from the environment: {error}"),
    }
}

fn region_from(lookup: &impl Fn(&str) -> Option<String>) -> String {
    present(lookup, "AWS_REGION")
        .or_else(|| present(lookup, "AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| {
            tracing::info!(
                region = DEFAULT_REGION,
                "no AWS region configured; using the default"
            );
            DEFAULT_REGION.to_owned()
        })
}

fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_credential_types::provider::ProvideCredentials;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const KEYS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    #[tokio::test]
    async fn lambda_credentials_and_region_come_from_the_environment() {
        let environment = AwsEnvironment::from_lookup(&lookup(&[
            KEYS[0],
            KEYS[1],
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ]))
        .unwrap();

        let config = environment.sdk_config(None);

        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
        assert_eq!(config.endpoint_url(), None);
        assert!(!format!("{environment:?}").contains("secret\""));
    }

    #[test]
    fn the_default_region_variable_and_then_the_default_apply() {
        let from_default = AwsEnvironment::from_lookup(&lookup(&[
            KEYS[0],
            KEYS[1],
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ]))
        .unwrap();
        let unset = AwsEnvironment::from_lookup(&lookup(&KEYS)).unwrap();
        assert_eq!(from_default.region, "us-west-2");
        assert_eq!(unset.region, DEFAULT_REGION);
    }

    #[test]
    fn missing_keys_are_named_in_the_error() {
        let error = AwsEnvironment::from_lookup(&lookup(&[KEYS[0]])).unwrap_err();
        assert_eq!(error, ConfigError::Missing("AWS_SECRET_ACCESS_KEY"));
    }

    #[test]
    fn an_endpoint_override_reaches_the_configuration() {
        let environment = AwsEnvironment::from_lookup(&lookup(&KEYS)).unwrap();
        let config = environment.sdk_config(Some("http://127.0.0.1:5000"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert_eq!(
            config.retry_config().map(RetryConfig::max_attempts),
            Some(MAX_ATTEMPTS)
        );
    }
}
