//! Read-your-writes: publish to Kafka, then await the persister's commit — the one path
//! every service that writes through the persister uses.
//!
//! The persister stores, in the same transaction as a message's rows, the next offset of
//! the message's partition in `persister_offsets` and sends `NOTIFY persister_commit` with
//! `{"group","topic","partition","offset",…}`. So a message that the producer reported at
//! `(topic, partition, offset)` is in the database exactly when `next_offset > offset` for
//! the persister's consumer group.
//!
//! * [`CommitWatcher`]: one per process. It `LISTEN`s on a **dedicated connection** and reads
//!   `persister_offsets` on two more, in a small pool of its own opened with the service
//!   pool's options — never on a connection of the service's pool, so requests that hold
//!   pool connections while they wait (a transaction with a lock) cannot starve it. It
//!   reconnects when the listener connection is lost, and lets any number of requests await
//!   their message: each checks the table, then wakes on every notification for its
//!   partition, on a reconnect, and at least every poll interval, so a notification lost
//!   while the listener was away costs at most one poll, never correctness.
//! * [`publish_and_await`]: sends a message (answering only after the broker acknowledged
//!   it) and, when awaiting is on, waits for the persister with the watcher's timeout.
//!
//! **Timeout policy** (the same for every service): a write fails only when Kafka did not
//! acknowledge it. When the broker acknowledged it but the persister did not confirm it
//! within `PERSISTER_AWAIT_TIMEOUT_MS`, the request is answered as upstream answers every
//! request — successfully, before the row exists — because the message is durable and the
//! persister will store it; the degradation is logged (warning) and counted in the
//! `persister_await_unconfirmed_total{topic}` metric. An error would invite the client to
//! resend a write that is going to land anyway (a second complaint, a second SOR), and would
//! leave multi-message writes (a workflow transition, then the complaint) half answered.

use digit_kafka::{Delivery, KafkaError, Producer};
use digit_service::config::{ConfigError, Env, EnvVar};
use digit_service::Metrics;
use prometheus::{IntCounterVec, Opts};
use serde::Serialize;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// The channel the persister notifies on.
pub const COMMIT_CHANNEL: &str = "persister_commit";

/// Suffix of the `application_name` of the watcher's connections (visible in
/// `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "commit-watcher";

/// The persister's consumer group, whose commits a service awaits.
///
/// No Spring alias on purpose: a service's own `SPRING_KAFKA_CONSUMER_GROUP_ID` names its own
/// consumers, not the persister's.
pub const PERSISTER_GROUP: EnvVar = EnvVar {
    name: "PERSISTER_GROUP_ID",
    aliases: &[],
    default: "egov-infra-persist",
    help: "Consumer group of the persister whose commits this service awaits (read-your-writes)",
};
/// How long a write waits for the persister.
pub const AWAIT_TIMEOUT: EnvVar = EnvVar {
    name: "PERSISTER_AWAIT_TIMEOUT_MS",
    aliases: &["WORKFLOW_AWAIT_TIMEOUT_MS"],
    default: "10000",
    help: "How long a write waits for the persister's commit; past it the request is answered anyway (logged, counted in persister_await_unconfirmed_total)",
};

/// Connections of a watcher: the listener's and two for offsets reads.
const WATCHER_CONNECTIONS: u32 = 3;

/// How long stopping the watcher may take for each of UNLISTEN and closing its connections.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// The read-your-writes variables (for `--help`).
pub const COMMIT_VARS: &[EnvVar] = &[PERSISTER_GROUP, AWAIT_TIMEOUT];

/// Whose commits to await, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSettings {
    /// The persister's consumer group.
    pub group: String,
    /// How long one write waits.
    pub timeout: Duration,
}

impl Default for CommitSettings {
    fn default() -> Self {
        Self {
            group: PERSISTER_GROUP.default.to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl CommitSettings {
    /// `PERSISTER_GROUP_ID` and `PERSISTER_AWAIT_TIMEOUT_MS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let timeout_ms: u64 = env.parse(&AWAIT_TIMEOUT)?;
        Ok(Self {
            group: env.get_or_default(&PERSISTER_GROUP),
            timeout: Duration::from_millis(timeout_ms),
        })
    }
}

/// A commit notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// Consumer group of the persister that committed.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset of the committed message.
    pub offset: i64,
}

/// What the watcher's listener saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The persister committed a message.
    Committed(Committed),
    /// The listener connection was lost and re-established (notifications in between are
    /// lost: waiters re-read the table).
    Reconnected,
}

