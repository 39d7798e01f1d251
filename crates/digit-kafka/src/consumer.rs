//! The consumer runner: one message at a time, commit after success, retry transient
//! failures in place, dead-letter permanent ones.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{FusedFuture, FutureExt};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tracing::Instrument;

use crate::context::TracingContext;
use crate::contract::{ErrorQueueContract, StackFrame};
use crate::{Backoff, KafkaError, KafkaSettings, Producer};

/// Kafka header carrying the correlation id (spec §1.5).
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

/// How often a consumer refreshes topic metadata (`topic.metadata.refresh.interval.ms`).
const METADATA_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Pause after a consumer-level error (broker unreachable, unknown topic, …) before polling
/// again, so a broken connection does not spin the loop.
const POLL_ERROR_PAUSE: Duration = Duration::from_millis(500);

/// A message handed to a [`MessageHandler`], copied out of librdkafka's buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Broker-side topic name (with the central-instance prefix, if any).
    pub topic: String,
    /// Partition the message came from.
    pub partition: i32,
    /// Offset of the message in its partition.
    pub offset: i64,
    /// Record key (lossy UTF-8), `None` when the record has no key.
    pub key: Option<String>,
    /// Raw value bytes; empty for a record without a value. Whether they are valid UTF-8 or
    /// JSON is the handler's business.
    pub payload: Vec<u8>,
    /// Header `x-correlation-id`, else `RequestInfo.correlationId` (or
    /// `requestInfo.correlationId`) from a JSON payload — upstream producers send no headers.
    pub correlation_id: Option<String>,
    /// Record timestamp, epoch milliseconds, when the broker reported one.
    pub timestamp_ms: Option<i64>,
    /// All record headers in order; values are `None` for null headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl InboundMessage {
    /// Deserialises the payload as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.payload)
    }

    /// The payload as UTF-8 text.
    pub fn payload_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.payload)
    }

    /// The value of the first header named `name` (exact match), if present and not null.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.as_deref())
    }

    fn from_borrowed(message: &BorrowedMessage<'_>) -> Self {
        let headers: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let payload = message.payload().map(<[u8]>::to_vec).unwrap_or_default();
        let correlation_id = headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(CORRELATION_ID_HEADER))
            .and_then(|(_, value)| value.as_deref())
            .map(|value| String::from_utf8_lossy(value).into_owned())
            .filter(|id| !id.is_empty())
            .or_else(|| correlation_id_from_body(&payload));
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            payload,
            correlation_id,
            timestamp_ms: message.timestamp().to_millis(),
            headers,
        }
    }
}

/// Reads `RequestInfo.correlationId` (or `requestInfo.correlationId`) from a JSON payload
/// without building a tree of the rest.
fn correlation_id_from_body(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "RequestInfo")]
        upper: Option<ProbeRequestInfo>,
        #[serde(rename = "requestInfo")]
        lower: Option<ProbeRequestInfo>,
    }
    #[derive(Deserialize)]
    struct ProbeRequestInfo {
        #[serde(rename = "correlationId")]
        correlation_id: Option<String>,
    }
    if payload.first() != Some(&b'{') {
        return None;
    }
    let probe: Probe = serde_json::from_slice(payload).ok()?;
    probe
        .upper
        .and_then(|ri| ri.correlation_id)
        .or_else(|| probe.lower.and_then(|ri| ri.correlation_id))
        .filter(|id| !id.is_empty())
}

/// Why a handler did not process a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// The message is fine but something it needs is not (database down, dependency
    /// timing out): the runner retries the same message with backoff, never skipping it.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The message itself cannot be processed (malformed, violates a constraint): the
    /// runner dead-letters it and moves on.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl HandlerError {
    /// A [`HandlerError::Transient`] with `reason`'s text.
    pub fn transient(reason: impl std::fmt::Display) -> Self {
        Self::Transient(reason.to_string())
    }

    /// A [`HandlerError::Permanent`] with `reason`'s text.
    pub fn permanent(reason: impl std::fmt::Display) -> Self {
        Self::Permanent(reason.to_string())
    }
}

