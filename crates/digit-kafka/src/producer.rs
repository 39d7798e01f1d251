//! The acknowledged, idempotent JSON producer.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::util::Timeout;
use serde::Serialize;

use crate::context::TracingContext;
use crate::message::CORRELATION_ID_HEADER;
use crate::{KafkaError, KafkaSettings};

/// Upper bound for one message's delivery, librdkafka retries included
/// (`message.timeout.ms`).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the broker stored an acknowledged message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Partition the message was written to.
    pub partition: i32,
    /// Offset of the message in that partition.
    pub offset: i64,
}

/// A Kafka producer that answers only after the broker acknowledged each message.
///
/// Configured with `acks=all`, `enable.idempotence=true` (no duplicates or reordering from
/// librdkafka's internal retries), `linger.ms=1` and `message.timeout.ms=30000`, so every send resolves
/// within about 30 s. Topic names passed to it are logical names: the settings' topic
/// prefix is applied here ([`KafkaSettings::topic`]).
///
/// Cloning is cheap (an `Arc` inside) and clones share one connection pool.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer<TracingContext>,
    settings: Arc<KafkaSettings>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("brokers", &self.settings.brokers)
            .field("client_id", &self.settings.client_id)
            .field("topic_prefix", &self.settings.topic_prefix)
            .finish()
    }
}

impl Producer {
    /// Creates the producer. Connections are made lazily, so this succeeds even when the
    /// broker is down; sends then fail after the message timeout. So does a send to a topic
    /// that does not exist when the broker does not create topics on first use (ours does
    /// not): see [`create_topics`](crate::create_topics).
    pub fn new(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        let mut config = settings.base_config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            // Every write waits for its send: librdkafka's 5 ms default linger is 5 ms on
            // each of them. Under load messages still batch, behind the requests in flight.
            .set("linger.ms", "1")
            .set(
                "message.timeout.ms",
                MESSAGE_TIMEOUT.as_millis().to_string(),
            );
        settings.apply_extra(&mut config);
        let inner = config.create_with_context(TracingContext)?;
        Ok(Self {
            inner,
            settings: Arc::new(settings.clone()),
        })
    }

    /// The settings this producer was created with.
    pub fn settings(&self) -> &KafkaSettings {
        &self.settings
    }

    /// Serialises `value` to JSON and sends it to the logical topic `topic`, returning once
    /// the broker acknowledged it.
    ///
    /// The JSON keeps explicit `null`s for `None` (serde's default, and what upstream's
    /// Spring `JsonSerializer` produces); **payload structs must therefore not use
    /// `#[serde(skip_serializing_if = ...)]`**, or consumers expecting the upstream shape see
    /// missing keys instead of `null`s. `key` becomes the record key (it picks the
    /// partition); `correlation_id`, when given, is sent in the `x-correlation-id` header.
    pub async fn send_json<T>(
        &self,
        topic: &str,
        key: Option<&str>,
        value: &T,
        correlation_id: Option<&str>,
    ) -> Result<Delivery, KafkaError>
    where
        T: Serialize + ?Sized,
    {
        let payload = serde_json::to_vec(value)?;
        let headers: Vec<(&str, &[u8])> = correlation_id
            .map(|id| (CORRELATION_ID_HEADER, id.as_bytes()))
            .into_iter()
            .collect();
        self.send_raw(topic, key, &payload, &headers).await
    }

    /// Sends raw bytes with the given headers to the logical topic `topic`, returning once
    /// the broker acknowledged them.
    pub async fn send_raw(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(&str, &[u8])],
    ) -> Result<Delivery, KafkaError> {
        let topic = self.settings.topic(topic);
        let mut record = FutureRecord::<str, [u8]>::to(&topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        if !headers.is_empty() {
            let owned = headers.iter().fold(
                OwnedHeaders::new_with_capacity(headers.len()),
                |acc, (k, v)| {
                    acc.insert(Header {
                        key: k,
                        value: Some(*v),
                    })
                },
            );
            record = record.headers(owned);
        }
        // Wait at most the message timeout for room in librdkafka's local queue; the
        // delivery itself is bounded by `message.timeout.ms`.
        match self
            .inner
            .send(record, Timeout::After(MESSAGE_TIMEOUT))
            .await
        {
            Ok(delivery) => {
                tracing::debug!(
                    topic = %topic,
                    partition = delivery.partition,
                    offset = delivery.offset,
                    "kafka message acknowledged"
                );
                Ok(Delivery {
                    partition: delivery.partition,
                    offset: delivery.offset,
                })
            }
            Err((rdkafka::error::KafkaError::Canceled, _)) => {
                Err(KafkaError::DeliveryCancelled { topic })
            }
            Err((source, _message)) => {
                tracing::warn!(topic = %topic, error = %source, "kafka message not delivered");
                Err(KafkaError::Delivery { topic, source })
            }
        }
    }

    /// Waits until every queued message was delivered (or failed), at most `timeout`.
    ///
    /// Call it on graceful shutdown. It blocks the calling thread, so in async code run it
    /// through `tokio::task::spawn_blocking`.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner.flush(Timeout::After(timeout))?;
        Ok(())
    }
}
