//! SOR & rates: Works schedules of rates and their dated rates (the SOR/Rates v1 contract,
//! with the validity rules MUKTA v2 applies and fixes for its bugs).
//!
//! `api` holds the routes, `domain` the models and rules, `store` the reads, `service` the
//! pipelines. Writes go through Kafka and the persister (`configs/persister/
//! sor-rates-persister.yml`) and answer after the commit. Rates of one SOR are serialized
//! with an advisory lock, and `eg_sor_rate` has an exclusion constraint, so active rates
//! never overlap: validity is `[validFrom, validTo)`.

pub mod api;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_store::commit::CommitWatcher;
use sqlx::migrate::Migrator;
use std::sync::Arc;

/// This service's tables (`migrations/sor-rates/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sor-rates");

/// Time zone of rate days.
pub const TIME_ZONE: EnvVar = EnvVar {
    name: "SOR_TIME_ZONE",
    aliases: &[],
    default: "Asia/Kolkata",
    help: "Time zone whose midnight starts a rate's validFrom day",
};
/// The persister group whose commits are awaited.
pub const PERSISTER_GROUP: EnvVar = EnvVar {
    name: "PERSISTER_GROUP_ID",
    aliases: &[],
    default: "egov-infra-persist",
    help: "Consumer group of the persister that writes the SOR tables",
};

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "sor-rates",
    description: "SOR & rates: Works schedules of rates and their dated rates.",
    default_port: 8082,
    default_context_path: "/sor-rates",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        &[TIME_ZONE, PERSISTER_GROUP],
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

/// The SOR and rate routes.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let env = Env::process();
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("sor-rates needs a Kafka producer"))?;
    let settings = service::SorSettings {
        time_zone: digit_store::idgen::parse_timezone(&env.get_or_default(&TIME_ZONE))
            .context("SOR_TIME_ZONE")?,
        ..service::SorSettings::default()
    };
    let topics = [
        (settings.save_sor_topic.as_str(), 1),
        (settings.update_sor_topic.as_str(), 1),
        (settings.save_rate_topic.as_str(), 1),
        (settings.update_rate_topic.as_str(), 1),
        (settings.save_composition_topic.as_str(), 1),
    ];
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &topics).await {
        tracing::warn!(error = %e, "Could not create the SOR topics.");
    }
    // Its own small pool: requests hold connections while they wait for the persister.
    let watcher_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with((*platform.pool.connect_options()).clone())
        .await
        .context("commit watcher pool")?;
    let commits = CommitWatcher::start(watcher_pool, env.get_or_default(&PERSISTER_GROUP)).await?;
    let idgen = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?,
    ));
    let service = service::SorService {
        pool: platform.pool.clone(),
        mdms: platform.mdms.clone(),
        idgen,
        producer,
        commits,
        settings,
    };
    Ok(platform.protect(api::router(&platform.settings.context_path, service)))
}
