//! Shared fixtures for the persister's integration tests: a fresh database with the test
//! tables, unique topics on the real broker, the shipped configs renamed per test, and an
//! in-process persister.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support code.

use digit_kafka::{Backoff, KafkaSettings, Producer};
use digit_service::{Metrics, Shutdown};
use digit_store::TestDb;
use persister::domain::PersisterConfig;
use persister::metrics::PersisterMetrics;
use persister::store::consumer::{self, PersisterSettings, Writer};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tables of `configs/persister/test-persister.yml` (its header) and of the workflow config.
pub const TEST_TABLES: &str = r"
CREATE TABLE persister_test_parent (id text PRIMARY KEY, tenant_id text, name text, item_count integer,
  amount numeric, ratio double precision, active boolean, details_text text, details jsonb, nothing_jsonb jsonb,
  nothing_text text, start_date timestamp, epoch_ms bigint, epoch_day date, persisted_at timestamp,
  persisted_ms bigint, unused text, last_modified_by text, created_by text, created_time bigint, last_modified_time bigint);
CREATE TABLE persister_test_address (parent_id text, city text, lat numeric);
CREATE TABLE persister_test_child (id text PRIMARY KEY, parent_id text, code text, roles text, meta jsonb, info_note text, missing text);
CREATE TABLE persister_test_child_info (child_id text, x integer, note text);
CREATE TABLE persister_test_item (id text PRIMARY KEY, child_id text, tenant_id text, qty integer);
CREATE TABLE persister_test_version (id text, mapping text);
CREATE TABLE persister_test_batch (id text PRIMARY KEY, tenant_id text, payload jsonb);
CREATE TABLE eg_wf_processinstance_v2 (id varchar(64) PRIMARY KEY, tenantid varchar(128) NOT NULL,
  businessservice varchar(256) NOT NULL, businessid varchar(256) NOT NULL, action varchar(256) NOT NULL,
  status varchar(64), comment varchar(1024), assigner varchar(128), statesla bigint, businessservicesla bigint,
  previousstatus varchar(128), modulename varchar(256), rating integer, escalated boolean DEFAULT false,
  createdby varchar(128), lastmodifiedby varchar(128), createdtime bigint, lastmodifiedtime bigint);
CREATE TABLE eg_wf_document_v2 (id varchar(64) PRIMARY KEY, tenantid varchar(128),
  processinstanceid varchar(64) REFERENCES eg_wf_processinstance_v2(id), documenttype varchar(128),
  filestoreid varchar(128), documentuid varchar(128), createdby varchar(128), lastmodifiedby varchar(128),
  createdtime bigint, lastmodifiedtime bigint);
CREATE TABLE eg_wf_assignee_v2 (processinstanceid varchar(64) REFERENCES eg_wf_processinstance_v2(id),
  tenantid varchar(128), assignee varchar(128), createdby varchar(128), lastmodifiedby varchar(128),
  createdtime bigint, lastmodifiedtime bigint);
-- A table without keys: a message applied twice would show as a duplicate row.
CREATE TABLE persister_load (id text, seq bigint);
";

/// A config mapping `<prefix>-load` to `persister_load` (no keys, so duplicates show).
pub const LOAD_CONFIG: &str = "serviceMaps:
  serviceName: persister-load
  mappings:
  - version: 1.0
    fromTopic: TOPIC
    queryMaps:
    - query: INSERT INTO persister_load(id, seq) VALUES (?, ?);
      basePath: $.Item
      jsonMaps:
      - jsonPath: $.Item.id
      - jsonPath: $.Item.seq
";

