//! The persister's consume loop: Kafka → plan → one Postgres transaction per message (or
//! per poll of a `-batch` topic) → stored offset → commit signal.
//!
//! Offsets live in Postgres (`persister_offsets`), written in the same transaction as the
//! rows, so a crash at any instant neither loses a message nor applies one twice: on start
//! the group is positioned at the stored offsets, and inside every transaction the offset
//! row is locked and compared again, so a replayed message — or a zombie instance after a
//! rebalance — is skipped. Kafka offsets are also committed,
//! asynchronously and only as a hint for tools that read consumer-group lag.
//!
//! Failures: transient database errors retry the same message with backoff (the partition
//! does not move); poison messages (not JSON, path failure, type or constraint violation)
//! are published to the dead-letter topic as an `ErrorQueueContract`, and once the broker
//! acknowledged that, the offset moves past them. In a batch, each message runs under a
//! savepoint, so one poison message does not take the good ones down with it. Dead letters
//! are at-least-once: a crash (or a failed commit that is retried) after the dead letter was
//! acknowledged but before the offset moved publishes it again.

use super::writer::{self, WriteError};
use crate::domain::{self, PersisterConfig};
use crate::metrics::PersisterMetrics;
use digit_kafka::{Backoff, ErrorQueueContract, KafkaSettings, Producer};
use digit_service::Shutdown;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use sqlx::{Acquire, PgPool};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Persister behaviour settings.
#[derive(Debug, Clone)]
pub struct PersisterSettings {
    /// Kafka consumer group (upstream: `egov-infra-persist`); also the key of stored offsets.
    pub group_id: String,
    /// Dead-letter topic (upstream: `egov-persister-deadletter`).
    pub dead_letter_topic: String,
    /// Whether `-batch` topics are consumed (a poll at a time in one transaction).
    pub bulk_enabled: bool,
    /// Most messages of one `-batch` transaction.
    pub batch_size: usize,
    /// Retry schedule for transient failures.
    pub backoff: Backoff,
}

/// One consumed message, detached from the consumer.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key, if UTF-8.
    pub key: Option<String>,
    /// Raw payload.
    pub payload: Vec<u8>,
    /// `x-correlation-id` header.
    pub correlation_id: Option<String>,
}

impl Inbound {
    fn from_message(m: &BorrowedMessage<'_>) -> Self {
        let correlation_id = m.headers().and_then(|headers| {
            headers
                .iter()
                .find(|h| {
                    h.key
                        .eq_ignore_ascii_case(digit_kafka::CORRELATION_ID_HEADER)
                })
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::to_owned)
        });
        Self {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            key: m
                .key()
                .and_then(|k| std::str::from_utf8(k).ok())
                .map(str::to_owned),
            payload: m.payload().unwrap_or_default().to_vec(),
            correlation_id,
        }
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Rows written and offset advanced.
    Persisted {
        /// Rows affected.
        rows: u64,
    },
    /// Already applied earlier (replay after a crash or rebalance).
    AlreadyApplied,
    /// Dead-lettered; offset advanced.
    DeadLettered(String),
}

/// The writer half: everything but the Kafka consumer, so tests can drive it directly.
#[derive(Clone)]
pub struct Writer {
    /// Loaded configs.
    pub config: Arc<PersisterConfig>,
    /// Target database.
    pub pool: PgPool,
    /// Producer for dead letters.
    pub producer: Producer,
    /// Settings.
    pub settings: PersisterSettings,
    /// Metrics.
    pub metrics: PersisterMetrics,
}

