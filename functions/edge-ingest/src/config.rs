//! The worker's configuration: variables and secrets from `wrangler.toml` / `wrangler secret put`,
//! read once per isolate through a lookup function (the glue passes `env`), so tests build
//! configurations from plain maps.
//!
//! Two independent parts: [`IngestConfig`] for `POST /e` and [`SqsConfig`] for sending to SQS
//! (the queue consumer, or `/e` itself in direct delivery). Each fails fast, naming the variable.

use std::sync::{Mutex, PoisonError};

use crm_domain::privacy::daily_salt;

use crate::secret::Secret;
use crate::sites::{SiteDirectory, SitesError};
use crate::sqs::{AwsCredentials, SqsTarget};

/// `queue` (default) or `direct`: how an accepted beacon reaches SQS.
pub const DELIVERY: &str = "CRM_DELIVERY";
/// JSON list of sites (see [`crate::sites`]).
pub const SITES: &str = "CRM_SITES";
/// Secret (hex, at least 16 bytes): the key the daily visitor salt is derived from.
pub const DAILY_SALT_SECRET: &str = "CRM_DAILY_SALT_SECRET";
/// Secret (hex, at least 16 bytes): the pepper of first-party visitor keys.
pub const VISITOR_PEPPER: &str = "CRM_VISITOR_PEPPER";
/// The SQS events queue URL, e.g. `https://sqs.eu-west-1.amazonaws.com/123456789012/crm-events`.
pub const SQS_QUEUE_URL: &str = "CRM_SQS_QUEUE_URL";
/// The AWS region; optional when the queue URL names it (`sqs.<region>.amazonaws.com`).
pub const SQS_REGION: &str = "CRM_SQS_REGION";
/// Where requests go; optional, defaults to the queue URL's scheme and host (set it for an
/// emulator or a VPC endpoint).
pub const SQS_ENDPOINT: &str = "CRM_SQS_ENDPOINT";
/// Secrets: the AWS credentials of an IAM user allowed `sqs:SendMessage` on the queue.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Optional secret, for temporary credentials.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";

const MIN_SECRET_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How an accepted beacon reaches SQS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Onto the Cloudflare Queue before answering `202`; the consumer forwards to SQS. Durable:
    /// an acknowledged beacon survives SQS outages (the Queue retries, then dead-letters).
    Queue,
    /// Straight to SQS after answering (`wait_until`): no Queue operations to pay for, but a
    /// beacon is lost if that one send fails.
    Direct,
}

/// What `POST /e` needs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub delivery: Delivery,
    pub daily_salt: DailySalt,
    pub visitor_pepper: Secret,
    pub sites: SiteDirectory,
}

impl IngestConfig {
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<IngestConfig, ConfigError> {
        let delivery = match lookup(DELIVERY).as_deref().map(str::trim) {
            None | Some("") | Some("queue") => Delivery::Queue,
            Some("direct") => Delivery::Direct,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: DELIVERY,
                    reason: format!("{other:?} is neither \"queue\" nor \"direct\""),
                });
            }
        };
        let sites =
            SiteDirectory::parse(lookup(SITES).as_deref()).map_err(|error: SitesError| {
                ConfigError::Invalid {
                    name: SITES,
                    reason: error.to_string(),
                }
            })?;
        Ok(IngestConfig {
            delivery,
            daily_salt: DailySalt::new(hex_secret(&lookup, DAILY_SALT_SECRET)?),
            visitor_pepper: hex_secret(&lookup, VISITOR_PEPPER)?,
            sites,
        })
    }
}

/// The key of the daily visitor salt ([`crm_domain::privacy::daily_salt`]) and the salt of the
/// last day asked for: the salt changes only at midnight UTC, so an isolate derives it once a day
/// instead of once per beacon.
pub struct DailySalt {
    secret: Secret,
    /// `(UTC day, salt)`. A `Mutex` so the configuration can live in a `static`; a Worker isolate
    /// runs one request at a time, so it is never contended.
    last: Mutex<Option<(i64, [u8; 32])>>,
}

impl DailySalt {
    pub fn new(secret: Secret) -> DailySalt {
        DailySalt {
            secret,
            last: Mutex::new(None),
        }
    }

