//! Which pages show buying intent: pricing, demo/trial/sign-up and contact/quote pages,
//! recognised by the words of their path segments.
//!
//! A segment matches when, ignoring case, `-`, `_` and a file extension, it is one of the words
//! (`/pricing`, `/Sign-Up`, `/contact.html`), or when its first or last dash-separated word is
//! (`/contact-us`, `/book-a-demo`, `/free-trial`). Words in the middle do not count, so
//! `/blog/how-to-plan-a-launch` is not a pricing page.

use super::IntentKind;

const PRICING_WORDS: [&str; 10] = [
    "pricing", "price", "prices", "plans", "plan", "buy", "checkout", "cart", "purchase", "upgrade",
];
const DEMO_WORDS: [&str; 6] = ["demo", "demos", "trial", "signup", "register", "getstarted"];
const CONTACT_WORDS: [&str; 5] = ["contact", "contactus", "quote", "sales", "talktosales"];

const PAGE_EXTENSIONS: [&str; 5] = ["html", "htm", "php", "aspx", "jsp"];

/// Longest segment looked at; longer ones are slugs of articles, not pricing pages.
const MAX_SEGMENT_BYTES: usize = 48;

/// Longest path counted as its own page in the site's page views; a longer one is counted under
/// its first this-many bytes (cut at a character boundary). The page counter's key is the path,
/// and a store key has a bound (DynamoDB: 1,024 bytes of sort key), while a URL may hold 2,048.
pub const MAX_COUNTED_PATH_BYTES: usize = 512;

/// The path a page view is counted under: `path` itself, or its first
/// [`MAX_COUNTED_PATH_BYTES`] bytes.
pub fn counted_path(path: &str) -> &str {
    let mut end = path.len().min(MAX_COUNTED_PATH_BYTES);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

/// The intent page kind of a path, if any. The last matching segment wins: it is the most
/// specific (`/demo/pricing.html` is a pricing page of a site section called demo).
pub fn intent_page_kind(path: &str) -> Option<IntentKind> {
    path.rsplit('/').find_map(segment_kind)
}

fn segment_kind(segment: &str) -> Option<IntentKind> {
    if segment.is_empty() || segment.len() > MAX_SEGMENT_BYTES {
        return None;
    }
    let segment = strip_extension(segment);
    let mut buffer = [0u8; MAX_SEGMENT_BYTES];
    let mut length = 0;
    for byte in segment.bytes().filter(|byte| !matches!(byte, b'-' | b'_')) {
        buffer[length] = byte.to_ascii_lowercase();
        length += 1;
    }
    if let Some(kind) = word_kind(&buffer[..length]) {
        return Some(kind);
    }
    let mut words = segment.split(['-', '_']).filter(|word| !word.is_empty());
    let first = words.next()?;
    let last = words.next_back();
    word_kind(first.as_bytes()).or_else(|| last.and_then(|last| word_kind(last.as_bytes())))
}

fn strip_extension(segment: &str) -> &str {
    match segment.rsplit_once('.') {
        Some((stem, extension))
            if PAGE_EXTENSIONS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(extension)) =>
        {
            stem
        }
        _ => segment,
    }
}

fn word_kind(word: &[u8]) -> Option<IntentKind> {
    let is_any = |words: &[&str]| {
        words
            .iter()
            .any(|candidate| candidate.as_bytes().eq_ignore_ascii_case(word))
    };
    if is_any(&PRICING_WORDS) {
        Some(IntentKind::PricingView)
    } else if is_any(&DEMO_WORDS) {
        Some(IntentKind::DemoView)
    } else if is_any(&CONTACT_WORDS) {
        Some(IntentKind::ContactView)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pricing_demo_and_contact_pages_are_recognised() {
        let cases = [
            ("/pricing", Some(IntentKind::PricingView)),
            ("/en/Pricing-Plans", Some(IntentKind::PricingView)),
            ("/checkout/step-2", Some(IntentKind::PricingView)),
            ("/book-a-demo", Some(IntentKind::DemoView)),
            ("/sign-up", Some(IntentKind::DemoView)),
            ("/free-trial.html", Some(IntentKind::DemoView)),
            ("/contact-us", Some(IntentKind::ContactView)),
            ("/get-a-quote", Some(IntentKind::ContactView)),
            ("/demo/pricing.html", Some(IntentKind::PricingView)),
            ("/demo/contact.html", Some(IntentKind::ContactView)),
            ("/pricing/book-a-demo", Some(IntentKind::DemoView)),
        ];
        for (path, expected) in cases {
            assert_eq!(intent_page_kind(path), expected, "{path}");
        }
    }

    #[test]
    fn ordinary_pages_and_words_in_the_middle_of_slugs_are_not_intent_pages() {
        for path in [
            "/",
            "/blog/how-to-plan-a-launch",
            "/docs/api",
            "/pricingless",
            "/[phone]",
        ] {
            assert_eq!(intent_page_kind(path), None, "{path}");
        }
    }

    #[test]
    fn long_paths_are_counted_under_their_first_bytes_cut_at_a_character() {
        assert_eq!(counted_path("/pricing"), "/pricing");
        let exact = format!("/{}", "a".repeat(MAX_COUNTED_PATH_BYTES - 1));
        assert_eq!(counted_path(&exact), exact);
        let long = format!("/{}", "a".repeat(3_000));
        assert_eq!(counted_path(&long), &long[..MAX_COUNTED_PATH_BYTES]);
        // "ü" is two bytes: the 512th byte would split the one that straddles the bound.
        let wide = format!("/{}", "ü".repeat(600));
        let counted = counted_path(&wide);
        assert_eq!(counted.len(), MAX_COUNTED_PATH_BYTES - 1);
        assert!(wide.starts_with(counted));
    }
}
