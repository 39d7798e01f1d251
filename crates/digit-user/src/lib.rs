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
}

/// `EGOV_USER_HOST` set → remote egov-user, else the embedded table.
pub fn directory_from_env(pool: sqlx::PgPool) -> Arc<dyn UserDirectory> {
    match std::env::var("EGOV_USER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
    {
        Some(host) => Arc::new(RemoteUsers::new(
            host,
            std::env::var("EGOV_USER_SEARCH_ENDPOINT").unwrap_or_else(|_| "/user/_search".into()),
        )),
        None => Arc::new(EmbeddedUsers::new(pool)),
    }
}
