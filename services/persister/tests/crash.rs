//! Exactly-once effect across a crash: the persister binary is killed with SIGKILL in the
//! middle of 4,000 messages and restarted; the table ends with exactly 4,000 rows (it has
//! no key, so a message applied twice would show as a duplicate) and nothing is
//! dead-lettered. The messages are produced in real record batches, so the restart resumes
//! inside one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MESSAGES: usize = 4_000;

fn start_persister(
    db_url: &str,
    config: &std::path::Path,
    t: &str,
    log: &std::path::Path,
) -> Child {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_persister"))
        .env("DB_URL", db_url)
        .env("KAFKA_BOOTSTRAP_SERVERS", kafka().brokers)
        .env("KAFKA_SESSION_TIMEOUT_MS", "6000")
        .env("EGOV_PERSIST_YML_REPO_PATH", config)
        .env("PERSISTER_GROUP_ID", format!("persister-crash-{t}"))
        .env(
            "PERSISTER_DEADLETTER_TOPIC",
            format!("persister-deadletter-{t}"),
        )
        .env("SERVER_PORT", free_port().to_string())
        .env("SERVER_ADDRESS", "127.0.0.1")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,persister=info")
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_neither_loses_nor_duplicates() {
    let db = database().await;
    let t = tag();
    let topic = format!("persister-load-{t}");
    let config = load_config_file(&topic);
    create_topics(&[&topic]).await;
    // Produced as Java services and librdkafka under load do: many records per batch
    // (linger, default batch size), so the restarted persister resumes at an offset inside
    // a record batch and must still get the rest of that batch.
    let mut settings = kafka();
    settings.extra.push(("linger.ms".into(), "20".into()));
    let producer = digit_kafka::Producer::new(&settings).unwrap();
    publish_raw(&producer, &topic, &load_messages(MESSAGES)).await;

    let log = config.with_file_name("persister.log");
    let mut child = start_persister(db.url(), &config, &t, &log);
    let pool = db.pool();
    let count_sql = "SELECT count(*) FROM persister_load";
    // Kill it once it is well into the stream.
    let reached = wait_for_count(pool, count_sql, 1000, Duration::from_secs(120)).await;
    assert!(
        reached >= 1000,
        "persister made no progress; log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill: i64 = sqlx::query_scalar(count_sql).fetch_one(pool).await.unwrap();
    assert!(
        at_kill < i64::try_from(MESSAGES).unwrap(),
        "killed too late to prove anything ({at_kill} rows)"
    );

    let mut child = start_persister(db.url(), &config, &t, &log);
    let done = wait_for_count(
        pool,
        count_sql,
        i64::try_from(MESSAGES).unwrap(),
        Duration::from_secs(240),
    )
    .await;
    // Give a duplicate the chance to show up before counting for good.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM persister_load")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        done,
        4_000,
        "log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!((rows, distinct), (4_000, 4_000), "killed at {at_kill} rows");
    let next: i64 =
        sqlx::query_scalar("SELECT next_offset FROM persister_offsets WHERE topic = $1")
            .bind(&topic)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(next, 4_000);
    assert_eq!(topic_size(&format!("persister-deadletter-{t}")), 0);
    db.cleanup().await.unwrap();
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
}
