//! The crate's error type.

use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// Everything that can go wrong talking to Kafka through this crate.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// A client could not be created or configured (bad property, no Tokio runtime, …).
    #[error("kafka client configuration failed: {0}")]
    Config(String),
    /// An error reported by librdkafka outside a specific message delivery.
    #[error("kafka client error: {0}")]
    Client(#[from] RdKafkaError),
    /// The payload could not be serialised to JSON.
    #[error("could not serialise kafka payload: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The broker did not acknowledge a message (after librdkafka's own retries, bounded
    /// by `message.timeout.ms`).
    #[error("message to topic {topic} was not delivered: {source}")]
    Delivery {
        /// Broker-side topic name.
        topic: String,
        /// The librdkafka error.
        source: RdKafkaError,
    },
    /// librdkafka dropped a message's delivery report (the producer was shutting down).
    #[error("delivery report for topic {topic} was lost (producer shut down?)")]
    DeliveryCancelled {
        /// Broker-side topic name.
        topic: String,
    },
    /// Creating a topic failed.
    #[error("could not create topic {topic}: {code}")]
    TopicCreation {
        /// Broker-side topic name.
        topic: String,
        /// The broker's error code.
        code: RDKafkaErrorCode,
    },
    /// A blocking librdkafka call run on Tokio's blocking pool did not complete.
    #[error("blocking kafka task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}
