//! Pipelines: a name, a default flag and ordered stages, each with a win probability and
//! whether it closes a deal as won or lost.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::probability::Probability;
use super::violations::{Violations, required_text};

pub const MAX_STAGES: usize = 30;
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub probability: Probability,
    pub closed_won: bool,
    pub closed_lost: bool,
}

impl Stage {
    pub fn is_open(&self) -> bool {
        !self.closed_won && !self.closed_lost
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub is_default: bool,
    /// In board order: the open stages first, as validation requires a pipeline to have at least
    /// one open, one won and one lost stage.
    pub stages: Vec<Stage>,
}

/// The stages every new store starts with (and a pipeline created without stages gets).
pub const DEFAULT_STAGES: [(&str, u8, bool, bool); 6] = [
    ("Lead", 10, false, false),
    ("Qualified", 25, false, false),
    ("Proposal", 50, false, false),
    ("Negotiation", 75, false, false),
    ("Closed Won", 100, true, false),
    ("Closed Lost", 0, false, true),
];

pub const DEFAULT_PIPELINE_NAME: &str = "Sales pipeline";

/// A stage as a client sends it. `id` names an existing stage when a pipeline is replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub probability: Option<i64>,
    #[serde(default)]
    pub closed_won: bool,
    #[serde(default)]
    pub closed_lost: bool,
}

/// A pipeline as a client sends it to create or replace one. Without stages a new pipeline gets
/// [`DEFAULT_STAGES`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub stages: Option<Vec<StageInput>>,
}

impl Pipeline {
    /// The pipeline a new store starts with; `new_id` names each stage.
    pub fn default_pipeline(id: String, mut new_id: impl FnMut() -> String) -> Pipeline {
        Pipeline {
            id,
            name: DEFAULT_PIPELINE_NAME.to_owned(),
            is_default: true,
            stages: default_stages(&mut new_id),
        }
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.id == id)
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.stages.iter().position(|stage| stage.id == id)
    }

    pub fn first_open_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.is_open())
    }

    pub fn open_stages(&self) -> impl Iterator<Item = &Stage> {
        self.stages.iter().filter(|stage| stage.is_open())
    }

    pub fn won_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.closed_won)
    }

    pub fn lost_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.closed_lost)
    }

    /// Inserts a stage at `position` (0-based; by default just before the first closed stage, so
    /// that it is the last open one) and validates the result.
    pub fn with_stage(
        &self,
        input: StageInput,
        position: Option<usize>,
        new_id: impl FnOnce() -> String,
    ) -> Result<Pipeline, Violations> {
        let mut violations = Violations::default();
        if input.id.is_some() {
            violations.push("id", "is assigned by the server");
        }
        let stage = stage_from_input(&mut violations, "", input, new_id());
        let lowercase = stage.name.to_lowercase();
        if self
            .stages
            .iter()
            .any(|s| s.name.to_lowercase() == lowercase)
        {
            violations.push("name", "is already used by another stage");
        }
        if self.stages.len() >= MAX_STAGES {
            violations.push(
                "stages",
                format!("a pipeline holds at most {MAX_STAGES} stages"),
            );
        }
        let at = match position {
            Some(at) if at > self.stages.len() => {
                violations.push(
                    "position",
                    format!("must be between 0 and {}", self.stages.len()),
                );
                self.stages.len()
            }
            Some(at) => at,
            None => self
                .stages
                .iter()
                .position(|stage| !stage.is_open())
                .unwrap_or(self.stages.len()),
        };
        violations.into_result(())?;
        let mut pipeline = self.clone();
        pipeline.stages.insert(at, stage);
        let mut violations = Violations::default();
        validate_stages(&mut violations, &pipeline.stages);
        violations.into_result(pipeline)
    }

    /// Ids of stages of `self` that `replacement` no longer has: deals in them must move first.
    pub fn removed_stage_ids(&self, replacement: &Pipeline) -> Vec<String> {
        self.stages
            .iter()
            .filter(|stage| replacement.stage(&stage.id).is_none())
            .map(|stage| stage.id.clone())
            .collect()
    }
}

