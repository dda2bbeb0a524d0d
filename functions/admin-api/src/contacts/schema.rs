//! OpenAPI shapes of the contact bodies whose Rust types live in crm-domain (which stays free of
//! utoipa so it compiles lean to wasm32). Documentation only: requests are parsed into the
//! domain types (`ContactPatch`, `InteractionInput`); `Deserialize` is derived only so that
//! utoipa reads the `serde(flatten)`s.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::ToSchema;

/// A whole contact: the body of a create (`POST`) and of a replace (`PUT`, where absent fields
/// are cleared). `email` is required.
#[derive(ToSchema, Deserialize)]
pub struct ContactBody {
    email: String,
    #[serde(flatten)]
    fields: ContactFields,
}

/// The fields of a `PATCH`: absent fields stay, `null` clears.
#[derive(ToSchema, Deserialize)]
pub struct ContactPatchBody {
    email: Option<String>,
    #[serde(flatten)]
    fields: ContactFields,
}

/// A contact's fields besides its email, all optional.
#[derive(ToSchema, Deserialize)]
pub struct ContactFields {
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    job_title: Option<String>,
    website: Option<String>,
    source: Option<String>,
    tags: Option<Vec<String>>,
    /// Keys of a-z, 0-9 and `_`; values are booleans, numbers or strings.
    #[schema(value_type = Option<Object>)]
    custom_fields: Option<BTreeMap<String, serde_json::Value>>,
    /// Defaults to the creator.
    owner_id: Option<String>,
    /// lead (default), prospect, customer, retention, advocacy, lost, churned.
    lifecycle_stage: Option<String>,
    /// 0–100.
    lead_score: Option<u8>,
    /// 0–100.
    health_score: Option<u8>,
    linked_visitors: Option<Vec<VisitorLinkBody>>,
    marketing_consent: Option<bool>,
}

#[derive(ToSchema, Deserialize)]
pub struct VisitorLinkBody {
    site: String,
    visitor: String,
}

#[derive(ToSchema)]
pub struct InteractionBody {
    /// call, email, sms, meeting, chat, visit, note.
    kind: String,
    /// inbound or outbound.
    direction: Option<String>,
    channel: Option<String>,
    subject: Option<String>,
    /// Required for notes.
    content: Option<String>,
    outcome: Option<String>,
    /// positive, neutral or negative.
    sentiment: Option<String>,
    /// YYYY-MM-DD.
    follow_up_date: Option<String>,
}
