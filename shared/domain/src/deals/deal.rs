//! Deals: what is being sold to whom, for how much, where it stands, and the transitions that
//! move it (stage changes, win, lose), each returning the event to record.

use serde::{Deserialize, Deserializer, Serialize};

use super::currency::Currency;
use super::date::Date;
use super::events::{DealEvent, DealEventKind};
use super::money::Money;
use super::pipeline::Pipeline;
use super::probability::Probability;
use super::violations::{Violations, reference_id, required_text};
use crate::time::{MILLIS_PER_DAY, Millis};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_LOST_REASON_CHARS: usize = 500;
/// Ten trillion major units of a two-decimal currency: far above any deal, far below the point
/// where sums of many deals could overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    Open,
    Won,
    Lost,
}

impl DealStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
        }
    }

    pub fn parse(raw: &str) -> Option<DealStatus> {
        match raw {
            "open" => Some(DealStatus::Open),
            "won" => Some(DealStatus::Won),
            "lost" => Some(DealStatus::Lost),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub id: String,
    /// Erasing the deal's contact nulls the title (it may name the person); it reads back empty.
    #[serde(deserialize_with = "null_as_empty")]
    pub title: String,
    pub amount: Money,
    pub pipeline_id: String,
    pub stage_id: String,
    pub contact_id: Option<String>,
    pub owner_id: Option<String>,
    pub expected_close_date: Option<Date>,
    /// Set when someone overrode the stage's probability for this deal.
    pub probability_override: Option<Probability>,
    pub status: DealStatus,
    pub lost_reason: Option<String>,
    pub created_at: Millis,
    pub stage_entered_at: Millis,
    /// When the deal was last won or lost; `None` while open.
    pub closed_at: Option<Millis>,
    /// Every stage the deal has been in, first visit order: the funnel counts a deal as having
    /// reached a stage from this, whatever happened after.
    pub reached_stage_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DealError {
    #[error("{0}")]
    Invalid(Violations),
    /// The transition makes no sense in the deal's status (winning a won deal).
    #[error("the deal is already {}", .0.as_str())]
    AlreadyClosed(DealStatus),
}

impl From<Violations> for DealError {
    fn from(violations: Violations) -> DealError {
        DealError::Invalid(violations)
    }
}

/// A deal as a client sends it to create one. The pipeline is resolved by the caller (the named
/// one or the default); a missing stage means the pipeline's first open stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    #[serde(default)]
    pub title: String,
    /// A decimal string (`"1234.50"`), never a float.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub contact_id: Option<String>,
    pub owner_id: Option<String>,
    pub expected_close_date: Option<String>,
    pub probability: Option<i64>,
}

/// A partial update. `null` clears an optional field; an absent field is left as it is. Stage
/// and status change only through their own transitions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    pub title: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub expected_close_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub probability: Option<Option<i64>>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Option::<String>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, via `default`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl DealInput {
    /// Validates the input into a new open deal in `pipeline`, with its `created` event.
    pub fn validate(
        self,
        id: String,
        pipeline: &Pipeline,
        actor: &str,
        now: Millis,
    ) -> Result<(Deal, DealEvent), Violations> {
        let mut violations = Violations::default();
        let title = required_text(&mut violations, "title", &self.title, MAX_TITLE_CHARS);
        let currency = parse_currency(&mut violations, self.currency.as_deref());
        let amount = match (self.amount.as_deref(), currency) {
            (None, _) => {
                violations.push("amount", "is required");
                None
            }
            (Some(raw), Some(currency)) => parse_amount(&mut violations, raw, currency),
            (Some(_), None) => None,
        };
        let stage_id = match self.stage_id {
            Some(stage_id) => match pipeline.stage(&stage_id) {
                Some(stage) if stage.is_open() => Some(stage_id),
                Some(_) => {
                    violations.push(
                        "stage_id",
                        "must be an open stage; win or lose the deal to close it",
                    );
                    None
                }
                None => {
                    violations.push("stage_id", "is not a stage of the pipeline");
                    None
                }
            },
            None => pipeline.first_open_stage().map(|stage| stage.id.clone()),
        };
        check_optional_id(&mut violations, "contact_id", self.contact_id.as_deref());
        check_optional_id(&mut violations, "owner_id", self.owner_id.as_deref());
        let expected_close_date = parse_date(&mut violations, self.expected_close_date.as_deref());
        let probability_override = parse_probability(&mut violations, self.probability);
        let (Some(amount), Some(stage_id)) = (amount, stage_id) else {
            if violations.is_empty() {
                violations.push("stage_id", "the pipeline has no open stage");
            }
            return Err(violations);
        };
        violations.into_result(())?;
        let deal = Deal {
            id,
            title,
            amount,
            pipeline_id: pipeline.id.clone(),
            stage_id: stage_id.clone(),
            contact_id: self.contact_id,
            owner_id: self.owner_id,
            expected_close_date,
            probability_override,
            status: DealStatus::Open,
            lost_reason: None,
            created_at: now,
            stage_entered_at: now,
            closed_at: None,
            reached_stage_ids: vec![stage_id.clone()],
        };
        let event = deal.event(DealEventKind::Created, None, actor, now);
        Ok((deal, event))
    }
}

