//! Persister: a Kafka→Postgres writer that reads DIGIT's egov-persister YAML configs.
//!
//! Point `EGOV_PERSIST_YML_REPO_PATH` at the persister configs a DIGIT deployment already
//! runs and the same rows land in Postgres — with exactly-once effect instead of upstream's
//! auto-committed offsets: the offset of each message is stored in `persister_offsets` in the
//! same transaction as its rows (see [`store::writer`] for the read-your-writes contract and
//! [`store::consumer`] for the failure rules). `domain` holds the config model and the
//! evaluation of mappings (no I/O); `store` the SQL and the Kafka loop.
//!
//! `persister check <configs…>` validates configs offline and exits.

pub mod domain;
pub mod metrics;
pub mod store;

use axum::{Json, Router};
use digit_kafka::Backoff;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_service::openapi::{document, get_with};
use digit_service::{ApiRouter, Documented};
use sqlx::migrate::Migrator;
use std::sync::Arc;
use std::time::Duration;

/// This service's tables (`migrations/persister/`): the stored offsets.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/persister");

/// Config files/folders (upstream name).
pub const CONFIG_PATH: EnvVar = EnvVar {
    name: "EGOV_PERSIST_YML_REPO_PATH",
    aliases: &[],
    default: "configs/persister",
    help: "Comma list of persister YAML files or folders (file:// URLs accepted)",
};
/// Consumer group.
pub const GROUP_ID: EnvVar = EnvVar {
    name: "PERSISTER_GROUP_ID",
    aliases: &["SPRING_KAFKA_CONSUMER_GROUP_ID"],
    default: "egov-infra-persist",
    help: "Kafka consumer group; also keys the offsets stored in Postgres",
};
/// Dead-letter topic.
pub const DEADLETTER_TOPIC: EnvVar = EnvVar {
    name: "PERSISTER_DEADLETTER_TOPIC",
    aliases: &["TRACER_ERRORSTOPIC"],
    default: "egov-persister-deadletter",
    help: "Where poison messages go, as ErrorQueueContract JSON",
};
/// Bulk mode.
pub const BULK_ENABLED: EnvVar = EnvVar {
    name: "PERSISTER_BULK_ENABLED",
    aliases: &[],
    default: "true",
    help: "Consume -batch topics, a poll per transaction",
};
/// Batch size.
pub const BATCH_SIZE: EnvVar = EnvVar {
    name: "PERSISTER_BATCH_SIZE",
    aliases: &[],
    default: "100",
    help: "Most messages per -batch transaction",
};

/// Group commit.
pub const GROUP_COMMIT: EnvVar = EnvVar {
    name: "PERSISTER_GROUP_COMMIT",
    aliases: &[],
    default: "100",
    help: "Most already-fetched messages of ordinary topics written in one transaction (1: a transaction per message, as upstream)",
};

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "persister",
    description: "Persister: a Kafka→Postgres writer that reads egov-persister YAML configs. Subcommand: check <configs…>",
    default_port: 8086,
    default_context_path: "/common-persist",
    env: &[digit_runtime::KAFKA_VARS, digit_runtime::DB_VARS, &[CONFIG_PATH, GROUP_ID, DEADLETTER_TOPIC, BULK_ENABLED, BATCH_SIZE, GROUP_COMMIT]],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[&MIGRATOR],
    kafka: true,
    platform_apis: false,
    auth: false,
    mdms: false,
};

/// Loads the configs and the behaviour settings from the environment.
pub fn settings_from_env(
    env: &Env,
) -> anyhow::Result<(domain::PersisterConfig, store::consumer::PersisterSettings)> {
    let config = domain::load_configs(&env.get_or_default(&CONFIG_PATH))?;
    let batch_size: usize = env.parse(&BATCH_SIZE)?;
    let group_commit: usize = env.parse(&GROUP_COMMIT)?;
    let settings = store::consumer::PersisterSettings {
        group_id: env.get_or_default(&GROUP_ID),
        dead_letter_topic: env.get_or_default(&DEADLETTER_TOPIC),
        bulk_enabled: env.flag(&BULK_ENABLED)?,
        batch_size: batch_size.clamp(1, 10_000),
        group_commit: group_commit.clamp(1, 10_000),
        backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
    };
    Ok((config, settings))
}

/// Starts the consumer (no business HTTP routes: the persister is driven by Kafka).
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    let env = Env::process();
    let (config, settings) = settings_from_env(&env)?;
    tracing::info!(
        files = config.files().len(),
        topics = config.topics().count(),
        "Persister configs loaded."
    );
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the persister needs a Kafka producer"))?;
    let writer = store::consumer::Writer {
        config: Arc::new(config),
        pool: platform.pool.clone(),
        producer,
        settings,
        metrics: metrics::PersisterMetrics::new(&platform.metrics)?,
    };
    let kafka = platform.kafka.clone();
    let shutdown = platform.shutdown.clone();
    tokio::spawn(async move {
        if let Err(e) = store::consumer::run(writer, &kafka, shutdown.clone()).await {
            tracing::error!(
                error = format!("{e:#}"),
                "Persister consumer failed; shutting down."
            );
            shutdown.trigger();
        }
    });
    // Open, as /health everywhere (no gate: NEEDS.auth is false).
    Ok(router(&platform.settings.context_path).into_router())
}

/// `{"status": "UP"}`, as `digit_runtime::up` answers it.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Health {
    status: HealthStatus,
}

/// The only status answered: the process is up.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum HealthStatus {
    #[serde(rename = "UP")]
    Up,
}

/// The persister's one HTTP route under `context_path`, Spring actuator's path which DIGIT's
/// health checks call on egov-persister, and its OpenAPI document at
/// `<context_path>/openapi.json` (the persister is driven by Kafka: no business API).
pub fn router(context_path: &str) -> Documented {
    let routes = ApiRouter::new().api_route(
        &format!("{context_path}/actuator/health"),
        get_with(digit_runtime::up, |o| {
            o.tag("Health")
                .summary("Spring actuator health (DIGIT's health checks)")
                .response_with::<200, Json<Health>, _>(|r| r.description("The process is up"))
        }),
    );
    document(
        "Persister",
        "egov-persister: a Kafka→Postgres writer running egov-persister YAML configs. Its only \
         HTTP route is the actuator health check.",
        &[context_path],
        routes,
    )
}

/// `persister check <configs…>`: loads and validates configs, prints a summary.
pub fn check(paths: &[String]) -> Result<String, String> {
    if paths.is_empty() {
        return Err("usage: persister check <file-or-folder>[,<…>] [more …]".into());
    }
    let spec = paths.join(",");
    let config = domain::load_configs(&spec).map_err(|e| e.to_string())?;
    let mut out = format!(
        "OK: {} file(s), {} topic(s)\n",
        config.files().len(),
        config.topics().count()
    );
    for topic in config.topics() {
        out.push_str(&format!("  {topic}\n"));
    }
    Ok(out)
}
