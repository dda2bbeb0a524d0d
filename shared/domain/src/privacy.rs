//! Anonymization: IP truncation, keyed hashes for visitor and session ids, PII masking and
//! query-string allowlisting. Nothing personal leaves these functions.

/// Derives the salt of one UTC day from a long-lived secret (HMAC-SHA256 of the day number), so
/// every host computes the same salt and nothing is stored or rotated by hand.
pub fn daily_salt(secret: &[u8], day: i64) -> [u8; 32] {
    todo!()
}
