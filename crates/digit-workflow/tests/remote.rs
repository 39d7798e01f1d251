//! `RemoteWorkflow`'s HTTP behaviour against local servers: the configured timeout, safe
//! retries of searches and none of transitions, upstream rejections keeping their codes.
//! (The full wire round trip is `tests/e2e/tests/workflow_remote.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use digit_core::RequestInfo;
use digit_service::config::Env;
use digit_service::Metrics;
use digit_workflow::{
    ProcessInstanceRequest, RemoteWorkflow, SearchCriteria, WorkflowClient, WorkflowError,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn env(host: &str, extra: &[(&str, &str)]) -> Env {
    let mut pairs = vec![
        ("EGOV_WORKFLOW_HOST".to_owned(), host.to_owned()),
        ("HTTP_CLIENT_RETRY_BACKOFF_MS".to_owned(), "1".to_owned()),
    ];
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Env::from_pairs(pairs)
}

fn criteria() -> SearchCriteria {
    SearchCriteria {
        tenant_id: Some("pg.citya".into()),
        ..SearchCriteria::default()
    }
}

#[tokio::test]
async fn no_host_no_remote_and_a_bad_host_is_an_error() {
    let metrics = Metrics::new("test");
    assert!(RemoteWorkflow::from_env(&Env::default(), &metrics)
        .unwrap()
        .is_none());
    assert!(matches!(
        RemoteWorkflow::from_env(&env("not a url", &[]), &metrics),
        Err(WorkflowError::Remote(_))
    ));
}

/// The configured timeout applies (it used to be a fixed 30 s, or none when the client
/// builder failed and `unwrap_or_default()` took over).
#[tokio::test]
async fn the_configured_timeout_applies() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let env = env(
        &format!("http://{addr}"),
        &[
            ("HTTP_CLIENT_TIMEOUT_MS", "200"),
            ("HTTP_CLIENT_RETRIES", "0"),
        ],
    );
    let remote = RemoteWorkflow::from_env(&env, &Metrics::new("test"))
        .unwrap()
        .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        remote.search(&RequestInfo::default(), &criteria()),
    )
    .await
    .expect("the client gave up by itself")
    .unwrap_err();
    match &err {
        WorkflowError::Remote(e) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), "ResourceAccessError");
    silent.abort();
}

/// Answers 503 to everything, or a DIGIT rejection to transitions.
async fn busy(State(hits): State<Arc<AtomicUsize>>) -> (StatusCode, Json<Value>) {
    hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!("busy")))
}

async fn reject(State(hits): State<Arc<AtomicUsize>>) -> (StatusCode, Json<Value>) {
    hits.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ResponseInfo": null, "Errors": [
            {"code": "INVALID ACTION", "message": "Action RESOLVE not found"}]})),
    )
}

async fn start(app: Router<Arc<AtomicUsize>>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app.with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn searches_are_retried_transitions_are_not() {
    let (host, hits) = start(Router::new().route("/{*rest}", post(busy))).await;
    let remote = RemoteWorkflow::from_env(
        &env(&host, &[("HTTP_CLIENT_RETRIES", "2")]),
        &Metrics::new("test"),
    )
    .unwrap()
    .unwrap();
    let err = remote
        .search(&RequestInfo::default(), &criteria())
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Remote(_)), "{err:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 3, "1 attempt + 2 retries");

    hits.store(0, Ordering::SeqCst);
    let err = remote
        .transition(ProcessInstanceRequest {
            request_info: RequestInfo::default(),
            process_instances: vec![],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Remote(_)), "{err:?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a transition is never resent"
    );
}

#[tokio::test]
async fn rejections_keep_upstream_codes() {
    let (host, hits) = start(Router::new().route("/{*rest}", post(reject))).await;
    let remote = RemoteWorkflow::from_env(&env(&host, &[]), &Metrics::new("test"))
        .unwrap()
        .unwrap();
    let err = remote
        .transition(ProcessInstanceRequest {
            request_info: RequestInfo::default(),
            process_instances: vec![],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::Invalid(_)), "{err:?}");
    assert_eq!(err.code(), "INVALID ACTION");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
