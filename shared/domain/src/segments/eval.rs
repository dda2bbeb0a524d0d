//! Evaluating rules against a contact. The contact is seen through [`ContactView`], so any
//! contact type (or its JSON) can be tested without this module knowing its shape.
//!
//! Texts compare case-insensitively. A contact without the field matches only the negative
//! operators (`neq`, `not_contains`, `not_in`) and `is_not_set`: it does not have the value.

use serde_json::{Map, Number, Value};

use super::fields::{Field, StandardField};
use super::rules::{Condition, Op, Operand, Rule};

/// One field's value on a contact.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Missing,
    Text(&'a str),
    Number(f64),
    Bool(bool),
    List(Vec<&'a str>),
}

/// Read access to the fields rules test.
pub trait ContactView {
    fn standard(&self, field: StandardField) -> FieldValue<'_>;
    /// A custom field by key (without the `custom.` prefix).
    fn custom(&self, key: &str) -> FieldValue<'_>;
}

/// A contact as JSON: standard fields by their rule names at the top level, custom fields in an
/// object under `custom_fields`.
impl ContactView for Map<String, Value> {
    fn standard(&self, field: StandardField) -> FieldValue<'_> {
        json_field(self.get(field.name()))
    }

    fn custom(&self, key: &str) -> FieldValue<'_> {
        json_field(
            self.get("custom_fields")
                .and_then(Value::as_object)
                .and_then(|custom| custom.get(key)),
        )
    }
}

fn json_field(value: Option<&Value>) -> FieldValue<'_> {
    match value {
        Some(Value::String(text)) => FieldValue::Text(text),
        Some(Value::Number(number)) => number
            .as_f64()
            .map_or(FieldValue::Missing, FieldValue::Number),
        Some(Value::Bool(flag)) => FieldValue::Bool(*flag),
        Some(Value::Array(items)) => {
            FieldValue::List(items.iter().filter_map(Value::as_str).collect())
        }
        _ => FieldValue::Missing,
    }
}

impl Rule {
    pub fn matches(&self, contact: &(impl ContactView + ?Sized)) -> bool {
        match self {
            Rule::All(rules) => rules.iter().all(|rule| rule.matches(contact)),
            Rule::Any(rules) => rules.iter().any(|rule| rule.matches(contact)),
            Rule::Condition(condition) => condition.matches(contact),
        }
    }
}

impl Condition {
    pub fn matches(&self, contact: &(impl ContactView + ?Sized)) -> bool {
        let value = match &self.field {
            Field::Standard(field) => contact.standard(*field),
            Field::Custom(key) => contact.custom(key),
        };
        let set = match &value {
            FieldValue::Missing => false,
            FieldValue::Text(text) => !text.trim().is_empty(),
            FieldValue::List(items) => !items.is_empty(),
            FieldValue::Number(_) | FieldValue::Bool(_) => true,
        };
        match self.op {
            Op::IsSet => return set,
            Op::IsNotSet => return !set,
            _ => {}
        }
        let negated = matches!(self.op, Op::Neq | Op::NotContains | Op::NotIn);
        match positive(self.op, &self.operand, &value) {
            Some(holds) => holds != negated,
            // The contact has no comparable value: only a negative condition holds.
            None => negated,
        }
    }
}

/// Whether the positive form of `op` (`eq` for `neq`, …) holds; `None` when the value is missing
/// or of another kind than the operand.
fn positive(op: Op, operand: &Operand, value: &FieldValue<'_>) -> Option<bool> {
    match (value, operand) {
        (FieldValue::Text(text), Operand::Text(wanted)) => {
            let (text, wanted) = (text.to_lowercase(), wanted.to_lowercase());
            Some(match op {
                Op::Eq | Op::Neq => text == wanted,
                Op::Contains | Op::NotContains => text.contains(&wanted),
                Op::StartsWith => text.starts_with(&wanted),
                Op::EndsWith => text.ends_with(&wanted),
                _ => false,
            })
        }
        (FieldValue::Text(text), Operand::Texts(wanted)) => {
            Some(wanted.iter().any(|w| same_text(text, w)))
        }
        (FieldValue::Number(number), Operand::Number(wanted)) => {
            let wanted = as_f64(wanted)?;
            Some(match op {
                Op::Eq | Op::Neq => *number == wanted,
                Op::Gt => *number > wanted,
                Op::Gte => *number >= wanted,
                Op::Lt => *number < wanted,
                Op::Lte => *number <= wanted,
                _ => false,
            })
        }
        (FieldValue::Number(number), Operand::Numbers(wanted)) => {
            Some(wanted.iter().filter_map(as_f64).any(|w| w == *number))
        }
        (FieldValue::Bool(flag), Operand::Bool(wanted)) => Some(flag == wanted),
        (FieldValue::List(items), Operand::Text(wanted)) => {
            Some(items.iter().any(|item| same_text(item, wanted)))
        }
        (FieldValue::List(items), Operand::Texts(wanted)) => {
            let has = |w: &String| items.iter().any(|item| same_text(item, w));
            Some(match op {
                Op::ContainsAll => wanted.iter().all(has),
                _ => wanted.iter().any(has),
            })
        }
        _ => None,
    }
}

fn same_text(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn as_f64(number: &Number) -> Option<f64> {
    number.as_f64()
}
