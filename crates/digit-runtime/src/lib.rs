//! The composition root every service binary shares.
//!
//! `run` reads the settings (printing them with `--help`), installs logging, connects to
//! Postgres and applies the service's migrations, opens the embedded or remote MDMS, builds
//! the auth gate (JWT or gateway mode, role-actions from MDMS), creates the Kafka producer,
//! lets the service build its routes from the [`Platform`] (registering background
//! [`Workers`] on the way), starts and supervises those workers, and serves the routes with
//! `<ctx>/health` (liveness) and `<ctx>/health/ready` (readiness: Postgres, the broker, each
//! worker) until SIGTERM — then drains requests, stops the workers, and flushes the
//! producer, each bounded by the shutdown timeout. A worker crash under
//! [`OnCrash::FailProcess`] shuts the service down with a non-zero exit. Keeping this
//! wiring here, once, is what lets each `main.rs` stay a few lines long.
//!
//! [`PlatformBuilder`] builds the same [`Platform`] from an explicit `Env` without serving
//! it (`run` uses it too), and [`app`] adds the layers `run` serves with, so tests run a
//! service's production `routes()` in process.

mod assemble;
mod checks;
mod settings;
mod workers;

pub use assemble::{app, PlatformBuilder};
pub use checks::{KafkaCheck, PostgresCheck};
pub use settings::{kafka_settings_from_env, DB_VARS, KAFKA_VARS, MDMS_VARS};
pub use workers::{BoxError, OnCrash, RunningWorkers, WorkerState, Workers};

use axum::routing::get;
use axum::Router;
use digit_kafka::{KafkaSettings, Producer};
use digit_mdms::MdmsSource;
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::{self, Gate};
use digit_service::readiness::Readiness;
use digit_service::server::{self, Shutdown};
use digit_service::{telemetry, Metrics};
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
    /// Background workers the service registers (started after the routes are built).
    pub workers: Workers,
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
    match runtime.block_on(start(info, env, needs, build)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "Service failed.");
            ExitCode::FAILURE
        }
    }
}

async fn start<F, Fut>(
    info: &'static ServiceInfo,
    env: Env,
    needs: Needs,
    build: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Platform) -> Fut,
    Fut: Future<Output = anyhow::Result<Router>>,
{
    let shutdown = Shutdown::new().on_os_signals();
    let platform = PlatformBuilder::new(info, needs, env)
        .shutdown(shutdown.clone())
        .build()
        .await?;
    let routes = build(platform.clone()).await?;
    let app = app(&platform, &needs, routes).await?;
    let running = platform.workers.start(&shutdown);
    // A worker crash under OnCrash::FailProcess shuts the service down, and run() fails.
    let failure: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    {
        let (failure, shutdown) = (failure.clone(), shutdown.clone());
        let workers = platform.workers.clone();
        tokio::spawn(async move {
            let error = workers.fatal().await;
            if let Ok(mut slot) = failure.lock() {
                *slot = Some(error);
            }
            shutdown.trigger();
        });
    }
    let grace = platform.settings.shutdown_timeout;
    let (producer, pool) = (platform.producer.clone(), platform.pool.clone());
    let flush = async move {
        running.stop(grace).await;
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
    use anyhow::Context as _;
    server::serve(&platform.settings, app, shutdown, flush)
        .await
        .context("HTTP server")?;
    let failed = failure.lock().ok().and_then(|mut f| f.take());
    match failed {
        Some(error) => Err(anyhow::anyhow!(error)),
        None => Ok(()),
    }
}

/// The readiness checks of `<ctx>/health/ready`: `postgres` (a query on the pool), `kafka`
/// when the service uses the broker (a metadata fetch), and one `worker:<name>` per
/// registered worker; each bounded by `timeout`.
pub fn readiness(platform: &Platform, kafka: bool, timeout: Duration) -> anyhow::Result<Readiness> {
    use anyhow::Context as _;
    let mut readiness = Readiness::new(timeout).with(Arc::new(PostgresCheck {
        pool: platform.pool.clone(),
    }));
    if kafka {
        let check = KafkaCheck::new(&platform.kafka, timeout).context("Kafka readiness client")?;
        readiness = readiness.with(Arc::new(check));
    }
    Ok(readiness.with(Arc::new(platform.workers.clone())))
}

/// `{"status": "UP"}`, as Spring actuator answers.
pub async fn up() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "UP"}))
}

/// The standalone platform routes: MDMS v1 search (open) and idgen (mixed), gated; the
/// embedded localization's search; the platform services' health paths.
pub async fn platform_apis(platform: &Platform, env: &Env) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let idgen_settings =
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?;
    let generator = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        idgen_settings,
    ));
    let mdms = digit_mdms::router(platform.mdms.clone());
    let idgen = digit_store::idgen_router(generator);
    let mut routes = mdms.routes.merge(idgen.routes);
    let mut docs = mdms.docs.merge(idgen.docs);
    // The health paths DIGIT's checks (and digit-core-validation) call on each platform
    // service, answered by the binary that embeds it; no token, as /health everywhere.
    let mut health = Router::new()
        .route("/mdms-v2/health", get(up))
        .route("/egov-mdms-service/health", get(up))
        .route("/egov-idgen/health", get(up))
        .route("/boundary-service/actuator/health", get(up));
    // Standalone, the embedded messages are served at egov-localization's paths too (with a
    // remote egov-localization, that service serves them).
    if env.get(&digit_localization::LOCALIZATION_HOST).is_none() {
        let dir = env.get_or_default(&digit_localization::LOCALIZATION_CONFIG_PATH);
        let messages = tokio::task::spawn_blocking(move || {
            digit_localization::EmbeddedLocalization::load(std::path::Path::new(&dir))
        })
        .await
        .context("loading localization")?
        .context("localization messages")?;
        let localization = digit_localization::api::router(Arc::new(messages));
        routes = routes.merge(localization.routes);
        docs = docs.merge(localization.docs);
        health = health.route("/localization/actuator/health", get(up));
    }
    Ok(platform.protect(routes).merge(health).merge(docs))
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
