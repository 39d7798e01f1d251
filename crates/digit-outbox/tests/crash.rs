//! The crash test: a child process commits business rows with their outbox messages and
//! relays them (half to Kafka, half over HTTP); it is killed with SIGKILL mid-run — by the
//! HTTP receiver itself, after it recorded a request and before answering it, which is
//! exactly the window between a delivery and the relay marking it — and restarted. Every committed message arrives, and after deduplicating on the idempotency
//! key — as a receiver must, since delivery is at least once — every effect is applied
//! exactly once. The child is this test binary itself, running the ignored test
//! `child_process` with the parent's settings in its environment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::*;
use digit_outbox::{enqueue, OutboxMessage, OutboxMetrics, OutboxSettings, Relay, OUTBOX_MIGRATOR};
use digit_store::TestDb;
use serde_json::{json, Value};

const TOTAL: i64 = 1000;
/// The HTTP request during which the receiver kills the child.
const KILL_AT: usize = 150;

fn spawn_child(db_url: &str, topic: &str, url: &str, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(std::env::current_exe().unwrap())
        .args(["child_process", "--exact", "--ignored", "--nocapture"])
        .env("OUTBOX_CRASH_DB_URL", db_url)
        .env("OUTBOX_CRASH_TOPIC", topic)
        .env("OUTBOX_CRASH_URL", url)
        .env("TEST_KAFKA_BROKERS", kafka().brokers)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

async fn counts(db: &TestDb) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM crash_ledger),
                count(*) FILTER (WHERE status = 'delivered'),
                count(*) FILTER (WHERE status <> 'delivered')
           FROM digit_outbox",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}

