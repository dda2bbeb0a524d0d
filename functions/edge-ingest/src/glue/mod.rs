//! The Workers runtime glue (wasm32 only): the `fetch` and `queue` entry points, and the ports
//! of the native-tested core implemented over `env`, `fetch` and the Queue binding.
//!
//! Binding names live next to the code that uses them and match `wrangler.toml`. Configuration is
//! read from `env` once per isolate. Nothing here decides anything: routing, ingest, signing and
//! the acknowledge/retry verdicts are the core's.

mod deps;
mod runtime;

use worker::{Context, Env, MessageBatch, MessageExt, Request, Response, Result, event};

use crate::http::{RequestHead, query_of};
use crate::log::Level;
use crate::routes::{self, Route};
use crate::sqs::forward::{Verdict, forward};
use crate::{ingest, tracker};

use deps::{WorkerIngest, sqs_config};
use runtime::{FetchTransport, RequestBody, log, now_millis, to_worker_response};

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, ctx: Context) -> Result<Response> {
    // The path worker computed and the raw query: no URL parser on the request path.
    let raw_url = request.inner().url();
    let mut head = {
        let headers = request.headers();
        RequestHead::new(
            request.method().as_ref(),
            &request.path(),
            query_of(&raw_url),
            |name| headers.get(name).ok().flatten(),
        )
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
                head.cf_country = request.cf().and_then(|cf| cf.country());
                let declared_length = head
                    .header("content-length")
                    .and_then(|length| length.trim().parse().ok());
                let body = RequestBody {
                    request: &mut request,
                    declared_length,
                };
                ingest::receive_beacon(&deps, &head, body).await
            }
            Ok(deps) => ingest::preflight(&deps, &head).await,
        },
    };
    to_worker_response(response)
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
    let mut verdicts = forward(&FetchTransport, config, now_millis(), &texts)
        .await
        .into_iter();
    let mut acknowledged = 0_usize;
    for (message, body) in messages.iter().zip(&bodies) {
        let verdict = match body {
            Some(_) => verdicts
                .next()
                .unwrap_or_else(|| Verdict::Retry("no verdict".to_owned())),
            None => Verdict::Retry("the message body is not text".to_owned()),
        };
        match verdict {
            Verdict::Ack => {
                message.ack();
                acknowledged += 1;
            }
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
