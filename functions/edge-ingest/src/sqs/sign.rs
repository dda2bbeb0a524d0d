//! SigV4 signing with `aws-sigv4`, with the time passed in (the Worker's `Date.now()`; on wasm32
//! `SystemTime::now()` panics).

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::AwsCredentials;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing the request failed: {0}")]
pub struct SignError(String);

/// What to sign: method, URL, the headers to sign and the body.
pub struct Unsigned<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The signing scope.
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub unix_millis: u64,
}

/// Signs `request` (SigV4 in headers) and returns the headers to add: `x-amz-date`,
/// `authorization` and, with temporary credentials, `x-amz-security-token`. The `host` header is
/// signed from the URL, so the sender must not override it.
pub fn sign_headers(
    request: &Unsigned<'_>,
    credentials: &AwsCredentials,
    scope: &Scope<'_>,
) -> Result<Vec<(String, String)>, SignError> {
    let identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose_str().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|token| token.expose_str().to_owned()),
        None,
        "edge-ingest",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(UNIX_EPOCH + Duration::from_millis(scope.unix_millis))
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| SignError(error.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|error| SignError(error.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|error| SignError(error.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    /// 2015-08-30T12:36:00Z, the time of the AWS SigV4 test suite.
    const SUITE_TIME_MS: u64 = 1_440_938_160_000;

    fn suite_credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The `post-vanilla` case of the AWS SigV4 test suite (shipped with aws-sigv4 in
    /// `aws-signing-test-suite/v4/post-vanilla`).
    #[test]
    fn the_aws_test_suite_post_vanilla_signature_is_reproduced() {
        let request = Unsigned {
            method: "POST",
            url: "https://example.amazonaws.com/",
            headers: &[],
            body: b"",
        };
        let scope = Scope {
            region: "us-east-1",
            service: "service",
            unix_millis: SUITE_TIME_MS,
        };
        let headers = sign_headers(&request, &suite_credentials(), &scope).expect("signed");
        assert_eq!(header(&headers, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(
            header(&headers, "authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            )
        );
    }

    #[test]
    fn temporary_credentials_add_the_security_token_header() {
        let mut credentials = suite_credentials();
        credentials.session_token = Some(Secret::new("session-token"));
        let request = Unsigned {
            method: "POST",
            url: "https://sqs.us-east-1.amazonaws.com/",
            headers: &[("content-type", "application/x-amz-json-1.0")],
            body: b"{}",
        };
        let scope = Scope {
            region: "us-east-1",
            service: "sqs",
            unix_millis: SUITE_TIME_MS,
        };
        let headers = sign_headers(&request, &credentials, &scope).expect("signed");
        assert_eq!(
            header(&headers, "x-amz-security-token"),
            Some("session-token")
        );
        let authorization = header(&headers, "authorization").expect("authorization");
        assert!(
            authorization
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")
        );
    }
}
