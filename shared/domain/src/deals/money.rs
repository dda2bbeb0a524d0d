//! Exact money: an integer count of minor units (cents) and the currency they are counted in.
//! Amounts are never floats; their decimal form is derived from the currency's exponent.

use serde::{Deserialize, Serialize};

use super::currency::Currency;

/// An amount in minor units of `currency` (`12345` EUR is 123.45 €).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal number such as \"1234.50\"")]
    NotDecimal,
    #[error("has more than {0} digits after the decimal point for this currency")]
    TooPrecise(u8),
    #[error("is too large")]
    TooLarge,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    /// Parses a plain decimal (`"1234"`, `"1234.5"`, `"-0.25"`): no exponent, no grouping, at most
    /// as many fractional digits as the currency has; missing digits are zeros.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (unsigned, ""),
        };
        let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (unsigned.contains('.') && fraction.is_empty())
        {
            return Err(MoneyError::NotDecimal);
        }
        let exponent = usize::from(currency.exponent());
        if fraction.len() > exponent {
            return Err(MoneyError::TooPrecise(currency.exponent()));
        }
        // Digits are checked above, so parsing fails only by overflow.
        let whole: i128 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        let padded = format!("{fraction:0<exponent$}");
        let fraction: i128 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let magnitude = whole
            .checked_mul(currency.minor_per_major())
            .and_then(|minor| minor.checked_add(fraction))
            .ok_or(MoneyError::TooLarge)?;
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed)
            .map(|minor| Money::new(minor, currency))
            .map_err(|_| MoneyError::TooLarge)
    }

    /// The decimal form with exactly the currency's number of fractional digits.
    pub fn to_decimal(self) -> String {
        format_minor(i128::from(self.minor), self.currency)
    }
}

/// Formats any count of minor units (sums may exceed `i64`) as a decimal string.
pub fn format_minor(minor: i128, currency: Currency) -> String {
    let exponent = usize::from(currency.exponent());
    let sign = if minor < 0 { "-" } else { "" };
    let digits = format!("{:0>width$}", minor.unsigned_abs(), width = exponent + 1);
    if exponent == 0 {
        return format!("{sign}{digits}");
    }
    let (whole, fraction) = digits.split_at(digits.len() - exponent);
    format!("{sign}{whole}.{fraction}")
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn decimals_become_minor_units_by_the_currency_exponent() {
        assert_eq!(
            Money::parse_decimal("1234.5", eur()).unwrap().minor,
            123_450
        );
        assert_eq!(Money::parse_decimal("7", eur()).unwrap().minor, 700);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_decimal("1500", jpy).unwrap().minor, 1500);
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse_decimal("1.5", kwd).unwrap().minor, 1500);
        assert_eq!(Money::parse_decimal("-0.25", eur()).unwrap().minor, -25);
    }

    #[test]
    fn malformed_or_too_precise_decimals_are_refused() {
        for bad in ["", ".5", "1.", "1,5", "1e3", "+1", " 1", "1.2.3", "--1"] {
            assert_eq!(
                Money::parse_decimal(bad, eur()),
                Err(MoneyError::NotDecimal),
                "{bad}"
            );
        }
        assert_eq!(
            Money::parse_decimal("1.234", eur()),
            Err(MoneyError::TooPrecise(2))
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            Money::parse_decimal("1.5", jpy),
            Err(MoneyError::TooPrecise(0))
        );
        assert_eq!(
            Money::parse_decimal("99999999999999999999", eur()),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn minor_units_format_with_the_currency_exponent() {
        assert_eq!(Money::new(5, eur()).to_decimal(), "0.05");
        assert_eq!(Money::new(-123_456, eur()).to_decimal(), "-1234.56");
        assert_eq!(
            Money::new(42, Currency::parse("JPY").unwrap()).to_decimal(),
            "42"
        );
        assert_eq!(
            Money::new(1, Currency::parse("BHD").unwrap()).to_decimal(),
            "0.001"
        );
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_same_amount(minor in any::<i64>()) {
            let money = Money::new(minor, eur());
            prop_assert_eq!(Money::parse_decimal(&money.to_decimal(), eur()), Ok(money));
        }
    }
}
