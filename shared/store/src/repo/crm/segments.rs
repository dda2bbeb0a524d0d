//! Segments: versioned records listed from one index partition, and their members as items of
//! the segment's partition (`M#{contact}`), each linked from the contact's partition so that
//! erasing the contact deletes its memberships.
//!
//! [`SegmentRepo::member_page`] and [`SegmentRepo::is_member`] are what the contacts list's
//! `segment_id` filter reads.

use std::collections::HashSet;
use std::sync::Arc;

use crm_domain::contacts::Contact;
use crm_domain::segments::{Rule, Segment, membership_changes, membership_on_write};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::change::{Change, Expect};
use super::contacts::{ContactRepo, ContactSort};
use super::keys::contact as contact_key;
use super::person::{OnErase, PersonRef};
use super::record::{Versioned, read_record, record_item};
use super::sales_keys as keys;
use crate::repo::codec::{DATA_ATTR, decode, encode, version};
use crate::table::{
    Condition, Cursor, Index, Item, Key, MAX_BATCH_GET, MAX_BATCH_WRITE, Query, SortKeyCondition,
    Table, TableError, Value, WriteRequest,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRecord {
    #[serde(flatten)]
    pub segment: Segment,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub type StoredSegment = Versioned<SegmentRecord>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub contact_id: String,
    pub added_at: Millis,
}

/// Contacts one refresh step reads: bounds its reads (one page of contacts, then their
/// memberships by key in batches of 100) and its writes (two items per changed membership).
pub const MAX_CONTACTS_PER_REFRESH: usize = 500;

/// At most this many memberships change inside one contact write; when a write would change
/// more, it changes none and the `segments` job brings them up to date (so a contact write stays
/// well inside DynamoDB's 100-item transaction).
pub const MAX_INLINE_MEMBERSHIP_CHANGES: usize = 20;

/// Segments read per query of the segments index.
const SEGMENTS_PAGE: usize = 100;

/// What one refresh step of a dynamic segment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshStep {
    /// Contacts read.
    pub examined: usize,
    /// Of those, contacts matching the rules.
    pub matched: usize,
    /// Memberships written and deleted.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Where the next step resumes (contacts in creation order); `None`: every contact seen.
    pub next: Option<Cursor>,
}

/// What one pruning step of a segment's memberships did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneStep {
    /// Memberships read.
    pub examined: usize,
    /// Memberships deleted because their contact no longer exists.
    pub removed: Vec<String>,
    /// Where the next step resumes (members in contact-id order); `None`: every member seen.
    pub next: Option<Cursor>,
}

#[derive(Clone)]
pub struct SegmentRepo {
    table: Arc<dyn Table>,
}