impl Writer {
    /// Persists one message, retrying transient failures until success or shutdown.
    /// `None` means shutdown interrupted the retries (the message was not applied).
    pub async fn process_one(&self, msg: &Inbound, shutdown: &Shutdown) -> Option<Outcome> {
        let mut attempt = 0;
        loop {
            match self.try_one(msg).await {
                Ok(outcome) => return Some(outcome),
                Err(e) => {
                    self.metrics.transient_errors.inc();
                    let delay = self.settings.backoff.delay(attempt);
                    tracing::warn!(topic = %msg.topic, partition = msg.partition, offset = msg.offset, error = %e,
                        retry_in_ms = delay.as_millis() as u64, "Transient failure; retrying the same message.");
                    attempt = attempt.saturating_add(1);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.wait() => return None,
                    }
                }
            }
        }
    }

    /// One attempt. `Err` is always transient; poison messages end as `DeadLettered`.
    async fn try_one(&self, msg: &Inbound) -> Result<Outcome, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(WriteError::Transient)?;
        let mut tx = conn.begin().await.map_err(WriteError::Transient)?;
        let next = writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?;
        if msg.offset < next {
            tx.rollback().await.map_err(WriteError::Transient)?;
            return Ok(Outcome::AlreadyApplied);
        }
        if msg.offset > next && next > 0 {
            // Legitimate with compaction or transactions; otherwise a sign that the broker
            // skipped records.
            tracing::warn!(topic = %msg.topic, partition = msg.partition, expected = next, offset = msg.offset,
                "Offset gap: messages between the stored offset and this one were never delivered.");
        }
        let result = self.apply(&mut tx, msg).await;
        match result {
            Ok(rows) => {
                writer::advance_offset(&mut tx, group, &msg.topic, msg.partition, msg.offset + 1)
                    .await?;
                writer::notify(&mut tx, &signal(group, msg)).await?;
                tx.commit().await.map_err(WriteError::Transient)?;
                self.metrics
                    .observe_commit(&msg.topic, 1, rows, started.elapsed());
                Ok(Outcome::Persisted { rows })
            }
            Err(e @ (WriteError::Transient(_) | WriteError::DeadLetter(_))) => {
                let _ = tx.rollback().await;
                Err(e)
            }
            Err(WriteError::Poison(reason)) => {
                tx.rollback().await.map_err(WriteError::Transient)?;
                self.dead_letter(msg, &reason).await?;
                // A separate transaction moves past the message, re-checking the offset.
                let mut tx = conn.begin().await.map_err(WriteError::Transient)?;
                let next = writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?;
                if msg.offset >= next {
                    writer::advance_offset(
                        &mut tx,
                        group,
                        &msg.topic,
                        msg.partition,
                        msg.offset + 1,
                    )
                    .await?;
                }
                tx.commit().await.map_err(WriteError::Transient)?;
                Ok(Outcome::DeadLettered(reason))
            }
        }
    }

    /// Persists the messages of one `-batch` poll in one transaction (savepoint per
    /// message). Retries transient failures of the whole batch until success or shutdown.
    pub async fn process_batch(
        &self,
        batch: &[Inbound],
        shutdown: &Shutdown,
    ) -> Option<Vec<Outcome>> {
        let mut attempt = 0;
        loop {
            match self.try_batch(batch).await {
                Ok(outcomes) => return Some(outcomes),
                Err(e) => {
                    self.metrics.transient_errors.inc();
                    let delay = self.settings.backoff.delay(attempt);
                    tracing::warn!(messages = batch.len(), error = %e, retry_in_ms = delay.as_millis() as u64,
                        "Transient failure; retrying the batch.");
                    attempt = attempt.saturating_add(1);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.wait() => return None,
                    }
                }
            }
        }
    }

    async fn try_batch(&self, batch: &[Inbound]) -> Result<Vec<Outcome>, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(WriteError::Transient)?;
        let mut tx = conn.begin().await.map_err(WriteError::Transient)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut poisoned = Vec::new();
        let mut total_rows = 0;
        let mut next_by_partition: std::collections::BTreeMap<(String, i32), i64> =
            Default::default();
        for msg in batch {
            let key = (msg.topic.clone(), msg.partition);
            let next = match next_by_partition.get(&key) {
                Some(n) => *n,
                None => writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?,
            };
            if msg.offset < next {
                outcomes.push(Outcome::AlreadyApplied);
                next_by_partition.insert(key, next);
                continue;
            }
            let mut savepoint = (&mut *tx).begin().await.map_err(WriteError::Transient)?;
            match self.apply(&mut savepoint, msg).await {
                Ok(rows) => {
                    savepoint.commit().await.map_err(WriteError::Transient)?;
                    writer::notify(&mut tx, &signal(group, msg)).await?;
                    total_rows += rows;
                    outcomes.push(Outcome::Persisted { rows });
                }
                Err(e @ (WriteError::Transient(_) | WriteError::DeadLetter(_))) => return Err(e),
                Err(WriteError::Poison(reason)) => {
                    savepoint.rollback().await.map_err(WriteError::Transient)?;
                    poisoned.push((msg, reason.clone()));
                    outcomes.push(Outcome::DeadLettered(reason));
                }
            }
            next_by_partition.insert(key, msg.offset + 1);
        }
        // Dead letters are acknowledged before the offsets that skip them commit.
        for (msg, reason) in &poisoned {
            self.dead_letter(msg, reason).await?;
        }
        for ((topic, partition), next) in &next_by_partition {
            writer::advance_offset(&mut tx, group, topic, *partition, *next).await?;
        }
        tx.commit().await.map_err(WriteError::Transient)?;
        if let Some(first) = batch.first() {
            self.metrics
                .observe_commit(&first.topic, batch.len(), total_rows, started.elapsed());
        }
        Ok(outcomes)
    }

    /// Parses, plans and executes one message on `conn` (inside a transaction).
    async fn apply(&self, conn: &mut sqlx::PgConnection, msg: &Inbound) -> Result<u64, WriteError> {
        let value: Value = serde_json::from_slice(&msg.payload)
            .map_err(|e| WriteError::Poison(format!("message is not JSON: {e}")))?;
        let statements = domain::plan(&self.config, &msg.topic, &value, domain::now())
            .map_err(|e| WriteError::Poison(e.to_string()))?;
        writer::execute(conn, &statements).await
    }

    async fn dead_letter(&self, msg: &Inbound, reason: &str) -> Result<(), WriteError> {
        let record = ErrorQueueContract::new(
            msg.topic.clone(),
            &msg.payload,
            reason,
            msg.correlation_id.clone(),
        );
        tracing::error!(topic = %msg.topic, partition = msg.partition, offset = msg.offset,
            correlation_id = msg.correlation_id.as_deref().unwrap_or(""), reason, "Message dead-lettered.");
        // Retried like a database failure: a message is never skipped before its dead letter is acknowledged.
        self.producer
            .send_json(
                &self.settings.dead_letter_topic,
                msg.key.as_deref(),
                &record,
                msg.correlation_id.as_deref(),
            )
            .await
            .map_err(WriteError::DeadLetter)?;
        self.metrics
            .dead_lettered
            .with_label_values(&[&msg.topic])
            .inc();
        Ok(())
    }
}

