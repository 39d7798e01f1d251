//! The exchange's OpenAPI document, as `digit_exchange::routes` serves it on a real platform
//! (Postgres from `TEST_DATABASE_URL`, the broker from `TEST_KAFKA_BROKERS`): one document
//! at `/digit-exchange` for the exchange route and the registry API, open, while the routes
//! keep their gates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_service::config::Env;
use digit_store::testing::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use tower::ServiceExt;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn app(db: &TestDb) -> Router {
    let root = repo_root();
    let key =
        std::fs::read_to_string(root.join("configs/exchange/sample_private_key1.pem")).unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let brokers = std::env::var("TEST_KAFKA_BROKERS")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:9092".to_owned());
    let pairs: Vec<(String, String)> = [
        ("JWT_SECRET", "openapi-test-secret".to_owned()),
        ("DB_URL", db.url().to_owned()),
        ("DB_MIGRATE", "false".to_owned()),
        ("KAFKA_BOOTSTRAP_SERVERS", brokers),
        (
            "MDMS_CONFIG_PATH",
            root.join("configs/mdms").display().to_string(),
        ),
        (
            "SERVICE_HOST_URL",
            "http://127.0.0.1:1/digit-exchange".to_owned(),
        ),
        ("APP_AUTH_PRIVATE_KEY", key),
        ("APP_EXCHANGE_TOPIC_NAME", format!("exchange-topic-{tag}")),
        (
            "APP_ERROR_TOPIC_NAME",
            format!("exchange-error-queue-{tag}"),
        ),
        (
            "APP_EVENTS_LOG_TOPIC_NAME",
            format!("exchange-event-log-queue-{tag}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let platform = digit_runtime::PlatformBuilder::new(
        &digit_exchange::INFO,
        digit_exchange::NEEDS,
        Env::from_pairs(pairs),
    )
    .build()
    .await
    .unwrap();
    digit_exchange::routes(platform).await.unwrap()
}

async fn call(app: &Router, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn one_open_document_for_the_exchange_and_the_registry() {
    let db = TestDb::migrated(&[&digit_exchange::MIGRATOR, &digit_store::IDGEN_MIGRATOR])
        .await
        .unwrap();
    let app = app(&db).await;

    let (status, doc) = call(&app, "GET", "/digit-exchange/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, 5, "{:?}", paths.keys().collect::<Vec<_>>());

    let exchange = &doc["paths"]["/digit-exchange/v1/exchange/{type}"]["post"];
    assert_eq!(exchange["parameters"][0]["name"], "type");
    assert_eq!(exchange["parameters"][0]["in"], "path");
    assert_eq!(exchange["parameters"][0]["required"], true);
    assert_eq!(
        exchange["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RequestMessage"
    );
    assert_eq!(exchange["requestBody"]["required"], true);
    // Other domains call without a token.
    assert_eq!(exchange["security"], json!([{}, {"bearerAuth": []}]));
    assert_eq!(
        exchange["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/EchoMessage"
    );
    for code in ["400", "401", "403", "default"] {
        assert!(exchange["responses"].get(code).is_some(), "{code}");
    }
    for op in ["_create", "_update", "_search", "_deactivate"] {
        let post = &doc["paths"][format!("/digit-exchange/v1/registry/{op}")]["post"];
        assert_eq!(
            post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ServersResponse",
            "{op}"
        );
        assert!(
            post.get("security").is_none(),
            "{op}: the document's bearer"
        );
    }
    let schemas = &doc["components"]["schemas"];
    let message = &schemas["RequestMessage"];
    assert_eq!(message["required"], json!(["header", "message"]));
    assert_eq!(
        message["properties"]["header"]["required"],
        json!([
            "message_id",
            "message_type",
            "action",
            "sender_id",
            "receiver_id"
        ])
    );
    assert_eq!(message["properties"]["message"]["type"], "string");
    assert_eq!(schemas["MessageType"]["enum"].as_array().unwrap().len(), 14);
    for name in ["EchoMessage", "RequestHeader", "ExchangeServer", "Action"] {
        assert!(schemas.get(name).is_some(), "{name}");
    }

    let (status, _) = call(&app, "GET", "/digit-exchange/docs", None).await;
    assert_eq!(status, StatusCode::OK);

    // The routes keep their gates and checks.
    let (status, body) = call(
        &app,
        "POST",
        "/digit-exchange/v1/registry/_search",
        Some(json!({"RequestInfo": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = call(
        &app,
        "POST",
        "/digit-exchange/v1/exchange/Estimate",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], "INVALID_EXCHANGE_TYPE");
    let (status, body) = call(
        &app,
        "POST",
        "/digit-exchange/v1/exchange/PROGRAM",
        Some(json!({"message": "{}"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], "NotNull.requestMessage.header");

    db.cleanup().await.unwrap();
}
