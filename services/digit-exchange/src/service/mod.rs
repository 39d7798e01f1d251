//! The exchange's pipelines (spec §2.2–§2.7):
//!
//! - [`intake`]: the HTTP edge — route check, who is calling (a local service's token, or
//!   another domain's signature and seal), the Kafka wrapper, the event, the echo;
//! - [`delivery`]: the `exchange-topic` consumer — routing, decryption for local delivery,
//!   encryption + signature + seal for another domain, POST with timeouts and bounded
//!   retries, the offset committed only after delivery or a recorded final failure;
//! - [`errors`]: final failures (§2.7) — a reply goes to `exchange-error-queue`, a request
//!   gets an error reply back to its sender (signed and sealed when it crosses domains);
//! - [`events`]: the `exchange-event-log-queue` record (§2.6).

pub mod delivery;
pub mod errors;
pub mod events;
pub mod intake;
pub mod metrics;

use crate::domain::routing::{self, Endpoints};
use crate::security::{Guard, Signer};
use digit_http::HttpClient;
use digit_kafka::Producer;
use digit_service::config::{Env, EnvVar};
use digit_service::Shutdown;
use std::sync::Arc;
use std::time::Duration;

/// upstream `service.host.url`: this exchange's identity.
pub const SERVICE_HOST_URL: EnvVar = EnvVar {
    name: "SERVICE_HOST_URL",
    aliases: &["EXCHANGE_SERVICE_HOST_URL"],
    default: "http://127.0.0.1:8084/digit-exchange",
    help: "This exchange's identity (upstream service.host.url): its public base URL, context path included. A participant <service>@<this URL> is local (\"same domain\")",
};
/// upstream `app.receiver.endpoints`.
pub const RECEIVER_ENDPOINTS: EnvVar = EnvVar {
    name: "APP_RECEIVER_ENDPOINTS",
    aliases: &[],
    default: r#"{"program":"http://127.0.0.1:8083/program-service/v1/"}"#,
    help: "JSON map of the local services: name (the part of a receiver_id before @) → base URL; messages go to <base>/<message_type>/_<action>",
};
/// upstream `app.exchange.topic.name`.
pub const EXCHANGE_TOPIC: EnvVar = EnvVar {
    name: "APP_EXCHANGE_TOPIC_NAME",
    aliases: &[],
    default: "exchange-topic",
    help: "Topic between the HTTP edge and the delivery consumer ({type, message} wrappers keyed by receiver_id: per-receiver order)",
};
/// upstream `app.error.topic.name`.
pub const ERROR_TOPIC: EnvVar = EnvVar {
    name: "APP_ERROR_TOPIC_NAME",
    aliases: &[],
    default: "exchange-error-queue",
    help: "Topic of messages that could not be delivered nor answered with an error reply (the wrapper, or an unreadable record as it was; header x-exchange-error says why)",
};
/// upstream `app.events.log.topic.name`.
pub const EVENTS_TOPIC: EnvVar = EnvVar {
    name: "APP_EVENTS_LOG_TOPIC_NAME",
    aliases: &[],
    default: "exchange-event-log-queue",
    help: "Topic of the event record of every message received ({signature, header, message as an object}; ciphertext when encrypted)",
};
/// upstream `app.enable.events.log`.
pub const EVENTS_ENABLED: EnvVar = EnvVar {
    name: "APP_ENABLE_EVENTS_LOG",
    aliases: &[],
    default: "true",
    help: "Emit the event record of every message received",
};
/// upstream `spring.kafka.consumer.group-id`.
pub const GROUP_ID: EnvVar = EnvVar {
    name: "EXCHANGE_KAFKA_GROUP_ID",
    aliases: &["SPRING_KAFKA_CONSUMER_GROUP_ID"],
    default: "digit-exchange",
    help: "Consumer group of the delivery consumer",
};
/// Partitions of the exchange topic when this service creates it.
pub const TOPIC_PARTITIONS: EnvVar = EnvVar {
    name: "EXCHANGE_TOPIC_PARTITIONS",
    aliases: &[],
    default: "1",
    help: "Partitions of the exchange topic when the service creates it at start (messages are keyed by receiver_id)",
};
/// Bearer token for local services.
pub const OUTBOUND_TOKEN: EnvVar = EnvVar {
    name: "EXCHANGE_OUTBOUND_TOKEN",
    aliases: &[],
    default: "",
    help: "JWT sent as Authorization: Bearer to the local services (the program service requires role IFIX_EXCHANGE); none when empty",
};
/// Delivery attempts.
pub const DELIVERY_ATTEMPTS: EnvVar = EnvVar {
    name: "EXCHANGE_DELIVERY_ATTEMPTS",
    aliases: &[],
    default: "5",
    help: "Attempts of one delivery (first try included) after HTTP 5xx/408/429, timeouts and connection failures; a 4xx is final at once",
};
/// First backoff.
pub const DELIVERY_BACKOFF_MS: EnvVar = EnvVar {
    name: "EXCHANGE_DELIVERY_BACKOFF_MS",
    aliases: &[],
    default: "500",
    help: "Wait before the second delivery attempt; doubles for each further one",
};
/// Largest backoff.
pub const DELIVERY_BACKOFF_MAX_MS: EnvVar = EnvVar {
    name: "EXCHANGE_DELIVERY_BACKOFF_MAX_MS",
    aliases: &[],
    default: "10000",
    help: "Longest wait between two delivery attempts",
};
/// Per-attempt timeout.
pub const DELIVERY_TIMEOUT_MS: EnvVar = EnvVar {
    name: "EXCHANGE_DELIVERY_TIMEOUT_MS",
    aliases: &[],
    default: "15000",
    help: "How long one delivery attempt may take (connect to last byte; the connect bound is HTTP_CLIENT_CONNECT_TIMEOUT_MS)",
};
/// Messages delivered at once.
pub const DELIVERY_BATCH: EnvVar = EnvVar {
    name: "EXCHANGE_DELIVERY_BATCH",
    aliases: &[],
    default: "16",
    help: "Up to this many already-fetched messages are delivered at once: different message_ids in parallel, the same message_id in order; their offsets are committed together after all of them (1: one at a time)",
};
/// Roles a local sender's token must have one of.
pub const SENDER_ROLES: EnvVar = EnvVar {
    name: "EXCHANGE_SENDER_ROLES",
    aliases: &[],
    default: "IFIX_PROGRAM_SERVICE,IFIX_ADAPTER,SUPERUSER",
    help: "A message whose sender_id is local must come with a token (Authorization: Bearer) holding one of these roles",
};
/// No token needed from local senders.
pub const OPEN_ACCESS: EnvVar = EnvVar {
    name: "EXCHANGE_OPEN_ACCESS",
    aliases: &[],
    default: "false",
    help: "true: local senders need no token, as upstream (only for running upstream's Postman collections; signatures of other domains are still checked)",
};

