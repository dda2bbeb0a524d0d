use super::*;

fn moved(mut deal: Deal, moves: &[(&str, i64)]) -> Deal {
    let p = pipeline();
    for (stage, day) in moves {
        let reason = (*stage == "lost").then_some("budget");
        deal.move_to_stage(&p, stage, reason, "u", at_day(*day))
            .unwrap();
    }
    deal
}

/// The fixture of docs/crm-api.md's worked example.
fn fixture() -> Vec<Deal> {
    vec![
        moved(
            new_deal("a", "1000.00", "EUR", "lead"),
            &[("qualified", 2), ("proposal", 4), ("won", 10)],
        ),
        moved(new_deal("b", "300.00", "EUR", "lead"), &[("lost", 5)]),
        new_deal("c", "500.00", "EUR", "proposal"),
        new_deal("d", "200.00", "USD", "qualified"),
        moved(
            new_deal("e", "2000.01", "EUR", "lead"),
            &[("negotiation", 1), ("won", 5)],
        ),
    ]
}

#[test]
fn the_fixture_analytics_have_the_documented_figures() {
    let result = pipeline_analytics(&pipeline(), &fixture());
    assert_eq!(
        (
            result.deal_count,
            result.open_count,
            result.won_count,
            result.lost_count
        ),
        (5, 2, 2, 1)
    );
    assert_eq!(result.win_rate, Some(66.7));
    // (1000.00 + 2000.01) / 2 = 1500.005 → 1500.00 (half-even on the half cent).
    let sizes: Vec<String> = result
        .average_deal_size
        .iter()
        .map(Money::to_string)
        .collect();
    assert_eq!(sizes, ["1500.00 EUR"]);
    assert_eq!(result.average_cycle_days, Some(7.5));

    let rows: Vec<(&str, u64, Option<u64>, Option<f64>)> = result
        .stages
        .iter()
        .map(|s| {
            (
                s.stage_id.as_str(),
                s.count,
                s.reached,
                s.conversion_to_next,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("lead", 0, Some(5), Some(80.0)),
            ("qualified", 1, Some(4), Some(75.0)),
            ("proposal", 1, Some(3), Some(66.7)),
            ("negotiation", 0, Some(2), Some(100.0)),
            ("won", 2, Some(2), None),
            ("lost", 1, None, None),
        ]
    );
    let won_value: Vec<String> = result.stages[4]
        .value
        .iter()
        .map(Money::to_string)
        .collect();
    assert_eq!(won_value, ["3000.01 EUR"]);
    let qualified: Vec<String> = result.stages[1]
        .value
        .iter()
        .map(Money::to_string)
        .collect();
    assert_eq!(qualified, ["200.00 USD"]);
}

#[test]
fn an_empty_pipeline_has_no_rates() {
    let result = pipeline_analytics(&pipeline(), &[]);
    assert_eq!(result.win_rate, None);
    assert_eq!(result.average_cycle_days, None);
    assert!(result.average_deal_size.is_empty());
    assert!(result.stages.iter().all(|s| s.conversion_to_next.is_none()));
}

#[test]
fn deals_of_other_pipelines_are_ignored() {
    let mut elsewhere = new_deal("x", "1.00", "EUR", "lead");
    elsewhere.pipeline_id = "p2".to_owned();
    assert_eq!(pipeline_analytics(&pipeline(), &[elsewhere]).deal_count, 0);
}
