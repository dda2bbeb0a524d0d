//! Reading `SendMessageBatch`'s answer: which entries SQS accepted (`Successful`) and which it
//! did not (`Failed`, with SQS's code). An entry in neither list counts as not accepted.

use serde::Deserialize;

/// The part of a JSON-protocol `SendMessageBatch` response the forwarder needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct BatchOutcome {
    #[serde(rename = "Successful", default)]
    pub successful: Vec<SuccessfulEntry>,
    #[serde(rename = "Failed", default)]
    pub failed: Vec<FailedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SuccessfulEntry {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "MessageId", default)]
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FailedEntry {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Code", default)]
    pub code: String,
    #[serde(rename = "Message", default)]
    pub message: String,
    /// `true` when the entry itself is at fault (retrying the same body fails again).
    #[serde(rename = "SenderFault", default)]
    pub sender_fault: bool,
}

impl BatchOutcome {
    pub fn accepted(&self, id: &str) -> bool {
        self.successful.iter().any(|entry| entry.id == id)
    }

    pub fn failure(&self, id: &str) -> Option<&FailedEntry> {
        self.failed.iter().find(|entry| entry.id == id)
    }
}

/// The whole request failed: nothing of it was enqueued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("SQS answered {status}: {code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("SQS answered {status} with a body that is not a SendMessageBatch result: {excerpt}")]
    Unreadable { status: u16, excerpt: String },
    #[error("SQS could not be reached: {0}")]
    Transport(String),
}

/// SQS's JSON error (`{"__type": "com.amazonaws.sqs#Code", "message": "…"}`); some servers (moto)
/// send the message under both `message` and `Message`.
#[derive(Deserialize)]
struct JsonError {
    #[serde(rename = "__type", default)]
    kind: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "Message", default)]
    capitalized_message: Option<String>,
}

const EXCERPT_CHARS: usize = 200;

/// Reads the HTTP status and body of a `SendMessageBatch` call.
pub fn parse_send_message_batch(status: u16, body: &str) -> Result<BatchOutcome, RequestError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|_| RequestError::Unreadable {
            status,
            excerpt: excerpt(body),
        });
    }
    match serde_json::from_str::<JsonError>(body) {
        Ok(error) => Err(RequestError::Rejected {
            status,
            // `com.amazonaws.sqs#QueueDoesNotExist` → `QueueDoesNotExist`
            code: error.kind.rsplit('#').next().unwrap_or_default().to_owned(),
            message: error
                .message
                .or(error.capitalized_message)
                .unwrap_or_default(),
        }),
        Err(_) => Err(RequestError::Unreadable {
            status,
            excerpt: excerpt(body),
        }),
    }
}

fn excerpt(body: &str) -> String {
    body.chars().take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successful_and_failed_entries_are_read_by_id() {
        let body = r#"{
            "Successful": [{"Id": "0", "MessageId": "m-0", "MD5OfMessageBody": "x"}],
            "Failed": [{"Id": "1", "Code": "InternalError", "Message": "try again",
                        "SenderFault": false}]
        }"#;
        let outcome = parse_send_message_batch(200, body).expect("a result");
        assert!(outcome.accepted("0"));
        assert!(!outcome.accepted("1"));
        assert_eq!(
            outcome.failure("1").map(|entry| entry.code.as_str()),
            Some("InternalError")
        );
        assert!(outcome.failure("2").is_none());
        assert_eq!(outcome.successful[0].message_id, "m-0");
    }

    #[test]
    fn a_response_without_lists_accepts_nothing() {
        let outcome = parse_send_message_batch(200, "{}").expect("a result");
        assert!(!outcome.accepted("0"));
    }

    #[test]
    fn a_json_error_names_the_sqs_code() {
        let body = r#"{"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                       "message": "The specified queue does not exist."}"#;
        assert_eq!(
            parse_send_message_batch(400, body),
            Err(RequestError::Rejected {
                status: 400,
                code: "QueueDoesNotExist".to_owned(),
                message: "The specified queue does not exist.".to_owned(),
            })
        );
    }

    #[test]
    fn an_error_with_the_message_twice_is_read_as_moto_sends_it() {
        let body = r#"{"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                       "message": "The specified queue does not exist.",
                       "Message": "The specified queue does not exist."}"#;
        match parse_send_message_batch(400, body) {
            Err(RequestError::Rejected { code, message, .. }) => {
                assert_eq!(code, "QueueDoesNotExist");
                assert_eq!(message, "The specified queue does not exist.");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let capitalized = r#"{"__type": "InternalFailure", "Message": "down"}"#;
        assert!(matches!(
            parse_send_message_batch(500, capitalized),
            Err(RequestError::Rejected { message, .. }) if message == "down"
        ));
    }

    #[test]
    fn an_unexpected_body_is_reported_with_an_excerpt() {
        let html = format!("<html>{}</html>", "x".repeat(1000));
        match parse_send_message_batch(502, &html) {
            Err(RequestError::Unreadable {
                status: 502,
                excerpt,
            }) => {
                assert_eq!(excerpt.chars().count(), EXCERPT_CHARS);
            }
            other => panic!("expected Unreadable, got {other:?}"),
        }
        assert!(matches!(
            parse_send_message_batch(200, "not json"),
            Err(RequestError::Unreadable { status: 200, .. })
        ));
    }
}