impl PipelineInput {
    /// Validates a pipeline to create (`existing` is `None`) or to replace `existing`. Stages
    /// that name an id keep it (it must be one of `existing`'s); others get `new_id()`.
    pub fn validate(
        self,
        id: String,
        existing: Option<&Pipeline>,
        mut new_id: impl FnMut() -> String,
    ) -> Result<Pipeline, Violations> {
        let mut violations = Violations::default();
        let name = required_text(&mut violations, "name", &self.name, MAX_NAME_CHARS);
        let stages = match self.stages {
            None => match existing {
                Some(existing) => existing.stages.clone(),
                None => default_stages(&mut new_id),
            },
            Some(inputs) => {
                let mut seen_ids = HashSet::new();
                let mut stages = Vec::with_capacity(inputs.len());
                for (index, input) in inputs.into_iter().enumerate() {
                    let path = format!("stages[{index}].");
                    let stage_id = match &input.id {
                        Some(stage_id) => {
                            let known = existing.is_some_and(|p| p.stage(stage_id).is_some());
                            if !known {
                                violations.push(
                                    format!("{path}id"),
                                    "is not a stage of this pipeline (leave it out for a new stage)",
                                );
                            } else if !seen_ids.insert(stage_id.clone()) {
                                violations.push(format!("{path}id"), "appears twice");
                            }
                            stage_id.clone()
                        }
                        None => new_id(),
                    };
                    stages.push(stage_from_input(&mut violations, &path, input, stage_id));
                }
                stages
            }
        };
        validate_stages(&mut violations, &stages);
        violations.into_result(Pipeline {
            id,
            name,
            is_default: self.is_default,
            stages,
        })
    }
}

fn default_stages(new_id: &mut impl FnMut() -> String) -> Vec<Stage> {
    DEFAULT_STAGES
        .iter()
        .map(|&(name, percent, closed_won, closed_lost)| Stage {
            id: new_id(),
            name: name.to_owned(),
            probability: Probability::new(i64::from(percent)).unwrap_or(Probability::ZERO),
            closed_won,
            closed_lost,
        })
        .collect()
}

fn stage_from_input(
    violations: &mut Violations,
    path: &str,
    input: StageInput,
    id: String,
) -> Stage {
    let name = required_text(
        violations,
        &format!("{path}name"),
        &input.name,
        MAX_NAME_CHARS,
    );
    let probability = match input.probability.map(Probability::new) {
        Some(Ok(probability)) => probability,
        Some(Err(error)) => {
            violations.push(format!("{path}probability"), error.to_string());
            Probability::ZERO
        }
        None => {
            violations.push(format!("{path}probability"), "is required");
            Probability::ZERO
        }
    };
    if input.closed_won && input.closed_lost {
        violations.push(
            format!("{path}closed_lost"),
            "a stage cannot close a deal as both won and lost",
        );
    } else if input.closed_won && probability != Probability::CERTAIN {
        violations.push(
            format!("{path}probability"),
            "must be 100 for a closed-won stage",
        );
    } else if input.closed_lost && probability != Probability::ZERO {
        violations.push(
            format!("{path}probability"),
            "must be 0 for a closed-lost stage",
        );
    }
    Stage {
        id,
        name,
        probability,
        closed_won: input.closed_won,
        closed_lost: input.closed_lost,
    }
}