impl SegmentRepo {
    pub fn new(table: Arc<dyn Table>) -> SegmentRepo {
        SegmentRepo { table }
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredSegment>, TableError> {
        read_record(&*self.table, &keys::segment(id)).await
    }

    /// One page of segments, oldest first.
    pub async fn list(
        &self,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<StoredSegment>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::SEGMENTS_INDEX_PK.to_owned(),
                sk: SortKeyCondition::Any,
                forward: true,
                limit,
                cursor,
            })
            .await?;
        let segments = page
            .items
            .iter()
            .map(|item| {
                Ok(Versioned {
                    record: decode(item)?,
                    version: version(item),
                })
            })
            .collect::<Result<_, TableError>>()?;
        Ok((segments, page.next))
    }

    /// One page of a segment's member contact ids, in id order.
    pub async fn member_page(
        &self,
        segment: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<String>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: keys::segment_partition(segment),
                sk: SortKeyCondition::BeginsWith(keys::MEMBER_SK_PREFIX.to_owned()),
                forward: true,
                limit,
                cursor,
            })
            .await?;
        let members = page
            .items
            .iter()
            .filter_map(|item| item.key.sk.strip_prefix(keys::MEMBER_SK_PREFIX))
            .map(str::to_owned)
            .collect();
        Ok((members, page.next))
    }

    pub async fn is_member(&self, segment: &str, contact: &str) -> Result<bool, TableError> {
        Ok(self
            .table
            .get(&keys::segment_member(segment, contact))
            .await?
            .is_some())
    }

    /// Which of `contacts` are members, read by key in batches of [`MAX_BATCH_GET`].
    pub async fn members_among(
        &self,
        segment: &str,
        contacts: &[String],
    ) -> Result<HashSet<String>, TableError> {
        let mut members = HashSet::new();
        for chunk in contacts.chunks(MAX_BATCH_GET) {
            let member_keys: Vec<Key> = chunk
                .iter()
                .map(|contact| keys::segment_member(segment, contact))
                .collect();
            for item in self.table.batch_get(&member_keys).await? {
                if let Some(contact) = item.key.sk.strip_prefix(keys::MEMBER_SK_PREFIX) {
                    members.insert(contact.to_owned());
                }
            }
        }
        Ok(members)
    }

    /// Every member id, for a refresh to compare with (bounded by the caller's contact limit).
    pub async fn all_members(&self, segment: &str, max: usize) -> Result<Vec<String>, TableError> {
        let mut members = Vec::new();
        let mut cursor = None;
        loop {
            let (mut page, next) = self.member_page(segment, 1000, cursor).await?;
            members.append(&mut page);
            match next {
                Some(next) if members.len() < max => cursor = Some(next),
                _ => return Ok(members),
            }
        }
    }

    /// Adds and removes members outside a transaction (a refresh recomputes them; running it
    /// again repairs an interrupted one). Each membership is written with its contact link.
    pub async fn write_members(
        &self,
        segment: &str,
        add: &[String],
        remove: &[String],
        at: Millis,
    ) -> Result<(), TableError> {
        let mut requests = Vec::new();
        for contact in add {
            requests.push(WriteRequest::Put(member_item(segment, contact, at)?));
            requests.push(WriteRequest::Put(member_link(segment, contact).item()?));
        }
        for contact in remove {
            requests.push(WriteRequest::Delete(keys::segment_member(segment, contact)));
            requests.push(WriteRequest::Delete(member_link(segment, contact).key()));
        }
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            self.table.batch_write(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// One bounded step of a dynamic segment's refresh, shared by the refresh route and the
    /// `segments` job: reads at most `limit` contacts (creation order, from `cursor`), evaluates
    /// `rules` on each, adds those that match and removes those that no longer do. Running a
    /// step again writes nothing new; contacts outside the page keep their memberships.
    pub async fn refresh_step(
        &self,
        segment: &str,
        rules: &Rule,
        cursor: Option<Cursor>,
        limit: usize,
        at: Millis,
    ) -> Result<RefreshStep, TableError> {
        let (contacts, next) = ContactRepo::new(Arc::clone(&self.table))
            .list(ContactSort::CreatedAsc, None, limit, cursor, limit, |_| {
                true
            })
            .await?;
        let ids: Vec<String> = contacts.iter().map(|contact| contact.id.clone()).collect();
        let members = self.members_among(segment, &ids).await?;
        let examined = contacts
            .iter()
            .map(|contact| (contact.id.as_str(), matches(rules, contact)));
        let changes = membership_changes(examined, |id| members.contains(id));
        self.write_members(segment, &changes.added, &changes.removed, at)
            .await?;
        Ok(RefreshStep {
            examined: ids.len(),
            matched: changes.matched,
            added: changes.added,
            removed: changes.removed,
            next,
        })
    }

    /// One bounded step of removing a segment's memberships whose contact no longer exists (a
    /// contact deleted, not erased, leaves them): reads at most `limit` members from `cursor`,
    /// looks their contacts up by key and deletes the memberships (and links) of the missing.
    pub async fn prune_step(
        &self,
        segment: &str,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<PruneStep, TableError> {
        let (members, next) = self.member_page(segment, limit, cursor).await?;
        let mut existing = HashSet::new();
        for chunk in members.chunks(MAX_BATCH_GET) {
            let contact_keys: Vec<Key> = chunk.iter().map(|id| contact_key(id)).collect();
            for item in self.table.batch_get(&contact_keys).await? {
                existing.insert(item.key.pk);
            }
        }
        let removed: Vec<String> = members
            .iter()
            .filter(|id| !existing.contains(&contact_key(id).pk))
            .cloned()
            .collect();
        self.write_members(segment, &[], &removed, Millis(0))
            .await?;
        Ok(PruneStep {
            examined: members.len(),
            removed,
            next,
        })
    }

    /// Every dynamic segment's id and rules, in id order (reads the whole segments index).
    pub async fn dynamic_rules(&self) -> Result<Vec<(String, Rule)>, TableError> {
        let mut rules = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.list(SEGMENTS_PAGE, cursor).await?;
            rules.extend(page.into_iter().filter_map(|stored| {
                let segment = stored.record.segment;
                Some((segment.id, segment.rules?))
            }));
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(rules),
            }
        }
    }

    /// The incremental path: adds to a contact write's `change` the memberships the write
    /// changes — joining each dynamic segment whose rules the contact now matches and did not
    /// before (`before` is `None` for a new contact), leaving each it no longer matches — so
    /// they commit or fail with the contact. Returns how many it added; none when more than
    /// [`MAX_INLINE_MEMBERSHIP_CHANGES`] would change (the `segments` job repairs those, and any
    /// drift).
    pub async fn add_membership_updates(
        &self,
        change: &mut Change,
        before: Option<&Contact>,
        after: &Contact,
        at: Millis,
    ) -> Result<usize, TableError> {
        let segments = self.dynamic_rules().await?;
        add_membership_updates_by(&segments, change, before, after, at)
    }

    /// Removes every member of a deleted segment.
    pub async fn delete_members(&self, segment: &str) -> Result<(), TableError> {
        loop {
            let (members, _) = self.member_page(segment, 100, None).await?;
            if members.is_empty() {
                return Ok(());
            }
            self.write_members(segment, &[], &members, Millis(0))
                .await?;
        }
    }
}

