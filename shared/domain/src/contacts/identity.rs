//! Identity: what a consented `identify` does to contacts. The pseudonymous visitor that sent it
//! is linked to the contact holding the identify's email (compared lowercased), or to a new
//! `lead` created from the traits with source `website`. A visitor already linked to another
//! contact is a conflict: recorded, never merged.
//!
//! [`decide`] is the whole rule, over what the store read (the visitor's link claim, the
//! contact found by email) and `now`. Ids are derived from the identify's message id
//! ([`derived_id`]), so a redelivered message names the same records.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::contact::{Contact, ContactPatch, VisitorLink};
use super::email::Email;
use super::validate::{MAX_LINKED_VISITORS, apply_patch};
use crate::message::IdentifyRequest;
use crate::time::Millis;

/// The actor named in the audit entries and timeline entries identity writes.
pub const IDENTIFY_ACTOR: &str = "system:identify";
/// The `source` of a contact created from an identify.
pub const WEBSITE_SOURCE: &str = "website";

/// The contact a visitor's link claim names, and whether that contact still exists (a deleted
/// contact leaves its claims behind; they are taken over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorClaim {
    pub contact: String,
    pub contact_exists: bool,
}

/// What [`decide`] concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityDecision {
    /// The visitor is linked to the email's contact already: nothing to write.
    AlreadyLinked { contact: String },
    /// The email's contact lists the visitor but the visitor's claim is missing (a link an admin
    /// made by hand): only the claim is written.
    ClaimOnly { contact: String },
    /// Link the visitor to an existing contact: the contact as it becomes.
    Link { contact: Box<Contact> },
    /// No contact has the email: create this one, linked to the visitor.
    Create { contact: Box<Contact> },
    /// The visitor is linked to `linked_to`, another contact than the email's. The email's
    /// contact is `identified` (created now, without the link, when it did not exist).
    Conflict {
        linked_to: String,
        identified: Identified,
    },
    /// Nothing can be linked.
    Skip(SkipReason),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Identified {
    Existing(String),
    New(Box<Contact>),
}

impl Identified {
    pub fn id(&self) -> &str {
        match self {
            Identified::Existing(id) => id,
            Identified::New(contact) => &contact.id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The traits carry no email (only a name, a company…): nothing to match on.
    NoEmail,
    /// The email trait is not an address.
    InvalidEmail,
    /// The contact has [`MAX_LINKED_VISITORS`] visitors linked already.
    TooManyVisitors,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoEmail => "no_email",
            SkipReason::InvalidEmail => "invalid_email",
            SkipReason::TooManyVisitors => "too_many_visitors",
        }
    }
}

/// The identify's email, parsed: what the store looks the contact up by (its normalized form,
/// hashed into the email claim's key).
pub fn identify_email(request: &IdentifyRequest) -> Result<Email, SkipReason> {
    match request.traits.get("email").and_then(|value| value.as_str()) {
        None => Err(SkipReason::NoEmail),
        Some(raw) => Email::parse(raw).map_err(|_| SkipReason::InvalidEmail),
    }
}

/// The rule. `by_email` is the contact whose email equals the identify's (case-insensitively),
/// `claim` the visitor's link claim; `new_contact_id` names the contact if one is created.
pub fn decide(
    request: &IdentifyRequest,
    visitor: &VisitorLink,
    claim: Option<&VisitorClaim>,
    by_email: Option<&Contact>,
    new_contact_id: &str,
    now: Millis,
) -> IdentityDecision {
    let email = match identify_email(request) {
        Ok(email) => email,
        Err(reason) => return IdentityDecision::Skip(reason),
    };
    let linked_to = claim
        .filter(|claim| claim.contact_exists)
        .map(|claim| claim.contact.as_str());
    let identified = match by_email {
        Some(contact) => Identified::Existing(contact.id.clone()),
        None => Identified::New(Box::new(new_contact(new_contact_id, email, request, now))),
    };
    match linked_to {
        Some(other) if other != identified.id() => {
            return IdentityDecision::Conflict {
                linked_to: other.to_owned(),
                identified,
            };
        }
        _ => {}
    }
    let claimed = linked_to.is_some();
    match (identified, by_email) {
        (Identified::New(mut contact), _) => {
            contact.linked_visitors.push(visitor.clone());
            IdentityDecision::Create { contact }
        }
        (Identified::Existing(id), Some(contact)) => {
            if contact.linked_visitors.contains(visitor) {
                if claimed {
                    IdentityDecision::AlreadyLinked { contact: id }
                } else {
                    IdentityDecision::ClaimOnly { contact: id }
                }
            } else if contact.linked_visitors.len() >= MAX_LINKED_VISITORS {
                IdentityDecision::Skip(SkipReason::TooManyVisitors)
            } else {
                let mut linked = contact.clone();
                linked.linked_visitors.push(visitor.clone());
                linked.updated_at = now;
                IdentityDecision::Link {
                    contact: Box::new(linked),
                }
            }
        }
        // `Existing` is only built from `by_email`.
        (Identified::Existing(id), None) => IdentityDecision::AlreadyLinked { contact: id },
    }
}

