//! The health score of a customer, 0–100, as four weighted factors (usage, support, payment,
//! relationship), each 0–100, and the risk level it implies. The inputs are counts over
//! documented windows that the caller takes from the store as of `now`.

use serde::{Deserialize, Serialize};

use super::factor::{Factor, FactorName, WeightsError, check_sum, round1, total};
use crate::scoring::curves::saturate;
use crate::time::Millis;

/// Weights of the four factors, in percent; they sum to 100 (checked on construction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHealthWeights", into = "RawHealthWeights")]
pub struct HealthWeights {
    usage: u8,
    support: u8,
    payment: u8,
    relationship: u8,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealthWeights {
    usage: u8,
    support: u8,
    payment: u8,
    relationship: u8,
}

impl HealthWeights {
    pub fn new(
        usage: u8,
        support: u8,
        payment: u8,
        relationship: u8,
    ) -> Result<HealthWeights, WeightsError> {
        check_sum(&[usage, support, payment, relationship])?;
        Ok(HealthWeights {
            usage,
            support,
            payment,
            relationship,
        })
    }
}

impl Default for HealthWeights {
    /// 35 / 25 / 20 / 20.
    fn default() -> HealthWeights {
        HealthWeights {
            usage: 35,
            support: 25,
            payment: 20,
            relationship: 20,
        }
    }
}

impl TryFrom<RawHealthWeights> for HealthWeights {
    type Error = WeightsError;

    fn try_from(raw: RawHealthWeights) -> Result<HealthWeights, WeightsError> {
        HealthWeights::new(raw.usage, raw.support, raw.payment, raw.relationship)
    }
}

impl From<HealthWeights> for RawHealthWeights {
    fn from(weights: HealthWeights) -> RawHealthWeights {
        RawHealthWeights {
            usage: weights.usage,
            support: weights.support,
            payment: weights.payment,
            relationship: weights.relationship,
        }
    }
}

/// Windows of the counted inputs, in days ending at `now`.
pub const USAGE_WINDOW_DAYS: i64 = 30;
pub const SUPPORT_WINDOW_DAYS: i64 = 90;
pub const RELATIONSHIP_WINDOW_DAYS: i64 = 90;

/// What the health score reads. Counts are over the windows above.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthInputs {
    /// The engagement factor of the contact's lead score as of `now` (0–100, decayed).
    pub engagement: f64,
    /// Distinct days with a visit or interaction in the last 30 days.
    pub active_days: u32,
    /// Complaints in the last 90 days (interactions the team marked as complaints).
    pub complaints: u32,
    /// Interactions with negative sentiment in the last 90 days (complaints not counted again).
    pub negative_interactions: u32,
    /// Deals won, ever.
    pub deals_won: u32,
    /// Deals or invoices flagged overdue, now.
    pub overdue: u32,
    /// Interactions in the last 90 days.
    pub interactions: u32,
    /// The latest Net Promoter answer (0–10), if the customer gave one.
    pub nps: Option<u8>,
}

/// Health below which the risk level is critical, high, medium; at or above `medium`: low.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskThresholds {
    pub critical: f64,
    pub high: f64,
    pub medium: f64,
}

