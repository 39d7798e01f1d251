//! The consumer loop every Kafka consumer of the suite runs: optionally position the group
//! at the handler's own offsets, then one message (or one batch) at a time — handle, retry
//! transient failures in place, dead-letter permanent ones, commit after success.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{Fuse, FusedFuture, FutureExt};
use rdkafka::consumer::{CommitMode as RdCommitMode, Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use tracing::Instrument;

use crate::context::TracingContext;
use crate::{
    Backoff, DeadLetters, HandlerError, InboundMessage, KafkaError, KafkaSettings, MessageHandler,
    StartOffset,
};

/// How often a consumer refreshes topic metadata (`topic.metadata.refresh.interval.ms`).
const METADATA_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Pause after a consumer-level error (broker unreachable, unknown topic, …) before polling
/// again, so a broken connection does not spin the loop.
const POLL_ERROR_PAUSE: Duration = Duration::from_millis(500);

/// How often librdkafka commits the offsets [`CommitMode::Async`] stored.
pub const AUTO_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// How long the runner waits for a further message while filling a batch: only messages
/// already fetched join it, so a batch never delays its first message noticeably.
const BATCH_FILL_WAIT: Duration = Duration::from_millis(5);

type Shutdown<S> = Pin<Box<Fuse<S>>>;

/// How offsets are committed to the group after a message was dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// Wait for the broker to store the offset (on the blocking pool). The default: Kafka's
    /// committed offsets are the truth.
    Sync,
    /// Stored for librdkafka's background commit (every [`AUTO_COMMIT_INTERVAL`], and on
    /// revoke and close): for handlers that keep the authoritative offsets themselves (see
    /// [`MessageHandler::start_offsets`]), where the group's offsets are only a hint for
    /// lag tools and a failed commit costs nothing. One commit request per message was
    /// slower than the persister (each is a write to `__consumer_offsets`): they queued at
    /// the group coordinator by the thousand, the heartbeats behind them timed the session
    /// out, and the partition was revoked for as long as the queue took to drain.
    Async,
}

/// What became of one message or batch.
enum Outcome {
    /// Processed or dead-lettered: commit its offsets.
    Commit,
    /// Shutdown arrived while waiting to retry: leave it uncommitted for the next consumer.
    Abandon,
}

/// A consumer-group member that feeds messages to a [`MessageHandler`] and commits each
/// offset only after the message was dealt with.
///
/// Settings: `enable.auto.commit=true` every [`AUTO_COMMIT_INTERVAL`] (it commits only offsets
/// the runner stored, which only [`CommitMode::Async`] does), `enable.auto.offset.store=false`,
/// `auto.offset.reset=earliest`, the settings' session timeout (heartbeats at a third of
/// it) and `fetch.wait.max.ms`, `topic.metadata.refresh.interval.ms=10000`; any `extra`
/// property overrides these. Note librdkafka's `max.poll.interval.ms` (default 5 min): if
/// one message's handler (retries included) takes longer, the consumer leaves the group,
/// the later commit fails (logged) and the message is delivered again — still nothing
/// lost; a handler that may retry for longer (the persister, through a database outage)
/// raises it in `extra`.
pub struct ConsumerRunner {
    consumer: Arc<StreamConsumer<TracingContext>>,
    group_id: String,
    topics: Vec<String>,
    backoff: Backoff,
    commit_mode: CommitMode,
}

impl std::fmt::Debug for ConsumerRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerRunner")
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("backoff", &self.backoff)
            .field("commit_mode", &self.commit_mode)
            .finish()
    }
}

