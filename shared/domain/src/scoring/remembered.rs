//! The applied messages a profile remembers so that redelivery is harmless, kept as a 64-bit
//! digest of each id (16 hex characters) instead of the id itself (a UUIDv7, 36). A returning
//! visitor's profile carries [`REMEMBERED_MESSAGES`](super::REMEMBERED_MESSAGES) of them in every
//! write, and DynamoDB bills each started KiB: 2.5 KiB of ids become 1.2 KiB. Two of the 64
//! remembered messages sharing a digest by chance is about one in 2^58.

use sha2::{Digest, Sha256};

use super::REMEMBERED_MESSAGES;

/// What a profile remembers of a message.
pub fn message_digest(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..8])
}

/// Whether the message (`id`, and its `digest`) was applied before: remembered by digest, or by
/// its whole id in a profile stored before digests were kept.
pub fn remembers(remembered: &[String], id: &str, digest: &str) -> bool {
    remembered
        .iter()
        .any(|known| known == digest || known == id)
}

/// Remembers newly applied messages by their digests, keeping the most recent
/// [`REMEMBERED_MESSAGES`].
pub fn remember(remembered: &mut Vec<String>, digests: impl IntoIterator<Item = String>) {
    remembered.extend(digests);
    let excess = remembered.len().saturating_sub(REMEMBERED_MESSAGES);
    remembered.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn a_message_is_remembered_by_a_short_stable_digest() {
        let digest = message_digest(ID);
        assert_eq!(digest.len(), 16);
        // Stored digests must read the same in every later version: the first 8 bytes of
        // SHA-256, as any SHA-256 tool computes them.
        assert_eq!(message_digest("m1"), "ca0df2c95aa144c1");
        let mut remembered = Vec::new();
        remember(&mut remembered, [digest.clone()]);
        assert!(remembers(&remembered, ID, &digest));
        let other = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
        assert!(!remembers(&remembered, other, &message_digest(other)));
    }

    #[test]
    fn whole_ids_stored_before_digests_are_still_recognised() {
        assert!(remembers(&[ID.to_owned()], ID, &message_digest(ID)));
    }

    #[test]
    fn only_the_most_recent_are_kept() {
        let mut remembered = Vec::new();
        remember(
            &mut remembered,
            (0..REMEMBERED_MESSAGES + 3).map(|n| n.to_string()),
        );
        assert_eq!(remembered.len(), REMEMBERED_MESSAGES);
        assert_eq!(remembered[0], "3");
    }
}
