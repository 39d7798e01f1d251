//! One message (or one batch of a `-batch` topic) → one Postgres transaction: the stored
//! offset is locked and compared, the planned rows written, the offset advanced and the
//! commit signal queued, all committed together. Poison messages are dead-lettered before
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
        if msg.offset > next && next > 0 {
            // On Apache Kafka a gap is compaction, a transaction marker, or retention that
            // deleted messages before they were persisted (the last one is data loss).
            tracing::warn!(topic = %msg.topic, partition = msg.partition, expected = next, offset = msg.offset,
                "Offset gap: the log holds no messages between the stored offset and this one.");
        }
        match self.apply(&mut tx, msg).await {
            Ok(rows) => {
                writer::advance_offset(&mut tx, group, &msg.topic, msg.partition, msg.offset + 1)
                    .await?;
                writer::notify(&mut tx, &signal(group, msg)).await?;
                tx.commit().await.map_err(tx_error)?;
                self.metrics
                    .observe_commit(&msg.topic, 1, rows, started.elapsed());
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
                    writer::advance_offset(&mut tx, group, &msg.topic, msg.partition, after)
                        .await?;
                }
                tx.commit().await.map_err(tx_error)?;
                Ok(Outcome::DeadLettered(reason))
            }
        }
    }

    /// Persists the messages of one `-batch` poll in one transaction (savepoint per
    /// message). `Err` is always transient and concerns the whole batch.
    pub async fn try_batch(&self, batch: &[InboundMessage]) -> Result<Vec<Outcome>, WriteError> {
        let group = &self.settings.group_id;
        let started = Instant::now();
        let mut conn = self.pool.acquire().await.map_err(tx_error)?;
        let mut tx = conn.begin().await.map_err(tx_error)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut poisoned = Vec::new();
        let mut total_rows = 0;
        let mut next_by_partition: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for msg in batch {
            let key = (msg.topic.as_str(), msg.partition);
            let next = match next_by_partition.get(&key) {
                Some(n) => *n,
                None => writer::lock_offset(&mut tx, group, &msg.topic, msg.partition).await?,
            };
            if msg.offset < next {
                outcomes.push(Outcome::AlreadyApplied);
                next_by_partition.insert(key, next);
                continue;
            }
            let mut savepoint = (&mut *tx).begin().await.map_err(tx_error)?;
            match self.apply(&mut savepoint, msg).await {
                Ok(rows) => {
                    savepoint.commit().await.map_err(tx_error)?;
                    writer::notify(&mut tx, &signal(group, msg)).await?;
                    total_rows += rows;
                    outcomes.push(Outcome::Persisted { rows });
                }
                Err(e @ WriteError::Infra(_)) => return Err(e),
                Err(WriteError::Poison(reason)) => {
                    savepoint.rollback().await.map_err(tx_error)?;
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
        tx.commit().await.map_err(tx_error)?;
        if let Some(first) = batch.first() {
            self.metrics
                .observe_commit(&first.topic, batch.len(), total_rows, started.elapsed());
        }
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
