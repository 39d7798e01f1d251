//! Postgres for DIGIT services: the connection pool, per-service migrations, DIGIT id
//! generation on Postgres sequences, and awaiting the persister's commits.
//!
//! * [`DbSettings`] reads `DB_URL` (aliases `SPRING_DATASOURCE_URL` — JDBC form accepted —
//!   and `DATABASE_URL`), credentials, pool size and the migrate switch from the environment;
//!   [`connect`] opens a bounded pool; [`ensure_database_exists`] creates a missing database.
//! * [`run_migrations`] applies embedded `sqlx::migrate!` sets (one per service, plus shared
//!   sets such as [`IDGEN_MIGRATOR`]) to a database several services share.
//! * [`idgen`] re-implements egov-idgen: the format mini-language (`[SEQ_…]`, `[cy:…]`,
//!   `[fy:…]`, `[city]`, random digits), format lookup in MDMS or the `id_generator` table,
//!   sequence auto-creation, and the `POST /egov-idgen/id/_generate` router.
//! * [`commit`] is read-your-writes: `publish_and_await` sends a message to Kafka and waits
//!   for the persister's commit through the process's one `CommitWatcher`, with one policy
//!   when the persister does not confirm in time.
//! * [`lock`]: transaction-scoped advisory locks on text keys (FNV-1a ids).
//! * With the `test-util` feature, `testing::TestDb` gives each test its own database.
//!
//! SQL is only built from bound parameters, except identifiers that cannot be bound (database
//! and sequence names), which are validated and quoted.

#![warn(missing_docs)]

pub mod commit;
pub mod error;
pub mod idgen;
pub mod lock;
pub mod migrate;
pub mod pii;
pub mod pool;
pub mod settings;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::StoreError;
pub use idgen::http::idgen_router;
pub use idgen::{
    mdms_masters, Clock, FixedClock, IdFormatDef, IdGenerator, IdRequest, IdgenError, IdgenMasters,
    IdgenSettings, InMemoryMasters, MastersError, SystemClock,
};
pub use migrate::{run_migrations, IDGEN_MIGRATOR};
pub use pii::{PiiCipher, PiiError};
pub use pool::{connect, ensure_database_exists, ensure_database_exists_with};
pub use settings::DbSettings;
pub use sqlx::PgPool;
#[cfg(feature = "test-util")]
pub use testing::TestDb;
