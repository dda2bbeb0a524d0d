//! The before/after of the fields a write changed, as the audit log records them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

/// Top-level fields whose value differs between `before` and `after` (either may be `null` for a
/// create or a delete; a missing field counts as `null`). Fields in `ignore` (bookkeeping such as
/// `updated_at`) are left out so an entry lists only what the caller changed.
pub fn changed_fields(
    before: &Value,
    after: &Value,
    ignore: &[&str],
) -> BTreeMap<String, FieldChange> {
    let empty = serde_json::Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changes = BTreeMap::new();
    for name in before.keys().chain(after.keys()) {
        if ignore.contains(&name.as_str()) || changes.contains_key(name) {
            continue;
        }
        let old = before.get(name).unwrap_or(&Value::Null);
        let new = after.get(name).unwrap_or(&Value::Null);
        if old != new {
            changes.insert(
                name.clone(),
                FieldChange {
                    before: old.clone(),
                    after: new.clone(),
                },
            );
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed_and_ignored_ones_never() {
        let changes = changed_fields(
            &json!({"name": "Ann", "email": "a@x.io", "updated_at": 1}),
            &json!({"name": "Anna", "email": "a@x.io", "updated_at": 2, "phone": "1"}),
            &["updated_at"],
        );
        assert_eq!(changes.len(), 2);
        assert_eq!(changes["name"].before, json!("Ann"));
        assert_eq!(changes["name"].after, json!("Anna"));
        assert_eq!(changes["phone"].before, Value::Null);
    }

    #[test]
    fn a_create_lists_every_field_against_null() {
        let changes = changed_fields(&Value::Null, &json!({"a": 1, "b": null}), &[]);
        assert_eq!(changes.keys().collect::<Vec<_>>(), vec!["a"]);
    }
}
