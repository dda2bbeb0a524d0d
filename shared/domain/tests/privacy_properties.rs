//! Property tests of the privacy promise: no generated e-mail address, phone number, card number
//! or client IP survives `parse_beacon` + `accept`, wherever in a beacon it is put; and no input,
//! however malformed, panics them.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv6Addr};

use crm_domain::ingest::{IngestKeys, RequestContext, accept, parse_beacon};
use crm_domain::privacy::{daily_salt, truncate_ip};
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: Millis = Millis(1_763_700_000_000);

fn site() -> SiteConfig {
    SiteConfig {
        id: SiteId::parse("demo").unwrap(),
        name: "Demo".to_owned(),
        allowed_origins: vec!["*".to_owned()],
        retention_days: 90,
        session_retention_days: 180,
        enabled: true,
    }
}

/// Runs the whole ingest path and returns the queue message as JSON ("" when nothing is queued).
fn ingest(body: &[u8], client_ip: Option<IpAddr>, consent: bool) -> String {
    let salt = daily_salt(b"daily-secret", NOW.day());
    let keys = IngestKeys {
        daily_salt: &salt,
        visitor_pepper: b"pepper",
    };
    let request = RequestContext {
        client_ip,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        origin: Some("https://shop.example"),
        do_not_track: false,
        global_privacy_control: !consent,
        country: Some("de"),
    };
    let Ok(parsed) = parse_beacon(body) else {
        return String::new();
    };
    match accept(parsed, &site(), &request, &keys, "msg".to_owned(), NOW) {
        Ok(accepted) => accepted
            .message
            .map(|message| message.to_json())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn email() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9._%+-]{0,12}",
        "[a-z0-9][a-z0-9-]{0,10}",
        "[a-z]{2,6}",
    )
        .prop_map(|(local, domain, tld)| format!("{local}@{domain}.{tld}"))
}

fn digits(count: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, count).prop_map(|digits| {
        digits
            .iter()
            .map(|digit| char::from(b'0' + digit))
            .collect()
    })
}

fn phone() -> impl Strategy<Value = String> {
    (
        digits(3),
        digits(3),
        digits(4),
        "[1-9][0-9]{0,2}",
        0..6usize,
    )
        .prop_map(|(area, exchange, line, country, format)| match format {
            0 => format!("+{country} {area} {exchange} {line}"),
            1 => format!("({area}) {exchange}-{line}"),
            2 => format!("{area}-{exchange}-{line}"),
            3 => format!("{area}.{exchange}.{line}"),
            4 => format!("{area}{exchange}{line}"),
            _ => format!("+{country}{area}{exchange}{line}"),
        })
}

/// A Luhn-valid 13–19 digit card number, plain or grouped by spaces or dashes.
fn card() -> impl Strategy<Value = String> {
    (12..19usize)
        .prop_flat_map(|body_length| (proptest::collection::vec(0u8..10, body_length), 0..3usize))
        .prop_map(|(mut body, grouping)| {
            body[0] = body[0].max(1);
            let check = luhn_check_digit(&body);
            body.push(check);
            let plain: String = body.iter().map(|digit| char::from(b'0' + digit)).collect();
            match grouping {
                0 => plain,
                separator => {
                    let separator = if separator == 1 { " " } else { "-" };
                    let groups: Vec<String> = plain
                        .as_bytes()
                        .chunks(4)
                        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                        .collect();
                    groups.join(separator)
                }
            }
        })
}

fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn pii() -> impl Strategy<Value = String> {
    prop_oneof![email(), phone(), card()]
}

/// How a URL would carry the text: as is, or percent-encoded as browsers do.
fn percent_encoded(text: &str) -> String {
    text.replace('%', "%25")
        .replace('@', "%40")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace('(', "%28")
        .replace(')', "%29")
}

/// A beacon that puts `secret` in every place a browser could: url path and query (raw and
/// percent-encoded), fragment, title, referrer, click text, selector, props values and keys.
fn beacon_carrying(secret: &str, word: &str) -> Value {
    let encoded = percent_encoded(secret);
    json!({
        "v": 1, "site": "demo", "sid": "session-1", "vid": "visitor-1", "consent": {"analytics": true},
        "events": [
            {"id": "e1", "t": "page_view", "ts": NOW.0,
             "url": format!("https://shop.example/{word}/{secret}?utm_source={encoded}&utm_term={secret}&email={encoded}#{secret}"),
             "title": format!("{word} {secret} {word}"),
             "ref": format!("https://ref.example/{encoded}?ref={secret}&q={secret}")},
            {"id": "e2", "t": "click", "ts": NOW.0,
             "url": format!("https://shop.example/{encoded}"),
             "props": {"selector": format!("a[href='mailto:{secret}']"), "tag": "a", "text": format!("{word}{secret}")}},
            {"id": "e3", "t": "custom", "ts": NOW.0,
             "props": {"note": format!("{word} {secret}"), secret: word, "list": [secret, format!("x {secret} y")], "object": {"inner": secret}}},
            {"id": "e4", "t": "error", "ts": NOW.0, "props": {"message": format!("failed for {secret}")}}
        ]
    })
}

fn assert_absent(output: &str, secret: &str) {
    assert!(!output.contains(secret), "{secret:?} survived in {output}");
    let encoded = percent_encoded(secret);
    assert!(
        !output.contains(&encoded),
        "{encoded:?} survived in {output}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_email_phone_or_card_survives_ingest(secret in pii(), word in "[a-z]{0,8}") {
        let body = beacon_carrying(&secret, &word).to_string();
        let output = ingest(body.as_bytes(), None, true);
        prop_assert!(output.contains("page_view"), "the beacon was not accepted: {}", body);
        assert_absent(&output, &secret);
    }

    #[test]
    fn no_raw_or_truncated_client_ip_survives_ingest(v4 in any::<[u8; 4]>(), v6 in any::<u128>(), consent in any::<bool>()) {
        let body = beacon_carrying("nothing personal", "page").to_string();
        for ip in [IpAddr::from(v4), IpAddr::V6(Ipv6Addr::from(v6))] {
            let output = ingest(body.as_bytes(), Some(ip), consent);
            prop_assert!(!output.is_empty());
            prop_assert!(!output.contains(&ip.to_string()), "{} in {}", ip, output);
            prop_assert!(!output.contains(&truncate_ip(ip).to_string()), "{} in {}", truncate_ip(ip), output);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_ingest(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        ingest(&body, Some(IpAddr::from([10, 0, 0, 1])), true);
    }

    #[test]
    fn arbitrary_json_never_panics_ingest(value in json_value(), events in proptest::collection::vec(json_value(), 0..8)) {
        ingest(value.to_string().as_bytes(), None, true);
        let beacon = json!({"v": 1, "site": "demo", "sid": "s", "events": events});
        ingest(beacon.to_string().as_bytes(), None, true);
        let shaped = json!({"v": 1, "site": "demo", "sid": "s", "events": [
            {"id": "a", "t": "click", "ts": NOW.0, "url": value.clone(), "props": value.clone(), "title": value.clone()},
            {"id": value.clone(), "t": "identify", "ts": value.clone(), "props": value}
        ]});
        ingest(shaped.to_string().as_bytes(), None, true);
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |number| number.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("page_view"),
            Just("click"),
            Just("identify"),
            Just("scroll")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}
