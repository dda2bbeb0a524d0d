//! Contacts in the single table.
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | contact | `C#{id}` | `META` | GSI1 `CONTACTS#SCORE` / `{score:03}#{id}`, GSI2 `CONTACTS#UPDATED` / `{updated ms}#{id}` |
//! | its copy in creation order | `C#{id}` | `BY_CREATED` | GSI1 `CONTACTS#CREATED` / `{id}` |
//! | email claim | `CEMAIL#{sha256(lowercased email)}` | `CLAIM` | attr `contact` |
//! | follow-up | `C#{id}` | `FOLLOWUP` | GSI1 `LEADS#FOLLOWUP` / `{due ms}#{id}` |
//! | interaction | `C#{id}` | `I#{at ms}#{id}` | |
//! | timeline entry | `C#{id}` | `T#{at ms}#{id}` | lifecycle ones: GSI1 `CRM#TRANSITIONS` / `{at ms}#{id}` |
//! | person link | `C#{id}` | `REF#{pk}\|{sk}` | |
//! | stage counts | `CRM#LIFECYCLE` | `SHARD#{0..7}` | one numeric attribute per stage |
//!
//! Every write of a contact writes the `META` item and its `BY_CREATED` copy (and the email
//! claim, follow-up and stage counts when they change) in one audited transaction.

use std::collections::HashMap;
use std::sync::Arc;

use crm_domain::contacts::{Contact, Interaction, LifecycleStage};
use crm_domain::time::Millis;

use super::change::{Change, Expect};
use super::keys;
use super::record::{Versioned, read_record, record_item};
use super::scan::{FilteredPage, filtered_page, read_partition};
use crate::repo::codec::{DATA_ATTR, decode, encode};
use crate::repo::keys::padded_millis;
use crate::table::{
    Cursor, Index, Item, Key, MAX_BATCH_GET, Query, SortKeyCondition, Table, TableError, Update,
    Value,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSort {
    /// `-lead_score`: highest lead score first.
    LeadScoreDesc,
    /// `-updated_at`: most recently changed first (the default).
    UpdatedDesc,
    /// `created_at`: oldest first.
    CreatedAsc,
}

/// Indexes of a contact write's items in its [`Change`], to tell which condition failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactWrite {
    pub record: usize,
    /// The new email claim, when the email is new or changed.
    pub email_claim: Option<usize>,
    /// Visitor claims written or deleted on condition (see [`super::visitor_claims`]).
    pub visitor_claims: Vec<usize>,
}

#[derive(Clone)]
pub struct ContactRepo {
    table: Arc<dyn Table>,
}

impl ContactRepo {
    pub fn new(table: Arc<dyn Table>) -> ContactRepo {
        ContactRepo { table }
    }

    pub async fn get(&self, id: &str) -> Result<Option<Versioned<Contact>>, TableError> {
        read_record(&*self.table, &keys::contact(id)).await
    }

    /// The id of the contact holding this (normalized) email, if any.
    pub async fn id_by_email(&self, normalized_email: &str) -> Result<Option<String>, TableError> {
        let claim = self.table.get(&keys::email_claim(normalized_email)).await?;
        Ok(claim.and_then(|item| item.get_str("contact").map(str::to_owned)))
    }

    /// Adds the writes of a new contact (version 1) to `change`.
    pub fn add_create(
        &self,
        change: &mut Change,
        contact: &Contact,
    ) -> Result<ContactWrite, TableError> {
        let record = change.put(contact_item(contact, 1)?, Expect::Absent);
        change.put(created_copy(contact, 1)?, Expect::Anything);
        let claim = change.put(claim_item(contact), Expect::Absent);
        change.update(
            keys::lifecycle_shard_of(&contact.id),
            stage_counts(None, Some(contact.lifecycle_stage)),
            Expect::Anything,
        );
        if let Some(item) = follow_up_item(contact) {
            change.put(item, Expect::Anything);
        }
        Ok(ContactWrite {
            record,
            email_claim: Some(claim),
            visitor_claims: Vec::new(),
        })
    }

    /// Adds the writes replacing `before` by `after` (version + 1) to `change`.
    pub fn add_update(
        &self,
        change: &mut Change,
        before: &Versioned<Contact>,
        after: &Contact,
    ) -> Result<ContactWrite, TableError> {
        let version = before.version + 1;
        let record = change.put(
            contact_item(after, version)?,
            Expect::Version(before.version),
        );
        change.put(created_copy(after, version)?, Expect::Anything);
        let mut email_claim = None;
        if before.record.email.normalized() != after.email.normalized() {
            change.delete(
                keys::email_claim(&before.record.email.normalized()),
                Expect::Anything,
            );
            email_claim = Some(change.put(claim_item(after), Expect::Absent));
        }
        if before.record.lifecycle_stage != after.lifecycle_stage {
            change.update(
                keys::lifecycle_shard_of(&after.id),
                stage_counts(
                    Some(before.record.lifecycle_stage),
                    Some(after.lifecycle_stage),
                ),
                Expect::Anything,
            );
        }
        if before.record.follow_up != after.follow_up {
            match follow_up_item(after) {
                Some(item) => change.put(item, Expect::Anything),
                None => change.delete(keys::follow_up(&after.id), Expect::Anything),
            };
        }
        Ok(ContactWrite {
            record,
            email_claim,
            visitor_claims: Vec::new(),
        })
    }

