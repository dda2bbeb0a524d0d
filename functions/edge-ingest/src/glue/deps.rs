//! [`IngestDeps`] over the Worker's `env`: configuration cached per isolate, sites in KV, and the
//! two deliveries (the Queue binding, or SQS after the response).

use std::sync::OnceLock;
use std::time::Duration;

use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;
use worker::js_sys::{Object, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Context, Delay, Env, KvStore, worker_sys};

use super::runtime::{FetchTransport, js_text, log, now_millis, random_bytes};
use crate::config::{ConfigError, Delivery, IngestConfig, SqsConfig};
use crate::ingest::{IngestDeps, Unavailable};
use crate::log::Level;
use crate::sites::{kv_key, parse_site};
use crate::sqs::forward::{Verdict, forward};

/// The Queue producer binding (`[[queues.producers]]` in `wrangler.toml`).
pub const EVENTS_QUEUE: &str = "CRM_EVENTS";
/// The optional KV namespace of sites (`[[kv_namespaces]]`).
pub const SITES_KV: &str = "CRM_SITES_KV";
/// How long an edge location may serve a KV site entry from its cache (KV allows 30 s or more):
/// a change to a site takes up to this long to reach every location.
const SITE_CACHE_SECONDS: u64 = 60;
/// Tries of a direct send, and the pause between them (all within `waitUntil`'s 30 s).
const DIRECT_ATTEMPTS: u32 = 3;
const DIRECT_RETRY_PAUSE: Duration = Duration::from_millis(250);

fn env_lookup(env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    |name| env.var(name).ok().map(|value| value.to_string())
}

/// Variables and secrets do not change during an isolate's life (a new deployment or secret
/// starts new isolates), so each configuration is parsed once.
fn ingest_config(env: &Env) -> Result<&'static IngestConfig, ConfigError> {
    static CONFIG: OnceLock<IngestConfig> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config);
    }
    let config = IngestConfig::from_lookup(env_lookup(env))?;
    Ok(CONFIG.get_or_init(|| config))
}

pub fn sqs_config(env: &Env) -> Result<&'static SqsConfig, ConfigError> {
    static CONFIG: OnceLock<SqsConfig> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config);
    }
    let config = SqsConfig::from_lookup(env_lookup(env))?;
    Ok(CONFIG.get_or_init(|| config))
}

/// The KV namespace of sites, when bound. Whether it is bound is a deployment fact, checked once:
/// asking `env` for a missing binding builds an error each time.
fn sites_kv(env: &Env) -> Option<KvStore> {
    static BOUND: OnceLock<bool> = OnceLock::new();
    if *BOUND.get_or_init(|| env.kv(SITES_KV).is_ok()) {
        env.kv(SITES_KV).ok()
    } else {
        None
    }
}

pub struct WorkerIngest<'a> {
    env: &'a Env,
    ctx: &'a Context,
    config: &'static IngestConfig,
    /// Loaded up front in direct delivery, so a missing AWS secret fails every request loudly
    /// instead of losing beacons after `202`.
    direct: Option<&'static SqsConfig>,
    kv: Option<KvStore>,
}

impl<'a> WorkerIngest<'a> {
    pub fn new(env: &'a Env, ctx: &'a Context) -> Result<WorkerIngest<'a>, ConfigError> {
        let config = ingest_config(env)?;
        let direct = match config.delivery {
            Delivery::Queue => None,
            Delivery::Direct => Some(sqs_config(env)?),
        };
        Ok(WorkerIngest {
            env,
            ctx,
            config,
            direct,
            kv: sites_kv(env),
        })
    }
}

impl IngestDeps for WorkerIngest<'_> {
    fn config(&self) -> &IngestConfig {
        self.config
    }

    fn now(&self) -> Millis {
        Millis(i64::try_from(now_millis()).unwrap_or(i64::MAX))
    }

    fn random_bytes(&self) -> [u8; 10] {
        random_bytes()
    }

    async fn stored_site(&self, id: &SiteId) -> Result<Option<SiteConfig>, Unavailable> {
        let Some(kv) = &self.kv else {
            return Ok(None);
        };
        let entry = kv
            .get(&kv_key(id))
            .cache_ttl(SITE_CACHE_SECONDS)
            .text()
            .await
            .map_err(|error| Unavailable(format!("KV {SITES_KV}: {error}")))?;
        match entry {
            None => Ok(None),
            Some(json) => parse_site(&json).map(Some).or_else(|error| {
                // A broken entry is the admin's mistake: the site stays unknown until fixed.
                self.log(
                    Level::Error,
                    "invalid site entry in KV",
                    &[("site", id.as_str()), ("error", &error.to_string())],
                );
                Ok(None)
            }),
        }
    }

    async fn enqueue(&self, message: String) -> Result<(), Unavailable> {
        match self.direct {
            None => {
                let queue = self.env.queue(EVENTS_QUEUE).map_err(|error| {
                    Unavailable(format!("queue binding {EVENTS_QUEUE}: {error}"))
                })?;
                let queue: &worker_sys::Queue = queue.as_ref().unchecked_ref();
                let sent = match queue.send(JsValue::from_str(&message), text_message_options()) {
                    Ok(promise) => JsFuture::from(promise).await.map(drop),
                    Err(error) => Err(error),
                };
                sent.map_err(|error| {
                    Unavailable(format!("queue {EVENTS_QUEUE}: {}", js_text(&error)))
                })
            }
            Some(sqs) => {
                self.ctx.wait_until(send_directly(sqs, message));
                Ok(())
            }
        }
    }

    fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]) {
        log(level, message, fields);
    }
}

/// `{contentType: "text"}`, built once per isolate. Text, not the default JSON content type: the
/// body is already JSON, and a structured clone of a Rust value would turn its maps into JS
/// `Map`s. (The binding is called directly: workers-rs would serialize these options again for
/// every message.)
fn text_message_options() -> JsValue {
    thread_local! {
        static OPTIONS: JsValue = {
            let options = Object::new();
            // Setting a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&options, &"contentType".into(), &"text".into());
            options.into()
        };
    }
    OPTIONS.with(JsValue::clone)
}

/// Direct delivery, after the response: one `SendMessageBatch` of one entry, tried
/// [`DIRECT_ATTEMPTS`] times with a short pause (a transient SQS or network error should not
/// cost the beacon), then given up and logged.
async fn send_directly(sqs: &'static SqsConfig, message: String) {
    let bodies = [message.as_str()];
    let mut last_reason = String::new();
    for attempt in 1..=DIRECT_ATTEMPTS {
        match forward(&FetchTransport, sqs, now_millis(), &bodies)
            .await
            .pop()
        {
            Some(Verdict::Ack) => return,
            Some(Verdict::Retry(reason)) => last_reason = reason,
            None => last_reason = "no verdict".to_owned(),
        }
        if attempt < DIRECT_ATTEMPTS {
            Delay::from(DIRECT_RETRY_PAUSE).await;
        }
    }
    log(
        Level::Error,
        "beacon lost: direct send to SQS failed",
        &[
            ("reason", &last_reason),
            ("attempts", &DIRECT_ATTEMPTS.to_string()),
        ],
    );
}
