//! Supervised workers and readiness: restart with backoff (errors and panics), fail the
//! process, stop on shutdown (abort past the grace period), and `<ctx>/health/ready`
//! against real Postgres and the real broker — 200 when healthy, 503 naming `kafka` when
//! the broker address is wrong, 503 naming a worker that died.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digit_kafka::{Backoff, KafkaSettings};
use digit_runtime::{OnCrash, Platform, WorkerState, Workers};
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::Gate;
use digit_service::{server, Metrics, Shutdown};
use digit_store::TestDb;
use serde_json::Value;
use tower::ServiceExt;

const INFO: ServiceInfo = ServiceInfo {
    name: "workers-test",
    description: "test",
    default_port: 0,
    default_context_path: "/svc",
    env: &[],
};

fn fast() -> OnCrash {
    OnCrash::Restart(Backoff::new(
        Duration::from_millis(10),
        Duration::from_millis(40),
    ))
}

async fn wait_for(
    workers: &Workers,
    name: &str,
    pred: impl Fn(&WorkerState) -> bool,
) -> WorkerState {
    let started = Instant::now();
    loop {
        if let Some(s) = workers.states().get(name) {
            if pred(s) {
                return s.clone();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            workers.states()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn crashed_workers_restart_with_backoff_and_stop_on_shutdown() {
    let metrics = Metrics::new("workers-test");
    let workers = Workers::default();
    workers.instrument(&metrics);
    let starts = Arc::new(AtomicU32::new(0));
    let counter = starts.clone();
    // Fails twice, panics once, then runs until shutdown.
    workers.register("flaky", fast(), move |shutdown: Shutdown| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            match n {
                0 | 1 => Err(std::io::Error::other(format!("boom {n}"))),
                2 => panic!("worker bug"),
                _ => {
                    shutdown.wait().await;
                    Ok(())
                }
            }
        }
    });
    let shutdown = Shutdown::new();
    let running = workers.start(&shutdown);
    wait_for(&workers, "flaky", |s| {
        *s == WorkerState::Running && starts.load(Ordering::SeqCst) == 4
    })
    .await;
    let text = metrics.render();
    assert!(
        text.contains(r#"worker_crashes_total{worker="flaky",service="workers-test"} 3"#),
        "{text}"
    );

    shutdown.trigger();
    running.stop(Duration::from_secs(5)).await;
    assert_eq!(workers.states()["flaky"], WorkerState::Stopped);
}

#[tokio::test]
async fn a_fail_process_worker_reports_fatal_and_a_stuck_worker_is_aborted() {
    let workers = Workers::default();
    workers.register("consumer", OnCrash::FailProcess, |_s: Shutdown| async {
        Err::<(), _>(std::io::Error::other("broker gone"))
    });
    workers.register("stuck", OnCrash::default(), |_s: Shutdown| async {
        // Ignores shutdown.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<(), std::io::Error>(())
    });
    let shutdown = Shutdown::new();
    let running = workers.start(&shutdown);
    let fatal = tokio::time::timeout(Duration::from_secs(5), workers.fatal())
        .await
        .unwrap();
    assert_eq!(fatal, "worker consumer crashed: broker gone");
    assert!(
        matches!(&workers.states()["consumer"], WorkerState::Failed { error } if error == "broker gone")
    );
    shutdown.trigger();
    let started = Instant::now();
    running.stop(Duration::from_millis(200)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the grace period"
    );
}

async fn ready(platform: &Platform, kafka: bool) -> (StatusCode, Value) {
    let readiness = digit_runtime::readiness(platform, kafka, Duration::from_secs(2)).unwrap();
    let app = server::app_with_readiness(
        &platform.settings,
        &platform.metrics,
        readiness,
        axum::Router::new(),
    );
    let resp = app
        .oneshot(
            Request::get("/svc/health/ready")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn platform(db: &TestDb, brokers: &str) -> Platform {
    let env = Env::from_pairs([("AUTH_MODE", "gateway")]);
    let settings = ServiceSettings::from_env(&INFO, &env).unwrap();
    let mdms: Arc<dyn digit_mdms::MdmsSource> = Arc::new(
        digit_mdms::EmbeddedMdms::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/mdms"))
            .unwrap(),
    );
    Platform {
        gate: Gate::new(&settings, None).unwrap(),
        settings,
        pool: db.pool().clone(),
        mdms,
        kafka: KafkaSettings::new(brokers),
        producer: None,
        metrics: Metrics::new("workers-test"),
        shutdown: Shutdown::new(),
        workers: Workers::default(),
        env,
    }
}

fn brokers() -> String {
    std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_touches_postgres_kafka_and_workers() {
    let db = TestDb::new().await.unwrap();
    let healthy = platform(&db, &brokers());
    let fails_later = Arc::new(tokio::sync::Notify::new());
    let trigger = fails_later.clone();
    healthy.workers.register("relay", OnCrash::FailProcess, move |shutdown: Shutdown| {
        let trigger = trigger.clone();
        async move {
            tokio::select! {
                _ = shutdown.wait() => Ok(()),
                _ = trigger.notified() => Err(std::io::Error::other("relay lost its connection")),
            }
        }
    });
    let running = healthy.workers.start(&healthy.shutdown);
    wait_for(&healthy.workers, "relay", |s| *s == WorkerState::Running).await;
    let (status, body) = ready(&healthy, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "UP");
    for check in ["postgres", "kafka", "worker:relay"] {
        assert_eq!(body["checks"][check]["status"], "UP", "{check}: {body}");
    }

    // The worker dies: 503 naming it.
    fails_later.notify_one();
    wait_for(&healthy.workers, "relay", |s| {
        matches!(s, WorkerState::Failed { .. })
    })
    .await;
    let (status, body) = ready(&healthy, true).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failing"], serde_json::json!(["worker:relay"]));
    assert!(body["checks"]["worker:relay"]["error"]
        .as_str()
        .unwrap()
        .contains("relay lost its connection"));
    healthy.shutdown.trigger();
    running.stop(Duration::from_secs(5)).await;

    // A wrong broker address: 503 naming kafka; Postgres still up.
    let wrong = platform(&db, "127.0.0.1:1");
    let (status, body) = ready(&wrong, true).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failing"], serde_json::json!(["kafka"]));
    assert_eq!(body["checks"]["postgres"]["status"], "UP");

    // Liveness is unchanged: upstream's path and body, no checks.
    let app = server::app(&wrong.settings, &wrong.metrics, axum::Router::new());
    let resp = app
        .oneshot(Request::get("/svc/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&bytes[..], br#"{"status":"UP"}"#);

    // Postgres gone: 503 naming postgres.
    db.pool().close().await;
    let (status, body) = ready(&wrong, false).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failing"], serde_json::json!(["postgres"]));
    db.cleanup().await.unwrap();
}
