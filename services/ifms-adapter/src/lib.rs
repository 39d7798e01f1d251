//! IFMS adapter: the MUKTA bridge to Odisha's JIT-FS treasury (spec
//! `upstream-ifms-sor.md` part A). It pulls fund allotments (VA) into sanctions and funds
//! summaries, turns the treasury-side program service's disbursements into payment
//! instructions (PI) posted to JIT, follows them to their end (PIS → PAG → PD, FD, and
//! correction PIs through COR → FTPS/FTFPS), and reports every change back to the program
//! service. The payment path does the same for MUKTA's expense payments
//! (`expense-payment-create`, `/pi/v1/_create`, PA) and moves the expense payment with its PI.
//!
//! `api` holds the endpoints, `domain` the rules and wire models (no I/O), `store` the SQL
//! (the funds ledger is the only code that changes a balance), `service` the pipelines,
//! pollers and scheduler, and the treasury client wrapper. Unlike upstream (part C.1) every
//! change of money is a guarded relative update in the transaction of its ledger row, PIs and
//! allotments are unique, one PI of a payment is in flight at a time, callbacks go through
//! a transactional outbox, dates are India time and key material is never logged.

pub mod api;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use anyhow::Context as _;
use axum::Router;
use digit_runtime::{Needs, OnCrash, Platform};
use digit_service::config::ServiceInfo;
use service::treasury::{JitTreasury, MockTreasury, Treasury};
use service::{AdapterService, AdapterSettings};
use sqlx::migrate::Migrator;
use std::sync::Arc;

/// This service's tables (`migrations/ifms-adapter/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/ifms-adapter");

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "ifms-adapter",
    description: "IFMS adapter: the MUKTA bridge to the JIT treasury system.",
    default_port: 8085,
    default_context_path: "/ifms",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        digit_outbox::OUTBOX_VARS,
        digit_jit::JIT_VARS,
        service::VARS,
        service::jobs::JOB_VARS,
        service::mukta::MUKTA_VARS,
        service::payment::consumer::CONSUMER_VARS,
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[
        &MIGRATOR,
        &digit_store::IDGEN_MIGRATOR,
        &digit_outbox::OUTBOX_MIGRATOR,
        &digit_jobs::JOBS_MIGRATOR,
    ],
    kafka: true,
    platform_apis: true,
    auth: true,
    mdms: true,
};

/// The service built from the platform's settings with `treasury` (tests pass their own
/// client; [`routes`] uses [`treasury`]).
pub fn service_with(
    platform: &Platform,
    treasury: Arc<dyn Treasury>,
) -> anyhow::Result<AdapterService> {
    let env = &platform.env;
    let settings = AdapterSettings::from_env(env, &platform.settings.state_tenant)?;
    let pii = digit_store::PiiCipher::from_config(
        &env.get(&service::PII_KEYS)
            .context("IFMS_PII_KEYS is required (id:base64 32-byte key)")?,
    )?;
    let idgen = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?,
    ));
    Ok(AdapterService {
        pool: platform.pool.clone(),
        mdms: platform.mdms.clone(),
        idgen,
        treasury,
        pii,
        settings: Arc::new(settings),
        authorizer: platform.gate.authorizer(),
        http: digit_http::HttpClient::from_env("program-service", env, &platform.metrics)?,
        mukta: service::mukta::Mukta::from_env(
            env,
            digit_http::HttpClient::from_env("mukta", env, &platform.metrics)?,
        )?,
    })
}

/// The JIT client from `IFMS_JIT_*` (through the suite's HTTP client), with upstream's mock
/// mode for the tenants of `IFMS_JIT_MOCK_ENABLED_TENANTS` when enabled.
pub fn treasury(platform: &Platform) -> anyhow::Result<Arc<dyn Treasury>> {
    let env = &platform.env;
    let settings = digit_jit::JitSettings::from_env(env)?;
    let http = digit_http::HttpClient::from_env("jit", env, &platform.metrics)?;
    let client = digit_jit::JitClient::new(settings, http)?;
    let adapter = AdapterSettings::from_env(env, &platform.settings.state_tenant)?;
    let mock = (!adapter.mock_tenants.is_empty())
        .then(|| MockTreasury::new(platform.mdms.clone(), adapter.mock_tenants.clone()));
    if mock.is_some() {
        tracing::warn!(tenants = ?adapter.mock_tenants, "IFMS_JIT_MOCK_ENABLED: these tenants are answered from MDMS, not JIT.");
    }
    Ok(Arc::new(JitTreasury::new(Arc::new(client), mock)))
}

/// The routes, the outbox relay and the pollers' timers as supervised workers.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    let treasury = treasury(&platform)?;
    Ok(assemble(&platform, treasury).await?.routes)
}

/// What [`assemble`] builds.
pub struct Assembled {
    /// The routes behind the gate, and their OpenAPI document (open).
    pub routes: Router,
    /// The pipelines (tests call them directly).
    pub service: AdapterService,
    /// The pollers' runners.
    pub scheduler: service::jobs::Scheduler,
}

/// The service on `treasury`: topics, the outbox relay and the timed pollers registered as
/// workers, and the routes behind the gate.
pub async fn assemble(
    platform: &Platform,
    treasury: Arc<dyn Treasury>,
) -> anyhow::Result<Assembled> {
    let service = service_with(platform, treasury)?;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("ifms-adapter needs a Kafka producer"))?;
    let payment_topic = platform
        .env
        .get_or_default(&service::payment::consumer::PAYMENT_CREATE_TOPIC);
    let error_topic = platform
        .env
        .get_or_default(&service::payment::consumer::ERROR_QUEUE_TOPIC);
    let mut topics = vec![
        (service.settings.index_topic.as_str(), 1),
        (error_topic.as_str(), 1),
    ];
    if !payment_topic.trim().is_empty() {
        topics.push((payment_topic.as_str(), 1));
    }
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &topics).await {
        tracing::warn!(error = %e, "Could not create the IFMS topics.");
    }
    register_workers(platform, &service, producer.clone())?;
    service::payment::consumer::register(platform, &service, producer, &platform.env);
    let scheduler = service::jobs::Scheduler::new(
        &service,
        &platform.env,
        Some(digit_jobs::JobMetrics::new(&platform.metrics)?),
    )?;
    for runner in scheduler.timed() {
        let runner = runner.clone();
        let name = runner.name().to_owned();
        platform
            .workers
            .register(&name, OnCrash::default(), move |shutdown| {
                let runner = runner.clone();
                async move { runner.run(shutdown).await }
            });
    }
    let routes = api::router(
        &platform.settings.context_path,
        service.clone(),
        scheduler.clone(),
    )
    .protected(|r| platform.protect(r));
    Ok(Assembled {
        routes,
        service,
        scheduler,
    })
}

/// The outbox relay of this service's rows.
pub fn register_workers(
    platform: &Platform,
    service: &AdapterService,
    producer: digit_kafka::Producer,
) -> anyhow::Result<()> {
    let settings = digit_outbox::OutboxSettings::from_env(&platform.env)?;
    let metrics = digit_outbox::OutboxMetrics::new(&platform.metrics)?;
    let relay = digit_outbox::Relay::new(service.pool.clone(), Some(producer), settings, metrics)?
        .for_source(service::callbacks::OUTBOX_SOURCE);
    platform
        .workers
        .register("ifms-outbox", OnCrash::default(), move |shutdown| {
            let relay = relay.clone();
            async move { relay.run(shutdown).await }
        });
    Ok(())
}