/// [`SegmentRepo::add_membership_updates`] with the dynamic segments' rules already read
/// ([`SegmentRepo::dynamic_rules`]), for a caller writing many contacts that reads them once.
pub fn add_membership_updates_by(
    segments: &[(String, Rule)],
    change: &mut Change,
    before: Option<&Contact>,
    after: &Contact,
    at: Millis,
) -> Result<usize, TableError> {
    let updates: Vec<(String, bool)> = segments
        .iter()
        .filter_map(|(segment, rules)| {
            let was = before.map(|contact| matches(rules, contact));
            membership_on_write(was, matches(rules, after)).map(|joins| (segment.clone(), joins))
        })
        .collect();
    if updates.len() > MAX_INLINE_MEMBERSHIP_CHANGES {
        tracing::info!(
            contact = %after.id,
            changes = updates.len(),
            "too many segment memberships change at once; left to the segments job"
        );
        return Ok(0);
    }
    for (segment, joins) in &updates {
        if *joins {
            change.put(member_item(segment, &after.id, at)?, Expect::Anything);
            change.put(member_link(segment, &after.id).item()?, Expect::Anything);
        } else {
            remove_member_items(change, segment, &after.id);
        }
    }
    Ok(updates.len())
}

/// Whether a contact matches a segment's rules (the rule names are the contact's JSON fields).
fn matches(rules: &Rule, contact: &Contact) -> bool {
    match serde_json::to_value(contact) {
        Ok(Json::Object(fields)) => rules.matches(&fields),
        _ => false,
    }
}

pub fn segment_item(record: &SegmentRecord, version: i64) -> Result<Item, TableError> {
    Ok(
        record_item(keys::segment(&record.segment.id), record, version)?
            .with("gsi1pk", Value::S(keys::SEGMENTS_INDEX_PK.to_owned()))
            .with("gsi1sk", Value::S(record.segment.id.clone())),
    )
}

/// Adds a member to a static segment in a change: the membership, its contact link, and a check
/// that the contact exists (returned, to report a missing contact).
pub fn add_member_items(
    change: &mut Change,
    segment: &str,
    contact: &str,
    at: Millis,
) -> Result<usize, TableError> {
    let check = change.check(contact_key(contact), Condition::ItemExists);
    change.put(member_item(segment, contact, at)?, Expect::Anything);
    change.put(member_link(segment, contact).item()?, Expect::Anything);
    Ok(check)
}

pub fn remove_member_items(change: &mut Change, segment: &str, contact: &str) {
    change.delete(keys::segment_member(segment, contact), Expect::Anything);
    change.delete(member_link(segment, contact).key(), Expect::Anything);
}

fn member_item(segment: &str, contact: &str, at: Millis) -> Result<Item, TableError> {
    let membership = Membership {
        contact_id: contact.to_owned(),
        added_at: at,
    };
    Ok(Item::new(keys::segment_member(segment, contact)).with(DATA_ATTR, encode(&membership)?))
}

/// Erasing the contact deletes the membership: it exists only because of the person.
fn member_link(segment: &str, contact: &str) -> PersonRef {
    PersonRef {
        contact: contact.to_owned(),
        target: keys::segment_member(segment, contact),
        on_erase: OnErase::Delete,
    }
}
