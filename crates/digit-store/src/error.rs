//! The storage error type and its DIGIT error codes.

/// Error codes produced by [`StoreError`].
pub mod codes {
    /// Configuration is invalid (bad URL, bad number in an environment variable).
    pub const DB_CONFIG_ERROR: &str = "DB_CONFIG_ERROR";
    /// The database could not be reached or a pooled connection could not be acquired.
    pub const DB_CONNECTION_ERROR: &str = "DB_CONNECTION_ERROR";
    /// Applying a migration failed.
    pub const DB_MIGRATION_ERROR: &str = "DB_MIGRATION_ERROR";
    /// A query failed: tracer's code for Spring's `DataAccessException`.
    pub const QUERY_EXECUTION_ERROR: &str = "QUERY_EXECUTION_ERROR";
}

/// Errors of the storage layer (pool, migrations, database administration).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Invalid settings; the message never contains a password.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// Connecting (or acquiring a pooled connection) failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database operation failed: {0}")]
    Query(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Connect(e),
            other => StoreError::Query(other),
        }
    }
}

impl StoreError {
    /// The DIGIT error code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Config(_) => codes::DB_CONFIG_ERROR,
            StoreError::Connect(_) => codes::DB_CONNECTION_ERROR,
            StoreError::Migrate(_) => codes::DB_MIGRATION_ERROR,
            StoreError::Query(_) => codes::QUERY_EXECUTION_ERROR,
        }
    }

    /// The client-facing message: generic, so no SQL or server detail leaks (the detail is
    /// logged where the error is turned into a response).
    pub fn public_message(&self) -> &'static str {
        match self {
            StoreError::Config(_) => "Database configuration is invalid",
            StoreError::Connect(_) => "Database is not reachable",
            StoreError::Migrate(_) => "Database migration failed",
            StoreError::Query(_) => "Database operation failed",
        }
    }
}

impl digit_core::DigitError for StoreError {
    /// 503 when the database cannot be reached (retryable), 400 otherwise as upstream's tracer.
    fn http_status(&self) -> u16 {
        match self {
            StoreError::Connect(_) => 503,
            _ => 400,
        }
    }

    fn errors(&self) -> Vec<digit_core::ErrorDetail> {
        tracing::error!(code = self.code(), error = %self, "database failure");
        vec![digit_core::ErrorDetail::new(
            self.code(),
            self.public_message(),
        )]
    }
}

impl From<StoreError> for digit_core::InfraError {
    /// A storage error as the base infrastructure shape (kind database), source kept.
    fn from(e: StoreError) -> Self {
        let context = match &e {
            StoreError::Config(_) => "configuring the database",
            StoreError::Connect(_) => "connecting to the database",
            StoreError::Migrate(_) => "applying migrations",
            StoreError::Query(_) => "running a query",
        };
        digit_core::InfraError::database(context, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digit_core::DigitError;

    #[test]
    fn sqlx_errors_map_to_connection_or_query_codes() {
        assert_eq!(
            StoreError::from(sqlx::Error::PoolTimedOut).code(),
            codes::DB_CONNECTION_ERROR
        );
        assert_eq!(
            StoreError::from(sqlx::Error::RowNotFound).code(),
            codes::QUERY_EXECUTION_ERROR
        );
        assert_eq!(
            StoreError::Config("x".into()).code(),
            codes::DB_CONFIG_ERROR
        );
    }

    #[test]
    fn store_errors_become_database_failures_with_their_chain() {
        let infra = digit_core::InfraError::from(StoreError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(infra.kind(), digit_core::InfraKind::Database);
        assert!(infra.find_source::<sqlx::Error>().is_some());
        assert!(digit_core::infra::chain(&infra).starts_with(
            "database: connecting to the database: cannot connect to the database: pool timed out"
        ));
    }

    #[test]
    fn digit_rendering_hides_details() {
        let e = StoreError::from(sqlx::Error::Protocol("secret detail".into()));
        assert_eq!(e.http_status(), 400);
        let errors = e.errors();
        assert_eq!(errors[0].code, "QUERY_EXECUTION_ERROR");
        assert_eq!(errors[0].message, "Database operation failed");
        let e = StoreError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(e.http_status(), 503);
        assert_eq!(e.errors()[0].message, "Database is not reachable");
    }
}
