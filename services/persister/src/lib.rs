//! Persister: a Kafka→Postgres writer that reads egov-persister YAML configs.
//!
//! The binary starts through `digit-runtime`: settings, Postgres and migrations, MDMS, the
//! auth gate, Kafka, `/common-persist/health` and `/common-persist/metrics`. Business endpoints are added
//! by the issue that builds this service; none are faked here.

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::ServiceInfo;
use sqlx::migrate::Migrator;

/// This service's tables (`migrations/persister/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/persister");

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "persister",
    description: "Persister: a Kafka→Postgres writer that reads egov-persister YAML configs.",
    default_port: 8086,
    default_context_path: "/common-persist",
    env: &[digit_runtime::KAFKA_VARS, digit_runtime::MDMS_VARS],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs { migrators: &[&MIGRATOR], kafka: true, platform_apis: false };

/// The service's business routes (full paths under the context path).
pub async fn routes(_platform: Platform) -> anyhow::Result<Router> {
    Ok(Router::new())
}
