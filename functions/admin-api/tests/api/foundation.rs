//! What every route shares: the OpenAPI document matches the Router, no admin route answers
//! without a valid token, and bad input of any kind gets the JSON error envelope, never a 500.

use std::collections::BTreeSet;

use admin_api::Role;
use admin_api::TokenIssuer;
use axum::http::StatusCode;
use serde_json::json;

use crate::documented::{METHODS, Operation, documented_operations, uri_with_ids};
use crate::robustness;
use crate::support::{SECRET, TestApp, wall_clock_seconds};

#[tokio::test]
async fn no_admin_route_answers_without_a_valid_token() {
    let app = TestApp::new().await;
    let expired =
        TokenIssuer::hs256(SECRET).issue("admin-1", Role::Admin, wall_clock_seconds() - 7200, 3600);
    let forged = TokenIssuer::hs256(b"another-secret-another-secret-12").issue(
        "x",
        Role::Admin,
        wall_clock_seconds(),
        3600,
    );
    let operations = documented_operations(&app).await;
    assert!(operations.len() > 10, "{operations:?}");
    for Operation {
        method, path, uri, ..
    } in operations
    {
        if !path.starts_with("/api/admin/") {
            continue;
        }
        for token in [
            None,
            Some("garbage"),
            Some(expired.as_str()),
            Some(forged.as_str()),
        ] {
            let (status, body) = app.request(&method, &uri, token).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {token:?}"
            );
            assert_eq!(body["success"], false);
            assert_eq!(body["error"]["code"], "UNAUTHORIZED");
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_no_other_method_is() {
    let app = TestApp::new().await;
    let operations = documented_operations(&app).await;
    let documented: BTreeSet<(String, String)> = operations
        .iter()
        .map(|operation| (operation.method.clone(), operation.path.clone()))
        .collect();
    for Operation {
        method, path, uri, ..
    } in &operations
    {
        let reply = app.send(method, uri, Some(&app.token), &[], None).await;
        let unrouted = reply.status == StatusCode::METHOD_NOT_ALLOWED
            || reply.body["error"]["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("no route"));
        assert!(
            !unrouted,
            "{method} {path} is documented but not routed: {}",
            reply.text
        );
        for other in METHODS {
            if documented.contains(&(other.to_owned(), path.clone())) {
                continue;
            }
            let reply = app.send(other, uri, Some(&app.token), &[], None).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{other} {path} answers but is not documented"
            );
            assert_eq!(reply.body["error"]["code"], "METHOD_NOT_ALLOWED");
        }
    }
}

/// Routes can only be added through `routes!` (`routes.rs`, which documents them): any plain
/// axum registration in the crate's source would be a route the document misses. `routes.rs`
/// itself makes one `.route(` call: serving registers the output of `routes!` with it.
#[test]
fn no_route_is_registered_outside_the_documented_router() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![source];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let allowed_route_calls = usize::from(path.ends_with("src/routes.rs"));
        assert!(
            text.matches(".route(").count() <= allowed_route_calls,
            "{} registers a route with .route(: use routes!(…) so it is documented",
            path.display()
        );
        for forbidden in [".route_service(", ".nest_service(", ".merge("] {
            assert!(
                !text.contains(forbidden),
                "{} registers a route with {forbidden}: use routes!(…) so it is documented",
                path.display()
            );
        }
    }
}