impl ConsumerRunner {
    /// Creates a consumer in group `group_id` for the logical `topics` (the settings'
    /// prefix is applied; names starting with `^` are regex subscriptions). It subscribes
    /// when [`run`](Self::run) starts, after positioning the group.
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
            // Commits what `CommitMode::Async` stores; `Sync` stores nothing and commits itself.
            .set("enable.auto.commit", "true")
            .set(
                "auto.commit.interval.ms",
                AUTO_COMMIT_INTERVAL.as_millis().to_string(),
            )
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // How long the broker may park a fetch that finds no data. Kafka answers as soon
            // as data arrives, so this bounds idle round trips, not a message's latency.
            .set("fetch.wait.max.ms", settings.fetch_wait_max_ms.to_string())
            // Notice subscribed topics created after start-up (topic auto-creation is off)
            // within seconds, not librdkafka's default 5 minutes.
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
        Ok(Self {
            consumer: Arc::new(consumer),
            group_id: group_id.to_owned(),
            topics: topics.iter().map(|t| settings.topic(t)).collect(),
            backoff: Backoff::default(),
            commit_mode: CommitMode::Sync,
        })
    }

    /// Replaces the retry schedule for transient failures (default 100 ms doubling to 10 s).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Replaces how offsets are committed (default [`CommitMode::Sync`]).
    #[must_use]
    pub fn with_commit_mode(mut self, mode: CommitMode) -> Self {
        self.commit_mode = mode;
        self
    }

    /// The broker-side topic names (prefix applied) this runner subscribes to.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The consumer group id.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Consumes until `shutdown` completes.
    ///
    /// First the handler's [`start_offsets`](MessageHandler::start_offsets) are committed
    /// to the group (before it joins, so the first fetch starts there), then the runner
    /// subscribes. For each message — or batch, see [`MessageHandler::batch_limit`] — in
    /// partition order:
    /// - `Ok` → commit the offsets ([`CommitMode`]), next message;
    /// - [`HandlerError::Transient`] → wait ([`Backoff`]) and call the handler again with the
    ///   same message, neither skipping nor committing it, until it succeeds or shutdown;
    /// - [`HandlerError::Permanent`] → publish each message to `dead_letters` and commit
    ///   once the broker acknowledged it (publishing is retried like a transient failure);
    ///   without dead letters the failure is logged at error level and the offset committed.
    ///
    /// On shutdown the runner stops polling, lets an in-flight handler call finish (and
    /// commits it if it succeeded; a message waiting for a retry stays uncommitted), then
    /// leaves the group and returns. If the returned future is dropped instead, nothing
    /// in flight is committed, so the message is delivered again to the group.
    ///
    /// Returns an error only for a fatal librdkafka error or a failed subscription; other
    /// consumer errors are logged and polling continues.
    pub async fn run<H, S>(
        self,
        handler: H,
        dead_letters: Option<DeadLetters>,
        shutdown: S,
    ) -> Result<(), KafkaError>
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        let mut shutdown = Box::pin(shutdown.fuse());
        let result = self
            .consume(&handler, dead_letters.as_ref(), &mut shutdown)
            .await;
        // Leaving the group (rd_kafka_consumer_close) blocks, so do it off the runtime.
        // Unsubscribing first matters: closing a still-subscribed consumer took ~10 s
        // against Apache Kafka 4.1 (the whole service's exit waited for it); after an
        // unsubscribe the close takes ~0.1 s.
        let consumer = self.consumer;
        let group_id = self.group_id;
        tokio::task::spawn_blocking(move || {
            consumer.unsubscribe();
            drop(consumer);
        })
        .await?;
        tracing::info!(group_id = %group_id, "kafka consumer stopped");
        result
    }

    async fn consume<H, S>(
        &self,
        handler: &H,
        dead_letters: Option<&DeadLetters>,
        shutdown: &mut Shutdown<S>,
    ) -> Result<(), KafkaError>
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        if !self.position(handler, shutdown).await {
            return Ok(());
        }
        let topic_refs: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        self.consumer.subscribe(&topic_refs)?;
        tracing::info!(group_id = %self.group_id, topics = ?self.topics, "kafka consumer subscribed");
        let mut pending = VecDeque::new();
        loop {
            let first = match pending.pop_front() {
                Some(message) => message,
                None => match self.receive(shutdown).await? {
                    Some(message) => message,
                    None => return Ok(()),
                },
            };
            let limit = handler.batch_limit(&first.topic);
            let batch = if limit > 1 {
                self.fill_batch(first, limit, &mut pending).await
            } else if handler.group_limit() > 1 {
                self.fill_group(handler, first, &mut pending)
            } else {
                vec![first]
            };
            let batched = limit > 1 || batch.len() > 1;
            let span = tracing::info_span!(
                "kafka_message",
                topic = %batch[0].topic,
                partition = batch[0].partition,
                offset = batch[0].offset,
                messages = batch.len(),
                correlation_id = batch[0].correlation_id.as_deref().unwrap_or(""),
            );
            let outcome = self
                .process(handler, &batch, batched, dead_letters, shutdown)
                .instrument(span.clone())
                .await;
            match outcome {
                Outcome::Commit => self.commit(&batch).instrument(span).await,
                Outcome::Abandon => {
                    span.in_scope(|| {
                        tracing::info!("shutdown while retrying; message left uncommitted");
                    });
                    return Ok(());
                }
            }
        }
    }

    /// The next message, `None` on shutdown. Consumer errors are logged and polling goes
    /// on, except for a fatal one.
    async fn receive<S>(
        &self,
        shutdown: &mut Shutdown<S>,
    ) -> Result<Option<InboundMessage>, KafkaError>
    where
        S: Future<Output = ()> + Send,
    {
        loop {
            if shutdown.is_terminated() {
                return Ok(None);
            }
            let received = tokio::select! {
                biased;
                () = shutdown.as_mut() => return Ok(None),
                received = self.consumer.recv() => {
                    received.as_ref().map(InboundMessage::from_borrowed).map_err(Clone::clone)
                }
            };
            match received {
                Ok(message) => return Ok(Some(message)),
                Err(error) => {
                    if let Some((code, reason)) = self.consumer.client().fatal_error() {
                        tracing::error!(group_id = %self.group_id, code = %code, reason = %reason, "fatal kafka consumer error");
                        return Err(KafkaError::Client(error));
                    }
                    tracing::warn!(group_id = %self.group_id, error = %error, "kafka consumer error");
                    if !pause_unless_shutdown(POLL_ERROR_PAUSE, shutdown).await {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Adds the already-fetched messages of `first`'s topic to its batch, up to `limit`; a
    /// message of another topic ends the batch and waits in `pending`.
    async fn fill_batch(
        &self,
        first: InboundMessage,
        limit: usize,
        pending: &mut VecDeque<InboundMessage>,
    ) -> Vec<InboundMessage> {
        let mut batch = vec![first];
        while batch.len() < limit {
            match tokio::time::timeout(BATCH_FILL_WAIT, self.consumer.recv()).await {
                Ok(Ok(message)) => {
                    let message = InboundMessage::from_borrowed(&message);
                    if message.topic == batch[0].topic {
                        batch.push(message);
                    } else {
                        pending.push_back(message);
                        break;
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(group_id = %self.group_id, error = %error, "kafka consumer error while filling a batch");
                    break;
                }
                Err(_elapsed) => break,
            }
        }
        batch
    }

    /// Adds to `first` the messages already waiting — in `pending`, then in the client's
    /// queue — whose topics are not batch topics, up to the handler's group limit; never
    /// waits for one. A batch topic's message ends the group and waits in `pending`.
    fn fill_group<H: MessageHandler>(
        &self,
        handler: &H,
        first: InboundMessage,
        pending: &mut VecDeque<InboundMessage>,
    ) -> Vec<InboundMessage> {
        let limit = handler.group_limit();
        let mut group = vec![first];
        while group.len() < limit {
            let next = match pending.pop_front() {
                Some(message) => message,
                None => match self.consumer.recv().now_or_never() {
                    Some(Ok(message)) => InboundMessage::from_borrowed(&message),
                    Some(Err(error)) => {
                        tracing::warn!(group_id = %self.group_id, error = %error, "kafka consumer error while grouping messages");
                        break;
                    }
                    None => break,
                },
            };
            if handler.batch_limit(&next.topic) > 1 {
                pending.push_front(next);
                break;
            }
            group.push(next);
        }
        group
    }

    /// Commits the handler's start offsets to the group, retrying a failure to read them.
    /// Returns `false` on shutdown. A refused commit is logged, not fatal: the handler's
    /// own offset check is what keeps replays out.
    async fn position<H, S>(&self, handler: &H, shutdown: &mut Shutdown<S>) -> bool
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        let mut attempt: u32 = 0;
        let offsets: Vec<StartOffset> = loop {
            match handler.start_offsets().await {
                Ok(offsets) => break offsets,
                Err(error) => {
                    let delay = self.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(group_id = %self.group_id, attempt, reason = %error.reason(),
                        "cannot read the start offsets yet; retrying");
                    if !pause_unless_shutdown(delay, shutdown).await {
                        return false;
                    }
                }
            }
        };
        if offsets.is_empty() {
            return true;
        }
        let mut tpl = TopicPartitionList::with_capacity(offsets.len());
        for o in &offsets {
            if let Err(error) =
                tpl.add_partition_offset(&o.topic, o.partition, Offset::Offset(o.next))
            {
                tracing::warn!(topic = %o.topic, partition = o.partition, error = %error, "bad start offset ignored");
            }
        }
        let consumer = Arc::clone(&self.consumer);
        let result =
            tokio::task::spawn_blocking(move || consumer.commit(&tpl, RdCommitMode::Sync)).await;
        match result {
            Ok(Ok(())) => tracing::info!(group_id = %self.group_id, partitions = offsets.len(),
                "consumer group positioned at the handler's offsets"),
            Ok(Err(error)) => tracing::warn!(group_id = %self.group_id, error = %error,
                "could not position the group at the handler's offsets; it resumes at its own"),
            Err(error) => tracing::warn!(group_id = %self.group_id, error = %error,
                "positioning task failed; the group resumes at its own offsets"),
        }
        true
    }

    /// Runs the handler on `batch` until it is done with (success or dead letters) or
    /// shutdown interrupts a retry wait.
    async fn process<H, S>(
        &self,
        handler: &H,
        batch: &[InboundMessage],
        batched: bool,
        dead_letters: Option<&DeadLetters>,
        shutdown: &mut Shutdown<S>,
    ) -> Outcome
    where
        H: MessageHandler,
        S: Future<Output = ()> + Send,
    {
        tracing::debug!("kafka message received");
        let mut attempt: u32 = 0;
        let reason = loop {
            // The in-flight handler call always runs to completion, shutdown or not.
            let result = if batched {
                handler.handle_batch(batch).await
            } else {
                handler.handle(&batch[0]).await
            };
            match result {
                Ok(()) => {
                    tracing::debug!(attempts = attempt + 1, "kafka message processed");
                    return Outcome::Commit;
                }
                Err(error @ HandlerError::Transient(_)) => {
                    let delay = self.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(
                        attempt,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        reason = %error.reason(),
                        "transient failure; retrying the same message"
                    );
                    if !pause_unless_shutdown(delay, shutdown).await {
                        return Outcome::Abandon;
                    }
                }
                Err(error @ HandlerError::Permanent(_)) => break error.reason(),
            }
        };
        let Some(dead_letters) = dead_letters else {
            tracing::error!(
                reason = %reason,
                "permanent failure and no dead-letter topic configured; message skipped"
            );
            return Outcome::Commit;
        };
        let origin = std::any::type_name::<H>();
        for message in batch {
            let mut attempt: u32 = 0;
            while let Err(error) = dead_letters.publish(message, &reason, Some(origin)).await {
                let delay = self.backoff.delay(attempt);
                attempt = attempt.saturating_add(1);
                tracing::warn!(attempt, error = %error, dead_letter_topic = %dead_letters.topic(),
                    "could not publish dead letter; retrying");
                if !pause_unless_shutdown(delay, shutdown).await {
                    return Outcome::Abandon;
                }
            }
        }
        Outcome::Commit
    }

    /// Commits, per partition, the offset after the batch's last message. A failed commit
    /// is logged: the message will then be delivered again (at least once).
    async fn commit(&self, batch: &[InboundMessage]) {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in batch {
            let entry = next
                .entry((message.topic.as_str(), message.partition))
                .or_insert(0);
            *entry = (*entry).max(message.offset + 1);
        }
        let mut tpl = TopicPartitionList::with_capacity(next.len());
        for ((topic, partition), offset) in &next {
            if let Err(error) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(error = %error, "bad offset; not committed");
                return;
            }
        }
        let result = match self.commit_mode {
            CommitMode::Async => Ok(self.consumer.store_offsets(&tpl)),
            CommitMode::Sync => {
                let consumer = Arc::clone(&self.consumer);
                tokio::task::spawn_blocking(move || consumer.commit(&tpl, RdCommitMode::Sync)).await
            }
        };
        match result {
            Ok(Ok(())) => tracing::debug!(offsets = ?next, "kafka offsets committed"),
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
async fn pause_unless_shutdown<S>(delay: Duration, shutdown: &mut Shutdown<S>) -> bool
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
