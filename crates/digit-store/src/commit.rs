//! Waiting for the persister: read-your-writes for services that publish to Kafka.
//!
//! The persister stores, in the same transaction as a message's rows, the next offset of
//! the message's partition in `persister_offsets` and sends `NOTIFY persister_commit` with
//! `{"group","topic","partition","offset",…}`. So a message that the producer reported at
//! `(topic, partition, offset)` is in the database exactly when
//! `next_offset > offset` for the persister's consumer group. [`CommitWatcher`] holds one
//! `LISTEN` connection per service and lets any number of requests await their message:
//! each checks the table, then wakes on every notification for its partition (and re-checks
//! periodically, so a notification lost while the listener reconnected costs at most one
//! poll interval, never correctness).

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::broadcast;

/// The channel the persister notifies on.
pub const COMMIT_CHANNEL: &str = "persister_commit";

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

/// One LISTEN connection shared by all waiters of a service.
#[derive(Clone, Debug)]
pub struct CommitWatcher {
    pool: PgPool,
    group: String,
    events: broadcast::Sender<Committed>,
    poll_interval: Duration,
}

impl CommitWatcher {
    /// Starts listening (a background task reconnects if the connection drops).
    pub async fn start(pool: PgPool, group: impl Into<String>) -> Result<Self, sqlx::Error> {
        let (events, _) = broadcast::channel(1024);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(COMMIT_CHANNEL).await?;
        let tx = events.clone();
        tokio::spawn(async move {
            loop {
                // `recv` reconnects by itself after a lost connection (and re-LISTENs).
                match listener.recv().await {
                    Ok(n) => {
                        if let Some(c) = parse(n.payload()) {
                            let _ = tx.send(c);
                        }
                    }
                    Err(sqlx::Error::PoolClosed) => {
                        tracing::debug!("Commit listener stopped: the pool is closed.");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Commit listener error; retrying.");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Self {
            pool,
            group: group.into(),
            events,
            poll_interval: Duration::from_millis(250),
        })
    }

    /// Waits until the persister has committed the message at `(topic, partition, offset)`.
    pub async fn wait_for(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        timeout: Duration,
    ) -> Result<(), AwaitError> {
        let mut rx = self.events.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if persisted(&self.pool, &self.group, topic, partition, offset).await? {
                return Ok(());
            }
            let tick = tokio::time::sleep(self.poll_interval);
            tokio::pin!(tick);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {
                        return if persisted(&self.pool, &self.group, topic, partition, offset).await? {
                            Ok(())
                        } else {
                            Err(AwaitError::Timeout { topic: topic.to_owned(), partition, offset, waited: timeout })
                        };
                    }
                    _ = &mut tick => break,
                    event = rx.recv() => match event {
                        Ok(c) if c.group == self.group && c.topic == topic && c.partition == partition && c.offset >= offset => return Ok(()),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
        }
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
}
