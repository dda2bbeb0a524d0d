//! crm-domain: every decision the CRM makes, as pure functions over plain data.
//!
//! Beacon contract v1, validation, bot filtering, consent rules, anonymization and the behavior
//! scoring engine live here. The clock, salts and configuration are parameters, never read from
//! the environment. This crate must never depend on I/O, an async runtime, an SDK or a database:
//! it compiles to `wasm32-unknown-unknown` so the edge worker runs exactly the same code.

pub mod bots;
pub mod contacts;
pub mod deals;
pub mod engine;
pub mod event;
pub mod ingest;
pub mod message;
pub mod privacy;
pub mod records;
pub mod retention;
pub mod scoring;
pub mod segments;
pub mod site;
pub mod time;
