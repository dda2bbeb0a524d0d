use proptest::prelude::*;

use super::*;

fn march() -> Period {
    Period::new(
        Date::parse("2026-03-01").unwrap(),
        Date::parse("2026-03-31").unwrap(),
    )
    .unwrap()
}

fn query(owner_id: Option<&str>) -> ForecastQuery<'_> {
    ForecastQuery {
        period: march(),
        pipeline_id: None,
        owner_id,
    }
}

fn open(id: &str, amount: &str, code: &str, stage: &str, close: &str) -> Deal {
    let mut deal = new_deal(id, amount, code, stage);
    deal.expected_close_date = Some(Date::parse(close).unwrap());
    deal
}

fn won(id: &str, amount: &str, code: &str, on_day: i64) -> Deal {
    let mut deal = new_deal(id, amount, code, "proposal");
    deal.win(&pipeline(), "u", at_day(on_day)).unwrap();
    deal
}

/// The fixture of docs/crm-api.md's worked example.
fn fixture() -> Vec<Deal> {
    let mut overridden = open("e", "100.01", "EUR", "lead", "2026-03-01");
    overridden.probability_override = Some(Probability::new(60).unwrap());
    let mut lost = open("f", "500.00", "EUR", "proposal", "2026-03-10");
    lost.lose(&pipeline(), Some("budget"), "u", at_day(3))
        .unwrap();
    let mut undated = new_deal("i", "999.00", "EUR", "negotiation");
    undated.expected_close_date = None;
    let mut other_owner = open("j", "40.00", "GBP", "negotiation", "2026-03-05");
    other_owner.owner_id = Some("rep-2".to_owned());
    vec![
        won("a", "1000.00", "EUR", 9),
        open("b", "200.00", "EUR", "negotiation", "2026-03-20"),
        open("c", "333.33", "EUR", "proposal", "2026-03-15"),
        open("d", "10.02", "EUR", "qualified", "2026-03-31"),
        overridden,
        lost,
        open("g", "700.00", "EUR", "negotiation", "2026-04-01"),
        won("h", "800.00", "EUR", 40),
        undated,
        other_owner,
        open("k", "25", "JPY", "proposal", "2026-03-02"),
        won("l", "1.00", "USD", 0),
        open("m", "0.35", "USD", "proposal", "2026-03-31"),
    ]
}

fn figures(forecast: &CurrencyForecast) -> [String; 5] {
    [
        forecast.worst_case.to_decimal(),
        forecast.commit.to_decimal(),
        forecast.best_case.to_decimal(),
        forecast.pipeline.to_decimal(),
        forecast.weighted.to_decimal(),
    ]
}

#[test]
fn the_fixture_forecast_has_the_documented_figures() {
    let result = forecast(&fixture(), &[pipeline()], &query(None)).unwrap();
    let codes: Vec<_> = result.iter().map(|f| f.currency.code()).collect();
    assert_eq!(codes, ["EUR", "GBP", "JPY", "USD"]);

    let eur = &result[0];
    assert_eq!((eur.won_count, eur.open_count), (1, 4));
    // weighted: 1000.00 + (200.00×75 + 333.33×50 + 10.02×25 + 100.01×60) / 100
    //         = 1000.00 + 379.1760 → 1379.18
    assert_eq!(
        figures(eur),
        ["1000.00", "1200.00", "1633.34", "1643.36", "1379.18"]
    );
    assert_eq!(
        figures(&result[1]),
        ["0.00", "40.00", "40.00", "40.00", "30.00"]
    );
    // 25 JPY at 50 % is 12.5 yen: half-even rounds to 12, not 13.
    assert_eq!(figures(&result[2]), ["0", "0", "25", "25", "12"]);
    // 0.35 USD at 50 % is 17.5 cents: half-even rounds to 18.
    assert_eq!(
        figures(&result[3]),
        ["1.00", "1.00", "1.35", "1.35", "1.18"]
    );
}

#[test]
fn the_owner_filter_keeps_only_that_owners_deals() {
    let result = forecast(&fixture(), &[pipeline()], &query(Some("rep-2"))).unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].currency.code(), "GBP");
    let none = forecast(&fixture(), &[pipeline()], &query(Some("nobody"))).unwrap();
    assert!(none.is_empty());
}

