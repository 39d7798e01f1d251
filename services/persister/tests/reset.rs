//! A stored offset beyond the log (topic recreated, in-memory broker restarted) must not
//! make the persister skip the new messages as replays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_beyond_the_high_watermark_are_forgotten() {
    let db = database().await;
    let t = tag();
    let topic = format!("persister-load-{t}");
    create_topics(&[&topic]).await;
    let config =
        persister::domain::load_configs(load_config_file(&topic).to_str().unwrap()).unwrap();
    let settings = settings(&t);
    // As if an earlier broker had delivered 500 messages on this topic.
    sqlx::query("INSERT INTO persister_offsets (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, 0, 500)")
        .bind(&settings.group_id)
        .bind(&topic)
        .execute(db.pool())
        .await
        .unwrap();
    let w = writer(config, db.pool().clone(), settings);
    let producer = w.producer.clone();
    let (shutdown, handle) = spawn(w);
    publish_raw(&producer, &topic, &load_messages(3)).await;
    let n = wait_for_count(
        db.pool(),
        "SELECT count(*) FROM persister_load",
        3,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        n, 3,
        "the new log's messages are persisted, not skipped as replays"
    );
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    db.cleanup().await.unwrap();
}
