//! The commit watcher against the real Postgres (and the real broker for the publish path):
//! it listens on a connection of its own, survives a lost listener connection, and applies
//! the one timeout policy (answer unconfirmed, logged and counted).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_kafka::{Delivery, KafkaSettings, Producer};
use digit_service::Metrics;
use digit_store::commit::{
    publish_and_await, CommitSettings, CommitWatcher, Confirmation, Outgoing, WatchEvent,
    COMMIT_CHANNEL,
};
use digit_store::testing::TestDb;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

static PERSISTER_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/persister");

const GROUP: &str = "commit-test";

fn settings(timeout: Duration) -> CommitSettings {
    CommitSettings {
        group: GROUP.into(),
        timeout,
    }
}

/// What the persister does when it commits a message: offsets row + NOTIFY, from a
/// connection of its own.
async fn commit(db: &TestDb, topic: &str, partition: i32, offset: i64) {
    let mut conn = PgConnection::connect_with(&db.connect_options())
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO persister_offsets (consumer_group, topic, kafka_partition, next_offset)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
    )
    .bind(GROUP)
    .bind(topic)
    .bind(partition)
    .bind(offset + 1)
    .execute(&mut *tx)
    .await
    .unwrap();
    let payload = serde_json::json!({"group": GROUP, "topic": topic, "partition": partition, "offset": offset});
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(COMMIT_CHANNEL)
        .bind(payload.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn listener_backends(db: &TestDb) -> i64 {
    let mut conn = PgConnection::connect_with(&db.connect_options())
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%commit-watcher'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// What the watcher's remaining backends are doing (for the failure message).
async fn listener_activity(db: &TestDb) -> Vec<(Option<String>, Option<String>)> {
    let mut conn = PgConnection::connect_with(&db.connect_options())
        .await
        .unwrap();
    sqlx::query_as(
        "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%commit-watcher'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

async fn small_pool(db: &TestDb) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(db.connect_options())
        .await
        .unwrap()
}

async fn next_event(rx: &mut tokio::sync::broadcast::Receiver<WatchEvent>) -> WatchEvent {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("an event within 15 s")
        .unwrap()
}

#[tokio::test]
async fn the_watcher_listens_outside_the_service_pool() {
    let db = TestDb::migrated(&[&PERSISTER_MIGRATOR]).await.unwrap();
    // A pool of one: if the watcher held a connection of it, no query could run.
    let pool = small_pool(&db).await;
    let watcher = CommitWatcher::start(
        pool.clone(),
        settings(Duration::from_secs(10)),
        &Metrics::new("t"),
    )
    .await
    .unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .expect("the pool still serves queries while the watcher listens");
    assert_eq!(one, 1);
    assert_eq!(pool.size(), 1);
    assert_eq!(
        listener_backends(&db).await,
        1,
        "one dedicated listener connection"
    );

    // Waiting needs none of the service's connections: a request may hold the only one (a
    // transaction with a lock, as sor-rates does) while it waits.
    let held = pool.acquire().await.unwrap();
    let mut events = watcher.subscribe();
    let waiting = {
        let w = watcher.clone();
        tokio::spawn(async move { w.wait_for("t", 0, 7, Duration::from_secs(10)).await })
    };
    commit(&db, "t", 0, 7).await;
    waiting.await.unwrap().unwrap();
    assert!(matches!(next_event(&mut events).await, WatchEvent::Committed(c) if c.offset == 7));
    drop(held);

    // Closing the service's pool ends the listener and the watcher's connections.
    pool.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while listener_backends(&db).await > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        listener_backends(&db).await,
        0,
        "the watcher's connections outlived the pool: {:?}",
        listener_activity(&db).await
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_lost_listener_connection_reconnects() {
    let db = TestDb::migrated(&[&PERSISTER_MIGRATOR]).await.unwrap();
    let watcher = CommitWatcher::start(
        db.pool().clone(),
        settings(Duration::from_secs(10)),
        &Metrics::new("t"),
    )
    .await
    .unwrap();
    let mut events = watcher.subscribe();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%commit-watcher'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(killed, vec![true]);
    assert_eq!(next_event(&mut events).await, WatchEvent::Reconnected);
    assert_eq!(listener_backends(&db).await, 1);
    // Notifications arrive again on the new connection.
    commit(&db, "t", 0, 3).await;
    assert!(matches!(next_event(&mut events).await, WatchEvent::Committed(c) if c.offset == 3));
    drop(watcher);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_unconfirmed_write_is_answered_and_counted() {
    let db = TestDb::migrated(&[&PERSISTER_MIGRATOR]).await.unwrap();
    let metrics = Metrics::new("t");
    let watcher = CommitWatcher::start(
        db.pool().clone(),
        settings(Duration::from_millis(300)),
        &metrics,
    )
    .await
    .unwrap();
    let delivery = Delivery {
        partition: 0,
        offset: 4,
    };
    assert_eq!(
        watcher.confirm("t", delivery).await,
        Confirmation::Unconfirmed
    );
    assert_eq!(watcher.unconfirmed("t"), 1);
    let rendered = metrics.render();
    assert!(
        rendered.contains(r#"persister_await_unconfirmed_total{topic="t",service="t"} 1"#),
        "{rendered}"
    );
    commit(&db, "t", 0, 4).await;
    assert_eq!(
        watcher.confirm("t", delivery).await,
        Confirmation::Persisted
    );
    assert_eq!(watcher.unconfirmed("t"), 1);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn publish_and_await_waits_for_the_commit_of_the_published_offset() {
    let db = TestDb::migrated(&[&PERSISTER_MIGRATOR]).await.unwrap();
    let kafka = KafkaSettings::new(
        std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    let topic = format!("commit-test-{}", uuid::Uuid::new_v4().simple());
    digit_kafka::create_topics(&kafka, &[(topic.as_str(), 1)])
        .await
        .unwrap();
    let producer = Producer::new(&kafka).unwrap();
    let watcher = CommitWatcher::start(
        db.pool().clone(),
        settings(Duration::from_secs(20)),
        &Metrics::new("t"),
    )
    .await
    .unwrap();
    let (one, two) = (serde_json::json!({"n": 1}), serde_json::json!({"n": 2}));
    let message = |payload| Outgoing {
        topic: &topic,
        key: Some("k"),
        payload,
        correlation_id: Some("c-1"),
    };
    // Fire-and-forget: acknowledged, not awaited.
    let first = publish_and_await(&producer, None, message(&one))
        .await
        .unwrap();
    assert_eq!(first.confirmation, Confirmation::NotAwaited);
    // A stand-in persister commits whatever arrives next.
    let persister = {
        let mut events = watcher.subscribe();
        let db_options = db.connect_options();
        let topic = topic.clone();
        tokio::spawn(async move {
            let mut conn = PgConnection::connect_with(&db_options).await.unwrap();
            let next = first.delivery.offset + 1;
            sqlx::query(
                "INSERT INTO persister_offsets (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, 0, $3)",
            )
            .bind(GROUP)
            .bind(&topic)
            .bind(next + 1)
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(COMMIT_CHANNEL)
                .bind(serde_json::json!({"group": GROUP, "topic": topic, "partition": 0, "offset": next}).to_string())
                .execute(&mut conn)
                .await
                .unwrap();
            next_event(&mut events).await
        })
    };
    let second = publish_and_await(&producer, Some(&watcher), message(&two))
        .await
        .unwrap();
    assert_eq!(second.delivery.offset, first.delivery.offset + 1);
    assert_eq!(second.confirmation, Confirmation::Persisted);
    assert!(matches!(persister.await.unwrap(), WatchEvent::Committed(_)));
    assert_eq!(watcher.unconfirmed(&topic), 0);
    db.cleanup().await.unwrap();
}

/// A commit signal alone, without the offsets row (what the watcher heard, not the table).
async fn signal_only(db: &TestDb, topic: &str, offset: i64) {
    let payload =
        serde_json::json!({"group": GROUP, "topic": topic, "partition": 0, "offset": offset});
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(COMMIT_CHANNEL)
        .bind(payload.to_string())
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_followed_partition_is_answered_from_the_signals_and_a_reset_forgets_them() {
    let db = TestDb::migrated(&[&PERSISTER_MIGRATOR]).await.unwrap();
    let watcher = CommitWatcher::start(
        db.pool().clone(),
        settings(Duration::from_secs(10)),
        &Metrics::new("t"),
    )
    .await
    .unwrap();
    let mut events = watcher.subscribe();
    signal_only(&db, "followed", 9).await;
    assert!(matches!(next_event(&mut events).await, WatchEvent::Committed(c) if c.offset == 9));
    // Offsets up to the last signal are persisted (the table has no row: not asked).
    let quick = Duration::from_millis(100);
    watcher.wait_for("followed", 0, 9, quick).await.unwrap();
    watcher.wait_for("followed", 0, 3, quick).await.unwrap();
    assert!(watcher.wait_for("followed", 0, 10, quick).await.is_err());
    // The persister forgot the partition (topic recreated): the old log's offsets no longer count.
    signal_only(&db, "followed", -1).await;
    assert!(matches!(next_event(&mut events).await, WatchEvent::Committed(c) if c.offset == -1));
    assert!(watcher.wait_for("followed", 0, 3, quick).await.is_err());
    commit(&db, "followed", 0, 3).await;
    watcher.wait_for("followed", 0, 3, quick).await.unwrap();
    drop(watcher);
    db.cleanup().await.unwrap();
}
