//! The Kafka → Elasticsearch handler: a batch of messages of one topic → documents (§3.2) →
//! one `_bulk` → offsets committed by the runner only after every item was acknowledged.
//!
//! Failure rules (upstream logs and drops; we lose nothing):
//! - Elasticsearch unreachable or answering 429/5xx for the request: the batch is a transient
//!   failure; the runner retries it in place with backoff, so consumption pauses until
//!   Elasticsearch is back (§3.2 step 4) and resumes by itself.
//! - Items answered 429/5xx: sent again (only those) with backoff, a few times; then the
//!   batch is transient as above.
//! - Items refused for good (mapping errors, other 4xx), messages that are not JSON, and
//!   messages whose `jsonPath`/`isBulk` selection is unusable: the message goes to the dead-letter
//!   topic in the ErrorQueueContract shape (acknowledged before its offset moves) and is
//!   counted; the rest of the batch is indexed.
//! - Documents carry their ids, so a redelivery after a crash overwrites instead of doubling.
//!   Records without an id are not written (as upstream), only pushed to `<index>-enriched`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use digit_kafka::{Backoff, DeadLetters, HandlerError, InboundMessage, MessageHandler, Producer};
use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::enrich::Enricher;
use super::es::{BulkItem, Es, ItemOutcome};
use crate::domain::config::{message_version, ConfigKey, IndexerConfig};
use crate::domain::transform;
use crate::metrics::IndexerMetrics;

/// How many times retryable items are re-sent inside one batch before the batch itself is
/// retried by the runner.
const ITEM_RETRIES: u32 = 5;

/// How many records are enriched at once (external calls run concurrently).
const ENRICH_CONCURRENCY: usize = 16;

/// Behaviour settings of the handler.
#[derive(Debug, Clone)]
pub struct HandlerSettings {
    /// Most messages of one topic handled as one bulk.
    pub batch_size: usize,
    /// `id.timezone`.
    pub zone: Tz,
    /// `topic.push.enabled`: every document also goes to `<index>-enriched`.
    pub topic_push: bool,
    /// `dss.collectionindex.topic.push.enabled` and its topic.
    pub dss_topic: Option<String>,
    /// Whether LEGACYINDEX documents are written to Elasticsearch too (upstream leaves them to
    /// kafka-connect on `<index>-enriched`; the suite has none, so it writes them).
    pub legacy_to_es: bool,
    /// Backoff for retryable items.
    pub item_backoff: Backoff,
}

/// Indexes the messages of the topics of one config key.
#[derive(Clone)]
pub struct IndexHandler {
    /// The configs.
    pub config: Arc<IndexerConfig>,
    /// Elasticsearch.
    pub es: Es,
    /// Custom-document enrichment.
    pub enricher: Arc<Enricher>,
    /// For side topics and dead letters.
    pub producer: Producer,
    /// The dead-letter topic.
    pub dead_letters: DeadLetters,
    /// Settings.
    pub settings: HandlerSettings,
    /// Instruments.
    pub metrics: IndexerMetrics,
}

/// One document of a batch, with the message it came from.
struct Doc {
    message: usize,
    index: String,
    key: ConfigKey,
    id: Option<String>,
    source: Value,
}

impl MessageHandler for IndexHandler {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(msg)).await
    }

    fn batch_limit(&self, _topic: &str) -> usize {
        self.settings.batch_size
    }

    async fn handle_batch(&self, batch: &[InboundMessage]) -> Result<(), HandlerError> {
        let started = Instant::now();
        let mut poison: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let docs = self.documents(batch, &mut poison).await;
        self.push_side_topics(batch, &docs).await?;
        let (items, origin): (Vec<BulkItem>, Vec<usize>) = docs
            .iter()
            .filter(|d| self.writes_to_es(d))
            .filter_map(|d| {
                let id = d.id.clone()?;
                Some((
                    BulkItem {
                        index: d.index.clone(),
                        id,
                        source: d.source.clone(),
                    },
                    d.message,
                ))
            })
            .unzip();
        let outcomes = self.write(&items).await?;
        for ((item, message), outcome) in items.iter().zip(&origin).zip(&outcomes) {
            match outcome {
                ItemOutcome::Ok => self
                    .metrics
                    .documents
                    .with_label_values(&[&item.index])
                    .inc(),
                ItemOutcome::Permanent(reason) => poison
                    .entry(*message)
                    .or_default()
                    .push(format!("index {} id {}: {reason}", item.index, item.id)),
                ItemOutcome::Retry(_) => unreachable!("write() returns only final outcomes"),
            }
        }
        for (message, reasons) in poison {
            let msg = &batch[message];
            let reason = reasons.join("; ");
            self.dead_letters
                .publish(msg, &reason, Some("indexer"))
                .await
                .map_err(HandlerError::transient)?;
            self.metrics
                .dead_lettered
                .with_label_values(&[&msg.topic])
                .inc();
        }
        self.metrics
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}

