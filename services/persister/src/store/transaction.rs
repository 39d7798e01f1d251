//! One message (or one batch: a `-batch` poll, or a group of already-fetched messages) →
//! one Postgres transaction: the stored offset is locked and compared, the planned rows
//! written, the offset advanced and the commit signal queued, all committed together. Poison messages are dead-lettered before
//! the offset moves past them (see [`super::consumer`] for the failure rules).

use super::consumer::PersisterSettings;
use super::writer::{self, WriteError};
use crate::domain::{self, PersisterConfig};
use crate::metrics::PersisterMetrics;
use digit_kafka::{DeadLetters, InboundMessage, Producer};
use serde_json::{json, Value};
use sqlx::{Acquire, PgPool};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

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

impl Outcome {
    /// The `outcome` label of `persister_messages_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Persisted { .. } => "persisted",
            Outcome::AlreadyApplied => "already_applied",
            Outcome::DeadLettered(_) => "dead_lettered",
        }
    }
}

/// The writer: configs, database, dead letters and metrics — the persister's
/// [`MessageHandler`]. It never answers `Permanent`: a poison message is dead-lettered
/// inside its own bookkeeping, so the stored offset moves past it only after the broker
/// acknowledged the dead letter.
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

/// Per partition of a batch: the next offset to store and the last message that moves it
/// (`None` while nothing in the batch did: replays only).
type Progress<'a> = BTreeMap<(&'a str, i32), (i64, Option<&'a InboundMessage>)>;

impl Writer {
    /// One attempt. `Err` is always transient; poison messages end as `DeadLettered`.
    pub async fn try_one(&self, msg: &InboundMessage) -> Result<Outcome, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(tx_error)?;
        let mut tx = conn.begin().await.map_err(tx_error)?;
        let next = writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?;
        if msg.offset < next {
            tx.rollback().await.map_err(tx_error)?;
            return Ok(Outcome::AlreadyApplied);
        }
        warn_on_gap(msg, next);
        match self.apply(&mut tx, msg).await {
            Ok(rows) => {
                let after = msg.offset + 1;
                let signal = signal(group, msg);
                writer::advance_offset(&mut tx, group, &msg.topic, msg.partition, after, &signal)
                    .await?;
                tx.commit().await.map_err(tx_error)?;
                self.metrics
                    .observe_commit(1, [(msg.topic.as_str(), rows)], started.elapsed());
                Ok(Outcome::Persisted { rows })
            }
            Err(e @ WriteError::Infra(_)) => Err(e),
            Err(WriteError::Poison(reason)) => {
                tx.rollback().await.map_err(tx_error)?;
                self.dead_letter(msg, &reason).await?;
                // A separate transaction moves past the message, re-checking the offset.
                let mut tx = conn.begin().await.map_err(tx_error)?;
                let next = writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?;
                if msg.offset >= next {
                    let after = msg.offset + 1;
                    let signal = signal(group, msg);
                    writer::advance_offset(
                        &mut tx,
                        group,
                        &msg.topic,
                        msg.partition,
                        after,
                        &signal,
                    )
                    .await?;
                }
                tx.commit().await.map_err(tx_error)?;
                Ok(Outcome::DeadLettered(reason))
            }
        }
    }

    /// Persists a batch — the messages of one `-batch` poll, or a group of already-fetched
    /// messages of any topics — in one transaction. Written at once first; when a message
    /// turns out poison, that transaction is rolled back and the batch is written again
    /// with a savepoint per message, so the poison one is dead-lettered alone. `Err` is
    /// always transient and concerns the whole batch.
    pub async fn try_batch(&self, batch: &[InboundMessage]) -> Result<Vec<Outcome>, WriteError> {
        match self.try_batch_at_once(batch).await? {
            Some(outcomes) => Ok(outcomes),
            None => self.try_batch_one_by_one(batch).await,
        }
    }

    /// The batch in one transaction without savepoints; `None` (rolled back, nothing
    /// written) when a message is poison.
    async fn try_batch_at_once(
        &self,
        batch: &[InboundMessage],
    ) -> Result<Option<Vec<Outcome>>, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(tx_error)?;
        let mut tx = conn.begin().await.map_err(tx_error)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut progress: Progress<'_> = BTreeMap::new();
        let mut rows: BTreeMap<&str, u64> = BTreeMap::new();
        for msg in batch {
            let key = (msg.topic.as_str(), msg.partition);
            let (next, last) = partition_start(&mut tx, group, &progress, msg).await?;
            if msg.offset < next {
                outcomes.push(Outcome::AlreadyApplied);
                progress.insert(key, (next, last));
                continue;
            }
            match self.apply(&mut tx, msg).await {
                Ok(n) => {
                    *rows.entry(msg.topic.as_str()).or_default() += n;
                    outcomes.push(Outcome::Persisted { rows: n });
                    progress.insert(key, (msg.offset + 1, Some(msg)));
                }
                Err(e @ WriteError::Infra(_)) => return Err(e),
                Err(WriteError::Poison(_)) => {
                    tx.rollback().await.map_err(tx_error)?;
                    return Ok(None);
                }
            }
        }
        advance_all(&mut tx, group, &progress).await?;
        tx.commit().await.map_err(tx_error)?;
        self.metrics
            .observe_commit(batch.len(), rows, started.elapsed());
        Ok(Some(outcomes))
    }

    /// The batch in one transaction with a savepoint per message: poison messages are
    /// rolled back alone and dead-lettered before the offsets that skip them commit.
    async fn try_batch_one_by_one(
        &self,
        batch: &[InboundMessage],
    ) -> Result<Vec<Outcome>, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(tx_error)?;
        let mut tx = conn.begin().await.map_err(tx_error)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut poisoned = Vec::new();
        let mut progress: Progress<'_> = BTreeMap::new();
        let mut rows: BTreeMap<&str, u64> = BTreeMap::new();
        for msg in batch {
            let key = (msg.topic.as_str(), msg.partition);
            let (next, last) = partition_start(&mut tx, group, &progress, msg).await?;
            if msg.offset < next {
                outcomes.push(Outcome::AlreadyApplied);
                progress.insert(key, (next, last));
                continue;
            }
            let mut savepoint = (&mut *tx).begin().await.map_err(tx_error)?;
            match self.apply(&mut savepoint, msg).await {
                Ok(n) => {
                    savepoint.commit().await.map_err(tx_error)?;
                    *rows.entry(msg.topic.as_str()).or_default() += n;
                    outcomes.push(Outcome::Persisted { rows: n });
                }
                Err(e @ WriteError::Infra(_)) => return Err(e),
                Err(WriteError::Poison(reason)) => {
                    savepoint.rollback().await.map_err(tx_error)?;
                    poisoned.push((msg, reason.clone()));
                    outcomes.push(Outcome::DeadLettered(reason));
                }
            }
            progress.insert(key, (msg.offset + 1, Some(msg)));
        }
        // Dead letters are acknowledged before the offsets that skip them commit.
        for (msg, reason) in &poisoned {
            self.dead_letter(msg, reason).await?;
        }
        advance_all(&mut tx, group, &progress).await?;
        tx.commit().await.map_err(tx_error)?;
        self.metrics
            .observe_commit(batch.len(), rows, started.elapsed());
        Ok(outcomes)
    }

    /// Parses, plans and executes one message on `conn` (inside a transaction).
    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        msg: &InboundMessage,
    ) -> Result<u64, WriteError> {
        let value: Value = serde_json::from_slice(&msg.payload)
            .map_err(|e| WriteError::Poison(format!("message is not JSON: {e}")))?;
        let statements = domain::plan(&self.config, &msg.topic, &value, domain::now())
            .map_err(|e| WriteError::Poison(e.to_string()))?;
        writer::execute(conn, &statements).await
    }

    /// Publishes the dead letter and waits for the broker's acknowledgement; a failure is
    /// transient (retried like a database failure).
    async fn dead_letter(&self, msg: &InboundMessage, reason: &str) -> Result<(), WriteError> {
        DeadLetters::new(
            self.producer.clone(),
            self.settings.dead_letter_topic.clone(),
        )
        .publish(msg, reason, None)
        .await
        .map_err(|e| WriteError::Infra(e.into()))?;
        self.metrics
            .dead_lettered
            .with_label_values(&[&msg.topic])
            .inc();
        Ok(())
    }
}