#[test]
fn the_pipeline_filter_keeps_only_that_pipelines_deals() {
    let mut elsewhere = open("z", "5.00", "EUR", "proposal", "2026-03-03");
    elsewhere.pipeline_id = "p2".to_owned();
    let q = ForecastQuery {
        pipeline_id: Some("p2"),
        ..query(None)
    };
    let result = forecast(&[elsewhere], &[pipeline()], &q).unwrap();
    // The deal's pipeline is unknown here, so its stage probability is 0.
    assert_eq!(
        figures(&result[0]),
        ["0.00", "0.00", "0.00", "5.00", "0.00"]
    );
}

#[test]
fn weighted_is_rounded_once_over_the_sum_not_per_deal() {
    // Two cents at 50 %: per deal 0.5 → 0 each, but the exact sum is one whole cent.
    let deals = [
        open("a", "0.01", "EUR", "proposal", "2026-03-02"),
        open("b", "0.01", "EUR", "proposal", "2026-03-02"),
    ];
    let result = forecast(&deals, &[pipeline()], &query(None)).unwrap();
    assert_eq!(result[0].weighted.minor, 1);
}

#[test]
fn a_period_must_run_forwards_and_stay_bounded() {
    let day = |text| Date::parse(text).unwrap();
    assert!(Period::new(day("2026-03-02"), day("2026-03-01")).is_err());
    assert!(Period::new(day("2026-03-01"), day("2026-03-01")).is_ok());
    assert!(Period::new(day("2000-01-01"), day("2026-03-01")).is_err());
}

fn arbitrary_deal() -> impl Strategy<Value = (i64, u8, u8, bool)> {
    // (amount in cents, probability, status 0 open / 1 won / 2 lost, overridden)
    (0_i64..1_000_000_000, 0_u8..=100, 0_u8..3, any::<bool>())
}

fn build(index: usize, (amount, probability, status, overridden): (i64, u8, u8, bool)) -> Deal {
    let stage = ["lead", "qualified", "proposal", "negotiation"][index % 4];
    let mut deal = new_deal(&format!("d{index}"), "0", "EUR", stage);
    deal.amount = Money::new(amount, currency("EUR"));
    deal.expected_close_date = Some(Date::parse("2026-03-10").unwrap());
    if overridden {
        deal.probability_override = Some(Probability::new(i64::from(probability)).unwrap());
    }
    match status {
        1 => {
            deal.win(&pipeline(), "u", at_day(2)).unwrap();
        }
        2 => {
            deal.lose(&pipeline(), Some("r"), "u", at_day(2)).unwrap();
        }
        _ => {}
    }
    deal
}

proptest! {
    #[test]
    fn the_five_figures_are_ordered(specs in prop::collection::vec(arbitrary_deal(), 0..40)) {
        let deals: Vec<Deal> = specs.into_iter().enumerate().map(|(i, s)| build(i, s)).collect();
        for f in forecast(&deals, &[pipeline()], &query(None)).unwrap() {
            prop_assert!(f.worst_case.minor <= f.commit.minor);
            prop_assert!(f.commit.minor <= f.best_case.minor);
            prop_assert!(f.best_case.minor <= f.pipeline.minor);
            prop_assert!(f.worst_case.minor <= f.weighted.minor);
            prop_assert!(f.weighted.minor <= f.pipeline.minor);
        }
    }

    #[test]
    fn weighted_is_the_exact_sum_rounded_half_even(specs in prop::collection::vec(arbitrary_deal(), 1..40)) {
        let deals: Vec<Deal> = specs.into_iter().enumerate().map(|(i, s)| build(i, s)).collect();
        let p = pipeline();
        let mut won = 0_i128;
        let mut exact_hundredths = 0_i128;
        for deal in &deals {
            match deal.status {
                DealStatus::Won => won += i128::from(deal.amount.minor),
                DealStatus::Open => {
                    exact_hundredths += i128::from(deal.amount.minor)
                        * i128::from(deal.probability(Some(&p)).percent());
                }
                DealStatus::Lost => {}
            }
        }
        let result = forecast(&deals, &[p], &query(None)).unwrap();
        let weighted = result.first().map_or(0, |f| i128::from(f.weighted.minor)) - won;
        // Within half a minor unit of the exact value, and on a tie the even neighbour.
        let error = weighted * 100 - exact_hundredths;
        prop_assert!(error.abs() <= 50, "off by {error} hundredths");
        if error.abs() == 50 {
            prop_assert_eq!(weighted % 2, 0);
        }
    }
}