/// An id no record can have — longer than a store key allows, or holding the key separator —
/// is not found, on every route that takes ids in its path and where a query names a record;
/// the store is never asked (it would refuse the key, which used to answer 503).
#[tokio::test]
async fn ids_that_no_record_can_have_are_not_found() {
    let app = TestApp::new().await;
    let too_long = "a".repeat(3000);
    let operations = documented_operations(&app).await;
    let with_ids: Vec<_> = operations
        .iter()
        .filter(|operation| operation.path.contains('{'))
        .collect();
    assert!(with_ids.len() > 20, "{with_ids:?}");
    for Operation { method, path, .. } in with_ids {
        for id in [too_long.as_str(), "a%23b"] {
            // `site` for the behavior routes, which need it before they read anything.
            let uri = format!("{}?site=demo", uri_with_ids(path, id));
            let reply = app
                .send(
                    method,
                    &uri,
                    Some(&app.token),
                    &[],
                    Some(("application/json", b"{}".to_vec())),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                reply.text
            );
            assert_eq!(reply.body["error"]["code"], "NOT_FOUND", "{method} {path}");
        }
    }
    for query in [
        format!("/api/admin/crm/contacts?segment_id={too_long}"),
        format!("/api/admin/crm/analytics/pipeline?pipeline_id={too_long}"),
    ] {
        let (status, body) = app.request("GET", &query, Some(&app.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    let deal = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "Renewal", "pipeline_id": too_long}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::BAD_REQUEST, "{}", deal.text);
    assert!(
        deal.body["error"]["details"]["pipeline_id"].is_array(),
        "{}",
        deal.text
    );
}

/// Every query parameter the document lists is accepted by its route, and a name it does not
/// list is a 400 naming it: a misspelt filter (`?lifecycle=lead`) must not quietly list
/// everything.
#[tokio::test]
async fn routes_take_the_query_parameters_they_document_and_no_others() {
    let app = TestApp::new().await;
    let token = Some(app.token.as_str());
    let mut checked = 0;
    for operation in documented_operations(&app).await {
        let Operation {
            method, path, uri, ..
        } = &operation;
        for name in &operation.query {
            let (_, body) = app.request(method, &format!("{uri}?{name}=1"), token).await;
            assert!(
                !body.to_string().contains("unknown field"),
                "{method} {path} refuses its documented `{name}`: {body}"
            );
            checked += 1;
        }
        let (status, body) = app.request(method, &format!("{uri}?limt=5"), token).await;
        // Routes without a query string take none; the others name the stranger.
        if status == StatusCode::BAD_REQUEST {
            assert!(body.to_string().contains("limt"), "{method} {path}: {body}");
        } else {
            assert!(
                operation.query.is_empty(),
                "{method} {path} ignores an unknown query parameter: {body}"
            );
        }
    }
    assert!(checked > 30, "{checked}");
}

#[tokio::test]
async fn health_and_the_document_answer_without_a_token() {
    let app = TestApp::new().await;
    let (status, body) = app.request("GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    let (status, body) = app.request("GET", "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let create = &body["paths"]["/api/admin/crm/contacts"]["post"];
    let schema = &create["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(schema, "#/components/schemas/ContactBody", "{create}");
    let schemas = &body["components"]["schemas"];
    // What a schema requires, its own or its `allOf` parts' (a flattened struct).
    let required = |schema: &str| -> Vec<String> {
        let schema = &schemas[schema];
        let parts = schema["allOf"].as_array().cloned().unwrap_or_default();
        std::iter::once(schema)
            .chain(&parts)
            .flat_map(|part| part["required"].as_array().cloned().unwrap_or_default())
            .filter_map(|field| field.as_str().map(str::to_owned))
            .collect()
    };
    assert!(
        required("ContactBody").contains(&"email".to_owned()),
        "{}",
        schemas["ContactBody"]
    );
    assert!(!required("ContactPatchBody").contains(&"email".to_owned()));
    assert!(schemas["ContactFields"]["properties"]["lead_score"].is_object());
    assert!(
        required("NewStage").contains(&"probability".to_owned()),
        "{}",
        schemas["NewStage"]
    );
    let patch = &body["paths"]["/api/admin/crm/contacts/{id}"]["patch"];
    let schema = &patch["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(schema, "#/components/schemas/ContactPatchBody", "{patch}");
}

#[tokio::test]
async fn bodies_that_are_not_json_or_too_large_or_misshapen_get_the_envelope() {
    let app = TestApp::new().await;
    let token = app.token.clone();
    let text = app
        .send(
            "POST",
            "/api/admin/sites",
            Some(&token),
            &[],
            Some(("text/plain", b"{}".to_vec())),
        )
        .await;
    assert_eq!(
        text.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        text.text
    );
    assert_eq!(text.body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");

    let broken = app
        .send(
            "POST",
            "/api/admin/sites",
            Some(&token),
            &[],
            Some(("application/json", b"{\"id\":".to_vec())),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.body["error"]["code"], "BAD_REQUEST");

    let wrong_type = app
        .admin("POST", "/api/admin/sites", &json!({"id": "x", "name": 5}))
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.body["error"]["code"], "VALIDATION_ERROR");
    assert!(
        wrong_type.body["error"]["details"]["name"].is_array(),
        "{}",
        wrong_type.text
    );

    let huge = vec![b' '; 3 * 1024 * 1024];
    let too_large = app
        .send(
            "POST",
            "/api/admin/sites",
            Some(&token),
            &[],
            Some(("application/json", huge)),
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.body["error"]["code"], "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn no_generated_request_gets_a_server_error() {
    robustness::no_generated_request_gets_a_server_error(&TestApp::new().await, 100).await;
}
