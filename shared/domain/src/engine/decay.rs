//! Exponential decay with a half-life: a behavior-derived value read at `now` is
//! `value × 0.5^(elapsed / half-life)`, computed exactly from the last update time, so reading
//! it never needs a job and decaying twice equals decaying once over the sum of the times.

use serde::{Deserialize, Serialize};

use crate::time::{MILLIS_PER_DAY, Millis};

/// A positive half-life, held in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct HalfLife(i64);

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum HalfLifeError {
    #[error("a half-life must be a positive number of days of at least one second, not {0}")]
    NotPositive(f64),
}

impl HalfLife {
    /// A half-life of `days` (fractions allowed); at least one second, at most 100 years.
    pub fn from_days(days: f64) -> Result<HalfLife, HalfLifeError> {
        let millis = days * MILLIS_PER_DAY as f64;
        if !millis.is_finite() || millis < 1000.0 || days > 36_500.0 {
            return Err(HalfLifeError::NotPositive(days));
        }
        Ok(HalfLife(millis.round() as i64))
    }

    pub fn days(self) -> f64 {
        self.0 as f64 / MILLIS_PER_DAY as f64
    }

    pub fn millis(self) -> i64 {
        self.0
    }
}

impl TryFrom<f64> for HalfLife {
    type Error = HalfLifeError;

    fn try_from(days: f64) -> Result<HalfLife, HalfLifeError> {
        HalfLife::from_days(days)
    }
}

impl From<HalfLife> for f64 {
    fn from(half_life: HalfLife) -> f64 {
        half_life.days()
    }
}

/// Default half-life of intent: a week.
pub const INTENT_HALF_LIFE_DAYS: f64 = 7.0;
/// Default half-life of engagement: a month.
pub const ENGAGEMENT_HALF_LIFE_DAYS: f64 = 30.0;

/// The half-lives of the decaying scores (configuration; in days when serialized).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HalfLives {
    pub intent: HalfLife,
    pub engagement: HalfLife,
}

impl Default for HalfLives {
    fn default() -> HalfLives {
        HalfLives {
            intent: HalfLife(days_to_millis(INTENT_HALF_LIFE_DAYS)),
            engagement: HalfLife(days_to_millis(ENGAGEMENT_HALF_LIFE_DAYS)),
        }
    }
}

fn days_to_millis(days: f64) -> i64 {
    (days * MILLIS_PER_DAY as f64) as i64
}

/// `0.5^(elapsed / half-life)`: 1 when `now` is not after `last_update`.
pub fn decay_factor(last_update: Millis, now: Millis, half_life: HalfLife) -> f64 {
    let elapsed = now.saturating_sub(last_update).max(0) as f64;
    (-elapsed / half_life.0 as f64).exp2()
}

/// A 0–100 value last updated at `last_update`, as it reads at `now` (unrounded; the value is
/// clamped to 0–100 first).
pub fn decayed(value: f64, last_update: Millis, now: Millis, half_life: HalfLife) -> f64 {
    let value = if value.is_finite() {
        value.clamp(0.0, 100.0)
    } else {
        0.0
    };
    value * decay_factor(last_update, now, half_life)
}

/// A decaying value as stored: what it was at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decaying {
    pub value: f64,
    pub at: Millis,
}

impl Decaying {
    pub fn value_at(self, now: Millis, half_life: HalfLife) -> f64 {
        decayed(self.value, self.at, now, half_life)
    }

    /// The value materialized at `now` (what the decay job stores so lists sort correctly).
    pub fn materialize(self, now: Millis, half_life: HalfLife) -> Decaying {
        if now <= self.at {
            return self;
        }
        Decaying {
            value: self.value_at(now, half_life),
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = Millis(1_763_700_000_000);

    fn days(n: i64) -> Millis {
        Millis(T0.0 + n * MILLIS_PER_DAY)
    }

    #[test]
    fn one_half_life_halves_the_value_and_two_quarter_it() {
        let week = HalfLives::default().intent;
        assert_eq!(decayed(80.0, T0, days(7), week), 40.0);
        assert_eq!(decayed(80.0, T0, days(14), week), 20.0);
        assert_eq!(decayed(80.0, T0, T0, week), 80.0);
    }

    #[test]
    fn a_read_before_the_last_update_does_not_grow_the_value() {
        let month = HalfLives::default().engagement;
        assert_eq!(decayed(60.0, days(3), T0, month), 60.0);
    }

    #[test]
    fn half_lives_must_be_positive() {
        assert!(HalfLife::from_days(0.0).is_err());
        assert!(HalfLife::from_days(-1.0).is_err());
        assert!(HalfLife::from_days(f64::NAN).is_err());
        assert_eq!(HalfLife::from_days(7.0), Ok(HalfLives::default().intent));
        let parsed: HalfLives =
            serde_json::from_str(r#"{"intent": 3.5, "engagement": 30}"#).unwrap();
        assert_eq!(parsed.intent.days(), 3.5);
        assert!(serde_json::from_str::<HalfLives>(r#"{"intent": 0, "engagement": 30}"#).is_err());
    }

    #[test]
    fn materializing_twice_reads_the_same_as_once() {
        let week = HalfLives::default().intent;
        let stored = Decaying {
            value: 64.0,
            at: T0,
        };
        let once = stored.materialize(days(21), week);
        let twice = stored
            .materialize(days(7), week)
            .materialize(days(21), week);
        assert_eq!(once.value, 8.0);
        assert!((once.value - twice.value).abs() < 1e-9);
        assert_eq!(stored.value_at(days(7), week), 32.0);
    }
}
