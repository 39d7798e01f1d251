//! The gateway in front of real HTTP services (axum servers on ephemeral ports that answer
//! with what they received): every context path of the default table reaches its service
//! with method, path, query, headers and body unchanged; answers come back unchanged
//! (status, headers, body); unknown paths are 404, a service that is down 502, one that is
//! too slow 504 — all DIGIT envelopes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::routing::any;
use axum::Router;
use digit_service::config::{Env, ServiceSettings};
use digit_service::{server, Metrics};
use gateway::{parse_routes, GatewaySettings, Route};
use serde_json::{json, Value};
use std::time::Duration;

/// A service that answers 207 with what it got, naming itself.
async fn echo_service(name: &'static str) -> String {
    let app = Router::new().fallback(any(move |request: Request| async move {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        if parts.uri.path().ends_with("/slow") {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let headers: serde_json::Map<String, Value> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
            .collect();
        let answer = json!({
            "service": name, "method": parts.method.as_str(), "path": parts.uri.path(),
            "query": parts.uri.query(), "headers": headers, "length": body.len(),
            "body": if body.len() > 4096 { String::new() } else { String::from_utf8_lossy(&body).into_owned() },
        });
        (StatusCode::MULTI_STATUS, [("x-from-service", name), ("connection", "close")], axum::Json(answer))
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The gateway on an ephemeral port with `routes`; its base URL.
async fn gateway(routes: Vec<Route>, upstream_timeout: Duration) -> String {
    let settings =
        ServiceSettings::from_env(&gateway::INFO, &Env::from_pairs([("JWT_SECRET", "x")])).unwrap();
    let gw = GatewaySettings {
        routes,
        upstream_timeout,
        connect_timeout: Duration::from_secs(1),
    };
    let metrics = Metrics::new("gateway-test");
    let app = server::app(&settings, &metrics, gateway::router(&gw, &metrics).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn every_context_path_reaches_its_service_unchanged() {
    // One service per upstream base URL of the default table, named after its port.
    let table = parse_routes(gateway::DEFAULT_ROUTES).unwrap();
    let mut by_upstream: std::collections::BTreeMap<String, String> = Default::default();
    for r in &table {
        if !by_upstream.contains_key(&r.upstream) {
            let name: &'static str = Box::leak(
                r.upstream
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_owned()
                    .into_boxed_str(),
            );
            by_upstream.insert(r.upstream.clone(), echo_service(name).await);
        }
    }
    let routes: Vec<Route> = table
        .iter()
        .map(|r| Route {
            context: r.context.clone(),
            upstream: by_upstream[&r.upstream].clone(),
        })
        .collect();
    let base = gateway(routes, Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    for r in &table {
        let port = r.upstream.rsplit(':').next().unwrap();
        let path = format!("{}/v1/thing/_search", r.context);
        let answer = client
            .post(format!("{base}{path}?tenantId=pg.citya&ids=a,b"))
            .header("content-type", "application/json")
            .header("authorization", "Bearer t0k3n")
            .header("x-correlation-id", "corr-1")
            .body(r#"{"RequestInfo":{"authToken":"t"},"criteria":{"x":1}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::MULTI_STATUS, "{path}");
        assert_eq!(answer.headers()["x-from-service"], port, "{path}");
        assert!(
            answer.headers().get("connection").is_none(),
            "hop-by-hop headers stay behind"
        );
        let seen: Value = answer.json().await.unwrap();
        assert_eq!(seen["service"], port, "{path} went to the wrong service");
        assert_eq!(seen["method"], "POST");
        assert_eq!(seen["path"], path);
        assert_eq!(seen["query"], "tenantId=pg.citya&ids=a,b");
        assert_eq!(
            seen["body"],
            r#"{"RequestInfo":{"authToken":"t"},"criteria":{"x":1}}"#
        );
        assert_eq!(seen["headers"]["authorization"], "Bearer t0k3n");
        assert_eq!(seen["headers"]["x-correlation-id"], "corr-1");
        assert!(seen["headers"]["x-forwarded-host"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"));
        // The bare context path too.
        let bare = client
            .get(format!("{base}{}", r.context))
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), StatusCode::MULTI_STATUS);
    }
    // Another method and a large body (streamed through, whole).
    let seen: Value = client
        .request(Method::PATCH, format!("{base}/sor-rates/a"))
        .body("x".repeat(3 << 20))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (seen["method"].as_str(), seen["length"].as_u64()),
        (Some("PATCH"), Some(3 << 20))
    );
}

#[tokio::test]
async fn unknown_down_and_slow_are_digit_errors() {
    let up = echo_service("up").await;
    let routes = vec![
        Route {
            context: "/pgr-services".into(),
            upstream: up.clone(),
        },
        // Nothing listens on port 9 (discard) on this machine.
        Route {
            context: "/sor-rates".into(),
            upstream: "http://127.0.0.1:9".into(),
        },
    ];
    let base = gateway(routes, Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let check = |status: StatusCode, code: &'static str| {
        move |(got, body): (StatusCode, Value)| {
            assert_eq!(got, status, "{body}");
            assert_eq!(body["Errors"][0]["code"], code, "{body}");
            assert!(body["ResponseInfo"].is_null());
        }
    };
    let call = |path: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r = client
                .post(format!("{base}{path}"))
                .body("{}")
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    check(StatusCode::NOT_FOUND, "ResourceNotFoundException")(
        call("/no-such-service/v1/_search").await,
    );
    check(StatusCode::NOT_FOUND, "ResourceNotFoundException")(
        call("/pgr-servicesX/v1/_search").await,
    );
    check(StatusCode::BAD_GATEWAY, "ResourceAccessError")(call("/sor-rates/v1/_search").await);
    check(StatusCode::GATEWAY_TIMEOUT, "ResourceAccessError")(call("/pgr-services/slow").await);
    // The gateway's own health and metrics.
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "UP");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |context: &str, outcome: &str| {
        metrics.lines().any(|l| {
            l.starts_with("gateway_upstream_requests_total")
                && l.contains(&format!(r#"context="{context}""#))
                && l.contains(&format!(r#"outcome="{outcome}""#))
                && l.ends_with(" 1")
        })
    };
    assert!(
        line("/sor-rates", "unreachable") && line("/pgr-services", "timeout"),
        "{metrics}"
    );
}
