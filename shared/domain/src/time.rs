//! Time as plain numbers: the caller owns the clock.

use serde::{Deserialize, Serialize};

pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// Days since the Unix epoch (UTC): the unit of salt rotation and daily aggregates.
    pub fn day(self) -> i64 {
        self.0.div_euclid(MILLIS_PER_DAY)
    }

    pub fn saturating_sub(self, other: Millis) -> i64 {
        self.0.saturating_sub(other.0)
    }
}
