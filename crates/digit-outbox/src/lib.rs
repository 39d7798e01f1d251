//! The transactional outbox: a message is written as a row in the same Postgres
//! transaction as the business change it reports ([`enqueue`]), and a [`Relay`] worker
//! delivers committed rows to Kafka (the platform producer, `acks=all`) or over HTTP (with
//! explicit timeouts), retrying failures with capped exponential backoff
//! (`attempts`, `next_attempt_at`, `last_error`) and marking a row `dead` after
//! `OUTBOX_MAX_ATTEMPTS` failures (or at once on a permanent failure such as HTTP 400),
//! with the `outbox_dead_total` metric and an error log.
//!
//! **Guarantee.** A rolled-back transaction sends nothing; a committed one is delivered at
//! least once, even across a crash (a `SIGKILL` between commit and delivery leaves the row
//! `pending`). A crash *between* a delivery and the relay's commit delivers that message
//! again, so every message carries an idempotency key — the Kafka header
//! `idempotency-key`, the HTTP header `Idempotency-Key`, unique in the table — and the
//! receiver makes the effect exactly once by ignoring a key it has already applied.
//! Relays on several replicas are safe: rows are claimed with `FOR UPDATE SKIP LOCKED`.
//! There is no ordering guarantee between messages once a delivery failed and was retried.
//! Delivered and dead rows stay in `digit_outbox` for inspection (`status`, `last_error`).
//!
//! The table lives in `migrations/outbox/` ([`OUTBOX_MIGRATOR`]); a service adds it to its
//! migration sets and runs the relay as a supervised worker.

mod error;
mod http;
mod message;
mod relay;
mod settings;

pub use error::OutboxError;
pub use http::{DeliveryFailure, HttpRequest, HttpSender, OutboundSender};
pub use message::{
    enqueue, Destination, OutboxMessage, HTTP_IDEMPOTENCY_HEADER, KAFKA_IDEMPOTENCY_HEADER,
};
pub use relay::{OutboxMetrics, Relay};
pub use settings::{
    OutboxSettings, OUTBOX_BACKOFF_BASE_MS, OUTBOX_BACKOFF_MAX_MS, OUTBOX_BATCH_SIZE,
    OUTBOX_HTTP_CONNECT_TIMEOUT_MS, OUTBOX_HTTP_TIMEOUT_MS, OUTBOX_MAX_ATTEMPTS,
    OUTBOX_POLL_INTERVAL_MS, OUTBOX_VARS,
};

/// The outbox table (`migrations/outbox/`).
pub static OUTBOX_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/outbox");

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