/// A new lead from the website with the traits that fit the contact's fields. A trait the
/// contact's validation refuses (a phone of letters, an overlong name) is left out rather than
/// losing the lead.
fn new_contact(id: &str, email: Email, request: &IdentifyRequest, now: Millis) -> Contact {
    let mut contact = Contact::new(id.to_owned(), email, None, now);
    contact.source = Some(WEBSITE_SOURCE.to_owned());
    let trait_of = |name: &str| {
        request
            .traits
            .get(name)
            .and_then(|value| value.as_str())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let (mut first_name, mut last_name) = (trait_of("first_name"), trait_of("last_name"));
    if first_name.is_none()
        && last_name.is_none()
        && let Some(name) = trait_of("name")
    {
        let (first, last) = split_name(&name);
        first_name = Some(first);
        last_name = last;
    }
    let fields = [
        ("first_name", first_name),
        ("last_name", last_name),
        ("company", trait_of("company")),
        ("job_title", trait_of("job_title")),
        ("phone", trait_of("phone")),
        ("website", trait_of("website")),
    ];
    for (field, value) in fields {
        let Some(value) = value else {
            continue;
        };
        let mut patch = ContactPatch::default();
        let slot = match field {
            "first_name" => &mut patch.first_name,
            "last_name" => &mut patch.last_name,
            "company" => &mut patch.company,
            "job_title" => &mut patch.job_title,
            "phone" => &mut patch.phone,
            _ => &mut patch.website,
        };
        *slot = Some(Some(value));
        // One field per patch: a refused one leaves the contact as it was.
        let _refused = apply_patch(&mut contact, patch);
    }
    contact
}

/// `"Ann Lee Smith"` → (`"Ann"`, `Some("Lee Smith")`); one word is a first name.
fn split_name(name: &str) -> (String, Option<String>) {
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) if !rest.trim().is_empty() => {
            (first.to_owned(), Some(rest.trim().to_owned()))
        }
        _ => (name.to_owned(), None),
    }
}

