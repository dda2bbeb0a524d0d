//! Key layout of the CRM records. Contacts own the `C#{contact}` partition: everything held about
//! a person lives there or is linked from there (see [`super::person`]), so GDPR export and
//! erase read one partition.

use crm_domain::time::Millis;

use crate::repo::keys::padded_millis;
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
