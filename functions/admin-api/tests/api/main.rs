//! The admin Router, driven in-process over the embedded store (one test binary).

#![allow(clippy::unwrap_used)]

mod behavior;
mod foundation;
mod sites_audit;
mod support;
