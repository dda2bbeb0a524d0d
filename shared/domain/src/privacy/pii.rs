//! PII masking: e-mail addresses, phone numbers and card numbers in free text become `[email]`,
//! `[phone]` and `[card]`.
//!
//! Two hand-written passes instead of regular expressions (the crate ships as wasm and every byte
//! counts): first e-mail addresses (anchored on `@` or its URL escape `%40`), then runs of digits.
//! A run of at least seven digits, possibly split by spaces, dashes, dots, parentheses or their URL
//! escapes, is a phone number unless it is a card number (13–19 digits passing the Luhn check);
//! cards are checked first. ISO dates (`2024-01-15`) are kept. Text without `@`, `%` or seven
//! digits is returned borrowed, without allocating.

use std::borrow::Cow;

pub const EMAIL_MASK: &str = "[email]";
pub const PHONE_MASK: &str = "[phone]";
pub const CARD_MASK: &str = "[card]";

/// The fewest digits taken for a phone number: local numbers have seven, smaller numbers
/// (prices, counts, years) are common in titles and paths and say nothing about a person.
pub const MIN_PHONE_DIGITS: usize = 7;
/// Card numbers (PANs) have 13 to 19 digits.
pub const CARD_DIGITS: std::ops::RangeInclusive<usize> = 13..=19;
/// Separators allowed in a row inside one number, e.g. `) ` in `(555) 123-4567`.
const MAX_SEPARATORS_IN_A_ROW: usize = 3;

/// Masks e-mail addresses, phone numbers and card numbers; borrows when nothing is found.
pub fn mask_pii(text: &str) -> Cow<'_, str> {
    let mut digits = 0usize;
    let mut email_marker = false;
    for &byte in text.as_bytes() {
        if byte.is_ascii_digit() {
            digits += 1;
        } else if byte == b'@' || byte == b'%' {
            email_marker = true;
        }
    }
    let without_emails = if email_marker {
        mask_emails(text)
    } else {
        Cow::Borrowed(text)
    };
    if digits < MIN_PHONE_DIGITS {
        return without_emails;
    }
    match without_emails {
        Cow::Borrowed(text) => mask_numbers(text),
        Cow::Owned(text) => match mask_numbers(&text) {
            Cow::Borrowed(_) => Cow::Owned(text),
            Cow::Owned(masked) => Cow::Owned(masked),
        },
    }
}

/// Masks in place; allocates only when something is masked.
pub fn mask_pii_in_place(text: &mut String) {
    if let Cow::Owned(masked) = mask_pii(text) {
        *text = masked;
    }
}

/// Whether the text holds anything [`mask_pii`] would mask.
pub fn contains_pii(text: &str) -> bool {
    matches!(mask_pii(text), Cow::Owned(_))
}

fn is_local_part_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'%' | b'+' | b'-') || byte >= 0x80
}

fn is_domain_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-') || byte >= 0x80
}

/// The length of an at-sign marker at `index`: `@` (1) or `%40` (3), else 0.
fn at_sign_len(bytes: &[u8], index: usize) -> usize {
    match bytes[index] {
        b'@' => 1,
        b'%' if bytes.get(index + 1) == Some(&b'4') && bytes.get(index + 2) == Some(&b'0') => 3,
        _ => 0,
    }
}

