//! `HttpClient` against real local servers (axum, and raw TCP for silent or resetting
//! peers) on 127.0.0.1:0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::RequestInfo;
use digit_http::{HttpClient, HttpError, HttpSettings};
use digit_service::Metrics;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// What the fake service saw.
#[derive(Default)]
struct Seen {
    hits: AtomicUsize,
    correlation_ids: Mutex<Vec<Option<String>>>,
}

type Shared = Arc<Seen>;

fn note(seen: &Seen, headers: &HeaderMap) -> usize {
    if let Ok(mut ids) = seen.correlation_ids.lock() {
        ids.push(
            headers
                .get("x-correlation-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
    }
    seen.hits.fetch_add(1, Ordering::SeqCst) + 1
}

async fn echo(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    note(&seen, &headers);
    Json(json!({"ResponseInfo": null, "echo": body}))
}

async fn digit_error(State(seen): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    note(&seen, &headers);
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ResponseInfo": null, "Errors": [
            {"code": "INVALID ACTION", "message": "Action not allowed", "description": "d",
             "params": ["RESOLVE"]},
            {"code": "EG_WF_CRITERIA_ERR", "message": "tenantId is mandatory",
             "description": null, "params": null}
        ]})),
    )
}

async fn plain_500(State(seen): State<Shared>, headers: HeaderMap) -> (StatusCode, &'static str) {
    note(&seen, &headers);
    (StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>")
}

/// 503 on the first hit, then success.
async fn flaky(State(seen): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if note(&seen, &headers) == 1 {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!("busy")))
    } else {
        (StatusCode::OK, Json(json!({"ok": true})))
    }
}

async fn not_json(State(seen): State<Shared>, headers: HeaderMap) -> &'static str {
    note(&seen, &headers);
    "definitely not json"
}

async fn start() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/echo", post(echo))
        .route("/error", post(digit_error))
        .route("/plain500", post(plain_500))
        .route("/flaky", post(flaky))
        .route("/notjson", post(not_json))
        .with_state(seen.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn fast() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retries: 2,
        retry_backoff: Duration::from_millis(1),
        ..HttpSettings::default()
    }
}

fn client(settings: &HttpSettings) -> (HttpClient, Metrics) {
    let metrics = Metrics::new("test");
    (
        HttpClient::new("fake", settings, &metrics).unwrap(),
        metrics,
    )
}

fn attempts(metrics: &Metrics, outcome: &str) -> u64 {
    metrics
        .outbound()
        .requests
        .with_label_values(&["fake", outcome])
        .get()
}

fn retries(metrics: &Metrics) -> u64 {
    metrics
        .outbound()
        .retries
        .with_label_values(&["fake"])
        .get()
}