/// Why waiting ended without the message being persisted.
#[derive(Debug, thiserror::Error)]
pub enum AwaitError {
    /// The persister did not commit the message in time.
    #[error("the persister did not commit {topic}/{partition}@{offset} within {waited:?}")]
    Timeout {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset.
        offset: i64,
        /// How long we waited.
        waited: Duration,
    },
    /// The offsets table could not be read.
    #[error("reading persister offsets failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Whether the persister confirmed a published message before the request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The rows are in the database.
    Persisted,
    /// Awaiting is off (upstream's fire-and-forget).
    NotAwaited,
    /// Not confirmed within the timeout (logged and counted; the message is in Kafka).
    Unconfirmed,
}

/// A message the broker acknowledged, and what became of waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Where the broker stored it.
    pub delivery: Delivery,
    /// Whether the persister confirmed it.
    pub confirmation: Confirmation,
}

/// A message to publish: logical topic (the producer adds the prefix), record key, JSON
/// payload, correlation id header.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a, T: ?Sized> {
    /// Logical topic name.
    pub topic: &'a str,
    /// Record key (picks the partition).
    pub key: Option<&'a str>,
    /// The payload, serialised to JSON.
    pub payload: &'a T,
    /// Sent as the `x-correlation-id` header.
    pub correlation_id: Option<&'a str>,
}

/// Publishes `message` and, when `commits` is given, waits until the persister committed it
/// (the module's timeout policy: past the timeout the write still succeeds, logged and
/// counted). Fails only when the broker did not acknowledge the message.
///
/// Pass `None` for upstream's fire-and-forget (a service's `…_AWAIT_PERSISTER=false`).
pub async fn publish_and_await<T>(
    producer: &Producer,
    commits: Option<&CommitWatcher>,
    message: Outgoing<'_, T>,
) -> Result<Published, KafkaError>
where
    T: Serialize + ?Sized,
{
    let pending = publish(producer, commits, message).await?;
    let delivery = pending.delivery();
    Ok(Published {
        delivery,
        confirmation: pending.confirm().await,
    })
}

/// Publishes `message` (answering once the broker acknowledged it) and hands back the wait
/// for the persister, so a write of several messages can publish them all and then await
/// them together — one persister round trip instead of one per message.
pub async fn publish<T>(
    producer: &Producer,
    commits: Option<&CommitWatcher>,
    message: Outgoing<'_, T>,
) -> Result<Pending, KafkaError>
where
    T: Serialize + ?Sized,
{
    let delivery = producer
        .send_json(
            message.topic,
            message.key,
            message.payload,
            message.correlation_id,
        )
        .await?;
    Ok(Pending {
        watcher: commits.cloned(),
        broker_topic: producer.settings().topic(message.topic),
        delivery,
    })
}

/// A message the broker acknowledged, whose persistence is still to be awaited.
#[derive(Debug)]
#[must_use = "a pending write is confirmed with `confirm` before the request is answered"]
pub struct Pending {
    watcher: Option<CommitWatcher>,
    broker_topic: String,
    delivery: Delivery,
}

impl Pending {
    /// A message published without this module (its wait, when `watcher` is given).
    pub fn new(watcher: Option<CommitWatcher>, broker_topic: String, delivery: Delivery) -> Self {
        Self {
            watcher,
            broker_topic,
            delivery,
        }
    }

    /// Where the broker stored it.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// Waits for the persister with the watcher's timeout and policy (`NotAwaited` when
    /// there is no watcher).
    pub async fn confirm(self) -> Confirmation {
        match &self.watcher {
            Some(watcher) => watcher.confirm(&self.broker_topic, self.delivery).await,
            None => Confirmation::NotAwaited,
        }
    }
}

/// One LISTEN connection shared by all waiters of a process. Cheap to clone; the listener
/// stops when the last clone is dropped or the service's pool is closed.
#[derive(Clone)]
pub struct CommitWatcher {
    inner: Arc<Inner>,
}