fn mask_emails(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut masked: Option<String> = None;
    // Everything before `copied` is already in `masked`.
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        let marker = at_sign_len(bytes, index);
        if marker == 0 {
            index += 1;
            continue;
        }
        let mut local_start = index;
        while local_start > copied && is_local_part_byte(bytes[local_start - 1]) {
            local_start -= 1;
        }
        let mut domain_end = index + marker;
        while domain_end < bytes.len() && is_domain_byte(bytes[domain_end]) {
            domain_end += 1;
        }
        // A sentence may end right after the address: its full stop is not part of it.
        while domain_end > index + marker && matches!(bytes[domain_end - 1], b'.' | b'-') {
            domain_end -= 1;
        }
        if local_start == index || domain_end == index + marker {
            index += marker;
            continue;
        }
        // Boundaries sit on ASCII bytes or the ends of the text, so they are char boundaries.
        let out = masked.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..local_start]);
        out.push_str(EMAIL_MASK);
        copied = domain_end;
        index = domain_end;
    }
    match masked {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The length of a separator inside a number at `index` (a space, dash, dot, parenthesis, plus,
/// or the URL escape of one of them), else 0.
fn separator_len(bytes: &[u8], index: usize) -> usize {
    match bytes[index] {
        b' ' | b'\t' | b'-' | b'.' | b'(' | b')' | b'+' => 1,
        b'%' => match (
            bytes.get(index + 1),
            bytes.get(index + 2).map(u8::to_ascii_uppercase),
        ) {
            (Some(b'2'), Some(b'0' | b'8' | b'9' | b'B' | b'D' | b'E')) => 3,
            _ => 0,
        },
        _ => 0,
    }
}

/// The length of a prefix that may open a number: `+`, `(`, `%2B`, `%28`.
fn number_opening_len(bytes: &[u8], index: usize) -> usize {
    match bytes[index] {
        b'+' | b'(' => 1,
        b'%' => match (
            bytes.get(index + 1),
            bytes.get(index + 2).map(u8::to_ascii_uppercase),
        ) {
            (Some(b'2'), Some(b'8' | b'B')) => 3,
            _ => 0,
        },
        _ => 0,
    }
}

/// `19xx-mm-dd` or `20xx-mm-dd` not followed by another digit.
fn iso_date_len(bytes: &[u8], index: usize) -> usize {
    let Some(candidate) = bytes.get(index..index + 10) else {
        return 0;
    };
    let shape_matches = candidate
        .iter()
        .enumerate()
        .all(|(position, byte)| match position {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    let plausible_year = matches!(&candidate[..2], b"19" | b"20");
    let next_is_digit = bytes.get(index + 10).is_some_and(u8::is_ascii_digit);
    if shape_matches && plausible_year && !next_is_digit {
        10
    } else {
        0
    }
}

struct DigitRun {
    end: usize,
    digits: usize,
    luhn_valid: bool,
}

/// Reads digits and separators from `start` (a digit); the run ends after its last digit.
fn read_digit_run(bytes: &[u8], start: usize) -> DigitRun {
    let mut index = start;
    let mut end = start;
    let mut separators_in_a_row = 0;
    // Luhn over up to the card maximum, computed from the right: keep the digits.
    let mut digit_values = [0u8; 20];
    let mut digits = 0usize;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_digit() {
            if digits < digit_values.len() {
                digit_values[digits] = byte - b'0';
            }
            digits += 1;
            index += 1;
            end = index;
            separators_in_a_row = 0;
            continue;
        }
        let separator = separator_len(bytes, index);
        if separator == 0 || separators_in_a_row == MAX_SEPARATORS_IN_A_ROW {
            break;
        }
        separators_in_a_row += 1;
        index += separator;
    }
    let luhn_valid = CARD_DIGITS.contains(&digits) && passes_luhn(&digit_values[..digits]);
    DigitRun {
        end,
        digits,
        luhn_valid,
    }
}

/// The Luhn checksum that every payment card number satisfies.
pub fn passes_luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn mask_numbers(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut masked: Option<String> = None;
    let mut copied = 0;
    let mut index = 0;
    while index < bytes.len() {
        let opening = number_opening_len(bytes, index);
        if opening == 0 && separator_len(bytes, index) == 3 {
            // `%20` and friends: their digits are an escape, not part of a number.
            index += 3;
            continue;
        }
        let digit_at = index + opening;
        if digit_at >= bytes.len() || !bytes[digit_at].is_ascii_digit() {
            index += 1;
            continue;
        }
        // Only a digit that does not continue an earlier run may start one.
        let date = if opening == 0 {
            iso_date_len(bytes, digit_at)
        } else {
            0
        };
        if date > 0 {
            index = digit_at + date;
            continue;
        }
        let run = read_digit_run(bytes, digit_at);
        if run.digits < MIN_PHONE_DIGITS {
            index = run.end;
            continue;
        }
        let mask = if run.luhn_valid {
            CARD_MASK
        } else {
            PHONE_MASK
        };
        let out = masked.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..index]);
        out.push_str(mask);
        copied = run.end;
        index = run.end;
    }
    match masked {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Cuts `text` to at most `max_chars` characters (on a char boundary).
pub fn truncate_chars(text: &mut String, max_chars: usize) {
    if text.len() <= max_chars {
        return;
    }
    if let Some((byte_index, _)) = text.char_indices().nth(max_chars) {
        text.truncate(byte_index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        mask_pii(text).into_owned()
    }

    #[test]
    fn plain_text_is_borrowed_untouched() {
        assert!(matches!(
            mask_pii("Pricing – Pro plan, 3 seats for 49 €"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn email_addresses_are_masked() {
        assert_eq!(
            masked("write to jane.doe+crm@example.co.uk."),
            "write to [email]."
        );
        assert_eq!(
            masked("a@b.co and x_y@sub.example.org"),
            "[email] and [email]"
        );
    }

    #[test]
    fn percent_encoded_email_in_a_query_is_masked() {
        assert_eq!(
            masked("/signup?email=jane%40example.com&x=1"),
            "/signup?email=[email]&x=1"
        );
    }

    #[test]
    fn a_lone_at_sign_or_handle_is_kept() {
        assert_eq!(masked("@jane says hi @ noon"), "@jane says hi @ noon");
    }

    #[test]
    fn phone_numbers_in_common_formats_are_masked() {
        for phone in [
            "+1 555 123 4567",
            "(555) 123-4567",
            "555-123-4567",
            "+44 20 7946 0958",
            "5551234567",
            "555.123.4567",
        ] {
            assert_eq!(
                masked(&format!("call {phone} now")),
                "call [phone] now",
                "{phone}"
            );
        }
    }

    #[test]
    fn url_encoded_phone_numbers_are_masked() {
        assert_eq!(masked("q=call%20555%20123%204567"), "q=call%20[phone]");
        assert_eq!(masked("/call/%2B15551234567"), "/call/[phone]");
    }

    #[test]
    fn small_numbers_and_iso_dates_are_kept() {
        assert_eq!(
            masked("Order 12 of 345, posted 2024-01-15, 99.95 USD"),
            "Order 12 of 345, posted 2024-01-15, 99.95 USD"
        );
        assert_eq!(masked("/blog/2024/01/15/launch"), "/blog/2024/01/15/launch");
    }

    #[test]
    fn luhn_valid_card_numbers_are_masked_as_cards() {
        assert_eq!(masked("card 4111 1111 1111 1111 exp"), "card [card] exp");
        assert_eq!(masked("4111-1111-1111-1111"), "[card]");
        assert_eq!(masked("378282246310005"), "[card]");
    }

    #[test]
    fn long_digit_runs_failing_luhn_are_still_masked() {
        assert_eq!(masked("4111 1111 1111 1112"), "[phone]");
    }

    #[test]
    fn luhn_checks_known_numbers() {
        let digits = |text: &str| text.bytes().map(|byte| byte - b'0').collect::<Vec<_>>();
        assert!(passes_luhn(&digits("79927398713")));
        assert!(!passes_luhn(&digits("79927398710")));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let mut text = "héllo wörld".to_owned();
        truncate_chars(&mut text, 7);
        assert_eq!(text, "héllo w");
    }

    #[test]
    fn non_ascii_text_around_pii_survives() {
        assert_eq!(
            masked("Grüße an jürgen@bei.de, Tel. 030 1234567"),
            "Grüße an [email], Tel. [phone]"
        );
    }
}
