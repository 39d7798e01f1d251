//! Persister metrics: messages by outcome, rows, batch sizes, dead letters, transient
//! retries, commit latency and consumer lag.

use digit_service::Metrics;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts};
use std::time::Duration;

/// The persister's instruments, registered in the service registry.
#[derive(Clone)]
pub struct PersisterMetrics {
    /// `persister_messages_total{topic,outcome}`.
    pub messages: IntCounterVec,
    /// `persister_rows_total{topic}`.
    pub rows: IntCounterVec,
    /// `persister_dead_lettered_total{topic}`.
    pub dead_lettered: IntCounterVec,
    /// `persister_transient_errors_total`.
    pub transient_errors: IntCounter,
    /// `persister_batch_size` (messages per transaction).
    pub batch_size: Histogram,
    /// `persister_commit_seconds`.
    pub commit_seconds: Histogram,
    /// `persister_lag{topic,partition}`: high watermark minus next offset.
    pub lag: IntGaugeVec,
}

impl std::fmt::Debug for PersisterMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersisterMetrics")
    }
}

impl PersisterMetrics {
    /// Creates and registers the instruments.
    pub fn new(registry: &Metrics) -> anyhow::Result<Self> {
        let m = Self {
            messages: IntCounterVec::new(
                Opts::new("persister_messages_total", "Messages handled"),
                &["topic", "outcome"],
            )?,
            rows: IntCounterVec::new(
                Opts::new("persister_rows_total", "Rows written"),
                &["topic"],
            )?,
            dead_lettered: IntCounterVec::new(
                Opts::new("persister_dead_lettered_total", "Messages dead-lettered"),
                &["topic"],
            )?,
            transient_errors: IntCounter::new(
                "persister_transient_errors_total",
                "Transient failures retried",
            )?,
            batch_size: Histogram::with_opts(
                HistogramOpts::new("persister_batch_size", "Messages per transaction").buckets(
                    vec![1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0],
                ),
            )?,
            commit_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "persister_commit_seconds",
                    "Time from transaction start to commit",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]),
            )?,
            lag: IntGaugeVec::new(
                Opts::new("persister_lag", "Messages not yet persisted"),
                &["topic", "partition"],
            )?,
        };
        registry.register(Box::new(m.messages.clone()));
        registry.register(Box::new(m.rows.clone()));
        registry.register(Box::new(m.dead_lettered.clone()));
        registry.register(Box::new(m.transient_errors.clone()));
        registry.register(Box::new(m.batch_size.clone()));
        registry.register(Box::new(m.commit_seconds.clone()));
        registry.register(Box::new(m.lag.clone()));
        Ok(m)
    }

    /// Records one committed transaction: `messages` in it, `rows` written per topic.
    pub fn observe_commit<'a>(
        &self,
        messages: usize,
        rows: impl IntoIterator<Item = (&'a str, u64)>,
        elapsed: Duration,
    ) {
        for (topic, n) in rows {
            self.rows.with_label_values(&[topic]).inc_by(n);
        }
        #[allow(clippy::cast_precision_loss)] // A batch size is far below 2^52.
        self.batch_size.observe(messages as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }
}
