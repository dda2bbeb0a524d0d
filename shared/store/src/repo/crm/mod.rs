//! The CRM's records (contacts, deals, pipelines, segments, sites…) share one way of being
//! written: a versioned item (`data` JSON + `version`), written in one transaction together with
//! its audit entry, so that no change is ever unaudited and a stale writer is refused.
//!
//! - [`record`]: reading and encoding versioned records.
//! - [`change`]: a transaction under construction; [`change::commit`] refuses an unaudited one.
//! - [`audit`]: audit entries, their keys and the admin's audit log queries.
//! - [`person`]: links from a contact to items elsewhere holding its personal data, which GDPR
//!   erase follows.
//! - [`scan`]: one page of a filtered, ordered list that reads a bounded number of items.
//! - [`identity`]: linking the visitor behind a consented `identify` to a contact.
//! - [`visitor_claims`]: the claims behind visitor links an admin makes or removes by hand.
//! - [`keys`]: the CRM's key layout (documented in docs/data-model.md).

pub mod audit;
pub mod change;
pub mod contacts;
pub mod deals;
pub mod identity;
pub mod keys;
pub mod outbox;
pub mod person;
pub mod pipelines;
pub mod record;
pub mod sales_keys;
pub mod scan;
pub mod scores;
pub mod segments;
pub mod timeline;
pub mod visitor_claims;

pub use audit::{AuditEntry, AuditFilter, AuditRepo};
pub use change::{Change, CommitError, Expect, commit};
pub use contacts::{ContactRepo, ContactSort, ContactWrite};
pub use person::{OnErase, PersonRef};
pub use record::{Versioned, read_record, record_item};
pub use scan::{FilteredPage, delete_all, filtered_page, read_partition};
pub use timeline::TimelineEntry;
