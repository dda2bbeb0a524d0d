//! Composition: open the embedded store and queue, make sure the demo site exists, start the
//! scorer and the jobs, and serve ingest plus the admin Router on one listener.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::post;
use crm_domain::site::{SiteConfig, SiteId};
use crm_store::clock::{Clock, FixedClock, SystemClock};
use crm_store::repo::SiteRepo;
use event_scorer::ScorerDeps;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::Config;
use crate::ingest::{self, IngestState};
use crate::secrets::Secrets;
use crate::{backend, jobs, off_route, scorer_loop, transitions};

const DEMO_SITE: &str = "demo";

/// A started system: where it listens, how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub admin_token: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub async fn start(config: Config) -> anyhow::Result<Running> {
    let secrets = Arc::new(Secrets::load_or_create(&config.data_dir)?);
    let clock: Arc<dyn Clock> = match config.fixed_now {
        Some(now) => Arc::new(FixedClock(now)),
        None => Arc::new(SystemClock),
    };
    let backend = backend::open(&config.data_dir, &config.aws).await?;
    let table = backend.table.clone();
    let queue = backend.queue.clone();

    let sites = SiteRepo::new(table.clone());
    let demo = SiteConfig {
        name: "Demo shop".to_owned(),
        allowed_origins: vec!["*".to_owned()],
        ..SiteConfig::with_defaults(SiteId::parse(DEMO_SITE)?)
    };
    sites
        .create_if_missing(&demo)
        .await
        .context("creating the demo site")?;

    let tokens = admin_api::TokenVerifier::hs256(&secrets.jwt_secret);
    let admin = admin_api::router(admin_api::AdminState::new(
        table.clone(),
        tokens,
        clock.clone(),
    ));
    let ingest_state = IngestState {
        sites,
        queue: queue.clone(),
        clock: clock.clone(),
        secrets: secrets.clone(),
        trust_forwarded_for: config.trust_forwarded_for,
    };
    let ingest_routes = Router::new()
        .route(
            "/e",
            post(ingest::receive_beacon).options(ingest::preflight),
        )
        .with_state(ingest_state);
    let own_routes = off_route::with_json_errors(ingest_routes.merge(crate::assets::routes()));
    let app = admin.merge(own_routes).fallback(off_route::no_route);

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let deps = ScorerDeps {
        table: table.clone(),
        clock: clock.clone(),
    };
    let mut server_shutdown = shutdown_rx.clone();
    let mut tasks = Vec::new();
    if let Some(transitions) = backend.transitions.clone() {
        let relay = transitions::run(table.clone(), transitions, shutdown_rx.clone());
        tasks.push(tokio::spawn(relay));
    }
    tasks.extend([
        tokio::spawn(scorer_loop::run(queue, deps, shutdown_rx.clone())),
        tokio::spawn(jobs::run_periodically(backend, clock.clone(), shutdown_rx)),
        tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let serving = axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = server_shutdown.changed().await;
                })
                .await;
            if let Err(error) = serving {
                tracing::error!(%error, "server stopped");
            }
        }),
    ]);
    // From the wall clock even under `--now`: tokens are checked against it, so one issued at a
    // past `--now` would already have expired.
    let now_seconds = SystemClock.now().0 / 1000;
    let admin_token = admin_api::TokenIssuer::hs256(&secrets.jwt_secret).issue(
        "local-admin",
        admin_api::Role::Admin,
        now_seconds,
        24 * 3600,
    );
    Ok(Running {
        addr,
        admin_token,
        shutdown,
        tasks,
    })
}

impl Running {
    pub fn print_banner(&self) {
        let base = format!("http://{}", self.addr);
        println!("crm-local is running");
        println!("  beacon endpoint : POST {base}/e");
        println!("  admin API       : {base}/api/admin/behavior/dashboard?site={DEMO_SITE}");
        println!("  demo shop       : {base}/demo/");
        println!("  health          : {base}/health");
        println!("  admin token     : {}", self.admin_token);
        println!(
            "Try: curl -H 'Authorization: Bearer <token>' '{base}/api/admin/behavior/visitors?site={DEMO_SITE}'"
        );
    }

    /// Runs until Ctrl-C or SIGTERM, then stops taking requests and finishes the batch in hand.
    pub async fn wait_for_shutdown_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
        Ok(())
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
