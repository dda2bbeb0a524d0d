//! Friction points and intent signals seen in one fold, one observation per key with its count.
//!
//! A fold sees few distinct keys (a handful of pages and elements per visitor), so a vector
//! searched from the end beats a map: no hashing, and an existing key costs no allocation.

use super::{FrictionKind, FrictionObservation, IntentKind, IntentObservation};
use crate::time::Millis;

/// Longest error message kept as a friction point's element.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 120;

#[derive(Debug, Default)]
pub(crate) struct Observations {
    pub(crate) friction: Vec<FrictionObservation>,
    pub(crate) intent: Vec<IntentObservation>,
}

impl Observations {
    pub(crate) fn friction(&mut self, kind: FrictionKind, page: &str, element: &str, at: Millis) {
        let existing = self
            .friction
            .iter_mut()
            .rev()
            .find(|seen| seen.kind == kind && seen.page == page && seen.element == element);
        match existing {
            Some(seen) => {
                seen.count += 1;
                seen.last_seen = seen.last_seen.max(at);
            }
            None => self.friction.push(FrictionObservation {
                page: page.to_owned(),
                element: element.to_owned(),
                kind,
                count: 1,
                last_seen: at,
            }),
        }
    }

    pub(crate) fn intent(&mut self, kind: IntentKind, page: &str, detail: &str, at: Millis) {
        let existing = self
            .intent
            .iter_mut()
            .rev()
            .find(|seen| seen.kind == kind && seen.page == page && seen.detail == detail);
        match existing {
            Some(seen) => {
                seen.count += 1;
                seen.last_seen = seen.last_seen.max(at);
            }
            None => self.intent.push(IntentObservation {
                page: page.to_owned(),
                kind,
                detail: detail.to_owned(),
                count: 1,
                last_seen: at,
            }),
        }
    }
}

/// An error message as a friction element: already masked at ingest, cut here so every
/// occurrence of a long message lands on the same key.
pub(crate) fn error_element(message: &str) -> &str {
    match message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((cut, _)) => &message[..cut],
        None => message,
    }
}
