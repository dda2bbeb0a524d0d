//! Manual stage changes (from the API): any stage to any other, backwards included, but always
//! with a reason, which the transition record keeps together with the actor.

use serde::{Deserialize, Serialize};

use super::stage::LifecycleStage;

pub const MAX_REASON_CHARS: usize = 500;

/// A validated manual change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualChange {
    pub from: LifecycleStage,
    pub to: LifecycleStage,
    /// Trimmed.
    pub reason: String,
    /// Whether it goes against the automatic direction (an admin may need to know).
    pub backwards: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManualChangeError {
    #[error("the contact is already in stage {0}")]
    Unchanged(&'static str),
    #[error("a reason of 1 to {MAX_REASON_CHARS} characters is required")]
    Reason,
}

pub fn validate_manual_change(
    from: LifecycleStage,
    to: LifecycleStage,
    reason: &str,
) -> Result<ManualChange, ManualChangeError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ManualChangeError::Reason);
    }
    if from == to {
        return Err(ManualChangeError::Unchanged(to.as_str()));
    }
    Ok(ManualChange {
        from,
        to,
        reason: reason.to_string(),
        backwards: !from.is_forward_to(to),
    })
}

#[cfg(test)]
mod tests {
    use super::LifecycleStage::*;
    use super::*;

    #[test]
    fn a_manual_change_may_go_backwards_with_a_reason() {
        let change = validate_manual_change(Customer, Prospect, "  deal cancelled ").unwrap();
        assert_eq!(change.reason, "deal cancelled");
        assert!(change.backwards);
        assert!(
            !validate_manual_change(Lead, Customer, "signed")
                .unwrap()
                .backwards
        );
        assert!(
            validate_manual_change(Churned, Customer, "came back")
                .unwrap()
                .backwards
        );
    }

    #[test]
    fn a_manual_change_needs_a_reason_and_another_stage() {
        assert_eq!(
            validate_manual_change(Lead, Prospect, " "),
            Err(ManualChangeError::Reason)
        );
        assert_eq!(
            validate_manual_change(Lead, Prospect, &"x".repeat(501)),
            Err(ManualChangeError::Reason)
        );
        assert_eq!(
            validate_manual_change(Lead, Lead, "why"),
            Err(ManualChangeError::Unchanged("lead"))
        );
    }
}