impl Deal {
    /// The chance the deal closes as won: certain once won, none once lost, otherwise the
    /// override or the stage's probability (0 when the stage is no longer in the pipeline).
    pub fn probability(&self, pipeline: Option<&Pipeline>) -> Probability {
        match self.status {
            DealStatus::Won => Probability::CERTAIN,
            DealStatus::Lost => Probability::ZERO,
            DealStatus::Open => self.probability_override.unwrap_or_else(|| {
                pipeline
                    .and_then(|p| p.stage(&self.stage_id))
                    .map_or(Probability::ZERO, |stage| stage.probability)
            }),
        }
    }

    /// Applies a partial update to the descriptive fields.
    pub fn apply(&mut self, patch: DealPatch) -> Result<(), Violations> {
        let mut violations = Violations::default();
        let mut updated = self.clone();
        if let Some(title) = patch.title {
            updated.title = required_text(&mut violations, "title", &title, MAX_TITLE_CHARS);
        }
        let currency = match patch.currency.as_deref() {
            Some(code) => parse_currency(&mut violations, Some(code)),
            None => Some(self.amount.currency),
        };
        if let Some(currency) = currency {
            // A new currency alone re-reads the current decimal amount in it (10.50 EUR → USD).
            let raw = patch.amount.unwrap_or_else(|| self.amount.to_decimal());
            if let Some(amount) = parse_amount(&mut violations, &raw, currency) {
                updated.amount = amount;
            }
        }
        if let Some(contact_id) = patch.contact_id {
            check_optional_id(&mut violations, "contact_id", contact_id.as_deref());
            updated.contact_id = contact_id;
        }
        if let Some(owner_id) = patch.owner_id {
            check_optional_id(&mut violations, "owner_id", owner_id.as_deref());
            updated.owner_id = owner_id;
        }
        if let Some(date) = patch.expected_close_date {
            updated.expected_close_date = parse_date(&mut violations, date.as_deref());
        }
        if let Some(probability) = patch.probability {
            updated.probability_override = parse_probability(&mut violations, probability);
        }
        violations.into_result(())?;
        *self = updated;
        Ok(())
    }

    /// Moves the deal to another stage of its pipeline. A closed-won stage wins it, a closed-lost
    /// stage loses it (a reason is then required), an open stage (re)opens it. Moving to the
    /// current stage changes nothing and records nothing.
    pub fn move_to_stage(
        &mut self,
        pipeline: &Pipeline,
        stage_id: &str,
        lost_reason: Option<&str>,
        actor: &str,
        now: Millis,
    ) -> Result<Option<DealEvent>, DealError> {
        let stage = pipeline.stage(stage_id).ok_or_else(|| {
            Violations::single("stage_id", "is not a stage of the deal's pipeline")
        })?;
        if stage.id == self.stage_id {
            return Ok(None);
        }
        let (kind, status, reason) = if stage.closed_won {
            (DealEventKind::Won, DealStatus::Won, None)
        } else if stage.closed_lost {
            let reason = check_lost_reason("lost_reason", lost_reason)?;
            (DealEventKind::Lost, DealStatus::Lost, Some(reason))
        } else {
            (DealEventKind::StageChanged, DealStatus::Open, None)
        };
        Ok(Some(self.enter(
            stage.id.clone(),
            kind,
            status,
            reason,
            actor,
            now,
        )))
    }

    /// Wins the deal: it moves to the pipeline's closed-won stage.
    pub fn win(
        &mut self,
        pipeline: &Pipeline,
        actor: &str,
        now: Millis,
    ) -> Result<DealEvent, DealError> {
        if self.status == DealStatus::Won {
            return Err(DealError::AlreadyClosed(DealStatus::Won));
        }
        let stage = pipeline
            .won_stage()
            .ok_or_else(|| Violations::single("pipeline_id", "has no closed-won stage"))?;
        let stage_id = stage.id.clone();
        Ok(self.enter(
            stage_id,
            DealEventKind::Won,
            DealStatus::Won,
            None,
            actor,
            now,
        ))
    }

