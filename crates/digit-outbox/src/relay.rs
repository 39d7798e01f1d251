//! The relay: claims due rows, delivers them, records the outcome.

use std::sync::Arc;

use digit_kafka::Producer;
use digit_service::Shutdown;
use prometheus::{IntCounterVec, Opts};
use sqlx::PgPool;

use crate::http::{DeliveryFailure, HttpRequest, HttpSender, OutboundSender};
use crate::message::{HTTP_IDEMPOTENCY_HEADER, KAFKA_IDEMPOTENCY_HEADER};
use crate::{now_ms, OutboxError, OutboxSettings};

/// The relay's Prometheus counters, labelled by `kind` (`kafka` or `http`).
#[derive(Clone, Debug)]
pub struct OutboxMetrics {
    /// `outbox_delivered_total`: rows delivered and marked.
    pub delivered: IntCounterVec,
    /// `outbox_failed_attempts_total`: delivery attempts that failed (retried or dead).
    pub failed_attempts: IntCounterVec,
    /// `outbox_dead_total`: rows given up on.
    pub dead: IntCounterVec,
    /// The service registry they live in (the HTTP sender records its calls there too).
    pub registry: digit_service::Metrics,
}

impl OutboxMetrics {
    /// The counters, registered in `metrics` (the service's registry).
    pub fn new(metrics: &digit_service::Metrics) -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["kind"]);
        let this = Self {
            delivered: counter("outbox_delivered_total", "Outbox rows delivered")?,
            failed_attempts: counter(
                "outbox_failed_attempts_total",
                "Outbox delivery attempts that failed",
            )?,
            dead: counter(
                "outbox_dead_total",
                "Outbox rows marked dead after their last attempt",
            )?,
            registry: metrics.clone(),
        };
        metrics.register(Box::new(this.delivered.clone()));
        metrics.register(Box::new(this.failed_attempts.clone()));
        metrics.register(Box::new(this.dead.clone()));
        Ok(this)
    }
}

/// Delivers committed outbox rows to Kafka or HTTP.
///
/// Each poll claims up to `batch_size` due `pending` rows with `FOR UPDATE SKIP LOCKED` in
/// one transaction, delivers them concurrently, writes each outcome (delivered, retry at
/// `now + backoff`, or dead) and commits. Several relays (replicas) on one database
/// therefore never deliver the same row at the same time. A crash after a delivery and
/// before the commit rolls the claim back and the row is delivered again on the next poll:
/// delivery is at least once, and receivers get the idempotency key to make the *effect*
/// exactly once.
#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    producer: Option<Producer>,
    http: Arc<dyn HttpSender>,
    settings: OutboxSettings,
    metrics: OutboxMetrics,
    /// Only rows of this source (`None`: every row).
    source: Option<String>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    idempotency_key: String,
    kind: String,
    topic: Option<String>,
    message_key: Option<String>,
    http_method: Option<String>,
    http_url: Option<String>,
    payload: Vec<u8>,
    headers: sqlx::types::Json<Vec<(String, String)>>,
    attempts: i32,
}

impl Relay {
    /// A relay using `producer` for Kafka rows (`None`: Kafka rows fail and end dead) and
    /// an [`OutboundSender`] (the suite's `digit-http` client) with the settings' timeouts
    /// for HTTP rows, recording into the registry the metrics were made with.
    pub fn new(
        pool: PgPool,
        producer: Option<Producer>,
        settings: OutboxSettings,
        metrics: OutboxMetrics,
    ) -> Result<Self, OutboxError> {
        let http = OutboundSender::new(
            settings.http_timeout,
            settings.http_connect_timeout,
            &metrics.registry,
        )?;
        Ok(Self::with_http_sender(
            pool,
            producer,
            Arc::new(http),
            settings,
            metrics,
        ))
    }

    /// A relay with its own [`HttpSender`].
    pub fn with_http_sender(
        pool: PgPool,
        producer: Option<Producer>,
        http: Arc<dyn HttpSender>,
        settings: OutboxSettings,
        metrics: OutboxMetrics,
    ) -> Self {
        Self {
            pool,
            producer,
            http,
            settings,
            metrics,
            source: None,
        }
    }

