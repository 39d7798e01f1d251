//! Test support (feature `test-util`): a fresh Postgres database per test.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::StoreError;
use crate::migrate::run_migrations;
use crate::pool::quote_ident;

/// Default server for test databases (trust auth on the project's machines).
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test: `test_<uuid>` on the server of `TEST_DATABASE_URL`.
///
/// Call [`TestDb::cleanup`] at the end of a test; if the test panics first, `Drop` removes the
/// database anyway (`DROP DATABASE … WITH (FORCE)` on a helper thread), so repeated runs leave
/// nothing behind.
pub struct TestDb {
    pool: PgPool,
    url: String,
    name: String,
    admin: PgConnectOptions,
    dropped: bool,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDb {
    /// Creates the database and a small pool on it.
    pub async fn new() -> Result<Self, StoreError> {
        let base = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned());
        let admin = PgConnectOptions::from_str(&base)
            .map_err(|e| StoreError::Config(format!("invalid TEST_DATABASE_URL: {e}")))?;
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());

        let mut conn = PgConnection::connect_with(&admin)
            .await
            .map_err(StoreError::Connect)?;
        sqlx::query(&format!("CREATE DATABASE {}", quote_ident(&name)))
            .execute(&mut conn)
            .await?;
        conn.close().await.ok();

        let options = admin.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        let url = database_url(&base, &name);
        Ok(Self {
            pool,
            url,
            name,
            admin,
            dropped: false,
        })
    }

    /// [`TestDb::new`] followed by [`run_migrations`].
    pub async fn migrated(migrators: &[&Migrator]) -> Result<Self, StoreError> {
        let db = Self::new().await?;
        run_migrations(db.pool(), migrators).await?;
        Ok(db)
    }

    /// The pool on the test database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// URL of the test database (for services that connect themselves).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of the test database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection options of the test database, e.g. to open a second pool with other
    /// session settings.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// Closes the pool and drops the database.
    pub async fn cleanup(mut self) -> Result<(), StoreError> {
        self.pool.close().await;
        drop_database(&self.admin, &self.name).await?;
        self.dropped = true;
        Ok(())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin = self.admin.clone();
        let name = self.name.clone();
        // A runtime of its own on a plain thread: Drop cannot await, and this works whether or
        // not the test's runtime is still alive. FORCE ends the pool's open connections.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                if let Err(e) = runtime.block_on(drop_database(&admin, &name)) {
                    tracing::warn!(database = %name, error = %e, "could not drop test database");
                }
            }
        });
        let _ = handle.join();
    }
}

async fn drop_database(admin: &PgConnectOptions, name: &str) -> Result<(), StoreError> {
    let mut conn = PgConnection::connect_with(admin)
        .await
        .map_err(StoreError::Connect)?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(name)
    ))
    .execute(&mut conn)
    .await?;
    conn.close().await.ok();
    Ok(())
}

/// `base` with its database path replaced by `name` (query string kept).
fn database_url(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &head[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_the_path() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "test_x"),
            "postgres://postgres@127.0.0.1:5432/test_x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/postgres?sslmode=disable", "t"),
            "postgres://u:p@h/t?sslmode=disable"
        );
        assert_eq!(database_url("postgres://h", "t"), "postgres://h/t");
    }
}
