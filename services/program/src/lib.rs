//! iFIX program-service: programs, sanctions, allocations and disbursements — the money
//! ledger between a works department and the treasury (spec `upstream-ifix.md` §1).
//!
//! `api` holds the sixteen endpoints and the envelope reader, `domain` the wire models,
//! error catalogue and participant identities, `store` the SQL (entities, the ledger, the
//! inbox, PII encryption), `service` the pipelines. Unlike upstream, every state change is
//! one Postgres transaction with its ledger rows, its inbox answer and its outbound
//! messages (a transactional outbox delivered by a supervised relay), so a crash can
//! neither lose nor repeat a rupee or a message.

pub mod api;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{EnvVar, ServiceInfo};
use sqlx::migrate::Migrator;
use std::sync::Arc;

/// This service's tables (`migrations/program/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/program");

/// Open access (only to run upstream's Postman collections).
pub const OPEN_ACCESS: EnvVar = EnvVar {
    name: "PROGRAM_OPEN_ACCESS",
    aliases: &[],
    default: "false",
    help: "true: no authentication or authorization on the program endpoints, as upstream (only for running upstream's Postman collections; never in production)",
};

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "program",
    description: "iFIX program-service: programs, sanctions, allocations and disbursements.",
    default_port: 8083,
    default_context_path: "/program-service",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        digit_outbox::OUTBOX_VARS,
        service::VARS,
        service::intake::INTAKE_VARS,
        &[OPEN_ACCESS],
        digit_ifix_masters::VARS,
        digit_store::commit::COMMIT_VARS,
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[
        &MIGRATOR,
        &digit_store::IDGEN_MIGRATOR,
        &digit_outbox::OUTBOX_MIGRATOR,
        &digit_ifix_masters::MIGRATOR,
    ],
    kafka: true,
    platform_apis: true,
    auth: true,
    mdms: true,
};

/// The service as `routes` builds it from the platform's settings (tests use it to call
/// the pipelines directly). `PROGRAM_OPEN_ACCESS=true` leaves out the authorizer.
pub async fn service(platform: &Platform) -> anyhow::Result<service::ProgramService> {
    use anyhow::Context as _;
    let env = &platform.env;
    let settings = service::ProgramSettings::from_env(env)?;
    let pii = store::pii::PiiCipher::from_config(
        &env.get(&service::PII_KEYS)
            .context("PROGRAM_PII_KEYS is required (id:base64 32-byte key)")?,
    )?;
    let open: bool = env.parse(&OPEN_ACCESS).context("PROGRAM_OPEN_ACCESS")?;
    let idgen = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?,
    ));
    Ok(service::ProgramService {
        pool: platform.pool.clone(),
        mdms: platform.mdms.clone(),
        idgen,
        pii,
        settings: Arc::new(settings),
        authorizer: if open {
            None
        } else {
            platform.gate.authorizer()
        },
        intake: service::intake::IntakeSettings::from_env(env)?,
        producer: platform.producer.clone(),
    })
}

/// The program routes; the outbox relay (and, when an aggregate is asynchronous, the
/// intake consumer) as supervised workers.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let open: bool = platform
        .env
        .parse(&OPEN_ACCESS)
        .context("PROGRAM_OPEN_ACCESS")?;
    let service = service(&platform).await?;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("program needs a Kafka producer"))?;
    let settings = &service.settings;
    let mut topics: Vec<&str> = vec![
        &settings.topics.program,
        &settings.topics.sanction,
        &settings.topics.allocation,
        &settings.topics.disburse,
    ];
    if service.intake.any() {
        topics.extend(service.intake.topics());
        topics.push(&service.intake.error_topic);
    }
    let topics: Vec<(&str, i32)> = topics.into_iter().map(|t| (t, 1)).collect();
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &topics).await {
        tracing::warn!(error = %e, "Could not create the program topics.");
    }
    if open {
        tracing::warn!("PROGRAM_OPEN_ACCESS=true: the program endpoints accept anyone.");
    }
    service::dispatch::register_relay(&platform, &service, producer.clone())?;
    service::intake::register_consumer(&platform, &service, producer.clone())?;
    // The OpenAPI documents (`<context>/openapi.json`, `<context>/docs`) are open.
    let documented = api::router(&platform.settings.context_path, service);
    let routes = if open {
        documented.into_router()
    } else {
        documented.protected(|r| platform.protect(r))
    };
    Ok(match masters(&platform, producer).await? {
        // Always behind the gate: their audit names the authenticated caller.
        Some(masters) => routes
            .merge(digit_ifix_masters::api::router(masters).protected(|r| platform.protect(r))),
        None => routes,
    })
}

/// The iFIX master data this binary serves (`IFIX_MASTERS_ENABLED`), with its topics
/// created and a commit watcher for read-your-writes.
pub async fn masters(
    platform: &Platform,
    producer: digit_kafka::Producer,
) -> anyhow::Result<Option<digit_ifix_masters::Masters>> {
    use anyhow::Context as _;
    let Some(settings) = digit_ifix_masters::MastersSettings::from_env(&platform.env)? else {
        tracing::info!("iFIX master data APIs disabled (IFIX_MASTERS_ENABLED=false).");
        return Ok(None);
    };
    let topics: Vec<(&str, i32)> = settings.topics.all().into_iter().map(|t| (t, 1)).collect();
    // A cluster may forbid topic creation (its topics then exist already): go on, seen.
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &topics).await {
        digit_service::metrics::degraded("ifix_masters_topics_create", &e);
    }
    let commits = if settings.await_persister {
        Some(
            digit_store::commit::CommitWatcher::start(
                platform.pool.clone(),
                digit_store::commit::CommitSettings::from_env(&platform.env)
                    .context("read-your-writes settings")?,
                &platform.metrics,
            )
            .await
            .context("commit watcher")?,
        )
    } else {
        None
    };
    Ok(Some(digit_ifix_masters::Masters {
        pool: platform.pool.clone(),
        mdms: platform.mdms.clone(),
        producer,
        commits,
        settings: Arc::new(settings),
        state_level_length: platform.settings.state_level_length,
    }))
}
