//! Audit entries: who (token subject and role) did what (entity type, id, action) when, with the
//! before/after of the fields that changed. Written by [`super::Change::audit`] in the same
//! transaction as the change; read by the admin's audit log.
//!
//! Layout: `AUDIT#{entity_type}#{entity_id}` / `{at}#{id}` (an entity's history), GSI1
//! `AUDIT#ACTOR#{actor}` (an actor's entries), GSI2 `AUDIT#ALL` (all entries), all newest first.
//! An entry that holds a person's data names the contact in `person`; a [`PersonRef`] in the
//! contact's partition then lets GDPR erase redact it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crm_domain::records::{FieldChange, Role, changed_fields};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::keys;
use super::person::{OnErase, PersonRef};
use crate::repo::codec::{DATA_ATTR, decode, encode};
use crate::table::{Cursor, Index, Item, Key, Query, SortKeyCondition, Table, TableError, Value};

/// Entity types whose ids identify a person: erased entries get a pseudonym instead.
pub const PERSON_ENTITY_TYPES: [&str; 3] = ["contact", "interaction", "visitor"];

/// Bookkeeping fields never listed as changes.
pub const UNAUDITED_FIELDS: [&str; 2] = ["updated_at", "version"];

/// Who performs a write: the token's subject and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub subject: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: Millis,
    pub actor: String,
    pub actor_role: Role,
    pub entity_type: String,
    pub entity_id: String,
    /// `create`, `update`, `delete`, `erase`, or a domain verb (`lifecycle_change`, `qualify`…).
    pub action: String,
    #[serde(default)]
    pub changes: BTreeMap<String, FieldChange>,
    /// The contact whose personal data this entry holds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
}

impl AuditEntry {
    /// An entry for `action` on an entity; `before`/`after` are the record as JSON (null when
    /// absent) and only the fields that differ are kept.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        at: Millis,
        actor: &Actor,
        entity_type: &str,
        entity_id: &str,
        action: &str,
        before: &serde_json::Value,
        after: &serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            id,
            at,
            actor: actor.subject.clone(),
            actor_role: actor.role,
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            action: action.to_owned(),
            changes: changed_fields(before, after, &UNAUDITED_FIELDS),
            person: None,
        }
    }

    pub fn about_person(mut self, contact: &str) -> AuditEntry {
        self.person = Some(contact.to_owned());
        self
    }

    pub fn key(&self) -> Key {
        keys::audit_entry(&self.entity_type, &self.entity_id, self.at, &self.id)
    }

    /// The entry's item and, when it names a person, the person link.
    pub fn items(&self) -> Result<Vec<Item>, TableError> {
        let sort = keys::audit_sort_key(self.at, &self.id);
        let entry = Item::new(self.key())
            .with(DATA_ATTR, encode(self)?)
            .with("gsi1pk", Value::S(keys::audit_actor_index(&self.actor)))
            .with("gsi1sk", Value::S(sort.clone()))
            .with("gsi2pk", Value::S(keys::AUDIT_ALL_INDEX.to_owned()))
            .with("gsi2sk", Value::S(sort));
        let mut items = vec![entry];
        if let Some(contact) = &self.person {
            let link = PersonRef {
                contact: contact.clone(),
                target: self.key(),
                on_erase: OnErase::RedactAudit,
            };
            items.push(link.item()?);
        }
        Ok(items)
    }

    /// The entry without personal data: who did what when stays; the changed field names stay
    /// but their values go; a person's id is replaced by `pseudonym` (the erasure's id).
    pub fn redacted(&self, pseudonym: &str) -> AuditEntry {
        let person_id = self.person.as_deref() == Some(self.entity_id.as_str())
            || PERSON_ENTITY_TYPES.contains(&self.entity_type.as_str());
        AuditEntry {
            entity_id: if person_id {
                pseudonym.to_owned()
            } else {
                self.entity_id.clone()
            },
            changes: self
                .changes
                .keys()
                .map(|field| {
                    let redacted = FieldChange {
                        before: serde_json::Value::Null,
                        after: serde_json::Value::Null,
                    };
                    (field.clone(), redacted)
                })
                .collect(),
            person: None,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditFilter {
    All,
    Entity {
        entity_type: String,
        entity_id: String,
    },
    Actor(String),
}

#[derive(Clone)]
pub struct AuditRepo {
    table: Arc<dyn Table>,
}

impl AuditRepo {
    pub fn new(table: Arc<dyn Table>) -> AuditRepo {
        AuditRepo { table }
    }

    /// One page of entries, newest first.
    pub async fn list(
        &self,
        filter: &AuditFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<AuditEntry>, Option<Cursor>), TableError> {
        let (index, pk) = match filter {
            AuditFilter::All => (Some(Index::Gsi2), keys::AUDIT_ALL_INDEX.to_owned()),
            AuditFilter::Entity {
                entity_type,
                entity_id,
            } => (None, keys::audit_entity_partition(entity_type, entity_id)),
            AuditFilter::Actor(actor) => (Some(Index::Gsi1), keys::audit_actor_index(actor)),
        };
        let page = self
            .table
            .query(Query {
                index,
                pk,
                sk: SortKeyCondition::Any,
                forward: false,
                limit,
                cursor,
            })
            .await?;
        let entries = page
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<AuditEntry>, _>>()?;
        Ok((entries, page.next))
    }
}
