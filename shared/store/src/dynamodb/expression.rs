//! Conditions, updates and key conditions as DynamoDB expressions. Attribute names and values
//! never appear in the expression text: every name is a `#nN` placeholder and every value a
//! `:vN` placeholder, so no name can be a reserved word or smuggle expression syntax.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{AttrMap, to_attr};
use crate::limits::PK_ATTR;
use crate::table::{Condition, SortKeyCondition, TableError, Update, Value};

/// An expression under construction: the placeholders it has handed out so far. One request's
/// expressions (key condition, condition, update) share one set of placeholders.
#[derive(Debug, Default)]
pub(crate) struct Placeholders {
    names: Names,
    values: AttrMap,
}

/// ExpressionAttributeNames: placeholder to attribute name.
pub(crate) type Names = HashMap<String, String>;

impl Placeholders {
    fn name(&mut self, attr: &str) -> Result<String, TableError> {
        if attr.is_empty() {
            return Err(TableError::Invalid(
                "attribute names cannot be empty".to_owned(),
            ));
        }
        if let Some((placeholder, _)) = self.names.iter().find(|(_, name)| name.as_str() == attr) {
            return Ok(placeholder.clone());
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_owned());
        Ok(placeholder)
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The condition as a ConditionExpression; `None` when it always holds (an empty `And`).
    pub(crate) fn condition(
        &mut self,
        condition: &Condition,
    ) -> Result<Option<String>, TableError> {
        Ok(match condition {
            Condition::ItemExists => Some(format!("attribute_exists({})", self.name(PK_ATTR)?)),
            Condition::ItemNotExists => {
                Some(format!("attribute_not_exists({})", self.name(PK_ATTR)?))
            }
            Condition::AttrExists(attr) => Some(format!("attribute_exists({})", self.name(attr)?)),
            Condition::AttrNotExists(attr) => {
                Some(format!("attribute_not_exists({})", self.name(attr)?))
            }
            Condition::AttrEquals(attr, value) => {
                let name = self.name(attr)?;
                Some(format!("{name} = {}", self.value(to_attr(value))))
            }
            Condition::And(all) => {
                let mut parts = Vec::with_capacity(all.len());
                for condition in all {
                    if let Some(part) = self.condition(condition)? {
                        parts.push(format!("({part})"));
                    }
                }
                (!parts.is_empty()).then(|| parts.join(" AND "))
            }
        })
    }

    /// A condition that always holds, for requests that require one (a transaction's
    /// ConditionCheck given an empty `And`).
    pub(crate) fn always(&mut self) -> Result<String, TableError> {
        let pk = self.name(PK_ATTR)?;
        Ok(format!(
            "attribute_exists({pk}) OR attribute_not_exists({pk})"
        ))
    }

    /// The update as an UpdateExpression (`SET … ADD … REMOVE …`); `None` for an empty update.
    pub(crate) fn update(&mut self, update: &Update) -> Result<Option<String>, TableError> {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let mut actions = Vec::with_capacity(update.set.len());
            for (attr, value) in &update.set {
                let name = self.name(attr)?;
                actions.push(format!("{name} = {}", self.value(to_attr(value))));
            }
            clauses.push(format!("SET {}", actions.join(", ")));
        }
        if !update.add.is_empty() {
            let mut actions = Vec::with_capacity(update.add.len());
            for (attr, amount) in &update.add {
                let name = self.name(attr)?;
                actions.push(format!(
                    "{name} {}",
                    self.value(to_attr(&Value::N(*amount)))
                ));
            }
            clauses.push(format!("ADD {}", actions.join(", ")));
        }
        if !update.remove.is_empty() {
            let mut names = Vec::with_capacity(update.remove.len());
            for attr in &update.remove {
                names.push(self.name(attr)?);
            }
            clauses.push(format!("REMOVE {}", names.join(", ")));
        }
        Ok((!clauses.is_empty()).then(|| clauses.join(" ")))
    }

