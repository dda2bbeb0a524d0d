//! A visitor that identifies (with consent) becomes a contact whose timeline shows its web
//! sessions; a conflicting identify is visible on both contacts; erasing either leaves no trace
//! of it anywhere in the store.

use axum::http::StatusCode;
use crm_domain::message::{BeaconEnvelope, IdentifyRequest};
use crm_store::repo::crm::ContactRepo;
use serde_json::{Value, json};

use crate::scenarios::create;
use crate::segment_scenarios::{create_segment, member_pages};
use crate::support::{NOW, TestApp, envelope, page_views};

fn identify(id: &str, visitor: &str, traits: Value) -> BeaconEnvelope {
    let mut identify = envelope(visitor, json!([]));
    identify.id = id.to_owned();
    identify.identify = Some(IdentifyRequest {
        ts: NOW,
        traits: traits.as_object().cloned().unwrap(),
    });
    identify
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/admin/crm/contacts/{id}/timeline?limit=100"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn of_type<'a>(entries: &'a [Value], kind: &str) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|entry| entry["type"] == kind)
        .collect()
}

async fn erase(app: &TestApp, id: &str) {
    let erased = app
        .admin(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/erase"),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
}

async fn assert_no_trace(app: &TestApp, secrets: &[&str]) {
    for text in app.all_item_texts().await {
        let lower = text.to_lowercase();
        for secret in secrets {
            assert!(!lower.contains(secret), "{secret} survives in {text}");
        }
    }
}

#[tokio::test]
async fn an_identified_visitor_shows_its_sessions_on_the_contact_timeline_and_erase_leaves_no_trace()
 {
    let app = TestApp::new().await;
    let other = create(&app, json!({"email": "other.person@example.com"})).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    app.score(vec![page_views("visitor-zed", &["/pricing", "/demo"])])
        .await;
    let traits = json!({"email": "Zed.Secret@Example.com", "name": "Zeddie Quux"});
    app.score(vec![identify("msg-identify-1", "visitor-zed", traits)])
        .await;

    let contacts = ContactRepo::new(app.table.clone());
    let zed = contacts
        .id_by_email("zed.secret@example.com")
        .await
        .unwrap()
        .unwrap();
    let (status, contact) = app.get(&format!("/api/admin/crm/contacts/{zed}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(contact["data"]["source"], "website");
    assert_eq!(contact["data"]["lifecycle_stage"], "lead");
    let entries = timeline(&app, &zed).await;
    let sessions = of_type(&entries, "web_session");
    assert_eq!(sessions.len(), 1, "{entries:?}");
    assert_eq!(sessions[0]["id"], "session-visitor-zed");
    assert_eq!(of_type(&entries, "visitor_linked").len(), 1, "{entries:?}");

    // The same browser identifies as the other contact: recorded on both, not merged.
    app.score(vec![identify(
        "msg-identify-2",
        "visitor-zed",
        json!({"email": "Other.Person@example.com"}),
    )])
    .await;
    assert_eq!(
        of_type(&timeline(&app, &zed).await, "identity_conflict").len(),
        1
    );
    let other_entries = timeline(&app, &other_id).await;
    assert_eq!(of_type(&other_entries, "identity_conflict").len(), 1);
    assert!(of_type(&other_entries, "web_session").is_empty());

    erase(&app, &zed).await;
    let zed_lower = zed.to_lowercase();
    assert_no_trace(
        &app,
        &[
            "zed.secret",
            "zeddie",
            "quux",
            "visitor-zed",
            zed_lower.as_str(),
        ],
    )
    .await;
    // The other contact's record of the conflict survives, without the erased person in it.
    assert_eq!(
        of_type(&timeline(&app, &other_id).await, "identity_conflict").len(),
        1
    );

    erase(&app, &other_id).await;
    let other_lower = other_id.to_lowercase();
    assert_no_trace(&app, &["other.person", other_lower.as_str()]).await;
}

#[tokio::test]
async fn a_visitor_linked_by_hand_is_rescored_on_the_event_path_and_not_taken_by_another_email() {
    let app = TestApp::new().await;
    let rex = create(
        &app,
        json!({"email": "rex@example.com", "company": "Rex Ltd",
               "linked_visitors": [{"site": "demo", "visitor": "visitor-rex"}]}),
    )
    .await;
    let rex_id = rex["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/admin/crm/contacts/{rex_id}");
    let (_, before) = app.get(&uri).await;

    app.score(vec![page_views(
        "visitor-rex",
        &["/", "/pricing", "/demo", "/pricing"],
    )])
    .await;
    let (_, after) = app.get(&uri).await;
    let lead = |body: &Value| body["data"]["lead_score"].as_i64().unwrap();
    assert!(lead(&after) > lead(&before), "{before} -> {after}");

    // The same browser identifies as someone else: a conflict, not a second contact's visitor.
    app.score(vec![identify(
        "msg-identify-rex",
        "visitor-rex",
        json!({"email": "someone.else@example.com"}),
    )])
    .await;
    assert_eq!(
        of_type(&timeline(&app, &rex_id).await, "identity_conflict").len(),
        1
    );
    let someone = ContactRepo::new(app.table.clone())
        .id_by_email("someone.else@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, someone) = app.get(&format!("/api/admin/crm/contacts/{someone}")).await;
    assert_eq!(someone["data"]["linked_visitors"], json!([]));
}

#[tokio::test]
async fn contacts_scored_on_the_event_path_or_created_by_identify_join_dynamic_segments_at_once() {
    let app = TestApp::new().await;
    let segment = |rules: Value| {
        let app = &app;
        async move {
            let body = json!({"name": "s", "kind": "dynamic", "rules": rules});
            create_segment(app, body).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let scored = segment(json!({"all": [{"field": "lead_score", "op": "gte", "value": 1}]})).await;
    let from_website =
        segment(json!({"all": [{"field": "source", "op": "eq", "value": "website"}]})).await;
    let members = |id: String| {
        let app = &app;
        async move { member_pages(app, &id, 50).await.concat() }
    };

    let rex = create(
        &app,
        json!({"email": "rex@example.com",
               "linked_visitors": [{"site": "demo", "visitor": "visitor-rex"}]}),
    )
    .await;
    assert!(members(scored.clone()).await.is_empty());
    app.score(vec![page_views("visitor-rex", &["/", "/pricing", "/demo"])])
        .await;
    assert_eq!(members(scored).await, [rex["id"].as_str().unwrap()]);

    app.score(vec![identify(
        "msg-identify-ivy",
        "visitor-ivy",
        json!({"email": "ivy@example.com"}),
    )])
    .await;
    let ivy = ContactRepo::new(app.table.clone())
        .id_by_email("ivy@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(members(from_website).await, [ivy]);
}
