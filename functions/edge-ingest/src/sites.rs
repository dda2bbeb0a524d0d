//! Sites known at the edge: a JSON list in the `CRM_SITES` variable and/or one KV entry per site.
//!
//! Both hold the same JSON object per site; only `id` is required:
//!
//! ```json
//! {"id": "shop", "allowed_origins": ["https://shop.example"], "enabled": true,
//!  "name": "Shop", "retention_days": 90}
//! ```
//!
//! The variable is parsed once per isolate. A KV entry is stored under [`kv_key`] (`site:shop`).
//! A site in the variable wins over the same id in KV. What a valid site is, which origins it
//! allows and what "disabled" means are decided by crm-domain ([`SiteConfig`]); this module
//! reads the entries and applies those rules. (The CRM's own site record is another object:
//! docs/edge.md.)

use std::collections::HashMap;

use crm_domain::site::{DEFAULT_RETENTION_DAYS, SiteConfig, SiteId};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SitesError {
    #[error("not a JSON list of sites: {0}")]
    NotAList(String),
    #[error("site entry {index}: {reason}")]
    Entry { index: usize, reason: String },
    #[error("site {0} is listed twice")]
    Duplicate(SiteId),
    #[error("the site entry is not valid: {0}")]
    Invalid(String),
}

/// One site as configured at the edge: crm-domain's [`SiteConfig`] with defaults for the fields
/// an admin rarely sets.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeSite {
    id: SiteId,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default = "default_retention")]
    retention_days: u32,
}

fn enabled_by_default() -> bool {
    true
}

fn default_retention() -> u32 {
    DEFAULT_RETENTION_DAYS
}

impl From<EdgeSite> for SiteConfig {
    fn from(site: EdgeSite) -> SiteConfig {
        // The edge keeps no sessions: their retention stays the default; the CRM's record sets it.
        let defaults = SiteConfig::with_defaults(site.id);
        SiteConfig {
            name: site.name.unwrap_or_else(|| defaults.name.clone()),
            allowed_origins: site.allowed_origins,
            retention_days: site.retention_days,
            enabled: site.enabled,
            ..defaults
        }
    }
}

/// The KV key of a site's entry.
pub fn kv_key(id: &SiteId) -> String {
    format!("site:{id}")
}

/// A site entry read and checked by crm-domain's rules (an origin with a path, or a retention
/// out of bounds, would otherwise quietly refuse beacons or misstate the site).
fn checked_site(entry: serde_json::Value) -> Result<SiteConfig, String> {
    let site =
        SiteConfig::from(serde_json::from_value::<EdgeSite>(entry).map_err(|e| e.to_string())?);
    match site.problems().first() {
        None => Ok(site),
        Some((field, problem)) => Err(format!("{field}: {problem}")),
    }
}

/// Parses one site entry (a KV value).
pub fn parse_site(json: &str) -> Result<SiteConfig, SitesError> {
    serde_json::from_str(json)
        .map_err(|error| error.to_string())
        .and_then(checked_site)
        .map_err(SitesError::Invalid)
}

/// The sites of the `CRM_SITES` variable, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteDirectory {
    sites: HashMap<SiteId, SiteConfig>,
}

impl SiteDirectory {
    /// Parses a JSON list of site entries; an empty or absent variable is an empty directory.
    pub fn parse(json: Option<&str>) -> Result<SiteDirectory, SitesError> {
        let Some(json) = json.map(str::trim).filter(|json| !json.is_empty()) else {
            return Ok(SiteDirectory::default());
        };
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(json).map_err(|error| SitesError::NotAList(error.to_string()))?;
        let mut sites = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let site = checked_site(entry).map_err(|reason| SitesError::Entry { index, reason })?;
            if sites.contains_key(&site.id) {
                return Err(SitesError::Duplicate(site.id));
            }
            sites.insert(site.id.clone(), site);
        }
        Ok(SiteDirectory { sites })
    }

    pub fn get(&self, id: &SiteId) -> Option<&SiteConfig> {
        self.sites.get(id)
    }

    /// Whether some enabled site of the directory accepts this origin (a preflight that names
    /// no site).
    pub fn any_allows_origin(&self, origin: &str) -> bool {
        self.sites
            .values()
            .any(|site| site.admits_preflight_from(origin))
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> SiteId {
        SiteId::parse(raw).expect("valid id")
    }

    #[test]
    fn a_site_needs_only_an_id_and_gets_the_defaults() {
        let directory = SiteDirectory::parse(Some(r#"[{"id": "shop"}]"#)).expect("valid");
        let site = directory.get(&id("shop")).expect("listed");
        assert_eq!(site.name, "shop");
        assert!(site.enabled);
        assert_eq!(site.retention_days, DEFAULT_RETENTION_DAYS);
        assert!(site.allowed_origins.is_empty());
    }

    #[test]
    fn an_absent_or_blank_variable_is_an_empty_directory() {
        assert!(SiteDirectory::parse(None).expect("empty").is_empty());
        assert!(SiteDirectory::parse(Some("  ")).expect("empty").is_empty());
    }

    #[test]
    fn invalid_ids_unknown_fields_and_duplicates_are_configuration_errors() {
        let bad_id = SiteDirectory::parse(Some(r#"[{"id": "Shop!"}]"#));
        assert!(matches!(bad_id, Err(SitesError::Entry { index: 0, .. })));
        let typo = SiteDirectory::parse(Some(r#"[{"id": "a", "allowed_origin": []}]"#));
        assert!(matches!(typo, Err(SitesError::Entry { .. })));
        let with_path = r#"[{"id": "a", "allowed_origins": ["https://a.example/shop"]}]"#;
        let Err(SitesError::Entry { reason, .. }) = SiteDirectory::parse(Some(with_path)) else {
            panic!("an origin with a path was accepted");
        };
        assert!(reason.starts_with("allowed_origins: "), "{reason}");
        let kv_entry = r#"{"id": "a", "allowed_origins": ["https://a.example/shop"]}"#;
        assert!(matches!(parse_site(kv_entry), Err(SitesError::Invalid(_))));
        let twice = SiteDirectory::parse(Some(r#"[{"id": "a"}, {"id": "a"}]"#));
        assert_eq!(twice, Err(SitesError::Duplicate(id("a"))));
        assert!(matches!(
            SiteDirectory::parse(Some("{}")),
            Err(SitesError::NotAList(_))
        ));
    }

    #[test]
    fn a_preflight_without_site_is_allowed_when_some_enabled_site_allows_the_origin() {
        let directory = SiteDirectory::parse(Some(
            r#"[{"id": "a", "allowed_origins": ["https://a.example"]},
                {"id": "b", "allowed_origins": ["https://b.example"], "enabled": false}]"#,
        ))
        .expect("valid");
        assert!(directory.any_allows_origin("https://a.example"));
        assert!(!directory.any_allows_origin("https://b.example"));
        assert!(!directory.any_allows_origin("https://evil.example"));
    }

    #[test]
    fn kv_entries_use_the_same_shape_under_a_prefixed_key() {
        let site = parse_site(r#"{"id": "shop", "allowed_origins": ["*"], "name": "Shop"}"#)
            .expect("valid");
        assert_eq!(site.name, "Shop");
        assert_eq!(kv_key(&site.id), "site:shop");
        assert!(parse_site("[]").is_err());
    }
}
