//! The composition root every service binary shares.
//!
//! `run` reads the settings (printing them with `--help`), installs logging, connects to
//! Postgres and applies the service's migrations, opens the embedded or remote MDMS, builds
//! the auth gate (JWT or gateway mode, role-actions from MDMS), creates the Kafka producer,
//! lets the service build its routes from the [`Platform`], and serves them until SIGTERM —
//! then drains requests and flushes the producer. Keeping this wiring here, once, is what
//! lets each `main.rs` stay a few lines long.
//!
//! [`PlatformBuilder`] builds the same [`Platform`] from an explicit `Env` without serving
//! it, and [`app`] adds the layers `run` serves with, so tests run a service's production
//! `routes()` in process.

mod assemble;
mod settings;

pub use assemble::{app, PlatformBuilder};
pub use settings::{kafka_settings_from_env, DB_VARS, KAFKA_VARS, MDMS_VARS};

use axum::Router;
use digit_kafka::{KafkaSettings, Producer};
use digit_mdms::MdmsSource;
use digit_service::authz::Authorizer;
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::{self, Gate};
use digit_service::server::{self, Shutdown};
use digit_service::{telemetry, Metrics};
use digit_store::DbSettings;
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// What a service needs from the platform.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Migration sets to apply on start (the service's own first).
    pub migrators: &'static [&'static Migrator],
    /// Whether the service talks to Kafka.
    pub kafka: bool,
    /// Mount the standalone platform APIs (`/egov-mdms-service/v1/*`, `/egov-idgen/id/_generate`).
    pub platform_apis: bool,
    /// Whether the service authenticates callers. `false` (persister, indexer: no business
    /// routes) reads no `AUTH_MODE` or JWT key and builds no role-action authorizer; the
    /// gate is then a gateway-mode gate without authorization, so such a service must not
    /// [`Platform::protect`] routes.
    pub auth: bool,
    /// Whether the service reads master data. `false` opens no MDMS (no `configs/mdms`
    /// folder or `EGOV_MDMS_HOST` needed): `Platform::mdms` is empty.
    pub mdms: bool,
}

/// Everything a service's router may use.
#[derive(Clone)]
pub struct Platform {
    /// Common settings.
    pub settings: ServiceSettings,
    /// Postgres pool (migrations applied).
    pub pool: PgPool,
    /// Master data (embedded or remote).
    pub mdms: Arc<dyn MdmsSource>,
    /// Kafka settings (brokers, topic prefix).
    pub kafka: KafkaSettings,
    /// Kafka producer, when the service uses Kafka.
    pub producer: Option<Producer>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Shutdown signal (SIGTERM/SIGINT).
    pub shutdown: Shutdown,
    /// Authentication + authorization gate for business routes.
    pub gate: Gate,
    /// Where the service reads its own settings (the process environment in `run`; a map
    /// in tests, see [`PlatformBuilder`]).
    pub env: Env,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// Puts the auth gate in front of `routes`.
    pub fn protect(&self, routes: Router) -> Router {
        routes.layer(axum::middleware::from_fn_with_state(
            self.gate.clone(),
            gate::authenticate,
        ))
    }
}

/// Runs a service binary: `main` is `digit_runtime::run(&INFO, NEEDS, build_routes)`.
///
/// `build` receives the platform and returns the service's business routes (full paths,
/// usually nested under `platform.settings.context_path` and protected with
/// [`Platform::protect`]).
pub fn run<F, Fut>(info: &'static ServiceInfo, needs: Needs, build: F) -> ExitCode
where
    F: FnOnce(Platform) -> Fut,
    Fut: Future<Output = anyhow::Result<Router>>,
{
    if let Some(code) = server::handle_cli(info) {
        return code;
    }
    let env = Env::process();
    let settings = if needs.auth {
        ServiceSettings::from_env(info, &env)
    } else {
        ServiceSettings::from_env_without_auth(info, &env)
    };
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: configuration error: {e}", info.name);
            return ExitCode::from(2);
        }
    };
    telemetry::init(info.name, settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "Cannot start the async runtime.");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(start(settings, &env, needs, build)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "Service failed.");
            ExitCode::FAILURE
        }
    }
}

async fn start<F, Fut>(
    settings: ServiceSettings,
    env: &Env,
    needs: Needs,
    build: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Platform) -> Fut,
    Fut: Future<Output = anyhow::Result<Router>>,
{
    use anyhow::Context as _;
    let shutdown = Shutdown::new().on_os_signals();
    let db = DbSettings::from_lookup(|name| env.raw(name)).context("database settings")?;
    tracing::info!(database = %db.redacted_url(), "Connecting to Postgres.");
    let pool = digit_store::connect(&db)
        .await
        .context("connecting to Postgres")?;
    if db.migrate {
        digit_store::run_migrations(&pool, needs.migrators)
            .await
            .context("applying migrations")?;
    }
    let metrics = Metrics::new(settings.name);
    let mdms: Arc<dyn MdmsSource> = if needs.mdms {
        mdms_source(env, &metrics).await?
    } else {
        Arc::new(digit_mdms::EmbeddedMdms::from_documents([]))
    };
    let kafka = kafka_settings_from_env(env, settings.name).context("Kafka settings")?;
    let producer = if needs.kafka {
        let producer = Producer::new(&kafka).context("creating the Kafka producer")?;
        Some(producer)
    } else {
        None
    };
    let authorizer = needs.auth.then(|| {
        Arc::new(Authorizer::new(
            Arc::new(digit_mdms::MdmsRoleActions::new(mdms.clone())),
            settings.role_action_ttl,
            settings.state_level_length,
        ))
    });
    let gate = Gate::new(&settings, authorizer).context("auth settings")?;
    let platform = Platform {
        settings: settings.clone(),
        pool: pool.clone(),
        mdms: mdms.clone(),
        kafka,
        producer: producer.clone(),
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        gate,
        env: env.clone(),
    };
    let mut routes = build(platform.clone()).await?;
    if needs.platform_apis {
        routes = routes.merge(platform_apis(&platform, env).await?);
    }
    let app = server::app(&settings, &metrics, routes);
    let flush = async move {
        if let Some(p) = producer {
            // Flushing blocks on librdkafka; keep it off the async workers.
            let result =
                tokio::task::spawn_blocking(move || p.flush(Duration::from_secs(10))).await;
            match result {
                Ok(Ok(())) => tracing::info!("Kafka producer flushed."),
                Ok(Err(e)) => tracing::warn!(error = %e, "Kafka flush failed."),
                Err(e) => tracing::warn!(error = %e, "Kafka flush task failed."),
            }
        }
        pool.close().await;
    };
    server::serve(&settings, app, shutdown, flush)
        .await
        .context("HTTP server")?;
    Ok(())
}

/// The standalone platform routes: MDMS v1 search (open) and idgen (mixed), gated.
pub async fn platform_apis(platform: &Platform, env: &Env) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let idgen_settings =
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?;
    let generator = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        idgen_settings,
    ));
    let routes =
        digit_mdms::router(platform.mdms.clone()).merge(digit_store::idgen_router(generator));
    Ok(platform.protect(routes))
}

async fn mdms_source(env: &Env, metrics: &Metrics) -> anyhow::Result<Arc<dyn MdmsSource>> {
    use anyhow::Context as _;
    let (env, metrics) = (env.clone(), metrics.clone());
    // Blocking file reads at start-up only.
    tokio::task::spawn_blocking(move || digit_mdms::source_from_env(&env, &metrics))
        .await
        .context("loading MDMS")?
        .context("loading MDMS data")
}
