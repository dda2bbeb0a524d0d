//! `/api/admin/behavior/*`: what visitors do on a site, as scores, friction and intent.

mod dashboard;
mod ranked;
mod visitors;

// Globs, so that utoipa's generated `__path_*` operation types travel with the handlers.
pub use dashboard::*;
pub use ranked::*;
pub use visitors::*;

use crm_domain::site::SiteId;

use crate::error::ApiError;
use crate::routes::AdminState;

/// The site named by `?site=`, which must exist.
async fn known_site(state: &AdminState, raw: Option<&str>) -> Result<SiteId, ApiError> {
    let site = crate::extract::require_site(raw)?;
    match state.sites.get(&site).await? {
        Some(_) => Ok(site),
        None => Err(ApiError::NotFound(format!("no site {site}"))),
    }
}
