//! Elasticsearch stopped in the middle of a stream of 10,000 records and started again: the
//! index ends with exactly 10,000 documents, 10,000 distinct ids, nothing dead-lettered, and
//! the pause shows in the metrics (`indexer_es_unavailable_total`).
//!
//! osmem (our test Elasticsearch) keeps its data in memory, so really stopping it would lose
//! the documents already written. The "outage" is therefore a TCP proxy in this test between
//! the indexer and osmem: switched off, it cuts the open connections and closes every new one
//! at once (Elasticsearch unreachable, as when its node is down), switched on, it forwards
//! again. The indexer only ever sees the proxy's address.
//!
//! 500 records are sent twice on purpose (changed content, same id): the second copy
//! overwrites the first, so duplicates would show as a count above 10,000.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const RECORDS: usize = 10_000;
const SENT_TWICE: usize = 500;

/// A switchable TCP forwarder to `target`.
struct Proxy {
    url: String,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (flag, open) = (up.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound); // refused: closed before a byte is answered
                    continue;
                }
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open.lock().unwrap().push(forward.abort_handle());
            }
        });
        Proxy {
            url,
            up,
            connections,
            task,
        }
    }

    /// Elasticsearch "stops": open connections are cut, new ones closed at once.
    fn stop(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Elasticsearch is back.
    fn start_again(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
    }
}

const CONFIG: &str = r#"ServiceMaps:
  serviceName: indexer outage test
  version: 1.0.0
  mappings:
    - topic: outage-TAG
      configKey: INDEX
      indexes:
        - name: outage-TAG
          type: general
          id: $.id
          jsonPath: $.Item
"#;

fn message(i: usize, copy: u32) -> Value {
    json!({"RequestInfo": {"apiId": "load"}, "Item": {"id": format!("r{i:05}"), "seq": i, "copy": copy}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_outage_mid_stream_loses_nothing_and_doubles_nothing() {
    let t = tag();
    let proxy = Proxy::start(es_url().trim_start_matches("http://").to_owned()).await;
    let indexer = IndexerBuilder::new(&t)
        .config("outage.yml", &CONFIG.replace("TAG", &t))
        .env("ELASTICSEARCH_URL", &proxy.url)
        .env("INDEXER_TEMPLATES_PATH", "")
        .start()
        .await;
    let es = Es::default(); // straight to osmem, not through the proxy
    let topic = format!("outage-{t}");
    let p = producer();

    // The first 3,000 records; the outage starts once at least 1,000 are in.
    let first: Vec<Value> = (0..3_000).map(|i| message(i, 1)).collect();
    produce(&p, &topic, &first).await;
    let before = es.wait_for_count(&topic, 1_000).await;
    assert!(
        before >= 1_000,
        "no progress before the outage; log:\n{}",
        indexer.log()
    );

    proxy.stop();
    let stopped = Instant::now();
    // The rest of the stream arrives while Elasticsearch is away, with 500 records (from
    // both sides of the outage) sent a second time.
    let mut rest: Vec<Value> = (3_000..RECORDS).map(|i| message(i, 1)).collect();
    rest.extend((0..SENT_TWICE / 2).map(|i| message(i, 2)));
    rest.extend((5_000..5_000 + SENT_TWICE / 2).map(|i| message(i, 2)));
    produce(&p, &topic, &rest).await;
    let noticed = wait_for_metric(&indexer, "indexer_es_unavailable_total", "", 1.0).await;
    assert!(noticed >= 1.0, "the outage went unnoticed");
    // Nothing reaches Elasticsearch while it is away (a bulk cut in flight may have landed
    // just before, so the count is taken once the outage has been noticed).
    let during = es.count(&topic).await;
    let remaining = Duration::from_secs(3).saturating_sub(stopped.elapsed());
    tokio::time::sleep(remaining).await;
    assert_eq!(
        es.count(&topic).await,
        during,
        "writes got through the outage"
    );
    assert!(
        during < u64::try_from(RECORDS).unwrap(),
        "the stream was over before the outage ({during} documents)"
    );
    proxy.start_again();

    // Consumption resumes by itself.
    let total = u64::try_from(RECORDS).unwrap();
    assert_eq!(
        es.wait_for_count(&topic, total).await,
        total,
        "log:\n{}",
        indexer.log()
    );
    // Every message was acknowledged exactly once (10,000 + the 500 second copies).
    let acknowledged = f64::from(u32::try_from(RECORDS + SENT_TWICE).unwrap());
    let label = format!("index=\"{topic}\"");
    assert_eq!(
        wait_for_metric(&indexer, "indexer_documents_total", &label, acknowledged).await,
        acknowledged
    );
    let docs = es.docs(&topic).await;
    assert_eq!(docs.len(), RECORDS);
    let ids: BTreeSet<&str> = docs.values().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), RECORDS, "distinct ids");
    let expected: BTreeSet<String> = (0..RECORDS).map(|i| format!("r{i:05}")).collect();
    assert!(ids.iter().copied().eq(expected.iter().map(String::as_str)));
    for (id, doc) in &docs {
        assert_eq!(doc["id"].as_str(), Some(id.as_str()));
        let seq = usize::try_from(doc["seq"].as_u64().unwrap()).unwrap();
        let twice = seq < SENT_TWICE / 2 || (5_000..5_000 + SENT_TWICE / 2).contains(&seq);
        assert_eq!(
            doc["copy"],
            json!(if twice { 2 } else { 1 }),
            "{id}: the later copy wins"
        );
    }

    let unavailable = indexer.metric("indexer_es_unavailable_total", "").await;
    assert!(unavailable >= 1.0, "{unavailable}");
    assert_eq!(indexer.metric("indexer_dead_lettered_total", "").await, 0.0);
    assert!(read_topic(&indexer.deadletter_topic, 0).await.is_empty());

    es.delete_indexes(&[&topic]).await;
    indexer.stop().await;
}
