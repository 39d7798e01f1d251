//! The indexer's API errors and their DIGIT envelope (codes are this service's own; upstream's
//! indexer answers most of these with a bare 500).

use digit_core::{DigitError, ErrorDetail};

/// Codes of [`IndexerError`].
pub mod codes {
    /// `_index` to a topic no config maps.
    pub const TOPIC_NOT_CONFIGURED: &str = "INDEXER_TOPIC_NOT_CONFIGURED";
    /// `_reindex` / `_legacyindex` topic without a REINDEX / LEGACYINDEX mapping.
    pub const JOB_TOPIC_NOT_CONFIGURED: &str = "INDEXER_JOB_TOPIC_NOT_CONFIGURED";
    /// A required field is missing or out of range.
    pub const INVALID_REQUEST: &str = "INDEXER_INVALID_REQUEST";
    /// Elasticsearch cannot be reached.
    pub const ES_UNAVAILABLE: &str = "INDEXER_ES_UNAVAILABLE";
    /// The broker did not take a message.
    pub const KAFKA_UNAVAILABLE: &str = "INDEXER_KAFKA_UNAVAILABLE";
    /// Postgres failed.
    pub const DATABASE: &str = "INDEXER_DATABASE_ERROR";
}

/// Why an indexer API call failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// No config maps the topic.
    #[error("no indexer config maps topic {0:?}")]
    TopicNotConfigured(String),
    /// The job's topic has no mapping with the needed config key.
    #[error("topic {topic:?} has no {key} mapping")]
    JobTopicNotConfigured {
        /// The topic.
        topic: String,
        /// `REINDEX` or `LEGACYINDEX`.
        key: &'static str,
    },
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Elasticsearch down.
    #[error("Elasticsearch is unavailable: {0}")]
    Elasticsearch(String),
    /// Kafka down.
    #[error("the broker did not take the message: {0}")]
    Kafka(String),
    /// Postgres.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl DigitError for IndexerError {
    fn http_status(&self) -> u16 {
        match self {
            IndexerError::TopicNotConfigured(_)
            | IndexerError::JobTopicNotConfigured { .. }
            | IndexerError::Invalid(_) => 400,
            IndexerError::Elasticsearch(_) | IndexerError::Kafka(_) => 503,
            IndexerError::Database(_) => 500,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        let code = match self {
            IndexerError::TopicNotConfigured(_) => codes::TOPIC_NOT_CONFIGURED,
            IndexerError::JobTopicNotConfigured { .. } => codes::JOB_TOPIC_NOT_CONFIGURED,
            IndexerError::Invalid(_) => codes::INVALID_REQUEST,
            IndexerError::Elasticsearch(_) => codes::ES_UNAVAILABLE,
            IndexerError::Kafka(_) => codes::KAFKA_UNAVAILABLE,
            IndexerError::Database(_) => codes::DATABASE,
        };
        let message = match self {
            IndexerError::Database(_) => "The indexer's database failed".to_string(),
            other => other.to_string(),
        };
        vec![ErrorDetail::new(code, message)]
    }
}
