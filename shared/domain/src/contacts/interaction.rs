//! Interactions logged on a contact: calls, emails, meetings, notes…

use serde::{Deserialize, Serialize};

use super::validate::Problems;
use crate::deals::date::Date;
use crate::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Call,
    Email,
    Sms,
    Meeting,
    Chat,
    Visit,
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionInput {
    pub kind: InteractionKind,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub sentiment: Option<Sentiment>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub follow_up_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    pub contact_id: String,
    pub kind: InteractionKind,
    pub direction: Option<Direction>,
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub content: Option<String>,
    pub outcome: Option<String>,
    pub sentiment: Option<Sentiment>,
    pub follow_up_date: Option<String>,
    pub occurred_at: Millis,
    pub created_by: String,
}

pub const MAX_CONTENT_CHARS: usize = 10_000;

impl Interaction {
    pub fn build(
        input: InteractionInput,
        id: String,
        contact_id: &str,
        created_by: &str,
        now: Millis,
    ) -> Result<Interaction, Problems> {
        let mut problems = Problems::new();
        let mut limited = |field: &str, value: Option<String>, max: usize| {
            let value = value
                .map(|text| text.trim().to_owned())
                .filter(|t| !t.is_empty());
            if value
                .as_ref()
                .is_some_and(|text| text.chars().count() > max)
            {
                problems
                    .entry(field.to_owned())
                    .or_default()
                    .push(format!("must be at most {max} characters"));
            }
            value
        };
        let channel = limited("channel", input.channel, 100);
        let subject = limited("subject", input.subject, 500);
        let content = limited("content", input.content, MAX_CONTENT_CHARS);
        let outcome = limited("outcome", input.outcome, 500);
        if let Some(Err(error)) = input.follow_up_date.as_deref().map(Date::parse) {
            problems
                .entry("follow_up_date".to_owned())
                .or_default()
                .push(error.to_string());
        }
        if input.kind == InteractionKind::Note && content.is_none() {
            problems
                .entry("content".to_owned())
                .or_default()
                .push("a note needs content".to_owned());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Interaction {
            id,
            contact_id: contact_id.to_owned(),
            kind: input.kind,
            direction: input.direction,
            channel,
            subject,
            content,
            outcome,
            sentiment: input.sentiment,
            follow_up_date: input.follow_up_date,
            occurred_at: now,
            created_by: created_by.to_owned(),
        })
    }
}
