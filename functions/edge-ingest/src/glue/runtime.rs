//! Small adapters between the core's plain values and the runtime's objects: responses, the
//! request body, the clock, randomness, `fetch` and the console.

use worker::js_sys::{self, Function, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{ReadableStream, ReadableStreamDefaultReader};
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

/// The request body, read at most up to the limit.
pub struct RequestBody<'a> {
    pub request: &'a mut Request,
    /// `Content-Length`, when the client sent one (the core already refused one over the limit).
    pub declared_length: Option<usize>,
}

impl BodySource for RequestBody<'_> {
    async fn read_limited(self, limit: usize) -> std::result::Result<Vec<u8>, BodyError> {
        let Some(stream) = self.request.inner().body() else {
            return Ok(Vec::new());
        };
        let body = match self.declared_length {
            // The runtime holds a body to its Content-Length: one `arrayBuffer()` is cheaper
            // than reading a stream.
            Some(length) if length <= limit => self
                .request
                .bytes()
                .await
                .map_err(|error| BodyError::Unreadable(error.to_string()))?,
            _ => read_stream_limited(&stream, limit)
                .await
                .map_err(|error| BodyError::Unreadable(js_text(&error)))??,
        };
        if body.len() > limit {
            return Err(BodyError::TooLarge);
        }
        Ok(body)
    }
}

/// Reads a body of unknown length chunk by chunk, keeping at most `limit` bytes. Past the limit
/// the rest is read and discarded instead of cancelling the stream: workerd then fails the next
/// request on the connection (seen with `wrangler dev`, also from plain JavaScript). Discarding
/// keeps memory bounded; the body's size is bounded by Cloudflare's own request limit.
async fn read_stream_limited(
    stream: &ReadableStream,
    limit: usize,
) -> std::result::Result<std::result::Result<Vec<u8>, BodyError>, JsValue> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let done_key = JsValue::from_str("done");
    let value_key = JsValue::from_str("value");
    let mut body = Vec::new();
    let mut too_large = false;
    loop {
        let result = JsFuture::from(reader.read()).await?;
        if Reflect::get(&result, &done_key)?.as_bool().unwrap_or(true) {
            break;
        }
        if too_large {
            continue;
        }
        let chunk = Uint8Array::new(&Reflect::get(&result, &value_key)?);
        let length = chunk.length() as usize;
        if body.len() + length > limit {
            too_large = true;
            body = Vec::new();
            continue;
        }
        let start = body.len();
        body.resize(start + length, 0);
        chunk.copy_to(&mut body[start..]);
    }
    Ok(if too_large {
        Err(BodyError::TooLarge)
    } else {
        Ok(body)
    })
}

fn js_text(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
        })
        .unwrap_or_else(|| "a JavaScript error".to_owned())
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
