//! A topic deleted and recreated on Apache Kafka starts a new log at offset 0, below the
//! offset stored in Postgres for the old log: the persister must read the new log from its
//! start instead of skipping its messages as replays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use std::time::{Duration, Instant};

async fn delete_topic(topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .create()
        .unwrap();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.delete_topics(&[topic], &options).await.unwrap() {
        result.unwrap();
    }
}

async fn persist_and_stop(w: persister::store::consumer::Writer, expected: i64) -> i64 {
    let pool = w.pool.clone();
    let (shutdown, handle) = spawn(w);
    let n = wait_for_count(
        &pool,
        "SELECT count(*) FROM persister_load",
        expected,
        Duration::from_secs(60),
    )
    .await;
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_topic_is_read_from_its_start() {
    let db = database().await;
    let t = tag();
    let topic = format!("persister-load-{t}");
    create_topics(&[&topic]).await;
    let config =
        || persister::domain::load_configs(load_config_file(&topic).to_str().unwrap()).unwrap();
    let settings = settings(&t);
    let w = writer(config(), db.pool().clone(), settings.clone());
    publish_raw(&w.producer, &topic, &load_messages(5)).await;
    assert_eq!(persist_and_stop(w, 5).await, 5);
    let stored: i64 =
        sqlx::query_scalar("SELECT next_offset FROM persister_offsets WHERE topic = $1")
            .bind(&topic)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(stored, 5);

    delete_topic(&topic).await;
    // The deletion propagates to the metadata within moments; until then creating it again
    // reports that it exists, so wait until the new log is empty.
    let started = Instant::now();
    loop {
        create_topics(&[&topic]).await;
        if topic_size(&topic) == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "topic not recreated"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A fresh writer (and producer: the old one's idempotence state belongs to the old log).
    let w = writer(config(), db.pool().clone(), settings);
    let fresh: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            serde_json::to_vec(
                &serde_json::json!({"RequestInfo": {}, "Item": {"id": format!("new{i}"), "seq": i}}),
            )
            .unwrap()
        })
        .collect();
    publish_raw(&w.producer, &topic, &fresh).await;
    assert_eq!(topic_size(&topic), 3);
    assert_eq!(
        persist_and_stop(w, 8).await,
        8,
        "the new log's messages are persisted, not skipped as replays"
    );
    let next: i64 =
        sqlx::query_scalar("SELECT next_offset FROM persister_offsets WHERE topic = $1")
            .bind(&topic)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(next, 3, "the stored offset now counts the new log");
    db.cleanup().await.unwrap();
}
