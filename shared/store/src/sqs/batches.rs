//! What SQS accepts in one SendMessageBatch, checked before sending (moto accepts oversized
//! bodies and any characters, SQS does not): entry ids of 1 to 80 letters, digits, `-` and `_`,
//! distinct within the send; non-empty bodies of at most 256 KiB in the characters SQS allows;
//! at most 10 entries and 256 KiB of bodies per call.

use std::collections::HashSet;

use crate::queue::{MAX_MESSAGE_BYTES, OutgoingMessage, QueueError};

/// Entries per SendMessageBatch and DeleteMessageBatch call.
pub(crate) const MAX_ENTRIES: usize = 10;
/// Body bytes per SendMessageBatch call.
pub(crate) const MAX_BATCH_BYTES: usize = 256 * 1024;
const MAX_ENTRY_ID_CHARS: usize = 80;

/// Letters, digits, `-` and `_`, 1 to `max` of them (SQS entry ids and queue names).
pub(crate) fn is_sqs_word(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Refuses the whole send when an entry id is malformed or repeated, as SQS does.
pub(crate) fn check_entry_ids(messages: &[OutgoingMessage]) -> Result<(), QueueError> {
    let mut seen = HashSet::new();
    for message in messages {
        if !is_sqs_word(&message.entry_id, MAX_ENTRY_ID_CHARS) {
            return Err(QueueError::Invalid(format!(
                "entry id {:?} must be 1 to {MAX_ENTRY_ID_CHARS} letters, digits, '-' or '_'",
                message.entry_id
            )));
        }
        if !seen.insert(message.entry_id.as_str()) {
            return Err(QueueError::Invalid(format!(
                "entry id {} appears more than once",
                message.entry_id
            )));
        }
    }
    Ok(())
}

/// Characters SQS accepts in a body: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
fn is_sqs_body_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Why SQS would refuse this body, if it would.
pub(crate) fn body_problem(body: &str) -> Option<String> {
    if body.is_empty() {
        Some("the message body is empty".to_owned())
    } else if body.len() > MAX_MESSAGE_BYTES {
        Some(format!(
            "the message body is {} bytes, more than {MAX_MESSAGE_BYTES}",
            body.len()
        ))
    } else if !body.chars().all(is_sqs_body_char) {
        Some("the message body contains characters SQS does not accept".to_owned())
    } else {
        None
    }
}

/// Splits messages (each at most [`MAX_MESSAGE_BYTES`]) into calls of at most [`MAX_ENTRIES`]
/// entries and [`MAX_BATCH_BYTES`] of bodies, keeping their order.
pub(crate) fn split(messages: Vec<OutgoingMessage>) -> Vec<Vec<OutgoingMessage>> {
    let mut calls: Vec<Vec<OutgoingMessage>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let size = message.body.len();
        match calls.last_mut() {
            Some(call) if call.len() < MAX_ENTRIES && bytes + size <= MAX_BATCH_BYTES => {
                bytes += size;
                call.push(message);
            }
            _ => {
                bytes = size;
                calls.push(vec![message]);
            }
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(entry_id: &str, bytes: usize) -> OutgoingMessage {
        OutgoingMessage {
            entry_id: entry_id.to_owned(),
            body: "b".repeat(bytes),
        }
    }

    fn shape(calls: &[Vec<OutgoingMessage>]) -> Vec<Vec<&str>> {
        calls
            .iter()
            .map(|call| {
                call.iter()
                    .map(|message| message.entry_id.as_str())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn calls_hold_at_most_ten_entries() {
        let messages: Vec<_> = (0..23).map(|n| message(&format!("m{n}"), 10)).collect();
        let calls = split(messages);
        assert_eq!(
            calls.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 3]
        );
    }

    #[test]
    fn calls_hold_at_most_256_kib_of_bodies() {
        let calls = split(vec![
            message("a", 200 * 1024),
            message("b", 56 * 1024),
            message("c", 1),
            message("d", MAX_MESSAGE_BYTES),
            message("e", 1),
        ]);
        assert_eq!(
            shape(&calls),
            vec![vec!["a", "b"], vec!["c"], vec!["d"], vec!["e"]]
        );
        assert!(split(Vec::new()).is_empty());
    }

    #[test]
    fn bodies_are_checked_as_sqs_checks_them() {
        assert_eq!(body_problem("{\"ok\":\"ünï 😀\"}\n\t"), None);
        assert_eq!(body_problem(&"x".repeat(MAX_MESSAGE_BYTES)), None);
        assert!(body_problem("").is_some());
        assert!(body_problem(&"x".repeat(MAX_MESSAGE_BYTES + 1)).is_some());
        assert!(body_problem("nul \u{0} inside").is_some());
        assert!(body_problem("\u{FFFE}").is_some());
    }

    #[test]
    fn malformed_or_repeated_entry_ids_refuse_the_send() {
        assert!(check_entry_ids(&[message("a-1_B", 1), message("b", 1)]).is_ok());
        for bad in ["", "has space", "dot.ted", &"x".repeat(81)] {
            assert!(check_entry_ids(&[message(bad, 1)]).is_err(), "{bad:?}");
        }
        assert!(check_entry_ids(&[message("same", 1), message("same", 1)]).is_err());
    }
}
