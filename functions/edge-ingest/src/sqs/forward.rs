//! The queue consumer's decisions: which messages go into which `SendMessageBatch` request, and
//! for each message whether to acknowledge it (SQS accepted it) or to retry it (anything else).
//!
//! A message is acknowledged only after SQS listed it as `Successful`; a failed request, a failed
//! entry or an entry missing from the answer is retried by the Cloudflare Queue, which moves it
//! to the dead-letter queue after its bounded number of tries. SQS may then hold a message twice
//! (an accepted entry whose acknowledgement was lost): the scorer is idempotent on message ids.

use std::ops::Range;

use super::SignedRequest;
use super::request::{
    BatchEntry, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, send_message_batch, sqs_safe_json,
};
use super::response::{RequestError, parse_send_message_batch};
use crate::config::SqsConfig;

/// Sends a signed request; the glue implements it with `fetch`, tests with a fake.
#[allow(
    async_fn_in_trait,
    reason = "the Workers runtime is single-threaded: no caller needs a Send future"
)]
pub trait SqsTransport {
    /// The HTTP status and body, or why no answer came.
    async fn send(&self, request: SignedRequest) -> Result<(u16, String), String>;
}

/// What to do with one queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// SQS accepted it: acknowledge.
    Ack,
    /// Not (known to be) in SQS: let the Queue deliver it again.
    Retry(String),
}

/// Splits messages into consecutive requests of at most [`MAX_BATCH_ENTRIES`] entries and
/// [`MAX_BATCH_BYTES`] of bodies. A body alone over the byte limit gets a request of its own
/// (SQS refuses it, so it is retried and finally dead-lettered: never silently dropped).
pub fn plan_requests(bodies: &[&str]) -> Vec<Range<usize>> {
    let mut requests = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (index, body) in bodies.iter().enumerate() {
        let full = index - start == MAX_BATCH_ENTRIES || bytes + body.len() > MAX_BATCH_BYTES;
        if index > start && full {
            requests.push(start..index);
            start = index;
            bytes = 0;
        }
        bytes += body.len();
    }
    if start < bodies.len() {
        requests.push(start..bodies.len());
    }
    requests
}