/// The exchange's own settings (for `INFO.env` and `--help`).
pub const VARS: &[EnvVar] = &[
    SERVICE_HOST_URL,
    RECEIVER_ENDPOINTS,
    EXCHANGE_TOPIC,
    ERROR_TOPIC,
    EVENTS_TOPIC,
    EVENTS_ENABLED,
    GROUP_ID,
    TOPIC_PARTITIONS,
    OUTBOUND_TOKEN,
    DELIVERY_ATTEMPTS,
    DELIVERY_BACKOFF_MS,
    DELIVERY_BACKOFF_MAX_MS,
    DELIVERY_TIMEOUT_MS,
    DELIVERY_BATCH,
    SENDER_ROLES,
    OPEN_ACCESS,
];

/// Topic names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `exchange-topic`.
    pub exchange: String,
    /// `exchange-error-queue`.
    pub error: String,
    /// `exchange-event-log-queue`.
    pub events: String,
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts, the first included (≥ 1).
    pub attempts: u32,
    /// Wait before the second attempt.
    pub backoff: Duration,
    /// Longest wait.
    pub backoff_max: Duration,
    /// Bound of one attempt.
    pub timeout: Duration,
}

impl DeliveryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn wait(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor).min(self.backoff_max)
    }
}

/// Settings read once at start.
#[derive(Debug, Clone)]
pub struct ExchangeSettings {
    /// `service.host.url` as configured.
    pub host_url: String,
    /// Local services.
    pub endpoints: Endpoints,
    /// Topics.
    pub topics: Topics,
    /// Whether events are emitted.
    pub events_enabled: bool,
    /// Consumer group.
    pub group_id: String,
    /// Exchange topic partitions (when created).
    pub partitions: i32,
    /// Bearer token for local services.
    pub outbound_token: Option<String>,
    /// Retries.
    pub delivery: DeliveryPolicy,
    /// Messages delivered at once (≥ 1).
    pub batch: usize,
    /// Roles of local senders.
    pub sender_roles: Vec<String>,
    /// Local senders need no token.
    pub open_access: bool,
}

