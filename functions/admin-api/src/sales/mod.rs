//! Part B of the CRM API: pipelines, deals, the forecast, pipeline analytics and segments.
//! Rules live in `crm_domain::deals` and `crm_domain::segments`; storage in
//! `crm_store::repo::crm::{pipelines, deals, segments}`; these handlers join them with the
//! caller's role, `If-Match` and the audit log.

pub mod analytics;
pub mod deal_writes;
pub mod deals;
pub mod forecast;
pub mod pipelines;
pub mod segment_members;
pub mod segment_refresh;
pub mod segments;
mod support;
mod views;

pub use analytics::*;
pub use deal_writes::*;
pub use deals::*;
pub use forecast::*;
pub use pipelines::*;
pub use segment_members::*;
pub use segment_refresh::*;
pub use segments::*;

use crate::routes::{ApiRouter, Operations, routes};

/// Adds the part-B routes under `/api/admin` to the admin Router (called by `routes.rs`;
/// handlers of one path in one `routes!`, as everywhere).
pub fn register<O: Operations>(router: ApiRouter<O>) -> ApiRouter<O> {
    router
        .routes(routes!(list_pipelines, create_pipeline))
        .routes(routes!(get_pipeline, replace_pipeline, delete_pipeline))
        .routes(routes!(add_stage))
        .routes(routes!(list_deals, create_deal))
        .routes(routes!(deal_forecast))
        .routes(routes!(get_deal, update_deal, delete_deal))
        .routes(routes!(move_deal_stage))
        .routes(routes!(win_deal))
        .routes(routes!(lose_deal))
        .routes(routes!(pipeline_analytics_report))
        .routes(routes!(list_segments, create_segment))
        .routes(routes!(get_segment, update_segment, delete_segment))
        .routes(routes!(list_segment_contacts, add_segment_contacts))
        .routes(routes!(remove_segment_contact))
        .routes(routes!(refresh_segment))
}
