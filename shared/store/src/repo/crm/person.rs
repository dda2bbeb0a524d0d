//! Links from a person (contact) to items outside its partition that hold its personal data:
//! audit entries, deals, segment memberships. A link is an item in the contact's partition
//! (`C#{contact}` / `REF#{pk}|{sk}`) written in the same transaction as the item it points to,
//! so GDPR erase finds every such item by reading one partition, without a scan.

use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;
use super::keys;
use crate::repo::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use crate::table::{Item, Key, Table, TableError, Value};

/// What erasing the person does to the linked item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnErase {
    /// The item exists only because of the person (a segment membership): delete it.
    Delete,
    /// Set these top-level fields of the item's `data` to null and drop these attributes
    /// (index keys naming the person), keeping the rest (a deal keeps its amount and stage).
    Scrub {
        fields: Vec<String>,
        #[serde(default)]
        attrs: Vec<String>,
    },
    /// An audit entry: rewrite it without personal data (see [`AuditEntry::redacted`]).
    RedactAudit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub contact: String,
    pub target: Key,
    pub on_erase: OnErase,
}

impl PersonRef {
    pub fn key(&self) -> Key {
        keys::person_ref(&self.contact, &self.target)
    }

    pub fn item(&self) -> Result<Item, TableError> {
        Ok(Item::new(self.key()).with(DATA_ATTR, encode(self)?))
    }

    pub fn from_item(item: &Item) -> Result<PersonRef, TableError> {
        decode(item)
    }

    /// Applies the erase rule to the linked item; `pseudonym` replaces the person's ids in
    /// redacted audit entries. Returns whether an item was changed.
    pub async fn apply_erase(
        &self,
        table: &dyn Table,
        pseudonym: &str,
    ) -> Result<bool, TableError> {
        let Some(target) = table.get(&self.target).await? else {
            return Ok(false);
        };
        match &self.on_erase {
            OnErase::Delete => table.delete(&self.target, None).await?,
            OnErase::Scrub { fields, attrs } => {
                let mut scrubbed = target.clone();
                let mut data: serde_json::Value = decode(&target)?;
                if let Some(object) = data.as_object_mut() {
                    for field in fields {
                        if object.contains_key(field) {
                            object.insert(field.clone(), serde_json::Value::Null);
                        }
                    }
                }
                scrubbed.attrs.insert(DATA_ATTR.to_owned(), encode(&data)?);
                for attr in attrs {
                    scrubbed.attrs.remove(attr);
                }
                scrubbed
                    .attrs
                    .insert(VERSION_ATTR.to_owned(), Value::N(version(&target) + 1));
                table.put(scrubbed, None).await?;
            }
            OnErase::RedactAudit => {
                let entry: AuditEntry = decode(&target)?;
                let redacted = entry.redacted(pseudonym);
                // The redacted entry may live under another key (its entity id was the person's),
                // so it is written first and the original deleted after.
                for item in redacted.items()? {
                    table.put(item, None).await?;
                }
                if redacted.key() != self.target {
                    table.delete(&self.target, None).await?;
                }
            }
        }
        Ok(true)
    }
}
