//! The visitor claims behind links an admin makes or removes by hand (`linked_visitors` in a
//! contact write). A claim (`SITE#{site}#V#{visitor}` / `CONTACT`, see [`super::identity`]) is
//! how the rest of the system knows which contact a visitor belongs to: the event path rescores
//! the contact it names, and an identify for another email is a conflict instead of a second
//! contact taking the visitor. A hand link therefore writes one too, in the contact's own
//! transaction, and removing the link deletes it.

use std::sync::Arc;

use crm_domain::contacts::{Contact, VisitorLink};
use crm_domain::site::SiteId;

use super::change::Change;
use super::keys;
use crate::table::{Condition, Item, Key, Table, TableError, TransactItem, Value};

/// Why a contact write cannot take the links it asks for.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The visitor belongs to another contact, which exists.
    #[error("visitor {}/{} is linked to contact {contact}", .visitor.site, .visitor.visitor)]
    Taken {
        visitor: VisitorLink,
        contact: String,
    },
    #[error(transparent)]
    Table(#[from] TableError),
}

#[derive(Clone)]
pub struct VisitorClaims {
    table: Arc<dyn Table>,
}

impl VisitorClaims {
    pub fn new(table: Arc<dyn Table>) -> VisitorClaims {
        VisitorClaims { table }
    }

    /// Adds to `change` the claims of the links `after` gains over `before` and the deletion of
    /// the claims of the links it loses (only claims naming this contact). Returns the indexes
    /// of the items written on condition: one failing means another writer took or freed a claim
    /// meanwhile. Reads nothing when the links do not change.
    pub async fn add_changes(
        &self,
        change: &mut Change,
        before: Option<&Contact>,
        after: &Contact,
    ) -> Result<Vec<usize>, ClaimError> {
        let had = |link: &VisitorLink| before.is_some_and(|c| c.linked_visitors.contains(link));
        let added: Vec<&VisitorLink> = after
            .linked_visitors
            .iter()
            .filter(|link| !had(link))
            .collect();
        let removed: Vec<&VisitorLink> = before
            .map(|before| before.linked_visitors.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|link| !after.linked_visitors.contains(link))
            .collect();
        if added.is_empty() && removed.is_empty() {
            return Ok(Vec::new());
        }
        let claims = self
            .claims_of(added.iter().chain(&removed).copied())
            .await?;
        let holder = |link: &VisitorLink| {
            claims
                .iter()
                .find(|(claimed, _)| claimed == link)
                .map(|(_, contact)| contact.as_str())
        };
        let mut conditional = Vec::new();
        for link in added {
            let replaces = match holder(link) {
                None => None,
                Some(contact) if contact == after.id => continue,
                // A claim naming a deleted contact is replaced, as identify replaces it.
                Some(contact) if self.table.get(&keys::contact(contact)).await?.is_none() => {
                    Some(contact)
                }
                Some(contact) => {
                    return Err(ClaimError::Taken {
                        visitor: link.clone(),
                        contact: contact.to_owned(),
                    });
                }
            };
            conditional.push(change.push(claim_put(claim_key(link)?, &after.id, replaces)));
        }
        for link in removed {
            if holder(link) == Some(after.id.as_str()) {
                conditional.push(change.push(TransactItem::Delete {
                    key: claim_key(link)?,
                    condition: Some(claim_names(&after.id)),
                }));
            }
        }
        Ok(conditional)
    }

    /// The contact each of these visitors' claims names, for the visitors that have one.
    async fn claims_of<'a>(
        &self,
        links: impl Iterator<Item = &'a VisitorLink>,
    ) -> Result<Vec<(VisitorLink, String)>, TableError> {
        let links: Vec<&VisitorLink> = links.collect();
        let keys = links
            .iter()
            .map(|link| claim_key(link))
            .collect::<Result<Vec<Key>, _>>()?;
        // At most twice the linked-visitor limit: one batch.
        let items = self.table.batch_get(&keys).await?;
        Ok(links
            .into_iter()
            .zip(keys)
            .filter_map(|(link, key)| {
                let item = items.iter().find(|item| item.key == key)?;
                Some((link.clone(), item.get_str("contact")?.to_owned()))
            })
            .collect())
    }
}

fn claim_key(link: &VisitorLink) -> Result<Key, TableError> {
    let site = SiteId::parse(&link.site)
        .map_err(|_| TableError::Invalid(format!("a linked visitor's site: {}", link.site)))?;
    Ok(keys::visitor_claim(&site, &link.visitor))
}

/// The claim under `key` naming `contact`, written on condition that there is none, or that it
/// still names `replaces` (the claim read before: another writer's change fails the write).
pub(super) fn claim_put(key: Key, contact: &str, replaces: Option<&str>) -> TransactItem {
    TransactItem::Put {
        item: Item::new(key).with("contact", Value::S(contact.to_owned())),
        condition: Some(replaces.map_or(Condition::ItemNotExists, claim_names)),
    }
}

fn claim_names(contact: &str) -> Condition {
    Condition::AttrEquals("contact".to_owned(), Value::S(contact.to_owned()))
}
