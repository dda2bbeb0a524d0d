//! Structured log lines: one JSON object per line (`{"level", "message", …fields}`), which
//! Workers Logs and `wrangler tail` index by field. The glue writes them to the console.

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Formats a log line; fields never hold request data beyond what the message needs (no IPs,
/// no bodies).
pub fn line(level: Level, message: &str, fields: &[(&str, &str)]) -> String {
    let mut object = serde_json::Map::with_capacity(fields.len() + 2);
    object.insert("level".to_owned(), level.as_str().into());
    object.insert("message".to_owned(), message.into());
    for (name, value) in fields {
        object.insert((*name).to_owned(), (*value).into());
    }
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_its_fields() {
        let text = line(
            Level::Warn,
            "beacon not queued",
            &[("cause", "queue \"down\"")],
        );
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["level"], "warn");
        assert_eq!(value["message"], "beacon not queued");
        assert_eq!(value["cause"], "queue \"down\"");
        assert!(!text.contains('\n'));
    }
}
