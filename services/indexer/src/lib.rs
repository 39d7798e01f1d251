//! Indexer: a Kafka→Elasticsearch writer that reads egov-indexer YAML configs.
//!
//! The binary starts through `digit-runtime`: settings, Postgres and migrations, Kafka
//! (no authentication or master data: it needs neither a JWT key nor `configs/mdms`), `/egov-indexer/health` and `/egov-indexer/metrics`. At start it checks
//! that Elasticsearch answers; without it the indexer stays idle (DESIGN.md "Two ways to
//! run"). Indexing itself comes with the indexer issue; nothing is faked here.

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::Elasticsearch;
use sqlx::migrate::Migrator;

pub mod dashboard;

/// This service's tables (`migrations/indexer/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/indexer");

/// Elasticsearch base URL.
pub const ELASTICSEARCH_URL: EnvVar = EnvVar {
    name: "ELASTICSEARCH_URL",
    aliases: &["EGOV_INFRA_INDEXER_HOST"],
    default: "http://127.0.0.1:9200",
    help: "Elasticsearch (or OpenSearch-compatible) base URL",
};

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "indexer",
    description: "Indexer: a Kafka→Elasticsearch writer that reads egov-indexer YAML configs.",
    default_port: 8087,
    default_context_path: "/egov-indexer",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::DB_VARS,
        &[ELASTICSEARCH_URL],
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[&MIGRATOR],
    kafka: true,
    platform_apis: false,
    auth: false,
    mdms: false,
};

/// A client for the configured Elasticsearch.
pub fn elasticsearch_client(url: &str) -> anyhow::Result<Elasticsearch> {
    let url = elasticsearch::http::Url::parse(url)?;
    let transport = TransportBuilder::new(SingleNodeConnectionPool::new(url))
        .disable_proxy()
        .build()?;
    Ok(Elasticsearch::new(transport))
}

/// True when Elasticsearch answers its root endpoint.
pub async fn elasticsearch_reachable(client: &Elasticsearch) -> bool {
    match client.info().send().await {
        Ok(response) => response.status_code().is_success(),
        Err(e) => {
            tracing::debug!(error = %e, "Elasticsearch info call failed.");
            false
        }
    }
}

/// The service's business routes (none yet); checks Elasticsearch in the background.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    let url = Env::process().get_or_default(&ELASTICSEARCH_URL);
    let client = elasticsearch_client(&url)?;
    tokio::spawn(async move {
        if elasticsearch_reachable(&client).await {
            tracing::info!(%url, "Elasticsearch is reachable.");
        } else {
            tracing::warn!(%url, "Elasticsearch is not reachable; the indexer stays idle until it is.");
        }
    });
    Ok(Router::new().merge(dashboard::routes(&platform)?))
}
