//! OpenAPI shapes of the contact bodies whose Rust types live in crm-domain (which stays free of
//! utoipa so it compiles lean to wasm32). Documentation only: requests are parsed into the
//! domain types (`ContactPatch`, `InteractionInput`).

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

/// A contact's fields. On create `email` is required; on PATCH absent fields stay and `null`
/// clears; on PUT absent fields are cleared.
#[derive(ToSchema)]
pub struct ContactBody {
    email: Option<String>,
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

#[derive(ToSchema)]
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