/// Forwards `bodies` to SQS (requests run concurrently) and returns one verdict per body, in
/// order.
pub async fn forward<T: SqsTransport>(
    transport: &T,
    config: &SqsConfig,
    unix_millis: u64,
    bodies: &[&str],
) -> Vec<Verdict> {
    let requests = plan_requests(bodies);
    let sends = requests
        .iter()
        .map(|range| send_one(transport, config, unix_millis, &bodies[range.clone()]));
    futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn send_one<T: SqsTransport>(
    transport: &T,
    config: &SqsConfig,
    unix_millis: u64,
    bodies: &[&str],
) -> Vec<Verdict> {
    let entries: Vec<BatchEntry<'_>> = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| BatchEntry {
            id: index.to_string(),
            body: sqs_safe_json(body),
        })
        .collect();
    let request =
        match send_message_batch(&config.target, &config.credentials, unix_millis, &entries) {
            Ok(request) => request,
            Err(error) => return vec![Verdict::Retry(error.to_string()); bodies.len()],
        };
    let answer = transport
        .send(request)
        .await
        .map_err(RequestError::Transport)
        .and_then(|(status, body)| parse_send_message_batch(status, &body));
    match answer {
        Err(error) => vec![Verdict::Retry(error.to_string()); bodies.len()],
        Ok(outcome) => entries
            .iter()
            .map(|entry| {
                if outcome.accepted(&entry.id) {
                    Verdict::Ack
                } else if let Some(failure) = outcome.failure(&entry.id) {
                    Verdict::Retry(format!("{}: {}", failure.code, failure.message))
                } else {
                    Verdict::Retry("SQS did not report this entry".to_owned())
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::secret::Secret;
    use crate::sqs::{AwsCredentials, SqsTarget};

    fn config() -> SqsConfig {
        SqsConfig {
            target: SqsTarget {
                endpoint: "http://127.0.0.1:5000".to_owned(),
                region: "us-east-1".to_owned(),
                queue_url: "http://127.0.0.1:5000/123456789012/crm-events".to_owned(),
            },
            credentials: AwsCredentials {
                access_key_id: "testing".to_owned(),
                secret_access_key: Secret::new("testing"),
                session_token: None,
            },
        }
    }

    /// Answers each request with a scripted reply and records the entries it saw.
    struct ScriptedSqs {
        replies: RefCell<Vec<Result<(u16, String), String>>>,
        seen: RefCell<Vec<serde_json::Value>>,
    }

    impl ScriptedSqs {
        fn new(replies: Vec<Result<(u16, String), String>>) -> ScriptedSqs {
            ScriptedSqs {
                replies: RefCell::new(replies),
                seen: RefCell::new(Vec::new()),
            }
        }
    }

    impl SqsTransport for ScriptedSqs {
        async fn send(&self, request: SignedRequest) -> Result<(u16, String), String> {
            let body: serde_json::Value = serde_json::from_str(&request.body).expect("json");
            self.seen.borrow_mut().push(body);
            let mut replies = self.replies.borrow_mut();
            if replies.is_empty() {
                Err("no scripted reply".to_owned())
            } else {
                replies.remove(0)
            }
        }
    }

    fn ok(body: &str) -> Result<(u16, String), String> {
        Ok((200, body.to_owned()))
    }

    #[test]
    fn requests_hold_at_most_ten_entries_and_256_kib() {
        let small = vec!["x"; 25];
        assert_eq!(plan_requests(&small), vec![0..10, 10..20, 20..25]);
        let big = "y".repeat(100 * 1024);
        let bodies = vec![big.as_str(); 5];
        assert_eq!(plan_requests(&bodies), vec![0..2, 2..4, 4..5]);
        let huge = "z".repeat(300 * 1024);
        assert_eq!(plan_requests(&["a", &huge, "b"]), vec![0..1, 1..2, 2..3]);
        assert!(plan_requests(&[]).is_empty());
    }

    #[tokio::test]
    async fn only_entries_sqs_accepted_are_acknowledged() {
        let sqs = ScriptedSqs::new(vec![ok(r#"{
            "Successful": [{"Id": "0", "MessageId": "a"}, {"Id": "2", "MessageId": "c"}],
            "Failed": [{"Id": "1", "Code": "InternalError", "Message": "oops", "SenderFault": false}]
        }"#)]);
        let verdicts = forward(&sqs, &config(), 0, &["first", "second", "third", "fourth"]).await;
        assert_eq!(verdicts[0], Verdict::Ack);
        assert_eq!(
            verdicts[1],
            Verdict::Retry("InternalError: oops".to_owned())
        );
        assert_eq!(verdicts[2], Verdict::Ack);
        assert_eq!(
            verdicts[3],
            Verdict::Retry("SQS did not report this entry".to_owned())
        );
        let seen = sqs.seen.borrow();
        assert_eq!(
            seen[0]["Entries"][1],
            serde_json::json!({"Id": "1", "MessageBody": "second"})
        );
    }

    #[tokio::test]
    async fn a_failed_request_retries_all_of_its_messages_and_only_those() {
        let all_accepted = r#"{"Successful": [
            {"Id": "0"}, {"Id": "1"}, {"Id": "2"}, {"Id": "3"}, {"Id": "4"},
            {"Id": "5"}, {"Id": "6"}, {"Id": "7"}, {"Id": "8"}, {"Id": "9"}]}"#;
        let sqs = ScriptedSqs::new(vec![
            ok(all_accepted),
            Ok((
                500,
                r#"{"__type": "InternalFailure", "message": "down"}"#.to_owned(),
            )),
        ]);
        let bodies = vec!["m"; 12];
        let verdicts = forward(&sqs, &config(), 0, &bodies).await;
        assert!(
            verdicts[..10]
                .iter()
                .all(|verdict| *verdict == Verdict::Ack)
        );
        assert!(
            verdicts[10..]
                .iter()
                .all(|verdict| matches!(verdict, Verdict::Retry(reason) if reason.contains("InternalFailure")))
        );
    }

    #[tokio::test]
    async fn an_unreachable_sqs_retries_everything() {
        let sqs = ScriptedSqs::new(vec![Err("connection refused".to_owned())]);
        let verdicts = forward(&sqs, &config(), 0, &["a", "b"]).await;
        assert_eq!(
            verdicts,
            vec![Verdict::Retry("SQS could not be reached: connection refused".to_owned()); 2]
        );
    }
}
