//! `crm-local dump`: every item of the embedded store as one JSON object per line, with the
//! deflated `data` values inflated, so an operator (or a test proving that typed text is kept
//! nowhere) sees exactly what the store holds, not just its compressed bytes.

use crm_store::repo::codec::{DATA_ATTR, decode};
use crm_store::table::{Item, Value};
use serde_json::json;

use crate::backend::open_store;
use crate::cli::DumpArgs;

pub async fn print_all(args: DumpArgs) -> anyhow::Result<()> {
    let table = open_store(&args.data_dir)?;
    for item in table.all_items().await? {
        println!("{}", serde_json::to_string(&readable(&item))?);
    }
    Ok(())
}

fn readable(item: &Item) -> serde_json::Value {
    let mut attrs = serde_json::Map::new();
    for (name, value) in &item.attrs {
        let shown = match value {
            Value::S(text) => json!(text),
            Value::N(number) => json!(number),
            Value::Bool(flag) => json!(flag),
            Value::B(bytes) => json!({ "binary_bytes": bytes.len() }),
        };
        attrs.insert(name.clone(), shown);
    }
    if let Ok(data) = decode::<serde_json::Value>(item) {
        attrs.insert(DATA_ATTR.to_owned(), data);
    }
    json!({ "pk": item.key.pk, "sk": item.key.sk, "attrs": attrs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_store::repo::codec::encode_compressed;
    use crm_store::table::Key;

    #[test]
    fn deflated_data_is_shown_inflated() {
        let item = Item::new(Key::new("SITE#demo#V#v", "E#1#m"))
            .with(
                DATA_ATTR,
                encode_compressed(&json!([{"path": "/pricing"}])).unwrap_or(Value::N(0)),
            )
            .with("ttl", Value::N(5));
        let shown = readable(&item);
        assert_eq!(shown["attrs"]["data"][0]["path"], "/pricing");
        assert_eq!(shown["attrs"]["ttl"], 5);
        assert_eq!(shown["sk"], "E#1#m");
    }
}
