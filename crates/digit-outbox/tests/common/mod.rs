//! Shared fixtures: the real broker, a Kafka topic reader and an HTTP receiver that records
//! every request's idempotency key.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support code.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use digit_kafka::KafkaSettings;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, TopicPartitionList};

/// The broker tests use.
pub fn kafka() -> KafkaSettings {
    let mut k = KafkaSettings::new(
        std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    k.client_id = "outbox-test".into();
    k
}

/// A short unique tag for topic names.
pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Creates a one-partition topic.
pub async fn create_topic(topic: &str) {
    digit_kafka::create_topics(&kafka(), &[(topic, 1)])
        .await
        .unwrap();
}

/// One record read back: payload and the `idempotency-key` header.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: Option<String>,
    pub idempotency_key: Option<String>,
    pub payload: Vec<u8>,
}

/// Reads partition 0 of `topic` from the start until `want` records arrived or `timeout`
/// passed, then keeps reading for `settle` to catch extra (duplicate) records.
pub fn read_topic(topic: &str, want: usize, timeout: Duration, settle: Duration) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .set("group.id", format!("outbox-reader-{}", tag()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    let mut reached: Option<Instant> = None;
    loop {
        if out.len() >= want && reached.is_none() {
            reached = Some(Instant::now());
        }
        match reached {
            Some(at) if at.elapsed() >= settle => break,
            None if started.elapsed() >= timeout => break,
            _ => {}
        }
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let idempotency_key = m.headers().and_then(|h| {
                h.iter()
                    .find(|h| h.key == digit_outbox::KAFKA_IDEMPOTENCY_HEADER)
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            });
            out.push(Record {
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                idempotency_key,
                payload: m.payload().unwrap_or_default().to_vec(),
            });
        }
    }
    out
}

/// What an HTTP receiver saw.
#[derive(Debug, Clone)]
pub struct Received {
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// An HTTP receiver on 127.0.0.1 answering every `POST /hook` with `status`.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(status: StatusCode) -> Self {
        Self::start_with_hook(status, Arc::new(|_| {})).await
    }

    /// Like [`Receiver::start`], calling `hook(n)` after recording the n-th request and
    /// before answering it.
    pub async fn start_with_hook(
        status: StatusCode,
        hook: Arc<dyn Fn(usize) + Send + Sync>,
    ) -> Self {
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let record = record.clone();
                let hook = hook.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    let n = {
                        let mut seen = record.lock().unwrap();
                        seen.push(Received {
                            idempotency_key: header(digit_outbox::HTTP_IDEMPOTENCY_HEADER),
                            content_type: header("content-type"),
                            body: body.to_vec(),
                        });
                        seen.len()
                    };
                    hook(n);
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            seen,
        }
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}