fn signal(group: &str, msg: &Inbound) -> Value {
    json!({"group": group, "topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
           "key": msg.key, "correlationId": msg.correlation_id})
}

/// Consumes every configured topic until `shutdown`.
///
/// Topics are used exactly as the YAML names them: like upstream's persister, a central
/// instance lists its prefixed topics in the configs, so `KAFKA_TOPIC_PREFIX` is not applied.
pub async fn run(writer: Writer, kafka: &KafkaSettings, shutdown: Shutdown) -> anyhow::Result<()> {
    let kafka = &KafkaSettings {
        topic_prefix: None,
        ..kafka.clone()
    };
    let topics: Vec<String> = writer
        .config
        .topics()
        .filter(|t| writer.settings.bulk_enabled || !is_batch_topic(t))
        .map(str::to_owned)
        .collect();
    if topics.is_empty() {
        anyhow::bail!("no topics to consume: the persister configs map none");
    }
    // Brokers without auto-creation (Tansu) need the topics to exist before anyone sends.
    let mut to_create: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
    to_create.push((writer.settings.dead_letter_topic.as_str(), 1));
    if let Err(e) = digit_kafka::create_topics(kafka, &to_create).await {
        tracing::warn!(error = %e, "Could not create the persister topics; assuming they exist.");
    }
    let consumer: StreamConsumer = consumer_config(kafka, &writer.settings.group_id).create()?;
    start_from_stored_offsets(&consumer, &writer, kafka).await;
    spawn_lag_reporter(kafka, &writer, shutdown.clone())?;
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topic_refs)?;
    tracing::info!(topics = ?topics, group = %writer.settings.group_id, "Persister consuming.");

    let mut pending: std::collections::VecDeque<Inbound> = Default::default();
    loop {
        let msg = match pending.pop_front() {
            Some(m) => m,
            None => {
                let received = tokio::select! {
                    r = consumer.recv() => r,
                    _ = shutdown.wait() => break,
                };
                match received {
                    Ok(m) => Inbound::from_message(&m),
                    Err(e) => {
                        tracing::warn!(error = %e, "Kafka receive error.");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
        };
        let outcomes = if is_batch_topic(&msg.topic) {
            let mut batch = vec![msg];
            while batch.len() < writer.settings.batch_size {
                match tokio::time::timeout(Duration::from_millis(5), consumer.recv()).await {
                    Ok(Ok(m)) => {
                        let next = Inbound::from_message(&m);
                        if next.topic == batch[0].topic {
                            batch.push(next);
                        } else {
                            pending.push_back(next);
                            break;
                        }
                    }
                    _ => break,
                }
            }
            match writer.process_batch(&batch, &shutdown).await {
                Some(o) => o.into_iter().zip(batch.iter().cloned()).collect::<Vec<_>>(),
                None => break,
            }
        } else {
            match writer.process_one(&msg, &shutdown).await {
                Some(o) => vec![(o, msg)],
                None => break,
            }
        };
        for (outcome, msg) in &outcomes {
            writer
                .metrics
                .messages
                .with_label_values(&[&msg.topic, outcome_label(outcome)])
                .inc();
        }
        if let Some((_, last)) = outcomes.last() {
            let mut tpl = TopicPartitionList::new();
            if tpl
                .add_partition_offset(&last.topic, last.partition, Offset::Offset(last.offset + 1))
                .is_ok()
            {
                // A hint only: Postgres holds the authoritative offsets.
                let _ = consumer.commit(&tpl, CommitMode::Async);
            }
        }
    }
    tracing::info!("Persister consumer stopped.");
    Ok(())
}

fn outcome_label(o: &Outcome) -> &'static str {
    match o {
        Outcome::Persisted { .. } => "persisted",
        Outcome::AlreadyApplied => "already_applied",
        Outcome::DeadLettered(_) => "dead_lettered",
    }
}

/// Makes the group start where Postgres says it is: the stored offsets are committed to
/// the group before joining it, so consumption resumes exactly after the last message whose
/// rows committed (Kafka's own committed offsets may lag, being written after the database
/// commit). This only shortens replays — the offset check inside every transaction is what
/// guarantees that nothing is applied twice — so a failure here is logged, not fatal.
async fn start_from_stored_offsets(
    consumer: &StreamConsumer,
    writer: &Writer,
    kafka: &KafkaSettings,
) {
    forget_offsets_beyond_the_log(writer, kafka).await;
    let stored = loop {
        match writer::stored_offsets(&writer.pool, &writer.settings.group_id).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot read stored offsets yet; retrying.");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    if stored.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, next) in &stored {
        if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next)) {
            tracing::warn!(%topic, partition, error = %e, "Bad stored offset.");
        }
    }
    match consumer.commit(&tpl, CommitMode::Sync) {
        Ok(()) => tracing::info!(
            partitions = stored.len(),
            "Consumer group positioned at the offsets stored in Postgres."
        ),
        Err(e) => {
            tracing::warn!(error = %e, "Could not position the group at the stored offsets; replays are skipped in-transaction.")
        }
    }
}

