//! The outbox against real Postgres, the real broker and a real HTTP receiver: rollback
//! sends nothing, commit delivers once with the idempotency key, a failing target is retried
//! and ends `dead` with the metric, and two relays never deliver one row twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use digit_outbox::{enqueue, OutboxMessage, OutboxMetrics, OutboxSettings, Relay, OUTBOX_MIGRATOR};
use digit_service::Metrics;
use digit_store::TestDb;
use serde_json::json;

fn relay(db: &TestDb, settings: OutboxSettings) -> (Relay, Metrics) {
    let metrics = Metrics::new("outbox-test");
    let producer = digit_kafka::Producer::new(&kafka()).unwrap();
    let relay = Relay::new(
        db.pool().clone(),
        Some(producer),
        settings,
        OutboxMetrics::new(&metrics).unwrap(),
    )
    .unwrap();
    (relay, metrics)
}

async fn status_of(db: &TestDb, key: &str) -> (String, i32, Option<String>) {
    sqlx::query_as(
        "SELECT status, attempts, last_error FROM digit_outbox WHERE idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_sends_nothing_and_committed_is_delivered_once_with_its_key() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    let topic = format!("outbox-test-{}", tag());
    create_topic(&topic).await;
    let receiver = Receiver::start(StatusCode::OK).await;

    // Rolled back: neither message may ever leave.
    let mut tx = db.pool().begin().await.unwrap();
    let m = OutboxMessage::kafka_json(&topic, Some("k"), &json!({"n": "rolled-back"})).unwrap();
    enqueue(&mut tx, &m).await.unwrap();
    let h = OutboxMessage::http_json("POST", &receiver.url, &json!({"n": "rolled-back"})).unwrap();
    enqueue(&mut tx, &h).await.unwrap();
    tx.rollback().await.unwrap();

    // Committed.
    let mut tx = db.pool().begin().await.unwrap();
    let kafka_msg =
        OutboxMessage::kafka_json(&topic, Some("pgr-1"), &json!({"n": "committed", "x": null}))
            .unwrap()
            .with_idempotency_key("ledger-1:allocated")
            .with_correlation_id("corr-1");
    enqueue(&mut tx, &kafka_msg).await.unwrap();
    let http_msg = OutboxMessage::http_json("post", &receiver.url, &json!({"n": "committed"}))
        .unwrap()
        .with_idempotency_key("ledger-1:notified");
    enqueue(&mut tx, &http_msg).await.unwrap();
    tx.commit().await.unwrap();
    // The same key twice is refused by the table.
    let mut dup_tx = db.pool().begin().await.unwrap();
    let dup = enqueue(&mut dup_tx, &kafka_msg).await;
    assert!(
        matches!(dup, Err(digit_outbox::OutboxError::Database(_))),
        "a second row with the same idempotency key must be refused: {dup:?}"
    );
    dup_tx.rollback().await.unwrap();

    let (relay, metrics) = relay(&db, OutboxSettings::default());
    assert_eq!(relay.run_once().await.unwrap(), 2);
    assert_eq!(relay.run_once().await.unwrap(), 0, "nothing left to claim");

    let records = tokio::task::spawn_blocking({
        let topic = topic.clone();
        move || read_topic(&topic, 1, Duration::from_secs(20), Duration::from_secs(1))
    })
    .await
    .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].idempotency_key.as_deref(),
        Some("ledger-1:allocated")
    );
    assert_eq!(records[0].key.as_deref(), Some("pgr-1"));
    assert_eq!(records[0].payload, br#"{"n":"committed","x":null}"#);

    let seen = receiver.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].idempotency_key.as_deref(),
        Some("ledger-1:notified")
    );
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(seen[0].body, br#"{"n":"committed"}"#);

    for key in ["ledger-1:allocated", "ledger-1:notified"] {
        let (status, attempts, error) = status_of(&db, key).await;
        assert_eq!((status.as_str(), attempts, error), ("delivered", 1, None));
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM digit_outbox")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 2, "the rolled-back rows do not exist");
    let text = metrics.render();
    assert!(
        text.contains(r#"outbox_delivered_total{kind="kafka",service="outbox-test"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"outbox_delivered_total{kind="http",service="outbox-test"} 1"#),
        "{text}"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_failing_target_is_retried_with_backoff_then_dead_with_the_metric() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    let unavailable = Receiver::start(StatusCode::SERVICE_UNAVAILABLE).await;
    let rejecting = Receiver::start(StatusCode::BAD_REQUEST).await;
    let mut tx = db.pool().begin().await.unwrap();
    let retried = OutboxMessage::http_json("POST", &unavailable.url, &json!({"a": 1}))
        .unwrap()
        .with_idempotency_key("retried");
    enqueue(&mut tx, &retried).await.unwrap();
    let rejected = OutboxMessage::http_json("POST", &rejecting.url, &json!({"a": 2}))
        .unwrap()
        .with_idempotency_key("rejected");
    enqueue(&mut tx, &rejected).await.unwrap();
    tx.commit().await.unwrap();

    let settings = OutboxSettings {
        max_attempts: 3,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_millis(400),
        ..OutboxSettings::default()
    };
    let (relay, metrics) = relay(&db, settings);
    assert_eq!(relay.run_once().await.unwrap(), 2);
    // After the first failure the retry waits for its backoff: not due yet.
    let (status, attempts, error) = status_of(&db, "retried").await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("503"));
    assert_eq!(relay.run_once().await.unwrap(), 0, "backing off");
    // 400 is permanent: dead after one attempt.
    let (status, attempts, error) = status_of(&db, "rejected").await;
    assert_eq!((status.as_str(), attempts), ("dead", 1));
    assert!(error.unwrap().contains("400"));

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while status_of(&db, "retried").await.0 == "pending" {
        assert!(std::time::Instant::now() < deadline, "never went dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
        relay.run_once().await.unwrap();
    }
    let (status, attempts, error) = status_of(&db, "retried").await;
    assert_eq!((status.as_str(), attempts), ("dead", 3));
    assert!(error.unwrap().contains("503"));
    let seen = unavailable.seen();
    assert_eq!(seen.len(), 3, "three attempts");
    assert!(seen
        .iter()
        .all(|r| r.idempotency_key.as_deref() == Some("retried")));
    assert_eq!(rejecting.seen().len(), 1);
    // Dead rows are not claimed again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.run_once().await.unwrap(), 0);
    let text = metrics.render();
    assert!(
        text.contains(r#"outbox_dead_total{kind="http",service="outbox-test"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"outbox_failed_attempts_total{kind="http",service="outbox-test"} 4"#),
        "{text}"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_table_deliver_each_row_once() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    let receiver = Receiver::start(StatusCode::OK).await;
    let mut tx = db.pool().begin().await.unwrap();
    for n in 0..300 {
        let m = OutboxMessage::http_json("POST", &receiver.url, &json!({"n": n}))
            .unwrap()
            .with_idempotency_key(format!("m-{n}"));
        enqueue(&mut tx, &m).await.unwrap();
    }
    tx.commit().await.unwrap();
    let settings = OutboxSettings {
        batch_size: 20,
        ..OutboxSettings::default()
    };
    let (a, _) = relay(&db, settings.clone());
    let (b, _) = relay(&db, settings);
    let drain = |r: Relay| async move {
        let mut claimed = 0;
        loop {
            let n = r.run_once().await.unwrap();
            if n == 0 {
                return claimed;
            }
            claimed += n;
        }
    };
    let (ca, cb) = tokio::join!(tokio::spawn(drain(a)), tokio::spawn(drain(b)));
    let (ca, cb) = (ca.unwrap(), cb.unwrap());
    assert_eq!(ca + cb, 300, "{ca} + {cb}");
    let seen = receiver.seen();
    let keys: HashSet<String> = seen
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!((seen.len(), keys.len()), (300, 300));
    db.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_for_a_source_delivers_only_that_services_rows() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    let receiver = Receiver::start(StatusCode::OK).await;
    let mut tx = db.pool().begin().await.unwrap();
    for (key, source) in [
        ("mine", "program"),
        ("theirs", "digit-exchange"),
        ("unmarked", ""),
    ] {
        let m = OutboxMessage::http_json("POST", &receiver.url, &json!({"n": key}))
            .unwrap()
            .with_idempotency_key(key)
            .with_source(source);
        enqueue(&mut tx, &m).await.unwrap();
    }
    tx.commit().await.unwrap();

    let (relay, _metrics) = relay(&db, OutboxSettings::default());
    let relay = relay.for_source("program");
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(status_of(&db, "mine").await.0, "delivered");
    assert_eq!(status_of(&db, "theirs").await.0, "pending");
    assert_eq!(status_of(&db, "unmarked").await.0, "pending");
    db.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_receivers_messages_arrive_in_the_order_they_were_written() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    // The receiver answers slowly for early messages, so parallel delivery would reorder.
    let receiver = Receiver::start_with_hook(
        StatusCode::OK,
        std::sync::Arc::new(|n| {
            if n % 3 == 1 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }),
    )
    .await;
    let mut tx = db.pool().begin().await.unwrap();
    for n in 0..12 {
        // Different paths on one authority (the exchange's /on-sanction, /on-allocation …).
        let url = format!("{}?type={n}", receiver.url);
        let m = OutboxMessage::http_json("POST", &url, &json!({"n": n})).unwrap();
        enqueue(&mut tx, &m).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (relay, _metrics) = relay(&db, OutboxSettings::default());
    assert_eq!(relay.run_once().await.unwrap(), 12);
    let order: Vec<i64> = receiver
        .seen()
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(order, (0..12).collect::<Vec<_>>());
    db.cleanup().await.unwrap();
}
