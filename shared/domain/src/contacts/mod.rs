//! Contacts: the person record, its validation, lifecycle stage rules, interactions, the
//! mapping of CSV rows and of stored data to lead-score inputs. Pure: ids and `now` come from
//! the caller.

pub mod contact;
pub mod csv_row;
pub mod email;
pub mod identity;
pub mod interaction;
pub mod lifecycle;
pub mod rescore;
pub mod score;
pub mod validate;

pub use contact::{Contact, ContactPatch, CustomValue, FollowUp, Qualification, VisitorLink};
pub use email::Email;
pub use interaction::{Interaction, InteractionInput, InteractionKind};
pub use lifecycle::{LifecycleStage, Transition};
pub use validate::{Problems, apply_patch, new_contact};
