//! The admin Router, driven in-process over the embedded store (one test binary).

#![allow(clippy::unwrap_used)]

mod behavior;
mod contact_activity;
mod contact_privacy;
mod contacts;
mod documented;
mod foundation;
mod identity;
mod robustness;
mod sales_forecast;
mod sales_pipelines_deals;
mod sales_scenarios;
mod scenarios;
mod segment_scenarios;
mod segments;
mod sites_audit;
mod support;
mod transitions;
