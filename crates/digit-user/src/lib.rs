//! Users: who a uuid is, with which roles.
//!
//! The workflow engine resolves `assigner`/`assignes` uuids to users (their type and roles
//! decide the CITIZEN and assignee rules), and PGR finds or creates citizens by mobile
//! number. Both go through [`UserDirectory`], which has two implementations: [`EmbeddedUsers`]
//! (the `eg_user` table, seeded with employees from `configs/users/*.json`) for standalone
//! mode, and [`RemoteUsers`] (egov-user's `/user/_search`) inside a DIGIT deployment.

mod embedded;
mod remote;

pub use embedded::{EmbeddedUsers, SeedFile};
pub use remote::RemoteUsers;

use digit_core::{RequestInfo, UserInfo};
use sqlx::migrate::Migrator;
use std::sync::Arc;

/// The `eg_user` table (`migrations/user/`).
pub static USER_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/user");

/// Why a user lookup failed (never "not found": that is an empty result).
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The users table could not be read or written.
    #[error("user store: {0}")]
    Database(#[from] sqlx::Error),
    /// egov-user could not be reached or answered with an error.
    #[error("egov-user: {0}")]
    Remote(String),
    /// A seed file is malformed.
    #[error("user seed {file}: {message}")]
    Seed {
        /// File.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Looking users up (and creating citizens) — embedded or remote.
#[async_trait::async_trait]
pub trait UserDirectory: Send + Sync + std::fmt::Debug {
    /// The users with these uuids (unknown uuids are simply absent from the result).
    async fn search_by_uuids(
        &self,
        request_info: &RequestInfo,
        uuids: &[String],
    ) -> Result<Vec<UserInfo>, UserError>;

    /// Citizens of `state_tenant` with this mobile number (their user name).
    async fn citizens_by_mobile(
        &self,
        request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
    ) -> Result<Vec<UserInfo>, UserError>;

    /// Finds the citizen of `state_tenant` whose user name is `mobile`, creating it (role
    /// CITIZEN, type CITIZEN) when missing and updating its name when `name` differs — what
    /// an employee filing for a citizen needs (upstream PGR's `upsertUser`). Concurrent calls
    /// for one number yield one user.
    async fn upsert_citizen(
        &self,
        request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
        name: &str,
        email: Option<&str>,
    ) -> Result<UserInfo, UserError>;
}

/// `EGOV_USER_HOST` set → remote egov-user; else the embedded table, seeded from
/// `USER_CONFIG_PATH` (default `configs/users`).
pub async fn directory_from_env(pool: sqlx::PgPool) -> Result<Arc<dyn UserDirectory>, UserError> {
    match std::env::var("EGOV_USER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
    {
        Some(host) => Ok(Arc::new(RemoteUsers::new(
            host,
            std::env::var("EGOV_USER_SEARCH_ENDPOINT").unwrap_or_else(|_| "/user/_search".into()),
        ))),
        None => {
            let embedded = EmbeddedUsers::new(pool);
            let dir = std::env::var("USER_CONFIG_PATH").unwrap_or_else(|_| "configs/users".into());
            let n = embedded.seed_from_dir(std::path::Path::new(&dir)).await?;
            tracing::info!(users = n, path = dir, "Users seeded.");
            Ok(Arc::new(embedded))
        }
    }
}
