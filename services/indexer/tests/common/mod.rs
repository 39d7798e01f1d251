//! Shared fixtures for the indexer's integration tests: the real `indexer` binary started
//! with upstream's environment variables (a fresh database, the real broker, Elasticsearch
//! = osmem), configs written per test with unique topic and index names, a small HTTP stub
//! for the systems a config calls (boundary, workflow, MDMS, a legacy search API), and
//! helpers to produce to / read from Kafka and to search Elasticsearch.
//!
//! Every name a test creates (topics, indexes, groups, templates, databases) carries the
//! test's own [`tag`], so the tests run in parallel with each other and with other suites.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use digit_kafka::{KafkaSettings, Producer};
use digit_store::TestDb;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};

/// How long a test waits for the indexer to catch up before it fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// A short unique tag for topic, index and group names (lowercase: index names must be).
pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The broker tests use.
pub fn kafka() -> KafkaSettings {
    let mut k = KafkaSettings::new(
        std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    k.session_timeout_ms = 6000;
    k.client_id = "indexer-test".into();
    k
}

/// The Elasticsearch API tests use (osmem in `make test`).
pub fn es_url() -> String {
    std::env::var("TEST_ELASTICSEARCH_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:9200".into())
        .trim_end_matches('/')
        .to_owned()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---- Kafka -----------------------------------------------------------------------------

/// Creates single-partition topics (the order of a topic is then the order of the test).
pub async fn create_topics(topics: &[&str]) {
    let list: Vec<(&str, i32)> = topics.iter().map(|t| (*t, 1)).collect();
    digit_kafka::create_topics(&kafka(), &list).await.unwrap();
}

/// A producer for the test's own messages.
pub fn producer() -> Producer {
    Producer::new(&kafka()).unwrap()
}

/// Sends JSON messages (no key) and waits for every acknowledgement, in order.
pub async fn produce(producer: &Producer, topic: &str, messages: &[Value]) {
    let payloads: Vec<Vec<u8>> = messages
        .iter()
        .map(|m| serde_json::to_vec(m).unwrap())
        .collect();
    produce_raw(producer, topic, &payloads).await;
}

/// Sends raw payloads and waits for every acknowledgement. Sends run concurrently in
/// chunks; a single-partition topic with an idempotent producer keeps their order.
pub async fn produce_raw(producer: &Producer, topic: &str, payloads: &[Vec<u8>]) {
    for chunk in payloads.chunks(1000) {
        let sends = chunk.iter().map(|p| producer.send_raw(topic, None, p, &[]));
        for r in futures::future::join_all(sends).await {
            r.unwrap();
        }
    }
}

/// One message read back from a topic.
#[derive(Debug, Clone)]
pub struct Record {
    /// The record key.
    pub key: Option<String>,
    /// The payload as JSON (`Value::String` of the text when it is not JSON).
    pub value: Value,
}

/// Reads partition 0 of `topic` from the beginning until `expected` messages arrived (or
/// the wait is over), then a further short moment to catch any message too many.
pub async fn read_topic(topic: &str, expected: usize) -> Vec<Record> {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", kafka().brokers)
            .set("group.id", format!("indexer-test-reader-{}", tag()))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let started = Instant::now();
        let mut settle: Option<Instant> = None;
        loop {
            if out.len() >= expected && settle.is_none() {
                settle = Some(Instant::now());
            }
            if settle.is_some_and(|s| s.elapsed() > Duration::from_millis(500))
                || started.elapsed() > WAIT
            {
                break;
            }
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                let payload = m.payload().unwrap_or_default();
                out.push(Record {
                    key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: serde_json::from_slice(payload).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(payload).into_owned())
                    }),
                });
            }
        }
        out
    })
    .await
    .unwrap()
}

// ---- Elasticsearch ---------------------------------------------------------------------