impl ExchangeSettings {
    /// Reads [`VARS`].
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let host_url = env.get_or_default(&SERVICE_HOST_URL).trim().to_owned();
        anyhow::ensure!(
            digit_core::participant::host_url(&host_url).is_some(),
            "SERVICE_HOST_URL must be an http(s) URL"
        );
        let endpoints = routing::parse_endpoints(&env.get_or_default(&RECEIVER_ENDPOINTS))
            .map_err(|e| anyhow::anyhow!("APP_RECEIVER_ENDPOINTS: {e}"))?;
        let ms = |var: &EnvVar| -> anyhow::Result<Duration> {
            Ok(Duration::from_millis(
                env.parse::<u64>(var).context(var.name)?,
            ))
        };
        let attempts: u32 = env
            .parse(&DELIVERY_ATTEMPTS)
            .context("EXCHANGE_DELIVERY_ATTEMPTS")?;
        anyhow::ensure!(
            attempts >= 1,
            "EXCHANGE_DELIVERY_ATTEMPTS must be at least 1"
        );
        let batch: usize = env
            .parse(&DELIVERY_BATCH)
            .context("EXCHANGE_DELIVERY_BATCH")?;
        anyhow::ensure!(batch >= 1, "EXCHANGE_DELIVERY_BATCH must be at least 1");
        let partitions: i32 = env
            .parse(&TOPIC_PARTITIONS)
            .context("EXCHANGE_TOPIC_PARTITIONS")?;
        anyhow::ensure!(
            partitions >= 1,
            "EXCHANGE_TOPIC_PARTITIONS must be at least 1"
        );
        Ok(Self {
            host_url,
            endpoints,
            topics: Topics {
                exchange: env.get_or_default(&EXCHANGE_TOPIC),
                error: env.get_or_default(&ERROR_TOPIC),
                events: env.get_or_default(&EVENTS_TOPIC),
            },
            events_enabled: env.flag(&EVENTS_ENABLED).context("APP_ENABLE_EVENTS_LOG")?,
            group_id: env.get_or_default(&GROUP_ID),
            partitions,
            outbound_token: env.get(&OUTBOUND_TOKEN).map(|t| t.trim().to_owned()),
            delivery: DeliveryPolicy {
                attempts,
                backoff: ms(&DELIVERY_BACKOFF_MS)?,
                backoff_max: ms(&DELIVERY_BACKOFF_MAX_MS)?,
                timeout: ms(&DELIVERY_TIMEOUT_MS)?,
            },
            batch,
            sender_roles: env.list(&SENDER_ROLES),
            open_access: env.flag(&OPEN_ACCESS).context("EXCHANGE_OPEN_ACCESS")?,
        })
    }

    /// Whether `participant` (a sender or receiver id) is on this exchange.
    pub fn is_local(&self, participant: &str) -> bool {
        digit_core::participant::same_domain(participant, &self.host_url)
    }
}

/// The exchange: everything the edge and the consumer need. Cheap to clone.
#[derive(Clone)]
pub struct ExchangeService {
    /// Settings.
    pub settings: Arc<ExchangeSettings>,
    /// This exchange's signing key (signatures, seals, decryption).
    pub signer: Arc<Signer>,
    /// Inbound checks (registry, replay table).
    pub guard: Guard,
    /// The acknowledged producer.
    pub producer: Producer,
    /// The outbound client (no retries of its own: [`DeliveryPolicy`] retries).
    pub http: HttpClient,
    /// Stops retry waits on shutdown (the message is then left uncommitted).
    pub shutdown: Shutdown,
    /// Counters.
    pub metrics: metrics::ExchangeMetrics,
}

impl std::fmt::Debug for ExchangeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Now, epoch milliseconds.
pub fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_and_backoff() {
        let s =
            ExchangeSettings::from_env(&Env::from_pairs::<[(&str, &str); 0], _, _>([])).unwrap();
        assert_eq!(s.host_url, "http://127.0.0.1:8084/digit-exchange");
        assert_eq!(
            s.endpoints["program"],
            "http://127.0.0.1:8083/program-service/v1/"
        );
        assert_eq!(s.topics.exchange, "exchange-topic");
        assert_eq!(s.topics.error, "exchange-error-queue");
        assert_eq!(s.topics.events, "exchange-event-log-queue");
        assert!(s.events_enabled && !s.open_access);
        assert_eq!(s.group_id, "digit-exchange");
        assert_eq!(s.delivery.attempts, 5);
        assert_eq!(s.delivery.wait(1), Duration::from_millis(500));
        assert_eq!(s.delivery.wait(3), Duration::from_millis(2000));
        assert_eq!(s.delivery.wait(30), Duration::from_secs(10));
        assert_eq!(
            s.sender_roles,
            ["IFIX_PROGRAM_SERVICE", "IFIX_ADAPTER", "SUPERUSER"]
        );
        assert!(s.is_local("program@http://127.0.0.1:8084/digit-exchange/"));
        assert!(!s.is_local("program@http://127.0.0.1:8094/digit-exchange"));
        let env = Env::from_pairs([
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", "g"),
            ("EXCHANGE_DELIVERY_ATTEMPTS", "0"),
        ]);
        assert!(ExchangeSettings::from_env(&env).is_err());
        let env = Env::from_pairs([("APP_RECEIVER_ENDPOINTS", "{\"program\": 1}")]);
        assert!(ExchangeSettings::from_env(&env).is_err());
        let env = Env::from_pairs([("SPRING_KAFKA_CONSUMER_GROUP_ID", "g")]);
        assert_eq!(ExchangeSettings::from_env(&env).unwrap().group_id, "g");
    }
}
