//! The Workers runtime glue (wasm32 only): the `fetch` and `queue` entry points, and the ports
//! of the native-tested core implemented over `env`, `fetch` and the Queue binding.
//!
//! Binding names live next to the code that uses them and match `wrangler.toml`. Configuration is
//! read from `env` once per isolate. Nothing here decides anything: routing, ingest, signing and
//! the acknowledge/retry verdicts are the core's.

mod deps;
mod runtime;

use worker::{Context, Env, MessageBatch, MessageExt, Result, event, web_sys};

use crate::http::{RequestHead, path_of, query_of};
use crate::log::Level;
use crate::routes::{self, Route};
use crate::sqs::forward::{Verdict, forward};
use crate::{ingest, tracker};

use deps::{WorkerIngest, sqs_config};
use runtime::{FetchTransport, RequestBody, log, now_millis, request_country, to_web_response};

/// Takes and returns the runtime's own request and response: workers-rs' wrappers would read
/// properties this worker does not use (see `runtime`).
#[event(fetch)]
async fn fetch(request: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    // One copy of the URL, cut into path and query without a URL parser; only the headers the
    // worker reads are copied out.
    let url = request.url();
    let mut head = {
        let headers = request.headers();
        RequestHead::new(&request.method(), path_of(&url), query_of(&url), |name| {
            headers.get(name).ok().flatten()
        })
    };
    let response = match routes::route(&head) {
        Route::Tracker => tracker::serve(&head),
        Route::Health => routes::health(),
        Route::NotFound => routes::not_found(&head),
        Route::MethodNotAllowed(allow) => routes::method_not_allowed(allow),
        route @ (Route::Beacon | Route::Preflight) => match WorkerIngest::new(&env, &ctx) {
            Err(error) => {
                log(
                    Level::Error,
                    "configuration",
                    &[("error", &error.to_string())],
                );
                routes::misconfigured()
            }
            Ok(deps) if route == Route::Beacon => {
                if head.header("cf-ipcountry").is_none() {
                    head.cf_country = request_country(&request);
                }
                let declared_length = head
                    .header("content-length")
                    .and_then(|length| length.trim().parse().ok());
                let body = RequestBody {
                    request: &request,
                    declared_length,
                };
                ingest::receive_beacon(&deps, &head, body).await
            }
            Ok(deps) => ingest::preflight(&deps, &head).await,
        },
    };
    to_web_response(response)
}

/// The consumer of the Cloudflare Queue: forwards each batch to SQS and acknowledges exactly the
/// messages SQS accepted; the others are retried by the Queue (and dead-lettered after
/// `max_retries`, see `wrangler.toml`). A message that is not text (not sent by this worker) is
/// retried too, so it ends in the dead-letter queue instead of vanishing.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    let config = match sqs_config(&env) {
        Ok(config) => config,
        Err(error) => {
            log(
                Level::Error,
                "configuration",
                &[("error", &error.to_string())],
            );
            batch.retry_all();
            return Ok(());
        }
    };
    let messages: Vec<_> = batch.raw_iter().collect();
    let bodies: Vec<Option<String>> = messages
        .iter()
        .map(|message| message.body().as_string())
        .collect();
    let texts: Vec<&str> = bodies.iter().flatten().map(String::as_str).collect();
    let mut forwarded = forward(&FetchTransport, config, now_millis(), &texts)
        .await
        .into_iter();
    // One verdict per message, in order; a body that is not text was never sent.
    let verdicts: Vec<Verdict> = bodies
        .iter()
        .map(|body| match body {
            Some(_) => forwarded
                .next()
                .unwrap_or_else(|| Verdict::Retry("no verdict".to_owned())),
            None => Verdict::Retry("the message body is not text".to_owned()),
        })
        .collect();
    let acknowledged = verdicts
        .iter()
        .filter(|verdict| **verdict == Verdict::Ack)
        .count();
    if acknowledged == messages.len() {
        // The usual case: one call for the batch instead of one per message.
        batch.ack_all();
    } else {
        for (message, verdict) in messages.iter().zip(verdicts) {
            match verdict {
                Verdict::Ack => message.ack(),
                Verdict::Retry(reason) => {
                    log(
                        Level::Warn,
                        "message not forwarded to SQS; the queue retries it",
                        &[("queue_message_id", &message.id()), ("reason", &reason)],
                    );
                    message.retry();
                }
            }
        }
    }
    log(
        Level::Info,
        "batch forwarded to SQS",
        &[
            ("messages", &messages.len().to_string()),
            ("acknowledged", &acknowledged.to_string()),
        ],
    );
    Ok(())
}
