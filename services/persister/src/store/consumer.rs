//! The persister's message handler: Kafka → plan → one Postgres transaction per message (or
//! per batch of a `-batch` topic) → stored offset → commit signal. The consume loop itself
//! (polling, batching, retries with backoff, shutdown) is `digit_kafka::ConsumerRunner`.
//!
//! Under load, messages of ordinary topics that are already fetched when one arrives are
//! written together, in one transaction (group commit, `PERSISTER_GROUP_COMMIT`): the
//! effect of each message is the same as in its own transaction, but one commit (one WAL
//! flush, one offset update per partition, one commit signal per partition) serves many.
//! An idle persister still writes each message as it comes, without waiting for company.
//!
//! Offsets live in Postgres (`persister_offsets`), written in the same transaction as the
//! rows, so a crash at any instant neither loses a message nor applies one twice: on start
//! the group is positioned at the stored offsets ([`MessageHandler::start_offsets`]), and
//! inside every transaction the offset row is locked and compared again, so a replayed
//! message — or a zombie instance after a rebalance — is skipped. Kafka offsets are also
//! committed, asynchronously and only as a hint for tools that read consumer-group lag.
//!
//! Failures: transient database errors retry the same message with backoff (the partition
//! does not move); poison messages (not JSON, path failure, type or constraint violation)
//! are published to the dead-letter topic as an `ErrorQueueContract`, and once the broker
//! acknowledged that, the offset moves past them. In a batch, each message runs under a
//! savepoint, so one poison message does not take the good ones down with it. Dead letters
//! are at-least-once: a crash (or a failed commit that is retried) after the dead letter was
//! acknowledged but before the offset moved publishes it again.

pub use super::transaction::{Outcome, Writer};
use super::writer::{self, WriteError};
use digit_kafka::{
    Backoff, CommitMode, ConsumerRunner, HandlerError, InboundMessage, KafkaSettings,
    MessageHandler, StartOffset, Watermarks,
};
use digit_service::Shutdown;
use std::time::Duration;

/// How long one high-watermark question to the broker may take.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(5);

/// How often `persister_lag` is refreshed.
const LAG_INTERVAL: Duration = Duration::from_secs(15);

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
    /// Most already-fetched messages of other topics written in one transaction (group
    /// commit; 1 = one transaction per message).
    pub group_commit: usize,
    /// Retry schedule for transient failures.
    pub backoff: Backoff,
}

impl MessageHandler for Writer {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let outcome = self.try_one(msg).await.map_err(|e| self.transient(e))?;
        self.count(msg, &outcome);
        Ok(())
    }

    fn batch_limit(&self, topic: &str) -> usize {
        if is_batch_topic(topic) {
            self.settings.batch_size
        } else {
            1
        }
    }

    fn group_limit(&self) -> usize {
        self.settings.group_commit
    }

    async fn handle_batch(&self, batch: &[InboundMessage]) -> Result<(), HandlerError> {
        let outcomes = self.try_batch(batch).await.map_err(|e| self.transient(e))?;
        for (msg, outcome) in batch.iter().zip(&outcomes) {
            self.count(msg, outcome);
        }
        Ok(())
    }

    /// The offsets stored in Postgres, so consumption resumes exactly after the last
    /// message whose rows committed (Kafka's own committed offsets may lag, being written
    /// after the database commit). This only shortens replays — the offset check inside
    /// every transaction is what guarantees that nothing is applied twice.
    async fn start_offsets(&self) -> Result<Vec<StartOffset>, HandlerError> {
        self.forget_offsets_beyond_the_log().await;
        let stored = writer::stored_offsets(&self.pool, &self.settings.group_id)
            .await
            .map_err(|e| {
                HandlerError::transient(digit_core::InfraError::database(
                    "reading the stored offsets",
                    e,
                ))
            })?;
        Ok(stored
            .into_iter()
            .map(|(topic, partition, next)| StartOffset {
                topic,
                partition,
                next,
            })
            .collect())
    }
}

impl Writer {
    fn transient(&self, e: WriteError) -> HandlerError {
        self.metrics.transient_errors.inc();
        HandlerError::transient(e)
    }

    fn count(&self, msg: &InboundMessage, outcome: &Outcome) {
        self.metrics
            .messages
            .with_label_values(&[&msg.topic, outcome.label()])
            .inc();
    }

