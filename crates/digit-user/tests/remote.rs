//! `RemoteUsers` against a local HTTP server that plays egov-user.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::RequestInfo;
use digit_http::HttpError;
use digit_service::config::Env;
use digit_service::Metrics;
use digit_user::{RemoteUsers, UserDirectory, UserError};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (path, correlation id, body) of every call.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

async fn egov_user(
    State(seen): State<Seen>,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let correlation = headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.lock()
        .unwrap()
        .push((uri.path().to_owned(), correlation, body.clone()));
    match uri.path() {
        "/user/_search" if body["mobileNumber"] == json!("0000000000") => (
            StatusCode::BAD_REQUEST,
            Json(json!({"ResponseInfo": null, "Errors": [
                {"code": "InvalidUserSearchCriteriaException", "message": "Invalid user search",
                 "description": null, "params": null}]})),
        ),
        "/user/_search" if body["userName"].is_string() => {
            (StatusCode::OK, Json(json!({"user": []})))
        }
        "/user/_search" => (
            StatusCode::OK,
            Json(
                json!({"user": [{"uuid": "u-1", "userName": "9999999999", "name": "Asha",
                "type": "CITIZEN", "roles": [{"code": "CITIZEN", "tenantId": "pg"}]}]}),
            ),
        ),
        "/user/users/_createnovalidate" => (
            StatusCode::OK,
            Json(
                json!({"user": [{"uuid": "u-new", "userName": body["user"]["userName"],
                "name": body["user"]["name"], "type": "CITIZEN"}]}),
            ),
        ),
        _ => (StatusCode::NOT_FOUND, Json(json!({}))),
    }
}

async fn start() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/user/{*rest}", post(egov_user))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn remote(env: &Env, metrics: &Metrics, host: &str) -> RemoteUsers {
    let http = digit_http::HttpClient::from_env("user", env, metrics).unwrap();
    RemoteUsers::new(http, host, "/user/_search").unwrap()
}

#[tokio::test]
async fn searches_and_creates_forward_request_info_and_correlation_id() {
    let (host, seen) = start().await;
    let metrics = Metrics::new("test");
    let users = remote(&Env::from_pairs([("X", "y")]), &metrics, &host);
    let ri = RequestInfo {
        correlation_id: Some("corr-u".into()),
        ..Default::default()
    };
    let found = users.search_by_uuids(&ri, &["u-1".into()]).await.unwrap();
    assert_eq!(found[0].uuid.as_deref(), Some("u-1"));
    let created = users
        .upsert_citizen(&ri, "pg", "8888888888", "Ravi", None)
        .await
        .unwrap();
    assert_eq!(created.uuid.as_deref(), Some("u-new"));
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/user/_search",
            "/user/_search",
            "/user/users/_createnovalidate"
        ]
    );
    assert!(seen.iter().all(|(_, c, _)| c.as_deref() == Some("corr-u")));
    assert_eq!(seen[0].2["uuid"], json!(["u-1"]));
    assert_eq!(seen[2].2["user"]["roles"][0]["code"], json!("CITIZEN"));
    assert_eq!(
        metrics
            .outbound()
            .requests
            .with_label_values(&["user", "ok"])
            .get(),
        3
    );
}

#[tokio::test]
async fn egov_user_errors_keep_their_codes() {
    let (host, _) = start().await;
    let users = remote(&Env::default(), &Metrics::new("test"), &host);
    let err = users
        .citizens_by_mobile(&RequestInfo::default(), "pg", "0000000000")
        .await
        .unwrap_err();
    match &err {
        UserError::Remote(e @ HttpError::Status { status: 400, .. }) => {
            assert_eq!(e.codes(), vec!["InvalidUserSearchCriteriaException"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

/// The configured timeout applies (it used to be a fixed 10 s, or none at all when the
/// client builder failed and `unwrap_or_default()` took over).
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
    let env = Env::from_pairs([
        ("HTTP_CLIENT_TIMEOUT_MS", "200"),
        ("HTTP_CLIENT_RETRIES", "0"),
    ]);
    let users = remote(&env, &Metrics::new("test"), &format!("http://{addr}"));
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        users.search_by_uuids(&RequestInfo::default(), &["u".into()]),
    )
    .await
    .expect("the client gave up by itself")
    .unwrap_err();
    assert!(
        matches!(&err, UserError::Remote(e) if e.is_timeout()),
        "{err:?}"
    );
    silent.abort();
}

#[tokio::test]
async fn a_bad_host_or_setting_is_a_configuration_error() {
    let metrics = Metrics::new("test");
    let http = digit_http::HttpClient::from_env("user", &Env::default(), &metrics).unwrap();
    assert!(matches!(
        RemoteUsers::new(http, "egov-user:8080", "/user/_search"),
        Err(UserError::Config(_))
    ));
    assert!(matches!(
        digit_http::HttpClient::from_env(
            "user",
            &Env::from_pairs([("HTTP_CLIENT_RETRIES", "-1")]),
            &metrics
        ),
        Err(HttpError::Config { .. })
    ));
}
