//! Deal transitions, the forecast and the analytics on fixtures with known answers.

#![allow(clippy::unwrap_used)]

mod analytics;
mod deals;
mod forecast;

use super::*;
use crate::time::{MILLIS_PER_DAY, Millis};

/// 2026-03-01T00:00:00Z.
const T0: i64 = 1_772_323_200_000;

fn at_day(days: i64) -> Millis {
    Millis(T0 + days * MILLIS_PER_DAY)
}

fn pipeline() -> Pipeline {
    let mut stage_ids = [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    .into_iter();
    Pipeline::default_pipeline("p1".to_owned(), || {
        stage_ids.next().unwrap_or("extra").to_owned()
    })
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn input(title: &str, amount: &str, code: &str) -> DealInput {
    DealInput {
        title: title.to_owned(),
        amount: Some(amount.to_owned()),
        currency: Some(code.to_owned()),
        ..DealInput::default()
    }
}

fn new_deal(id: &str, amount: &str, code: &str, stage: &str) -> Deal {
    let mut input = input(id, amount, code);
    input.stage_id = Some(stage.to_owned());
    input.owner_id = Some("rep-1".to_owned());
    let (deal, _) = input
        .validate(id.to_owned(), &pipeline(), "tester", Millis(T0))
        .unwrap();
    deal
}

fn paths(violations: &Violations) -> Vec<&str> {
    violations.0.iter().map(|v| v.path.as_str()).collect()
}
