use super::*;

#[test]
fn a_new_deal_starts_open_in_the_first_stage_with_a_created_event() {
    let (deal, event) = input("Acme renewal", "1200.50", "EUR")
        .validate("d1".to_owned(), &pipeline(), "u1", Millis(T0))
        .unwrap();
    assert_eq!(deal.stage_id, "lead");
    assert_eq!(deal.status, DealStatus::Open);
    assert_eq!(deal.amount, Money::new(120_050, currency("EUR")));
    assert_eq!(deal.probability(Some(&pipeline())).percent(), 10);
    assert_eq!(event.kind, DealEventKind::Created);
    assert_eq!(event.from_stage_id, None);
    assert_eq!(event.to_stage_id, "lead");
    assert_eq!(event.actor, "u1");
}

#[test]
fn every_field_problem_of_a_new_deal_is_reported() {
    let bad = DealInput {
        title: "  ".to_owned(),
        amount: Some("12.345".to_owned()),
        currency: Some("EUR".to_owned()),
        stage_id: Some("won".to_owned()),
        contact_id: Some(String::new()),
        expected_close_date: Some("2026-02-30".to_owned()),
        probability: Some(101),
        ..DealInput::default()
    };
    let error = bad
        .validate("d".to_owned(), &pipeline(), "u", Millis(T0))
        .unwrap_err();
    assert_eq!(
        paths(&error),
        [
            "title",
            "amount",
            "stage_id",
            "contact_id",
            "expected_close_date",
            "probability"
        ]
    );

    let missing = DealInput::default()
        .validate("d".to_owned(), &pipeline(), "u", Millis(T0))
        .unwrap_err();
    assert_eq!(paths(&missing), ["title", "currency", "amount"]);

    let negative = input("x", "-1", "EUR")
        .validate("d".to_owned(), &pipeline(), "u", Millis(T0))
        .unwrap_err();
    assert_eq!(paths(&negative), ["amount"]);
}

#[test]
fn stage_changes_record_from_to_and_whole_days_in_stage() {
    let mut deal = new_deal("d1", "100", "EUR", "lead");
    let event = deal
        .move_to_stage(
            &pipeline(),
            "proposal",
            None,
            "u2",
            Millis(T0 + 3 * MILLIS_PER_DAY + 5),
        )
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, DealEventKind::StageChanged);
    assert_eq!(event.from_stage_id.as_deref(), Some("lead"));
    assert_eq!(event.to_stage_id, "proposal");
    assert_eq!(event.days_in_stage, 3);
    assert_eq!(deal.reached_stage_ids, ["lead", "proposal"]);

    let unchanged = deal
        .move_to_stage(&pipeline(), "proposal", None, "u2", at_day(9))
        .unwrap();
    assert_eq!(unchanged, None);

    let error = deal
        .move_to_stage(&pipeline(), "nowhere", None, "u2", at_day(9))
        .unwrap_err();
    assert!(matches!(error, DealError::Invalid(v) if paths(&v) == ["stage_id"]));
}

#[test]
fn moving_to_a_closed_stage_wins_or_loses_and_an_open_one_reopens() {
    let mut deal = new_deal("d1", "100", "EUR", "lead");
    let error = deal
        .move_to_stage(&pipeline(), "lost", None, "u", at_day(1))
        .unwrap_err();
    assert!(matches!(error, DealError::Invalid(v) if paths(&v) == ["lost_reason"]));

    let lost = deal
        .move_to_stage(&pipeline(), "lost", Some("budget"), "u", at_day(1))
        .unwrap()
        .unwrap();
    assert_eq!(lost.kind, DealEventKind::Lost);
    assert_eq!(deal.status, DealStatus::Lost);
    assert_eq!(deal.lost_reason.as_deref(), Some("budget"));
    assert_eq!(deal.closed_at, Some(at_day(1)));

    deal.move_to_stage(&pipeline(), "qualified", None, "u", at_day(2))
        .unwrap();
    assert_eq!(deal.status, DealStatus::Open);
    assert_eq!(deal.lost_reason, None);
    assert_eq!(deal.closed_at, None);

    let won = deal
        .move_to_stage(&pipeline(), "won", None, "u", at_day(4))
        .unwrap()
        .unwrap();
    assert_eq!(won.kind, DealEventKind::Won);
    assert_eq!(won.days_in_stage, 2);
    assert_eq!(deal.status, DealStatus::Won);
}

#[test]
fn win_and_lose_move_to_the_closed_stages_once() {
    let mut deal = new_deal("d1", "100", "EUR", "proposal");
    let event = deal.win(&pipeline(), "u", at_day(5)).unwrap();
    assert_eq!(event.to_stage_id, "won");
    assert_eq!(deal.probability(Some(&pipeline())), Probability::CERTAIN);
    assert_eq!(
        deal.win(&pipeline(), "u", at_day(6)),
        Err(DealError::AlreadyClosed(DealStatus::Won))
    );

    let error = deal
        .lose(&pipeline(), Some("   "), "u", at_day(6))
        .unwrap_err();
    assert!(matches!(error, DealError::Invalid(v) if paths(&v) == ["reason"]));
    let event = deal
        .lose(&pipeline(), Some("went dark"), "u", at_day(6))
        .unwrap();
    assert_eq!(event.lost_reason.as_deref(), Some("went dark"));
    assert_eq!(deal.stage_id, "lost");
    assert_eq!(
        deal.lose(&pipeline(), Some("again"), "u", at_day(7)),
        Err(DealError::AlreadyClosed(DealStatus::Lost))
    );
}

#[test]
fn a_patch_changes_only_what_it_names_and_null_clears() {
    let mut deal = new_deal("d1", "10.50", "EUR", "lead");
    let patch: DealPatch = serde_json::from_value(serde_json::json!({
        "title": "Bigger",
        "currency": "USD",
        "owner_id": null,
        "probability": 80,
    }))
    .unwrap();
    deal.apply(patch).unwrap();
    assert_eq!(deal.title, "Bigger");
    assert_eq!(deal.amount, Money::new(1050, currency("USD")));
    assert_eq!(deal.owner_id, None);
    assert_eq!(deal.probability(Some(&pipeline())).percent(), 80);

    let to_yen: DealPatch = serde_json::from_value(serde_json::json!({"currency": "JPY"})).unwrap();
    let before = deal.clone();
    let error = deal.apply(to_yen).unwrap_err();
    assert_eq!(paths(&error), ["amount"]);
    assert_eq!(deal, before, "a refused patch changes nothing");

    let clear: DealPatch =
        serde_json::from_value(serde_json::json!({"probability": null})).unwrap();
    deal.apply(clear).unwrap();
    assert_eq!(deal.probability(Some(&pipeline())).percent(), 10);
}

#[test]
fn a_deal_round_trips_through_json() {
    let deal = new_deal("d1", "99.99", "KWD", "negotiation");
    let text = serde_json::to_string(&deal).unwrap();
    assert_eq!(serde_json::from_str::<Deal>(&text).unwrap(), deal);
}

#[test]
fn a_deal_scrubbed_by_a_contact_erasure_still_reads_back() {
    let mut deal = new_deal("d1", "5.00", "EUR", "lead");
    deal.contact_id = Some("c1".to_owned());
    let mut stored = serde_json::to_value(&deal).unwrap();
    stored["title"] = serde_json::Value::Null;
    stored["contact_id"] = serde_json::Value::Null;
    let read: Deal = serde_json::from_value(stored).unwrap();
    assert_eq!((read.title.as_str(), read.contact_id), ("", None));
}
