//! Sites: who may send beacons, from which origins, and how long their data is kept.

use serde::{Deserialize, Serialize};

/// A site identifier: 1–64 characters of `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a site id is 1 to 64 characters of a-z, 0-9, '_' or '-'")]
pub struct InvalidSiteId;

impl SiteId {
    pub fn parse(raw: &str) -> Result<Self, InvalidSiteId> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(SiteId(raw.to_owned()))
        } else {
            Err(InvalidSiteId)
        }
    }

    /// A syntactically valid id for values that must carry one but belong to no site (an empty
    /// fold result, a configuration checked whose own id is invalid); never stored.
    pub fn placeholder() -> SiteId {
        SiteId("unknown".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteId {
    type Error = InvalidSiteId;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        SiteId::parse(&raw)
    }
}

impl From<SiteId> for String {
    fn from(id: SiteId) -> String {
        id.0
    }
}

impl std::fmt::Display for SiteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const DEFAULT_RETENTION_DAYS: u32 = 90;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub id: SiteId,
    pub name: String,
    /// Exact origins (`https://shop.example`) or `"*"` for any origin.
    pub allowed_origins: Vec<String>,
    /// Days raw events are kept after they were received.
    pub retention_days: u32,
    /// Days a session keeps its page paths and visitor link after its last activity; then the
    /// retention job anonymizes it (see [`crate::retention`]). Sites stored before this setting
    /// existed read as the default.
    #[serde(default = "default_session_retention_days")]
    pub session_retention_days: u32,
    pub enabled: bool,
}

fn default_session_retention_days() -> u32 {
    crate::retention::DEFAULT_SESSION_RETENTION_DAYS
}

pub const MAX_RETENTION_DAYS: u32 = 3650;

impl SiteConfig {
    /// A site the CRM learns of from its first beacon (configured at the edge only): named after
    /// its id, no origins (the edge decides those), the default retention, so its data is kept
    /// no longer than any site's until an admin sets otherwise.
    pub fn with_defaults(id: SiteId) -> SiteConfig {
        SiteConfig {
            name: id.as_str().to_owned(),
            id,
            allowed_origins: Vec::new(),
            retention_days: DEFAULT_RETENTION_DAYS,
            session_retention_days: default_session_retention_days(),
            enabled: true,
        }
    }

    /// What is wrong with the configuration, per field (empty when it is valid).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(("name", "must be 1 to 200 characters".to_owned()));
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            problems.push((
                "retention_days",
                format!("must be between 1 and {MAX_RETENTION_DAYS}"),
            ));
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&self.session_retention_days) {
            problems.push((
                "session_retention_days",
                format!("must be between 1 and {MAX_RETENTION_DAYS}"),
            ));
        }
        for origin in &self.allowed_origins {
            if origin != "*" && !is_web_origin(origin) {
                problems.push((
                    "allowed_origins",
                    format!(
                        "{origin:?} is neither \"*\" nor an http(s) origin (scheme, host and \
                         optional port, no path)"
                    ),
                ));
            }
        }
        problems
    }

    /// Whether a beacon carrying this `Origin` header may be accepted. A request without an
    /// Origin (server-side senders, curl) is allowed only when the site accepts any origin.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.iter().any(|o| o == "*") {
            return true;
        }
        match origin {
            Some(origin) => self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin)),
            None => false,
        }
    }

    /// Whether a CORS preflight from `origin` is answered as allowed on this site's behalf:
    /// the site is enabled and allows the origin.
    pub fn admits_preflight_from(&self, origin: &str) -> bool {
        self.enabled && self.allows_origin(Some(origin))
    }
}

/// `http(s)://host[:port]`, with at most a trailing `/`: what a browser sends as `Origin`. An
/// entry with a path could never match one, and would silently refuse every beacon.
fn is_web_origin(origin: &str) -> bool {
    let Some(authority) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    !authority.is_empty()
        && !authority.contains(|character: char| {
            character.is_whitespace() || matches!(character, '/' | '?' | '#' | '@')
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn site() -> SiteConfig {
        SiteConfig {
            id: SiteId::parse("shop").unwrap(),
            name: "Shop".to_owned(),
            allowed_origins: vec!["*".to_owned()],
            retention_days: 90,
            session_retention_days: 180,
            enabled: true,
        }
    }

    #[test]
    fn a_site_stored_before_session_retention_existed_reads_as_the_default() {
        let stored = serde_json::json!({
            "id": "shop", "name": "Shop", "allowed_origins": ["*"],
            "retention_days": 30, "enabled": true
        });
        let site: SiteConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(site.retention_days, 30);
        assert_eq!(
            site.session_retention_days,
            crate::retention::DEFAULT_SESSION_RETENTION_DAYS
        );
    }

    #[test]
    fn a_preflight_is_admitted_by_an_enabled_site_that_allows_the_origin() {
        let shop = SiteConfig {
            allowed_origins: vec!["https://shop.example".to_owned()],
            ..site()
        };
        assert!(shop.admits_preflight_from("https://shop.example"));
        assert!(!shop.admits_preflight_from("https://evil.example"));
        let disabled = SiteConfig {
            enabled: false,
            ..shop
        };
        assert!(!disabled.admits_preflight_from("https://shop.example"));
    }

    #[test]
    fn session_retention_outside_one_to_ten_years_is_a_problem() {
        assert!(site().problems().is_empty());
        for days in [0, MAX_RETENTION_DAYS + 1] {
            let problems = SiteConfig {
                session_retention_days: days,
                ..site()
            }
            .problems();
            assert_eq!(
                problems.iter().map(|(field, _)| *field).collect::<Vec<_>>(),
                ["session_retention_days"],
                "{days}"
            );
        }
    }

    #[test]
    fn an_allowed_origin_is_scheme_host_and_port_only() {
        let with = |origin: &str| SiteConfig {
            allowed_origins: vec![origin.to_owned()],
            ..site()
        };
        for origin in [
            "*",
            "https://shop.example",
            "https://shop.example/",
            "http://localhost:8080",
        ] {
            assert!(with(origin).problems().is_empty(), "{origin}");
        }
        for origin in [
            "https://shop.example/path",
            "https://shop.example?x=1",
            "https://user@shop.example",
            "https://",
            "ftp://shop.example",
            "shop.example",
            "https://shop .example",
        ] {
            assert_eq!(with(origin).problems().len(), 1, "{origin}");
        }
    }
}
