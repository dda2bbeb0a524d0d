//! Plain request and response values, so routing and ingest are tested without the runtime.
//!
//! The glue copies only the headers in [`USED_HEADERS`] into a [`RequestHead`] and turns an
//! [`EdgeResponse`] into a Workers `Response`.

/// Every request header the worker reads; nothing else is copied out of the runtime.
pub const USED_HEADERS: [&str; 10] = [
    "content-type",
    "content-length",
    "origin",
    "user-agent",
    "dnt",
    "sec-gpc",
    "cf-connecting-ip",
    "cf-ipcountry",
    "if-none-match",
    "access-control-request-method",
];

/// Method, path, query and the headers the worker reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    /// The query string without `?` (empty when absent).
    pub query: String,
    /// Country from the runtime's geo data (`request.cf.country`), used when `CF-IPCountry` is
    /// absent.
    pub cf_country: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl RequestHead {
    /// Builds a head reading each of [`USED_HEADERS`] through `header`.
    pub fn new(
        method: &str,
        path: &str,
        query: &str,
        mut header: impl FnMut(&'static str) -> Option<String>,
    ) -> RequestHead {
        let headers = USED_HEADERS
            .iter()
            .filter_map(|name| header(name).map(|value| (*name, value)))
            .collect();
        RequestHead {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.trim_start_matches('?').to_owned(),
            cf_country: None,
            headers,
        }
    }

    /// A header among [`USED_HEADERS`] (names are lowercase), `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a query parameter (no percent-decoding: the values read here are site
    /// ids, which never need it).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// The path of an absolute URL as the runtime serializes it (`https://host[:port]/path?query`):
/// what follows the host up to `?` or `#`, `/` when empty. No URL parser: in a serialized URL
/// the first `/` after `://` starts the path, and `?` and `#` inside it are percent-encoded.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = match after_scheme.find(['/', '?', '#']) {
        Some(start) if after_scheme[start..].starts_with('/') => &after_scheme[start..],
        _ => return "/",
    };
    path.find(['?', '#']).map_or(path, |end| &path[..end])
}

/// The query of an absolute URL (between `?` and `#`), without parsing the rest: the worker never
/// needs more, and a full URL parser (with its IDNA tables) would cost size and time per request.
pub fn query_of(url: &str) -> &str {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    without_fragment
        .split_once('?')
        .map_or("", |(_, query)| query)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Empty,
    Text(String),
    Static(&'static str),
}

impl Body {
    pub fn as_str(&self) -> &str {
        match self {
            Body::Empty => "",
            Body::Text(text) => text,
            Body::Static(text) => text,
        }
    }
}

/// A response as plain data; the glue turns it into the runtime's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl EdgeResponse {
    pub fn empty(status: u16) -> EdgeResponse {
        EdgeResponse {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A JSON body that is already serialized.
    pub fn json(status: u16, json: String) -> EdgeResponse {
        EdgeResponse::empty(status)
            .with_header("content-type", "application/json")
            .with_body(Body::Text(json))
    }

    /// `{"error": {"code": "…", "message": "…"}}`, the one error shape of the contract.
    pub fn error(status: u16, code: &str, message: &str) -> EdgeResponse {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        EdgeResponse::json(status, body.to_string())
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> EdgeResponse {
        self.set_header(name, value);
        self
    }

    pub fn with_body(mut self, body: Body) -> EdgeResponse {
        self.body = body;
        self
    }

    /// Sets a header, replacing any value it had.
    pub fn set_header(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(known, _)| *known == name) {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_used_headers_are_read_and_lookup_ignores_case() {
        let mut asked = Vec::new();
        let head = RequestHead::new("post", "/e", "?site=demo", |name| {
            asked.push(name);
            (name == "origin").then(|| "https://shop.example".to_owned())
        });
        assert_eq!(asked, USED_HEADERS);
        assert_eq!(head.method, "POST");
        assert_eq!(head.header("Origin"), Some("https://shop.example"));
        assert_eq!(head.header("dnt"), None);
        assert_eq!(head.query_param("site"), Some("demo"));
        assert_eq!(head.query_param("other"), None);
    }

    #[test]
    fn the_query_is_what_lies_between_the_question_mark_and_the_fragment() {
        assert_eq!(
            query_of("https://e.example/e?site=demo&x=1"),
            "site=demo&x=1"
        );
        assert_eq!(
            query_of("https://e.example/e?site=demo#top?no"),
            "site=demo"
        );
        assert_eq!(query_of("https://e.example/e#frag?no"), "");
        assert_eq!(query_of("https://e.example/e"), "");
        assert_eq!(query_of("https://e.example/e?"), "");
    }

    #[test]
    fn the_path_is_what_follows_the_host_up_to_the_query_or_fragment() {
        assert_eq!(path_of("https://e.example/e?site=demo"), "/e");
        assert_eq!(path_of("https://e.example:8787/t.js#x"), "/t.js");
        assert_eq!(
            path_of("http://127.0.0.1:8787/a%3F%23b/c?d=/e"),
            "/a%3F%23b/c"
        );
        assert_eq!(path_of("https://e.example"), "/");
        assert_eq!(path_of("https://e.example?x=/y"), "/");
        assert_eq!(path_of("https://e.example/"), "/");
    }

    #[test]
    fn setting_a_header_twice_keeps_the_last_value() {
        let response = EdgeResponse::empty(204)
            .with_header("vary", "Origin")
            .with_header("vary", "Accept");
        assert_eq!(response.headers, vec![("vary", "Accept".to_owned())]);
    }

    #[test]
    fn errors_have_the_contract_shape() {
        let response = EdgeResponse::error(404, "not_found", "no route /x");
        let body: serde_json::Value = serde_json::from_str(response.body.as_str()).expect("json");
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(response.header("Content-Type"), Some("application/json"));
    }
}
