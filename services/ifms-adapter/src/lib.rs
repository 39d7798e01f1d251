//! IFMS adapter: the MUKTA bridge to the JIT treasury system.
//!
//! The binary starts through `digit-runtime`: settings, Postgres and migrations, MDMS, the
//! auth gate, Kafka, `/ifms/health` and `/ifms/metrics`. Business endpoints are added
//! by the issue that builds this service; none are faked here.

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::ServiceInfo;
use sqlx::migrate::Migrator;

/// This service's tables (`migrations/ifms-adapter/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/ifms-adapter");

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "ifms-adapter",
    description: "IFMS adapter: the MUKTA bridge to the JIT treasury system.",
    default_port: 8085,
    default_context_path: "/ifms",
    env: &[digit_runtime::KAFKA_VARS, digit_runtime::MDMS_VARS],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[&MIGRATOR, &digit_store::IDGEN_MIGRATOR],
    kafka: true,
    platform_apis: true,
    auth: true,
    mdms: true,
};

/// The service's business routes (full paths under the context path).
pub async fn routes(_platform: Platform) -> anyhow::Result<Router> {
    Ok(Router::new())
}
