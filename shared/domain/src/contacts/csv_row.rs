//! CSV rows ⇄ contacts. Import maps a header row to columns once, then each row to a
//! [`ContactPatch`] (an empty cell leaves the field as it is; upsert is by `email`). Export
//! writes the same columns, so an exported file imports back unchanged.

use std::collections::BTreeMap;

use super::contact::{Contact, ContactPatch, CustomValue};
use super::lifecycle::LifecycleStage;
use super::validate::Problems;

/// The standard columns, in export order. Custom fields follow as `custom.<key>`.
pub const STANDARD_COLUMNS: [&str; 14] = [
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "job_title",
    "website",
    "source",
    "tags",
    "owner_id",
    "lifecycle_stage",
    "lead_score",
    "health_score",
    "marketing_consent",
];

pub const CUSTOM_PREFIX: &str = "custom.";
/// Tags share one cell, separated by this.
pub const TAG_SEPARATOR: char = ';';

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Standard(&'static str),
    Custom(String),
}

/// The columns a header names; unknown or repeated names and a missing `email` are errors.
pub fn columns(header: &[String]) -> Result<Vec<Column>, Problems> {
    let mut problems = Problems::new();
    let mut columns = Vec::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let column = if let Some(key) = name.strip_prefix(CUSTOM_PREFIX) {
            Column::Custom(key.to_owned())
        } else if let Some(standard) = STANDARD_COLUMNS.iter().find(|c| **c == name) {
            Column::Standard(standard)
        } else {
            problems
                .entry(format!("header[{index}]"))
                .or_default()
                .push(format!("unknown column {name:?}"));
            continue;
        };
        if columns.contains(&column) {
            problems
                .entry(format!("header[{index}]"))
                .or_default()
                .push(format!("column {name:?} appears twice"));
        }
        columns.push(column);
    }
    if !columns.contains(&Column::Standard("email")) {
        problems
            .entry("header".to_owned())
            .or_default()
            .push("an email column is required".to_owned());
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// One row as a patch (the email is `patch.email`). Cells that cannot be read are problems.
pub fn row_patch(columns: &[Column], row: &[String]) -> Result<ContactPatch, Problems> {
    let mut problems = Problems::new();
    let mut patch = ContactPatch::default();
    let mut custom = BTreeMap::new();
    for (column, cell) in columns.iter().zip(row.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let text = || Some(Some(cell.to_owned()));
        match column {
            Column::Custom(key) => {
                custom.insert(key.clone(), custom_value(cell));
            }
            Column::Standard(name) => match *name {
                "email" => patch.email = Some(cell.to_owned()),
                "first_name" => patch.first_name = text(),
                "last_name" => patch.last_name = text(),
                "phone" => patch.phone = text(),
                "company" => patch.company = text(),
                "job_title" => patch.job_title = text(),
                "website" => patch.website = text(),
                "source" => patch.source = text(),
                "owner_id" => patch.owner_id = text(),
                "tags" => {
                    patch.tags = Some(
                        cell.split(TAG_SEPARATOR)
                            .map(|tag| tag.trim().to_owned())
                            .filter(|tag| !tag.is_empty())
                            .collect(),
                    )
                }
                "lifecycle_stage" => match LifecycleStage::parse(cell) {
                    Some(stage) => patch.lifecycle_stage = Some(stage),
                    None => problem(&mut problems, name, "is not a lifecycle stage"),
                },
                "lead_score" => match cell.parse::<u8>() {
                    Ok(score) => patch.lead_score = Some(score),
                    Err(_) => problem(&mut problems, name, "must be a number from 0 to 100"),
                },
                "health_score" => match cell.parse::<u8>() {
                    Ok(score) => patch.health_score = Some(Some(score)),
                    Err(_) => problem(&mut problems, name, "must be a number from 0 to 100"),
                },
                "marketing_consent" => match parse_bool(cell) {
                    Some(consent) => patch.marketing_consent = Some(consent),
                    None => problem(&mut problems, name, "must be true or false"),
                },
                _ => {}
            },
        }
    }
    if patch.email.is_none() {
        problem(&mut problems, "email", "is required");
    }
    if !custom.is_empty() {
        patch.custom_fields = Some(custom);
    }
    if problems.is_empty() {
        Ok(patch)
    } else {
        Err(problems)
    }
}

fn problem(problems: &mut Problems, field: &str, what: &str) {
    problems
        .entry(field.to_owned())
        .or_default()
        .push(what.to_owned());
}

fn parse_bool(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A cell's custom value: `true`/`false`, a number, or text.
fn custom_value(cell: &str) -> CustomValue {
    match cell {
        "true" => CustomValue::Bool(true),
        "false" => CustomValue::Bool(false),
        _ => match serde_json::from_str::<serde_json::Number>(cell) {
            Ok(number) => CustomValue::Number(number),
            Err(_) => CustomValue::Text(cell.to_owned()),
        },
    }
}

/// The header for exporting contacts with these custom field keys.
pub fn export_header(custom_keys: &[String]) -> Vec<String> {
    STANDARD_COLUMNS
        .iter()
        .map(|column| (*column).to_owned())
        .chain(
            custom_keys
                .iter()
                .map(|key| format!("{CUSTOM_PREFIX}{key}")),
        )
        .collect()
}

pub fn export_row(contact: &Contact, custom_keys: &[String]) -> Vec<String> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let mut row = vec![
        contact.email.as_str().to_owned(),
        text(&contact.first_name),
        text(&contact.last_name),
        text(&contact.phone),
        text(&contact.company),
        text(&contact.job_title),
        text(&contact.website),
        text(&contact.source),
        contact.tags.join(&TAG_SEPARATOR.to_string()),
        text(&contact.owner_id),
        contact.lifecycle_stage.as_str().to_owned(),
        contact.lead_score.to_string(),
        contact
            .health_score
            .map(|score| score.to_string())
            .unwrap_or_default(),
        contact.marketing_consent.to_string(),
    ];
    for key in custom_keys {
        row.push(match contact.custom_fields.get(key) {
            Some(CustomValue::Bool(value)) => value.to_string(),
            Some(CustomValue::Number(value)) => value.to_string(),
            Some(CustomValue::Text(value)) => value.clone(),
            None => String::new(),
        });
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn a_header_names_known_columns_and_needs_email() {
        assert!(columns(&strings(&["email", "custom.plan"])).is_ok());
        let problems = columns(&strings(&["name", "phone", "phone"])).unwrap_err();
        assert!(problems.contains_key("header[0]"));
        assert!(problems.contains_key("header[2]"));
        assert!(problems.contains_key("header"));
    }

    #[test]
    fn rows_become_patches_with_typed_custom_values() {
        let columns = columns(&strings(&[
            "email",
            "tags",
            "lead_score",
            "custom.seats",
            "custom.vip",
        ]))
        .unwrap();
        let patch = row_patch(&columns, &strings(&["a@x.io", "a; b", "70", "12", "true"])).unwrap();
        assert_eq!(patch.tags, Some(strings(&["a", "b"])));
        assert_eq!(patch.lead_score, Some(70));
        let custom = patch.custom_fields.unwrap();
        assert!(matches!(custom["seats"], CustomValue::Number(_)));
        assert_eq!(custom["vip"], CustomValue::Bool(true));
        let problems = row_patch(&columns, &strings(&["", "", "high", "", ""])).unwrap_err();
        assert!(problems.contains_key("email") && problems.contains_key("lead_score"));
    }
}
