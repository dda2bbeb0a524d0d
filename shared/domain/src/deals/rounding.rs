//! Exact division with banker's rounding, for every figure derived from sums of money.

/// `numerator / denominator` rounded to the nearest integer, ties to the even neighbour
/// (2.5 → 2, 3.5 → 4, -2.5 → -2). `denominator` must be positive; 0 yields 0 rather than a
/// panic, since callers divide by counts that may be empty.
pub fn div_half_even(numerator: i128, denominator: i128) -> i128 {
    if denominator <= 0 {
        return 0;
    }
    let quotient = numerator.div_euclid(denominator);
    let twice_remainder = numerator.rem_euclid(denominator) * 2;
    match twice_remainder.cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    }
}

/// A ratio as a percentage with one decimal (`1/3` → 33.3), rounded half-even; `None` when
/// nothing was counted. The float only carries an already-rounded figure to JSON.
pub fn percent_tenths(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| div_half_even(i128::from(part) * 1000, i128::from(whole)) as f64 / 10.0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ties_go_to_the_even_neighbour() {
        assert_eq!(div_half_even(5, 2), 2);
        assert_eq!(div_half_even(7, 2), 4);
        assert_eq!(div_half_even(-5, 2), -2);
        assert_eq!(div_half_even(-7, 2), -4);
        assert_eq!(div_half_even(250, 100), 2);
        assert_eq!(div_half_even(350, 100), 4);
        assert_eq!(div_half_even(251, 100), 3);
        assert_eq!(div_half_even(249, 100), 2);
        assert_eq!(div_half_even(1, 0), 0);
    }

    #[test]
    fn percentages_keep_one_rounded_decimal() {
        assert_eq!(percent_tenths(1, 3), Some(33.3));
        assert_eq!(percent_tenths(2, 3), Some(66.7));
        assert_eq!(percent_tenths(1, 8), Some(12.5));
        assert_eq!(percent_tenths(1, 16), Some(6.2));
        assert_eq!(percent_tenths(0, 0), None);
    }

    proptest! {
        #[test]
        fn the_result_is_the_nearest_integer(n in -1_000_000_000_000_i128..1_000_000_000_000, d in 1_i128..1_000_000) {
            let q = div_half_even(n, d);
            // |n - q·d| ≤ d/2, i.e. q is a nearest integer to n/d.
            prop_assert!((n - q * d).abs() * 2 <= d);
            // On an exact tie the even one is chosen.
            if (n - q * d).abs() * 2 == d {
                prop_assert_eq!(q.rem_euclid(2), 0);
            }
        }
    }
}
