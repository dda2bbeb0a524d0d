//! crm-local: every function of the CRM in one tokio process over the embedded SQLite store.
//!
//! It composes the libraries — ingest (`/e`, via crm-domain), the durable embedded queue, the
//! event-scorer, the admin-api Router and the periodic jobs — and adds nothing of its own but
//! wiring: no second implementation of any rule. Never used on Lambda or at the edge.

mod assets;
mod backend;
pub mod cli;
mod dump;
mod ingest;
mod jobs;
mod off_route;
mod scorer_loop;
mod secrets;
mod server;
mod transitions;

use anyhow::Context;

pub use server::{Running, start};

/// Human-readable logs for a terminal, on stderr (stdout carries the banner, `token`, `dump`
/// and the jobs' JSON reports, which scripts read); `RUST_LOG` adjusts the level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(cli::Command::Token(args)) => {
            let secrets = secrets::Secrets::load_or_create(&args.data_dir)
                .with_context(|| format!("reading secrets in {}", args.data_dir.display()))?;
            let now_seconds = crm_store::clock::Clock::now(&crm_store::clock::SystemClock).0 / 1000;
            let issuer = admin_api::TokenIssuer::hs256(&secrets.jwt_secret);
            println!(
                "{}",
                issuer.issue(
                    &args.subject,
                    args.role.into(),
                    now_seconds,
                    args.ttl_hours * 3600
                )
            );
            Ok(())
        }
        Some(cli::Command::Job(args)) => jobs::run_once(args).await,
        Some(cli::Command::Dump(args)) => dump::print_all(args).await,
        None => {
            let config = cli.serve.into_config()?;
            let running = server::start(config).await?;
            running.print_banner();
            running.wait_for_shutdown_signal().await
        }
    }
}
