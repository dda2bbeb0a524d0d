//! Applying a [`ContactPatch`] to a contact, collecting every problem per field.

use std::collections::BTreeMap;

use super::contact::{Contact, ContactPatch, CustomValue, VisitorLink};
use super::email::Email;
use crate::site::SiteId;
use crate::time::Millis;

/// Problems per field name (`"tags[2]"`, `"custom_fields.plan"`…).
pub type Problems = BTreeMap<String, Vec<String>>;

pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_CUSTOM_TEXT_CHARS: usize = 1000;
pub const MAX_LINKED_VISITORS: usize = 20;

/// A new contact from a create request's fields, owned by `owner_id` unless they name another
/// owner. `email` is required; every problem of every field is reported at once, the email's
/// with the rest.
pub fn new_contact(
    id: String,
    mut fields: ContactPatch,
    owner_id: Option<String>,
    now: Millis,
) -> Result<Contact, Problems> {
    let mut problems = Problems::new();
    let email = match fields.email.take() {
        None => {
            add(&mut problems, "email", "is required");
            None
        }
        Some(raw) => Email::parse(&raw)
            .map_err(|error| add(&mut problems, "email", error.to_string()))
            .ok(),
    };
    // Without a valid address the other fields are checked on a contact with a stand-in one,
    // which is never returned.
    let mut contact = Contact::new(id, email.unwrap_or_else(Email::stand_in), owner_id, now);
    if let Err(more) = apply_patch(&mut contact, fields) {
        for (field, found) in more {
            problems.entry(field).or_default().extend(found);
        }
    }
    if problems.is_empty() {
        Ok(contact)
    } else {
        Err(problems)
    }
}

/// Applies `patch` to `contact` (which the caller stamps with `updated_at`). On any problem
/// the contact is left as it was and every problem is returned.
pub fn apply_patch(contact: &mut Contact, patch: ContactPatch) -> Result<(), Problems> {
    let mut problems = Problems::new();
    let mut next = contact.clone();
    if let Some(raw) = patch.email {
        match Email::parse(&raw) {
            Ok(email) => next.email = email,
            Err(error) => add(&mut problems, "email", error.to_string()),
        }
    }
    let texts = [
        ("first_name", patch.first_name, &mut next.first_name),
        ("last_name", patch.last_name, &mut next.last_name),
        ("company", patch.company, &mut next.company),
        ("job_title", patch.job_title, &mut next.job_title),
        ("source", patch.source, &mut next.source),
        ("owner_id", patch.owner_id, &mut next.owner_id),
    ];
    for (field, value, slot) in texts {
        if let Some(value) = value {
            *slot = text(&mut problems, field, value, MAX_TEXT_CHARS);
        }
    }
    if let Some(phone) = patch.phone {
        next.phone = text(&mut problems, "phone", phone, 32);
        if let Some(phone) = &next.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !allowed || digits < 3 {
                add(
                    &mut problems,
                    "phone",
                    "must be digits with + - ( ) . or spaces",
                );
            }
        }
    }
    if let Some(website) = patch.website {
        next.website = text(&mut problems, "website", website, 2048);
        if next
            .website
            .as_ref()
            .is_some_and(|site| site.contains(char::is_whitespace) || !site.contains('.'))
        {
            add(&mut problems, "website", "must be a web address");
        }
    }
    if let Some(tags) = patch.tags {
        next.tags = checked_tags(&mut problems, tags);
    }
    if let Some(fields) = patch.custom_fields {
        check_custom_fields(&mut problems, &fields);
        next.custom_fields = fields;
    }
    if let Some(stage) = patch.lifecycle_stage {
        next.lifecycle_stage = stage;
    }
    if let Some(score) = patch.lead_score {
        check_score(&mut problems, "lead_score", score);
        next.lead_score = score;
    }
    if let Some(score) = patch.health_score {
        if let Some(score) = score {
            check_score(&mut problems, "health_score", score);
        }
        next.health_score = score;
    }
    if let Some(links) = patch.linked_visitors {
        next.linked_visitors = checked_links(&mut problems, links);
    }
    if let Some(consent) = patch.marketing_consent {
        next.marketing_consent = consent;
    }
    if problems.is_empty() {
        *contact = next;
        Ok(())
    } else {
        Err(problems)
    }
}

fn add(problems: &mut Problems, field: &str, problem: impl Into<String>) {
    problems
        .entry(field.to_owned())
        .or_default()
        .push(problem.into());
}

/// Trimmed; empty is no value.
fn text(problems: &mut Problems, field: &str, value: Option<String>, max: usize) -> Option<String> {
    let value = value?.trim().to_owned();
    if value.chars().count() > max {
        add(problems, field, format!("must be at most {max} characters"));
    }
    (!value.is_empty()).then_some(value)
}

fn check_score(problems: &mut Problems, field: &str, score: u8) {
    if score > 100 {
        add(problems, field, "must be between 0 and 100");
    }
}

fn checked_tags(problems: &mut Problems, tags: Vec<String>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        add(problems, "tags", format!("at most {MAX_TAGS} tags"));
    }
    let mut kept: Vec<String> = Vec::new();
    for (index, tag) in tags.into_iter().enumerate() {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            add(
                problems,
                &format!("tags[{index}]"),
                format!("must be 1 to {MAX_TAG_CHARS} characters"),
            );
        } else if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    kept
}