    /// The salt of `day` (days since the Unix epoch, UTC).
    pub fn for_day(&self, day: i64) -> [u8; 32] {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match *last {
            Some((cached_day, salt)) if cached_day == day => salt,
            _ => {
                let salt = daily_salt(self.secret.expose(), day);
                *last = Some((day, salt));
                salt
            }
        }
    }
}

impl Clone for DailySalt {
    fn clone(&self) -> DailySalt {
        DailySalt::new(self.secret.clone())
    }
}

impl std::fmt::Debug for DailySalt {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DailySalt([redacted])")
    }
}

/// What sending to SQS needs.
#[derive(Debug, Clone)]
pub struct SqsConfig {
    pub target: SqsTarget,
    pub credentials: AwsCredentials,
}

impl SqsConfig {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<SqsConfig, ConfigError> {
        let queue_url = required(&lookup, SQS_QUEUE_URL)?;
        let (queue_origin, _) = split_origin(&queue_url).ok_or_else(|| ConfigError::Invalid {
            name: SQS_QUEUE_URL,
            reason: "expected http(s)://host/account/queue".to_owned(),
        })?;
        let endpoint = match optional(&lookup, SQS_ENDPOINT) {
            Some(endpoint) => {
                split_origin(&endpoint).ok_or_else(|| ConfigError::Invalid {
                    name: SQS_ENDPOINT,
                    reason: "expected http(s)://host[:port]".to_owned(),
                })?;
                endpoint.trim_end_matches('/').to_owned()
            }
            None => queue_origin.to_owned(),
        };
        let region = match optional(&lookup, SQS_REGION) {
            Some(region) => region,
            None => region_of(queue_origin).ok_or(ConfigError::Missing(SQS_REGION))?,
        };
        let credentials = AwsCredentials {
            access_key_id: required(&lookup, AWS_ACCESS_KEY_ID)?,
            secret_access_key: Secret::new(required(&lookup, AWS_SECRET_ACCESS_KEY)?),
            session_token: optional(&lookup, AWS_SESSION_TOKEN).map(Secret::new),
        };
        Ok(SqsConfig {
            target: SqsTarget {
                endpoint,
                region,
                queue_url,
            },
            credentials,
        })
    }
}

fn optional(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    optional(lookup, name).ok_or(ConfigError::Missing(name))
}

fn hex_secret(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Secret, ConfigError> {
    let bytes = hex::decode(required(lookup, name)?).map_err(|_| ConfigError::Invalid {
        name,
        reason: "expected hex (generate one with `openssl rand -hex 32`)".to_owned(),
    })?;
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name,
            reason: format!(
                "expected at least {MIN_SECRET_BYTES} bytes ({} hex digits)",
                MIN_SECRET_BYTES * 2
            ),
        });
    }
    Ok(Secret::new(bytes))
}

/// Splits `http(s)://host[:port]/rest` into (`http(s)://host[:port]`, `/rest`).
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_len = after_scheme.find('/').unwrap_or(after_scheme.len());
    if host_len == 0 {
        return None;
    }
    let origin_len = url.len() - after_scheme.len() + host_len;
    Some(url.split_at(origin_len))
}