#[tokio::test]
async fn success_decodes_json_propagates_the_correlation_id_and_is_counted() {
    let (base, seen) = start().await;
    let (client, metrics) = client(&fast());
    let ri = RequestInfo {
        correlation_id: Some("corr-42".into()),
        ..Default::default()
    };
    let out: Value = client
        .post(format!("{base}/echo"))
        .request_info(&ri)
        .query(&[("tenantId", "pg.citya")])
        .json(&json!({"a": 1}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(out["echo"], json!({"a": 1}));
    // No correlation id known: a fresh one is sent.
    let _: Value = client
        .post(format!("{base}/echo"))
        .json(&json!({}))
        .send_json()
        .await
        .unwrap();
    let ids = seen.correlation_ids.lock().unwrap().clone();
    assert_eq!(ids[0].as_deref(), Some("corr-42"));
    assert!(ids[1].as_deref().is_some_and(|c| c.len() == 36), "{ids:?}");

    assert_eq!(attempts(&metrics, "ok"), 2);
    let text = metrics.render();
    assert!(
        text.contains(r#"http_client_requests_total{outcome="ok",target="fake",service="test"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_client_request_duration_seconds_count{target="fake",service="test"} 2"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn digit_error_bodies_are_decoded_with_codes_status_and_params() {
    let (base, _) = start().await;
    let (client, metrics) = client(&fast());
    let err = client
        .post(format!("{base}/error"))
        .json(&json!({}))
        .idempotent()
        .send()
        .await
        .unwrap_err();
    match &err {
        HttpError::Status { status, errors, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(errors[0].code, "INVALID ACTION");
            assert_eq!(errors[0].message, "Action not allowed");
            assert_eq!(errors[0].description.as_deref(), Some("d"));
            assert_eq!(errors[0].params, Some(vec!["RESOLVE".to_owned()]));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.codes(), vec!["INVALID ACTION", "EG_WF_CRITERIA_ERR"]);
    assert_eq!(err.status(), Some(400));
    assert!(err.is_rejection());
    assert!(err.to_string().contains("INVALID ACTION"), "{err}");
    // A 400 is an answer, not a failure to retry.
    assert_eq!(attempts(&metrics, "client_error"), 1);
    assert_eq!(retries(&metrics), 0);

    // A non-DIGIT error body: the status, no codes, the body kept for the logs.
    let err = client
        .post(format!("{base}/plain500"))
        .json(&json!({}))
        .idempotent()
        .send()
        .await
        .unwrap_err();
    match &err {
        HttpError::Status {
            status,
            errors,
            body,
            ..
        } => {
            assert_eq!(*status, 500);
            assert!(errors.is_empty());
            assert!(body.contains("oops"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_rejection());
    // 500 is not among the retried statuses (upstream answers it for deterministic errors).
    assert_eq!(attempts(&metrics, "server_error"), 1);
}

#[tokio::test]
async fn a_2xx_that_is_not_json_is_a_decode_error_with_its_source() {
    let (base, seen) = start().await;
    let (client, metrics) = client(&fast());
    let err = client
        .post(format!("{base}/notjson"))
        .idempotent()
        .send_json::<Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, HttpError::Decode { status: 200, .. }),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(
        seen.hits.load(Ordering::SeqCst),
        1,
        "decode errors are not retried"
    );
    assert_eq!(attempts(&metrics, "decode"), 1);
}

/// A peer that accepts connections and never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn the_configured_timeout_applies() {
    let (base, task) = silent_server().await;
    let settings = HttpSettings {
        request_timeout: Duration::from_millis(300),
        retries: 0,
        ..fast()
    };
    let (client, metrics) = client(&settings);
    // The outer bound is far above the configured one and below every built-in default:
    // the client must give up by itself, at the configured bound.
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.post(format!("{base}/x")).json(&json!({})).send(),
    )
    .await
    .expect("the client gave up by itself")
    .unwrap_err();
    match &err {
        HttpError::Timeout { timeout, .. } => assert_eq!(*timeout, Duration::from_millis(300)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_timeout());
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(attempts(&metrics, "timeout"), 1);
    task.abort();
}

#[tokio::test]
async fn a_timed_out_read_is_retried_a_timed_out_write_is_not() {
    let (base, task) = silent_server().await;
    let settings = HttpSettings {
        request_timeout: Duration::from_millis(200),
        retries: 1,
        ..fast()
    };
    let (client, metrics) = client(&settings);
    let err = client
        .post(format!("{base}/x"))
        .idempotent()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(attempts(&metrics, "timeout"), 2);
    assert_eq!(retries(&metrics), 1);
    let err = client.post(format!("{base}/x")).send().await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(attempts(&metrics, "timeout"), 3, "the write was sent once");
    assert_eq!(retries(&metrics), 1);
    task.abort();
}

#[tokio::test]
async fn an_idempotent_call_is_retried_after_503_a_write_is_not() {
    let (base, seen) = start().await;
    let (client, metrics) = client(&fast());
    let out: Value = client
        .post(format!("{base}/flaky"))
        .correlation_id(Some("same-id"))
        .json(&json!({}))
        .idempotent()
        .send_json()
        .await
        .unwrap();
    assert_eq!(out, json!({"ok": true}));
    assert_eq!(seen.hits.load(Ordering::SeqCst), 2);
    assert_eq!(retries(&metrics), 1);
    assert_eq!(attempts(&metrics, "server_error"), 1);
    assert_eq!(attempts(&metrics, "ok"), 1);
    // The retry carries the same correlation id.
    let ids = seen.correlation_ids.lock().unwrap().clone();
    assert_eq!(ids, vec![Some("same-id".into()), Some("same-id".into())]);

    let (base, seen) = start().await;
    let err = client
        .post(format!("{base}/flaky"))
        .json(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        seen.hits.load(Ordering::SeqCst),
        1,
        "a write is never resent"
    );
    assert_eq!(retries(&metrics), 1);
}

/// A peer that reads the request and closes the connection without answering.
async fn resetting_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            drop(socket);
        }
    });
    (format!("http://{addr}"), connections)
}

#[tokio::test]
async fn a_reset_read_is_retried_a_reset_write_is_not() {
    let (base, connections) = resetting_server().await;
    let (client, metrics) = client(&fast());
    let err = client
        .post(format!("{base}/x"))
        .json(&json!({}))
        .idempotent()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Transport { .. }), "{err:?}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "1 attempt + 2 retries"
    );
    assert_eq!(retries(&metrics), 2);

    let (base, connections) = resetting_server().await;
    let err = client
        .post(format!("{base}/x"))
        .json(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Transport { .. }), "{err:?}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "a write is never resent"
    );
    assert_eq!(attempts(&metrics, "transport"), 4);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_write() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (client, metrics) = client(&fast());
    let err = client
        .post(format!("http://{addr}/x"))
        .json(&json!({}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Connect { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
    // Nothing was sent, so even a write may be tried again.
    assert_eq!(attempts(&metrics, "connect"), 3);
    assert_eq!(retries(&metrics), 2);
}