struct Inner {
    // The watcher's own pool (listener + offsets reads).
    pool: PgPool,
    // The last committed offset per (group, topic, partition) that the listener has
    // seen since it last (re)connected: a waiter below it is done, a waiter above it knows
    // the notification it needs is still to come — neither asks the table.
    seen: SeenOffsets,
    settings: CommitSettings,
    events: broadcast::Sender<WatchEvent>,
    poll_interval: Duration,
    unconfirmed: IntCounterVec,
    // Dropped with the last clone: the listener task then ends.
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for CommitWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitWatcher")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl CommitWatcher {
    /// Starts listening on connections of its own, opened with the service `pool`'s options
    /// (the pool keeps all its connections for the service; closing it stops the watcher).
    /// Registers `persister_await_unconfirmed_total` in `metrics`.
    pub async fn start(
        pool: PgPool,
        settings: CommitSettings,
        metrics: &Metrics,
    ) -> Result<Self, sqlx::Error> {
        let options = (*pool.connect_options()).clone();
        let name = match options.get_application_name() {
            Some(app) => format!("{app}/{LISTENER_APPLICATION_NAME}"),
            None => LISTENER_APPLICATION_NAME.to_owned(),
        };
        // The listener keeps one connection for good (replaced when lost); offsets reads
        // share the other two.
        let own_pool = PgPoolOptions::new()
            .max_connections(WATCHER_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.application_name(&name))
            .await?;
        let mut listener = PgListener::connect_with(&own_pool).await?;
        // The task stops it; closing the listener's own pool must not look like a failure.
        listener.ignore_pool_close_event(true);
        listener.listen(COMMIT_CHANNEL).await?;
        let unconfirmed = IntCounterVec::new(
            Opts::new(
                "persister_await_unconfirmed_total",
                "Writes answered before the persister confirmed them (timeout or offsets read failed)",
            ),
            &["topic"],
        )
        .map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
        metrics.register(Box::new(unconfirmed.clone()));
        let (events, _) = broadcast::channel(1024);
        let (stop, stopped) = oneshot::channel();
        let seen = Arc::new(Mutex::new(HashMap::new()));
        tokio::spawn(listen(
            listener,
            own_pool.clone(),
            pool,
            Seen {
                events: events.clone(),
                offsets: Arc::clone(&seen),
            },
            stopped,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                pool: own_pool,
                seen,
                settings,
                events,
                poll_interval: Duration::from_millis(250),
                unconfirmed,
                _stop: stop,
            }),
        })
    }

    /// The settings (group, timeout).
    pub fn settings(&self) -> &CommitSettings {
        &self.inner.settings
    }

    /// The listener's events as they arrive.
    pub fn subscribe(&self) -> broadcast::Receiver<WatchEvent> {
        self.inner.events.subscribe()
    }

    /// How many writes to the broker topic `topic` were answered unconfirmed.
    pub fn unconfirmed(&self, topic: &str) -> u64 {
        self.inner.unconfirmed.with_label_values(&[topic]).get()
    }

    /// Waits for a published message with the configured timeout and applies the timeout
    /// policy: `Unconfirmed` (logged, counted) instead of an error. `broker_topic` is the
    /// topic as the broker names it (prefix applied).
    pub async fn confirm(&self, broker_topic: &str, delivery: Delivery) -> Confirmation {
        let timeout = self.inner.settings.timeout;
        match self
            .wait_for(broker_topic, delivery.partition, delivery.offset, timeout)
            .await
        {
            Ok(()) => Confirmation::Persisted,
            Err(e) => {
                self.inner
                    .unconfirmed
                    .with_label_values(&[broker_topic])
                    .inc();
                tracing::warn!(
                    error = %e,
                    topic = broker_topic,
                    partition = delivery.partition,
                    offset = delivery.offset,
                    "The persister did not confirm the write; answering anyway (the message is in Kafka and will be stored)."
                );
                Confirmation::Unconfirmed
            }
        }
    }

    /// Waits until the persister has committed the message at `(topic, partition, offset)`
    /// (`topic` as the broker names it). The raw wait: callers that answer a request use
    /// [`publish_and_await`] or [`CommitWatcher::confirm`].
    pub async fn wait_for(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        timeout: Duration,
    ) -> Result<(), AwaitError> {
        let inner = &self.inner;
        let group = inner.settings.group.as_str();
        // Subscribed before the first look, so no notification falls in between.
        let mut rx = inner.events.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut ask_table = match self.seen(group, topic, partition) {
            Some(seen) if seen >= offset => return Ok(()),
            // The listener follows this partition: the commit's notification is to come.
            Some(_) => false,
            // Not seen since the listener (re)connected: the commit may be older.
            None => true,
        };
        loop {
            if ask_table && persisted(&inner.pool, group, topic, partition, offset).await? {
                return Ok(());
            }
            // Notifications can be lost (listener away): past one poll interval, ask the table.
            ask_table = true;
            let tick = tokio::time::sleep(inner.poll_interval);
            tokio::pin!(tick);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {
                        return if persisted(&inner.pool, group, topic, partition, offset).await? {
                            Ok(())
                        } else {
                            Err(AwaitError::Timeout { topic: topic.to_owned(), partition, offset, waited: timeout })
                        };
                    }
                    _ = &mut tick => break,
                    event = rx.recv() => match event {
                        Ok(WatchEvent::Committed(c)) if c.group == group && c.topic == topic && c.partition == partition && c.offset >= offset => return Ok(()),
                        Ok(WatchEvent::Committed(_)) => {}
                        Ok(WatchEvent::Reconnected)
                        | Err(broadcast::error::RecvError::Lagged(_))
                        | Err(broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
        }
    }

    /// The last offset of the partition the listener saw committed since it connected.
    fn seen(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        let seen = self.inner.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&(group.to_owned(), topic.to_owned(), partition))
            .copied()
    }
}