fn check_custom_fields(
    problems: &mut Problems,
    fields: &std::collections::BTreeMap<String, CustomValue>,
) {
    if fields.len() > MAX_CUSTOM_FIELDS {
        add(
            problems,
            "custom_fields",
            format!("at most {MAX_CUSTOM_FIELDS} fields"),
        );
    }
    for (key, value) in fields {
        let valid_key = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_key {
            add(
                problems,
                &format!("custom_fields.{key}"),
                "keys are 1 to 64 characters of a-z, 0-9 and _",
            );
        }
        if let CustomValue::Text(text) = value
            && text.chars().count() > MAX_CUSTOM_TEXT_CHARS
        {
            add(
                problems,
                &format!("custom_fields.{key}"),
                format!("text values are at most {MAX_CUSTOM_TEXT_CHARS} characters"),
            );
        }
    }
}

fn checked_links(problems: &mut Problems, links: Vec<VisitorLink>) -> Vec<VisitorLink> {
    if links.len() > MAX_LINKED_VISITORS {
        add(
            problems,
            "linked_visitors",
            format!("at most {MAX_LINKED_VISITORS}"),
        );
    }
    let mut kept: Vec<VisitorLink> = Vec::new();
    for (index, link) in links.into_iter().enumerate() {
        let visitor_ok = !link.visitor.is_empty()
            && link.visitor.len() <= 128
            && link
                .visitor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if SiteId::parse(&link.site).is_err() || !visitor_ok {
            add(
                problems,
                &format!("linked_visitors[{index}]"),
                "needs a site id and a visitor id of letters, digits, - and _",
            );
        } else if !kept.contains(&link) {
            kept.push(link);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::lifecycle::LifecycleStage;
    use crate::time::Millis;
    use serde_json::json;

    fn contact() -> Contact {
        Contact::new(
            "c1".to_owned(),
            Email::parse("ann@x.io").unwrap(),
            None,
            Millis(1),
        )
    }

    fn patch(value: serde_json::Value) -> ContactPatch {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_new_contact_reports_its_email_problem_with_every_other_one() {
        let problems = new_contact(
            "c1".to_owned(),
            patch(json!({"email": "not-an-address", "lead_score": 150, "website": "x"})),
            None,
            Millis(1),
        )
        .unwrap_err();
        let fields: Vec<&str> = problems.keys().map(String::as_str).collect();
        assert_eq!(fields, vec!["email", "lead_score", "website"]);
        let missing = new_contact(
            "c1".to_owned(),
            patch(json!({"lead_score": 150})),
            None,
            Millis(1),
        )
        .unwrap_err();
        assert_eq!(missing["email"], vec!["is required".to_owned()]);
        assert!(missing.contains_key("lead_score"));
    }

    #[test]
    fn a_new_contact_takes_its_fields_and_its_owner() {
        let contact = new_contact(
            "c1".to_owned(),
            patch(json!({"email": "Ann@X.io", "first_name": "Ann"})),
            Some("user-1".to_owned()),
            Millis(7),
        )
        .unwrap();
        assert_eq!(contact.email.as_str(), "Ann@X.io");
        assert_eq!(contact.first_name.as_deref(), Some("Ann"));
        assert_eq!(contact.owner_id.as_deref(), Some("user-1"));
        assert_eq!(contact.created_at, Millis(7));
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_clears() {
        let mut contact = contact();
        apply_patch(
            &mut contact,
            patch(json!({"first_name": " Ann ", "company": "X", "tags": ["a", "a", "b"]})),
        )
        .unwrap();
        apply_patch(
            &mut contact,
            patch(json!({"company": null, "lead_score": 70})),
        )
        .unwrap();
        assert_eq!(contact.first_name.as_deref(), Some("Ann"));
        assert_eq!(contact.company, None);
        assert_eq!(contact.tags, vec!["a", "b"]);
        assert_eq!(contact.lead_score, 70);
        assert_eq!(contact.lifecycle_stage, LifecycleStage::Lead);
    }

    #[test]
    fn every_problem_is_reported_and_nothing_changes() {
        let mut contact = contact();
        let problems = apply_patch(
            &mut contact,
            patch(
                json!({"email": "nope", "lead_score": 101, "phone": "call me",
                         "custom_fields": {"Bad Key": 1}, "tags": [""]}),
            ),
        )
        .unwrap_err();
        for field in [
            "email",
            "lead_score",
            "phone",
            "custom_fields.Bad Key",
            "tags[0]",
        ] {
            assert!(problems.contains_key(field), "{field}: {problems:?}");
        }
        assert_eq!(contact.email.as_str(), "ann@x.io");
    }

    #[test]
    fn put_clears_what_it_leaves_out_and_health_only_patches_are_recognised() {
        let replacing = patch(json!({"email": "a@x.io"})).replacing();
        assert_eq!(replacing.first_name, Some(None));
        assert!(patch(json!({"health_score": 40})).only_health());
        assert!(!patch(json!({"health_score": 40, "company": "x"})).only_health());
    }
}