/// A UUIDv7-shaped id stamped with `at` whose other bits come from SHA-256 of `seed`: the same
/// (at, seed) always gives the same id, and ids sort by `at` like those of contacts created by
/// the API.
pub fn derived_id(at: Millis, seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let millis = u64::try_from(at.0.max(0)).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let random_a = u16::from_be_bytes([digest[0], digest[1]]) & 0x0FFF;
    let random_b = (u16::from_be_bytes([digest[2], digest[3]]) & 0x3FFF) | 0x8000;
    let tail = digest[4..10]
        .iter()
        .fold(0u64, |tail, byte| (tail << 8) | u64::from(*byte));
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        millis >> 16,
        millis & 0xFFFF,
        random_a,
        random_b,
        tail
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::LifecycleStage;
    use serde_json::json;

    const NOW: Millis = Millis(1_763_700_000_000);

    fn request(traits: serde_json::Value) -> IdentifyRequest {
        IdentifyRequest {
            ts: NOW,
            traits: traits.as_object().cloned().unwrap_or_default(),
        }
    }

    fn visitor(id: &str) -> VisitorLink {
        VisitorLink {
            site: "demo".to_owned(),
            visitor: id.to_owned(),
        }
    }

    fn contact(id: &str, email: &str) -> Contact {
        Contact::new(id.to_owned(), Email::parse(email).unwrap(), None, Millis(1))
    }

    fn claim(contact: &str, exists: bool) -> VisitorClaim {
        VisitorClaim {
            contact: contact.to_owned(),
            contact_exists: exists,
        }
    }

    #[test]
    fn an_unknown_email_creates_a_website_lead_linked_to_the_visitor_with_the_name_traits() {
        let traits = json!({"email": "Ann@Example.io", "name": "Ann Lee Smith", "company": "Acme",
                            "phone": "not a phone"});
        let decision = decide(&request(traits), &visitor("v1"), None, None, "new", NOW);
        let IdentityDecision::Create { contact } = decision else {
            panic!("{decision:?}");
        };
        assert_eq!(contact.id, "new");
        assert_eq!(contact.email.as_str(), "Ann@Example.io");
        assert_eq!(contact.lifecycle_stage, LifecycleStage::Lead);
        assert_eq!(contact.source.as_deref(), Some("website"));
        assert_eq!(contact.first_name.as_deref(), Some("Ann"));
        assert_eq!(contact.last_name.as_deref(), Some("Lee Smith"));
        assert_eq!(contact.company.as_deref(), Some("Acme"));
        assert_eq!(contact.phone, None, "a refused trait is left out");
        assert_eq!(contact.linked_visitors, vec![visitor("v1")]);
        assert_eq!((contact.created_at, contact.updated_at), (NOW, NOW));
    }

    #[test]
    fn first_and_last_name_traits_win_over_the_full_name() {
        let traits = json!({"email": "a@x.io", "name": "Whole Name", "first_name": "Ann"});
        let decision = decide(&request(traits), &visitor("v1"), None, None, "new", NOW);
        let IdentityDecision::Create { contact } = decision else {
            panic!("{decision:?}");
        };
        assert_eq!(contact.first_name.as_deref(), Some("Ann"));
        assert_eq!(contact.last_name, None);
    }

    #[test]
    fn an_existing_contact_gets_the_visitor_appended_and_keeps_its_own_fields() {
        let mut existing = contact("c1", "ann@example.io");
        existing.first_name = Some("Annie".to_owned());
        existing.linked_visitors.push(visitor("v0"));
        let traits = json!({"email": "ANN@example.io", "first_name": "Ann"});
        let decision = decide(
            &request(traits),
            &visitor("v1"),
            None,
            Some(&existing),
            "new",
            NOW,
        );
        let IdentityDecision::Link { contact } = decision else {
            panic!("{decision:?}");
        };
        assert_eq!(contact.id, "c1");
        assert_eq!(contact.first_name.as_deref(), Some("Annie"));
        assert_eq!(contact.linked_visitors, vec![visitor("v0"), visitor("v1")]);
        assert_eq!(contact.updated_at, NOW);
    }

    #[test]
    fn linking_again_writes_nothing_and_a_hand_made_link_only_gets_its_claim() {
        let mut existing = contact("c1", "ann@example.io");
        existing.linked_visitors.push(visitor("v1"));
        let traits = json!({"email": "ann@example.io"});
        let linked = decide(
            &request(traits.clone()),
            &visitor("v1"),
            Some(&claim("c1", true)),
            Some(&existing),
            "new",
            NOW,
        );
        assert_eq!(
            linked,
            IdentityDecision::AlreadyLinked {
                contact: "c1".to_owned()
            }
        );
        let unclaimed = decide(
            &request(traits),
            &visitor("v1"),
            None,
            Some(&existing),
            "new",
            NOW,
        );
        assert_eq!(
            unclaimed,
            IdentityDecision::ClaimOnly {
                contact: "c1".to_owned()
            }
        );
    }

    #[test]
    fn a_claimed_contact_that_lost_the_link_gets_it_back() {
        let existing = contact("c1", "ann@example.io");
        let decision = decide(
            &request(json!({"email": "ann@example.io"})),
            &visitor("v1"),
            Some(&claim("c1", true)),
            Some(&existing),
            "new",
            NOW,
        );
        assert!(
            matches!(decision, IdentityDecision::Link { contact } if contact.linked_visitors == vec![visitor("v1")])
        );
    }

    #[test]
    fn a_visitor_linked_to_another_contact_is_a_conflict_not_a_merge() {
        let other = contact("c2", "bob@example.io");
        let existing = decide(
            &request(json!({"email": "bob@example.io"})),
            &visitor("v1"),
            Some(&claim("c1", true)),
            Some(&other),
            "new",
            NOW,
        );
        assert_eq!(
            existing,
            IdentityDecision::Conflict {
                linked_to: "c1".to_owned(),
                identified: Identified::Existing("c2".to_owned()),
            }
        );
        let unknown = decide(
            &request(json!({"email": "carol@example.io"})),
            &visitor("v1"),
            Some(&claim("c1", true)),
            None,
            "new",
            NOW,
        );
        let IdentityDecision::Conflict {
            linked_to,
            identified: Identified::New(created),
        } = unknown
        else {
            panic!("{unknown:?}");
        };
        assert_eq!(linked_to, "c1");
        assert!(
            created.linked_visitors.is_empty(),
            "the new contact is not linked"
        );
    }

    #[test]
    fn a_claim_of_a_deleted_contact_is_taken_over() {
        let decision = decide(
            &request(json!({"email": "ann@example.io"})),
            &visitor("v1"),
            Some(&claim("gone", false)),
            None,
            "new",
            NOW,
        );
        assert!(
            matches!(decision, IdentityDecision::Create { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn identifies_without_a_usable_email_or_room_for_another_visitor_are_skipped() {
        let no_email = decide(
            &request(json!({"name": "Ann"})),
            &visitor("v1"),
            None,
            None,
            "new",
            NOW,
        );
        assert_eq!(no_email, IdentityDecision::Skip(SkipReason::NoEmail));
        let invalid = decide(
            &request(json!({"email": "ann at example"})),
            &visitor("v1"),
            None,
            None,
            "new",
            NOW,
        );
        assert_eq!(invalid, IdentityDecision::Skip(SkipReason::InvalidEmail));
        let mut full = contact("c1", "ann@example.io");
        full.linked_visitors = (0..MAX_LINKED_VISITORS)
            .map(|n| visitor(&format!("v{n}x")))
            .collect();
        let decision = decide(
            &request(json!({"email": "ann@example.io"})),
            &visitor("v1"),
            None,
            Some(&full),
            "new",
            NOW,
        );
        assert_eq!(
            decision,
            IdentityDecision::Skip(SkipReason::TooManyVisitors)
        );
    }

    #[test]
    fn derived_ids_are_stable_uuid_v7_shaped_and_sort_by_time() {
        let id = derived_id(NOW, "message-1");
        assert_eq!(id, derived_id(NOW, "message-1"));
        assert_ne!(id, derived_id(NOW, "message-2"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert!(derived_id(Millis(NOW.0 + 1), "a") > derived_id(NOW, "z"));
    }
}
