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

impl From<KafkaError> for digit_core::InfraError {
    /// Every failure of this crate is the broker's (or talking to it), source kept.
    fn from(e: KafkaError) -> Self {
        let context = match &e {
            KafkaError::Config(_) => "configuring a kafka client",
            KafkaError::Client(_) | KafkaError::Join(_) => "talking to the broker",
            KafkaError::Serialize(_) => "serialising a kafka payload",
            KafkaError::Delivery { .. } | KafkaError::DeliveryCancelled { .. } => {
                "publishing a message"
            }
            KafkaError::TopicCreation { .. } => "creating a topic",
        };
        digit_core::InfraError::broker(context, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_errors_become_broker_failures_with_their_source() {
        let e = KafkaError::DeliveryCancelled {
            topic: "save-x".into(),
        };
        let infra = digit_core::InfraError::from(e);
        assert_eq!(infra.kind(), digit_core::InfraKind::Broker);
        assert!(infra.find_source::<KafkaError>().is_some());
        assert_eq!(
            digit_core::infra::chain(&infra),
            "broker: publishing a message: delivery report for topic save-x was lost (producer shut down?)"
        );
    }
}
