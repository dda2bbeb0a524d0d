//! The test app: the Router over a fresh store (SQLite in memory, or the DynamoDB emulator's
//! table when `CRM_TEST_AWS_ENDPOINT` is set for the `aws-tests` run), tokens per role, and
//! request helpers returning status, headers and the JSON body.

use std::sync::Arc;

use admin_api::{AdminState, Role, TokenIssuer, TokenVerifier};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use crm_domain::message::{BeaconEnvelope, Consent, QueueMessage, VisitorKeyKind};
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;
use crm_store::clock::FixedClock;
use crm_store::repo::SiteRepo;
use crm_store::repo::codec::decode;
use crm_store::sqlite::SqliteTable;
use crm_store::table::{Item, Table};
use event_scorer::{IncomingMessage, ScorerDeps, process_batch};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const SECRET: &[u8] = b"test-secret-test-secret-test-sec";
pub const NOW: Millis = Millis(1_763_700_000_000);

/// Where the test's items live, so a test can read every one of them.
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<SqliteTable>),
    // Built only by tests/aws_api.rs, which shares this file.
    #[cfg(feature = "aws-tests")]
    #[allow(dead_code)]
    Dynamo {
        client: crm_store::dynamodb::Client,
        table: String,
    },
}

pub struct TestApp {
    pub router: axum::Router,
    pub table: Arc<dyn Table>,
    pub store: Store,
    /// An admin's token (subject `admin-1`).
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        let sqlite = Arc::new(SqliteTable::in_memory().expect("sqlite"));
        TestApp::on(sqlite.clone(), Store::Sqlite(sqlite)).await
    }

    /// A fresh table of its own on the DynamoDB emulator at `CRM_TEST_AWS_ENDPOINT`.
    #[cfg(feature = "aws-tests")]
    #[allow(dead_code)]
    pub async fn on_dynamodb(endpoint: &str) -> TestApp {
        use crm_store::dynamodb;
        let client = dynamodb::Client::new(&dynamodb::sdk_config(Some(endpoint)).await);
        let table = crm_store::test_support::fresh_dynamo_table(&client, "api").await;
        let name = table.table_name().to_owned();
        TestApp::on(
            Arc::new(table),
            Store::Dynamo {
                client,
                table: name,
            },
        )
        .await
    }

    async fn on(table: Arc<dyn Table>, store: Store) -> TestApp {
        SiteRepo::new(table.clone())
            .put(&SiteConfig {
                id: SiteId::parse("demo").expect("site id"),
                name: "Demo".to_owned(),
                allowed_origins: vec!["*".to_owned()],
                retention_days: 90,
                session_retention_days: 180,
                enabled: true,
            })
            .await
            .expect("seed site");
        TestApp {
            router: router_at(table.clone(), NOW),
            table,
            store,
            token: token_for("admin-1", Role::Admin),
        }
    }

    /// The same store served by a Router whose clock reads `now`: a test lets days pass
    /// between requests (days in stage).
    pub fn at(&self, now: Millis) -> TestApp {
        TestApp {
            router: router_at(self.table.clone(), now),
            table: self.table.clone(),
            store: self.store.clone(),
            token: self.token.clone(),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                builder = builder.header("Content-Type", content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(builder.body(body).expect("request"))
            .await
            .expect("router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
        }
    }

    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let reply = self.send(method, uri, token, &[], None).await;
        (reply.status, reply.body)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.request("GET", uri, Some(&self.token.clone())).await
    }

    /// A JSON request as `token`.
    pub async fn json(&self, method: &str, uri: &str, token: &str, body: &Value) -> Reply {
        self.send(
            method,
            uri,
            Some(token),
            &[],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    /// A JSON request as the admin.
    pub async fn admin(&self, method: &str, uri: &str, body: &Value) -> Reply {
        let token = self.token.clone();
        self.json(method, uri, &token, body).await
    }

    /// Every item of the store as text (keys and attributes), as the GDPR tests read it.
    pub async fn all_item_texts(&self) -> Vec<String> {
        match &self.store {
            Store::Sqlite(sqlite) => sqlite
                .all_items()
                .await
                .expect("dump")
                .into_iter()
                .map(|item| {
                    let data = decode::<Value>(&item)
                        .map(|value| value.to_string())
                        .unwrap_or_default();
                    format!("{item:?} {data}")
                })
                .collect(),
            #[cfg(feature = "aws-tests")]
            Store::Dynamo { client, table } => {
                let mut texts = Vec::new();
                let mut start = None;
                loop {
                    let page = client
                        .scan()
                        .table_name(table)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .expect("scan");
                    texts.extend(page.items().iter().map(|item| format!("{item:?}")));
                    match page.last_evaluated_key() {
                        Some(key) => start = Some(key.clone()),
                        None => return texts,
                    }
                }
            }
        }
    }

    /// Every item of the SQLite store (tests that count items).
    pub async fn all_items(&self) -> Vec<Item> {
        match &self.store {
            Store::Sqlite(sqlite) => sqlite.all_items().await.expect("dump"),
            #[cfg(feature = "aws-tests")]
            Store::Dynamo { .. } => panic!("all_items is for the SQLite store"),
        }
    }

    /// Scores beacons through the real scorer so the API reads what production would.
    pub async fn score(&self, envelopes: Vec<BeaconEnvelope>) {
        let deps = ScorerDeps {
            table: self.table.clone(),
            clock: Arc::new(FixedClock(NOW)),
        };
        let messages: Vec<IncomingMessage> = envelopes
            .into_iter()
            .map(|envelope| IncomingMessage {
                transport_id: envelope.id.clone(),
                body: QueueMessage::Beacon(envelope).to_json(),
            })
            .collect();
        let report = process_batch(&deps, &messages).await;
        assert!(report.failed.is_empty(), "{report:?}");
    }
}

fn router_at(table: Arc<dyn Table>, now: Millis) -> axum::Router {
    admin_api::router(AdminState::new(
        table,
        TokenVerifier::hs256(SECRET),
        Arc::new(FixedClock(now)),
    ))
}

pub fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs() as i64)
        .unwrap_or(0)
}

pub fn token_for(subject: &str, role: Role) -> String {
    TokenIssuer::hs256(SECRET).issue(subject, role, wall_clock_seconds(), 3600)
}

pub fn envelope(visitor: &str, events: Value) -> BeaconEnvelope {
    BeaconEnvelope {
        v: 1,
        id: format!("msg-{visitor}"),
        site: SiteId::parse("demo").unwrap(),
        visitor: visitor.to_owned(),
        visitor_kind: VisitorKeyKind::FirstParty,
        session: format!("session-{visitor}"),
        received_at: NOW,
        country: None,
        consent: Consent {
            analytics: true,
            marketing: false,
        },
        events: serde_json::from_value(events).unwrap(),
        rejected: 0,
        identify: None,
    }
}

pub fn page_views(visitor: &str, paths: &[&str]) -> BeaconEnvelope {
    let events: Vec<Value> = paths
        .iter()
        .enumerate()
        .map(|(index, path)| {
            json!({"id": format!("{visitor}-{index}"), "t": "page_view", "ts": NOW.0 - 1000 + index as i64,
                   "url": format!("https://shop.example{path}"), "path": path})
        })
        .collect();
    envelope(visitor, Value::Array(events))
}