impl Default for RiskThresholds {
    /// Below 25 critical, below 50 high, below 70 medium, else low.
    fn default() -> RiskThresholds {
        RiskThresholds {
            critical: 25.0,
            high: 50.0,
            medium: 70.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthConfig {
    pub weights: HealthWeights,
    pub risk: RiskThresholds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub fn of(health: f64, thresholds: &RiskThresholds) -> RiskLevel {
        if health < thresholds.critical {
            RiskLevel::Critical
        } else if health < thresholds.high {
            RiskLevel::High
        } else if health < thresholds.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

/// A health score with its breakdown (usage, support, payment, relationship) and risk level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthScore {
    pub score: f64,
    pub factors: Vec<Factor>,
    pub risk: RiskLevel,
}

pub const USAGE_ENGAGEMENT: f64 = 0.6;
pub const USAGE_ACTIVE_DAYS: f64 = 0.4;
pub const USAGE_ACTIVE_DAYS_K: f64 = 6.0;
pub const SUPPORT_POINTS_PER_COMPLAINT: f64 = 2.0;
pub const SUPPORT_POINTS_PER_NEGATIVE: f64 = 1.0;
pub const SUPPORT_POINTS_K: f64 = 3.0;
pub const PAYMENT_BASE: f64 = 0.5;
pub const PAYMENT_WINS_K: f64 = 2.0;
pub const RELATIONSHIP_INTERACTIONS_K: f64 = 4.0;

pub fn health_score(inputs: &HealthInputs, config: &HealthConfig) -> HealthScore {
    let weights = config.weights;
    let factors = vec![
        Factor::new(FactorName::Usage, usage(inputs), weights.usage),
        Factor::new(FactorName::Support, support(inputs), weights.support),
        Factor::new(FactorName::Payment, payment(inputs), weights.payment),
        Factor::new(
            FactorName::Relationship,
            relationship(inputs),
            weights.relationship,
        ),
    ];
    let score = total(&factors);
    HealthScore {
        score,
        factors,
        risk: RiskLevel::of(score, &config.risk),
    }
}

/// `100 × (0.6·engagement / 100 + 0.4·sat(active days, 6))`.
pub fn usage(inputs: &HealthInputs) -> f64 {
    let engagement = if inputs.engagement.is_finite() {
        inputs.engagement.clamp(0.0, 100.0) / 100.0
    } else {
        0.0
    };
    score(
        USAGE_ENGAGEMENT * engagement
            + USAGE_ACTIVE_DAYS * saturate(f64::from(inputs.active_days), USAGE_ACTIVE_DAYS_K),
    )
}

/// `100 × e^(−(2·complaints + negative interactions) / 3)`: 100 without trouble.
pub fn support(inputs: &HealthInputs) -> f64 {
    let points = SUPPORT_POINTS_PER_COMPLAINT * f64::from(inputs.complaints)
        + SUPPORT_POINTS_PER_NEGATIVE * f64::from(inputs.negative_interactions);
    score(1.0 - saturate(points, SUPPORT_POINTS_K))
}

/// `100 × (0.5 + 0.5·sat(deals won, 2)) × 0.5^overdue`: each overdue flag halves it.
pub fn payment(inputs: &HealthInputs) -> f64 {
    let wins =
        PAYMENT_BASE + (1.0 - PAYMENT_BASE) * saturate(f64::from(inputs.deals_won), PAYMENT_WINS_K);
    score(wins * (-f64::from(inputs.overdue)).exp2())
}

/// `100 × sat(interactions, 4)`, or with an NPS answer
/// `100 × (0.5·sat(interactions, 4) + 0.5·nps / 10)`.
pub fn relationship(inputs: &HealthInputs) -> f64 {
    let contact = saturate(f64::from(inputs.interactions), RELATIONSHIP_INTERACTIONS_K);
    match inputs.nps {
        Some(nps) => score(0.5 * contact + 0.5 * f64::from(nps.min(10)) / 10.0),
        None => score(contact),
    }
}

/// Since when the risk has been critical without a break: set when it becomes critical, kept
/// while it stays critical, cleared otherwise. The churn rule reads it.
pub fn critical_since(previous: Option<Millis>, risk: RiskLevel, now: Millis) -> Option<Millis> {
    match risk {
        RiskLevel::Critical => Some(previous.unwrap_or(now)),
        _ => None,
    }
}

fn score(fraction: f64) -> f64 {
    round1(100.0 * fraction.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worked_example() -> HealthInputs {
        HealthInputs {
            engagement: 50.0,
            active_days: 6,
            complaints: 1,
            negative_interactions: 1,
            deals_won: 2,
            overdue: 1,
            interactions: 4,
            nps: Some(8),
        }
    }

    #[test]
    fn the_worked_example_scores_as_documented() {
        let health = health_score(&worked_example(), &HealthConfig::default());
        let values: Vec<f64> = health.factors.iter().map(|factor| factor.value).collect();
        assert_eq!(values, vec![55.3, 36.8, 40.8, 71.6]);
        assert_eq!(health.score, 51.0);
        assert_eq!(health.risk, RiskLevel::Medium);
    }

    #[test]
    fn a_quiet_customer_without_trouble_or_wins_is_at_high_risk() {
        let health = health_score(&HealthInputs::default(), &HealthConfig::default());
        // usage 0, support 100, payment 50, relationship 0.
        assert_eq!(health.score, 35.0);
        assert_eq!(health.risk, RiskLevel::High);
    }

    #[test]
    fn complaints_and_negative_sentiment_lower_support() {
        let calm = support(&HealthInputs::default());
        let one_negative = support(&HealthInputs {
            negative_interactions: 1,
            ..HealthInputs::default()
        });
        let one_complaint = support(&HealthInputs {
            complaints: 1,
            ..HealthInputs::default()
        });
        assert_eq!((calm, one_negative, one_complaint), (100.0, 71.7, 51.3));
    }

    #[test]
    fn each_overdue_flag_halves_payment_and_wins_raise_it() {
        let base = HealthInputs {
            deals_won: 1,
            ..HealthInputs::default()
        };
        assert_eq!(payment(&base), 69.7);
        assert_eq!(
            payment(&HealthInputs {
                overdue: 1,
                ..base.clone()
            }),
            34.8
        );
        assert_eq!(
            payment(&HealthInputs {
                deals_won: 0,
                ..base
            }),
            50.0
        );
    }

    #[test]
    fn an_nps_answer_counts_for_half_of_the_relationship() {
        let silent = HealthInputs {
            interactions: 4,
            ..HealthInputs::default()
        };
        assert_eq!(relationship(&silent), 63.2);
        assert_eq!(
            relationship(&HealthInputs {
                nps: Some(10),
                ..silent.clone()
            }),
            81.6
        );
        assert_eq!(
            relationship(&HealthInputs {
                nps: Some(0),
                ..silent
            }),
            31.6
        );
    }

    #[test]
    fn risk_levels_follow_the_thresholds() {
        let thresholds = RiskThresholds::default();
        assert_eq!(RiskLevel::of(24.9, &thresholds), RiskLevel::Critical);
        assert_eq!(RiskLevel::of(25.0, &thresholds), RiskLevel::High);
        assert_eq!(RiskLevel::of(49.9, &thresholds), RiskLevel::High);
        assert_eq!(RiskLevel::of(50.0, &thresholds), RiskLevel::Medium);
        assert_eq!(RiskLevel::of(70.0, &thresholds), RiskLevel::Low);
    }

    #[test]
    fn critical_since_keeps_the_start_of_an_unbroken_critical_run() {
        let start = critical_since(None, RiskLevel::Critical, Millis(10));
        assert_eq!(start, Some(Millis(10)));
        assert_eq!(
            critical_since(start, RiskLevel::Critical, Millis(20)),
            Some(Millis(10))
        );
        assert_eq!(critical_since(start, RiskLevel::High, Millis(30)), None);
    }

    #[test]
    fn weights_must_sum_to_100() {
        assert!(HealthWeights::new(40, 20, 20, 20).is_ok());
        assert_eq!(
            HealthWeights::new(40, 20, 20, 21),
            Err(WeightsError::Sum(101))
        );
        assert!(
            serde_json::from_str::<HealthWeights>(
                r#"{"usage": 50, "support": 50, "payment": 50, "relationship": 0}"#
            )
            .is_err()
        );
    }
}
