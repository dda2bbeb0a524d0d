//! Small adapters between the core's plain values and the runtime's objects: responses, the
//! request body, the clock, randomness, `fetch` and the console.
//!
//! They talk to the `web_sys` objects directly rather than through workers-rs' `Request`,
//! `Response` and `Fetch` wrappers, which read every property up front (the `cf` object, the path
//! as a new string), copy bodies through an extra `Uint8Array`, and read a fetched body as a
//! stream, chunk by chunk. Each crossing between JavaScript and WebAssembly is small; per beacon
//! they add up, so the glue makes only the ones it needs. Bodies are read with `arrayBuffer()`.

use worker::js_sys::{self, Function, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{
    self, ReadableStream, ReadableStreamDefaultReader, RequestInit, ResponseInit, WorkerGlobalScope,
};
use worker::worker_sys::ext::RequestExt;
use worker::{Date, Result, console_error, console_log, console_warn};

use crate::http::{Body, EdgeResponse};
use crate::ingest::{BodyError, BodySource};
use crate::log::{Level, line};
use crate::sqs::SignedRequest;
use crate::sqs::forward::SqsTransport;

/// The runtime's response: status, headers and the body as one string.
pub fn to_web_response(response: EdgeResponse) -> Result<web_sys::Response> {
    let init = ResponseInit::new();
    init.set_status(response.status);
    if !response.headers.is_empty() {
        let headers = web_sys::Headers::new()?;
        for (name, value) in &response.headers {
            headers.set(name, value)?;
        }
        init.set_headers(&headers);
    }
    let body = match &response.body {
        Body::Empty => None,
        Body::Text(text) => Some(text.as_str()),
        Body::Static(text) => Some(*text),
    };
    Ok(web_sys::Response::new_with_opt_str_and_init(body, &init)?)
}

/// `request.cf.country`, the runtime's geo data (read only when `CF-IPCountry` is absent: the
/// `cf` object is built for each access).
pub fn request_country(request: &web_sys::Request) -> Option<String> {
    request.cf().and_then(|cf| cf.country().ok().flatten())
}

/// The request body, read at most up to the limit.
pub struct RequestBody<'a> {
    pub request: &'a web_sys::Request,
    /// `Content-Length`, when the client sent one (the core already refused one over the limit).
    pub declared_length: Option<usize>,
}

impl BodySource for RequestBody<'_> {
    async fn read_limited(self, limit: usize) -> std::result::Result<Vec<u8>, BodyError> {
        let Some(stream) = self.request.body() else {
            return Ok(Vec::new());
        };
        let body = match self.declared_length {
            // The runtime holds a body to its Content-Length: one `arrayBuffer()` is cheaper
            // than reading a stream.
            Some(length) if length <= limit => read_array_buffer(self.request)
                .await
                .map_err(|error| BodyError::Unreadable(js_text(&error)))?,
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

async fn read_array_buffer(request: &web_sys::Request) -> std::result::Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(request.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
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

/// What a JavaScript exception says: the string thrown, or an `Error`'s message.
pub fn js_text(value: &JsValue) -> String {
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
    thread_local! {
        // `crypto` and its `getRandomValues`, looked up once per isolate.
        static GET_RANDOM_VALUES: Option<(JsValue, Function)> = (|| {
            let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
            let fill = Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).ok()?;
            Some((crypto, fill.dyn_into().ok()?))
        })();
    }
    let mut bytes = [0_u8; N];
    let filled = GET_RANDOM_VALUES.with(|source| -> std::result::Result<(), JsValue> {
        let (crypto, fill) = source.as_ref().ok_or(JsValue::NULL)?;
        let array = Uint8Array::new_with_length(u32::try_from(N).unwrap_or_default());
        fill.call1(crypto, &array)?;
        array.copy_to(&mut bytes);
        Ok(())
    });
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

/// `fetch` to SQS; the answer's body is read in one `arrayBuffer()`.
pub struct FetchTransport;

impl SqsTransport for FetchTransport {
    async fn send(&self, request: SignedRequest) -> std::result::Result<(u16, String), String> {
        send_request(request).await.map_err(|error| js_text(&error))
    }
}

async fn send_request(request: SignedRequest) -> std::result::Result<(u16, String), JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&request.body));
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response =
        JsFuture::from(global.fetch_with_str_and_init(&request.url, &init))
            .await?
            .dyn_into()?;
    let status = response.status();
    // `arrayBuffer()`, not `text()`: in workerd the latter cost about 0.3 ms more CPU per call
    // (measured with the benchmark's fetch variants).
    let body = Uint8Array::new(&JsFuture::from(response.array_buffer()?).await?).to_vec();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
