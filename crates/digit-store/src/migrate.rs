//! Applying the embedded, per-service migration sets.
//!
//! Each service keeps its scripts in `migrations/<service>/`, named like upstream's Flyway
//! scripts but in sqlx's form: `V20170614121459__id_generation.sql` becomes
//! `20170614121459_id_generation.sql` (the version is the Flyway timestamp). A service embeds
//! its set with `sqlx::migrate!("../../migrations/<service>")` and may also apply shared sets
//! such as [`IDGEN_MIGRATOR`].

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::PgPool;

use crate::error::StoreError;

/// The idgen tables (`id_generator`), shared by every service that generates DIGIT ids with
/// the embedded generator.
pub static IDGEN_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/idgen");

/// Applies each migration set in order, tolerating versions applied by other sets.
///
/// Several services (and shared sets such as idgen's) use one database and therefore one
/// `_sqlx_migrations` table. sqlx normally refuses to run when that table holds a version the
/// migrator does not know (`VersionMissing`), which is exactly the situation when another
/// service's set was applied first; so every set runs with `ignore_missing = true`. Versions are
/// Flyway-style timestamps, so sets do not collide; a set applied twice (two services embedding
/// idgen's) is recognised by its checksum and skipped. Out-of-order versions are applied like
/// Flyway's `outOfOrder=true`. sqlx's advisory lock serialises concurrent starts.
pub async fn run_migrations(pool: &PgPool, migrators: &[&Migrator]) -> Result<(), StoreError> {
    for migrator in migrators {
        let migrations: Vec<Migration> = migrator.iter().cloned().collect();
        let mut tolerant = Migrator::new(EmbeddedSet(migrations)).await?;
        tolerant.set_ignore_missing(true);
        tolerant.run(pool).await?;
    }
    Ok(())
}

/// A [`MigrationSource`] over migrations already embedded in the binary.
#[derive(Debug)]
struct EmbeddedSet(Vec<Migration>);

impl MigrationSource<'static> for EmbeddedSet {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// The versions (and descriptions) of a set, e.g. for `--help` output or diagnostics.
pub fn describe(migrator: &Migrator) -> Vec<(i64, Cow<'static, str>)> {
    migrator
        .iter()
        .map(|m| (m.version, m.description.clone()))
        .collect()
}
