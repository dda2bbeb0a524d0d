//! Validation failures that name the offending field by path (`stages[2].probability`), so the
//! API can answer 422 with one message per field instead of stopping at the first problem.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::records::{MAX_ID_BYTES, is_record_id};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            path: path.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Path → messages, the shape of the error envelope's `details`.
    pub fn by_path(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for violation in &self.0 {
            map.entry(violation.path.clone())
                .or_default()
                .push(violation.message.clone());
        }
        map
    }

    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Violations {
        let mut violations = Violations::default();
        violations.push(path, message);
        violations
    }
}

fn summary(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks a required human-readable text (a name, a title): trimmed, not empty, at most `max`
/// characters. Returns the trimmed text.
pub(crate) fn required_text(
    violations: &mut Violations,
    path: &str,
    raw: &str,
    max: usize,
) -> String {
    let text = raw.trim();
    if text.is_empty() {
        violations.push(path, "is required");
    } else if text.chars().count() > max {
        violations.push(path, format!("must be at most {max} characters"));
    }
    text.to_owned()
}

/// Checks an optional reference id (a contact, an owner): the shape of a record id, so it can
/// sit in a store key.
pub(crate) fn reference_id(violations: &mut Violations, path: &str, raw: &str) {
    if !is_record_id(raw) {
        violations.push(
            path,
            format!("must be an id of 1 to {MAX_ID_BYTES} printable characters"),
        );
    }
}
