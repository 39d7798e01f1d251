//! Replay protection for sealed messages (spec §5 items 7, 11).
//!
//! A sealed message carries an authenticated `message_ts` and `message_id`, so the
//! receiving exchange can refuse
//! - a `message_ts` further than the window (`EXCHANGE_REPLAY_WINDOW_MS`, default 5 min)
//!   from now, either way; and
//! - a second message with the same (`sender_id`, `message_id`, `message_type`, `action`,
//!   SHA-256 of `message`) — the unique key of `eg_digit_exchange_seen`; the insert that
//!   finds the key taken is the replay.
//!
//! Rows whose `seen_at` and `message_ts` are both older than twice the window are pruned
//! (opportunistically, at most once per window per process): such a message would fail the
//! window check anyway.
//!
//! Upstream overwrites `message_id` with the entity id, so a `program/_create` and a later
//! `program/_update` of one program share it; type, action and digest keep them apart.

use super::seal::{message_digest, SealInput};
use super::SecurityError;
use sqlx::PgPool;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The replay table and the window.
#[derive(Debug, Clone)]
pub struct Seen {
    pool: PgPool,
    window_ms: i64,
    last_prune_ms: Arc<AtomicI64>,
}

impl Seen {
    /// The table on `pool` with a window of `window_ms` milliseconds.
    pub fn new(pool: PgPool, window_ms: i64) -> Self {
        Self {
            pool,
            window_ms: window_ms.max(0),
            last_prune_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// Refuses a `message_ts` further than the window from now: `REPLAYED_MESSAGE` (409).
    pub fn check_window(&self, message_ts: i64) -> Result<(), SecurityError> {
        check_window_at(now_ms(), message_ts, self.window_ms)
    }

    /// Records the message; `REPLAYED_MESSAGE` (409) if it was recorded before.
    pub async fn record(&self, input: &SealInput<'_>) -> Result<(), SecurityError> {
        let now = now_ms();
        self.prune_if_due(now).await;
        let inserted = sqlx::query(
            "INSERT INTO eg_digit_exchange_seen \
               (sender_id, message_id, message_type, action, message_sha256, message_ts, seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(input.sender_id)
        .bind(input.message_id)
        .bind(input.message_type)
        .bind(input.action)
        .bind(message_digest(input.message))
        .bind(input.message_ts)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(SecurityError::Replayed(
                "This message was received before".into(),
            ));
        }
        Ok(())
    }

    /// Removes the record of a message that was checked but then not accepted, so that the
    /// sender's retry is not refused as a replay.
    pub async fn forget(&self, input: &SealInput<'_>) -> Result<(), SecurityError> {
        sqlx::query(
            "DELETE FROM eg_digit_exchange_seen WHERE sender_id = $1 AND message_id = $2 \
             AND message_type = $3 AND action = $4 AND message_sha256 = $5",
        )
        .bind(input.sender_id)
        .bind(input.message_id)
        .bind(input.message_type)
        .bind(input.action)
        .bind(message_digest(input.message))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the rows older than twice the window; returns how many.
    pub async fn prune(&self) -> Result<u64, SecurityError> {
        let cutoff = now_ms().saturating_sub(self.window_ms.saturating_mul(2));
        let done = sqlx::query(
            "DELETE FROM eg_digit_exchange_seen WHERE seen_at < $1 AND message_ts < $1",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn prune_if_due(&self, now: i64) {
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < self.window_ms.max(1000) {
            return;
        }
        if self
            .last_prune_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if let Err(e) = self.prune().await {
            tracing::warn!(error = %e, "Could not prune eg_digit_exchange_seen.");
        }
    }
}

/// The window rule at a given `now` (tests).
pub fn check_window_at(now_ms: i64, message_ts: i64, window_ms: i64) -> Result<(), SecurityError> {
    if now_ms.abs_diff(message_ts) > window_ms.unsigned_abs() {
        return Err(SecurityError::Replayed(format!(
            "message_ts is outside the accepted window of {window_ms} ms"
        )));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
