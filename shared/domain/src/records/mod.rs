//! What every CRM record shares, decided once: who may do what to it ([`policy`]) and what an
//! audit entry says changed ([`diff`]), and which strings can be ids ([`id`]). Record ids (UUIDv7)
//! and timestamps are made by the caller; this module never reads a clock.

pub mod diff;
pub mod id;
pub mod policy;

pub use diff::{FieldChange, changed_fields};
pub use id::{MAX_ID_BYTES, is_record_id};
pub use policy::{Access, Action, Resource, Role, access};
