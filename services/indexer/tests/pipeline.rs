//! The running indexer against the real broker and Elasticsearch API (osmem): 10,000 records
//! (200 of them sent twice) with Elasticsearch "stopped" mid-stream end as exactly 10,000
//! documents; masking, `@timestamp` and ids on the way; a record Elasticsearch refuses for
//! good and a message that is not JSON land on the dead-letter topic while the rest is
//! indexed; the outage shows in the metrics.
//!
//! osmem keeps its data in memory, so stopping its process would lose what was indexed:
//! the test puts a TCP proxy between the indexer and osmem and switches it off for a few
//! seconds (connections refused and cut), which is what an Elasticsearch outage looks like
//! from the indexer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use digit_kafka::{KafkaSettings, Producer};
use digit_store::TestDb;
use futures::future::join_all;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message};
use serde_json::{json, Value};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const RECORDS: usize = 10_000;
const REPEATED: usize = 200;

fn es_url() -> String {
    std::env::var("TEST_ELASTICSEARCH_URL").unwrap_or_else(|_| "http://127.0.0.1:9200".into())
}

fn brokers() -> String {
    std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// A switchable TCP proxy to `target`.
async fn proxy(target: String, up: Arc<AtomicBool>, cut: watch::Receiver<u64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            if !up.load(Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let target = target.clone();
            let mut cut = cut.clone();
            // Only a cut after this connection opened closes it.
            cut.borrow_and_update();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(&target).await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.changed() => {}
                }
            });
        }
    });
    port
}

async fn es(method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}{path}", es_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

async fn count(index: &str) -> u64 {
    es(reqwest::Method::POST, &format!("/{index}/_refresh"), None).await;
    let answer = es(
        reqwest::Method::POST,
        &format!("/{index}/_search"),
        Some(json!({"size": 0, "track_total_hits": true})),
    )
    .await;
    answer["hits"]["total"]["value"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_records_through_an_outage_exactly_once_with_dead_letters() {
    let tag = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let topic = format!("idx-it-{tag}");
    let index = format!("idxit-{tag}");
    let dead = format!("idx-it-dead-{tag}");
    // An explicit mapping without ignore_malformed: `nested` is an object.
    es(
        reqwest::Method::PUT,
        &format!("/{index}"),
        Some(json!({"mappings": {"properties": {"nested": {"properties": {"obj": {"properties": {"x": {"type": "keyword"}}}}}}}})),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("indexer-it-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("it.yml"),
        format!(
            "ServiceMaps:\n  serviceName: it\n  version: 1.0.0\n  mappings:\n    - topic: {topic}\n      configKey: INDEX\n      indexes:\n        - name: {index}\n          type: general\n          id: $.id\n          jsonPath: $\n          timeStampField: $.ts\n          fieldsToBeMasked: [\"$.citizen.mobileNumber\"]\n"
        ),
    )
    .unwrap();
    let db = TestDb::migrated(&[&indexer::MIGRATOR]).await.unwrap();
    let up = Arc::new(AtomicBool::new(true));
    let (cut_tx, cut_rx) = watch::channel(0u64);
    let es_target = es_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let proxy_port = proxy(es_target, up.clone(), cut_rx).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .env("DB_URL", db.url())
        .env("KAFKA_BOOTSTRAP_SERVERS", brokers())
        .env("KAFKA_SESSION_TIMEOUT_MS", "6000")
        .env("SERVER_PORT", port.to_string())
        .env(
            "ELASTICSEARCH_URL",
            format!("http://127.0.0.1:{proxy_port}"),
        )
        .env("EGOV_INDEXER_YML_REPO_PATH", &dir)
        .env("INDEXER_TEMPLATES_PATH", "")
        .env("INDEXER_GROUP_ID", format!("idx-it-{tag}"))
        .env("INDEXER_DEADLETTER_TOPIC", &dead)
        .env("ID_TIMEZONE", "Asia/Kolkata")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/egov-indexer");
    let started = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "indexer did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settings = KafkaSettings::new(brokers());
    let producer = Producer::new(&settings).unwrap();
    let record = |i: usize| json!({"id": i.to_string(), "ts": 1_727_931_561_688_i64 + i as i64, "citizen": {"mobileNumber": "9876543210"}, "nested": {"obj": {"x": "ok"}}});
    let send = |batch: Vec<Value>| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            join_all(
                batch
                    .iter()
                    .map(|v| producer.send_json(&topic, None, v, None)),
            )
            .await
            .into_iter()
            .for_each(|r| {
                r.unwrap();
            });
        }
    };
    let half = RECORDS / 2;
    for chunk in (0..half).collect::<Vec<_>>().chunks(500) {
        send(chunk.iter().map(|&i| record(i)).collect()).await;
    }
    // Elasticsearch goes away while the second half and the poison arrive.
    up.store(false, Ordering::SeqCst);
    cut_tx.send(1).unwrap();
    let poison =
        json!({"id": "poison", "ts": 1, "nested": {"obj": "a string where an object is mapped"}});
    send(vec![poison]).await;
    producer
        .send_raw(&topic, Some("raw"), b"this is not JSON", &[])
        .await
        .unwrap();
    for chunk in (half..RECORDS).collect::<Vec<_>>().chunks(500) {
        send(chunk.iter().map(|&i| record(i)).collect()).await;
    }
    // Some records again: a redelivery must overwrite, not double.
    send((0..REPEATED).map(record).collect()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    up.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut n = 0;
    while Instant::now() < deadline {
        n = count(&index).await;
        if n >= RECORDS as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        n, RECORDS as u64,
        "exactly the records, none lost, none doubled"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&index).await, RECORDS as u64);

    let doc = es(reqwest::Method::GET, &format!("/{index}/_doc/7"), None).await;
    assert_eq!(doc["_source"]["citizen"]["mobileNumber"], "XXXXXXXX");
    assert_eq!(
        doc["_source"]["@timestamp"], "2024-10-03T10:29:21.695Z",
        "ID_TIMEZONE applied"
    );
    let missing = es(reqwest::Method::GET, &format!("/{index}/_doc/poison"), None).await;
    assert_eq!(missing["found"], false);

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unavailable = metrics
        .lines()
        .find(|l| l.starts_with("indexer_es_unavailable_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        unavailable > 0.0,
        "the outage paused consumption: {unavailable}"
    );

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("idx-it-read-{tag}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&dead]).unwrap();
    let mut letters: Vec<Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while letters.len() < 2 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            letters.push(serde_json::from_slice(m.payload().unwrap()).unwrap());
        }
    }
    assert_eq!(
        letters.len(),
        2,
        "the poison record and the non-JSON message"
    );
    assert!(letters.iter().all(|l| l["source"] == topic.as_str()));
    let reasons: Vec<&str> = letters
        .iter()
        .map(|l| l["message"].as_str().unwrap_or(""))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("not JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&index) && r.contains("poison") && r.contains("HTTP 400")),
        "{reasons:?}"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    es(reqwest::Method::DELETE, &format!("/{index}"), None).await;
    db.cleanup().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
