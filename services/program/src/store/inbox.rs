//! Inbound idempotency (§5 item 7). A message is identified by its sender, message id,
//! type, action and a SHA-256 digest of its `message` JSON (upstream senders reuse ids such
//! as `"123"` for different messages, so the id alone cannot be the key). [`claim`] runs
//! first in the write transaction: it inserts the key, or — when the same message was
//! already handled — returns the stored answer. Two concurrent deliveries of one message
//! serialise on the primary key: the second `INSERT` waits for the first transaction and
//! then sees its answer. [`answer`] stores the response in the same transaction as the
//! effects, so an answer exists exactly when the effects do.

use crate::domain::model::RequestHeader;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};

/// The identity of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKey {
    sender_id: String,
    message_id: String,
    message_type: String,
    action: String,
    digest: String,
}

impl MessageKey {
    /// The key of `header` with the `message` JSON as received.
    pub fn new(header: &RequestHeader, message: &Value) -> Self {
        let bytes = serde_json::to_vec(message).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        Self {
            sender_id: header.sender_id.clone(),
            message_id: header.message_id.clone(),
            message_type: header.message_type.as_str().to_owned(),
            action: header.action.as_str().to_owned(),
            digest: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// A stable text form (outbox idempotency keys derive from it).
    pub fn text(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.sender_id, self.message_id, self.message_type, self.action, self.digest
        )
    }
}

/// Claims `key` in `tx`: `Ok(None)` when the message is new (handle it, then [`answer`]),
/// `Ok(Some(response))` when it was handled before (answer that, change nothing).
pub async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    key: &MessageKey,
) -> Result<Option<Value>, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO eg_program_inbox
            (sender_id, message_id, message_type, action, digest, response, created_time)
         VALUES ($1, $2, $3, $4, $5, 'null'::jsonb, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(&key.sender_id)
    .bind(&key.message_id)
    .bind(&key.message_type)
    .bind(&key.action)
    .bind(&key.digest)
    .bind(digit_core::time::now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(None);
    }
    let stored: Option<sqlx::types::Json<Value>> = sqlx::query_scalar(
        "SELECT response FROM eg_program_inbox
          WHERE sender_id = $1 AND message_id = $2 AND message_type = $3 AND action = $4
            AND digest = $5",
    )
    .bind(&key.sender_id)
    .bind(&key.message_id)
    .bind(&key.message_type)
    .bind(&key.action)
    .bind(&key.digest)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(stored.map(|j| j.0))
}

/// Stores the answer to a claimed message (same transaction as its effects).
pub async fn answer(
    tx: &mut Transaction<'_, Postgres>,
    key: &MessageKey,
    response: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_program_inbox SET response = $6
          WHERE sender_id = $1 AND message_id = $2 AND message_type = $3 AND action = $4
            AND digest = $5",
    )
    .bind(&key.sender_id)
    .bind(&key.message_id)
    .bind(&key.message_type)
    .bind(&key.action)
    .bind(&key.digest)
    .bind(sqlx::types::Json(response))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