/// Processes one Kafka message. Implement it with `async fn handle(&self, msg:
/// &InboundMessage) -> Result<(), HandlerError>`; the returned future must be `Send`.
///
/// Delivery is at least once: a message whose handler succeeded can be seen again if the
/// process dies before the offset commit lands, so handlers must be idempotent.
pub trait MessageHandler: Send + Sync {
    /// Handles `msg`. `Ok` commits its offset; see [`HandlerError`] for the failures.
    fn handle(&self, msg: &InboundMessage)
        -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<H: MessageHandler> MessageHandler for Arc<H> {
    fn handle(
        &self,
        msg: &InboundMessage,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        H::handle(self, msg)
    }
}

/// What became of one message.
enum Outcome {
    /// Processed or dead-lettered: commit its offset.
    Commit,
    /// Shutdown arrived while waiting to retry: leave it uncommitted for the next consumer.
    Abandon,
}

/// A consumer-group member that feeds messages to a [`MessageHandler`] one at a time and
/// commits each offset only after the message was dealt with.
///
/// Settings: `enable.auto.commit=false`, `enable.auto.offset.store=false`,
/// `auto.offset.reset=earliest`, the settings' session timeout (heartbeats at a third of
/// it), `topic.metadata.refresh.interval.ms=10000`; any `extra` property overrides these. Note librdkafka's `max.poll.interval.ms` (default 5 min): if one
/// message's handler (retries included) takes longer, the consumer leaves the group, the
/// later commit fails (logged) and the message is delivered again — still nothing lost.
pub struct ConsumerRunner {
    consumer: Arc<StreamConsumer<TracingContext>>,
    group_id: String,
    topics: Vec<String>,
    backoff: Backoff,
}

impl std::fmt::Debug for ConsumerRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerRunner")
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl ConsumerRunner {
    /// Creates a consumer in group `group_id` subscribed to the logical `topics` (the
    /// settings' prefix is applied; names starting with `^` are regex subscriptions).
    ///
    /// Must be called from within a Tokio runtime. Subscribing to a topic that does not
    /// exist yet is not an error: the consumer logs a warning and picks the topic up at the
    /// next metadata refresh after it was created (within about 10 s).
    pub fn new(
        settings: &KafkaSettings,
        group_id: &str,
        topics: &[&str],
    ) -> Result<Self, KafkaError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(KafkaError::Config(
                "ConsumerRunner::new must be called within a Tokio runtime".to_owned(),
            ));
        }
        if topics.is_empty() {
            return Err(KafkaError::Config(
                "a consumer needs at least one topic".to_owned(),
            ));
        }
        let mut config = settings.base_config();
        config
            .set("group.id", group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // Services answer after the persister committed (read-your-writes), so a message's
            // latency is user-visible. Brokers that do not end a waiting fetch when data arrives
            // (Tansu) would add up to librdkafka's default 500 ms to every message.
            .set("fetch.wait.max.ms", "20")
            // Notice subscribed topics created after start-up within seconds, not the
            // default 5 minutes (Tansu does not auto-create topics).
            .set(
                "topic.metadata.refresh.interval.ms",
                METADATA_REFRESH_INTERVAL.as_millis().to_string(),
            )
            .set(
                "session.timeout.ms",
                settings.session_timeout_ms.to_string(),
            )
            .set(
                "heartbeat.interval.ms",
                (settings.session_timeout_ms / 3).max(100).to_string(),
            );
        settings.apply_extra(&mut config);
        let consumer: StreamConsumer<TracingContext> =
            config.create_with_context(TracingContext)?;
        let topics: Vec<String> = topics.iter().map(|t| settings.topic(t)).collect();
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topic_refs)?;
        tracing::info!(group_id, topics = ?topics, "kafka consumer subscribed");
        Ok(Self {
            consumer: Arc::new(consumer),
            group_id: group_id.to_owned(),
            topics,
            backoff: Backoff::default(),
        })
    }

    /// Replaces the retry schedule for transient failures (default 100 ms doubling to 10 s).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The broker-side topic names (prefix applied) this runner subscribed to.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The consumer group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Consumes until `shutdown` completes.
    ///
    /// For each message, in partition order:
    /// - `Ok` → commit the offset, next message;
    /// - [`HandlerError::Transient`] → wait ([`Backoff`]) and call the handler again with the
    ///   same message, neither skipping nor committing it, until it succeeds or shutdown;
    /// - [`HandlerError::Permanent`] → publish an [`ErrorQueueContract`] to the
    ///   `dead_letter` topic `(producer, logical topic)` and commit once the broker
    ///   acknowledged it (publishing is retried like a transient failure); without a
    ///   dead-letter topic the failure is logged at error level and the offset committed.
    ///
    /// On shutdown the runner stops polling, lets an in-flight handler call finish (and
    /// commits it if it succeeded; a message waiting for a retry stays uncommitted), then
    /// leaves the group and returns. If the returned future is dropped instead, nothing
    /// in flight is committed, so the message is delivered again to the group.
    ///
    /// Returns an error only for a fatal librdkafka error; other consumer errors are logged
    /// and polling continues.
    pub async fn run<H, S>(
        self,
        handler: H,
        dead_letter: Option<(Producer, String)>,
        shutdown: S,
    ) -> Result<(), KafkaError>
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        let mut shutdown = Box::pin(shutdown.fuse());
        let result = self
            .consume(&handler, dead_letter.as_ref(), &mut shutdown)
            .await;
        // Leaving the group (rd_kafka_consumer_close) blocks, so do it off the runtime.
        let consumer = self.consumer;
        let group_id = self.group_id;
        tokio::task::spawn_blocking(move || drop(consumer)).await?;
        tracing::info!(group_id = %group_id, "kafka consumer stopped");
        result
    }

    async fn consume<H, S>(
        &self,
        handler: &H,
        dead_letter: Option<&(Producer, String)>,
        shutdown: &mut Pin<Box<futures::future::Fuse<S>>>,
    ) -> Result<(), KafkaError>
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        loop {
            if shutdown.is_terminated() {
                return Ok(());
            }
            let received = tokio::select! {
                biased;
                () = shutdown.as_mut() => return Ok(()),
                received = self.consumer.recv() => {
                    received.as_ref().map(InboundMessage::from_borrowed).map_err(Clone::clone)
                }
            };
            let message = match received {
                Ok(message) => message,
                Err(error) => {
                    if let Some((code, reason)) = self.consumer.client().fatal_error() {
                        tracing::error!(group_id = %self.group_id, code = %code, reason = %reason, "fatal kafka consumer error");
                        return Err(KafkaError::Client(error));
                    }
                    tracing::warn!(group_id = %self.group_id, error = %error, "kafka consumer error");
                    if !pause_unless_shutdown(POLL_ERROR_PAUSE, shutdown).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            let span = tracing::info_span!(
                "kafka_message",
                topic = %message.topic,
                partition = message.partition,
                offset = message.offset,
                correlation_id = message.correlation_id.as_deref().unwrap_or(""),
            );
            let outcome = self
                .process(handler, &message, dead_letter, shutdown)
                .instrument(span.clone())
                .await;
            match outcome {
                Outcome::Commit => self.commit(&message).instrument(span).await,
                Outcome::Abandon => {
                    span.in_scope(|| {
                        tracing::info!("shutdown while retrying; message left uncommitted")
                    });
                    return Ok(());
                }
            }
        }
    }

    /// Runs the handler on `message` until it is done with (success or dead letter) or
    /// shutdown interrupts a retry wait.
    async fn process<H, S>(
        &self,
        handler: &H,
        message: &InboundMessage,
        dead_letter: Option<&(Producer, String)>,
        shutdown: &mut Pin<Box<futures::future::Fuse<S>>>,
    ) -> Outcome
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        tracing::debug!("kafka message received");
        let mut attempt: u32 = 0;
        let reason = loop {
            // The in-flight handler call always runs to completion, shutdown or not.
            match handler.handle(message).await {
                Ok(()) => {
                    tracing::debug!(attempts = attempt + 1, "kafka message processed");
                    return Outcome::Commit;
                }
                Err(HandlerError::Transient(reason)) => {
                    let delay = self.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(
                        attempt,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        reason = %reason,
                        "transient failure; retrying the same message"
                    );
                    if !pause_unless_shutdown(delay, shutdown).await {
                        return Outcome::Abandon;
                    }
                }
                Err(HandlerError::Permanent(reason)) => break reason,
            }
        };

        let Some((producer, dlq_topic)) = dead_letter else {
            tracing::error!(
                reason = %reason,
                "permanent failure and no dead-letter topic configured; message skipped"
            );
            return Outcome::Commit;
        };
        tracing::error!(
            reason = %reason,
            dead_letter_topic = %dlq_topic,
            "permanent failure; sending message to the dead-letter topic"
        );
        let mut contract = ErrorQueueContract::new(
            message.topic.clone(),
            &message.payload,
            reason,
            message.correlation_id.clone(),
        );
        contract.exception = Some(vec![StackFrame::new(std::any::type_name::<H>(), "handle")]);
        let mut attempt: u32 = 0;
        loop {
            match producer
                .send_json(
                    dlq_topic,
                    message.key.as_deref(),
                    &contract,
                    message.correlation_id.as_deref(),
                )
                .await
            {
                Ok(delivery) => {
                    tracing::info!(
                        dead_letter_topic = %dlq_topic,
                        dead_letter_partition = delivery.partition,
                        dead_letter_offset = delivery.offset,
                        error_id = contract.id.as_deref().unwrap_or(""),
                        "message dead-lettered"
                    );
                    return Outcome::Commit;
                }
                Err(error) => {
                    let delay = self.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(
                        attempt,
                        error = %error,
                        dead_letter_topic = %dlq_topic,
                        "could not publish dead letter; retrying"
                    );
                    if !pause_unless_shutdown(delay, shutdown).await {
                        return Outcome::Abandon;
                    }
                }
            }
        }
    }

    /// Commits `message.offset + 1` synchronously (on the blocking pool). A failed commit is
    /// logged: the message will then be delivered again (at least once).
    async fn commit(&self, message: &InboundMessage) {
        let consumer = Arc::clone(&self.consumer);
        let topic = message.topic.clone();
        let (partition, next) = (message.partition, message.offset + 1);
        let result = tokio::task::spawn_blocking(move || {
            let mut tpl = TopicPartitionList::with_capacity(1);
            tpl.add_partition_offset(&topic, partition, Offset::Offset(next))?;
            consumer.commit(&tpl, CommitMode::Sync)
        })
        .await;
        match result {
            Ok(Ok(())) => tracing::debug!(committed = next, "kafka offset committed"),
            Ok(Err(error)) => tracing::warn!(
                error = %error,
                "kafka offset commit failed; the message may be delivered again"
            ),
            Err(error) => tracing::warn!(
                error = %error,
                "kafka offset commit task failed; the message may be delivered again"
            ),
        }
    }
}