/// The region of `https://sqs.<region>.amazonaws.com` (or the legacy `<region>.queue.amazonaws.com`).
fn region_of(origin: &str) -> Option<String> {
    let host = origin.split_once("://")?.1;
    let region = host
        .strip_prefix("sqs.")
        .and_then(|rest| rest.split_once(".amazonaws.com"))
        .or_else(|| host.split_once(".queue.amazonaws.com"))
        .map(|(region, _)| region)?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET_HEX: &str = "00112233445566778899aabbccddeeff";

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn ingest_vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut vars = vec![
            (DAILY_SALT_SECRET, SECRET_HEX),
            (VISITOR_PEPPER, SECRET_HEX),
        ];
        vars.extend_from_slice(extra);
        vars
    }

    #[test]
    fn delivery_defaults_to_the_durable_queue() {
        let config = IngestConfig::from_lookup(lookup(&ingest_vars(&[]))).expect("valid");
        assert_eq!(config.delivery, Delivery::Queue);
        let direct = IngestConfig::from_lookup(lookup(&ingest_vars(&[(DELIVERY, "direct")])));
        assert_eq!(direct.expect("valid").delivery, Delivery::Direct);
        let typo = IngestConfig::from_lookup(lookup(&ingest_vars(&[(DELIVERY, "drect")])));
        assert!(matches!(
            typo,
            Err(ConfigError::Invalid { name: DELIVERY, .. })
        ));
    }

    #[test]
    fn ingest_secrets_must_be_present_long_enough_hex() {
        let missing = IngestConfig::from_lookup(lookup(&[(DAILY_SALT_SECRET, SECRET_HEX)]));
        assert_eq!(missing.err(), Some(ConfigError::Missing(VISITOR_PEPPER)));
        let short = IngestConfig::from_lookup(lookup(&[
            (DAILY_SALT_SECRET, "0011"),
            (VISITOR_PEPPER, SECRET_HEX),
        ]));
        assert!(matches!(
            short,
            Err(ConfigError::Invalid {
                name: DAILY_SALT_SECRET,
                ..
            })
        ));
        let not_hex = IngestConfig::from_lookup(lookup(&[
            (DAILY_SALT_SECRET, "correct horse battery staple!!!!"),
            (VISITOR_PEPPER, SECRET_HEX),
        ]));
        assert!(matches!(not_hex, Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn the_daily_salt_is_derived_per_utc_day_and_reused_within_it() {
        let secret = [3_u8; 32];
        let salts = DailySalt::new(Secret::new(secret));
        assert_eq!(salts.for_day(20_000), daily_salt(&secret, 20_000));
        assert_eq!(salts.for_day(20_000), daily_salt(&secret, 20_000));
        assert_eq!(salts.for_day(20_001), daily_salt(&secret, 20_001));
        assert_ne!(salts.for_day(20_001), salts.for_day(20_000));
        assert_eq!(format!("{salts:?}"), "DailySalt([redacted])");
    }

    #[test]
    fn a_bad_site_list_names_the_variable() {
        let bad = IngestConfig::from_lookup(lookup(&ingest_vars(&[(SITES, "[{}]")])));
        assert!(matches!(bad, Err(ConfigError::Invalid { name: SITES, .. })));
    }

    #[test]
    fn the_sqs_region_and_endpoint_come_from_the_queue_url_unless_set() {
        let config = SqsConfig::from_lookup(lookup(&[
            (
                SQS_QUEUE_URL,
                "https://sqs.eu-west-1.amazonaws.com/123456789012/crm-events",
            ),
            (AWS_ACCESS_KEY_ID, "AKID"),
            (AWS_SECRET_ACCESS_KEY, "secret"),
        ]))
        .expect("valid");
        assert_eq!(config.target.region, "eu-west-1");
        assert_eq!(
            config.target.endpoint,
            "https://sqs.eu-west-1.amazonaws.com"
        );
        assert!(config.credentials.session_token.is_none());

        let emulator = SqsConfig::from_lookup(lookup(&[
            (
                SQS_QUEUE_URL,
                "http://127.0.0.1:5000/123456789012/crm-events",
            ),
            (SQS_ENDPOINT, "http://127.0.0.1:5000/"),
            (SQS_REGION, "us-east-1"),
            (AWS_ACCESS_KEY_ID, "testing"),
            (AWS_SECRET_ACCESS_KEY, "testing"),
        ]))
        .expect("valid");
        assert_eq!(emulator.target.endpoint, "http://127.0.0.1:5000");
        assert_eq!(emulator.target.region, "us-east-1");
    }

    #[test]
    fn an_sqs_config_without_region_or_credentials_fails_naming_the_variable() {
        let no_region = SqsConfig::from_lookup(lookup(&[
            (SQS_QUEUE_URL, "http://127.0.0.1:5000/1/q"),
            (AWS_ACCESS_KEY_ID, "a"),
            (AWS_SECRET_ACCESS_KEY, "b"),
        ]));
        assert_eq!(no_region.err(), Some(ConfigError::Missing(SQS_REGION)));
        let no_key = SqsConfig::from_lookup(lookup(&[(
            SQS_QUEUE_URL,
            "https://sqs.us-east-1.amazonaws.com/1/q",
        )]));
        assert_eq!(no_key.err(), Some(ConfigError::Missing(AWS_ACCESS_KEY_ID)));
        let not_a_url = SqsConfig::from_lookup(lookup(&[(SQS_QUEUE_URL, "crm-events")]));
        assert!(matches!(
            not_a_url,
            Err(ConfigError::Invalid {
                name: SQS_QUEUE_URL,
                ..
            })
        ));
    }
}