async fn wait_until(
    db: &TestDb,
    timeout: Duration,
    done: impl Fn((i64, i64, i64)) -> bool,
) -> (i64, i64, i64) {
    let started = Instant::now();
    loop {
        let c = counts(db).await;
        if done(c) || started.elapsed() > timeout {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_delivery_loses_nothing_and_keys_dedupe_the_rest() {
    let db = TestDb::migrated(&[&OUTBOX_MIGRATOR]).await.unwrap();
    sqlx::query("CREATE TABLE crash_ledger (n BIGINT PRIMARY KEY, amount NUMERIC NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    let topic = format!("outbox-crash-{}", tag());
    create_topic(&topic).await;
    // The receiver SIGKILLs the child on the 150th request, before answering it: that
    // message (and the rest of its batch) was received but is never marked delivered.
    let child_pid = Arc::new(AtomicU32::new(0));
    let pid = child_pid.clone();
    let receiver = Receiver::start_with_hook(
        StatusCode::OK,
        Arc::new(move |n| {
            if n == KILL_AT {
                let pid = pid.load(Ordering::SeqCst).to_string();
                let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
                assert!(status.success(), "kill -KILL {pid}");
            }
        }),
    )
    .await;
    let log = std::env::temp_dir().join(format!("{topic}.log"));
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

    let mut child = spawn_child(db.url(), &topic, &receiver.url, &log);
    child_pid.store(child.id(), Ordering::SeqCst);
    let exit = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait().unwrap()),
    )
    .await
    .unwrap_or_else(|_| panic!("the child was never killed; log: {}", read_log()))
    .unwrap();
    assert_eq!(
        exit.signal(),
        Some(9),
        "killed by SIGKILL; log: {}",
        read_log()
    );
    let (ledger, delivered, pending) = counts(&db).await;
    assert!(
        pending > 0,
        "the killed batch is still pending; log: {}",
        read_log()
    );
    assert!(
        ledger < TOTAL,
        "killed too late to prove anything ({ledger} rows)"
    );

    let mut child = spawn_child(db.url(), &topic, &receiver.url, &log);
    let end = wait_until(&db, Duration::from_secs(120), |(ledger, delivered, _)| {
        ledger == TOTAL && delivered == TOTAL
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(end, (TOTAL, TOTAL, 0), "log: {}", read_log());

    // What the receivers got: Kafka for even n, HTTP for odd n.
    let records = tokio::task::spawn_blocking({
        let topic = topic.clone();
        move || read_topic(&topic, 500, Duration::from_secs(60), Duration::from_secs(1))
    })
    .await
    .unwrap();
    let mut deliveries: Vec<(String, Vec<u8>)> = records
        .into_iter()
        .map(|r| (r.idempotency_key.unwrap(), r.payload))
        .collect();
    deliveries.extend(
        receiver
            .seen()
            .into_iter()
            .map(|r| (r.idempotency_key.unwrap(), r.body)),
    );
    // The receiver's side of the contract: apply a key once, ignore it when seen again.
    let mut applied: HashMap<String, i64> = HashMap::new();
    let mut duplicates = 0;
    for (key, payload) in &deliveries {
        let v: Value = serde_json::from_slice(payload).unwrap();
        let n = v["n"].as_i64().unwrap();
        assert_eq!(
            key,
            &format!("effect-{n}"),
            "the key travels with its message"
        );
        if applied.insert(key.clone(), n).is_some() {
            duplicates += 1;
        }
    }
    eprintln!(
        "outbox crash test: {} deliveries, {duplicates} duplicates removed by idempotency key \
         (killed at ledger={ledger} delivered={delivered} pending={pending})",
        deliveries.len()
    );
    assert_eq!(
        applied.len(),
        usize::try_from(TOTAL).unwrap(),
        "every message arrived"
    );
    let mut ns: Vec<i64> = applied.values().copied().collect();
    ns.sort_unstable();
    assert_eq!(
        ns,
        (0..TOTAL).collect::<Vec<_>>(),
        "each effect exactly once"
    );
    assert_eq!(
        deliveries.len() - duplicates,
        usize::try_from(TOTAL).unwrap()
    );
    assert!(
        duplicates >= 1,
        "the request received before the kill was delivered again after the restart"
    );
    db.cleanup().await.unwrap();
}

/// The child: commits ledger rows with their outbox messages (ten per transaction) until
/// `TOTAL` exist, resuming after a restart, while a relay delivers them.
#[test]
#[ignore = "runs only as the crash test's child process"]
fn child_process() {
    let db_url = std::env::var("OUTBOX_CRASH_DB_URL").expect("started by the crash test");
    let topic = std::env::var("OUTBOX_CRASH_TOPIC").unwrap();
    let url = std::env::var("OUTBOX_CRASH_URL").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&db_url)
            .await
            .unwrap();
        let settings = OutboxSettings {
            batch_size: 25,
            poll_interval: Duration::from_millis(20),
            ..OutboxSettings::default()
        };
        let metrics = OutboxMetrics::new(&digit_service::Metrics::new("crash-child")).unwrap();
        let producer = digit_kafka::Producer::new(&kafka()).unwrap();
        let relay = Relay::new(pool.clone(), Some(producer), settings, metrics).unwrap();
        let relaying = tokio::spawn(async move { relay.run(digit_service::Shutdown::new()).await });
        loop {
            let mut tx = pool.begin().await.unwrap();
            let next: i64 = sqlx::query_scalar("SELECT coalesce(max(n) + 1, 0) FROM crash_ledger")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            if next >= TOTAL {
                break;
            }
            for n in next..(next + 10).min(TOTAL) {
                sqlx::query("INSERT INTO crash_ledger (n, amount) VALUES ($1, $1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let body = json!({"n": n, "amount": n});
                let message = if n % 2 == 0 {
                    OutboxMessage::kafka_json(&topic, Some(&n.to_string()), &body).unwrap()
                } else {
                    OutboxMessage::http_json("POST", &url, &body).unwrap()
                };
                enqueue(
                    &mut tx,
                    &message.with_idempotency_key(format!("effect-{n}")),
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Keep relaying until the parent kills us.
        relaying.await.unwrap().unwrap();
    });
}
