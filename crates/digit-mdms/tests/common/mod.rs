//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_mdms::{EmbeddedMdms, MdmsSource};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The repository's seed data (`configs/mdms`).
pub fn seed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/mdms")
}

/// The seed data, embedded.
pub fn seed() -> Arc<dyn MdmsSource> {
    Arc::new(EmbeddedMdms::load(seed_path()).expect("seed data loads"))
}

/// Sends one request through `app` and returns status and JSON body.
pub async fn call(
    app: &Router,
    uri: &str,
    content_type: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = Request::post(uri);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// POSTs JSON.
pub async fn post_json(app: &Router, uri: &str, body: &Value) -> (StatusCode, Value) {
    call(app, uri, Some("application/json"), &body.to_string(), &[]).await
}
