//! The end-to-end test's environment (set by tests/edge.sh), HTTP helpers for the running worker,
//! and the SQS side (queue setup, draining) through crm-store's SQS adapter.

use std::time::{Duration, Instant};

use crm_store::queue::{Queue, ReceivedMessage};
use crm_store::sqs::{SqsQueue, create_queue_with_dead_letter_if_missing, sdk_config};
use serde_json::{Value, json};

/// What tests/edge.sh passes. A missing variable fails the test: it never skips.
pub struct Environment {
    /// `http://127.0.0.1:PORT` of `wrangler dev`.
    pub worker_url: String,
    /// The moto server (tests/aws/moto.sh).
    pub aws_endpoint: String,
    /// The SQS queue the worker was configured with (`CRM_SQS_QUEUE_URL`), and its dead-letter
    /// queue.
    pub queue_url: String,
    pub dead_letter_queue: String,
    /// `queue` or `direct`, for messages.
    pub delivery: String,
    /// The worker's `CRM_DAILY_SALT_SECRET`, to recompute a daily visitor key.
    pub daily_salt_secret: Vec<u8>,
    /// Where `wrangler dev` writes the worker's log.
    pub worker_log: std::path::PathBuf,
}

fn required(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: this test runs against a live worker and AWS emulator started by \
             tests/edge.sh (`source tests/aws/moto.sh; source tests/edge.sh`)"
        ),
    }
}

impl Environment {
    pub fn from_env() -> Environment {
        Environment {
            worker_url: required("EDGE_E2E_WORKER_URL")
                .trim_end_matches('/')
                .to_owned(),
            aws_endpoint: required("CRM_TEST_AWS_ENDPOINT"),
            queue_url: required("EDGE_E2E_QUEUE_URL"),
            dead_letter_queue: required("EDGE_E2E_DEAD_LETTER_QUEUE"),
            delivery: required("EDGE_E2E_DELIVERY"),
            daily_salt_secret: hex::decode(required("EDGE_E2E_DAILY_SALT_SECRET"))
                .expect("EDGE_E2E_DAILY_SALT_SECRET is hex"),
            worker_log: required("EDGE_E2E_WORKER_LOG").into(),
        }
    }

    /// Queue delivery (the Cloudflare Queue retries), as opposed to direct delivery.
    pub fn queued(&self) -> bool {
        match self.delivery.as_str() {
            "queue" => true,
            "direct" => false,
            other => panic!("EDGE_E2E_DELIVERY is {other:?}, neither queue nor direct"),
        }
    }

    /// Whether the worker's log holds `text` (its JSON log lines go there).
    pub fn worker_logged(&self, text: &str) -> bool {
        std::fs::read_to_string(&self.worker_log)
            .unwrap_or_else(|error| panic!("reading {}: {error}", self.worker_log.display()))
            .contains(text)
    }

    pub fn queue_name(&self) -> &str {
        self.queue_url.rsplit('/').next().unwrap_or_default()
    }

    /// Creates the events queue (and its dead-letter queue) in the emulator if missing, checks
    /// it is the one the worker sends to, and returns a client of it.
    pub async fn events_queue(&self) -> SqsQueue {
        let config = sdk_config(Some(&self.aws_endpoint)).await;
        let client = crm_store::sqs::Client::new(&config);
        let (url, _) = create_queue_with_dead_letter_if_missing(
            &client,
            self.queue_name(),
            &self.dead_letter_queue,
            5,
        )
        .await
        .expect("the emulator creates the queues");
        assert_eq!(
            url, self.queue_url,
            "the worker must send to the queue the test reads"
        );
        SqsQueue::new(client, url)
    }
}

/// A response: status, headers of interest, body as JSON (or as a string when not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// Sends a request to the worker; `headers` are sent as given.
pub fn request(
    env: &Environment,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", env.worker_url));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(body).expect("a valid request");
    let mut response = agent().run(request).expect("the worker answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// `POST /e` with a body of unknown length (chunked, no `Content-Length`): the worker must read
/// it as a stream and stop at the limit.
pub fn post_chunked(env: &Environment, body: Vec<u8>) -> Answer {
    let mut reader = std::io::Cursor::new(body);
    let mut response = agent()
        .post(format!("{}/e", env.worker_url))
        .header("content-type", "text/plain")
        .header("origin", SHOP)
        .header("user-agent", BROWSER)
        .send(ureq::SendBody::from_reader(&mut reader))
        .expect("the worker answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
pub const SHOP: &str = "https://shop.example";
/// The client address the test claims (`CF-Connecting-IP`); it must never reach SQS.
pub const CLIENT_IP: &str = "203.0.113.77";

/// `POST /e` as a browser on the shop would send it, plus `extra` headers.
pub fn post_beacon(env: &Environment, body: &Value, extra: &[(&str, &str)]) -> Answer {
    let mut headers = vec![
        ("content-type", "text/plain;charset=UTF-8"),
        ("origin", SHOP),
        ("user-agent", BROWSER),
        ("cf-connecting-ip", CLIENT_IP),
        ("cf-ipcountry", "de"),
    ];
    for (name, value) in extra {
        headers.retain(|(known, _)| !known.eq_ignore_ascii_case(name));
        headers.push((name, value));
    }
    request(env, "POST", "/e", &headers, body.to_string().into_bytes())
}

pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// A beacon of `site` whose events carry ids starting with `case` (how the test recognizes the
/// message in SQS): a page view of `url` and a scroll.
pub fn beacon(site: &str, case: &str, url: &str) -> Value {
    let now = now_ms();
    json!({
        "v": 1, "site": site, "sid": format!("sid-{case}"), "vid": format!("vid-{case}"),
        "consent": {"analytics": true, "marketing": false},
        "events": [
            {"id": format!("{case}-1"), "t": "page_view", "ts": now - 2000, "url": url,
             "title": "Pricing", "ref": "https://www.google.com/"},
            {"id": format!("{case}-2"), "t": "scroll", "ts": now - 1000, "props": {"depth": 60}},
        ]
    })
}

/// Receives until `expected` messages arrived (or `limit` passed), then keeps listening for
/// `quiet` to catch any extra message; deletes what it received.
pub async fn drain(
    queue: &SqsQueue,
    expected: usize,
    limit: Duration,
    quiet: Duration,
) -> Vec<ReceivedMessage> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let batch = queue
            .receive(10, Duration::from_secs(60), Duration::from_secs(1))
            .await
            .expect("the emulator answers");
        let receipts: Vec<String> = batch
            .iter()
            .map(|message| message.receipt.clone())
            .collect();
        if !receipts.is_empty() {
            queue.delete(&receipts).await.expect("delete");
        }
        received.extend(batch);
        if received.len() >= expected {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= quiet {
                return received;
            }
        } else if started.elapsed() > limit {
            return received;
        }
    }
}