    /// Loses the deal for `reason`: it moves to the pipeline's closed-lost stage.
    pub fn lose(
        &mut self,
        pipeline: &Pipeline,
        reason: Option<&str>,
        actor: &str,
        now: Millis,
    ) -> Result<DealEvent, DealError> {
        let reason = check_lost_reason("reason", reason)?;
        if self.status == DealStatus::Lost {
            return Err(DealError::AlreadyClosed(DealStatus::Lost));
        }
        let stage = pipeline
            .lost_stage()
            .ok_or_else(|| Violations::single("pipeline_id", "has no closed-lost stage"))?;
        let stage_id = stage.id.clone();
        let event = self.enter(
            stage_id,
            DealEventKind::Lost,
            DealStatus::Lost,
            Some(reason),
            actor,
            now,
        );
        Ok(event)
    }

    /// Whole days since the deal entered its current stage (never negative on a skewed clock).
    pub fn days_in_stage(&self, now: Millis) -> i64 {
        now.saturating_sub(self.stage_entered_at).max(0) / MILLIS_PER_DAY
    }

    fn enter(
        &mut self,
        stage_id: String,
        kind: DealEventKind,
        status: DealStatus,
        lost_reason: Option<String>,
        actor: &str,
        now: Millis,
    ) -> DealEvent {
        let from = std::mem::replace(&mut self.stage_id, stage_id.clone());
        let days_in_stage = self.days_in_stage(now);
        self.status = status;
        self.lost_reason = lost_reason;
        self.closed_at = (status != DealStatus::Open).then_some(now);
        self.stage_entered_at = now;
        if !self.reached_stage_ids.contains(&stage_id) {
            self.reached_stage_ids.push(stage_id);
        }
        let mut event = self.event(kind, Some(from), actor, now);
        event.days_in_stage = days_in_stage;
        event
    }

    fn event(
        &self,
        kind: DealEventKind,
        from: Option<String>,
        actor: &str,
        now: Millis,
    ) -> DealEvent {
        DealEvent {
            deal_id: self.id.clone(),
            kind,
            at: now,
            actor: actor.to_owned(),
            from_stage_id: from,
            to_stage_id: self.stage_id.clone(),
            days_in_stage: 0,
            lost_reason: self.lost_reason.clone(),
            amount: self.amount,
        }
    }
}

fn parse_currency(violations: &mut Violations, raw: Option<&str>) -> Option<Currency> {
    match raw.map(Currency::parse) {
        Some(Ok(currency)) => Some(currency),
        Some(Err(error)) => {
            violations.push("currency", error.to_string());
            None
        }
        None => {
            violations.push("currency", "is required");
            None
        }
    }
}

fn parse_amount(violations: &mut Violations, raw: &str, currency: Currency) -> Option<Money> {
    match Money::parse_decimal(raw, currency) {
        Ok(money) if money.minor < 0 => {
            violations.push("amount", "must not be negative");
            None
        }
        Ok(money) if money.minor > MAX_AMOUNT_MINOR => {
            violations.push("amount", "is too large");
            None
        }
        Ok(money) => Some(money),
        Err(error) => {
            violations.push("amount", error.to_string());
            None
        }
    }
}

fn parse_date(violations: &mut Violations, raw: Option<&str>) -> Option<Date> {
    let raw = raw?;
    match Date::parse(raw) {
        Ok(date) => Some(date),
        Err(error) => {
            violations.push("expected_close_date", error.to_string());
            None
        }
    }
}

fn parse_probability(violations: &mut Violations, raw: Option<i64>) -> Option<Probability> {
    match raw.map(Probability::new) {
        Some(Ok(probability)) => Some(probability),
        Some(Err(error)) => {
            violations.push("probability", error.to_string());
            None
        }
        None => None,
    }
}

fn check_optional_id(violations: &mut Violations, path: &str, raw: Option<&str>) {
    if let Some(raw) = raw {
        reference_id(violations, path, raw);
    }
}

fn check_lost_reason(path: &str, raw: Option<&str>) -> Result<String, Violations> {
    let mut violations = Violations::default();
    let reason = required_text(
        &mut violations,
        path,
        raw.unwrap_or_default(),
        MAX_LOST_REASON_CHARS,
    );
    violations.into_result(reason)
}
