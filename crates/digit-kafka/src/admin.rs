//! Topic administration.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use crate::context::TracingContext;
use crate::{KafkaError, KafkaSettings};

/// How long the broker may take to create the topics.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the logical `topics` (`(name, partitions)`, prefix applied) with replication
/// factor 1 — fine for development and tests; production clusters provision topics
/// themselves. Topics that already exist are not an error, so services can call this at
/// start-up to make sure their topics exist: brokers without automatic topic creation
/// (Tansu) make a send to a missing topic fail after the producer's message timeout.
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
