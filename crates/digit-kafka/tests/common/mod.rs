//! Shared helpers for the broker-backed tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

use digit_kafka::{HandlerError, InboundMessage, KafkaSettings, MessageHandler};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use tokio::sync::mpsc;

/// Upper bound for anything a test waits for (group joins take ~3 s with a 6 s session).
pub const WAIT: Duration = Duration::from_secs(60);

pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,librdkafka=warn".into()),
            )
            .with_test_writer()
            .try_init();
    });
}

pub fn brokers() -> String {
    std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

pub fn settings() -> KafkaSettings {
    init_tracing();
    KafkaSettings {
        brokers: brokers(),
        client_id: "digit-kafka-test".to_owned(),
        topic_prefix: None,
        session_timeout_ms: 6000,
        ..KafkaSettings::default()
    }
}

/// A unique name per test run.
pub fn unique(base: &str) -> String {
    format!("{base}-{}", uuid::Uuid::new_v4().simple())
}

/// Awaits `fut`, failing the test after [`WAIT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A handler that forwards every message to a channel and succeeds.
pub struct Collect(pub mpsc::UnboundedSender<InboundMessage>);

impl MessageHandler for Collect {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let _ = self.0.send(msg.clone());
        Ok(())
    }
}

pub fn collector() -> (Collect, mpsc::UnboundedReceiver<InboundMessage>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Collect(tx), rx)
}

/// Low and high watermark of partition 0 of the broker-side `topic`.
pub fn watermarks(topic: &str) -> (i64, i64) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("metadata client");
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .expect("watermarks")
}

/// The offset group `group` committed for partition 0 of the broker-side `topic`.
pub fn committed(group: &str, topic: &str) -> rdkafka::Offset {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .create()
        .expect("offset client");
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    committed
        .find_partition(topic, 0)
        .expect("partition in answer")
        .offset()
}