    /// A stored offset beyond a partition's high watermark means the log it counted is
    /// gone — the topic was deleted and recreated (Apache Kafka starts the new log at
    /// offset 0) — and every new message would look like a replay and be skipped. Such
    /// offsets are forgotten, with a warning, so the partition is read from its start.
    ///
    /// Only a log shorter than the stored offset is recognised: a recreated topic that
    /// already holds more messages than were stored when the persister starts cannot be
    /// told from the old one by offsets alone. Failures here are logged: the stored offsets
    /// stay, as they were.
    async fn forget_offsets_beyond_the_log(&self) {
        let group = &self.settings.group_id;
        let stored = match writer::stored_offsets(&self.pool, group).await {
            Ok(stored) if !stored.is_empty() => stored,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot read the stored offsets to check them against the log.");
                return;
            }
        };
        let watermarks = match Watermarks::new(self.producer.settings()) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot check stored offsets against the broker.");
                return;
            }
        };
        for (topic, partition, next) in stored {
            let high = match watermarks.high(&topic, partition, WATERMARK_TIMEOUT).await {
                Ok(high) => high,
                Err(e) => {
                    tracing::warn!(%topic, partition, error = %e, "Cannot read the high watermark; the stored offset stays.");
                    continue;
                }
            };
            if high < next {
                tracing::warn!(%topic, partition, stored = next, high_watermark = high,
                    "Stored offset is beyond the log (topic recreated); reading the partition from its start.");
                if let Err(e) = writer::forget_offset(&self.pool, group, &topic, partition).await {
                    tracing::warn!(error = %e, "Could not forget the stored offset.");
                }
            }
        }
    }
}

/// Consumes every configured topic until `shutdown`.
///
/// Topics are used exactly as the YAML names them: like upstream's persister, a central
/// instance lists its prefixed topics in the configs, so `KAFKA_TOPIC_PREFIX` is not applied.
pub async fn run(writer: Writer, kafka: &KafkaSettings, shutdown: Shutdown) -> anyhow::Result<()> {
    let mut kafka = KafkaSettings {
        topic_prefix: None,
        ..kafka.clone()
    };
    // Retries through a database outage happen between polls; allow long outages before
    // the broker considers the member gone (an `extra` setting still wins).
    kafka
        .extra
        .insert(0, ("max.poll.interval.ms".to_owned(), "3600000".to_owned()));
    let topics: Vec<String> = writer
        .config
        .topics()
        .filter(|t| writer.settings.bulk_enabled || !is_batch_topic(t))
        .map(str::to_owned)
        .collect();
    if topics.is_empty() {
        anyhow::bail!("no topics to consume: the persister configs map none");
    }
    // Topic auto-creation is off: the topics must exist before anyone sends.
    let mut to_create: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
    to_create.push((writer.settings.dead_letter_topic.as_str(), 1));
    if let Err(e) = digit_kafka::create_topics(&kafka, &to_create).await {
        tracing::warn!(error = %e, "Could not create the persister topics; assuming they exist.");
    }
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let runner = ConsumerRunner::new(&kafka, &writer.settings.group_id, &topic_refs)?
        .with_backoff(writer.settings.backoff)
        .with_commit_mode(CommitMode::Async);
    spawn_lag_reporter(&kafka, &writer, shutdown.clone())?;
    tracing::info!(topics = ?topics, group = %writer.settings.group_id, "Persister consuming.");
    let stop = async move { shutdown.wait().await };
    runner.run(writer, None, stop).await?;
    Ok(())
}

/// Every 15 s, sets `persister_lag{topic,partition}` = high watermark − stored next offset.
fn spawn_lag_reporter(
    kafka: &KafkaSettings,
    writer: &Writer,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let watermarks = Watermarks::new(kafka)?;
    let pool = writer.pool.clone();
    let group = writer.settings.group_id.clone();
    let lag = writer.metrics.lag.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(LAG_INTERVAL) => {}
                () = shutdown.wait() => return,
            }
            let stored = match writer::stored_offsets(&pool, &group).await {
                Ok(stored) => stored,
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot read stored offsets for the lag metric.");
                    continue;
                }
            };
            for (topic, partition, next) in stored {
                match watermarks.high(&topic, partition, WATERMARK_TIMEOUT).await {
                    Ok(high) => lag
                        .with_label_values(&[&topic, &partition.to_string()])
                        .set((high - next).max(0)),
                    Err(e) => {
                        tracing::warn!(%topic, partition, error = %e, "Cannot read the high watermark for the lag metric.")
                    }
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
