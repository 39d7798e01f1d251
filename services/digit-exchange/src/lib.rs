//! DIGIT Exchange: signed messages between domains (spec `upstream-ifix.md` §2).
//!
//! `api` holds `POST {context}/v1/exchange/{type}` and the envelope reader, `domain` the
//! wire models, the routing table (§2.3) and the error reply (§2.7), `service` the edge
//! (intake), the `exchange-topic` consumer (delivery), final failures (errors) and the
//! event log, `security` signatures, seals, replay protection and encryption, `registry`
//! the other domains' keys and their management API.
//!
//! Unlike upstream, every message from another domain is verified at the edge (signature,
//! and for our own peers the seal over the header, the timestamp window and replays),
//! local senders need a token, unknown types and receivers are refused with 400 instead of
//! being dropped, deliveries have timeouts and bounded retries, the Kafka offset is
//! committed only after the delivery or a recorded failure, error replies are signed, and
//! `is_msg_encrypted` really encrypts.

pub mod api;
pub mod domain;
pub mod registry;
pub mod security;
pub mod service;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::ServiceInfo;
use sqlx::migrate::Migrator;
use std::sync::Arc;

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
        service::VARS,
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

/// The exchange as `routes` builds it from the platform's settings, on `registry` (tests
/// use it to call the pipelines directly).
pub fn service(
    platform: &Platform,
    registry: registry::Registry,
) -> anyhow::Result<service::ExchangeService> {
    use anyhow::Context as _;
    let env = &platform.env;
    let settings = service::ExchangeSettings::from_env(env)?;
    let signer = security::signer_from_env(env).context("signing key")?;
    let guard = security::Guard::from_env(registry, env).context("verification settings")?;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("digit-exchange needs a Kafka producer"))?;
    let http_settings = digit_http::HttpSettings {
        retries: 0,
        request_timeout: settings.delivery.timeout,
        ..digit_http::HttpSettings::from_env(env).context("HTTP client settings")?
    };
    let http = digit_http::HttpClient::new("exchange-delivery", &http_settings, &platform.metrics)
        .context("HTTP client")?;
    Ok(service::ExchangeService {
        settings: Arc::new(settings),
        signer: Arc::new(signer),
        guard,
        producer,
        http,
        shutdown: platform.shutdown.clone(),
        metrics: service::metrics::ExchangeMetrics::new(&platform.metrics)?,
    })
}

/// The exchange endpoint (behind its own gate: mixed endpoints, see [`api`]), the registry
/// management API (behind the platform's gate: admin only), their OpenAPI document (open),
/// the topics, and the delivery consumer as a supervised worker.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let registry = registry::start(&platform).await?;
    let service = service(&platform, registry.clone())?;
    let settings = service.settings.clone();
    let topics = [
        (settings.topics.exchange.as_str(), settings.partitions),
        (settings.topics.error.as_str(), 1),
        (settings.topics.events.as_str(), 1),
    ];
    if let Err(e) = digit_kafka::create_topics(&platform.kafka, &topics).await {
        tracing::warn!(error = %e, "Could not create the exchange topics.");
    }
    if !service.guard.validation() {
        tracing::warn!(
            "APP_AUTH_SIGN_VALIDATION=false: messages from other domains are not verified."
        );
    }
    if settings.open_access {
        tracing::warn!("EXCHANGE_OPEN_ACCESS=true: local senders need no token.");
    }
    service::delivery::register_consumer(&platform, &service);

    let context = platform.settings.context_path.clone();
    let mut gate_settings = platform.settings.clone();
    gate_settings
        .mixed_endpoints
        .extend(api::exchange_paths(&context));
    let gate = digit_service::gate::Gate::new(&gate_settings, None).context("auth settings")?;
    Ok(api::router(
        &context,
        service,
        registry,
        gate,
        platform.gate.clone(),
    ))
}
