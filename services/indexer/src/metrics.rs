//! Indexer metrics: documents written, dead letters, unmapped messages, retries, outages,
//! enrichment failures, batch latency and reindex progress.

use digit_service::Metrics;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts};

/// The indexer's instruments, registered in the service registry.
#[derive(Clone)]
pub struct IndexerMetrics {
    /// `indexer_documents_total{index}`: documents Elasticsearch acknowledged.
    pub documents: IntCounterVec,
    /// `indexer_dead_lettered_total{topic}`.
    pub dead_lettered: IntCounterVec,
    /// `indexer_unmapped_messages_total{topic}`: no mapping for the message's version.
    pub unmapped: IntCounterVec,
    /// `indexer_retried_items_total`: bulk items answered 429/5xx and sent again.
    pub retried_items: IntCounter,
    /// `indexer_es_unavailable_total`: bulks Elasticsearch did not take (consumption paused).
    pub es_unavailable: IntCounter,
    /// `indexer_enrichment_failures_total{target}`: external / MDMS calls that failed.
    pub enrichment_failures: IntCounterVec,
    /// `indexer_batch_seconds`: one batch from documents to acknowledged bulk.
    pub batch_seconds: Histogram,
    /// `indexer_job_records{job,state}`: records of `_reindex`/`_legacyindex` jobs.
    pub job_records: IntGaugeVec,
}

impl std::fmt::Debug for IndexerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexerMetrics")
    }
}

impl IndexerMetrics {
    /// Creates and registers the instruments.
    pub fn new(registry: &Metrics) -> anyhow::Result<Self> {
        let m = Self {
            documents: IntCounterVec::new(
                Opts::new(
                    "indexer_documents_total",
                    "Documents acknowledged by Elasticsearch",
                ),
                &["index"],
            )?,
            dead_lettered: IntCounterVec::new(
                Opts::new("indexer_dead_lettered_total", "Messages dead-lettered"),
                &["topic"],
            )?,
            unmapped: IntCounterVec::new(
                Opts::new(
                    "indexer_unmapped_messages_total",
                    "Messages with no mapping for their version",
                ),
                &["topic"],
            )?,
            retried_items: IntCounter::new(
                "indexer_retried_items_total",
                "Bulk items answered 429/5xx and sent again",
            )?,
            es_unavailable: IntCounter::new(
                "indexer_es_unavailable_total",
                "Bulk requests Elasticsearch did not take",
            )?,
            enrichment_failures: IntCounterVec::new(
                Opts::new(
                    "indexer_enrichment_failures_total",
                    "External or MDMS enrichment calls that failed",
                ),
                &["target"],
            )?,
            batch_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "indexer_batch_seconds",
                    "Time from a batch's messages to its acknowledged bulk",
                )
                .buckets(vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ]),
            )?,
            job_records: IntGaugeVec::new(
                Opts::new(
                    "indexer_job_records",
                    "Records of reindex and legacy-index jobs",
                ),
                &["job", "state"],
            )?,
        };
        registry.register(Box::new(m.documents.clone()));
        registry.register(Box::new(m.dead_lettered.clone()));
        registry.register(Box::new(m.unmapped.clone()));
        registry.register(Box::new(m.retried_items.clone()));
        registry.register(Box::new(m.es_unavailable.clone()));
        registry.register(Box::new(m.enrichment_failures.clone()));
        registry.register(Box::new(m.batch_seconds.clone()));
        registry.register(Box::new(m.job_records.clone()));
        Ok(m)
    }
}
