//! SOR & rates: Works schedules of rates and their dated rates (the SOR/Rates v1 contract,
//! with the validity rules MUKTA v2 applies and fixes for its bugs).
//!
//! `api` holds the routes, `domain` the models and rules, `store` the reads, `service` the
//! pipelines. Writes go through Kafka and the persister (`configs/persister/
//! sor-rates-persister.yml`), one message per request (all items or none), and answer after
//! the commit. Every record is read and written by (tenant, id), and the caller is authorized
//! for each record's tenant. Creates and updates of the same record are serialized with
//! advisory locks, and `eg_sor_rate` has an exclusion constraint, so active rates never
//! overlap: validity is `[validFrom, validTo)`.

pub mod api;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_store::commit::{CommitSettings, CommitWatcher};
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
/// New SORs.
pub const SAVE_SOR_TOPIC: EnvVar = EnvVar {
    name: "SOR_KAFKA_SAVE_SOR_TOPIC",
    aliases: &[],
    default: "save-sor",
    help: "Topic of new SORs (the persister writes them)",
};
/// SOR updates.
pub const UPDATE_SOR_TOPIC: EnvVar = EnvVar {
    name: "SOR_KAFKA_UPDATE_SOR_TOPIC",
    aliases: &[],
    default: "update-sor",
    help: "Topic of SOR updates",
};
/// New rates.
pub const SAVE_RATE_TOPIC: EnvVar = EnvVar {
    name: "SOR_KAFKA_SAVE_RATE_TOPIC",
    aliases: &[],
    default: "save-sor-rate",
    help: "Topic of new rates (with the predecessors they close)",
};
/// Rate updates.
pub const UPDATE_RATE_TOPIC: EnvVar = EnvVar {
    name: "SOR_KAFKA_UPDATE_RATE_TOPIC",
    aliases: &[],
    default: "update-sor-rate",
    help: "Topic of rate updates",
};
/// New compositions.
pub const SAVE_COMPOSITION_TOPIC: EnvVar = EnvVar {
    name: "SOR_KAFKA_SAVE_COMPOSITION_TOPIC",
    aliases: &[],
    default: "save-sor-composition",
    help: "Topic of new compositions",
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
        digit_store::commit::COMMIT_VARS,
        &[
            TIME_ZONE,
            SAVE_SOR_TOPIC,
            UPDATE_SOR_TOPIC,
            SAVE_RATE_TOPIC,
            UPDATE_RATE_TOPIC,
            SAVE_COMPOSITION_TOPIC,
        ],
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

/// The SOR and rate routes. Settings come from `platform.env`.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let env: &Env = &platform.env;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("sor-rates needs a Kafka producer"))?;
    let settings = service::SorSettings {
        time_zone: digit_store::idgen::parse_timezone(&env.get_or_default(&TIME_ZONE))
            .context("SOR_TIME_ZONE")?,
        save_sor_topic: env.get_or_default(&SAVE_SOR_TOPIC),
        update_sor_topic: env.get_or_default(&UPDATE_SOR_TOPIC),
        save_rate_topic: env.get_or_default(&SAVE_RATE_TOPIC),
        update_rate_topic: env.get_or_default(&UPDATE_RATE_TOPIC),
        save_composition_topic: env.get_or_default(&SAVE_COMPOSITION_TOPIC),
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
    // Its own connections: requests waiting inside a locked transaction cannot starve it.
    let commits = CommitWatcher::start(
        platform.pool.clone(),
        CommitSettings::from_env(env).context("read-your-writes settings")?,
        &platform.metrics,
    )
    .await
    .context("commit watcher")?;
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
        authorizer: platform.gate.authorizer(),
    };
    Ok(api::router(&platform.settings.context_path, service).protected(|r| platform.protect(r)))
}
