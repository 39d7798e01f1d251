//! Topic administration.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::context::TracingContext;
use crate::{KafkaError, KafkaSettings};

/// How long the broker may take to create the topics.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the logical `topics` (`(name, partitions)`, prefix applied) with replication
/// factor 1 — fine for development and tests; production clusters provision topics
/// themselves. Topics that already exist are not an error, so services can call this at
/// start-up to make sure their topics exist: on a broker with `auto.create.topics.enable`
/// off (ours, and careful production clusters) a send to a missing topic fails after the
/// producer's message timeout.
pub async fn create_topics(
    settings: &KafkaSettings,
    topics: &[(&str, i32)],
) -> Result<(), KafkaError> {
    if topics.is_empty() {
        return Ok(());
    }
    let mut config = settings.base_config();
    settings.apply_extra(&mut config);
    let admin: AdminClient<TracingContext> = config.create_with_context(TracingContext)?;
    let names: Vec<String> = topics
        .iter()
        .map(|(name, _)| settings.topic(name))
        .collect();
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .zip(topics)
        .map(|(name, (_, partitions))| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(OPERATION_TIMEOUT))
        .request_timeout(Some(OPERATION_TIMEOUT));
    let results = admin.create_topics(&new_topics, &options).await?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(topic = %topic, "kafka topic created"),
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %topic, "kafka topic already exists");
            }
            Err((topic, code)) => return Err(KafkaError::TopicCreation { topic, code }),
        }
    }
    Ok(())
}

/// A metadata-only client (no consumer group) that reads partitions' high watermarks, for
/// lag metrics and for checking stored offsets against the log.
#[derive(Clone)]
pub struct Watermarks {
    client: Arc<BaseConsumer<TracingContext>>,
}

impl std::fmt::Debug for Watermarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watermarks")
    }
}

impl Watermarks {
    /// A client for the settings' brokers (`extra` applied; the prefix is not: topic names
    /// passed to it are broker-side names).
    pub fn new(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        let mut config = settings.base_config();
        config.set("client.id", format!("{}-watermarks", settings.client_id));
        settings.apply_extra(&mut config);
        let client = config.create_with_context(TracingContext)?;
        Ok(Self {
            client: Arc::new(client),
        })
    }

    /// The high watermark (the offset the next message will get) of a partition, asked of
    /// the broker within `timeout`, off the async workers.
    pub async fn high(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<i64, KafkaError> {
        let client = Arc::clone(&self.client);
        let topic = topic.to_owned();
        let (_low, high) = tokio::task::spawn_blocking(move || {
            client.fetch_watermarks(&topic, partition, timeout)
        })
        .await??;
        Ok(high)
    }
}
