//! The contact record and the patch that creates or changes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::email::Email;
use super::lifecycle::LifecycleStage;
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub website: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, CustomValue>,
    pub owner_id: Option<String>,
    pub lifecycle_stage: LifecycleStage,
    /// 0–100.
    pub lead_score: u8,
    /// 0–100; `None` until someone or something measures it.
    pub health_score: Option<u8>,
    #[serde(default)]
    pub linked_visitors: Vec<VisitorLink>,
    #[serde(default)]
    pub marketing_consent: bool,
    #[serde(default)]
    pub qualification: Qualification,
    #[serde(default)]
    pub follow_up: Option<FollowUp>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Contact {
    /// A new contact with only its email; the rest comes from a patch.
    pub fn new(id: String, email: Email, owner_id: Option<String>, now: Millis) -> Contact {
        Contact {
            id,
            email,
            first_name: None,
            last_name: None,
            phone: None,
            company: None,
            job_title: None,
            website: None,
            source: None,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            owner_id,
            lifecycle_stage: LifecycleStage::Lead,
            lead_score: 0,
            health_score: None,
            linked_visitors: Vec::new(),
            marketing_consent: false,
            qualification: Qualification::Unqualified,
            follow_up: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn full_name(&self) -> String {
        [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A custom field's value; its JSON type is its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomValue {
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
}

/// A tracked visitor known to be this person (pseudonymous id, as stored by the scorer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VisitorLink {
    pub site: String,
    pub visitor: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualification {
    #[default]
    Unqualified,
    Qualified,
    Disqualified,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// `YYYY-MM-DD`.
    pub due: String,
    /// Start of the due day (UTC), for the due-follow-ups index.
    pub due_at: Millis,
    pub note: String,
}

/// A create, a `PATCH` (absent fields stay) or a `PUT` (see [`ContactPatch::replacing`]).
/// Nullable fields are `Option<Option<_>>`: absent = unchanged, `null` = cleared.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub source: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, CustomValue>>,
    #[serde(default, deserialize_with = "nullable")]
    pub owner_id: Option<Option<String>>,
    #[serde(default)]
    pub lifecycle_stage: Option<LifecycleStage>,
    #[serde(default)]
    pub lead_score: Option<u8>,
    #[serde(default, deserialize_with = "nullable")]
    pub health_score: Option<Option<u8>>,
    #[serde(default)]
    pub linked_visitors: Option<Vec<VisitorLink>>,
    #[serde(default)]
    pub marketing_consent: Option<bool>,
}

impl ContactPatch {
    /// The patch a `PUT` means: every field the body leaves out is cleared or reset.
    pub fn replacing(self) -> ContactPatch {
        let clear = |field: Option<Option<String>>| Some(field.flatten());
        ContactPatch {
            email: self.email,
            first_name: clear(self.first_name),
            last_name: clear(self.last_name),
            phone: clear(self.phone),
            company: clear(self.company),
            job_title: clear(self.job_title),
            website: clear(self.website),
            source: clear(self.source),
            tags: Some(self.tags.unwrap_or_default()),
            custom_fields: Some(self.custom_fields.unwrap_or_default()),
            owner_id: clear(self.owner_id),
            lifecycle_stage: self.lifecycle_stage,
            lead_score: self.lead_score,
            health_score: Some(self.health_score.flatten()),
            linked_visitors: Some(self.linked_visitors.unwrap_or_default()),
            marketing_consent: Some(self.marketing_consent.unwrap_or(false)),
        }
    }

    /// Whether the patch touches only health inputs (what customer success may change).
    pub fn only_health(&self) -> bool {
        let health_only = ContactPatch {
            health_score: self.health_score,
            ..ContactPatch::default()
        };
        *self == health_only
    }
}

fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
