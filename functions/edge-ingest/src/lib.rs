//! edge-ingest: the beacon contract v1 served by a Cloudflare Worker, queued to SQS.
//!
//! `POST /e` runs crm-domain's ingest steps (content type, size, parse, site lookup, accept) and
//! enqueues the anonymized message: on a Cloudflare Queue whose consumer (this same worker)
//! forwards batches to SQS with `SendMessageBatch`, or straight to SQS after the response
//! ("direct" delivery). `GET /t.js` serves the tracker, `GET /health` answers liveness probes.
//!
//! Everything but the `glue` module is plain Rust tested natively: routing, the ingest flow (over
//! the [`ingest::IngestDeps`] port), configuration, SigV4 signing, the SQS request and response,
//! and the forwarding decisions (which message to acknowledge, which to retry). `glue` holds the
//! Workers runtime entry points and adapters and is compiled only for `wasm32`. No rule of the
//! beacon contract is implemented here: crm-domain owns them all. This crate must never depend on
//! an async runtime, a native HTTP client or anything that cannot run in a Worker.

pub mod config;
pub mod http;
pub mod ingest;
pub mod log;
pub mod message_id;
pub mod routes;
pub mod secret;
pub mod sites;
pub mod sqs;
pub mod tracker;

#[cfg(target_arch = "wasm32")]
mod glue;