/// The broker tests use.
pub fn kafka() -> KafkaSettings {
    let mut k = KafkaSettings::new(
        std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    k.session_timeout_ms = 6000;
    k.client_id = "persister-test".into();
    k
}

/// A short unique tag for topic and group names.
pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A shipped config with every topic renamed `<topic>` → `<topic>-<tag>` (batch topics keep
/// `-batch` in the name).
pub fn shipped_config(file: &str, tag: &str) -> (String, PersisterConfig) {
    let path = repo_root().join("configs/persister").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let renamed = rename_topics(&text, tag);
    let config = PersisterConfig::from_sources([(path.as_path(), renamed.as_str())]).unwrap();
    (renamed, config)
}

/// Renames every `fromTopic: x` to `fromTopic: x-<tag>`.
pub fn rename_topics(text: &str, tag: &str) -> String {
    text.lines()
        .map(|line| match line.split_once("fromTopic:") {
            Some((indent, topic)) => format!("{indent}fromTopic: {}-{tag}", topic.trim()),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh database with the persister migration and the test tables.
pub async fn database() -> TestDb {
    let db = TestDb::migrated(&[&persister::MIGRATOR]).await.unwrap();
    sqlx::raw_sql(TEST_TABLES).execute(db.pool()).await.unwrap();
    db
}

/// Writer settings with a unique group and dead-letter topic.
pub fn settings(tag: &str) -> PersisterSettings {
    PersisterSettings {
        group_id: format!("persister-test-{tag}"),
        dead_letter_topic: format!("persister-deadletter-{tag}"),
        bulk_enabled: true,
        batch_size: 100,
        group_commit: 100,
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(500)),
    }
}

/// A writer over `pool`.
pub fn writer(config: PersisterConfig, pool: PgPool, settings: PersisterSettings) -> Writer {
    let kafka = kafka();
    Writer {
        config: Arc::new(config),
        pool,
        producer: Producer::new(&kafka).unwrap(),
        settings,
        metrics: PersisterMetrics::new(&Metrics::new("persister-test")).unwrap(),
    }
}

/// Runs the consume loop in the background; trigger the returned shutdown to stop it.
pub fn spawn(writer: Writer) -> (Shutdown, tokio::task::JoinHandle<anyhow::Result<()>>) {
    // Set RUST_LOG to see the persister's logs while debugging a test.
    if std::env::var_os("RUST_LOG").is_some() {
        digit_service::telemetry::init("persister", digit_service::config::LogFormat::Pretty);
    }
    let shutdown = Shutdown::new();
    let s = shutdown.clone();
    let handle = tokio::spawn(async move { consumer::run(writer, &kafka(), s).await });
    (shutdown, handle)
}

/// Creates topics (single partition keeps the test's ordering simple).
pub async fn create_topics(topics: &[&str]) {
    let list: Vec<(&str, i32)> = topics.iter().map(|t| (*t, 1)).collect();
    digit_kafka::create_topics(&kafka(), &list).await.unwrap();
}

/// Publishes JSON payloads (or raw bytes) and waits for every acknowledgement.
pub async fn publish_raw(producer: &Producer, topic: &str, payloads: &[Vec<u8>]) {
    for chunk in payloads.chunks(500) {
        let sends = chunk.iter().map(|p| producer.send_raw(topic, None, p, &[]));
        for r in futures::future::join_all(sends).await {
            r.unwrap();
        }
    }
}

/// Polls `sql` (a `SELECT count(*)`) until it returns `expected` or the timeout passes.
pub async fn wait_for_count(pool: &PgPool, sql: &str, expected: i64, timeout: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1);
        if n >= expected || started.elapsed() > timeout {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Messages in a topic (high watermark of partition 0).
pub fn topic_size(topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .create()
        .unwrap();
    match consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)) {
        Ok((_, high)) => high,
        Err(_) => 0,
    }
}

/// Reads every message of partition 0 of `topic` (bounded).
pub fn read_topic(topic: &str, expected: usize) -> Vec<serde_json::Value> {
    use rdkafka::message::Message;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .set("group.id", format!("reader-{}", tag()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    while out.len() < expected && started.elapsed() < Duration::from_secs(30) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(
                serde_json::from_slice(m.payload().unwrap_or_default())
                    .unwrap_or(serde_json::Value::Null),
            );
        }
    }
    out
}

/// A `persister_load` config for `topic`, written to a file in a fresh temp folder.
pub fn load_config_file(topic: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("persister-config-{}", tag()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("load-persister.yml");
    std::fs::write(&file, LOAD_CONFIG.replace("TOPIC", topic)).unwrap();
    file
}

/// `n` load messages `{"Item": {"id": "m<i>", "seq": i}}`.
pub fn load_messages(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            serde_json::to_vec(
                &serde_json::json!({"RequestInfo": {}, "Item": {"id": format!("m{i}"), "seq": i}}),
            )
            .unwrap()
        })
        .collect()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
