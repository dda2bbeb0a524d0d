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
}
