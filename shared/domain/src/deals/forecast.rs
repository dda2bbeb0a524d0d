//! The sales forecast: per currency, what a period's deals add up to under five assumptions,
//! from the won amount alone (worst case) to every open deal (pipeline). Currencies are never
//! converted or mixed.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::currency::Currency;
use super::date::Date;
use super::deal::{Deal, DealStatus};
use super::money::Money;
use super::pipeline::Pipeline;
use super::rounding::div_half_even;
use super::violations::Violations;

/// Open deals at or above this probability are committed.
pub const COMMIT_PROBABILITY: u8 = 75;
/// Open deals at or above this probability count in the best case.
pub const BEST_CASE_PROBABILITY: u8 = 50;
/// A forecast spans at most this many days (ten years), to keep a request's work bounded.
pub const MAX_PERIOD_DAYS: i32 = 3660;

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Period, Violations> {
        if to < from {
            return Err(Violations::single("to", "must not be before from"));
        }
        if to.days() - from.days() >= MAX_PERIOD_DAYS {
            return Err(Violations::single(
                "to",
                format!("a period spans at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        Ok(Period { from, to })
    }

    pub fn contains(self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Which deals to forecast: those of the period, optionally of one pipeline and one owner.
#[derive(Debug, Clone, Copy)]
pub struct ForecastQuery<'a> {
    pub period: Period,
    pub pipeline_id: Option<&'a str>,
    pub owner_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyForecast {
    pub currency: Currency,
    pub won_count: u64,
    pub open_count: u64,
    pub worst_case: Money,
    pub commit: Money,
    pub best_case: Money,
    pub pipeline: Money,
    pub weighted: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {0} forecast exceeds the largest representable amount")]
pub struct ForecastOverflow(pub Currency);

#[derive(Default)]
struct Sums {
    won_count: u64,
    open_count: u64,
    won: i128,
    commit_open: i128,
    best_open: i128,
    all_open: i128,
    /// Σ amount × probability, in hundredths of a minor unit: divided by 100 only once, at the
    /// end, so the weighted figure is rounded once rather than per deal.
    weighted_open: i128,
}

/// The forecast of the deals that fall in the query, one entry per currency in code order. A
/// won deal falls in the period by the day it was won, an open deal by its expected close date
/// (open deals without one are not forecast); lost deals never count.
pub fn forecast(
    deals: &[Deal],
    pipelines: &[Pipeline],
    query: &ForecastQuery<'_>,
) -> Result<Vec<CurrencyForecast>, ForecastOverflow> {
    let pipelines: HashMap<&str, &Pipeline> =
        pipelines.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut sums: BTreeMap<&'static str, (Currency, Sums)> = BTreeMap::new();
    for deal in deals {
        if query.pipeline_id.is_some_and(|id| id != deal.pipeline_id)
            || query
                .owner_id
                .is_some_and(|id| Some(id) != deal.owner_id.as_deref())
        {
            continue;
        }
        let date = match deal.status {
            DealStatus::Won => deal.closed_at.map(Date::of),
            DealStatus::Open => deal.expected_close_date,
            DealStatus::Lost => None,
        };
        if !date.is_some_and(|date| query.period.contains(date)) {
            continue;
        }
        let currency = deal.amount.currency;
        let (_, entry) = sums
            .entry(currency.code())
            .or_insert_with(|| (currency, Sums::default()));
        let amount = i128::from(deal.amount.minor);
        if deal.status == DealStatus::Won {
            entry.won_count += 1;
            entry.won += amount;
            continue;
        }
        let probability = deal
            .probability(pipelines.get(deal.pipeline_id.as_str()).copied())
            .percent();
        entry.open_count += 1;
        entry.all_open += amount;
        entry.weighted_open += amount * i128::from(probability);
        if probability >= COMMIT_PROBABILITY {
            entry.commit_open += amount;
        }
        if probability >= BEST_CASE_PROBABILITY {
            entry.best_open += amount;
        }
    }
    sums.into_values()
        .map(|(currency, sums)| {
            let money = |minor: i128| {
                i64::try_from(minor)
                    .map(|minor| Money::new(minor, currency))
                    .map_err(|_| ForecastOverflow(currency))
            };
            Ok(CurrencyForecast {
                currency,
                won_count: sums.won_count,
                open_count: sums.open_count,
                worst_case: money(sums.won)?,
                commit: money(sums.won + sums.commit_open)?,
                best_case: money(sums.won + sums.best_open)?,
                pipeline: money(sums.won + sums.all_open)?,
                weighted: money(sums.won + div_half_even(sums.weighted_open, 100))?,
            })
        })
        .collect()
}
