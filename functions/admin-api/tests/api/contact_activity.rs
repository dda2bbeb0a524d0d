//! Interactions, timeline, lifecycle, score recalculation, leads and the contact analytics.

use admin_api::Role;
use axum::http::StatusCode;
use crm_domain::engine::{
    FitInputs, InteractionFact, LeadActivity, LeadConfig, LeadInputs, VisitorActivity, lead_score,
};
use crm_domain::site::SiteId;
use crm_store::repo::BehaviorRepo;
use serde_json::{Value, json};

use crate::contacts::create;
use crate::support::{NOW, Reply, TestApp, page_views, token_for};

fn kinds(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn interactions_are_logged_listed_and_validated() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io", "owner_id": "rep-1"})).await;
    let uri = format!(
        "/api/admin/crm/contacts/{}/interactions",
        contact["id"].as_str().unwrap()
    );
    for subject in ["first call", "second call", "third call"] {
        let reply = app
            .admin(
                "POST",
                &uri,
                &json!({"kind": "call", "direction": "outbound", "subject": subject,
                                         "sentiment": "positive", "follow_up_date": "2026-01-02"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let (_, page) = app.get(&format!("{uri}?limit=2")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app.get(&format!("{uri}?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);

    for bad in [
        json!({"kind": "fax"}),
        json!({"kind": "note"}),
        json!({"kind": "call", "follow_up_date": "tomorrow"}),
    ] {
        let reply = app.admin("POST", &uri, &bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let success = token_for("cs", Role::CustomerSuccess);
    assert_eq!(
        app.json("POST", &uri, &success, &json!({"kind": "chat"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let other_rep = token_for("rep-2", Role::SalesRep);
    assert_eq!(
        app.json("POST", &uri, &other_rep, &json!({"kind": "chat"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = app
        .admin(
            "POST",
            "/api/admin/crm/contacts/nobody/interactions",
            &json!({"kind": "chat"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_lifecycle_changes_by_hand_with_a_reason_and_shows_on_the_timeline() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io"})).await;
    let id = contact["id"].as_str().unwrap();
    let uri = format!("/api/admin/crm/contacts/{id}/lifecycle");
    let changed = app
        .admin(
            "PUT",
            &uri,
            &json!({"stage": "customer", "reason": "signed the contract"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["data"]["lifecycle_stage"], "customer");
    assert_eq!(
        app.admin(
            "PUT",
            &uri,
            &json!({"stage": "customer", "reason": "again"})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.admin("PUT", &uri, &json!({"stage": "churned", "reason": " "}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.admin("PUT", &uri, &json!({"stage": "gone", "reason": "x"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let (_, lifecycle) = app.get(&uri).await;
    assert_eq!(lifecycle["data"]["stage"], "customer");
    let transitions = lifecycle["data"]["transitions"].as_array().unwrap();
    assert_eq!(transitions.len(), 2);
    assert_eq!(
        transitions
            .iter()
            .filter(|t| t["reason"] == "signed the contract")
            .count(),
        1
    );

    app.admin(
        "POST",
        &format!("/api/admin/crm/contacts/{id}/interactions"),
        &json!({"kind": "note", "content": "likes blue"}),
    )
    .await;
    let (_, timeline) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline"))
        .await;
    let kinds = kinds(&timeline);
    assert!(
        kinds.contains(&"interaction".to_owned()) && kinds.contains(&"lifecycle".to_owned()),
        "{kinds:?}"
    );

    let (_, analytics) = app
        .get("/api/admin/crm/analytics/lifecycle?from=2025-01-01&to=2025-12-31")
        .await;
    assert_eq!(analytics["data"]["count_per_stage"]["customer"], 1);
    assert_eq!(analytics["data"]["count_per_stage"]["lead"], 0);
    assert_eq!(analytics["data"]["transitions_total"], 2, "{analytics}");
    let (status, _) = app
        .get("/api/admin/crm/analytics/lifecycle?from=2025-12-31&to=2025-01-01")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let rep = token_for("rep", Role::SalesRep);
    assert_eq!(
        app.request("GET", "/api/admin/crm/analytics/lifecycle", Some(&rep))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_timeline_pages_through_every_kind_of_entry_once() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io"})).await;
    let id = contact["id"].as_str().unwrap();
    for index in 0..4 {
        app.admin(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/interactions"),
            &json!({"kind": "note", "content": format!("n{index}")}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut uri = format!("/api/admin/crm/contacts/{id}/timeline?limit=2");
    loop {
        let (status, page) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/admin/crm/contacts/{id}/timeline?limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(
        (count, seen.len()),
        (5, 5),
        "4 notes and the creation, each once"
    );
}

#[tokio::test]
async fn leads_are_qualified_followed_up_and_converted() {
    let app = TestApp::new().await;
    let lead = create(&app, json!({"email": "lead@x.io"})).await;
    create(
        &app,
        json!({"email": "cust@x.io", "lifecycle_stage": "customer"}),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let (_, leads) = app.get("/api/admin/crm/leads").await;
    assert_eq!(leads["data"].as_array().unwrap().len(), 1);

    let qualified = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/qualify"),
            &json!({}),
        )
        .await;
    assert_eq!(qualified.status, StatusCode::OK, "{}", qualified.text);
    assert_eq!(qualified.body["data"]["qualification"], "qualified");
    assert_eq!(qualified.body["data"]["lifecycle_stage"], "prospect");

    let follow_up = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/schedule-follow-up"),
            &json!({"date": "2025-11-01", "note": "call back"}),
        )
        .await;
    assert_eq!(follow_up.status, StatusCode::OK, "{}", follow_up.text);
    assert_eq!(follow_up.body["data"]["follow_up"]["due"], "2025-11-01");
    let (_, due) = app.get("/api/admin/crm/leads?follow_up_due=true").await;
    assert_eq!(due["data"].as_array().unwrap().len(), 1, "{due}");
    let bad_date = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/schedule-follow-up"),
            &json!({"date": "soon"}),
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);

    let converted = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/convert"),
            &json!({"reason": "bought"}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.text);
    assert_eq!(converted.body["data"]["lifecycle_stage"], "customer");
    let again = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/convert"),
            &json!({}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a customer is no longer a lead"
    );
    let (_, leads) = app.get("/api/admin/crm/leads").await;
    assert_eq!(leads["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn at_risk_and_high_value_lists_use_their_thresholds() {
    let app = TestApp::new().await;
    create(
        &app,
        json!({"email": "sick@x.io", "health_score": 20, "lead_score": 10}),
    )
    .await;
    create(
        &app,
        json!({"email": "fine@x.io", "health_score": 80, "lead_score": 95}),
    )
    .await;
    create(&app, json!({"email": "mid@x.io", "lead_score": 70})).await;
    let (_, risk) = app.get("/api/admin/crm/contacts/at-risk").await;
    assert_eq!(risk["data"].as_array().unwrap().len(), 1);
    assert_eq!(risk["data"][0]["email"], "sick@x.io");
    let (_, high) = app.get("/api/admin/crm/contacts/high-value").await;
    let emails: Vec<&str> = high["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["fine@x.io", "mid@x.io"]);
    let (_, higher) = app
        .get("/api/admin/crm/contacts/high-value?min_lead_score=90")
        .await;
    assert_eq!(higher["data"].as_array().unwrap().len(), 1);
}

/// The admin's POST to a contact's recalculate-score.
async fn recalculate(app: &TestApp, id: &str, token: &str) -> Reply {
    app.json(
        "POST",
        &format!("/api/admin/crm/contacts/{id}/recalculate-score"),
        token,
        &json!({}),
    )
    .await
}

fn score_changes(timeline: &Value) -> Vec<Value> {
    timeline["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "score_change")
        .cloned()
        .collect()
}

#[tokio::test]
async fn recalculating_scores_fit_visits_and_interactions_with_the_engine_once() {
    let app = TestApp::new().await;
    app.score(vec![page_views(
        "visitor-rex",
        &["/", "/pricing", "/features"],
    )])
    .await;
    let contact = create(
        &app,
        json!({"email": "rex@acme.test", "first_name": "Rex", "company": "Acme",
               "job_title": "Head of Sales", "owner_id": "rep-1",
               "linked_visitors": [{"site": "demo", "visitor": "visitor-rex"}]}),
    )
    .await;
    let id = contact["id"].as_str().unwrap();
    for interaction in [
        json!({"kind": "call", "direction": "inbound", "subject": "pricing question"}),
        json!({"kind": "email", "direction": "outbound", "subject": "our offer"}),
        json!({"kind": "note", "content": "keen"}),
    ] {
        let logged = app
            .admin(
                "POST",
                &format!("/api/admin/crm/contacts/{id}/interactions"),
                &interaction,
            )
            .await;
        assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    }

    // What the engine says, from inputs built here by hand: 3 of the 6 profile fields, the
    // visitor's stored profile (its last visit dates its pricing view), two interactions (the
    // note is not one), read at the test clock's now.
    let profile = BehaviorRepo::new(app.table.clone())
        .get_profile(&SiteId::parse("demo").unwrap(), "visitor-rex")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.totals.intent_page_views, 1);
    let inputs = LeadInputs {
        fit: FitInputs {
            has_company: true,
            job_title: Some("Head of Sales".to_owned()),
            fields_filled: 3,
            fields_total: 6,
        },
        activity: LeadActivity::recalculate(
            &[VisitorActivity::from_profile(
                &profile,
                Some(profile.last_seen),
            )],
            &[
                InteractionFact {
                    at: NOW,
                    inbound: true,
                },
                InteractionFact {
                    at: NOW,
                    inbound: false,
                },
            ],
        ),
    };
    let expected = lead_score(&inputs, &LeadConfig::default(), NOW);

    // Each logged interaction rescored the contact at once (cause `interaction`): the stored
    // score is already the engine's, and the first score change is on the timeline.
    let (_, stored) = app.get(&format!("/api/admin/crm/contacts/{id}")).await;
    assert_eq!(stored["data"]["lead_score"], expected.whole(), "{stored}");
    let (_, timeline) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline"))
        .await;
    let changes = score_changes(&timeline);
    assert!(!changes.is_empty(), "{timeline}");
    for change in &changes {
        assert_eq!(
            (
                change["detail"]["kind"].clone(),
                change["detail"]["cause"].clone()
            ),
            (json!("lead"), json!("interaction")),
            "{change}"
        );
        assert_eq!(change["detail"]["factors"].as_array().unwrap().len(), 5);
    }

    // Recalculating from what is stored gives the same score and writes nothing.
    let first = recalculate(&app, id, &app.token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let data = &first.body["data"];
    assert_eq!(data["score"], json!(expected.score), "{data}");
    assert_eq!(data["lead_score"], expected.whole());
    assert_eq!(
        (data["previous"].clone(), data["changed"].clone()),
        (json!(expected.whole()), json!(false))
    );
    let factors = data["factors"].as_array().unwrap();
    let names: Vec<&str> = factors
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["fit", "behavioral", "engagement", "intent", "timing"]
    );
    let points: f64 = factors.iter().map(|f| f["points"].as_f64().unwrap()).sum();
    assert_eq!((points * 10.0).round() / 10.0, expected.score);
    assert!(
        factors.iter().all(|f| f["value"].as_f64().unwrap() > 0.0),
        "{data}"
    );
    assert_eq!(data["score_change"], Value::Null);
    assert_eq!(
        first.etag(),
        format!("\"v{}\"", stored["data"]["version"]),
        "nothing was written"
    );
    let (_, timeline) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline"))
        .await;
    assert_eq!(score_changes(&timeline).len(), changes.len(), "{timeline}");

    let (_, audit) = app
        .get(&format!(
            "/api/admin/audit?entity_type=contact&entity_id={id}"
        ))
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert!(actions.contains(&"rescore"), "{audit}");
    assert!(!actions.contains(&"recalculate_score"), "{audit}");
}

#[tokio::test]
async fn recalculating_without_behavior_or_interactions_leaves_the_fit_alone() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io", "lead_score": 33})).await;
    let id = contact["id"].as_str().unwrap();
    let reply = recalculate(&app, id, &app.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let data = &reply.body["data"];
    assert_eq!(
        (data["score"].clone(), data["lead_score"].clone()),
        (json!(0.0), json!(0))
    );
    assert_eq!(data["previous"], 33);
    assert_eq!(data["score_change"]["old"], json!(33.0), "{data}");
    let (_, timeline) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline"))
        .await;
    assert_eq!(score_changes(&timeline).len(), 1);
}

#[tokio::test]
async fn recalculating_follows_the_role_policy_and_an_unknown_contact_is_404() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io", "owner_id": "rep-1"})).await;
    let id = contact["id"].as_str().unwrap();
    for (token, expected) in [
        (token_for("rep-1", Role::SalesRep), StatusCode::OK),
        (token_for("rep-2", Role::SalesRep), StatusCode::FORBIDDEN),
        (
            token_for("cs", Role::CustomerSuccess),
            StatusCode::FORBIDDEN,
        ),
        (token_for("m", Role::SalesManager), StatusCode::OK),
        (app.token.clone(), StatusCode::OK),
    ] {
        let reply = recalculate(&app, id, &token).await;
        assert_eq!(reply.status, expected, "{}", reply.text);
    }
    let anonymous = app
        .send(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/recalculate-score"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let missing = recalculate(&app, "nobody", &app.token).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    assert_eq!(missing.body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn converting_with_a_deal_creates_it_for_the_contact_and_the_timeline_shows_it() {
    let app = TestApp::new().await;
    let lead = create(&app, json!({"email": "lead@x.io"})).await;
    let id = lead["id"].as_str().unwrap();
    let invalid = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/convert"),
            &json!({"deal": {"title": "Pilot", "amount": "12.5x", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST, "{}", invalid.text);
    let (_, still) = app.get(&format!("/api/admin/crm/contacts/{id}")).await;
    assert_eq!(
        still["data"]["lifecycle_stage"], "lead",
        "a refused deal converts nothing"
    );

    let converted = app
        .admin(
            "POST",
            &format!("/api/admin/crm/leads/{id}/convert"),
            &json!({"deal": {"title": "Pilot", "amount": "1200.00", "currency": "EUR"}}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.text);
    assert_eq!(converted.body["data"]["lifecycle_stage"], "customer");
    assert_eq!(converted.body["data"]["deal"]["contact_id"], id);
    let (_, timeline) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline"))
        .await;
    assert!(
        kinds(&timeline).contains(&"deal_event".to_owned()),
        "{timeline}"
    );
}
