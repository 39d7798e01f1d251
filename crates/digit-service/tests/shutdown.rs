//! Graceful shutdown over a real socket: a request in flight when shutdown is triggered
//! completes, new connections are refused afterwards, and the shutdown hook runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code: a failed step should abort the test.

use axum::routing::post;
use axum::Router;
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::{server, Metrics, Shutdown};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const INFO: ServiceInfo = ServiceInfo {
    name: "svc",
    description: "test",
    default_port: 0,
    default_context_path: "/svc",
    env: &[],
};

#[tokio::test]
async fn sigterm_drains_in_flight_requests_then_runs_the_hook() {
    let settings = ServiceSettings::from_env(
        &INFO,
        &Env::from_pairs([("AUTH_MODE", "gateway"), ("SHUTDOWN_TIMEOUT_SECONDS", "10")]),
    )
    .unwrap();
    let routes = Router::new().route(
        "/svc/slow",
        post(|| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            "done"
        }),
    );
    let app = server::app(&settings, &Metrics::new("svc"), routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let hook_ran = Arc::new(AtomicBool::new(false));
    let hook_flag = hook_ran.clone();
    let server = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            server::serve_on(listener, &settings, app, shutdown, async move {
                hook_flag.store(true, Ordering::SeqCst);
            })
            .await
        }
    });

    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/svc/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), r#"{"status":"UP"}"#);

    let in_flight = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .post(format!("http://{addr}/svc/slow"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    shutdown.trigger();
    assert_eq!(in_flight.await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(hook_ran.load(Ordering::SeqCst));
    assert!(reqwest::Client::new()
        .get(format!("http://{addr}/svc/health"))
        .send()
        .await
        .is_err());
}
