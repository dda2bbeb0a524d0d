//! Win probability in whole percent.

use serde::{Deserialize, Serialize};

/// 0..=100 percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Probability(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole percentage from 0 to 100")]
pub struct InvalidProbability;

impl Probability {
    pub const ZERO: Probability = Probability(0);
    pub const CERTAIN: Probability = Probability(100);

    pub fn new(percent: i64) -> Result<Probability, InvalidProbability> {
        u8::try_from(percent)
            .ok()
            .filter(|p| *p <= 100)
            .map(Probability)
            .ok_or(InvalidProbability)
    }

    pub fn percent(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Probability {
    type Error = InvalidProbability;
    fn try_from(percent: i64) -> Result<Self, Self::Error> {
        Probability::new(percent)
    }
}

impl From<Probability> for u8 {
    fn from(probability: Probability) -> u8 {
        probability.0
    }
}
