//! `POST /e` without a Rust future: the entry points `entry.mjs` (the worker's JavaScript entry)
//! calls for a beacon that declares its length.
//!
//! In the `#[event(fetch)]` handler, a beacon costs two awaits through wasm-bindgen's futures (the
//! body, the Queue) and a Rust future behind the returned promise: about 0.1 ms per beacon in
//! workerd (docs/performance.md). Here the JavaScript entry reads the body and sends to the
//! Queue, and the decisions are one synchronous call: [`accept_beacon`] runs the same
//! [`ingest::receive_beacon`] as the fetch handler, with an `enqueue` that hands the message back.
//! Only a site that must be read from KV makes that call asynchronous (it then returns a promise).
//!
//! worker-build puts these functions on its entry class's prototype, which `entry.mjs` extends.

use futures_util::FutureExt;
use worker::js_sys::Array;
use worker::wasm_bindgen::{self, JsValue, prelude::wasm_bindgen};
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{Context, Env, web_sys, worker_sys};

use super::deps::WorkerIngest;
use super::runtime::{log, to_web_response};
use super::{add_country, request_head};
use crate::http::{EdgeResponse, path_of};
use crate::ingest::{self, Unavailable};
use crate::log::Level;
use crate::routes;
use crm_domain::ingest::MAX_BEACON_BYTES;

/// Whether `entry.mjs` should read this request's body and call [`accept_beacon`]: a `POST /e`
/// whose `Content-Length` is within the beacon limit (the runtime holds the body to it). Any other
/// request, a longer or chunked body included, goes to the fetch handler.
#[wasm_bindgen]
pub fn is_plain_beacon(request: &web_sys::Request) -> bool {
    request.method() == "POST"
        && path_of(&request.url()) == "/e"
        && request
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|length| length.trim().parse::<usize>().ok())
            .is_some_and(|length| length <= MAX_BEACON_BYTES)
}

/// The answer to a plain beacon and the message to queue before sending it: `[Response, message]`
/// (`message` undefined when nothing is to be queued: a rejected beacon, or direct delivery,
/// which sends after the response by itself), or a promise of that pair when the site is in KV.
#[wasm_bindgen]
pub fn accept_beacon(
    request: web_sys::Request,
    body: Vec<u8>,
    env: Env,
    ctx: worker_sys::Context,
) -> Result<JsValue, JsValue> {
    let mut head = request_head(&request);
    add_country(&mut head, &request);
    let mut answer = Box::pin(async move {
        let ctx = Context::new(ctx);
        match WorkerIngest::handing_back(&env, &ctx) {
            Err(error) => {
                log(
                    Level::Error,
                    "configuration",
                    &[("error", &error.to_string())],
                );
                (routes::misconfigured(), None)
            }
            Ok(deps) => {
                let response = ingest::receive_beacon(&deps, &head, body).await;
                (response, deps.handed_back())
            }
        }
    });
    match (&mut answer).now_or_never() {
        Some(answer) => to_pair(answer),
        None => Ok(future_to_promise(async move { to_pair(answer.await) }).into()),
    }
}

/// The `503` for a beacon whose message `entry.mjs` could not put on the Queue.
#[wasm_bindgen]
pub fn beacon_not_queued(
    request: web_sys::Request,
    cause: String,
    env: Env,
    ctx: worker_sys::Context,
) -> Result<web_sys::Response, JsValue> {
    let head = request_head(&request);
    let ctx = Context::new(ctx);
    let response = match WorkerIngest::new(&env, &ctx) {
        Ok(deps) => ingest::not_queued(&deps, &head, &Unavailable(cause)),
        Err(_) => routes::misconfigured(),
    };
    Ok(to_web_response(response)?)
}

fn to_pair((response, message): (EdgeResponse, Option<String>)) -> Result<JsValue, JsValue> {
    let message = message.map_or(JsValue::UNDEFINED, |message| JsValue::from_str(&message));
    Ok(Array::of2(&to_web_response(response)?.into(), &message).into())
}
