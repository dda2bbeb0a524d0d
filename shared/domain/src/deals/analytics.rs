//! Pipeline analytics: where the deals of one pipeline stand, how they move from stage to stage,
//! how many are won, how large and how long a won deal is. Money stays per currency.

use std::collections::BTreeMap;

use serde::Serialize;

use super::currency::Currency;
use super::deal::{Deal, DealStatus};
use super::money::Money;
use super::pipeline::Pipeline;
use super::rounding::{div_half_even, percent_tenths};
use crate::time::MILLIS_PER_DAY;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageAnalytics {
    pub stage_id: String,
    pub name: String,
    pub closed_won: bool,
    pub closed_lost: bool,
    /// Deals in the stage now.
    pub count: u64,
    /// Their summed amounts, one entry per currency in code order.
    pub value: Vec<Money>,
    /// Deals that ever got this far (see [`pipeline_analytics`]); `None` for the lost stage.
    pub reached: Option<u64>,
    /// Percentage of the deals that reached this stage which reached the next open stage (or,
    /// from the last open stage, were won); `None` for closed stages or when none reached it.
    pub conversion_to_next: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineAnalytics {
    pub pipeline_id: String,
    pub deal_count: u64,
    pub open_count: u64,
    pub won_count: u64,
    pub lost_count: u64,
    /// won / (won + lost), in percent with one decimal.
    pub win_rate: Option<f64>,
    /// Mean amount of won deals per currency, rounded half-even to minor units.
    pub average_deal_size: Vec<Money>,
    /// Mean days from creation to winning, over won deals, with one decimal.
    pub average_cycle_days: Option<f64>,
    pub stages: Vec<StageAnalytics>,
}

/// Analytics of `pipeline` over `deals` (those of other pipelines are ignored).
///
/// The funnel is cumulative: a deal counts as having reached every open stage up to the furthest
/// one it was ever in (a deal created in Proposal has passed Lead and Qualified), and a won deal
/// as having reached them all. Conversion from open stage *i* is reached(*i*+1) / reached(*i*).
pub fn pipeline_analytics(pipeline: &Pipeline, deals: &[Deal]) -> PipelineAnalytics {
    let open_ids: Vec<&str> = pipeline.open_stages().map(|s| s.id.as_str()).collect();
    let deals: Vec<&Deal> = deals
        .iter()
        .filter(|deal| deal.pipeline_id == pipeline.id)
        .collect();
    let count_status =
        |status: DealStatus| deals.iter().filter(|deal| deal.status == status).count() as u64;
    let (open_count, won_count, lost_count) = (
        count_status(DealStatus::Open),
        count_status(DealStatus::Won),
        count_status(DealStatus::Lost),
    );

    // reached_open[i]: deals whose furthest open stage is at least open stage i.
    let mut reached_open = vec![0_u64; open_ids.len()];
    for deal in &deals {
        let furthest = if deal.status == DealStatus::Won {
            Some(open_ids.len())
        } else {
            deal.reached_stage_ids
                .iter()
                .filter_map(|id| open_ids.iter().position(|open| open == id))
                .max()
                .map(|position| position + 1)
        };
        for reached in reached_open.iter_mut().take(furthest.unwrap_or(0)) {
            *reached += 1;
        }
    }

    let stages = pipeline
        .stages
        .iter()
        .map(|stage| {
            let in_stage: Vec<&&Deal> = deals.iter().filter(|d| d.stage_id == stage.id).collect();
            let open_index = open_ids.iter().position(|id| *id == stage.id);
            let reached = match open_index {
                Some(index) => Some(reached_open[index]),
                None if stage.closed_won => Some(won_count),
                None => None,
            };
            let conversion_to_next = open_index.and_then(|index| {
                let next = reached_open.get(index + 1).copied().unwrap_or(won_count);
                percent_tenths(next, reached_open[index])
            });
            StageAnalytics {
                stage_id: stage.id.clone(),
                name: stage.name.clone(),
                closed_won: stage.closed_won,
                closed_lost: stage.closed_lost,
                count: in_stage.len() as u64,
                value: per_currency(in_stage.iter().map(|d| d.amount))
                    .into_iter()
                    .map(|(currency, (sum, _))| money(currency, sum))
                    .collect(),
                reached,
                conversion_to_next,
            }
        })
        .collect();

    let won: Vec<&&Deal> = deals
        .iter()
        .filter(|deal| deal.status == DealStatus::Won)
        .collect();
    let average_deal_size = per_currency(won.iter().map(|d| d.amount))
        .into_iter()
        .map(|(currency, (sum, count))| money(currency, div_half_even(sum, i128::from(count))))
        .collect();
    let cycle_ms: i128 = won
        .iter()
        .filter_map(|deal| {
            deal.closed_at
                .map(|at| at.saturating_sub(deal.created_at).max(0))
        })
        .map(i128::from)
        .sum();
    let average_cycle_days = (won_count > 0).then(|| {
        let tenths = div_half_even(
            cycle_ms * 10,
            i128::from(won_count) * i128::from(MILLIS_PER_DAY),
        );
        tenths as f64 / 10.0
    });

    PipelineAnalytics {
        pipeline_id: pipeline.id.clone(),
        deal_count: deals.len() as u64,
        open_count,
        won_count,
        lost_count,
        win_rate: percent_tenths(won_count, won_count + lost_count),
        average_deal_size,
        average_cycle_days,
        stages,
    }
}

/// Sums and counts per currency, in code order.
fn per_currency(amounts: impl Iterator<Item = Money>) -> BTreeMap<Currency, (i128, u64)> {
    let mut sums: BTreeMap<Currency, (i128, u64)> = BTreeMap::new();
    for amount in amounts {
        let (sum, count) = sums.entry(amount.currency).or_default();
        *sum += i128::from(amount.minor);
        *count += 1;
    }
    sums
}

/// A sum of stored amounts as money. Stored amounts are capped far below `i64::MAX`, so only an
/// absurd number of deals could overflow; that saturates rather than fail a read-only report.
fn money(currency: Currency, minor: i128) -> Money {
    let clamped = minor.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Money::new(i64::try_from(clamped).unwrap_or(i64::MAX), currency)
}
