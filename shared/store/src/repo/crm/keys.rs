//! Key layout of the CRM records. Contacts own the `C#{contact}` partition: everything held about
//! a person lives there or is linked from there (see [`super::person`]), so GDPR export and
//! erase read one partition.

use crm_domain::site::SiteId;
use crm_domain::time::Millis;

use crate::repo::keys::{padded_millis, visitor_partition};
use crate::table::Key;

pub const META_SK: &str = "META";

/// Audit entries of one entity: `AUDIT#{entity_type}#{entity_id}` / `{at}#{audit id}`.
pub fn audit_entry(entity_type: &str, entity_id: &str, at: Millis, id: &str) -> Key {
    Key::new(
        audit_entity_partition(entity_type, entity_id),
        audit_sort_key(at, id),
    )
}

pub fn audit_entity_partition(entity_type: &str, entity_id: &str) -> String {
    format!("AUDIT#{entity_type}#{entity_id}")
}

pub fn audit_sort_key(at: Millis, id: &str) -> String {
    format!("{}#{id}", padded_millis(at))
}

/// GSI1 partition of one actor's audit entries, newest last.
pub fn audit_actor_index(actor: &str) -> String {
    format!("AUDIT#ACTOR#{actor}")
}

/// GSI2 partition of every audit entry. Admin writes are human-paced; at a sustained 1,000
/// entries/s it would need sharding by day.
pub const AUDIT_ALL_INDEX: &str = "AUDIT#ALL";

/// The partition of everything held about one contact.
pub fn contact_partition(contact: &str) -> String {
    format!("C#{contact}")
}

pub fn contact(contact: &str) -> Key {
    Key::new(contact_partition(contact), META_SK)
}

/// A link, in the person's partition, to an item elsewhere that holds the person's data.
pub fn person_ref(contact: &str, target: &Key) -> Key {
    Key::new(
        contact_partition(contact),
        format!("{PERSON_REF_SK_PREFIX}{}|{}", target.pk, target.sk),
    )
}

pub const PERSON_REF_SK_PREFIX: &str = "REF#";

/// The contact's copy listed in creation order (GSI1 `CONTACTS#CREATED` / `{id}`: UUIDv7 ids
/// sort by creation time).
pub fn contact_by_created(contact: &str) -> Key {
    Key::new(contact_partition(contact), "BY_CREATED")
}

/// GSI1 partitions and GSI2 partition of the contact lists, one per sort order.
pub const CONTACTS_BY_SCORE_INDEX: &str = "CONTACTS#SCORE";
pub const CONTACTS_BY_CREATED_INDEX: &str = "CONTACTS#CREATED";
pub const CONTACTS_BY_UPDATED_INDEX: &str = "CONTACTS#UPDATED";

/// `{lead score, 3 digits}#{id}`: descending order is highest score first.
pub fn score_sort_key(score: u8, contact: &str) -> String {
    format!("{score:03}#{contact}")
}

/// The uniqueness claim of an email: `CEMAIL#{sha256 of the lowercased email}` / `CLAIM`, holding
/// the contact id. Hashed so the key itself carries no address.
pub fn email_claim(normalized_email: &str) -> Key {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(normalized_email.as_bytes());
    Key::new(format!("CEMAIL#{}", hex::encode(digest)), "CLAIM")
}

/// A scheduled follow-up: GSI1 `LEADS#FOLLOWUP` / `{due ms}#{id}`.
pub fn follow_up(contact: &str) -> Key {
    Key::new(contact_partition(contact), "FOLLOWUP")
}

pub const FOLLOW_UPS_INDEX: &str = "LEADS#FOLLOWUP";

pub const INTERACTION_SK_PREFIX: &str = "I#";
pub const TIMELINE_SK_PREFIX: &str = "T#";

pub fn interaction(contact: &str, at: Millis, id: &str) -> Key {
    Key::new(
        contact_partition(contact),
        format!("{INTERACTION_SK_PREFIX}{}#{id}", padded_millis(at)),
    )
}

pub fn timeline(contact: &str, at: Millis, id: &str) -> Key {
    Key::new(
        contact_partition(contact),
        format!("{TIMELINE_SK_PREFIX}{}#{id}", padded_millis(at)),
    )
}

/// GSI1 partition of every lifecycle transition, by time (the lifecycle analytics).
pub const TRANSITIONS_INDEX: &str = "CRM#TRANSITIONS";

/// Contacts per lifecycle stage, counted in shards so no single item takes every write.
pub const LIFECYCLE_SHARDS: u8 = 8;

pub fn lifecycle_shard(shard: u8) -> Key {
    Key::new("CRM#LIFECYCLE", format!("SHARD#{shard}"))
}

pub fn lifecycle_shard_of(contact: &str) -> Key {
    let sum = contact
        .bytes()
        .fold(0u32, |sum, byte| sum.wrapping_add(u32::from(byte)));
    lifecycle_shard((sum % u32::from(LIFECYCLE_SHARDS)) as u8)
}

/// The contact a visitor is linked to, written when an `identify` links them: `CONTACT` in the
/// visitor's partition, holding the contact id. Written `attribute_not_exists` (or on the stale
/// id it replaces), it is what makes a second contact's claim on the visitor a conflict. Living
/// in the visitor's partition, it goes when an erase deletes the linked visitors' partitions.
pub fn visitor_claim(site: &SiteId, visitor: &str) -> Key {
    Key::new(visitor_partition(site, visitor), VISITOR_CLAIM_SK)
}

pub const VISITOR_CLAIM_SK: &str = "CONTACT";
