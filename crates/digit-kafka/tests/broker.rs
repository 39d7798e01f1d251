//! Tests against the real broker at `TEST_KAFKA_BROKERS` (default `127.0.0.1:9092`: the
//! single-node Apache Kafka that `make infra` runs, topic auto-creation off).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{collector, committed, settings, unique, watermarks, within};
use digit_kafka::{
    create_topics, Backoff, ConsumerRunner, DeadLetters, ErrorQueueContract, HandlerError,
    InboundMessage, KafkaSettings, MessageHandler, Producer,
};
use rdkafka::Offset;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

type RunHandle = JoinHandle<Result<(), digit_kafka::KafkaError>>;

/// Spawns `runner.run(...)`; the returned sender stops it.
fn spawn_runner<H: MessageHandler + 'static>(
    runner: ConsumerRunner,
    handler: H,
    dead_letter: Option<DeadLetters>,
) -> (RunHandle, oneshot::Sender<()>) {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(runner.run(handler, dead_letter, async move {
        let _ = stop_rx.await;
    }));
    (handle, stop_tx)
}

async fn stop(handle: RunHandle, stop_tx: oneshot::Sender<()>) {
    let _ = stop_tx.send(());
    within("runner to stop", handle)
        .await
        .expect("runner task")
        .expect("runner result");
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<InboundMessage>) -> InboundMessage {
    within("a message", rx.recv()).await.expect("channel open")
}

