//! Typed repositories, written once over the [`Table`](crate::table::Table) port.
//!
//! Every key and index layout of the single table is decided in [`keys`] and documented in
//! `docs/data-model.md`; the repositories turn domain types into items and back.

pub mod behavior;
pub mod codec;
pub mod crm;
pub mod jobs;
pub mod keys;
pub mod sites;

pub use behavior::BehaviorRepo;
pub use jobs::JobStateRepo;
pub use sites::{SiteRepo, StoredSite};
