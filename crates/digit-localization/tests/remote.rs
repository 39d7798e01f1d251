//! `RemoteLocalization` against a local HTTP server that plays egov-localization, and
//! `from_env` choosing through an explicit `Env`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::RequestInfo;
use digit_localization::{from_env, LocalizationError};
use digit_service::config::Env;
use digit_service::Metrics;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (query, correlation id) of every call.
type Seen = Arc<Mutex<Vec<(HashMap<String, String>, Option<String>)>>>;

async fn search(
    State(seen): State<Seen>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(_body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let correlation = headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.lock().unwrap().push((query.clone(), correlation));
    if query.get("module").map(String::as_str) == Some("bad") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"ResponseInfo": null, "Errors": [
                {"code": "INVALID_MODULE", "message": "no such module"}]})),
        );
    }
    (
        StatusCode::OK,
        Json(json!({"messages": [
            {"code": "PGR_HELLO", "message": "Hello {name}", "module": "rainmaker-pgr",
             "locale": "en_IN"}]})),
    )
}

async fn start() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/localization/messages/v1/_search", post(search))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), seen)
}

#[tokio::test]
async fn remote_messages_with_query_and_correlation_id() {
    let (host, seen) = start().await;
    let env = Env::from_pairs([("EGOV_LOCALIZATION_HOST", host.as_str())]);
    let metrics = Metrics::new("test");
    let l10n = from_env(&env, &metrics).unwrap();
    let ri = RequestInfo {
        correlation_id: Some("corr-l".into()),
        ..Default::default()
    };
    let messages = l10n
        .messages(&ri, "pg", "en_IN", "rainmaker-pgr")
        .await
        .unwrap();
    assert_eq!(
        messages.get("PGR_HELLO").map(String::as_str),
        Some("Hello {name}")
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].0["locale"], "en_IN");
    assert_eq!(seen[0].0["tenantId"], "pg");
    assert_eq!(seen[0].0["module"], "rainmaker-pgr");
    assert_eq!(seen[0].1.as_deref(), Some("corr-l"));
    assert_eq!(
        metrics
            .outbound()
            .requests
            .with_label_values(&["localization", "ok"])
            .get(),
        1
    );
}

#[tokio::test]
async fn remote_errors_keep_their_codes() {
    let (host, _) = start().await;
    let env = Env::from_pairs([("EGOV_LOCALIZATION_HOST", host.as_str())]);
    let l10n = from_env(&env, &Metrics::new("test")).unwrap();
    let err = l10n
        .messages(&RequestInfo::default(), "pg", "en_IN", "bad")
        .await
        .unwrap_err();
    match &err {
        LocalizationError::Remote(e) => assert_eq!(e.codes(), vec!["INVALID_MODULE"]),
        other => panic!("unexpected {other:?}"),
    }
}

/// The configured timeout applies (it used to be a fixed 10 s, or none when the builder
/// failed).
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
    let host = format!("http://{addr}");
    let env = Env::from_pairs([
        ("EGOV_LOCALIZATION_HOST", host.as_str()),
        ("HTTP_CLIENT_TIMEOUT_MS", "200"),
        ("HTTP_CLIENT_RETRIES", "0"),
    ]);
    let l10n = from_env(&env, &Metrics::new("test")).unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        l10n.messages(&RequestInfo::default(), "pg", "en_IN", "m"),
    )
    .await
    .expect("the client gave up by itself")
    .unwrap_err();
    assert!(
        matches!(&err, LocalizationError::Remote(e) if e.is_timeout()),
        "{err:?}"
    );
    silent.abort();
}

#[tokio::test]
async fn without_a_host_files_are_read_from_the_configured_path() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/localization");
    let env = Env::from_pairs([("LOCALIZATION_CONFIG_PATH", dir.display().to_string())]);
    let l10n = from_env(&env, &Metrics::new("test")).unwrap();
    let pgr = l10n
        .messages(&RequestInfo::default(), "pg", "en_IN", "rainmaker-pgr")
        .await
        .unwrap();
    assert!(!pgr.is_empty());
    let bad = Env::from_pairs([("EGOV_LOCALIZATION_HOST", "not a url")]);
    assert!(matches!(
        from_env(&bad, &Metrics::new("test")),
        Err(LocalizationError::Config(_))
    ));
}
