//! Behavior events after validation and anonymization: what the queue and the store carry.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// The event types of beacon contract v1. Their meaning and the fields each uses are documented
/// in `docs/beacon.md`; an unknown type is rejected per event, never per beacon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    PageView,
    PageLeave,
    Scroll,
    Click,
    RageClick,
    DeadClick,
    FormStart,
    FormSubmit,
    FormAbandon,
    ExitIntent,
    HoverIntent,
    CtaClick,
    Search,
    VideoPlay,
    Download,
    OutboundClick,
    Copy,
    Error,
    Identify,
    Custom,
    QuoteRequest,
    DemoRequest,
}

impl EventKind {
    pub const ALL: [EventKind; 22] = [
        EventKind::PageView,
        EventKind::PageLeave,
        EventKind::Scroll,
        EventKind::Click,
        EventKind::RageClick,
        EventKind::DeadClick,
        EventKind::FormStart,
        EventKind::FormSubmit,
        EventKind::FormAbandon,
        EventKind::ExitIntent,
        EventKind::HoverIntent,
        EventKind::CtaClick,
        EventKind::Search,
        EventKind::VideoPlay,
        EventKind::Download,
        EventKind::OutboundClick,
        EventKind::Copy,
        EventKind::Error,
        EventKind::Identify,
        EventKind::Custom,
        EventKind::QuoteRequest,
        EventKind::DemoRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::PageLeave => "page_leave",
            EventKind::Scroll => "scroll",
            EventKind::Click => "click",
            EventKind::RageClick => "rage_click",
            EventKind::DeadClick => "dead_click",
            EventKind::FormStart => "form_start",
            EventKind::FormSubmit => "form_submit",
            EventKind::FormAbandon => "form_abandon",
            EventKind::ExitIntent => "exit_intent",
            EventKind::HoverIntent => "hover_intent",
            EventKind::CtaClick => "cta_click",
            EventKind::Search => "search",
            EventKind::VideoPlay => "video_play",
            EventKind::Download => "download",
            EventKind::OutboundClick => "outbound_click",
            EventKind::Copy => "copy",
            EventKind::Error => "error",
            EventKind::Identify => "identify",
            EventKind::Custom => "custom",
            EventKind::QuoteRequest => "quote_request",
            EventKind::DemoRequest => "demo_request",
        }
    }

    pub fn parse(raw: &str) -> Option<EventKind> {
        // A match compiles to a length switch plus a few comparisons: cheaper per event than
        // trying all 22 names in turn.
        Some(match raw {
            "page_view" => EventKind::PageView,
            "page_leave" => EventKind::PageLeave,
            "scroll" => EventKind::Scroll,
            "click" => EventKind::Click,
            "rage_click" => EventKind::RageClick,
            "dead_click" => EventKind::DeadClick,
            "form_start" => EventKind::FormStart,
            "form_submit" => EventKind::FormSubmit,
            "form_abandon" => EventKind::FormAbandon,
            "exit_intent" => EventKind::ExitIntent,
            "hover_intent" => EventKind::HoverIntent,
            "cta_click" => EventKind::CtaClick,
            "search" => EventKind::Search,
            "video_play" => EventKind::VideoPlay,
            "download" => EventKind::Download,
            "outbound_click" => EventKind::OutboundClick,
            "copy" => EventKind::Copy,
            "error" => EventKind::Error,
            "identify" => EventKind::Identify,
            "custom" => EventKind::Custom,
            "quote_request" => EventKind::QuoteRequest,
            "demo_request" => EventKind::DemoRequest,
            _ => return None,
        })
    }
}

/// One accepted behavior event. Every string in it has been masked (emails, phones, cards) and
/// every URL stripped of non-allowlisted query parameters and fragments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The browser's event id (sanitized, at most 64 chars); used to break ties, not trusted.
    pub id: String,
    #[serde(rename = "t")]
    pub kind: EventKind,
    /// Browser time, clamped to a window around the server's receive time.
    pub ts: Millis,
    /// Anonymized URL (scheme, host, path and allowlisted query parameters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The path of `url`, the unit pages are counted and scored by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Masked, size-bounded custom properties (see `docs/beacon.md` for the ones each type uses).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub props: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(serde_json::Value::as_str)
    }

    pub fn prop_u64(&self, name: &str) -> Option<u64> {
        self.props.get(name).and_then(|value| {
            value
                .as_u64()
                .or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_own_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventKind::parse("pageview"), None);
    }
}
