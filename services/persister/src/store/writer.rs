//! Executing a planned message inside a transaction, and the stored offsets that make the
//! effect exactly-once.
//!
//! Contract (read-your-writes, DESIGN.md "The write path"): a Kafka message at
//! `(topic, partition, offset)` has been persisted by consumer group `g` exactly when
//! `persister_offsets.next_offset > offset` for `(g, topic, partition)`. The row update and
//! the data rows commit in one transaction, and the same statement that moves the offset
//! sends `NOTIFY persister_commit, '{"group","topic","partition","offset","key","correlationId"}'`,
//! delivered by Postgres only if and when it commits. `offset` is the partition's last
//! offset in the transaction (a group commit signals once per partition, for its last
//! message: every earlier offset is then persisted too); `key` and `correlationId` are
//! that message's.

use super::params::{to_param, BindError};
use crate::domain::Statement;
use digit_core::InfraError;
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::{Arguments, Either, Executor};

/// The NOTIFY channel of the commit signal.
pub const COMMIT_CHANNEL: &str = "persister_commit";

/// A failure classified by what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database is unavailable or the transaction conflicted, or the dead letter of a
    /// poison message was not acknowledged by the broker: retry the same message (a
    /// message is never skipped before its dead letter exists). The source chain is kept.
    #[error(transparent)]
    Infra(#[from] InfraError),
    /// The message can never be written (constraint, type, bad SQL): dead-letter it. The
    /// text is the dead letter's `message`.
    #[error("{0}")]
    Poison(String),
}

impl WriteError {
    /// A transient database failure while doing `context`.
    pub fn database(context: &'static str) -> impl FnOnce(sqlx::Error) -> WriteError {
        move |e| WriteError::Infra(InfraError::database(context, e))
    }
}

impl From<sqlx::Error> for WriteError {
    /// Classifies an error of a mapped statement: transient ones are retried, the rest
    /// make the message poison.
    fn from(e: sqlx::Error) -> Self {
        if is_transient(&e) {
            Self::Infra(InfraError::database("executing a mapped statement", e))
        } else {
            Self::Poison(describe(&e))
        }
    }
}

impl From<BindError> for WriteError {
    fn from(e: BindError) -> Self {
        Self::Poison(e.to_string())
    }
}

/// True for errors that go away by themselves: lost connections, pool exhaustion,
/// serialization failures, deadlocks, shutdowns, resource exhaustion.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            code.starts_with("08")   // connection exception
                || code.starts_with("53") // insufficient resources
                || code.starts_with("57") // operator intervention (admin shutdown, cannot connect now)
                || code == "40001"        // serialization failure
                || code == "40P01"        // deadlock
                || code == "55P03" // lock not available
        }
        _ => false,
    }
}

fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => {
            format!(
                "{} (SQLSTATE {})",
                db.message(),
                db.code().map(|c| c.into_owned()).unwrap_or_default()
            )
        }
        other => other.to_string(),
    }
}

/// Executes every statement's rows in order on `conn` (inside the caller's transaction).
/// Returns the number of rows affected.
pub async fn execute(conn: &mut PgConnection, statements: &[Statement]) -> Result<u64, WriteError> {
    let mut affected = 0;
    for statement in statements {
        if statement.rows.is_empty() {
            continue;
        }
        let sql: &str = &statement.sql;
        // Postgres infers each parameter's type from the SQL; the statement is cached per
        // connection, so this costs one round trip per query text and connection.
        let prepared = (&mut *conn).prepare(sql).await?;
        let types = match sqlx::Statement::parameters(&prepared) {
            Some(Either::Left(types)) => types.to_vec(),
            _ => Vec::new(),
        };
        for row in &statement.rows {
            if row.len() != types.len() {
                return Err(WriteError::Poison(format!(
                    "query has {} parameters but the mapping produced {} values: {sql}",
                    types.len(),
                    row.len()
                )));
            }
            let mut args = PgArguments::default();
            for (i, (value, ty)) in row.iter().zip(&types).enumerate() {
                let param = to_param(i + 1, value, ty)?;
                args.add(param)
                    .map_err(|e| WriteError::Poison(format!("parameter ${}: {e}", i + 1)))?;
            }
            let result = sqlx::query_with(sql, args).execute(&mut *conn).await?;
            affected += result.rows_affected();
        }
    }
    Ok(affected)
}

/// Locks the offset row of a partition for this transaction and returns its next offset
/// (0 for a partition never seen). One query once the row exists; the first message of a
/// partition also creates it.
pub async fn lock_offset(
    conn: &mut PgConnection,
    group: &str,
    topic: &str,
    partition: i32,
) -> Result<i64, WriteError> {
    const LOCK: &str = "SELECT next_offset FROM persister_offsets WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE";
    let locked: Option<i64> = sqlx::query_scalar(LOCK)
        .bind(group)
        .bind(topic)
        .bind(partition)
        .fetch_optional(&mut *conn)
        .await
        .map_err(WriteError::database("locking the offset row"))?;
    if let Some(next) = locked {
        return Ok(next);
    }
    sqlx::query(
        "INSERT INTO persister_offsets (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (consumer_group, topic, kafka_partition) DO NOTHING",
    )
    .bind(group)
    .bind(topic)
    .bind(partition)
    .execute(&mut *conn)
    .await
    .map_err(WriteError::database("creating the offset row"))?;
    sqlx::query_scalar(LOCK)
        .bind(group)
        .bind(topic)
        .bind(partition)
        .fetch_one(&mut *conn)
        .await
        .map_err(WriteError::database("locking the offset row"))
}

/// Records that every offset below `next_offset` is applied and, in the same statement,
/// queues the commit signal for it (Postgres delivers it at commit; none when the offset
/// did not move). `signal` is the notification's JSON payload.
pub async fn advance_offset(
    conn: &mut PgConnection,
    group: &str,
    topic: &str,
    partition: i32,
    next_offset: i64,
    signal: &serde_json::Value,
) -> Result<(), WriteError> {
    sqlx::query(
        "WITH advanced AS (UPDATE persister_offsets SET next_offset = $4, updated_at = now() \
           WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND next_offset < $4 RETURNING 1) \
         SELECT pg_notify($5, $6) FROM advanced",
    )
    .bind(group)
    .bind(topic)
    .bind(partition)
    .bind(next_offset)
    .bind(COMMIT_CHANNEL)
    .bind(signal.to_string())
    .execute(&mut *conn)
    .await
    .map_err(WriteError::database("advancing the stored offset"))?;
    Ok(())
}

/// The stored next offsets of a group (for seeking on start).
pub async fn stored_offsets(
    pool: &sqlx::PgPool,
    group: &str,
) -> Result<Vec<(String, i32, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT topic, kafka_partition, next_offset FROM persister_offsets WHERE consumer_group = $1")
        .bind(group)
        .fetch_all(pool)
        .await
}

/// Forgets the stored offset of one partition (its log is gone; see the consumer) and
/// tells the commit watchers, whose last-seen offsets of the old log would otherwise
/// confirm the new log's messages too early (the signal's offset is -1).
pub async fn forget_offset(
    pool: &sqlx::PgPool,
    group: &str,
    topic: &str,
    partition: i32,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM persister_offsets WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3")
        .bind(group)
        .bind(topic)
        .bind(partition)
        .execute(&mut *tx)
        .await?;
    let reset = serde_json::json!({"group": group, "topic": topic, "partition": partition, "offset": -1,
        "key": null, "correlationId": null});
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(COMMIT_CHANNEL)
        .bind(reset.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