    /// This relay delivers only rows enqueued with [`OutboxMessage::with_source`]`(source)`
    /// — for services that share a database with another service's relay.
    ///
    /// [`OutboxMessage::with_source`]: crate::OutboxMessage::with_source
    #[must_use]
    pub fn for_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Polls until `shutdown` fires: immediately again after a full batch, after
    /// `poll_interval` otherwise. A database error ends the loop with the error (the
    /// supervisor restarts the worker with backoff).
    pub async fn run(&self, shutdown: Shutdown) -> Result<(), OutboxError> {
        while !shutdown.is_triggered() {
            let claimed = self.run_once().await?;
            if claimed < self.settings.batch_size as usize {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll_interval) => {}
                    _ = shutdown.wait() => {}
                }
            }
        }
        Ok(())
    }

    /// One poll: claims, delivers and records one batch; returns the number of rows claimed.
    pub async fn run_once(&self) -> Result<usize, OutboxError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, idempotency_key, kind, topic, message_key, http_method, http_url,
                    payload, headers, attempts
               FROM digit_outbox
              WHERE status = 'pending' AND next_attempt_at <= $1
                AND ($3::text IS NULL OR source = $3)
              ORDER BY next_attempt_at, id
              LIMIT $2
                FOR UPDATE SKIP LOCKED",
        )
        .bind(now_ms())
        .bind(i64::from(self.settings.batch_size))
        .bind(self.source.as_deref())
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let outcomes = self.deliver_in_order(&rows).await;
        let now = now_ms();
        let mut delivered = Vec::new();
        for (row, outcome) in rows.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    self.metrics.delivered.with_label_values(&[&row.kind]).inc();
                    delivered.push(row.id);
                }
                Err(failure) => self.record_failure(&mut tx, row, failure, now).await?,
            }
        }
        if !delivered.is_empty() {
            sqlx::query(
                "UPDATE digit_outbox
                    SET status = 'delivered', attempts = attempts + 1, delivered_at = $2,
                        last_error = NULL
                  WHERE id = ANY($1)",
            )
            .bind(&delivered)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Delivers `rows` (claimed in id order): rows for one destination — a Kafka topic, an
    /// HTTP authority — one after another in id order, so a receiver sees a service's
    /// messages in the order they were written (a sanction before its allocation);
    /// different destinations in parallel. Returns the outcomes in `rows`' order.
    async fn deliver_in_order(&self, rows: &[Row]) -> Vec<Result<(), DeliveryFailure>> {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let key = destination_key(row);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        let runs = groups.iter().map(|(_, members)| async move {
            let mut out = Vec::with_capacity(members.len());
            for &i in members {
                out.push((i, self.deliver(&rows[i]).await));
            }
            out
        });
        let mut outcomes: Vec<Option<Result<(), DeliveryFailure>>> =
            rows.iter().map(|_| None).collect();
        for (i, outcome) in futures::future::join_all(runs).await.into_iter().flatten() {
            outcomes[i] = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(DeliveryFailure::transient("not attempted"))))
            .collect()
    }

    async fn record_failure(
        &self,
        tx: &mut sqlx::PgConnection,
        row: &Row,
        failure: DeliveryFailure,
        now: i64,
    ) -> Result<(), OutboxError> {
        self.metrics
            .failed_attempts
            .with_label_values(&[&row.kind])
            .inc();
        let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
        let dead = failure.permanent || attempts >= self.settings.max_attempts;
        let next = now.saturating_add(
            i64::try_from(self.settings.retry_delay(attempts).as_millis()).unwrap_or(i64::MAX),
        );
        if dead {
            self.metrics.dead.with_label_values(&[&row.kind]).inc();
            tracing::error!(
                outbox_id = row.id,
                idempotency_key = %row.idempotency_key,
                kind = %row.kind,
                attempts,
                permanent = failure.permanent,
                error = %failure.message,
                "Outbox message is dead: delivery given up."
            );
        } else {
            tracing::warn!(
                outbox_id = row.id,
                kind = %row.kind,
                attempts,
                error = %failure.message,
                "Outbox delivery failed; will retry."
            );
        }
        sqlx::query(
            "UPDATE digit_outbox
                SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5
              WHERE id = $1",
        )
        .bind(row.id)
        .bind(if dead { "dead" } else { "pending" })
        .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
        .bind(next)
        .bind(&failure.message)
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn deliver(&self, row: &Row) -> Result<(), DeliveryFailure> {
        match row.kind.as_str() {
            "kafka" => {
                let producer = self.producer.as_ref().ok_or_else(|| {
                    DeliveryFailure::transient("no Kafka producer configured for the outbox relay")
                })?;
                let topic = row
                    .topic
                    .as_deref()
                    .ok_or_else(|| DeliveryFailure::permanent("Kafka row without a topic"))?;
                let mut headers: Vec<(&str, &[u8])> = row
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_bytes()))
                    .collect();
                headers.push((KAFKA_IDEMPOTENCY_HEADER, row.idempotency_key.as_bytes()));
                producer
                    .send_raw(topic, row.message_key.as_deref(), &row.payload, &headers)
                    .await
                    .map(|_| ())
                    .map_err(|e| DeliveryFailure::transient(digit_core::infra::chain(&e)))
            }
            "http" => {
                let (Some(method), Some(url)) =
                    (row.http_method.as_deref(), row.http_url.as_deref())
                else {
                    return Err(DeliveryFailure::permanent("HTTP row without method or URL"));
                };
                let mut headers = row.headers.0.clone();
                headers.push((
                    HTTP_IDEMPOTENCY_HEADER.to_owned(),
                    row.idempotency_key.clone(),
                ));
                self.http
                    .send(HttpRequest {
                        method,
                        url,
                        headers: &headers,
                        body: &row.payload,
                    })
                    .await
            }
            other => Err(DeliveryFailure::permanent(format!("unknown kind {other}"))),
        }
    }
}

/// What orders deliveries: the Kafka topic, or the HTTP URL's scheme and authority.
fn destination_key(row: &Row) -> String {
    match (&row.topic, &row.http_url) {
        (Some(topic), _) => format!("kafka:{topic}"),
        (None, Some(url)) => match digit_http::Url::parse(url) {
            Ok(u) => format!(
                "http:{}://{}:{}",
                u.scheme(),
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or_default()
            ),
            Err(_) => format!("http:{url}"),
        },
        (None, None) => String::new(),
    }
}