/// A stored offset beyond a partition's high watermark means the log it counted is gone
/// (the topic was deleted and recreated, or an in-memory broker restarted): every new
/// message would look like a replay and be skipped. Such offsets are forgotten, with a
/// warning, so the partition is read from its start.
async fn forget_offsets_beyond_the_log(writer: &Writer, kafka: &KafkaSettings) {
    let Ok(stored) = writer::stored_offsets(&writer.pool, &writer.settings.group_id).await else {
        return;
    };
    if stored.is_empty() {
        return;
    }
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", format!("{}-watermarks", kafka.client_id));
    for (k, v) in &kafka.extra {
        config.set(k, v);
    }
    let client: Arc<rdkafka::consumer::BaseConsumer> = match config.create() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot check stored offsets against the broker.");
            return;
        }
    };
    for (topic, partition, next) in stored {
        let c = client.clone();
        let t = topic.clone();
        let high = tokio::task::spawn_blocking(move || {
            c.fetch_watermarks(&t, partition, Duration::from_secs(5))
        })
        .await;
        if let Ok(Ok((_, high))) = high {
            if high < next {
                tracing::warn!(%topic, partition, stored = next, high_watermark = high,
                    "Stored offset is beyond the log (topic recreated or broker reset); reading the partition from its start.");
                if let Err(e) = writer::forget_offset(
                    &writer.pool,
                    &writer.settings.group_id,
                    &topic,
                    partition,
                )
                .await
                {
                    tracing::warn!(error = %e, "Could not forget the stored offset.");
                }
            }
        }
    }
}

