//! Which strings can be record ids. Every id this system makes — UUIDv7 record ids, visitor and
//! session hashes, site ids — is 1 to [`MAX_ID_BYTES`] printable ASCII characters without `#`,
//! the separator of store keys. A string outside that shape names no record, so a lookup by it
//! can be answered "not found" without asking the store (which refuses keys over its limits).

/// The longest id a record can have.
pub const MAX_ID_BYTES: usize = 64;

/// Whether `raw` has the shape of a record id.
pub fn is_record_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_ID_BYTES
        && raw
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_this_system_makes_are_record_ids() {
        assert!(is_record_id("01a2026a-5241-7548-bdc5-9efaf89b1713"));
        assert!(is_record_id("7dd4fcffed5d05d326b949565784c05a"));
        assert!(is_record_id("demo"));
        assert!(is_record_id(&"a".repeat(MAX_ID_BYTES)));
    }

    #[test]
    fn other_strings_are_not() {
        assert!(!is_record_id(""));
        assert!(!is_record_id(&"a".repeat(MAX_ID_BYTES + 1)));
        assert!(!is_record_id("a#b"));
        assert!(!is_record_id("a b"));
        assert!(!is_record_id("ü"));
        assert!(!is_record_id("a\u{0}"));
    }
}