fn fast_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(10), Duration::from_millis(50))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    service_request_id: String,
    description: Option<String>,
    amount: Option<serde_json::Number>,
    address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    locality: Option<String>,
    pincode: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_keeps_nulls_key_and_correlation_header() {
    let settings = settings();
    let topic = unique("save-pgr-request");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    let complaint = Complaint {
        service_request_id: "PGR-1".into(),
        description: None,
        amount: Some(serde_json::Number::from_string_unchecked("10.50".into())),
        address: Address {
            locality: None,
            pincode: "143001".into(),
        },
    };
    let delivery = producer
        .send_json(
            &topic,
            Some("pb.amritsar"),
            &complaint,
            Some("corr-round-trip"),
        )
        .await
        .unwrap();

    let runner = ConsumerRunner::new(&settings, &unique("g-round-trip"), &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let message = recv(&mut rx).await;
    stop(handle, stop_tx).await;

    assert_eq!(message.topic, topic);
    assert_eq!(message.partition, delivery.partition);
    assert_eq!(message.offset, delivery.offset);
    assert_eq!(message.key.as_deref(), Some("pb.amritsar"));
    assert_eq!(message.correlation_id.as_deref(), Some("corr-round-trip"));
    assert_eq!(
        message.header("x-correlation-id"),
        Some(&b"corr-round-trip"[..])
    );
    assert!(message.timestamp_ms.is_some());
    let raw = message.payload_str().unwrap();
    assert_eq!(
        raw,
        r#"{"serviceRequestId":"PGR-1","description":null,"amount":10.50,"address":{"locality":null,"pincode":"143001"}}"#
    );
    assert_eq!(message.json::<Complaint>().unwrap(), complaint);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_raw_passes_bytes_and_headers_and_body_correlation_id_is_used() {
    let settings = settings();
    let topic = unique("raw");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_raw(&topic, None, b"\xffnot utf8", &[("h1", b"v1")])
        .await
        .unwrap();
    // No header: the correlation id comes from RequestInfo, as upstream producers send it.
    producer
        .send_raw(
            &topic,
            None,
            br#"{"RequestInfo":{"correlationId":"from-body"}}"#,
            &[],
        )
        .await
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();

    let runner = ConsumerRunner::new(&settings, &unique("g-raw"), &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let first = recv(&mut rx).await;
    let second = recv(&mut rx).await;
    stop(handle, stop_tx).await;

    assert_eq!(first.payload, b"\xffnot utf8");
    assert_eq!(first.key, None);
    assert_eq!(first.header("h1"), Some(&b"v1"[..]));
    assert_eq!(first.correlation_id, None);
    assert!(first.payload_str().is_err());
    assert_eq!(second.correlation_id.as_deref(), Some("from-body"));
}

/// Fails permanently on `{"n":1}`, forwards everything else.
struct PoisonOne(mpsc::UnboundedSender<InboundMessage>);

impl MessageHandler for PoisonOne {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let value: serde_json::Value = msg.json().map_err(HandlerError::permanent)?;
        if value["n"] == 1 {
            return Err(HandlerError::permanent("n=1 is poison"));
        }
        let _ = self.0.send(msg.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_is_dead_lettered_and_consumption_continues() {
    let settings = settings();
    let topic = unique("save-poison");
    let dlq = unique("egov-persister-deadletter");
    let group = unique("g-poison");
    create_topics(&settings, &[(&topic, 1), (&dlq, 1)])
        .await
        .unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(
            &topic,
            Some("k1"),
            &serde_json::json!({"n": 1, "x": null}),
            Some("corr-1"),
        )
        .await
        .unwrap();
    producer
        .send_json(
            &topic,
            Some("k2"),
            &serde_json::json!({"n": 2}),
            Some("corr-2"),
        )
        .await
        .unwrap();

    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (handle, stop_tx) = spawn_runner(
        runner,
        PoisonOne(tx),
        Some(DeadLetters::new(producer.clone(), &dlq)),
    );
    let processed = recv(&mut rx).await;
    assert_eq!(processed.json::<serde_json::Value>().unwrap()["n"], 2);
    assert_eq!(processed.offset, 1);
    stop(handle, stop_tx).await;
    assert_eq!(committed(&group, &topic), Offset::Offset(2));

    let dlq_runner = ConsumerRunner::new(&settings, &unique("g-dlq-reader"), &[&dlq]).unwrap();
    let (handler, mut dlq_rx) = collector();
    let (handle, stop_tx) = spawn_runner(dlq_runner, handler, None);
    let dead = recv(&mut dlq_rx).await;
    stop(handle, stop_tx).await;

    assert_eq!(dead.key.as_deref(), Some("k1"));
    assert_eq!(dead.correlation_id.as_deref(), Some("corr-1"));
    let raw: serde_json::Value = dead.json().unwrap();
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "source",
            "body",
            "ts",
            "errorRes",
            "exception",
            "message",
            "correlationId"
        ]
    );
    assert!(raw["errorRes"].is_null());
    let contract: ErrorQueueContract = dead.json().unwrap();
    assert_eq!(contract.source.as_deref(), Some(topic.as_str()));
    assert_eq!(contract.body, serde_json::json!({"n": 1, "x": null}));
    assert_eq!(contract.message.as_deref(), Some("n=1 is poison"));
    assert_eq!(contract.correlation_id.as_deref(), Some("corr-1"));
    assert!(uuid::Uuid::parse_str(contract.id.as_deref().unwrap()).is_ok());
    assert!(contract.ts.unwrap() > 1_600_000_000_000);
    let frames = contract.exception.unwrap();
    assert_eq!(frames.len(), 1);
    assert!(frames[0]
        .class_name
        .as_deref()
        .unwrap()
        .contains("PoisonOne"));
    // Exactly one dead letter.
    assert_eq!(watermarks(&dlq), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_without_dead_letter_topic_is_skipped() {
    let settings = settings();
    let topic = unique("save-poison-nodlq");
    let group = unique("g-poison-nodlq");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_raw(&topic, None, b"not json at all", &[])
        .await
        .unwrap();
    producer
        .send_json(&topic, None, &serde_json::json!({"n": 2}), None)
        .await
        .unwrap();

    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (handle, stop_tx) = spawn_runner(runner, PoisonOne(tx), None);
    let processed = recv(&mut rx).await;
    assert_eq!(processed.offset, 1);
    stop(handle, stop_tx).await;
    assert_eq!(committed(&group, &topic), Offset::Offset(2));
}

/// Fails transiently `failures` times (counted over all messages), then succeeds.
struct Flaky {
    failures: u32,
    attempts: AtomicU32,
    done: mpsc::UnboundedSender<InboundMessage>,
}

impl MessageHandler for Flaky {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt <= self.failures {
            return Err(HandlerError::transient(format!(
                "database down (attempt {attempt})"
            )));
        }
        let _ = self.done.send(msg.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failure_is_retried_in_place() {
    let settings = settings();
    let topic = unique("save-flaky");
    let dlq = unique("flaky-deadletter");
    let group = unique("g-flaky");
    create_topics(&settings, &[(&topic, 1), (&dlq, 1)])
        .await
        .unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(&topic, None, &serde_json::json!({"n": 1}), None)
        .await
        .unwrap();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let handler = Arc::new(Flaky {
        failures: 2,
        attempts: AtomicU32::new(0),
        done: tx,
    });
    let runner = ConsumerRunner::new(&settings, &group, &[&topic])
        .unwrap()
        .with_backoff(fast_backoff());
    let (handle, stop_tx) = spawn_runner(
        runner,
        Arc::clone(&handler),
        Some(DeadLetters::new(producer.clone(), &dlq)),
    );
    let processed = recv(&mut rx).await;
    stop(handle, stop_tx).await;

    assert_eq!(processed.offset, 0);
    assert_eq!(handler.attempts.load(Ordering::SeqCst), 3);
    assert!(
        rx.try_recv().is_err(),
        "processed successfully exactly once"
    );
    assert_eq!(committed(&group, &topic), Offset::Offset(1));
    assert_eq!(watermarks(&dlq), (0, 0), "nothing dead-lettered");
}

/// Signals that it started and then never finishes (or fails transiently forever).
struct Stuck {
    started: mpsc::UnboundedSender<InboundMessage>,
    hang: bool,
}

impl MessageHandler for Stuck {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let _ = self.started.send(msg.clone());
        if self.hang {
            std::future::pending::<()>().await;
        }
        Err(HandlerError::transient("never succeeds"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_consumer_does_not_lose_the_message() {
    let settings = settings();
    let topic = unique("save-abort");
    let group = unique("g-abort");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(
            &topic,
            None,
            &serde_json::json!({"n": 1}),
            Some("corr-abort"),
        )
        .await
        .unwrap();

    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handle, _stop_tx) = spawn_runner(
        runner,
        Stuck {
            started: started_tx,
            hang: true,
        },
        None,
    );
    let first = recv(&mut started_rx).await;
    handle.abort();
    let joined = within("aborted runner", handle).await;
    assert!(joined.unwrap_err().is_cancelled());
    assert_eq!(
        committed(&group, &topic),
        Offset::Invalid,
        "nothing committed"
    );

    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let again = recv(&mut rx).await;
    stop(handle, stop_tx).await;

    assert_eq!(again.offset, first.offset);
    assert_eq!(again.payload, first.payload);
    assert_eq!(again.correlation_id.as_deref(), Some("corr-abort"));
    assert_eq!(committed(&group, &topic), Offset::Offset(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_while_retrying_leaves_the_message_uncommitted() {
    let settings = settings();
    let topic = unique("save-retry-shutdown");
    let group = unique("g-retry-shutdown");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(&topic, None, &serde_json::json!({"n": 1}), None)
        .await
        .unwrap();

    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic])
        .unwrap()
        .with_backoff(Backoff::new(Duration::from_secs(5), Duration::from_secs(5)));
    let (handle, stop_tx) = spawn_runner(
        runner,
        Stuck {
            started: started_tx,
            hang: false,
        },
        None,
    );
    let first = recv(&mut started_rx).await;
    // Returns promptly although the retry wait is 5 s.
    stop(handle, stop_tx).await;
    assert_eq!(committed(&group, &topic), Offset::Invalid);

    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let again = recv(&mut rx).await;
    stop(handle, stop_tx).await;
    assert_eq!(again.offset, first.offset);
}

/// Reports the start of message 0, takes a while, then reports it done.
struct Slow {
    started: mpsc::UnboundedSender<i64>,
    done: mpsc::UnboundedSender<i64>,
}

impl MessageHandler for Slow {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let _ = self.started.send(msg.offset);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = self.done.send(msg.offset);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_in_flight_message_and_commits_it() {
    let settings = settings();
    let topic = unique("save-inflight");
    let group = unique("g-inflight");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    for n in 0..2 {
        producer
            .send_json(&topic, None, &serde_json::json!({ "n": n }), None)
            .await
            .unwrap();
    }

    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handle, stop_tx) = spawn_runner(
        runner,
        Slow {
            started: started_tx,
            done: done_tx,
        },
        None,
    );
    let started = within("handler start", started_rx.recv()).await.unwrap();
    assert_eq!(started, 0);
    stop(handle, stop_tx).await;
    assert_eq!(done_rx.try_recv(), Ok(0), "in-flight message finished");
    assert!(done_rx.try_recv().is_err(), "no new message after shutdown");
    assert_eq!(committed(&group, &topic), Offset::Offset(1));

    // The next member of the group continues after the committed message.
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let next = recv(&mut rx).await;
    stop(handle, stop_tx).await;
    assert_eq!(next.offset, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_prefix_is_applied() {
    let plain = settings();
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let central = KafkaSettings {
        topic_prefix: Some(prefix.clone()),
        ..plain.clone()
    };
    let full = format!("{prefix}-save-employee");
    assert_eq!(central.topic("save-employee"), full);

    create_topics(&central, &[("save-employee", 1)])
        .await
        .unwrap();
    let producer = Producer::new(&central).unwrap();
    producer
        .send_json("save-employee", None, &serde_json::json!({"n": 1}), None)
        .await
        .unwrap();
    assert_eq!(watermarks(&full), (0, 1), "written under the prefixed name");

    // A prefix-unaware consumer sees it under the full name …
    let runner = ConsumerRunner::new(&plain, &unique("g-prefix-plain"), &[&full]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    assert_eq!(recv(&mut rx).await.topic, full);
    stop(handle, stop_tx).await;

    // … and a central-instance consumer subscribes with the logical name.
    let runner = ConsumerRunner::new(&central, &unique("g-prefix"), &["save-employee"]).unwrap();
    assert_eq!(runner.topics(), std::slice::from_ref(&full));
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    assert_eq!(recv(&mut rx).await.topic, full);
    stop(handle, stop_tx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_picks_up_a_topic_created_after_it_subscribed() {
    let settings = settings();
    let topic = unique("save-late");
    // Subscribing to a missing topic is not an error.
    let runner = ConsumerRunner::new(&settings, &unique("g-late"), &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    tokio::time::sleep(Duration::from_secs(1)).await;

    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    // Creating it again is fine too.
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(&topic, None, &serde_json::json!({"late": true}), None)
        .await
        .unwrap();
    let message = recv(&mut rx).await;
    stop(handle, stop_tx).await;
    assert_eq!(message.payload_str().unwrap(), r#"{"late":true}"#);
}

/// Batches a topic, records every batch, and starts the group at `start` (if any).
struct Batcher {
    limit: usize,
    start: Vec<digit_kafka::StartOffset>,
    batches: mpsc::UnboundedSender<Vec<i64>>,
}

impl MessageHandler for Batcher {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let _ = self.batches.send(vec![msg.offset]);
        Ok(())
    }

    fn batch_limit(&self, _topic: &str) -> usize {
        self.limit
    }

    async fn handle_batch(&self, batch: &[InboundMessage]) -> Result<(), HandlerError> {
        let _ = self
            .batches
            .send(batch.iter().map(|m| m.offset).collect::<Vec<_>>());
        Ok(())
    }

    async fn start_offsets(&self) -> Result<Vec<digit_kafka::StartOffset>, HandlerError> {
        Ok(self.start.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_hold_fetched_messages_up_to_the_limit_and_commit_all() {
    let settings = settings();
    let topic = unique("save-batch");
    let group = unique("g-batch");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    for n in 0..7 {
        producer
            .send_json(&topic, None, &serde_json::json!({ "n": n }), None)
            .await
            .unwrap();
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let handler = Batcher {
        limit: 3,
        start: Vec::new(),
        batches: tx,
    };
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let mut seen = Vec::new();
    while seen.len() < 7 {
        let batch = within("a batch", rx.recv()).await.unwrap();
        assert!(!batch.is_empty() && batch.len() <= 3, "{batch:?}");
        seen.extend(batch);
    }
    stop(handle, stop_tx).await;
    assert_eq!(seen, (0..7).collect::<Vec<i64>>(), "in order, each once");
    assert_eq!(committed(&group, &topic), Offset::Offset(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_offsets_position_the_group_before_it_joins() {
    let settings = settings();
    let topic = unique("save-start");
    let group = unique("g-start");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    // Batched by the producer (linger), so offset 3 lies inside a record batch: the broker
    // must answer a fetch from it with the containing batch.
    let mut batching = settings.clone();
    batching.extra.push(("linger.ms".into(), "50".into()));
    let producer = Producer::new(&batching).unwrap();
    let sends = (0..6).map(|n| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            producer
                .send_json(&topic, None, &serde_json::json!({ "n": n }), None)
                .await
        }
    });
    for delivery in futures::future::join_all(sends).await {
        delivery.unwrap();
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let handler = Batcher {
        limit: 1,
        start: vec![digit_kafka::StartOffset {
            topic: topic.clone(),
            partition: 0,
            next: 3,
        }],
        batches: tx,
    };
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.extend(within("a message", rx.recv()).await.unwrap());
    }
    stop(handle, stop_tx).await;
    assert_eq!(
        seen,
        [3, 4, 5],
        "resumed inside the record batch, one at a time"
    );
    assert_eq!(committed(&group, &topic), Offset::Offset(6));
}

/// A service's exit waits for its consumers to leave the group. Closing a still-subscribed
/// consumer stalled the release persister's exit ~10 s (12.1 s from SIGTERM to exit, 2.0 s
/// after the runner unsubscribes first); this simple group does not stall either way, so
/// the test guards the stop path and its bound, not that particular stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_runner_leaves_its_group_within_seconds() {
    let settings = settings();
    let topic = unique("save-leave");
    let group = unique("g-leave");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    producer
        .send_json(&topic, None, &serde_json::json!({ "n": 1 }), None)
        .await
        .unwrap();
    let runner = ConsumerRunner::new(&settings, &group, &[&topic]).unwrap();
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    recv(&mut rx).await;
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("the runner stops (and leaves the group) within 5 s")
        .expect("runner task")
        .expect("runner result");
}

/// `CommitMode::Async` stores offsets for librdkafka's background commit (one request per
/// second, not one per message); leaving the group commits what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_mode_offsets_are_committed_in_the_background_and_on_close() {
    let settings = settings();
    let topic = unique("save-async");
    let group = unique("g-async");
    create_topics(&settings, &[(&topic, 1)]).await.unwrap();
    let producer = Producer::new(&settings).unwrap();
    for n in 0..3 {
        producer
            .send_json(&topic, None, &serde_json::json!({ "n": n }), None)
            .await
            .unwrap();
    }
    let runner = ConsumerRunner::new(&settings, &group, &[&topic])
        .unwrap()
        .with_commit_mode(digit_kafka::CommitMode::Async);
    let (handler, mut rx) = collector();
    let (handle, stop_tx) = spawn_runner(runner, handler, None);
    for _ in 0..3 {
        recv(&mut rx).await;
    }
    // The background commit, while the runner still runs.
    let deadline = std::time::Instant::now() + 4 * digit_kafka::AUTO_COMMIT_INTERVAL;
    while committed(&group, &topic) != Offset::Offset(3) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(committed(&group, &topic), Offset::Offset(3));
    producer
        .send_json(&topic, None, &serde_json::json!({ "n": 3 }), None)
        .await
        .unwrap();
    recv(&mut rx).await;
    stop(handle, stop_tx).await;
    assert_eq!(
        committed(&group, &topic),
        Offset::Offset(4),
        "committed on close"
    );
}
