//! DIGIT Exchange: signed messages between domains.
//!
//! The binary starts through `digit-runtime`: settings, Postgres and migrations, MDMS, the
//! auth gate, Kafka, `/digit-exchange/health` and `/digit-exchange/metrics`. Business endpoints are added
//! by the issue that builds this service; none are faked here.

pub mod registry;
pub mod security;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::ServiceInfo;
use sqlx::migrate::Migrator;

/// This service's tables (`migrations/digit-exchange/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/digit-exchange");

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "digit-exchange",
    description: "DIGIT Exchange: signed messages between domains.",
    default_port: 8084,
    default_context_path: "/digit-exchange",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        security::VARS,
        registry::VARS,
    ],
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
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    let registry = registry::start(&platform).await?;
    let registry_api = registry::api::routes(&platform.settings.context_path, registry);
    Ok(platform.protect(registry_api))
}
