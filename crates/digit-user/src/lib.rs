//! Users: who a uuid is, with which roles.
//!
//! The workflow engine resolves `assigner`/`assignes` uuids to users (their type and roles
//! decide the CITIZEN and assignee rules), and PGR finds or creates citizens by mobile
//! number. Both go through [`UserDirectory`], which has two implementations: [`EmbeddedUsers`]
//! (the `eg_user` table, seeded with employees from `configs/users/*.json`) for standalone
//! mode, and [`RemoteUsers`] (egov-user's `/user/_search`) inside a DIGIT deployment.

pub mod api;
mod citizen_api;
mod embedded;
pub mod login;
pub mod otp;
pub mod password;
mod remote;

pub use embedded::{EmbeddedUsers, SeedFile, SeedUser};
pub use remote::RemoteUsers;

use digit_core::{RequestInfo, UserInfo};
use digit_http::HttpClient;
use digit_service::config::{Env, EnvVar};
use digit_service::Metrics;
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
    /// egov-user could not be reached or answered with an error (its DIGIT error codes in
    /// [`digit_http::HttpError::errors`]).
    #[error("egov-user: {0}")]
    Remote(#[from] digit_http::HttpError),
    /// egov-user accepted a create or update but returned no user.
    #[error("egov-user returned no user")]
    NoUserReturned,
    /// The remote egov-user is misconfigured (URL or HTTP settings).
    #[error("egov-user configuration: {0}")]
    Config(#[source] digit_http::HttpError),
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

/// A DIGIT egov-user to resolve users through (instead of the `eg_user` table).
pub const USER_HOST: EnvVar = EnvVar {
    name: "EGOV_USER_HOST",
    aliases: &[],
    default: "",
    help: "Resolve users through a DIGIT egov-user at this URL instead of the eg_user table",
};
/// egov-user's search path.
pub const USER_SEARCH_ENDPOINT: EnvVar = EnvVar {
    name: "EGOV_USER_SEARCH_ENDPOINT",
    aliases: &[],
    default: "/user/_search",
    help: "Search path of the remote egov-user",
};
/// Seed users of the embedded table.
pub const USER_CONFIG_PATH: EnvVar = EnvVar {
    name: "USER_CONFIG_PATH",
    aliases: &[],
    default: "configs/users",
    help: "Folder of seed users ({\"users\": [...]}) upserted into eg_user at start",
};
/// The variables this crate reads, for `--help` (HTTP client settings are in
/// [`digit_http::HTTP_VARS`]).
pub const USER_VARS: &[EnvVar] = &[USER_HOST, USER_SEARCH_ENDPOINT, USER_CONFIG_PATH];

/// [`USER_HOST`] set → remote egov-user (its calls counted in `metrics`); else the embedded
/// table, seeded from [`USER_CONFIG_PATH`].
pub async fn directory_from_env(
    env: &Env,
    metrics: &Metrics,
    pool: sqlx::PgPool,
) -> Result<Arc<dyn UserDirectory>, UserError> {
    match env.get(&USER_HOST) {
        Some(host) => {
            let http = HttpClient::from_env("user", env, metrics).map_err(UserError::Config)?;
            let search = env.get_or_default(&USER_SEARCH_ENDPOINT);
            Ok(Arc::new(RemoteUsers::new(http, &host, &search)?))
        }
        None => {
            let embedded = EmbeddedUsers::new(pool);
            let dir = env.get_or_default(&USER_CONFIG_PATH);
            let n = embedded.seed_from_dir(std::path::Path::new(&dir)).await?;
            tracing::info!(users = n, path = dir, "Users seeded.");
            Ok(Arc::new(embedded))
        }
    }
}