impl IndexHandler {
    /// Every document the batch yields, in message order; unusable messages into `poison`.
    async fn documents(
        &self,
        batch: &[InboundMessage],
        poison: &mut BTreeMap<usize, Vec<String>>,
    ) -> Vec<Doc> {
        let mut pending = Vec::new();
        for (i, msg) in batch.iter().enumerate() {
            let message: Value = match serde_json::from_slice(&msg.payload) {
                Ok(v) => v,
                Err(e) => {
                    poison.entry(i).or_default().push(format!("not JSON: {e}"));
                    continue;
                }
            };
            let version = message_version(&message);
            let Some(mapping) = self.config.mapping(&version, &msg.topic) else {
                self.metrics.unmapped.with_label_values(&[&msg.topic]).inc();
                tracing::warn!(topic = %msg.topic, %version, "No mapping for this topic and version; message skipped.");
                continue;
            };
            for (ix, index) in mapping.indexes.iter().enumerate() {
                match transform::records(index, &message) {
                    Ok(records) => {
                        for record in records {
                            let prepared = transform::prepare(index, record, self.settings.zone);
                            pending.push((i, mapping.clone(), ix, prepared));
                        }
                    }
                    Err(e) => poison.entry(i).or_default().push(e.to_string()),
                }
            }
        }
        stream::iter(pending)
            .map(|(i, mapping, ix, prepared)| {
                let correlation = batch[i].correlation_id.clone();
                async move {
                    let index = &mapping.indexes[ix];
                    let source = self
                        .enricher
                        .document(index, &prepared, correlation.as_deref())
                        .await;
                    Doc {
                        message: i,
                        index: index.name.clone(),
                        key: mapping.config_key,
                        id: prepared.id,
                        source,
                    }
                }
            })
            .buffered(ENRICH_CONCURRENCY)
            .collect()
            .await
    }

    /// Upstream never writes indexes named like collections/payments directly (dashboard-ingest
    /// does), nor LEGACYINDEX ones (kafka-connect does) unless configured.
    fn writes_to_es(&self, doc: &Doc) -> bool {
        if is_dss_index(&doc.index) {
            return false;
        }
        doc.key != ConfigKey::LegacyIndex || self.settings.legacy_to_es
    }

    /// `<index>-enriched` and the DSS collection topic, acknowledged before the offsets move.
    async fn push_side_topics(
        &self,
        batch: &[InboundMessage],
        docs: &[Doc],
    ) -> Result<(), HandlerError> {
        for doc in docs {
            let correlation = batch[doc.message].correlation_id.as_deref();
            let dss = is_dss_index(&doc.index);
            if dss {
                if let Some(topic) = &self.settings.dss_topic {
                    self.producer
                        .send_json(topic, None, &doc.source, correlation)
                        .await
                        .map_err(HandlerError::transient)?;
                }
            }
            if self.settings.topic_push || (dss && self.settings.dss_topic.is_some()) {
                self.producer
                    .send_json(
                        &enriched_topic(&doc.index),
                        doc.id.as_deref(),
                        &doc.source,
                        correlation,
                    )
                    .await
                    .map_err(HandlerError::transient)?;
            }
        }
        Ok(())
    }

    /// Bulk-writes `items`, re-sending retryable ones; the final outcome of each (never
    /// `Retry`). Elasticsearch unavailable, or items still retryable at the end: transient.
    async fn write(&self, items: &[BulkItem]) -> Result<Vec<ItemOutcome>, HandlerError> {
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; items.len()];
        let mut todo: Vec<usize> = (0..items.len()).collect();
        let mut attempt = 0;
        while !todo.is_empty() {
            let sending: Vec<BulkItem> = todo.iter().map(|&i| items[i].clone()).collect();
            let answer = self.es.bulk(&sending).await.map_err(|e| {
                self.metrics.es_unavailable.inc();
                tracing::warn!(error = %e, "Elasticsearch did not take the bulk; consumption pauses until it does.");
                HandlerError::transient(e)
            })?;
            let mut again = Vec::new();
            for (&i, outcome) in todo.iter().zip(answer) {
                match outcome {
                    ItemOutcome::Retry(reason) => {
                        self.metrics.retried_items.inc();
                        tracing::debug!(index = %items[i].index, id = %items[i].id, %reason, "Bulk item to retry.");
                        again.push(i);
                    }
                    final_outcome => outcomes[i] = Some(final_outcome),
                }
            }
            todo = again;
            if todo.is_empty() {
                break;
            }
            attempt += 1;
            if attempt > ITEM_RETRIES {
                return Err(HandlerError::transient(format!(
                    "{} bulk item(s) still refused as retryable after {ITEM_RETRIES} retries",
                    todo.len()
                )));
            }
            tokio::time::sleep(self.settings.item_backoff.delay(attempt)).await;
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(ItemOutcome::Ok))
            .collect())
    }
}

/// `<index>-enriched`.
pub fn enriched_topic(index: &str) -> String {
    format!("{index}-enriched")
}

/// Upstream's rule for collection/payment indexes (left to dashboard-ingest).
pub fn is_dss_index(index: &str) -> bool {
    index.contains("collection") || index.contains("payment")
}

/// The default backoff for retryable items.
pub fn item_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(100), Duration::from_secs(2))
}