/// The test's own Elasticsearch client (plain HTTP, so the tests check the indexer's
/// writes without its code).
#[derive(Debug, Clone)]
pub struct Es {
    http: reqwest::Client,
    /// Base URL without a trailing slash.
    pub url: String,
}

impl Default for Es {
    fn default() -> Self {
        Self::new(&es_url())
    }
}

impl Es {
    /// A client for `url`.
    pub fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            url: url.trim_end_matches('/').to_owned(),
        }
    }

    /// Makes recent writes to `index` searchable (a missing index is fine).
    pub async fn refresh(&self, index: &str) {
        let _ = self
            .http
            .post(format!("{}/{index}/_refresh", self.url))
            .send()
            .await;
    }

    /// `POST <index>/_search` after a refresh.
    pub async fn search(&self, index: &str, body: Value) -> Value {
        self.refresh(index).await;
        let response = self
            .http
            .post(format!(
                "{}/{index}/_search?ignore_unavailable=true&allow_no_indices=true",
                self.url
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Documents in `index` (0 when it does not exist).
    pub async fn count(&self, index: &str) -> u64 {
        let answer = self
            .search(index, json!({"size": 0, "track_total_hits": true}))
            .await;
        answer["hits"]["total"]["value"]
            .as_u64()
            .or_else(|| answer["hits"]["total"].as_u64())
            .unwrap_or(0)
    }

    /// Waits until `index` holds at least `expected` documents (or the wait is over); the
    /// count reached.
    pub async fn wait_for_count(&self, index: &str, expected: u64) -> u64 {
        let started = Instant::now();
        loop {
            let n = self.count(index).await;
            if n >= expected || started.elapsed() > WAIT {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every document of `index` by `_id` (read in `search_after` pages).
    pub async fn docs(&self, index: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body =
                json!({"size": 2000, "sort": [{"_id": "asc"}], "query": {"match_all": {}}});
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let answer = self.search(index, body).await;
            let hits = answer["hits"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if hits.is_empty() {
                return out;
            }
            after = hits.last().map(|h| h["sort"].clone());
            for hit in hits {
                out.insert(
                    hit["_id"].as_str().unwrap().to_owned(),
                    hit["_source"].clone(),
                );
            }
        }
    }

    /// One document's `_source`, if it exists.
    pub async fn doc(&self, index: &str, id: &str) -> Option<Value> {
        let response = self
            .http
            .get(format!("{}/{index}/_doc/{id}", self.url))
            .send()
            .await
            .unwrap();
        if !response.status().is_success() {
            return None;
        }
        let answer: Value = response.json().await.unwrap();
        answer["found"]
            .as_bool()
            .unwrap_or(false)
            .then(|| answer["_source"].clone())
    }

    /// Writes `docs` (`_id`, `_source`) into `index` with `_bulk` and refreshes it.
    pub async fn bulk_index(&self, index: &str, docs: &[(String, Value)]) {
        for chunk in docs.chunks(1000) {
            let mut body = String::new();
            for (id, source) in chunk {
                body.push_str(&json!({"index": {"_index": index, "_id": id}}).to_string());
                body.push('\n');
                body.push_str(&source.to_string());
                body.push('\n');
            }
            let answer: Value = self
                .http
                .post(format!("{}/_bulk", self.url))
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(answer["errors"], json!(false), "seeding {index}: {answer}");
        }
        self.refresh(index).await;
    }

    /// Removes the indexes the test created (best effort: osmem keeps them in memory).
    pub async fn delete_indexes(&self, indexes: &[&str]) {
        for index in indexes {
            let _ = self
                .http
                .delete(format!("{}/{index}", self.url))
                .send()
                .await;
        }
    }

    /// Removes an index template (best effort).
    pub async fn delete_template(&self, name: &str) {
        let _ = self
            .http
            .delete(format!("{}/_index_template/{name}", self.url))
            .send()
            .await;
    }
}

// ---- Stub for the systems a config calls ---------------------------------------------

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Call {
    /// Path without the query.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body as JSON (`null` when empty or not JSON).
    pub body: Value,
}

impl Call {
    /// The first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

type Answer = dyn Fn(&Call) -> (u16, Value) + Send + Sync;

/// An HTTP server standing in for systems outside the indexer (boundary search, workflow
/// process search, MDMS v1 search, a legacy search API): it records every request and
/// answers what the test's function returns for it.
pub struct Stub {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct StubState {
    calls: Arc<Mutex<Vec<Call>>>,
    answer: Arc<Answer>,
}

async fn stub_handler(State(state): State<StubState>, request: Request) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let query = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let call = Call {
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    let (status, answer) = (state.answer)(&call);
    state.calls.lock().unwrap().push(call);
    (StatusCode::from_u16(status).unwrap(), axum::Json(answer))
}

impl Stub {
    /// Starts the stub on a free port; `answer` gives the status and JSON for each call.
    pub async fn start(answer: impl Fn(&Call) -> (u16, Value) + Send + Sync + 'static) -> Stub {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let state = StubState {
            calls: calls.clone(),
            answer: Arc::new(answer),
        };
        let app = axum::Router::new().fallback(stub_handler).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Stub { url, calls, task }
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls whose path is `path`.
    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---- The indexer binary ----------------------------------------------------------------

/// Rewrites a shipped config for one test: `topic: x` → `topic: x-<tag>` and index
/// `name: x` → `name: x-<tag>` (the shipped index templates match `x*`, so they still apply).
pub fn rename_config(text: &str, tag: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            for key in ["- topic:", "topic:", "- name:", "name:"] {
                if let Some(value) = trimmed.strip_prefix(key) {
                    return format!("{indent}{key} {}-{tag}", value.trim());
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How the indexer is started: configs, templates and environment.
pub struct IndexerBuilder {
    tag: String,
    configs: Vec<(String, String)>,
    templates: Option<Vec<(String, Value)>>,
    env: Vec<(String, String)>,
}

impl IndexerBuilder {
    /// An indexer with the test's unique group and dead-letter topic, the shipped index
    /// templates and osmem as Elasticsearch.
    pub fn new(tag: &str) -> Self {
        Self {
            tag: tag.to_owned(),
            configs: Vec::new(),
            templates: None,
            env: Vec::new(),
        }
    }

    /// Adds a config file `name` with `text`.
    pub fn config(mut self, name: &str, text: &str) -> Self {
        self.configs.push((name.to_owned(), text.to_owned()));
        self
    }

    /// Installs these templates (file stem, body) instead of the shipped ones.
    pub fn templates(mut self, templates: Vec<(String, Value)>) -> Self {
        self.templates = Some(templates);
        self
    }

    /// Sets an environment variable of the indexer.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts the binary on a fresh database and waits for `/health`.
    pub async fn start(self) -> Indexer {
        let db = TestDb::new().await.unwrap();
        let dir = std::env::temp_dir().join(format!("indexer-test-{}", self.tag));
        let configs = dir.join("configs");
        std::fs::create_dir_all(&configs).unwrap();
        for (name, text) in &self.configs {
            std::fs::write(configs.join(name), text).unwrap();
        }
        let templates = match &self.templates {
            None => repo_root().join("configs/indexer/templates"),
            Some(list) => {
                let folder = dir.join("templates");
                std::fs::create_dir_all(&folder).unwrap();
                for (name, body) in list {
                    std::fs::write(folder.join(format!("{name}.json")), body.to_string()).unwrap();
                }
                folder
            }
        };
        let port = free_port();
        let deadletter_topic = format!("indexer-deadletter-{}", self.tag);
        let mut env: Vec<(String, String)> = vec![
            ("DB_URL".into(), db.url().to_owned()),
            ("KAFKA_BOOTSTRAP_SERVERS".into(), kafka().brokers),
            ("KAFKA_SESSION_TIMEOUT_MS".into(), "6000".into()),
            ("SERVER_PORT".into(), port.to_string()),
            ("SERVER_ADDRESS".into(), "127.0.0.1".into()),
            ("ELASTICSEARCH_URL".into(), es_url()),
            (
                "EGOV_INDEXER_YML_REPO_PATH".into(),
                configs.to_string_lossy().into_owned(),
            ),
            (
                "INDEXER_TEMPLATES_PATH".into(),
                templates.to_string_lossy().into_owned(),
            ),
            (
                "INDEXER_GROUP_ID".into(),
                format!("indexer-test-{}", self.tag),
            ),
            ("INDEXER_DEADLETTER_TOPIC".into(), deadletter_topic.clone()),
            ("LOG_FORMAT".into(), "json".into()),
            (
                "RUST_LOG".into(),
                std::env::var("INDEXER_TEST_LOG").unwrap_or_else(|_| "warn,indexer=info".into()),
            ),
        ];
        env.extend(self.env);
        let log = dir.join("indexer.log");
        let child = spawn(&env, &log);
        let indexer = Indexer {
            child,
            port,
            base: format!("http://127.0.0.1:{port}/egov-indexer"),
            dir,
            log,
            db: Some(db),
            env,
            deadletter_topic,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        indexer.wait_healthy().await;
        indexer
    }
}

fn spawn(env: &[(String, String)], log: &Path) -> Child {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_indexer"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap()
}

/// A running indexer process (killed on drop).
pub struct Indexer {
    child: Child,
    /// Its HTTP port.
    pub port: u16,
    /// `http://127.0.0.1:<port>/egov-indexer`.
    pub base: String,
    /// The test's temp folder (configs, templates, log).
    pub dir: PathBuf,
    log: PathBuf,
    db: Option<TestDb>,
    env: Vec<(String, String)>,
    /// `INDEXER_DEADLETTER_TOPIC`.
    pub deadletter_topic: String,
    http: reqwest::Client,
}

impl Indexer {
    async fn wait_healthy(&self) {
        let started = Instant::now();
        let url = format!("{}/health", self.base);
        loop {
            if let Ok(r) = self.http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                started.elapsed() < WAIT,
                "the indexer did not answer /health; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The indexer's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The test database's pool.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.db.as_ref().unwrap().pool()
    }

    /// The environment it was started with.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// `POST <base><path>` with a JSON body: status and JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `POST <base><path>` with a raw body of `content_type`: status and JSON answer.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The sum of the samples of metric `name` whose labels contain `label` (e.g.
    /// `topic="x"`; empty: all).
    pub async fn metric(&self, name: &str, label: &str) -> f64 {
        let text = self.metrics().await;
        metric_value(&text, name, label)
    }

    /// Stops the process and drops its database and temp folder.
    pub async fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(db) = self.db.take() {
            db.cleanup().await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sum of the samples of `name` in Prometheus text whose labels contain `label`.
pub fn metric_value(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(r) => r.split_once('}')?,
                None if rest.starts_with(' ') => ("", rest),
                None => return None,
            };
            labels
                .contains(label)
                .then(|| value.trim().parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// Polls `jobs/_search` until job `id` leaves INPROGRESS (or the wait is over); the job.
pub async fn wait_for_job(indexer: &Indexer, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, answer) = indexer
            .post(
                "/index-operations/jobs/_search",
                &json!({"RequestInfo": {}, "jobIds": [id]}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let job = answer["IndexJobs"][0].clone();
        if job["jobStatus"] != json!("INPROGRESS") || started.elapsed() > WAIT {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until metric `name{…label…}` reaches `expected` (or the wait is over); its value.
pub async fn wait_for_metric(indexer: &Indexer, name: &str, label: &str, expected: f64) -> f64 {
    let started = Instant::now();
    loop {
        let value = indexer.metric(name, label).await;
        if value >= expected || started.elapsed() > WAIT {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
