//! Starting the real crm-local binary on a free port and talking to it over HTTP.

#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct LocalServer {
    pub base_url: String,
    pub token: String,
    child: Child,
}

impl LocalServer {
    /// Starts `crm-local` on an ephemeral port and reads its address and token from the banner.
    pub fn start(data_dir: &Path) -> LocalServer {
        LocalServer::start_with(data_dir, &[])
    }

    /// Starts it with extra command-line arguments (e.g. the AWS mode's).
    pub fn start_with(data_dir: &Path, extra_args: &[&str]) -> LocalServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crm-local"))
            .args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("crm-local starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let (mut base_url, mut token) = (None, None);
        while base_url.is_none() || token.is_none() {
            let line = lines.next().expect("banner line").expect("utf-8 banner");
            if let Some(rest) = line.split("POST ").nth(1) {
                base_url = rest.strip_suffix("/e").map(str::to_owned);
            }
            if let Some(rest) = line.split("admin token     : ").nth(1) {
                token = Some(rest.trim().to_owned());
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        LocalServer {
            base_url: base_url.unwrap(),
            token: token.unwrap(),
            child,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn post_beacon(&self, body: &Value) -> (u16, Value) {
        post_json(&self.base_url, body).expect("server answers")
    }

    pub fn post_raw(&self, content_type: &str, body: &[u8]) -> (u16, Value) {
        let response = agent()
            .post(&format!("{}/e", self.base_url))
            .header("Content-Type", content_type)
            .send(body)
            .expect("server answers");
        read(response)
    }

    pub fn admin_get(&self, path: &str) -> Value {
        let (status, body) = self.get_with_token(path, Some(&self.token));
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub fn get_with_token(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = agent().get(&format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        read(request.call().expect("server answers"))
    }

    pub fn admin_request(&self, method: &str, path: &str) -> (u16, Value) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_url))
            .header("Authorization", format!("Bearer {}", self.token))
            .body(())
            .unwrap();
        read(agent().run(request).expect("server answers"))
    }

    /// A CORS preflight of `path` from `origin`: its status, body and
    /// `Access-Control-Allow-Origin`.
    pub fn preflight(&self, path: &str, origin: &str) -> (u16, Value, Option<String>) {
        let request = ureq::http::Request::builder()
            .method("OPTIONS")
            .uri(format!("{}{path}", self.base_url))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .body(())
            .unwrap();
        let response = agent().run(request).expect("server answers");
        let allowed = response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let (status, body) = read(response);
        (status, body, allowed)
    }

    /// An admin request with a JSON body.
    pub fn admin_send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_url))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .unwrap();
        read(agent().run(request).expect("server answers"))
    }

    pub fn all_visitors(&self) -> Vec<Value> {
        let mut visitors = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => {
                    format!("/api/admin/behavior/visitors?site=demo&limit=200&cursor={cursor}")
                }
                None => "/api/admin/behavior/visitors?site=demo&limit=200".to_owned(),
            };
            let page = self.admin_get(&path);
            visitors.extend(page["data"].as_array().cloned().unwrap_or_default());
            match page["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return visitors,
            }
        }
    }

    /// Polls `check` until it yields a value, failing the test after `limit`.
    pub fn wait_for<T>(
        &self,
        limit: Duration,
        mut check: impl FnMut(&LocalServer) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = check(self) {
                return value;
            }
            assert!(
                started.elapsed() < limit,
                "condition not met within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub fn post_json(base_url: &str, body: &Value) -> Result<(u16, Value), ureq::Error> {
    let response = agent()
        .post(&format!("{base_url}/e"))
        .header("Content-Type", "text/plain")
        .send(body.to_string().as_bytes())?;
    Ok(read(response))
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A consented beacon from first-party visitor `vid` with `events` page views.
pub fn beacon(vid: &str, sid: &str, events: usize) -> Value {
    let now = now_ms();
    let events: Vec<Value> = (0..events)
        .map(|index| {
            json!({
                "id": format!("{vid}-{index}"), "t": "page_view", "ts": now,
                "url": format!("https://shop.example/page-{index}"), "title": "Page"
            })
        })
        .collect();
    json!({"v": 1, "site": "demo", "sid": sid, "vid": vid, "consent": {"analytics": true}, "events": events})
}
