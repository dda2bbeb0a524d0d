//! One AWS SDK configuration per process, shared by the DynamoDB and SQS clients: the standard
//! credential chain (environment, profile file, web identity, ECS and EC2 metadata; SSO profiles
//! are not compiled in), the region from the environment or profile with a default, the SDK's
//! standard retry mode (throttling and transient faults are retried with backoff), HTTPS over
//! rustls, and an optional endpoint override for a local emulator.
//!
//! Build it once at start (a Lambda's cold start, crm-local's main), never per request.
//! (This file is compiled into both the `dynamodb` and the `sqs` module, so that either feature
//! alone has it.)

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// The region used when neither `AWS_REGION` nor a profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per request, the first included, under the standard retry mode.
const MAX_ATTEMPTS: u32 = 3;

/// Loads the configuration the AWS clients are built from.
///
/// `endpoint_url` overrides where every client sends its requests (for example
/// `http://127.0.0.1:5000` for a moto server or DynamoDB Local); `None` uses the AWS endpoints of
/// the region. Credentials always come from the standard chain, also with an emulator: set dummy
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` for one.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let loader = || {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client.clone())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        match endpoint_url {
            Some(endpoint_url) => loader.endpoint_url(endpoint_url),
            None => loader,
        }
    };
    // The loader's own region chain (environment, profile, instance metadata) shares its HTTP
    // client; only when it finds nothing is the configuration loaded again with the default.
    let config = loader().load().await;
    if config.region().is_some() {
        return config;
    }
    tracing::info!(
        region = DEFAULT_REGION,
        "no AWS region configured; using the default"
    );
    loader().region(Region::new(DEFAULT_REGION)).load().await
}