/// Rules over the whole list: size, unique names, and the open/won/lost stages every pipeline
/// needs so a deal can always be created, won and lost.
fn validate_stages(violations: &mut Violations, stages: &[Stage]) {
    if stages.is_empty() || stages.len() > MAX_STAGES {
        violations.push("stages", format!("must hold 1 to {MAX_STAGES} stages"));
        return;
    }
    let mut names = HashSet::new();
    for (index, stage) in stages.iter().enumerate() {
        if !stage.name.is_empty() && !names.insert(stage.name.to_lowercase()) {
            violations.push(
                format!("stages[{index}].name"),
                "is already used by another stage",
            );
        }
    }
    if !stages.iter().any(Stage::is_open) {
        violations.push("stages", "must include at least one open stage");
    }
    if !stages.iter().any(|stage| stage.closed_won) {
        violations.push("stages", "must include a closed-won stage");
    }
    if !stages.iter().any(|stage| stage.closed_lost) {
        violations.push("stages", "must include a closed-lost stage");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn counter() -> impl FnMut() -> String {
        let mut next = 0;
        move || {
            next += 1;
            format!("s{next}")
        }
    }

    fn stage(name: &str, probability: i64) -> StageInput {
        StageInput {
            name: name.to_owned(),
            probability: Some(probability),
            ..StageInput::default()
        }
    }

    fn closing(name: &str, won: bool) -> StageInput {
        StageInput {
            name: name.to_owned(),
            probability: Some(if won { 100 } else { 0 }),
            closed_won: won,
            closed_lost: !won,
            ..StageInput::default()
        }
    }

    fn paths(error: Violations) -> Vec<String> {
        error.0.into_iter().map(|v| v.path).collect()
    }

    #[test]
    fn the_default_pipeline_has_the_six_standard_stages() {
        let pipeline = Pipeline::default_pipeline("p1".to_owned(), counter());
        let summary: Vec<_> = pipeline
            .stages
            .iter()
            .map(|s| (s.name.as_str(), s.probability.percent()))
            .collect();
        assert_eq!(
            summary,
            [
                ("Lead", 10),
                ("Qualified", 25),
                ("Proposal", 50),
                ("Negotiation", 75),
                ("Closed Won", 100),
                ("Closed Lost", 0)
            ]
        );
        assert!(pipeline.is_default);
        assert_eq!(pipeline.won_stage().unwrap().name, "Closed Won");
        assert_eq!(pipeline.lost_stage().unwrap().name, "Closed Lost");
    }

    #[test]
    fn a_pipeline_created_without_stages_gets_the_default_ones() {
        let input = PipelineInput {
            name: " Renewals ".to_owned(),
            ..PipelineInput::default()
        };
        let pipeline = input.validate("p2".to_owned(), None, counter()).unwrap();
        assert_eq!(pipeline.name, "Renewals");
        assert_eq!(pipeline.stages.len(), 6);
    }

    #[test]
    fn every_stage_problem_is_reported_with_its_path() {
        let input = PipelineInput {
            name: String::new(),
            is_default: false,
            stages: Some(vec![
                stage("Intro", 130),
                stage("intro", 20),
                StageInput {
                    probability: None,
                    ..stage("", 0)
                },
                StageInput {
                    closed_won: true,
                    ..stage("Won", 90)
                },
                StageInput {
                    closed_won: true,
                    closed_lost: true,
                    ..stage("Both", 0)
                },
            ]),
        };
        let error = input.validate("p".to_owned(), None, counter()).unwrap_err();
        assert_eq!(
            paths(error),
            [
                "name",
                "stages[0].probability",
                "stages[2].name",
                "stages[2].probability",
                "stages[3].probability",
                "stages[4].closed_lost",
                "stages[1].name",
            ]
        );
    }

    #[test]
    fn replacing_keeps_named_stage_ids_and_refuses_foreign_ones() {
        let existing = Pipeline::default_pipeline("p".to_owned(), counter());
        let lead_id = existing.stages[0].id.clone();
        let input = PipelineInput {
            name: "Sales".to_owned(),
            is_default: true,
            stages: Some(vec![
                StageInput {
                    id: Some(lead_id.clone()),
                    ..stage("Lead", 5)
                },
                closing("Won", true),
                closing("Lost", false),
            ]),
        };
        let mut ids = counter();
        let replaced = input
            .clone()
            .validate("p".to_owned(), Some(&existing), || format!("new-{}", ids()))
            .unwrap();
        assert_eq!(replaced.stages[0].id, lead_id);
        assert_eq!(replaced.stages[0].probability.percent(), 5);
        assert_eq!(existing.removed_stage_ids(&replaced).len(), 5);

        let mut foreign = input;
        if let Some(stages) = foreign.stages.as_mut() {
            stages[1].id = Some("elsewhere".to_owned());
        }
        let error = foreign
            .validate("p".to_owned(), Some(&existing), counter())
            .unwrap_err();
        assert_eq!(paths(error), ["stages[1].id"]);
    }

    #[test]
    fn a_stage_is_added_before_the_closed_stages_by_default() {
        let pipeline = Pipeline::default_pipeline("p".to_owned(), counter());
        let added = pipeline
            .with_stage(stage("Demo", 60), None, || "demo".to_owned())
            .unwrap();
        assert_eq!(added.stages[4].id, "demo");
        assert_eq!(added.stages.len(), 7);

        let first = pipeline
            .with_stage(stage("Inbound", 5), Some(0), || "in".to_owned())
            .unwrap();
        assert_eq!(first.stages[0].id, "in");

        let error = pipeline
            .with_stage(stage("Intro", 5), Some(9), || "x".to_owned())
            .unwrap_err();
        assert_eq!(paths(error), ["position"]);
        let error = pipeline
            .with_stage(stage("lead", 5), None, || "x".to_owned())
            .unwrap_err();
        assert_eq!(paths(error), ["name"]);
    }
}
