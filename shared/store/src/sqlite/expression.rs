//! Conditions and update expressions, evaluated the way DynamoDB evaluates them: a condition
//! looks at the item as stored before the write (a missing item has no attributes, so
//! `AttrNotExists` holds on it), an update starts from the stored item or from the bare key,
//! `ADD` treats a missing attribute as 0 and refuses any other type. What an update may never do
//! (touch the key attributes, name an attribute twice…) is refused beforehand by
//! [`crate::limits::check_update`].

use crate::limits::{PK_ATTR, SK_ATTR};
use crate::table::{Condition, Item, Key, TableError, Update, Value};

/// Whether `condition` holds for `stored` (None: the item does not exist).
pub(crate) fn holds(condition: &Condition, stored: Option<&Item>) -> bool {
    match condition {
        Condition::ItemExists => stored.is_some(),
        Condition::ItemNotExists => stored.is_none(),
        Condition::AttrExists(name) => attr(stored, name).is_some(),
        Condition::AttrNotExists(name) => attr(stored, name).is_none(),
        Condition::AttrEquals(name, expected) => attr(stored, name).as_ref() == Some(expected),
        Condition::And(all) => all.iter().all(|condition| holds(condition, stored)),
    }
}

fn attr(stored: Option<&Item>, name: &str) -> Option<Value> {
    let item = stored?;
    match name {
        PK_ATTR => Some(Value::S(item.key.pk.clone())),
        SK_ATTR => Some(Value::S(item.key.sk.clone())),
        _ => item.attrs.get(name).cloned(),
    }
}

/// The item after `update` (already checked with [`crate::limits::check_update`]) applied to
/// `stored`.
pub(crate) fn apply_update(
    stored: Option<Item>,
    key: &Key,
    update: &Update,
) -> Result<Item, TableError> {
    let mut item = stored.unwrap_or_else(|| Item::new(key.clone()));
    for (name, value) in &update.set {
        item.attrs.insert(name.clone(), value.clone());
    }
    for (name, amount) in &update.add {
        let current = match item.attrs.get(name) {
            None => 0,
            Some(Value::N(number)) => *number,
            Some(_) => {
                return Err(TableError::Invalid(format!(
                    "cannot ADD to attribute {name}: it is not a number"
                )));
            }
        };
        let sum = current.checked_add(*amount).ok_or_else(|| {
            TableError::Invalid(format!("ADD to attribute {name} overflows a 64-bit number"))
        })?;
        item.attrs.insert(name.clone(), Value::N(sum));
    }
    for name in &update.remove {
        item.attrs.remove(name);
    }
    Ok(item)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stored() -> Item {
        Item::new(Key::new("p", "s"))
            .with("n", Value::N(2))
            .with("t", Value::S("x".to_owned()))
    }

    #[test]
    fn conditions_read_the_stored_item_and_its_key() {
        let item = stored();
        assert!(holds(
            &Condition::AttrEquals("pk".to_owned(), Value::S("p".to_owned())),
            Some(&item)
        ));
        assert!(holds(&Condition::AttrExists("sk".to_owned()), Some(&item)));
        assert!(!holds(
            &Condition::AttrEquals("n".to_owned(), Value::S("2".to_owned())),
            Some(&item)
        ));
        assert!(holds(&Condition::AttrNotExists("n".to_owned()), None));
        assert!(!holds(
            &Condition::AttrEquals("n".to_owned(), Value::N(2)),
            None
        ));
        let both = Condition::And(vec![
            Condition::ItemExists,
            Condition::AttrExists("missing".to_owned()),
        ]);
        assert!(!holds(&both, Some(&item)));
    }

    #[test]
    fn add_starts_from_zero_and_refuses_other_types() {
        let key = Key::new("p", "s");
        let add = |name: &str| Update {
            add: vec![(name.to_owned(), 5)],
            ..Update::default()
        };
        assert_eq!(
            apply_update(None, &key, &add("n")).unwrap().get_i64("n"),
            Some(5)
        );
        assert_eq!(
            apply_update(Some(stored()), &key, &add("n"))
                .unwrap()
                .get_i64("n"),
            Some(7)
        );
        assert!(matches!(
            apply_update(Some(stored()), &key, &add("t")),
            Err(TableError::Invalid(_))
        ));
    }
}
