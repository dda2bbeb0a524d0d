//! Random requests to every documented operation, shaped by the OpenAPI document: ids in the
//! path (real ones, over-long ones, ones with `#`), the operation's query parameters with edge
//! values, and JSON bodies built from its request schema with edge values (empty, long and
//! non-ASCII strings, huge and negative numbers, long lists, a list entry repeated, real ids of
//! other records). Whatever comes in, the answer is below 500 and an error is the envelope.
//! Runs of this kind found a 503 for over-long ids and for a contact id listed twice in one
//! request; the generator is deterministic, so a failure names a request that reproduces it.

use axum::http::StatusCode;
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};
use serde_json::{Map, Value, json};

use crate::documented::{Operation, openapi_document, operations};
use crate::support::TestApp;

/// The records the generated requests refer to, so that some reach past the lookups.
struct Fixtures {
    ids: Vec<(&'static str, String)>,
}

impl Fixtures {
    /// Fresh records (`n` tells their names apart): each operation gets its own, as the
    /// deleting ones take theirs away.
    async fn create(app: &TestApp, n: usize) -> Fixtures {
        let created = |reply: crate::support::Reply| {
            assert!(reply.status.is_success(), "{}", reply.text);
            reply.body["data"]["id"].as_str().unwrap().to_owned()
        };
        let contact = created(
            app.admin(
                "POST",
                "/api/admin/crm/contacts",
                &json!({"email": format!("ada{n}@example.test")}),
            )
            .await,
        );
        let deal = created(
            app.admin(
                "POST",
                "/api/admin/crm/deals",
                &json!({"title": "Renewal", "amount": "10", "currency": "EUR", "contact_id": contact}),
            )
            .await,
        );
        let segment = created(
            app.admin(
                "POST",
                "/api/admin/crm/segments",
                &json!({"name": format!("Picked {n}"), "kind": "static"}),
            )
            .await,
        );
        let (_, pipelines) = app.get("/api/admin/crm/pipelines").await;
        let pipeline = pipelines["data"][0]["id"].as_str().unwrap().to_owned();
        Fixtures {
            ids: vec![
                ("/api/admin/crm/contacts/", contact.clone()),
                ("/api/admin/crm/leads/", contact),
                ("/api/admin/crm/deals/", deal),
                ("/api/admin/crm/segments/", segment),
                ("/api/admin/crm/pipelines/", pipeline),
                ("/api/admin/sites/", "demo".to_owned()),
            ],
        }
    }

    fn real_ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(|(_, id)| id.as_str())
    }
}

struct Generator {
    rng: TestRng,
    strings: Vec<String>,
    /// The current operation's fixtures.
    real_ids: Vec<String>,
}

impl Generator {
    fn new() -> Generator {
        let mut strings: Vec<String> = [
            "",
            " ",
            "x",
            "#",
            "a#b",
            "\u{0}\u{1f}",
            "<script>",
            "a@b.co",
            "lead",
            "customer",
            "EUR",
            "USD",
            "2026-01-31",
            "2026-02-30",
            "1e400",
            "-1",
            "true",
        ]
        .map(str::to_owned)
        .to_vec();
        strings.extend(["ü".repeat(70), "a".repeat(300), "a".repeat(5_000)]);
        Generator {
            rng: TestRng::deterministic_rng(RngAlgorithm::ChaCha),
            strings,
            real_ids: Vec::new(),
        }
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.rng.next_u64() % bound as u64).unwrap()
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, options: &'a [T]) -> &'a T {
        &options[self.below(options.len())]
    }

    /// A real record id a third of the time (so references resolve), else an edge value.
    fn string(&mut self) -> String {
        if self.chance(35) {
            let index = self.below(self.real_ids.len());
            return self.real_ids[index].clone();
        }
        let index = self.below(self.strings.len());
        self.strings[index].clone()
    }

    fn number(&mut self) -> Value {
        self.pick(&[
            json!(-1),
            json!(0),
            json!(1),
            json!(100),
            json!(101),
            json!(1.5),
            json!(1e15),
            json!(-1e300),
            json!(u64::MAX),
        ])
        .clone()
    }

