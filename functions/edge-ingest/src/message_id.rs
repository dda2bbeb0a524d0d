//! Message ids: UUIDv7 from the worker's clock and random bytes the host supplies.
//!
//! The id is the idempotency key of the queue message, so it must be unique, not secret. The
//! host passes the time and the randomness (`crypto.getRandomValues` in the Worker) because
//! neither `SystemTime::now` nor `getrandom` works on `wasm32-unknown-unknown` without help.

/// `xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`: 48 bits of Unix milliseconds, the version, 74 random
/// bits and the RFC 9562 variant.
pub fn uuid_v7(unix_millis: u64, random: [u8; 10]) -> String {
    let mut bytes = [0_u8; 16];
    bytes[..6].copy_from_slice(&unix_millis.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let hex = hex::encode(bytes);
    let mut id = String::with_capacity(36);
    for (index, range) in [0..8, 8..12, 12..16, 16..20, 20..32]
        .into_iter()
        .enumerate()
    {
        if index > 0 {
            id.push('-');
        }
        id.push_str(hex.get(range).unwrap_or_default());
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v7_carrying_the_given_time() {
        let id = uuid_v7(1_763_700_000_123, [0xff; 10]);
        let parsed = uuid::Uuid::parse_str(&id).expect("a valid uuid");
        assert_eq!(parsed.get_version_num(), 7);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        let (seconds, nanos) = parsed
            .get_timestamp()
            .expect("v7 has a timestamp")
            .to_unix();
        assert_eq!(
            seconds * 1000 + u64::from(nanos / 1_000_000),
            1_763_700_000_123
        );
    }

    #[test]
    fn different_random_bytes_give_different_ids_in_the_same_millisecond() {
        let first = uuid_v7(5, [1; 10]);
        let second = uuid_v7(5, [2; 10]);
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
    }
}
