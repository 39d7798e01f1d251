//! The readiness checks the runtime registers: Postgres (a query) and the broker (a
//! metadata fetch with a short timeout). Workers report themselves (see `workers`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use digit_kafka::KafkaSettings;
use digit_service::readiness::{CheckOutcome, ReadinessCheck};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use sqlx::PgPool;

/// `postgres`: `SELECT 1` on the service's pool.
#[derive(Debug, Clone)]
pub struct PostgresCheck {
    /// The pool.
    pub pool: PgPool,
}

#[async_trait]
impl ReadinessCheck for PostgresCheck {
    fn name(&self) -> &str {
        "postgres"
    }

    async fn check(&self) -> Vec<CheckOutcome> {
        let outcome = match sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&self.pool)
            .await
        {
            Ok(_) => CheckOutcome::up("postgres"),
            Err(e) => CheckOutcome::down("postgres", format!("query failed: {e}")),
        };
        vec![outcome]
    }
}

/// `kafka`: fetches the cluster metadata with a short timeout, on one long-lived client.
#[derive(Clone)]
pub struct KafkaCheck {
    client: Arc<BaseConsumer>,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaCheck")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KafkaCheck {
    /// A metadata client for `settings` (brokers and extra properties, e.g. security).
    pub fn new(
        settings: &KafkaSettings,
        timeout: Duration,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", format!("{}-readiness", settings.client_id));
        for (k, v) in &settings.extra {
            config.set(k, v);
        }
        Ok(Self {
            client: Arc::new(config.create()?),
            timeout,
        })
    }
}

#[async_trait]
impl ReadinessCheck for KafkaCheck {
    fn name(&self) -> &str {
        "kafka"
    }

    async fn check(&self) -> Vec<CheckOutcome> {
        let client = self.client.clone();
        let timeout = self.timeout;
        // fetch_metadata blocks on librdkafka.
        let result = tokio::task::spawn_blocking(move || {
            client
                .fetch_metadata(None, timeout)
                .map(|m| m.brokers().len())
        })
        .await;
        let outcome = match result {
            Ok(Ok(n)) if n > 0 => CheckOutcome::up("kafka"),
            Ok(Ok(_)) => CheckOutcome::down("kafka", "metadata lists no broker"),
            Ok(Err(e)) => CheckOutcome::down("kafka", format!("metadata fetch failed: {e}")),
            Err(e) => CheckOutcome::down("kafka", format!("check task failed: {e}")),
        };
        vec![outcome]
    }
}
