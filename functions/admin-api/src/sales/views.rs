//! What the API shows of pipelines, deals and segments: money as exact decimal strings with
//! the minor units beside them, times in RFC 3339, the effective probability.

use std::collections::BTreeMap;

use crm_domain::deals::{Deal, DealEvent, Money, Pipeline};
use crm_domain::time::Millis;
use crm_store::repo::crm::deals::StoredDeal;
use crm_store::repo::crm::pipelines::StoredPipeline;
use crm_store::repo::crm::segments::StoredSegment;
use serde::Serialize;
use serde_json::Value;

use crate::views::rfc3339;

#[derive(Debug, Serialize)]
pub struct MoneyView {
    pub currency: &'static str,
    /// Exact decimal, e.g. `"1234.50"`.
    pub amount: String,
    pub amount_minor: i64,
}

impl From<Money> for MoneyView {
    fn from(money: Money) -> MoneyView {
        MoneyView {
            currency: money.currency.code(),
            amount: money.to_decimal(),
            amount_minor: money.minor,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StageView {
    pub id: String,
    pub name: String,
    pub position: usize,
    pub probability: u8,
    pub closed_won: bool,
    pub closed_lost: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_count: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct PipelineView {
    pub id: String,
    pub name: String,
    pub is_default: bool,
    pub stages: Vec<StageView>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl PipelineView {
    pub fn new(stored: &StoredPipeline, counts: Option<&BTreeMap<String, i64>>) -> PipelineView {
        let record = &stored.record;
        PipelineView {
            id: record.pipeline.id.clone(),
            name: record.pipeline.name.clone(),
            is_default: record.pipeline.is_default,
            stages: record
                .pipeline
                .stages
                .iter()
                .enumerate()
                .map(|(position, stage)| StageView {
                    id: stage.id.clone(),
                    name: stage.name.clone(),
                    position,
                    probability: stage.probability.percent(),
                    closed_won: stage.closed_won,
                    closed_lost: stage.closed_lost,
                    deal_count: counts.map(|c| c.get(&stage.id).copied().unwrap_or(0)),
                })
                .collect(),
            version: stored.version,
            created_at: rfc3339(record.created_at),
            updated_at: rfc3339(record.updated_at),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub kind: crm_domain::deals::DealEventKind,
    pub from_stage_id: Option<String>,
    pub to_stage_id: String,
    pub at: String,
    pub by: String,
    pub days_in_stage: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_reason: Option<String>,
}

impl From<&DealEvent> for HistoryView {
    fn from(event: &DealEvent) -> HistoryView {
        HistoryView {
            kind: event.kind,
            from_stage_id: event.from_stage_id.clone(),
            to_stage_id: event.to_stage_id.clone(),
            at: rfc3339(event.at),
            by: event.actor.clone(),
            days_in_stage: event.days_in_stage,
            lost_reason: event.lost_reason.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DealView {
    pub id: String,
    pub title: String,
    pub amount: String,
    pub amount_minor: i64,
    pub currency: &'static str,
    pub pipeline_id: String,
    pub stage_id: String,
    pub contact_id: Option<String>,
    pub owner_id: Option<String>,
    pub expected_close_date: Option<String>,
    /// The stage's probability unless overridden (100 once won, 0 once lost).
    pub probability: u8,
    pub probability_override: Option<u8>,
    pub status: crm_domain::deals::DealStatus,
    pub lost_reason: Option<String>,
    pub stage_entered_at: String,
    pub days_in_stage: i64,
    pub closed_at: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_history: Option<Vec<HistoryView>>,
}

impl DealView {
    pub fn new(stored: &StoredDeal, pipeline: Option<&Pipeline>, now: Millis) -> DealView {
        let deal: &Deal = &stored.record.deal;
        DealView {
            id: deal.id.clone(),
            title: deal.title.clone(),
            amount: deal.amount.to_decimal(),
            amount_minor: deal.amount.minor,
            currency: deal.amount.currency.code(),
            pipeline_id: deal.pipeline_id.clone(),
            stage_id: deal.stage_id.clone(),
            contact_id: deal.contact_id.clone(),
            owner_id: deal.owner_id.clone(),
            expected_close_date: deal.expected_close_date.map(|d| d.to_string()),
            probability: deal.probability(pipeline).percent(),
            probability_override: deal.probability_override.map(|p| p.percent()),
            status: deal.status,
            lost_reason: deal.lost_reason.clone(),
            stage_entered_at: rfc3339(deal.stage_entered_at),
            days_in_stage: deal.days_in_stage(now),
            closed_at: deal.closed_at.map(rfc3339),
            version: stored.version,
            created_at: rfc3339(deal.created_at),
            updated_at: rfc3339(stored.record.updated_at),
            stage_history: None,
        }
    }

    pub fn with_history(mut self, events: &[DealEvent]) -> DealView {
        self.stage_history = Some(events.iter().map(HistoryView::from).collect());
        self
    }
}

#[derive(Debug, Serialize)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: crm_domain::segments::SegmentKind,
    pub rules: Option<Value>,
    pub refreshed_at: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&StoredSegment> for SegmentView {
    fn from(stored: &StoredSegment) -> SegmentView {
        let record = &stored.record;
        SegmentView {
            id: record.segment.id.clone(),
            name: record.segment.name.clone(),
            description: record.segment.description.clone(),
            kind: record.segment.kind,
            rules: record.segment.rules.as_ref().map(|rule| rule.to_json()),
            refreshed_at: record.segment.refreshed_at.map(rfc3339),
            version: stored.version,
            created_at: rfc3339(record.created_at),
            updated_at: rfc3339(record.updated_at),
        }
    }
}
