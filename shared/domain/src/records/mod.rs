//! What every CRM record shares, decided once: who may do what to it ([`policy`]) and what an
//! audit entry says changed ([`diff`]). Record ids (UUIDv7) and timestamps are made by the caller;
//! this module never reads a clock.

pub mod diff;
pub mod policy;

pub use diff::{FieldChange, changed_fields};
pub use policy::{Access, Action, Resource, Role, access};
