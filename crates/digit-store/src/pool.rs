//! The connection pool and database administration helpers.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::StoreError;
use crate::settings::{redact_url, DbSettings};

/// Opens a bounded pool (`max_connections`, acquire timeout = `connect_timeout`) and checks it
/// with one connection so a wrong URL fails at start, not at the first request.
pub async fn connect(settings: &DbSettings) -> Result<PgPool, StoreError> {
    let options = settings.connect_options()?;
    tracing::info!(
        url = %settings.redacted_url(),
        max_connections = settings.max_connections,
        "connecting to Postgres"
    );
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.connect_timeout)
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)
}

/// Creates the database named in `url` when it does not exist yet, connecting to the
/// `postgres` maintenance database of the same server with the same credentials. Returns
/// whether it was created. Safe to run concurrently (a lost creation race counts as "exists").
pub async fn ensure_database_exists(url: &str) -> Result<bool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Config(format!("invalid database URL {}: {e}", redact_url(url)))
    })?;
    ensure_database_exists_with(&options).await
}

/// [`ensure_database_exists`] for already parsed options (e.g. [`DbSettings::connect_options`],
/// which carries the user name / password overrides).
pub async fn ensure_database_exists_with(options: &PgConnectOptions) -> Result<bool, StoreError> {
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Err(StoreError::Config(
            "the database URL names no database".to_owned(),
        ));
    };
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .map_err(StoreError::Connect)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if exists {
        admin.close().await.ok();
        return Ok(false);
    }
    let created = match sqlx::query(&format!("CREATE DATABASE {}", quote_ident(&name)))
        .execute(&mut admin)
        .await
    {
        Ok(_) => {
            tracing::info!(database = %name, "created database");
            true
        }
        // 42P04 duplicate_database, 23505 on pg_database's unique index: another process won.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) =>
        {
            false
        }
        Err(e) => return Err(e.into()),
    };
    admin.close().await.ok();
    Ok(created)
}

/// Quotes an SQL identifier (`"` doubled), for the few statements that cannot take a bound
/// parameter (CREATE/DROP DATABASE, CREATE SEQUENCE).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("digit"), "\"digit\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
