//! Reads segment rules from JSON, reporting every problem at its path (`rules.all[1].any[0].op`)
//! so a client can point at the exact spot. Limits keep evaluation cheap for any input.

use serde_json::{Map, Number, Value};

use super::fields::{Field, FieldKind};
use super::rules::{Condition, Op, Operand, Rule};
use crate::deals::violations::Violations;

/// Groups nest at most this deep (the root group is depth 1).
pub const MAX_DEPTH: usize = 5;
pub const MAX_CONDITIONS: usize = 100;
pub const MAX_GROUP_ITEMS: usize = 50;
pub const MAX_LIST_VALUES: usize = 100;
pub const MAX_TEXT_CHARS: usize = 200;

/// The path of the rules in a segment body, prefixed to every violation.
pub const ROOT_PATH: &str = "rules";

/// Parses the rules of a dynamic segment.
pub fn parse_rules(value: &Value) -> Result<Rule, Violations> {
    let mut parser = Parser {
        violations: Violations::default(),
        conditions: 0,
    };
    let rule = parser.rule(value, ROOT_PATH, 0);
    if parser.conditions > MAX_CONDITIONS {
        parser.violations.push(
            ROOT_PATH,
            format!("hold at most {MAX_CONDITIONS} conditions"),
        );
    }
    match rule {
        Some(rule) if parser.violations.is_empty() => Ok(rule),
        _ => Err(parser.violations),
    }
}

struct Parser {
    violations: Violations,
    conditions: usize,
}

impl Parser {
    fn rule(&mut self, value: &Value, path: &str, depth: usize) -> Option<Rule> {
        let Some(object) = value.as_object() else {
            self.violations.push(
                path,
                "must be an object: {\"all\": […]}, {\"any\": […]} or a condition {\"field\", \"op\", \"value\"}",
            );
            return None;
        };
        for group in ["all", "any"] {
            if let Some(items) = object.get(group) {
                self.only_keys(object, &[group], path);
                let rules = self.group(items, &format!("{path}.{group}"), depth + 1)?;
                return Some(if group == "all" {
                    Rule::All(rules)
                } else {
                    Rule::Any(rules)
                });
            }
        }
        self.condition(object, path).map(Rule::Condition)
    }

    fn group(&mut self, items: &Value, path: &str, depth: usize) -> Option<Vec<Rule>> {
        if depth > MAX_DEPTH {
            self.violations
                .push(path, format!("groups nest at most {MAX_DEPTH} deep"));
            return None;
        }
        let Some(items) = items.as_array() else {
            self.violations.push(path, "must be a list of rules");
            return None;
        };
        if items.is_empty() || items.len() > MAX_GROUP_ITEMS {
            self.violations
                .push(path, format!("must hold 1 to {MAX_GROUP_ITEMS} rules"));
            return None;
        }
        let rules: Vec<Option<Rule>> = items
            .iter()
            .enumerate()
            .map(|(index, item)| self.rule(item, &format!("{path}[{index}]"), depth))
            .collect();
        rules.into_iter().collect()
    }

    fn condition(&mut self, object: &Map<String, Value>, path: &str) -> Option<Condition> {
        self.conditions += 1;
        self.only_keys(object, &["field", "op", "value"], path);
        let field_path = format!("{path}.field");
        let field = match object.get("field") {
            None => {
                self.violations.push(field_path, "is required");
                None
            }
            Some(Value::String(name)) => {
                let field = Field::parse(name);
                if field.is_none() {
                    self.violations.push(
                        field_path,
                        format!(
                            "is not a contact field ({name:?}); custom fields are custom.<key>"
                        ),
                    );
                }
                field
            }
            Some(_) => {
                self.violations.push(field_path, "must be a field name");
                None
            }
        };
        let op_path = format!("{path}.op");
        let op = match object.get("op") {
            None => {
                self.violations.push(op_path.as_str(), "is required");
                None
            }
            Some(Value::String(name)) => {
                let op = Op::parse(name);
                if op.is_none() {
                    self.violations
                        .push(op_path.as_str(), format!("is not an operator ({name:?})"));
                }
                op
            }
            Some(_) => {
                self.violations
                    .push(op_path.as_str(), "must be an operator name");
                None
            }
        };
        let (field, op) = (field?, op?);
        let value = object.get("value").filter(|value| !value.is_null());
        let value_path = format!("{path}.value");
        let kind = match &field {
            Field::Standard(standard) => standard.kind(),
            // A custom field takes the kind of the value it is compared with.
            Field::Custom(_) => match value.map(value_kind) {
                Some(Some(kind)) => kind,
                Some(None) => {
                    self.violations.push(
                        value_path,
                        "must be a text, a number, a boolean or a list of them",
                    );
                    return None;
                }
                None => FieldKind::Text,
            },
        };
        if !applies(kind, op) {
            let allowed: Vec<&str> = Op::ALL
                .into_iter()
                .filter(|op| applies(kind, *op))
                .map(Op::name)
                .collect();
            self.violations.push(
                op_path,
                format!(
                    "does not apply to {} field {}; use one of {}",
                    kind_name(kind),
                    field.name(),
                    allowed.join(", ")
                ),
            );
            return None;
        }
        let operand = self.operand(kind, op, value, &value_path)?;
        Some(Condition { field, op, operand })
    }

