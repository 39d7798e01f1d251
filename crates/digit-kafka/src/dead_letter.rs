//! The dead-letter topic: poison messages published in upstream's [`ErrorQueueContract`]
//! shape, acknowledged before the caller moves past them.

use crate::contract::{ErrorQueueContract, StackFrame};
use crate::{Delivery, InboundMessage, KafkaError, Producer};

/// Publishes poison messages to one dead-letter topic (logical name: the producer applies
/// the topic prefix).
///
/// The [`ConsumerRunner`](crate::ConsumerRunner) uses it for handlers' permanent failures;
/// a handler that must order the dead letter with its own bookkeeping (the persister moves
/// its stored offset past a poison message only after the dead letter was acknowledged)
/// calls [`publish`](Self::publish) itself.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    producer: Producer,
    topic: String,
}

impl DeadLetters {
    /// Dead letters go to `topic` through `producer`.
    pub fn new(producer: Producer, topic: impl Into<String>) -> Self {
        Self {
            producer,
            topic: topic.into(),
        }
    }

    /// The logical dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Publishes `msg` with `reason` (the contract's `message`) under the message's key and
    /// correlation id, and returns once the broker acknowledged it. `origin` names the
    /// code that refused the message (the contract's `exception` frame), if any.
    pub async fn publish(
        &self,
        msg: &InboundMessage,
        reason: &str,
        origin: Option<&str>,
    ) -> Result<Delivery, KafkaError> {
        let mut contract = ErrorQueueContract::new(
            msg.topic.clone(),
            &msg.payload,
            reason,
            msg.correlation_id.clone(),
        );
        if let Some(origin) = origin {
            contract.exception = Some(vec![StackFrame::new(origin, "handle")]);
        }
        tracing::error!(
            topic = %msg.topic,
            partition = msg.partition,
            offset = msg.offset,
            correlation_id = msg.correlation_id.as_deref().unwrap_or(""),
            dead_letter_topic = %self.topic,
            reason,
            "permanent failure; sending the message to the dead-letter topic"
        );
        let delivery = self
            .producer
            .send_json(
                &self.topic,
                msg.key.as_deref(),
                &contract,
                msg.correlation_id.as_deref(),
            )
            .await?;
        tracing::info!(
            dead_letter_topic = %self.topic,
            dead_letter_partition = delivery.partition,
            dead_letter_offset = delivery.offset,
            error_id = contract.id.as_deref().unwrap_or(""),
            "message dead-lettered"
        );
        Ok(delivery)
    }
}
