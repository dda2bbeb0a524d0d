//! The order of lifecycle stages, which automatic transitions follow: lead → prospect →
//! customer → retention → advocacy, with two terminal side states: `lost` (a lead or prospect
//! that will not buy) and `churned` (a customer who left). The stage type itself is the contact's
//! ([`crate::contacts::LifecycleStage`]); only the engine needs its order.

pub use crate::contacts::LifecycleStage;

impl LifecycleStage {
    /// Position on the main path (lead 0 … advocacy 4); `None` for the side states.
    pub fn rank(self) -> Option<u8> {
        match self {
            LifecycleStage::Lead => Some(0),
            LifecycleStage::Prospect => Some(1),
            LifecycleStage::Customer => Some(2),
            LifecycleStage::Retention => Some(3),
            LifecycleStage::Advocacy => Some(4),
            LifecycleStage::Lost | LifecycleStage::Churned => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        self.rank().is_none()
    }

    /// Whether `self → to` moves forward: up the main path, from a lead or prospect to `lost`,
    /// or from a customer stage (customer, retention, advocacy) to `churned`. Nothing leaves a
    /// terminal state forward.
    pub fn is_forward_to(self, to: LifecycleStage) -> bool {
        match (self.rank(), to) {
            (None, _) => false,
            (Some(from), LifecycleStage::Lost) => from <= 1,
            (Some(from), LifecycleStage::Churned) => from >= 2,
            (Some(from), to) => to.rank().is_some_and(|to| to > from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LifecycleStage::*;

    #[test]
    fn forward_means_up_the_main_path_or_into_the_matching_side_state() {
        assert!(Lead.is_forward_to(Prospect) && Lead.is_forward_to(Customer));
        assert!(Customer.is_forward_to(Advocacy));
        assert!(!Customer.is_forward_to(Prospect) && !Lead.is_forward_to(Lead));
        assert!(Prospect.is_forward_to(Lost) && !Customer.is_forward_to(Lost));
        assert!(Retention.is_forward_to(Churned) && !Lead.is_forward_to(Churned));
        assert!(!Lost.is_forward_to(Customer) && !Churned.is_forward_to(Customer));
    }
}
