//! The `SendMessageBatch` request in SQS's JSON protocol (what current SQS and its emulators
//! speak): `POST /` with `X-Amz-Target: AmazonSQS.SendMessageBatch`, content type
//! `application/x-amz-json-1.0` and `{"QueueUrl": …, "Entries": [{"Id": …, "MessageBody": …}]}`.

use std::borrow::Cow;
use std::fmt::Write;

use serde::Serialize;

use super::sign::{Scope, SignError, Unsigned, sign_headers};
use super::{AwsCredentials, SignedRequest, SqsTarget};

/// SQS takes at most 10 entries per `SendMessageBatch`.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// …and at most 256 KiB of message bodies per request (the classic limit, which every SQS
/// region and emulator accepts).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

const SERVICE: &str = "sqs";
const TARGET: &str = "AmazonSQS.SendMessageBatch";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// One message of a batch. `id` identifies it in the response: 1–80 of `[A-Za-z0-9_-]`, unique
/// within the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchEntry<'a> {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "MessageBody")]
    pub body: Cow<'a, str>,
}

/// SQS accepts only XML 1.0 characters in a body (tab, line feed, carriage return, U+0020–U+D7FF,
/// U+E000–U+FFFD and above U+FFFF). JSON from serde_json escapes control characters but writes
/// U+FFFE and U+FFFF raw inside strings, and SQS would refuse the whole message: they are written
/// as JSON escapes instead, which decode to the same string.
pub fn sqs_safe_json(json: &str) -> Cow<'_, str> {
    let accepted = |character: char| matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if json.chars().all(accepted) {
        return Cow::Borrowed(json);
    }
    let mut escaped = String::with_capacity(json.len() + 16);
    for character in json.chars() {
        if accepted(character) {
            escaped.push(character);
        } else {
            let _ = write!(escaped, "\\u{:04x}", u32::from(character));
        }
    }
    Cow::Owned(escaped)
}

#[derive(Serialize)]
struct SendMessageBatch<'a> {
    #[serde(rename = "QueueUrl")]
    queue_url: &'a str,
    #[serde(rename = "Entries")]
    entries: &'a [BatchEntry<'a>],
}

/// The signed `SendMessageBatch` request for `entries` (1 to [`MAX_BATCH_ENTRIES`]).
pub fn send_message_batch(
    target: &SqsTarget,
    credentials: &AwsCredentials,
    unix_millis: u64,
    entries: &[BatchEntry<'_>],
) -> Result<SignedRequest, SignError> {
    let body = serde_json::to_string(&SendMessageBatch {
        queue_url: &target.queue_url,
        entries,
    })
    .unwrap_or_default();
    let url = format!("{}/", target.endpoint);
    let headers = [("content-type", CONTENT_TYPE), ("x-amz-target", TARGET)];
    let signature = sign_headers(
        &Unsigned {
            method: "POST",
            url: &url,
            headers: &headers,
            body: body.as_bytes(),
        },
        credentials,
        &Scope {
            region: &target.region,
            service: SERVICE,
            unix_millis,
        },
    )?;
    let mut all_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    all_headers.extend(signature);
    Ok(SignedRequest {
        url,
        headers: all_headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::secret::Secret;

    /// 2026-01-31T12:00:00Z
    const NOW_MS: u64 = 1_769_860_800_000;

    fn target() -> SqsTarget {
        SqsTarget {
            endpoint: "http://127.0.0.1:5000".to_owned(),
            region: "us-east-1".to_owned(),
            queue_url: "http://127.0.0.1:5000/123456789012/crm-events".to_owned(),
        }
    }

    fn credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }
    }

    fn header<'a>(request: &'a SignedRequest, name: &str) -> &'a str {
        request
            .headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn characters_sqs_refuses_become_json_escapes_of_the_same_string() {
        let message =
            serde_json::json!({"title": "a\u{FFFE}b\u{FFFF}c", "emoji": "😀"}).to_string();
        let safe = sqs_safe_json(&message);
        assert!(!safe.contains('\u{FFFE}') && !safe.contains('\u{FFFF}'));
        assert!(safe.contains("\\ufffe") && safe.contains('😀'));
        let decoded: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(decoded["title"], "a\u{FFFE}b\u{FFFF}c");
        assert!(matches!(
            sqs_safe_json("{\"plain\": \"text\"}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_body_is_the_json_protocol_send_message_batch() {
        let entries = [
            BatchEntry {
                id: "0".to_owned(),
                body: r#"{"kind":"beacon"}"#.into(),
            },
            BatchEntry {
                id: "1".to_owned(),
                body: "second".into(),
            },
        ];
        let request =
            send_message_batch(&target(), &credentials(), NOW_MS, &entries).expect("signed");
        assert_eq!(request.url, "http://127.0.0.1:5000/");
        assert_eq!(
            header(&request, "x-amz-target"),
            "AmazonSQS.SendMessageBatch"
        );
        assert_eq!(
            header(&request, "content-type"),
            "application/x-amz-json-1.0"
        );
        let body: serde_json::Value = serde_json::from_str(&request.body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "QueueUrl": "http://127.0.0.1:5000/123456789012/crm-events",
                "Entries": [
                    {"Id": "0", "MessageBody": "{\"kind\":\"beacon\"}"},
                    {"Id": "1", "MessageBody": "second"},
                ],
            })
        );
    }

    /// Recomputes the signature by hand from the SigV4 specification: canonical request, string
    /// to sign, derived key. This pins exactly which headers are signed and how the host (with its
    /// port) and the body hash enter the signature.
    #[test]
    fn the_signature_matches_one_computed_from_the_canonical_request() {
        let entries = [BatchEntry {
            id: "0".to_owned(),
            body: "hello".into(),
        }];
        let request =
            send_message_batch(&target(), &credentials(), NOW_MS, &entries).expect("signed");
        let body_hash = hex::encode(Sha256::digest(request.body.as_bytes()));
        let canonical_request = format!(
            "POST\n/\n\n\
             content-type:application/x-amz-json-1.0\n\
             host:127.0.0.1:5000\n\
             x-amz-date:20260131T120000Z\n\
             x-amz-target:AmazonSQS.SendMessageBatch\n\n\
             content-type;host;x-amz-date;x-amz-target\n{body_hash}"
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n20260131T120000Z\n20260131/us-east-1/sqs/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let key = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20260131");
        let key = hmac(&key, "us-east-1");
        let key = hmac(&key, "sqs");
        let key = hmac(&key, "aws4_request");
        let signature = hex::encode(hmac(&key, &string_to_sign));
        assert_eq!(
            header(&request, "authorization"),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260131/us-east-1/sqs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={signature}"
            )
        );
        assert_eq!(header(&request, "x-amz-date"), "20260131T120000Z");
    }
}