    fn operand(
        &mut self,
        kind: FieldKind,
        op: Op,
        value: Option<&Value>,
        path: &str,
    ) -> Option<Operand> {
        let numeric = kind == FieldKind::Number;
        match op {
            Op::IsSet | Op::IsNotSet => {
                if value.is_some() {
                    self.violations
                        .push(path, "must be left out for this operator");
                    return None;
                }
                Some(Operand::Nothing)
            }
            Op::In | Op::NotIn | Op::ContainsAny | Op::ContainsAll => {
                let Some(items) = value.and_then(Value::as_array) else {
                    self.violations.push(path, "must be a list of values");
                    return None;
                };
                if items.is_empty() || items.len() > MAX_LIST_VALUES {
                    self.violations
                        .push(path, format!("must hold 1 to {MAX_LIST_VALUES} values"));
                    return None;
                }
                if numeric {
                    let numbers: Vec<Option<Number>> = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.number(Some(item), &format!("{path}[{i}]")))
                        .collect();
                    numbers
                        .into_iter()
                        .collect::<Option<_>>()
                        .map(Operand::Numbers)
                } else {
                    let texts: Vec<Option<String>> = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.text(Some(item), &format!("{path}[{i}]")))
                        .collect();
                    texts.into_iter().collect::<Option<_>>().map(Operand::Texts)
                }
            }
            _ => match kind {
                FieldKind::Number => self.number(value, path).map(Operand::Number),
                FieldKind::Bool => match value {
                    Some(Value::Bool(flag)) => Some(Operand::Bool(*flag)),
                    _ => {
                        self.violations.push(path, "must be true or false");
                        None
                    }
                },
                FieldKind::Text | FieldKind::TextList => self.text(value, path).map(Operand::Text),
            },
        }
    }

    fn number(&mut self, value: Option<&Value>, path: &str) -> Option<Number> {
        match value {
            Some(Value::Number(number)) => Some(number.clone()),
            _ => {
                self.violations.push(path, "must be a number");
                None
            }
        }
    }

    fn text(&mut self, value: Option<&Value>, path: &str) -> Option<String> {
        match value {
            Some(Value::String(text)) if text.chars().count() <= MAX_TEXT_CHARS => {
                Some(text.clone())
            }
            Some(Value::String(_)) => {
                self.violations
                    .push(path, format!("must be at most {MAX_TEXT_CHARS} characters"));
                None
            }
            _ => {
                self.violations.push(path, "must be a text");
                None
            }
        }
    }

    fn only_keys(&mut self, object: &Map<String, Value>, allowed: &[&str], path: &str) {
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.violations.push(
                    format!("{path}.{key}"),
                    format!("is not allowed here (expected {})", allowed.join(", ")),
                );
            }
        }
    }
}

/// Which operators a kind of field takes.
pub fn applies(kind: FieldKind, op: Op) -> bool {
    use Op::*;
    match kind {
        FieldKind::Text => matches!(
            op,
            Eq | Neq
                | Contains
                | NotContains
                | StartsWith
                | EndsWith
                | In
                | NotIn
                | IsSet
                | IsNotSet
        ),
        FieldKind::Number => matches!(
            op,
            Eq | Neq | Gt | Gte | Lt | Lte | In | NotIn | IsSet | IsNotSet
        ),
        FieldKind::Bool => matches!(op, Eq | Neq | IsSet | IsNotSet),
        FieldKind::TextList => {
            matches!(
                op,
                Contains | NotContains | ContainsAny | ContainsAll | IsSet | IsNotSet
            )
        }
    }
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "the text",
        FieldKind::Number => "the number",
        FieldKind::Bool => "the boolean",
        FieldKind::TextList => "the list",
    }
}

/// The kind a custom field has when compared with `value` (a list's items decide for a list).
fn value_kind(value: &Value) -> Option<FieldKind> {
    match value {
        Value::String(_) => Some(FieldKind::Text),
        Value::Number(_) => Some(FieldKind::Number),
        Value::Bool(_) => Some(FieldKind::Bool),
        Value::Array(items) => match items.first() {
            Some(Value::Number(_)) => Some(FieldKind::Number),
            Some(Value::String(_)) | None => Some(FieldKind::Text),
            _ => None,
        },
        _ => None,
    }
}
