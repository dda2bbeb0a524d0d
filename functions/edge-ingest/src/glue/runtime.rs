//! Small adapters between the core's plain values and the runtime's objects: responses, the
//! request body, the clock, randomness, `fetch` and the console.

use futures_util::StreamExt;
use worker::js_sys::{self, Function, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    Date, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody, Result,
    console_error, console_log, console_warn,
};

use crate::http::{Body, EdgeResponse};
use crate::ingest::{BodyError, BodySource};
use crate::log::{Level, line};
use crate::sqs::SignedRequest;
use crate::sqs::forward::SqsTransport;

pub fn to_worker_response(response: EdgeResponse) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in &response.headers {
        headers.set(name, value)?;
    }
    let body = match response.body {
        Body::Empty => ResponseBody::Empty,
        Body::Text(text) => ResponseBody::Body(text.into_bytes()),
        Body::Static(text) => ResponseBody::Body(text.as_bytes().to_vec()),
    };
    Ok(Response::from_body(body)?
        .with_status(response.status)
        .with_headers(headers))
}

/// The request body as a stream, read until the limit is passed.
pub struct RequestBody<'a>(pub &'a mut Request);

impl BodySource for RequestBody<'_> {
    async fn read_limited(self, limit: usize) -> std::result::Result<Vec<u8>, BodyError> {
        if self.0.inner().body().is_none() {
            return Ok(Vec::new());
        }
        let mut stream = self
            .0
            .stream()
            .map_err(|error| BodyError::Unreadable(error.to_string()))?;
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Unix milliseconds from the JS clock (`SystemTime::now()` panics on wasm32). Inside a request
/// the Workers clock only advances on I/O, which is precise enough for timestamps.
pub fn now_millis() -> u64 {
    Date::now().as_millis()
}

/// Bytes from `crypto.getRandomValues`; zeros only if the runtime has no Web Crypto (never on
/// Workers), which would still give unique ids per millisecond only by chance, so it is logged.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    let filled = (|| -> std::result::Result<(), JsValue> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
        let fill: Function =
            Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))?.dyn_into()?;
        let array = Uint8Array::new_with_length(u32::try_from(N).unwrap_or_default());
        fill.call1(&crypto, &array)?;
        array.copy_to(&mut bytes);
        Ok(())
    })();
    if filled.is_err() {
        log(Level::Error, "crypto.getRandomValues is not available", &[]);
    }
    bytes
}

/// One JSON line on the console (Workers Logs, `wrangler tail`).
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    let text = line(level, message, fields);
    match level {
        Level::Info => console_log!("{text}"),
        Level::Warn => console_warn!("{text}"),
        Level::Error => console_error!("{text}"),
    }
}

/// `fetch` to SQS.
pub struct FetchTransport;

impl SqsTransport for FetchTransport {
    async fn send(&self, request: SignedRequest) -> std::result::Result<(u16, String), String> {
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers
                .set(name, value)
                .map_err(|error| error.to_string())?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(JsValue::from_str(&request.body)));
        let outgoing =
            Request::new_with_init(&request.url, &init).map_err(|error| error.to_string())?;
        let mut response = Fetch::Request(outgoing)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status_code();
        let body = response.text().await.map_err(|error| error.to_string())?;
        Ok((status, body))
    }
}
