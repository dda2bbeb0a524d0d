//! Segment rules: conditions on contact fields, combined with `all` (and) and `any` (or).
//! Only [`super::parse`] builds them, so a `Rule` is always valid; it is written back to JSON in
//! the shape clients send.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value, json};

use super::fields::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    ContainsAny,
    ContainsAll,
    IsSet,
    IsNotSet,
}

impl Op {
    pub const ALL: [Op; 16] = [
        Op::Eq,
        Op::Neq,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::EndsWith,
        Op::In,
        Op::NotIn,
        Op::ContainsAny,
        Op::ContainsAll,
        Op::IsSet,
        Op::IsNotSet,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::ContainsAny => "contains_any",
            Op::ContainsAll => "contains_all",
            Op::IsSet => "is_set",
            Op::IsNotSet => "is_not_set",
        }
    }

    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// What a condition compares the field with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `is_set` / `is_not_set` take no value.
    Nothing,
    Text(String),
    Number(Number),
    Bool(bool),
    Texts(Vec<String>),
    Numbers(Vec<Number>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub operand: Operand,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Condition(Condition),
}

impl Rule {
    /// The rule in the JSON shape clients send.
    pub fn to_json(&self) -> Value {
        match self {
            Rule::All(rules) => {
                json!({ "all": rules.iter().map(Rule::to_json).collect::<Vec<_>>() })
            }
            Rule::Any(rules) => {
                json!({ "any": rules.iter().map(Rule::to_json).collect::<Vec<_>>() })
            }
            Rule::Condition(condition) => {
                let mut object = Map::new();
                object.insert("field".to_owned(), Value::String(condition.field.name()));
                object.insert(
                    "op".to_owned(),
                    Value::String(condition.op.name().to_owned()),
                );
                let value = match &condition.operand {
                    Operand::Nothing => None,
                    Operand::Text(text) => Some(Value::String(text.clone())),
                    Operand::Number(number) => Some(Value::Number(number.clone())),
                    Operand::Bool(flag) => Some(Value::Bool(*flag)),
                    Operand::Texts(texts) => Some(json!(texts)),
                    Operand::Numbers(numbers) => Some(json!(numbers)),
                };
                if let Some(value) = value {
                    object.insert("value".to_owned(), value);
                }
                Value::Object(object)
            }
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        super::parse::parse_rules(&value).map_err(serde::de::Error::custom)
    }
}
