//! SQS over plain HTTP: `SendMessageBatch` in SQS's JSON protocol, signed with SigV4.
//!
//! No AWS SDK (it does not run in a Worker): [`request`] builds the signed request as data,
//! [`sign`] wraps `aws-sigv4`, [`response`] reads which entries SQS accepted, and [`forward`]
//! turns a batch of queue messages into requests and a verdict per message (acknowledge once SQS
//! accepted it, retry otherwise) over the [`forward::SqsTransport`] port the glue implements with
//! `fetch`.

pub mod forward;
pub mod request;
pub mod response;
pub mod sign;

use crate::secret::Secret;

/// Where the events queue is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsTarget {
    /// `scheme://host[:port]` requests are sent to (no trailing slash).
    pub endpoint: String,
    pub region: String,
    pub queue_url: String,
}

#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// An HTTP request ready to send: `POST url` with these headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}
