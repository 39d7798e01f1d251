//! The platform without the server: what [`run`](crate::run) wires — Postgres with the
//! service's migrations, MDMS, the Kafka producer, the auth gate, metrics — built from an
//! explicit [`Env`], so tests (and tools) can run a service's production `routes()` in
//! process: a fresh database in `DB_URL`, unique topics, a test `JWT_SECRET`.

use crate::{
    kafka_settings_from_env, mdms_source, platform_apis, readiness, Needs, Platform, Workers,
};
use axum::Router;
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_service::authz::Authorizer;
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::Gate;
use digit_service::server::{self, Shutdown};
use digit_service::Metrics;
use digit_store::DbSettings;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Platform`] from an [`Env`] the way `run` does, without serving it.
///
/// Every setting comes from the `Env` (none from the process environment), except the MDMS
/// source when none is given: then it is the configured one, as in `run`.
pub struct PlatformBuilder {
    info: &'static ServiceInfo,
    needs: Needs,
    env: Env,
    mdms: Option<Arc<dyn MdmsSource>>,
    shutdown: Shutdown,
}

impl std::fmt::Debug for PlatformBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformBuilder")
            .field("service", &self.info.name)
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

impl PlatformBuilder {
    /// A builder for the service `info` with `needs`, reading `env`.
    pub fn new(info: &'static ServiceInfo, needs: Needs, env: Env) -> Self {
        Self {
            info,
            needs,
            env,
            mdms: None,
            shutdown: Shutdown::new(),
        }
    }

    /// Uses this master data (e.g. the embedded `configs/mdms` loaded by a test).
    pub fn mdms(mut self, mdms: Arc<dyn MdmsSource>) -> Self {
        self.mdms = Some(mdms);
        self
    }

    /// Uses this shutdown signal (default: a fresh one nobody triggers).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Connects to Postgres (applying the migrations when `DB_MIGRATE` is on), opens MDMS,
    /// creates the producer when the service needs Kafka, and builds the gate.
    pub async fn build(self) -> anyhow::Result<Platform> {
        use anyhow::Context as _;
        let env = self.env;
        let settings = if self.needs.auth {
            ServiceSettings::from_env(self.info, &env)
        } else {
            ServiceSettings::from_env_without_auth(self.info, &env)
        }
        .context("service settings")?;
        let db = DbSettings::from_lookup(|name| env.raw(name)).context("database settings")?;
        tracing::info!(database = %db.redacted_url(), "Connecting to Postgres.");
        let pool = digit_store::connect(&db)
            .await
            .context("connecting to Postgres")?;
        if db.migrate {
            digit_store::run_migrations(&pool, self.needs.migrators)
                .await
                .context("applying migrations")?;
        }
        let metrics = Metrics::new(settings.name);
        let workers = Workers::default();
        workers.instrument(&metrics);
        let mdms: Arc<dyn MdmsSource> = match self.mdms {
            Some(mdms) => mdms,
            None if self.needs.mdms => mdms_source(&env, &metrics).await?,
            None => Arc::new(digit_mdms::EmbeddedMdms::from_documents([])),
        };
        let kafka = kafka_settings_from_env(&env, settings.name).context("Kafka settings")?;
        let producer = if self.needs.kafka {
            Some(Producer::new(&kafka).context("creating the Kafka producer")?)
        } else {
            None
        };
        let authorizer = self.needs.auth.then(|| {
            Arc::new(Authorizer::new(
                Arc::new(digit_mdms::MdmsRoleActions::new(mdms.clone())),
                settings.role_action_ttl,
                settings.state_level_length,
            ))
        });
        let gate = Gate::new(&settings, authorizer).context("auth settings")?;
        Ok(Platform {
            metrics,
            settings,
            pool,
            mdms,
            kafka,
            producer,
            shutdown: self.shutdown,
            gate,
            env,
            workers,
        })
    }
}

/// The router `run` serves for `routes`: plus the platform APIs when `needs` asks for them,
/// behind the common layers (health, readiness at `<ctx>/health/ready`, metrics, request
/// ids, limits, timeouts).
pub async fn app(platform: &Platform, needs: &Needs, mut routes: Router) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    if needs.platform_apis {
        routes = routes.merge(platform_apis(platform, &platform.env).await?);
    }
    let timeout = Duration::from_millis(
        platform
            .env
            .parse(&digit_service::config::vars::READINESS_TIMEOUT_MS)
            .context("readiness settings")?,
    );
    let readiness = readiness(platform, needs.kafka, timeout)?;
    Ok(server::app_with_readiness(
        &platform.settings,
        &platform.metrics,
        readiness,
        routes,
    ))
}