    /// A value for `schema` (resolving `$ref`s in `document`), usually of its type.
    fn value(&mut self, schema: &Value, document: &Value, depth: usize) -> Value {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap();
            return self.value(&document["components"]["schemas"][name], document, depth);
        }
        for choice in ["oneOf", "anyOf"] {
            if let Some(options) = schema[choice].as_array() {
                let option = self.pick(options).clone();
                return self.value(&option, document, depth);
            }
        }
        if self.chance(3) {
            return self
                .pick(&[Value::Null, json!(true), json!([]), json!({})])
                .clone();
        }
        let kind = match &schema["type"] {
            Value::Array(kinds) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = kinds.iter().copied().filter(|k| *k != "null").collect();
                if non_null.is_empty() || self.chance(10) {
                    "null"
                } else {
                    *self.pick(&non_null)
                }
            }
            Value::String(kind) => kind.as_str(),
            _ if schema["properties"].is_object() => "object",
            _ => "any",
        };
        match kind {
            "object" => self.object(schema, document, depth),
            "array" => {
                let length = *self.pick(&[0, 1, 2, 3, 25]);
                let mut items: Vec<Value> = (0..length)
                    .map(|_| self.value(&schema["items"], document, depth + 1))
                    .collect();
                if let Some(first) = items.first().cloned().filter(|_| self.chance(30)) {
                    items.push(first);
                }
                Value::Array(items)
            }
            "string" => match schema["enum"].as_array() {
                Some(allowed) if self.chance(60) => self.pick(allowed).clone(),
                _ => Value::String(self.string()),
            },
            "integer" | "number" => self.number(),
            "boolean" => json!(self.chance(50)),
            "null" => Value::Null,
            _ => Value::String(self.string()),
        }
    }

    fn object(&mut self, schema: &Value, document: &Value, depth: usize) -> Value {
        let mut object = Map::new();
        match schema["properties"].as_object() {
            Some(properties) => {
                for (name, property) in properties {
                    if self.chance(70) {
                        let value = self.value(property, document, depth + 1);
                        object.insert(name.clone(), value);
                    }
                }
            }
            // A free-form map (custom fields): a few keys, some not allowed.
            None if depth < 3 => {
                for index in 0..*self.pick(&[0, 1, 5, 60]) {
                    let key = if self.chance(90) {
                        format!("k{index}")
                    } else {
                        "Bad Key".to_owned()
                    };
                    let value = self.pick(&[json!(true), json!(1.5), json!(null)]).clone();
                    let value = if self.chance(50) {
                        Value::String(self.string())
                    } else {
                        value
                    };
                    object.insert(key, value);
                }
            }
            None => {}
        }
        Value::Object(object)
    }

    fn query_value(&mut self) -> String {
        let raw = self
            .pick(&[
                "",
                "-1",
                "0",
                "1",
                "200",
                "201",
                "99999999999999999999",
                "abc",
                "2026-13-45",
                "2026-01-31",
                "true",
                "lead",
                "-lead_score",
                "demo",
            ])
            .to_string();
        let raw = if self.chance(20) { self.string() } else { raw };
        percent_encode(&raw)
    }
}

fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `/api/admin/crm/deals/{id}/win` with a real deal id most of the time, or an odd one.
fn path_with_ids(path: &str, fixtures: &Fixtures, generator: &mut Generator) -> String {
    let odd = ["x", "0", "a%23b", "%C3%BC", "%20"];
    let mut uri = String::new();
    for segment in path.split('/').skip(1) {
        uri.push('/');
        if !segment.starts_with('{') {
            uri.push_str(segment);
            continue;
        }
        let real = fixtures
            .ids
            .iter()
            .find(|(prefix, _)| uri.ends_with(prefix))
            .map(|(_, id)| id.clone())
            .or_else(|| (segment == "{contact_id}").then(|| fixtures.ids[0].1.clone()));
        match real {
            Some(id) if generator.chance(75) => uri.push_str(&id),
            _ if generator.chance(10) => uri.push_str(&"a".repeat(3_000)),
            _ => {
                let odd = *generator.pick(&odd);
                uri.push_str(odd);
            }
        }
    }
    uri
}

/// Sends `requests_per_operation` generated requests to each documented operation of `app`.
pub async fn no_generated_request_gets_a_server_error(
    app: &TestApp,
    requests_per_operation: usize,
) {
    let mut generator = Generator::new();
    let document = openapi_document(app).await;
    let mut sent = 0;
    for operation in operations(&document) {
        let Operation {
            method,
            path,
            query,
            request_body: content,
            ..
        } = &operation;
        let fixtures = Fixtures::create(app, sent).await;
        generator.real_ids = fixtures.real_ids().map(str::to_owned).collect();
        for _ in 0..requests_per_operation {
            let mut uri = path_with_ids(path, &fixtures, &mut generator);
            let mut pairs = Vec::new();
            for name in query {
                if generator.chance(50) {
                    pairs.push(format!("{name}={}", generator.query_value()));
                }
            }
            if !pairs.is_empty() {
                uri = format!("{uri}?{}", pairs.join("&"));
            }
            let body = if let Some(schema) = content["application/json"]["schema"].as_object() {
                let schema = Value::Object(schema.clone());
                let bytes = if generator.chance(90) {
                    generator
                        .value(&schema, &document, 0)
                        .to_string()
                        .into_bytes()
                } else {
                    generator
                        .pick(&["{", "[]", "null", "\"x\""])
                        .as_bytes()
                        .to_vec()
                };
                Some(("application/json", bytes))
            } else if content["text/csv"].is_object() {
                let row = format!("{},{}", generator.string(), generator.string());
                let header = generator.pick(&["email,first_name", "email,bogus", "tags,email"]);
                Some(("text/csv", format!("{header}\n{row}\n{row}\n").into_bytes()))
            } else {
                None
            };
            let shown_body = body.as_ref().map(|(_, bytes)| {
                String::from_utf8_lossy(bytes)
                    .chars()
                    .take(400)
                    .collect::<String>()
            });
            let token = app.token.clone();
            let reply = app.send(method, &uri, Some(&token), &[], body).await;
            let request = format!(
                "{method} {} {shown_body:?}",
                uri.chars().take(300).collect::<String>()
            );
            assert!(
                reply.status.as_u16() < 500,
                "{request}\n→ {} {}",
                reply.status,
                reply.text
            );
            if reply.status.as_u16() >= 400 && reply.status != StatusCode::NOT_MODIFIED {
                assert_eq!(reply.body["success"], false, "{request}\n→ {}", reply.text);
                assert!(
                    reply.body["error"]["code"].is_string()
                        && reply.body["error"]["message"].is_string(),
                    "{request}\n→ {}",
                    reply.text
                );
            }
            sent += 1;
        }
    }
    let operation_count = operations(&document).len();
    assert!(
        operation_count > 50 && sent == operation_count * requests_per_operation,
        "{sent} requests to {operation_count} operations"
    );
}
