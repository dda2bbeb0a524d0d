//! What the scheduler asks for: the EventBridge Scheduler payload `{"job": "retention"}`, with an
//! optional `"budget"`, parsed once at the boundary into types that carry their guarantees.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::JobError;

/// The jobs a schedule may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Deletes raw events older than their site's retention.
    Retention,
    /// Rescores every contact as of now, materializing decayed scores.
    Decay,
    /// Re-evaluates dynamic segments.
    Segments,
    /// Does nothing itself: the Lambda relays the transitions outbox after every run, and this
    /// job's frequent schedule bounds how long a committed transition waits for its message.
    Transitions,
}

impl JobKind {
    /// The job's name in payloads, logs and its state item (`JOB#{name}`).
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Retention => "retention",
            JobKind::Decay => "decay",
            JobKind::Segments => "segments",
            JobKind::Transitions => "transitions",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much one invocation may do: for `retention`, the number of visitors it examines; for
/// `decay`, the number of contacts it rescores.
/// Between 1 and [`Budget::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u32")]
pub struct Budget(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a budget is a whole number from 1 to {max}", max = Budget::MAX.0)]
pub struct InvalidBudget;

impl Budget {
    /// What a run does when the payload names no budget: a few seconds of work on DynamoDB.
    pub const DEFAULT: Budget = Budget(500);
    /// Keeps one invocation well inside a Lambda timeout.
    pub const MAX: Budget = Budget(10_000);

    pub fn new(value: u64) -> Result<Budget, InvalidBudget> {
        match u32::try_from(value) {
            Ok(value) if (1..=Budget::MAX.0).contains(&value) => Ok(Budget(value)),
            _ => Err(InvalidBudget),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u64> for Budget {
    type Error = InvalidBudget;
    fn try_from(value: u64) -> Result<Budget, InvalidBudget> {
        Budget::new(value)
    }
}

impl From<Budget> for u32 {
    fn from(budget: Budget) -> u32 {
        budget.0
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::DEFAULT
    }
}

/// One scheduled invocation: which job, and optionally how much it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    pub job: JobKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

impl JobRequest {
    pub fn new(job: JobKind) -> JobRequest {
        JobRequest { job, budget: None }
    }

    pub fn with_budget(self, budget: Budget) -> JobRequest {
        JobRequest {
            budget: Some(budget),
            ..self
        }
    }

    /// Parses a scheduler payload. Anything else (an unknown job, a misspelt or extra field, a
    /// budget out of range, not an object) is [`JobError::InvalidRequest`] naming the problem.
    pub fn from_json(payload: serde_json::Value) -> Result<JobRequest, JobError> {
        serde_json::from_value(payload).map_err(|error| {
            JobError::InvalidRequest(format!(
                "{error}; expected {{\"job\": \"retention\" | \"decay\" | \"segments\" | \
                 \"transitions\"}} \
                 with an optional \"budget\" from 1 to {}",
                Budget::MAX.0
            ))
        })
    }

    /// The budget this run uses.
    pub fn budget(&self) -> Budget {
        self.budget.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn a_scheduler_payload_names_the_job_and_may_set_a_budget() {
        let request = JobRequest::from_json(json!({"job": "retention"})).unwrap();
        assert_eq!(request, JobRequest::new(JobKind::Retention));
        assert_eq!(request.budget(), Budget::DEFAULT);

        let request = JobRequest::from_json(json!({"job": "decay", "budget": 20})).unwrap();
        assert_eq!(request.job, JobKind::Decay);
        assert_eq!(request.budget().get(), 20);
    }

    #[test]
    fn an_unknown_job_is_refused_with_the_known_ones_named() {
        let error = JobRequest::from_json(json!({"job": "vacuum"})).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, JobError::InvalidRequest(_)));
        assert!(message.contains("vacuum"), "{message}");
        assert!(message.contains("retention"), "{message}");
    }

    #[test]
    fn budgets_outside_one_to_the_maximum_are_refused() {
        for budget in [json!(0), json!(-1), json!(10_001), json!(1.5), json!("10")] {
            let payload = json!({"job": "retention", "budget": budget});
            assert!(
                matches!(
                    JobRequest::from_json(payload),
                    Err(JobError::InvalidRequest(_))
                ),
                "{budget}"
            );
        }
        assert_eq!(Budget::new(10_000), Ok(Budget::MAX));
    }

    #[test]
    fn misspelt_fields_and_non_objects_are_refused() {
        for payload in [
            json!({"job": "retention", "budgte": 5}),
            json!({"jobs": "retention"}),
            json!("retention"),
            json!(null),
            json!([]),
        ] {
            assert!(
                matches!(
                    JobRequest::from_json(payload.clone()),
                    Err(JobError::InvalidRequest(_))
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn a_request_serializes_back_to_the_payload_shape() {
        let request = JobRequest::new(JobKind::Retention).with_budget(Budget::new(7).unwrap());
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            json!({"job": "retention", "budget": 7})
        );
    }
}
