//! URL anonymization: keep `scheme://host/path` and the query parameters that describe a
//! campaign, drop everything else (user info, other parameters, the fragment), then mask PII.
//!
//! Hand-written rather than the `url` crate: we never need a full WHATWG parse, only to cut a
//! string at `://`, `/`, `?` and `#`, and the worker's wasm size budget is small.

use std::borrow::Cow;

use super::pii::mask_pii;

/// Query parameters kept in URLs: campaign attribution only. Ad-click ids (`gclid`, `fbclid`,
/// `msclkid`) are deliberately absent: they are per-click identifiers that link a visit to an ad
/// platform's profile of the person.
pub const ALLOWED_QUERY_PARAMETERS: [&str; 8] = [
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
    "ref",
    "source",
];

/// An anonymized URL and its path, the unit pages are counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymizedUrl {
    pub url: String,
    pub path: String,
}

fn is_allowed_parameter(name: &str) -> bool {
    ALLOWED_QUERY_PARAMETERS
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(name))
}

/// `scheme:` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn scheme_len(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let colon = bytes.iter().position(|&byte| byte == b':')?;
    let valid = bytes[..colon]
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
    valid.then_some(colon)
}

/// Anonymizes an absolute or relative URL.
///
/// Opaque URLs (`mailto:…`, `tel:…`, `javascript:…`) keep only their scheme: whatever follows
/// it is an address or code, never a page.
pub fn anonymize_url(raw: &str) -> AnonymizedUrl {
    let raw = raw.trim();
    let without_fragment = raw.split_once('#').map_or(raw, |(before, _)| before);
    let mut url = String::with_capacity(without_fragment.len());

    let mut rest = without_fragment;
    let mut has_authority = false;
    if let Some(colon) = scheme_len(rest) {
        let scheme = &rest[..colon];
        let after_scheme = &rest[colon + 1..];
        match after_scheme.strip_prefix("//") {
            Some(hierarchical) => {
                push_lowercase(&mut url, scheme);
                url.push_str("://");
                rest = hierarchical;
                has_authority = true;
            }
            None => {
                push_lowercase(&mut url, scheme);
                url.push(':');
                return AnonymizedUrl {
                    url,
                    path: "/".to_owned(),
                };
            }
        }
    } else if let Some(protocol_relative) = rest.strip_prefix("//") {
        url.push_str("//");
        rest = protocol_relative;
        has_authority = true;
    }

    if has_authority {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        // `user:password@host`: the user info is personal and never needed.
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        push_lowercase(&mut url, &mask_pii(host));
        rest = &rest[authority_end..];
    }

    let (raw_path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let path: Cow<'_, str> = if raw_path.is_empty() {
        Cow::Borrowed("/")
    } else {
        mask_pii(raw_path)
    };
    url.push_str(&path);

    if let Some(query) = query {
        let mut separator = '?';
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if is_allowed_parameter(name) {
                url.push(separator);
                url.push_str(&mask_pii(pair));
                separator = '&';
            }
        }
    }
    AnonymizedUrl {
        url,
        path: path.into_owned(),
    }
}

fn push_lowercase(out: &mut String, text: &str) {
    out.extend(text.chars().map(|character| character.to_ascii_lowercase()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymized(raw: &str) -> (String, String) {
        let AnonymizedUrl { url, path } = anonymize_url(raw);
        (url, path)
    }

    #[test]
    fn campaign_parameters_are_kept_and_others_dropped() {
        let (url, path) = anonymized(
            "https://Shop.Example/pricing?utm_source=news&email=jane@example.com&gclid=abc&ref=hn#plans",
        );
        assert_eq!(url, "https://shop.example/pricing?utm_source=news&ref=hn");
        assert_eq!(path, "/pricing");
    }

    #[test]
    fn user_info_is_dropped_and_the_port_kept() {
        assert_eq!(
            anonymized("http://jane:secret@shop.example:8080/a").0,
            "http://shop.example:8080/a"
        );
    }

    #[test]
    fn pii_in_the_path_and_allowed_values_is_masked() {
        let (url, path) = anonymized(
            "https://shop.example/users/jane%40example.com/orders?utm_term=555-123-4567",
        );
        assert_eq!(
            url,
            "https://shop.example/users/[email]/orders?utm_term=[phone]"
        );
        assert_eq!(path, "/users/[email]/orders");
    }

    #[test]
    fn a_url_without_a_path_has_the_root_path() {
        assert_eq!(
            anonymized("https://shop.example?utm_medium=cpc"),
            (
                "https://shop.example/?utm_medium=cpc".to_owned(),
                "/".to_owned()
            )
        );
        assert_eq!(anonymized("https://shop.example").1, "/");
    }

    #[test]
    fn relative_urls_keep_their_path() {
        assert_eq!(
            anonymized("/docs/start?session=42#top"),
            ("/docs/start".to_owned(), "/docs/start".to_owned())
        );
    }

    #[test]
    fn opaque_urls_keep_only_their_scheme() {
        assert_eq!(anonymized("mailto:jane@example.com").0, "mailto:");
        assert_eq!(anonymized("tel:+15551234567").0, "tel:");
    }
}
