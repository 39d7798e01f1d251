//! The exchange's counters (besides the outbound client's `http_client_*{target=
//! "exchange-delivery"}` per attempt): `exchange_messages_total{event}` — `accepted_local`,
//! `accepted_remote`, `delivered`, `error_reply`, `error_queue` — and
//! `exchange_refused_total{code}` for requests the edge refused.

use digit_service::Metrics;
use prometheus::{IntCounterVec, Opts};

/// The counters; cheap to clone.
#[derive(Debug, Clone)]
pub struct ExchangeMetrics {
    messages: IntCounterVec,
    refused: IntCounterVec,
}

impl ExchangeMetrics {
    /// Creates the counters and registers them in `metrics`.
    pub fn new(metrics: &Metrics) -> anyhow::Result<Self> {
        let m = Self {
            messages: IntCounterVec::new(
                Opts::new(
                    "exchange_messages_total",
                    "Messages accepted, delivered or failed",
                ),
                &["event"],
            )?,
            refused: IntCounterVec::new(
                Opts::new(
                    "exchange_refused_total",
                    "Requests the HTTP edge refused, by error code",
                ),
                &["code"],
            )?,
        };
        metrics.register(Box::new(m.messages.clone()));
        metrics.register(Box::new(m.refused.clone()));
        Ok(m)
    }

    /// Counts one `event`.
    pub fn event(&self, event: &str) {
        self.messages.with_label_values(&[event]).inc();
    }

    /// Counts one refusal with `code`.
    pub fn refused(&self, code: &str) {
        self.refused.with_label_values(&[code]).inc();
    }
}