    /// A query's KeyConditionExpression: the partition attribute equal to `pk`, and the sort
    /// key attribute within `sk`.
    pub(crate) fn key_condition(
        &mut self,
        (pk_attr, sk_attr): (&str, &str),
        pk: &str,
        sk: &SortKeyCondition,
    ) -> Result<String, TableError> {
        let partition = self.name(pk_attr)?;
        let partition = format!(
            "{partition} = {}",
            self.value(AttributeValue::S(pk.to_owned()))
        );
        Ok(match sk {
            SortKeyCondition::Any => partition,
            // DynamoDB refuses an empty prefix; every sort key begins with it anyway.
            SortKeyCondition::BeginsWith(prefix) if prefix.is_empty() => partition,
            SortKeyCondition::BeginsWith(prefix) => {
                let sort = self.name(sk_attr)?;
                let prefix = self.value(AttributeValue::S(prefix.clone()));
                format!("{partition} AND begins_with({sort}, {prefix})")
            }
            SortKeyCondition::Between(low, high) => {
                let sort = self.name(sk_attr)?;
                let low = self.value(AttributeValue::S(low.clone()));
                let high = self.value(AttributeValue::S(high.clone()));
                format!("{partition} AND {sort} BETWEEN {low} AND {high}")
            }
        })
    }

    /// The ExpressionAttributeNames and ExpressionAttributeValues, each `None` when empty
    /// (DynamoDB refuses empty maps).
    pub(crate) fn into_maps(self) -> (Option<Names>, Option<AttrMap>) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::S(text.to_owned())
    }

    #[test]
    fn conditions_use_placeholders_for_every_name_and_value() {
        let mut placeholders = Placeholders::default();
        let condition = Condition::And(vec![
            Condition::ItemExists,
            Condition::AttrEquals("version) OR (#x".to_owned(), Value::N(3)),
            Condition::AttrNotExists("pk".to_owned()),
            Condition::And(vec![]),
        ]);
        let text = placeholders.condition(&condition).unwrap().unwrap();
        assert_eq!(
            text,
            "(attribute_exists(#n0)) AND (#n1 = :v0) AND (attribute_not_exists(#n0))"
        );
        let (names, values) = placeholders.into_maps();
        let names = names.unwrap();
        assert_eq!(names["#n0"], "pk");
        assert_eq!(names["#n1"], "version) OR (#x");
        assert_eq!(values.unwrap()[":v0"], AttributeValue::N("3".to_owned()));
    }

    #[test]
    fn an_empty_and_always_holds() {
        let mut placeholders = Placeholders::default();
        assert_eq!(
            placeholders.condition(&Condition::And(vec![])).unwrap(),
            None
        );
        assert_eq!(placeholders.into_maps(), (None, None));
    }

    #[test]
    fn updates_become_set_add_and_remove_clauses() {
        let mut placeholders = Placeholders::default();
        let update = Update {
            set: vec![
                ("a".to_owned(), s("x")),
                ("b".to_owned(), Value::Bool(true)),
            ],
            add: vec![("n".to_owned(), -2)],
            remove: vec!["old".to_owned()],
        };
        assert_eq!(
            placeholders.update(&update).unwrap().unwrap(),
            "SET #n0 = :v0, #n1 = :v1 ADD #n2 :v2 REMOVE #n3"
        );
        let (_, values) = placeholders.into_maps();
        assert_eq!(values.unwrap()[":v2"], AttributeValue::N("-2".to_owned()));
        assert_eq!(
            Placeholders::default().update(&Update::default()).unwrap(),
            None
        );
    }

    #[test]
    fn key_conditions_cover_prefix_and_range() {
        let keys = ("gsi1pk", "gsi1sk");
        let mut placeholders = Placeholders::default();
        let text = placeholders
            .key_condition(keys, "P", &SortKeyCondition::BeginsWith("a#".to_owned()))
            .unwrap();
        assert_eq!(text, "#n0 = :v0 AND begins_with(#n1, :v1)");
        let mut placeholders = Placeholders::default();
        let text = placeholders
            .key_condition(
                keys,
                "P",
                &SortKeyCondition::Between("a".to_owned(), "b".to_owned()),
            )
            .unwrap();
        assert_eq!(text, "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2");
        let text = Placeholders::default()
            .key_condition(keys, "P", &SortKeyCondition::BeginsWith(String::new()))
            .unwrap();
        assert_eq!(text, "#n0 = :v0");
    }
}
