//! Anonymization: IP truncation, keyed hashes for visitor and session ids, PII masking and
//! query-string allowlisting. Nothing personal leaves these functions.
//!
//! Keyed hashes are HMAC-SHA256, hex-encoded and cut to 128 bits: long enough that two visitors
//! of a site never collide in practice, short enough to keep every stored item small.

pub mod pii;
pub mod url;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::message::{Consent, VisitorKeyKind};
use crate::site::SiteId;

pub use pii::{mask_pii, mask_pii_in_place};
pub use url::{AnonymizedUrl, anonymize_url};

type HmacSha256 = Hmac<Sha256>;

/// Hex characters kept of a keyed hash (128 bits).
pub const KEY_HEX_LEN: usize = 32;

const DAILY_SALT_CONTEXT: &[u8] = b"crm-daily-salt:";

fn keyed_hash(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never falls back; the fallback only keeps the
    // function total without a panic path in the worker.
    let mut mac =
        HmacSha256::new_from_slice(secret).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn keyed_hash_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(&keyed_hash(secret, parts)[..KEY_HEX_LEN / 2])
}

/// Derives the salt of one UTC day from a long-lived secret (HMAC-SHA256 of the day number), so
/// every host computes the same salt and nothing is stored or rotated by hand.
pub fn daily_salt(secret: &[u8], day: i64) -> [u8; 32] {
    keyed_hash(secret, &[DAILY_SALT_CONTEXT, day.to_string().as_bytes()])
}

/// IPv4 to its /24, IPv6 to its /48 (an IPv4-mapped IPv6 address counts as IPv4). This is the
/// first thing done with an address; nothing else ever sees the full one.
pub fn truncate_ip(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
        }
    }
}

/// Whether the visitor allowed a first-party id: analytics consent, and neither `DNT: 1` nor
/// `Sec-GPC: 1` (a browser-wide "no" outranks a banner click).
pub fn first_party_id_allowed(
    consent: Consent,
    do_not_track: bool,
    global_privacy_control: bool,
) -> bool {
    consent.analytics && !do_not_track && !global_privacy_control
}

/// A pseudonymous visitor key and how it was derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorKey {
    pub key: String,
    pub kind: VisitorKeyKind,
}

impl VisitorKey {
    /// With a first-party id allowed: HMAC(pepper, site ‖ 0 ‖ vid), stable across days.
    pub fn first_party(pepper: &[u8], site: &SiteId, first_party_id: &str) -> VisitorKey {
        let key = keyed_hash_hex(
            pepper,
            &[site.as_str().as_bytes(), &[0], first_party_id.as_bytes()],
        );
        VisitorKey {
            key,
            kind: VisitorKeyKind::FirstParty,
        }
    }

    /// Without: HMAC(daily salt, site ‖ 0 ‖ truncated IP ‖ 0 ‖ user agent), which rotates with the
    /// salt every UTC day and so cannot link visits across days. The IP is truncated here again
    /// so a caller cannot pass a full address by mistake.
    pub fn daily(
        daily_salt: &[u8; 32],
        site: &SiteId,
        client_ip: Option<IpAddr>,
        user_agent: &str,
    ) -> VisitorKey {
        let ip = client_ip
            .map(truncate_ip)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let key = keyed_hash_hex(
            daily_salt,
            &[
                site.as_str().as_bytes(),
                &[0],
                ip.as_bytes(),
                &[0],
                user_agent.as_bytes(),
            ],
        );
        VisitorKey {
            key,
            kind: VisitorKeyKind::Daily,
        }
    }

    /// The session key: HMAC(the secret that made this visitor key, visitor key ‖ 0 ‖ sid), so the
    /// browser's session id never reaches storage and sessions of different visitors never meet.
    pub fn session_key(&self, secret: &[u8], browser_session_id: &str) -> String {
        keyed_hash_hex(
            secret,
            &[self.key.as_bytes(), &[0], browser_session_id.as_bytes()],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unwrap_used)]
    fn site() -> SiteId {
        SiteId::parse("demo").unwrap()
    }

    #[test]
    fn ipv4_is_truncated_to_its_24_bit_network() {
        let ip: IpAddr = [203, 0, 113, 77].into();
        assert_eq!(truncate_ip(ip).to_string(), "203.0.113.0");
    }

    #[test]
    fn ipv6_is_truncated_to_its_48_bit_network() {
        let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x1234, 0x5678, 1, 2, 3, 4));
        assert_eq!(truncate_ip(ip).to_string(), "2001:db8:1234::");
    }

    #[test]
    fn ipv4_mapped_ipv6_is_truncated_as_ipv4() {
        let ip = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 9).to_ipv6_mapped());
        assert_eq!(truncate_ip(ip).to_string(), "198.51.100.0");
    }

    #[test]
    fn daily_salt_differs_per_day_and_is_stable() {
        assert_eq!(daily_salt(b"secret", 20_000), daily_salt(b"secret", 20_000));
        assert_ne!(daily_salt(b"secret", 20_000), daily_salt(b"secret", 20_001));
    }

    #[test]
    fn daily_keys_rotate_with_the_salt_and_ignore_the_host_part_of_the_ip() {
        let (monday, tuesday) = (daily_salt(b"s", 1), daily_salt(b"s", 2));
        let ip = |last: u8| Some(IpAddr::from([198, 51, 100, last]));
        let key = VisitorKey::daily(&monday, &site(), ip(1), "Firefox");
        assert_eq!(key, VisitorKey::daily(&monday, &site(), ip(200), "Firefox"));
        assert_ne!(key, VisitorKey::daily(&tuesday, &site(), ip(1), "Firefox"));
        assert_eq!(key.key.len(), KEY_HEX_LEN);
        assert_eq!(key.kind, VisitorKeyKind::Daily);
    }

    #[test]
    fn first_party_keys_are_stable_and_do_not_contain_the_raw_id() {
        let key = VisitorKey::first_party(b"pepper", &site(), "vid-123");
        assert_eq!(key, VisitorKey::first_party(b"pepper", &site(), "vid-123"));
        assert!(!key.key.contains("vid-123"));
        assert_ne!(
            key.session_key(b"pepper", "s1"),
            key.session_key(b"pepper", "s2")
        );
    }

    #[test]
    fn dnt_or_gpc_outranks_consent() {
        let consent = Consent {
            analytics: true,
            marketing: true,
        };
        assert!(first_party_id_allowed(consent, false, false));
        assert!(!first_party_id_allowed(consent, true, false));
        assert!(!first_party_id_allowed(consent, false, true));
        assert!(!first_party_id_allowed(Consent::default(), false, false));
    }
}