    /// Adds the deletion of the contact's own items (not its interactions and timeline: see
    /// [`ContactRepo::partition`]) to `change`.
    pub fn add_delete(&self, change: &mut Change, current: &Versioned<Contact>) -> usize {
        let contact = &current.record;
        let record = change.delete(keys::contact(&contact.id), Expect::Version(current.version));
        change.delete(keys::contact_by_created(&contact.id), Expect::Anything);
        change.delete(
            keys::email_claim(&contact.email.normalized()),
            Expect::Anything,
        );
        change.delete(keys::follow_up(&contact.id), Expect::Anything);
        change.update(
            keys::lifecycle_shard_of(&contact.id),
            stage_counts(Some(contact.lifecycle_stage), None),
            Expect::Anything,
        );
        record
    }

    /// Adds the deletion of the contact's own items whatever their version (GDPR erase, which
    /// must win over concurrent edits).
    pub fn add_delete_any_version(&self, change: &mut Change, contact: &Contact) {
        change.delete(keys::contact(&contact.id), Expect::Anything);
        change.delete(keys::contact_by_created(&contact.id), Expect::Anything);
        change.delete(
            keys::email_claim(&contact.email.normalized()),
            Expect::Anything,
        );
        change.delete(keys::follow_up(&contact.id), Expect::Anything);
        change.update(
            keys::lifecycle_shard_of(&contact.id),
            stage_counts(Some(contact.lifecycle_stage), None),
            Expect::Anything,
        );
    }

    /// One page of contacts in `sort` order that pass `keep`, reading at most `max_examined`.
    /// `min_lead_score` narrows the score order by key instead of by filter.
    pub async fn list(
        &self,
        sort: ContactSort,
        min_lead_score: Option<u8>,
        limit: usize,
        cursor: Option<Cursor>,
        max_examined: usize,
        keep: impl Fn(&Contact) -> bool,
    ) -> Result<(Vec<Contact>, Option<Cursor>), TableError> {
        let (index, pk, forward) = match sort {
            ContactSort::LeadScoreDesc => (Index::Gsi1, keys::CONTACTS_BY_SCORE_INDEX, false),
            ContactSort::UpdatedDesc => (Index::Gsi2, keys::CONTACTS_BY_UPDATED_INDEX, false),
            ContactSort::CreatedAsc => (Index::Gsi1, keys::CONTACTS_BY_CREATED_INDEX, true),
        };
        let sk = match (sort, min_lead_score) {
            (ContactSort::LeadScoreDesc, Some(min)) => {
                SortKeyCondition::Between(format!("{min:03}"), "101".to_owned())
            }
            _ => SortKeyCondition::Any,
        };
        let query = Query {
            index: Some(index),
            pk: pk.to_owned(),
            sk,
            forward,
            limit,
            cursor,
        };
        let FilteredPage { items, next } =
            filtered_page(&*self.table, query, limit, max_examined, |item| {
                decode::<Contact>(item).is_ok_and(|contact| {
                    min_lead_score.is_none_or(|min| contact.lead_score >= min) && keep(&contact)
                })
            })
            .await?;
        let contacts = items
            .iter()
            .map(decode)
            .collect::<Result<Vec<Contact>, _>>()?;
        Ok((contacts, next))
    }