/// Sleeps for `delay` unless `shutdown` completes first. Returns `false` on shutdown.
async fn pause_unless_shutdown<S>(
    delay: Duration,
    shutdown: &mut Pin<Box<futures::future::Fuse<S>>>,
) -> bool
where
    S: Future<Output = ()>,
{
    if shutdown.is_terminated() {
        return false;
    }
    tokio::select! {
        biased;
        () = shutdown.as_mut() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_id_from_request_info() {
        let body = br#"{"RequestInfo":{"apiId":"x","correlationId":"abc"},"n":1}"#;
        assert_eq!(correlation_id_from_body(body).as_deref(), Some("abc"));
        let body = br#"{"requestInfo":{"correlationId":"def"}}"#;
        assert_eq!(correlation_id_from_body(body).as_deref(), Some("def"));
        assert_eq!(correlation_id_from_body(br#"{"RequestInfo":null}"#), None);
        assert_eq!(
            correlation_id_from_body(br#"{"RequestInfo":{"correlationId":""}}"#),
            None
        );
        assert_eq!(correlation_id_from_body(b"[1,2]"), None);
        assert_eq!(correlation_id_from_body(b"not json"), None);
    }

    #[test]
    fn handler_error_constructors() {
        assert_eq!(
            HandlerError::transient("db down"),
            HandlerError::Transient("db down".into())
        );
        assert_eq!(
            HandlerError::permanent(format_args!("bad {}", 1)).to_string(),
            "permanent failure: bad 1"
        );
    }

    #[test]
    fn inbound_message_helpers() {
        let message = InboundMessage {
            topic: "t".into(),
            partition: 0,
            offset: 3,
            key: None,
            payload: br#"{"a":null}"#.to_vec(),
            correlation_id: None,
            timestamp_ms: None,
            headers: vec![("h".into(), Some(b"v".to_vec())), ("n".into(), None)],
        };
        let value: serde_json::Value = message.json().unwrap();
        assert_eq!(value, serde_json::json!({"a": null}));
        assert_eq!(message.payload_str().unwrap(), r#"{"a":null}"#);
        assert_eq!(message.header("h"), Some(&b"v"[..]));
        assert_eq!(message.header("n"), None);
        assert_eq!(message.header("missing"), None);
    }
}
