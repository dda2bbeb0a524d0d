//! What every score is made of: factors, each 0–100, weighted by integer weights that sum to
//! 100. The breakdown travels with the score so an admin can recompute it by hand.

use serde::{Deserialize, Serialize};

/// The name of a factor of the lead or the health score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorName {
    // Lead score.
    Fit,
    Behavioral,
    Engagement,
    Intent,
    Timing,
    // Health score.
    Usage,
    Support,
    Payment,
    Relationship,
}

/// One line of a score's breakdown: `points = value × weight / 100`, and the score is the sum
/// of the points (rounded to one decimal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub name: FactorName,
    /// 0–100, one decimal.
    pub value: f64,
    /// Percent of the score; the weights of one score sum to 100.
    pub weight: u8,
    /// `value × weight / 100`, unrounded.
    pub points: f64,
}

impl Factor {
    pub fn new(name: FactorName, value: f64, weight: u8) -> Factor {
        Factor {
            name,
            value,
            weight,
            points: value * f64::from(weight) / 100.0,
        }
    }
}

/// The weighted sum of a breakdown, clamped to 0–100 and rounded to one decimal.
pub fn total(factors: &[Factor]) -> f64 {
    let sum: f64 = factors.iter().map(|factor| factor.points).sum();
    round1(sum.clamp(0.0, 100.0))
}

/// One decimal, the precision of every score and factor.
pub fn round1(value: f64) -> f64 {
    if value.is_finite() {
        (value * 10.0).round() / 10.0
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("the weights must sum to 100, not {0}")]
    Sum(u32),
}

/// Checks that integer weights sum to exactly 100.
pub fn check_sum(weights: &[u8]) -> Result<(), WeightsError> {
    let sum: u32 = weights.iter().map(|weight| u32::from(*weight)).sum();
    if sum == 100 {
        Ok(())
    } else {
        Err(WeightsError::Sum(sum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_the_sum_of_the_points_rounded_to_one_decimal() {
        let factors = [
            Factor::new(FactorName::Fit, 50.0, 30),
            Factor::new(FactorName::Intent, 33.3, 70),
        ];
        assert_eq!(factors[0].points, 15.0);
        assert_eq!(total(&factors), 38.3);
    }

    #[test]
    fn weights_that_do_not_sum_to_100_are_rejected() {
        assert_eq!(check_sum(&[30, 25, 20, 15, 10]), Ok(()));
        assert_eq!(
            check_sum(&[30, 25, 20, 15, 11]),
            Err(WeightsError::Sum(101))
        );
        assert_eq!(check_sum(&[]), Err(WeightsError::Sum(0)));
    }
}
