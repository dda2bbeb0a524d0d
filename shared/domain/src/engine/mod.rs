//! The CRM engine: lead and health scores, score-change records, decay and lifecycle rules for
//! contacts, as pure functions over plain inputs. `now`, weights and thresholds are parameters;
//! nothing here reads a clock, the environment or a store.
//!
//! One idea per file: `factor` (weights and the factor breakdown every score carries), `decay`
//! (half-lives), `activity` (the lead score's additive inputs, folded one signal at a time or
//! rebuilt from stored totals), `lead` (the lead score), `health` (the health score and risk
//! level), `change` (when a change is worth a score-change record), `stage` (lifecycle stages
//! and their order) and `rules` (automatic transitions). Manual stage changes are checked by
//! `contacts::lifecycle::check_manual_change`.
//! Every formula is documented with a worked example in `docs/scoring.md`.

pub mod activity;
pub mod change;
pub mod decay;
pub mod factor;
pub mod health;
pub mod lead;
pub mod rules;
pub mod stage;

pub use activity::{InteractionFact, LeadActivity, LeadSignal, VisitorActivity};
pub use change::{ScoreCause, ScoreChange, ScoreKind, score_change};
pub use decay::{HalfLife, HalfLives, decayed};
pub use factor::{Factor, FactorName, WeightsError};
pub use health::{HealthConfig, HealthInputs, HealthScore, HealthWeights, RiskLevel, health_score};
pub use lead::{FitInputs, LeadConfig, LeadInputs, LeadScore, LeadWeights, lead_score};
pub use rules::{LifecycleConfig, LifecycleFacts, Rule, Transition, next_transition, settle};
pub use stage::LifecycleStage;