/// Where a batch message's partition stands: as the batch left it, or — its first message —
/// the stored offset, locked for the transaction (a gap since then is logged).
async fn partition_start<'a>(
    conn: &mut sqlx::PgConnection,
    group: &str,
    progress: &Progress<'a>,
    msg: &'a InboundMessage,
) -> Result<(i64, Option<&'a InboundMessage>), WriteError> {
    if let Some(p) = progress.get(&(msg.topic.as_str(), msg.partition)) {
        return Ok(*p);
    }
    let next = writer::lock_offset(conn, group, &msg.topic, msg.partition).await?;
    warn_on_gap(msg, next);
    Ok((next, None))
}

/// Moves every partition's stored offset past the batch, one statement per partition,
/// each signalling its last message.
async fn advance_all(
    conn: &mut sqlx::PgConnection,
    group: &str,
    progress: &Progress<'_>,
) -> Result<(), WriteError> {
    for ((topic, partition), (next, last)) in progress {
        if let Some(last) = last {
            writer::advance_offset(conn, group, topic, *partition, *next, &signal(group, last))
                .await?;
        }
    }
    Ok(())
}

/// On Apache Kafka a gap is compaction, a transaction marker, or retention that deleted
/// messages before they were persisted (the last one is data loss): worth a warning.
fn warn_on_gap(msg: &InboundMessage, next: i64) {
    if msg.offset > next && next > 0 {
        tracing::warn!(topic = %msg.topic, partition = msg.partition, expected = next, offset = msg.offset,
            "Offset gap: the log holds no messages between the stored offset and this one.");
    }
}

/// A failure of the message's transaction itself (begin, savepoint, commit, rollback).
fn tx_error(e: sqlx::Error) -> WriteError {
    WriteError::Infra(digit_core::InfraError::database(
        "the message transaction",
        e,
    ))
}

fn signal(group: &str, msg: &InboundMessage) -> Value {
    json!({"group": group, "topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
           "key": msg.key, "correlationId": msg.correlation_id})
}
