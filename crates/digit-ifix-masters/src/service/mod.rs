//! The pipelines: validate → lock the natural key → check against the stored rows → publish
//! upstream's payload to its topic → await the persister's commit → answer.
//!
//! The advisory lock is held (in a transaction that writes nothing) until the persister has
//! committed, so two racing creates of one code are serialized and the second sees the
//! first. The database constraint behind every rule catches what the lock cannot see (a
//! replica running upstream's fire-and-forget, a write the persister confirmed too late):
//! the persister dead-letters that message, and the pipeline, reading back, answers the
//! rule's error instead of a record that does not exist.

pub mod adapter;
pub mod coa;
pub mod entity;

use crate::domain::header::{HeaderUserInfo, RequestHeader};
use crate::error::MastersError;
use crate::MastersSettings;
use digit_core::UserInfo;
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_store::commit::{self, CommitWatcher, Confirmation, Outgoing};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;

/// The master data service: everything the pipelines need. Cheap to clone.
#[derive(Clone)]
pub struct Masters {
    /// The service's database (the persister writes the same tables).
    pub pool: PgPool,
    /// Tenants (`tenant.tenants`).
    pub mdms: Arc<dyn MdmsSource>,
    /// Kafka.
    pub producer: Producer,
    /// Persister commits (read-your-writes); `None` with awaiting off.
    pub commits: Option<CommitWatcher>,
    /// Settings.
    pub settings: Arc<MastersSettings>,
    /// Tenant id segments of the state level (`STATE_LEVEL_TENANTID_LENGTH`).
    pub state_level_length: usize,
}

impl std::fmt::Debug for Masters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masters")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Who is calling, as the gate established it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The authenticated user (`None` only when the routes are served without the gate).
    pub user: Option<UserInfo>,
    /// The request's correlation id.
    pub correlation_id: String,
}

impl Caller {
    /// The user's uuid (audit).
    pub fn uuid(&self) -> Option<&str> {
        self.user.as_ref().and_then(|u| u.uuid.as_deref())
    }

    /// The header as it goes to Kafka: the client's, with the trusted user in `userInfo`
    /// and the request's correlation id.
    pub fn trusted_header(&self, header: &RequestHeader) -> RequestHeader {
        RequestHeader {
            user_info: self.user.as_ref().map(HeaderUserInfo::of),
            correlation_id: Some(self.correlation_id.clone()),
            ..header.clone()
        }
    }
}

/// `USER_INFO`: upstream's check that the header names a user. Behind the gate the caller is
/// always known (an anonymous call is the gate's 401), so this fires only when the routes
/// are served without it.
pub const USER_INFO: &str = "USER_INFO";

impl Masters {
    /// The caller's uuid, or upstream's `USER_INFO` error.
    fn require_user<'a>(&self, caller: &'a Caller) -> Result<&'a str, MastersError> {
        caller
            .uuid()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| MastersError::invalid(USER_INFO, "User info is missing"))
    }

    /// Whether `tenant` is in MDMS `tenant.tenants` (looked up at its state level).
    async fn tenant_exists(&self, tenant: &str) -> Result<bool, MastersError> {
        let state = digit_core::tenant::state_level_of(tenant, self.state_level_length);
        let tenants = self.mdms.master(state, "tenant", "tenants", None).await?;
        Ok(tenants.iter().any(|t| {
            t.get("code").and_then(Value::as_str) == Some(tenant) || t.as_str() == Some(tenant)
        }))
    }

    /// Publishes `payload` to `topic` and awaits the persister (when awaiting is on).
    async fn publish<T: Serialize + ?Sized>(
        &self,
        caller: &Caller,
        topic: &str,
        key: &str,
        payload: &T,
    ) -> Result<Confirmation, MastersError> {
        let commits = self
            .commits
            .as_ref()
            .filter(|_| self.settings.await_persister);
        let published = commit::publish_and_await(
            &self.producer,
            commits,
            Outgoing {
                topic,
                key: Some(key),
                payload,
                correlation_id: Some(&caller.correlation_id),
            },
        )
        .await
        .map_err(|e| MastersError::Kafka(e.to_string()))?;
        Ok(published.confirmation)
    }
}

/// Takes the advisory locks of `keys` in a fresh transaction (held until it ends).
async fn lock(
    pool: &PgPool,
    keys: Vec<String>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, MastersError> {
    let mut tx = pool.begin().await?;
    digit_store::lock::lock_all(&mut tx, keys.into_iter().map(|k| (k, true))).await?;
    Ok(tx)
}

/// Now, epoch ms.
fn now_ms() -> i64 {
    digit_core::time::now_ms()
}
