//! The two shapes every score is built from: a saturating curve and one-decimal rounding.
//!
//! Saturation makes the first signals count most and keeps any score below 100 however many
//! events a visitor sends, so one noisy visitor cannot dominate an average.

/// `1 − e^(−x/k)`: 0 at `x = 0`, 63 % at `x = k`, 86 % at `2k`, 95 % at `3k`, never 1.
pub fn saturate(x: f64, k: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || k <= 0.0 {
        return 0.0;
    }
    // e^(−∞) is 0, so an infinite signal saturates to exactly 1.
    1.0 - (-x / k).exp()
}

/// A 0..=1 fraction as a 0..=100 score rounded to one decimal.
pub fn to_score(fraction: f64) -> f64 {
    let clamped = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (clamped * 1000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_starts_at_zero_and_reaches_63_percent_at_k() {
        assert_eq!(saturate(0.0, 5.0), 0.0);
        assert!((saturate(5.0, 5.0) - 0.632).abs() < 0.001);
        assert!(saturate(1e9, 5.0) <= 1.0);
        assert_eq!(saturate(-3.0, 5.0), 0.0);
        assert_eq!(saturate(f64::INFINITY, 5.0), 1.0);
    }

    #[test]
    fn scores_are_rounded_to_one_decimal_and_bounded() {
        assert_eq!(to_score(0.12345), 12.3);
        assert_eq!(to_score(1.7), 100.0);
        assert_eq!(to_score(f64::NAN), 0.0);
    }
}
