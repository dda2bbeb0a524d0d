//! Segments of contacts: static lists or dynamic rules over contact fields and scores, with
//! rule validation that names the offending path and evaluation against any contact view.

pub mod eval;
pub mod fields;
pub mod parse;
pub mod refresh;
pub mod rules;
pub mod segment;

#[cfg(test)]
mod tests;

pub use eval::{ContactView, FieldValue};
pub use fields::{Field, FieldKind, StandardField};
pub use parse::parse_rules;
pub use refresh::{MembershipChanges, membership_changes, membership_on_write};
pub use rules::{Condition, Op, Operand, Rule};
pub use segment::{Segment, SegmentInput, SegmentKind, SegmentPatch, validate_member_ids};
