//! Who is calling, and whether the role policy ([`crm_domain::records::policy`]) lets them.
//! Handlers take a [`Caller`] and ask before touching data: `caller.require(…)` for a route
//! as a whole, `caller.require_on(…, owner_id)` once the record (and its owner) is known.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use crm_domain::records::{Access, Action, Resource, Role, access};
use crm_store::repo::crm::audit::Actor;

use crate::auth::Claims;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.subject.clone(),
            role: self.role,
        }
    }

    /// The caller's access to `action` on `resource`; 403 when none.
    pub fn require(&self, action: Action, resource: Resource) -> Result<Access, ApiError> {
        match access(self.role, action, resource) {
            Access::Denied => Err(self.forbidden(action, resource)),
            granted => Ok(granted),
        }
    }

    /// 403 unless the caller may do `action` on this record (owned = `owner_id` is the caller).
    pub fn require_on(
        &self,
        action: Action,
        resource: Resource,
        owner_id: Option<&str>,
    ) -> Result<(), ApiError> {
        let owned = owner_id == Some(self.subject.as_str());
        if access(self.role, action, resource).permits(owned) {
            Ok(())
        } else {
            Err(self.forbidden(action, resource))
        }
    }

    fn forbidden(&self, action: Action, resource: Resource) -> ApiError {
        let role = self.role.as_str();
        let (verb, things) = (action.verb(), resource.plural());
        ApiError::Forbidden(match access(self.role, action, resource) {
            Access::Own => format!("role {role} may {verb} only {things} it owns"),
            Access::Denied | Access::All => format!("role {role} may not {verb} {things}"),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // require_token put the claims there; a route without it has no caller.
        let claims = parts
            .extensions
            .get::<Claims>()
            .ok_or_else(|| ApiError::Unauthorized("no verified token".to_owned()))?;
        Ok(Caller {
            subject: claims.sub.clone(),
            role: claims.role,
        })
    }
}

/// A new record id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