/// Every 15 s, sets `persister_lag{topic,partition}` = high watermark − stored next offset,
/// from a metadata-only client (no group), off the async workers.
fn spawn_lag_reporter(
    kafka: &KafkaSettings,
    writer: &Writer,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", format!("{}-lag", kafka.client_id));
    for (k, v) in &kafka.extra {
        config.set(k, v);
    }
    let client: Arc<rdkafka::consumer::BaseConsumer> = Arc::new(config.create()?);
    let pool = writer.pool.clone();
    let group = writer.settings.group_id.clone();
    let lag = writer.metrics.lag.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(15)) => {}
                _ = shutdown.wait() => return,
            }
            let Ok(stored) = writer::stored_offsets(&pool, &group).await else {
                continue;
            };
            for (topic, partition, next) in stored {
                let client = client.clone();
                let t = topic.clone();
                let high = tokio::task::spawn_blocking(move || {
                    client.fetch_watermarks(&t, partition, Duration::from_secs(2))
                })
                .await;
                if let Ok(Ok((_, high))) = high {
                    lag.with_label_values(&[&topic, &partition.to_string()])
                        .set((high - next).max(0));
                }
            }
        }
    });
    Ok(())
}

/// True for topics persisted a poll at a time (§2.5).
pub fn is_batch_topic(topic: &str) -> bool {
    topic.contains("-batch")
}

fn consumer_config(kafka: &KafkaSettings, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", &kafka.client_id)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", kafka.session_timeout_ms.to_string())
        .set(
            "heartbeat.interval.ms",
            (kafka.session_timeout_ms / 3).max(100).to_string(),
        )
        // Retries while Postgres is down happen between polls; allow long outages.
        .set("max.poll.interval.ms", "3600000")
        // Services answer after the persister committed (read-your-writes), so a message's
        // latency is user-visible. Brokers that do not end a waiting fetch when data arrives
        // (Tansu) would add up to librdkafka's default 500 ms to every message.
        .set("fetch.wait.max.ms", "20")
        // Notice topics created after subscribing within seconds, not librdkafka's 5 minutes.
        .set("topic.metadata.refresh.interval.ms", "10000");
    for (k, v) in &kafka.extra {
        config.set(k, v);
    }
    config
}
