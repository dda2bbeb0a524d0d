//! The SDK's standard credential and region chain through `aws-config` (feature
//! `credential-chain`): environment, profile files (`AWS_PROFILE`), web identity, ECS and EC2
//! metadata; SSO profiles are not compiled in. For crm-local's AWS mode on a workstation; the
//! Lambdas use [`super::AwsEnvironment`] and never compile it.

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::{DEFAULT_REGION, TrustRoots, retry_config};
use crate::env::ConfigError;

/// Loads the configuration the AWS clients are built from through the standard chain, with the
/// same HTTP client, roots of trust (`AWS_CA_BUNDLE` or the embedded AWS roots) and retry mode
/// as [`super::AwsEnvironment::sdk_config`]; the chain's own calls (STS, instance metadata) share
/// the client. `endpoint_url` as there. Fails only on an unusable `AWS_CA_BUNDLE`.
pub async fn sdk_config_from_chain(endpoint_url: Option<&str>) -> Result<SdkConfig, ConfigError> {
    let trust = TrustRoots::from_lookup(&|name: &str| std::env::var(name).ok())?;
    let http_client = trust.http_client();
    let loader = || {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client.clone())
            .retry_config(retry_config());
        match endpoint_url {
            Some(endpoint_url) => loader.endpoint_url(endpoint_url),
            None => loader,
        }
    };
    // Only when the chain's region providers (environment, profile, instance metadata) find
    // nothing is the configuration loaded again with the default region.
    let config = loader().load().await;
    if config.region().is_some() {
        return Ok(config);
    }
    tracing::info!(
        region = DEFAULT_REGION,
        "no AWS region configured; using the default"
    );
    Ok(loader().region(Region::new(DEFAULT_REGION)).load().await)
}