    /// Contacts whose follow-up is due at or before `now`, earliest first.
    pub async fn due_follow_ups(
        &self,
        now: Millis,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<Contact>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::FOLLOW_UPS_INDEX.to_owned(),
                sk: SortKeyCondition::Between(String::new(), format!("{}~", padded_millis(now))),
                forward: true,
                limit,
                cursor,
            })
            .await?;
        let ids: Vec<String> = page
            .items
            .iter()
            .filter_map(|item| item.get_str("contact").map(str::to_owned))
            .collect();
        let mut contacts = self.get_many(&ids).await?;
        contacts.sort_by_key(|contact| contact.follow_up.as_ref().map(|f| f.due_at));
        Ok((contacts, page.next))
    }

    /// The contacts with these ids that exist, in the order of `ids`.
    pub async fn get_many(&self, ids: &[String]) -> Result<Vec<Contact>, TableError> {
        let mut contacts: Vec<Contact> = Vec::new();
        for chunk in ids.chunks(MAX_BATCH_GET) {
            let keys: Vec<Key> = chunk.iter().map(|id| keys::contact(id)).collect();
            for item in self.table.batch_get(&keys).await? {
                contacts.push(decode(&item)?);
            }
        }
        // batch_get returns items in no set order. (A position map, not a search of `ids` per
        // comparison: an export page asks for up to 5,000 ids.)
        let order: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(position, id)| (id.as_str(), position))
            .collect();
        contacts.sort_by_key(|contact| order.get(contact.id.as_str()).copied());
        Ok(contacts)
    }

    /// The contact's interactions, newest first.
    pub async fn interactions(
        &self,
        contact: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<Interaction>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: keys::contact_partition(contact),
                sk: SortKeyCondition::BeginsWith(keys::INTERACTION_SK_PREFIX.to_owned()),
                forward: false,
                limit,
                cursor,
            })
            .await?;
        let interactions = page
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((interactions, page.next))
    }

    /// Items of the contact's partition whose sort key starts with `prefix` and sorts before
    /// `before` (exclusive), newest first: timeline pages.
    pub async fn partition_before(
        &self,
        contact: &str,
        prefix: &str,
        before: &str,
        limit: usize,
    ) -> Result<Vec<Item>, TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: keys::contact_partition(contact),
                sk: SortKeyCondition::Between(prefix.to_owned(), before.to_owned()),
                forward: false,
                limit,
                cursor: None,
            })
            .await?;
        Ok(page.items)
    }

    /// Every item of the contact's partition (GDPR export and erase), at most `max_items`.
    pub async fn partition(
        &self,
        contact: &str,
        max_items: usize,
    ) -> Result<Vec<Item>, TableError> {
        read_partition(&*self.table, &keys::contact_partition(contact), max_items).await
    }

    /// Lifecycle transitions in `[from, to)`, oldest first, at most `limit`.
    pub async fn transitions(
        &self,
        from: Millis,
        to: Millis,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::TRANSITIONS_INDEX.to_owned(),
                sk: SortKeyCondition::Between(
                    padded_millis(from),
                    padded_millis(Millis(to.0 - 1)) + "~",
                ),
                forward: true,
                limit,
                cursor: None,
            })
            .await?;
        Ok((page.items, page.next.is_some()))
    }

    /// Contacts per lifecycle stage (summed over the count shards).
    pub async fn stage_counts(&self) -> Result<Vec<(LifecycleStage, i64)>, TableError> {
        let keys: Vec<Key> = (0..keys::LIFECYCLE_SHARDS)
            .map(keys::lifecycle_shard)
            .collect();
        let shards = self.table.batch_get(&keys).await?;
        Ok(LifecycleStage::ALL
            .into_iter()
            .map(|stage| {
                let total = shards
                    .iter()
                    .map(|shard| shard.get_i64(stage.as_str()).unwrap_or(0))
                    .sum();
                (stage, total)
            })
            .collect())
    }
}

pub fn contact_item(contact: &Contact, version: i64) -> Result<Item, TableError> {
    Ok(record_item(keys::contact(&contact.id), contact, version)?
        .with("gsi1pk", Value::S(keys::CONTACTS_BY_SCORE_INDEX.to_owned()))
        .with(
            "gsi1sk",
            Value::S(keys::score_sort_key(contact.lead_score, &contact.id)),
        )
        .with(
            "gsi2pk",
            Value::S(keys::CONTACTS_BY_UPDATED_INDEX.to_owned()),
        )
        .with(
            "gsi2sk",
            Value::S(format!(
                "{}#{}",
                padded_millis(contact.updated_at),
                contact.id
            )),
        ))
}

fn created_copy(contact: &Contact, version: i64) -> Result<Item, TableError> {
    Ok(
        record_item(keys::contact_by_created(&contact.id), contact, version)?
            .with(
                "gsi1pk",
                Value::S(keys::CONTACTS_BY_CREATED_INDEX.to_owned()),
            )
            .with("gsi1sk", Value::S(contact.id.clone())),
    )
}

fn claim_item(contact: &Contact) -> Item {
    Item::new(keys::email_claim(&contact.email.normalized()))
        .with("contact", Value::S(contact.id.clone()))
}

fn follow_up_item(contact: &Contact) -> Option<Item> {
    let follow_up = contact.follow_up.as_ref()?;
    Some(
        Item::new(keys::follow_up(&contact.id))
            .with("contact", Value::S(contact.id.clone()))
            .with("gsi1pk", Value::S(keys::FOLLOW_UPS_INDEX.to_owned()))
            .with(
                "gsi1sk",
                Value::S(format!(
                    "{}#{}",
                    padded_millis(follow_up.due_at),
                    contact.id
                )),
            ),
    )
}

fn stage_counts(from: Option<LifecycleStage>, to: Option<LifecycleStage>) -> Update {
    let mut add = Vec::new();
    if let Some(from) = from {
        add.push((from.as_str().to_owned(), -1));
    }
    if let Some(to) = to {
        add.push((to.as_str().to_owned(), 1));
    }
    Update {
        add,
        ..Update::default()
    }
}

/// An interaction's item, for the `Change` that logs it.
pub fn interaction_item(interaction: &Interaction) -> Result<Item, TableError> {
    Ok(Item::new(keys::interaction(
        &interaction.contact_id,
        interaction.occurred_at,
        &interaction.id,
    ))
    .with(DATA_ATTR, encode(interaction)?))
}
