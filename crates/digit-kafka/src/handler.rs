//! What a consumer plugs into the [`ConsumerRunner`](crate::ConsumerRunner): the
//! [`MessageHandler`] trait and the two ways a message can fail.

use std::future::Future;
use std::sync::Arc;

use digit_core::BoxError;

use crate::InboundMessage;

/// Why a handler did not process a message. Both keep the cause as their `source()`.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message is fine but something it needs is not (database down, dependency
    /// timing out): the runner retries the same message with backoff, never skipping it.
    #[error("transient failure")]
    Transient(#[source] BoxError),
    /// The message itself cannot be processed (malformed, violates a constraint): the
    /// runner dead-letters it and moves on.
    #[error("permanent failure")]
    Permanent(#[source] BoxError),
}

impl HandlerError {
    /// A [`HandlerError::Transient`] caused by `cause` (an error, or a `&str`/`String`).
    pub fn transient(cause: impl Into<BoxError>) -> Self {
        Self::Transient(cause.into())
    }

    /// A [`HandlerError::Permanent`] caused by `cause` (an error, or a `&str`/`String`).
    pub fn permanent(cause: impl Into<BoxError>) -> Self {
        Self::Permanent(cause.into())
    }

    /// True for [`HandlerError::Transient`].
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    /// The cause and its chain on one line (what a dead letter's `message` says).
    pub fn reason(&self) -> String {
        let (Self::Transient(cause) | Self::Permanent(cause)) = self;
        digit_core::infra::chain(&**cause)
    }
}

impl From<digit_core::InfraError> for HandlerError {
    /// Infrastructure failures are transient: the same message is retried.
    fn from(e: digit_core::InfraError) -> Self {
        Self::Transient(Box::new(e))
    }
}

/// Where a consumer group should resume a partition: the next offset to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOffset {
    /// Broker-side topic name.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Next offset to consume.
    pub next: i64,
}

/// Processes Kafka messages for a [`ConsumerRunner`](crate::ConsumerRunner).
///
/// Implement [`handle`](Self::handle) with `async fn handle(&self, msg: &InboundMessage)
/// -> Result<(), HandlerError>` (the future must be `Send`). The other methods have
/// defaults for a handler that takes one message at a time and lets Kafka keep its offsets:
///
/// - [`batch_limit`](Self::batch_limit) > 1 for a topic makes the runner hand consecutive
///   messages of that topic (those already fetched, up to the limit) to
///   [`handle_batch`](Self::handle_batch) as one unit;
/// - [`group_limit`](Self::group_limit) > 1 makes the runner hand the messages that are
///   already fetched when one arrives — of any topics whose `batch_limit` is 1, up to the
///   limit — to [`handle_batch`](Self::handle_batch) together ("group commit": under load
///   one unit of work absorbs many messages; an idle consumer still sees one at a time and
///   never waits for a second);
/// - [`start_offsets`](Self::start_offsets) lets a handler that stores offsets itself (in
///   the transaction of its effect, like the persister) position the group before it joins.
///
/// Delivery is at least once: a message whose handler succeeded can be seen again if the
/// process dies before the offset commit lands, so handlers must be idempotent (or check
/// their own stored offsets).
pub trait MessageHandler: Send + Sync {
    /// Handles `msg`. `Ok` commits its offset; see [`HandlerError`] for the failures.
    fn handle(&self, msg: &InboundMessage)
        -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Most messages of `topic` handed to [`handle_batch`](Self::handle_batch) at once;
    /// 1 (the default) hands every message to [`handle`](Self::handle).
    fn batch_limit(&self, _topic: &str) -> usize {
        1
    }

    /// Most already-fetched messages handed to [`handle_batch`](Self::handle_batch) together
    /// across topics (see the trait's notes); 1 (the default) turns grouping off. The
    /// messages of one partition keep their order; partitions interleave.
    fn group_limit(&self) -> usize {
        1
    }

    /// Handles consecutive messages (of one topic, or a group across topics) as a unit: `Ok` commits them all, a
    /// transient error retries the whole batch, a permanent error dead-letters every
    /// message of it. The default handles them in order with [`handle`](Self::handle); a
    /// handler that batches overrides it to make the batch one unit (one transaction).
    fn handle_batch(
        &self,
        batch: &[InboundMessage],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for msg in batch {
                self.handle(msg).await?;
            }
            Ok(())
        }
    }

    /// Offsets committed to the group before the consumer joins it, so consumption resumes
    /// where the handler's own records say (default: none, Kafka's committed offsets rule).
    /// An error is retried with the runner's backoff until shutdown.
    fn start_offsets(&self) -> impl Future<Output = Result<Vec<StartOffset>, HandlerError>> + Send {
        async { Ok(Vec::new()) }
    }
}

impl<H: MessageHandler> MessageHandler for Arc<H> {
    fn handle(
        &self,
        msg: &InboundMessage,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        H::handle(self, msg)
    }

    fn batch_limit(&self, topic: &str) -> usize {
        H::batch_limit(self, topic)
    }

    fn group_limit(&self) -> usize {
        H::group_limit(self)
    }

    fn handle_batch(
        &self,
        batch: &[InboundMessage],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        H::handle_batch(self, batch)
    }

    fn start_offsets(&self) -> impl Future<Output = Result<Vec<StartOffset>, HandlerError>> + Send {
        H::start_offsets(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_error_keeps_its_cause() {
        let e = HandlerError::transient("db down");
        assert!(e.is_transient());
        assert_eq!(e.reason(), "db down");
        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = HandlerError::permanent(json);
        assert!(!e.is_transient());
        assert_eq!(e.to_string(), "permanent failure");
        let source = std::error::Error::source(&e).unwrap();
        assert!(source.downcast_ref::<serde_json::Error>().is_some());
        let infra = digit_core::InfraError::database("storing the offset", "pool timed out");
        let e = HandlerError::from(infra);
        assert!(e.is_transient());
        assert_eq!(e.reason(), "database: storing the offset: pool timed out");
    }
}
