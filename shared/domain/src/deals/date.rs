//! Calendar dates (UTC, proleptic Gregorian) as a day count, for expected close dates and
//! forecast periods. Kept here rather than pulling a date library into the wasm build.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{MILLIS_PER_DAY, Millis};

/// Days since 1970-01-01. Written and read as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a date written YYYY-MM-DD")]
pub struct InvalidDate;

impl Date {
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    pub fn days(self) -> i32 {
        self.0
    }

    /// The UTC day an instant falls on.
    pub fn of(at: Millis) -> Date {
        // Day counts of years 1..=9999 fit an i32 many times over; clamp the absurd rest.
        Date(at.day().clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }

    /// Midnight UTC at the start of this day.
    pub fn start(self) -> Millis {
        Millis(i64::from(self.0) * MILLIS_PER_DAY)
    }

    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, InvalidDate> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(InvalidDate);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(InvalidDate);
        }
        Ok(Date(days_from_civil(year, month, day)))
    }

    pub fn parse(text: &str) -> Result<Date, InvalidDate> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(InvalidDate);
        }
        let number = |range: std::ops::Range<usize>| {
            text.get(range)
                .and_then(|part| part.parse::<u32>().ok())
                .ok_or(InvalidDate)
        };
        let year = i32::try_from(number(0..4)?).map_err(|_| InvalidDate)?;
        Date::from_ymd(year, number(5..7)?, number(8..10)?)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms: eras of 400 years with March-based years so that
// the leap day comes last.
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = month as i32;
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i32 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_days_round_trip() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(Date::parse("2000-03-01").unwrap().days(), 11_017);
        assert_eq!(Date::parse("2026-02-28").unwrap().to_string(), "2026-02-28");
        assert_eq!(Date::from_days(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "0000-01-01",
            "2026-1-01",
            "2026/01/01",
            "2026-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(Date::parse(bad), Err(InvalidDate), "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_ok());
    }

    #[test]
    fn an_instant_falls_on_its_utc_day() {
        let date = Date::parse("2026-03-15").unwrap();
        assert_eq!(Date::of(date.start()), date);
        assert_eq!(Date::of(Millis(date.start().0 + MILLIS_PER_DAY - 1)), date);
    }

    proptest! {
        #[test]
        fn every_day_formats_and_parses_back(days in -719_162_i32..2_932_896) {
            let date = Date::from_days(days);
            prop_assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }
    }
}
