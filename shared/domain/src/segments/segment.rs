//! Segments: named groups of contacts, either static (members added by hand) or dynamic (the
//! contacts that match rules, recomputed on refresh).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::parse::parse_rules;
use super::rules::Rule;
use crate::deals::violations::{Violations, reference_id, required_text};
use crate::time::Millis;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Contacts added to a static segment in one request: each is five items of one transaction
/// (membership, its contact link, a check that the contact exists, an audit entry and its link).
pub const MAX_MEMBERS_PER_REQUEST: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Static,
    Dynamic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: SegmentKind,
    /// Present exactly when the segment is dynamic.
    pub rules: Option<Rule>,
    /// When a dynamic segment's members were last recomputed.
    pub refreshed_at: Option<Millis>,
}

/// A segment as a client sends it to create one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    #[serde(default)]
    pub name: String,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub rules: Option<Value>,
}

/// A partial update; the kind of a segment never changes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    pub rules: Option<Value>,
}

fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl SegmentInput {
    pub fn validate(self, id: String) -> Result<Segment, Violations> {
        let mut violations = Violations::default();
        let name = required_text(&mut violations, "name", &self.name, MAX_NAME_CHARS);
        let description = description(&mut violations, self.description);
        let kind = match self.kind.as_deref() {
            Some("static") => Some(SegmentKind::Static),
            Some("dynamic") => Some(SegmentKind::Dynamic),
            Some(_) => {
                violations.push("kind", "must be \"static\" or \"dynamic\"");
                None
            }
            None => {
                violations.push("kind", "is required (\"static\" or \"dynamic\")");
                None
            }
        };
        let rules = match (kind, self.rules) {
            (Some(SegmentKind::Dynamic), Some(raw)) => rules(&mut violations, &raw),
            (Some(SegmentKind::Dynamic), None) => {
                violations.push("rules", "are required for a dynamic segment");
                None
            }
            (Some(SegmentKind::Static), Some(_)) => {
                violations.push("rules", "a static segment has members, not rules");
                None
            }
            (_, _) => None,
        };
        let Some(kind) = kind else {
            return Err(violations);
        };
        violations.into_result(Segment {
            id,
            name,
            description,
            kind,
            rules,
            refreshed_at: None,
        })
    }
}

impl Segment {
    /// Applies a partial update; new rules make the stored membership stale until a refresh.
    pub fn apply(&mut self, patch: SegmentPatch) -> Result<(), Violations> {
        let mut violations = Violations::default();
        let mut updated = self.clone();
        if let Some(name) = patch.name {
            updated.name = required_text(&mut violations, "name", &name, MAX_NAME_CHARS);
        }
        if let Some(text) = patch.description {
            updated.description = description(&mut violations, text);
        }
        if let Some(raw) = patch.rules {
            match self.kind {
                SegmentKind::Dynamic => updated.rules = rules(&mut violations, &raw),
                SegmentKind::Static => {
                    violations.push("rules", "a static segment has members, not rules");
                }
            }
        }
        violations.into_result(())?;
        *self = updated;
        Ok(())
    }
}

/// Checks contact ids given to add to (or remove from) a static segment, by path `contact_ids[i]`.
pub fn validate_member_ids(ids: &[String]) -> Result<(), Violations> {
    let mut violations = Violations::default();
    if ids.is_empty() || ids.len() > MAX_MEMBERS_PER_REQUEST {
        violations.push(
            "contact_ids",
            format!("must hold 1 to {MAX_MEMBERS_PER_REQUEST} contact ids"),
        );
    }
    for (index, id) in ids.iter().enumerate() {
        let path = format!("contact_ids[{index}]");
        reference_id(&mut violations, &path, id);
        // One request writes each membership once: a repeated id would write one key twice.
        if ids[..index].contains(id) {
            violations.push(&path, "is listed more than once");
        }
    }
    violations.into_result(())
}

fn description(violations: &mut Violations, raw: Option<String>) -> Option<String> {
    let text = raw
        .map(|text| text.trim().to_owned())
        .filter(|t| !t.is_empty())?;
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        violations.push(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    Some(text)
}

fn rules(violations: &mut Violations, raw: &Value) -> Option<Rule> {
    match parse_rules(raw) {
        Ok(rule) => Some(rule),
        Err(found) => {
            violations.0.extend(found.0);
            None
        }
    }
}