/// (group, topic, partition) → the last committed offset the listener heard of.
type SeenOffsets = Arc<Mutex<HashMap<(String, String, i32), i64>>>;

/// Where the listener task puts what it hears.
struct Seen {
    events: broadcast::Sender<WatchEvent>,
    offsets: SeenOffsets,
}

impl Seen {
    /// Records a commit, then wakes the waiters.
    fn committed(&self, c: Committed) {
        {
            let mut offsets = self.offsets.lock().unwrap_or_else(|p| p.into_inner());
            // The latest, not the highest: notifications come in commit order, and offsets
            // only go back when the persister forgot a recreated topic's (it says so with
            // offset -1).
            offsets.insert((c.group.clone(), c.topic.clone(), c.partition), c.offset);
        }
        // No receiver is not an error: nobody is waiting right now.
        let _ = self.events.send(WatchEvent::Committed(c));
    }

    /// The listener was away: what it saw no longer tells what is to come.
    fn reconnected(&self) {
        self.offsets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let _ = self.events.send(WatchEvent::Reconnected);
    }
}

/// The listener task: forwards notifications until the watcher is dropped or the service's
/// pool closes, then closes the watcher's connections.
async fn listen(
    mut listener: PgListener,
    own_pool: PgPool,
    service_pool: PgPool,
    seen: Seen,
    mut stopped: oneshot::Receiver<()>,
) {
    let closed = service_pool.close_event();
    tokio::pin!(closed);
    // The close event is the prompt way; the check each second is the sure one (a stop must
    // never depend on one wake-up alone, or the watcher outlives the service's pool).
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = &mut closed => break,
            _ = check.tick() => if service_pool.is_closed() { break },
            received = listener.try_recv() => match received {
                Ok(Some(n)) => match parse(n.payload()) {
                    Some(c) => seen.committed(c),
                    None => tracing::warn!(payload = n.payload(), "Unreadable commit notification ignored."),
                },
                Ok(None) => {
                    tracing::warn!("Commit listener connection lost; reconnected and listening again.");
                    seen.reconnected();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Commit listener cannot reach Postgres; retrying in 500 ms (waiters poll meanwhile).");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            },
        }
    }
    tracing::debug!("Commit listener stopped.");
    // UNLISTEN here rather than in the listener's drop (a task it spawns), so the connection
    // is free when the pool closes; both are bounded, so a stuck connection cannot hang the stop.
    match tokio::time::timeout(STOP_TIMEOUT, listener.unlisten_all()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "Commit listener could not UNLISTEN on stop."),
        Err(_) => tracing::warn!("Commit listener did not UNLISTEN in {STOP_TIMEOUT:?} on stop."),
    }
    drop(listener);
    if tokio::time::timeout(STOP_TIMEOUT, own_pool.close())
        .await
        .is_err()
    {
        tracing::warn!(
            "The commit watcher's connections did not close in {STOP_TIMEOUT:?}; Postgres ends them when the process exits."
        );
    }
}

/// True when the message at `offset` has been persisted by `group`.
pub async fn persisted(
    pool: &PgPool,
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<bool, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT next_offset FROM persister_offsets WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3",
    )
    .bind(group)
    .bind(topic)
    .bind(partition)
    .fetch_optional(pool)
    .await?;
    Ok(next.is_some_and(|n| n > offset))
}

fn parse(payload: &str) -> Option<Committed> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    Some(Committed {
        group: v.get("group")?.as_str()?.to_owned(),
        topic: v.get("topic")?.as_str()?.to_owned(),
        partition: i32::try_from(v.get("partition")?.as_i64()?).ok()?,
        offset: v.get("offset")?.as_i64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_persister_payload() {
        let c = parse(r#"{"group":"g","topic":"t","partition":2,"offset":41,"key":null,"correlationId":null}"#).unwrap();
        assert_eq!(
            c,
            Committed {
                group: "g".into(),
                topic: "t".into(),
                partition: 2,
                offset: 41
            }
        );
        assert!(parse("nope").is_none());
    }

    #[test]
    fn settings_read_the_timeout_and_the_workflow_alias() {
        let s = CommitSettings::from_env(&Env::from_pairs([("PERSISTER_GROUP_ID", "p")])).unwrap();
        assert_eq!(s.group, "p");
        assert_eq!(s.timeout, Duration::from_secs(10));
        let env = Env::from_pairs([("WORKFLOW_AWAIT_TIMEOUT_MS", "1500")]);
        assert_eq!(
            CommitSettings::from_env(&env).unwrap().timeout,
            Duration::from_millis(1500)
        );
        let env = Env::from_pairs([("PERSISTER_AWAIT_TIMEOUT_MS", "soon")]);
        assert!(CommitSettings::from_env(&env).is_err());
    }
}
