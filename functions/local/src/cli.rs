//! The command line: `crm-local [serve options]`, `crm-local token …`, `crm-local job …`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use crm_domain::time::Millis;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Parser)]
#[command(
    name = "crm-local",
    version,
    about = "The privacy-first behavioral CRM in one process"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a signed admin API token (creates the data dir's secrets if needed).
    Token(TokenArgs),
    /// Run one scheduled job once against the local store and print what it did.
    Job(JobArgs),
    /// Print every item of the local store, one JSON object per line, compressed values
    /// inflated: exactly what the store keeps.
    Dump(DumpArgs),
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[arg(long, default_value = "./.crm-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// Where the store, the queue and the secrets live.
    #[arg(long, default_value = "./.crm-data")]
    pub data_dir: PathBuf,
    /// Take the client address from X-Forwarded-For (only behind a proxy you trust).
    #[arg(long)]
    pub trust_forwarded_for: bool,
    /// Freeze the clock at this RFC 3339 instant (demos and tests).
    #[arg(long)]
    pub now: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Run on DynamoDB and SQS instead of the embedded store (build with `--features aws`).
/// Credentials and region come from the standard AWS chain.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// DynamoDB table to use instead of the embedded store.
    #[arg(long, requires = "sqs_queue_url")]
    pub table: Option<String>,
    /// SQS queue the beacons go through instead of the embedded queue.
    #[arg(long, requires = "table")]
    pub sqs_queue_url: Option<String>,
    /// Endpoint of an AWS API emulator (e.g. http://127.0.0.1:5000); AWS itself when absent.
    #[arg(long)]
    pub dynamodb_endpoint: Option<String>,
    /// Create the table (keys, indexes, TTL) and the queue with its dead-letter queue when they
    /// do not exist, and wait until they are active.
    #[arg(long)]
    pub create_missing: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[arg(long, default_value = "./.crm-data")]
    pub data_dir: PathBuf,
    #[arg(long, value_enum, default_value = "admin")]
    pub role: RoleArg,
    /// The token's subject (the user id that owns records).
    #[arg(long, default_value = "local-admin")]
    pub subject: String,
    #[arg(long, default_value_t = 24)]
    pub ttl_hours: i64,
}

#[derive(Debug, Args)]
pub struct JobArgs {
    #[arg(value_enum)]
    pub job: JobName,
    #[arg(long, default_value = "./.crm-data")]
    pub data_dir: PathBuf,
    /// Run the job as of this RFC 3339 instant.
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum JobName {
    /// Deletes raw events and score-change records past their retention, anonymizes old
    /// sessions, then removes expired items as DynamoDB's TTL would.
    Retention,
    /// Rescores every contact as of `--now` (stored scores, risk, automatic transitions).
    Decay,
    /// Re-evaluates every dynamic segment over the contacts (memberships added and removed).
    Segments,
}

/// The roles, spelt with hyphens as flags are; the API's spelling (`sales_manager`) works too.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    #[value(alias = "sales_manager")]
    SalesManager,
    #[value(alias = "sales_rep")]
    SalesRep,
    #[value(alias = "customer_success")]
    CustomerSuccess,
}

impl From<RoleArg> for admin_api::Role {
    fn from(role: RoleArg) -> admin_api::Role {
        match role {
            RoleArg::Admin => admin_api::Role::Admin,
            RoleArg::SalesManager => admin_api::Role::SalesManager,
            RoleArg::SalesRep => admin_api::Role::SalesRep,
            RoleArg::CustomerSuccess => admin_api::Role::CustomerSuccess,
        }
    }
}

/// What the server runs with, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub trust_forwarded_for: bool,
    pub fixed_now: Option<Millis>,
    pub aws: AwsArgs,
}

impl ServeArgs {
    pub fn into_config(self) -> anyhow::Result<Config> {
        Ok(Config {
            addr: self.addr,
            data_dir: self.data_dir,
            trust_forwarded_for: self.trust_forwarded_for,
            fixed_now: self.now.as_deref().map(parse_instant).transpose()?,
            aws: self.aws,
        })
    }
}

pub fn parse_instant(raw: &str) -> anyhow::Result<Millis> {
    // The time crate's parse error lists its own cause again as its source, so chaining it
    // would print the cause twice or three times; its message is enough.
    let moment = OffsetDateTime::parse(raw, &Rfc3339).map_err(|cause| {
        anyhow::anyhow!(
            "--now {raw:?} is not an RFC 3339 instant like 2026-01-31T12:00:00Z: {cause}"
        )
    })?;
    Ok(Millis(i64::try_from(
        moment.unix_timestamp_nanos() / 1_000_000,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_is_read_to_the_millisecond() {
        assert_eq!(
            parse_instant("2026-01-31T12:00:00.250Z").ok(),
            Some(Millis(1_769_860_800_250))
        );
    }

    #[test]
    fn a_bad_instant_names_the_flag_and_the_cause_once() {
        let Err(error) = parse_instant("2026-13-01T00:00:00Z") else {
            panic!("a thirteenth month was accepted");
        };
        let shown = format!("{error:#}");
        assert!(shown.starts_with("--now \"2026-13-01T00:00:00Z\" is not an RFC 3339"));
        assert_eq!(shown.matches("month").count(), 1, "{shown}");
    }

    #[test]
    fn a_role_is_taken_in_either_spelling() {
        use clap::Parser;
        for spelling in ["sales-manager", "sales_manager"] {
            let cli = Cli::try_parse_from(["crm-local", "token", "--role", spelling]);
            let Ok(Cli {
                command: Some(Command::Token(args)),
                ..
            }) = cli
            else {
                panic!("--role {spelling} was refused");
            };
            assert!(matches!(args.role, RoleArg::SalesManager));
        }
    }
}
