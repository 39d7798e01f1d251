//! PGR: citizen complaints, wire-compatible with pgr-services.
//!
//! The binary starts through `digit-runtime`: settings, Postgres and migrations, MDMS, the
//! auth gate, Kafka, `/pgr-services/health` and `/pgr-services/metrics`. In standalone mode
//! it also serves the embedded workflow engine under `/egov-workflow-v2` (the DIGIT UI calls
//! it directly); with `EGOV_WORKFLOW_HOST` set, an upstream egov-workflow-v2 is used instead.
//! The complaint endpoints are added by the PGR issue; none are faked here.

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, ServiceInfo};
use sqlx::migrate::Migrator;

/// This service's tables (`migrations/pgr/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/pgr");

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "pgr",
    description: "PGR: citizen complaints, wire-compatible with pgr-services.",
    default_port: 8081,
    default_context_path: "/pgr-services",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        digit_workflow::WORKFLOW_VARS,
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[
        &MIGRATOR,
        &digit_store::IDGEN_MIGRATOR,
        &digit_workflow::WORKFLOW_MIGRATOR,
        &digit_user::USER_MIGRATOR,
    ],
    kafka: true,
    platform_apis: true,
};

/// The service's business routes (full paths under the context path), plus the embedded
/// workflow API unless a remote workflow is configured.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    let mut routes = Router::new();
    if digit_workflow::RemoteWorkflow::from_env().is_none() {
        let producer = platform
            .producer
            .clone()
            .ok_or_else(|| anyhow::anyhow!("pgr needs a Kafka producer"))?;
        let workflow = digit_workflow::engine::embedded_from_env(
            &Env::process(),
            platform.pool.clone(),
            platform.mdms.clone(),
            producer,
        )
        .await?;
        routes = routes.merge(digit_workflow::api::router(workflow));
    }
    Ok(platform.protect(routes))
}
