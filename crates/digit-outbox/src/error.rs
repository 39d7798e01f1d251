//! The crate's error type.

/// What can go wrong enqueueing or relaying.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// A database statement failed (the source is kept).
    #[error("outbox database operation failed")]
    Database(#[from] sqlx::Error),
    /// The payload could not be serialised.
    #[error("outbox payload could not be serialised")]
    Serialize(#[from] serde_json::Error),
    /// The message is not deliverable as given (e.g. an empty topic or a bad URL).
    #[error("invalid outbox message: {0}")]
    Invalid(String),
    /// The HTTP client could not be built.
    #[error("outbox HTTP client could not be built")]
    HttpClient(#[source] digit_http::HttpError),
}
