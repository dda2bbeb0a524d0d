//! Lifecycle stages and manual changes: lead → prospect → customer → retention → advocacy, with
//! `lost` (a lead or prospect that did not buy) and `churned` (a customer who left). A manual
//! change may move between any two stages but needs a reason, which the transition keeps.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Lead,
    Prospect,
    Customer,
    Retention,
    Advocacy,
    Lost,
    Churned,
}

impl LifecycleStage {
    pub const ALL: [LifecycleStage; 7] = [
        LifecycleStage::Lead,
        LifecycleStage::Prospect,
        LifecycleStage::Customer,
        LifecycleStage::Retention,
        LifecycleStage::Advocacy,
        LifecycleStage::Lost,
        LifecycleStage::Churned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Lead => "lead",
            LifecycleStage::Prospect => "prospect",
            LifecycleStage::Customer => "customer",
            LifecycleStage::Retention => "retention",
            LifecycleStage::Advocacy => "advocacy",
            LifecycleStage::Lost => "lost",
            LifecycleStage::Churned => "churned",
        }
    }

    pub fn parse(raw: &str) -> Option<LifecycleStage> {
        LifecycleStage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == raw)
    }

    /// Leads are contacts not yet customers and not lost.
    pub fn is_lead(self) -> bool {
        matches!(self, LifecycleStage::Lead | LifecycleStage::Prospect)
    }
}

/// A stage change as the timeline and the lifecycle analytics keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub id: String,
    pub from: Option<LifecycleStage>,
    pub to: LifecycleStage,
    pub at: Millis,
    pub reason: String,
    /// Token subject of who changed it (`system` for automatic changes).
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("the contact is already in stage {0}")]
    Unchanged(&'static str),
    #[error("a reason of 1 to 500 characters is required")]
    Reason,
}

pub const MAX_REASON_CHARS: usize = 500;

/// Checks a manual change from `from` to `to` with `reason`.
pub fn check_manual_change(
    from: LifecycleStage,
    to: LifecycleStage,
    reason: &str,
) -> Result<(), LifecycleError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(LifecycleError::Reason);
    }
    if from == to {
        return Err(LifecycleError::Unchanged(to.as_str()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_change_needs_a_reason_and_a_different_stage() {
        use LifecycleStage::*;
        assert!(check_manual_change(Lead, Customer, "signed").is_ok());
        assert_eq!(
            check_manual_change(Lead, Customer, "  "),
            Err(LifecycleError::Reason)
        );
        assert_eq!(
            check_manual_change(Lead, Lead, "x"),
            Err(LifecycleError::Unchanged("lead"))
        );
        assert_eq!(LifecycleStage::parse("churned"), Some(Churned));
        assert!(Prospect.is_lead() && !Customer.is_lead());
    }
}
