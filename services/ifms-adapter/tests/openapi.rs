//! The adapter's OpenAPI document, as `ifms_adapter::routes` serves it on a real platform
//! (Postgres from `TEST_DATABASE_URL`, the broker from `TEST_KAFKA_BROKERS`; JIT is never
//! called): one document for both context paths, open, while the routes keep the gate.

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

async fn app(db: &TestDb) -> Router {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let brokers = std::env::var("TEST_KAFKA_BROKERS")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:9092".to_owned());
    let mut pairs: Vec<(String, String)> = [
        ("JWT_SECRET", "openapi-test-secret".to_owned()),
        ("DB_URL", db.url().to_owned()),
        ("DB_MIGRATE", "false".to_owned()),
        ("KAFKA_BOOTSTRAP_SERVERS", brokers),
        (
            "MDMS_CONFIG_PATH",
            root.join("configs/mdms").display().to_string(),
        ),
        (
            "IFMS_PII_KEYS",
            "i1:HxwdHhkaGxwVFhcYERITFA0ODxAJCgsMBQYHCAECAwQ=".to_owned(),
        ),
        ("IFMS_JIT_HOSTNAME", "http://127.0.0.1:9/".to_owned()),
        ("IFMS_JIT_CLIENT_ID", "openapi".to_owned()),
        ("IFMS_JIT_CLIENT_SECRET", "openapi-secret".to_owned()),
        (
            "IFMS_JIT_PUBLIC_KEY_PATH",
            root.join("configs/ifms/jit-simulator-public.pem")
                .display()
                .to_string(),
        ),
        (
            "EGOV_PROGRAM_SERVICE_HOST",
            "http://127.0.0.1:9/".to_owned(),
        ),
        (
            "IFMS_PI_INDEX_ENRICH_TOPIC",
            format!("ifms-pi-index-enrich-{tag}"),
        ),
        (
            "PAYMENT_CREATE_TOPIC",
            format!("expense-payment-create-{tag}"),
        ),
        ("IFMS_CONSUMER_GROUP_ID", format!("ifms-adapter-{tag}")),
        (
            "IFIX_ADAPTER_ERROR_QUEUE_TOPIC",
            format!("ifms-adapter-error-queue-{tag}"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for var in ifms_adapter::service::jobs::JOB_VARS {
        pairs.push((var.name.to_owned(), "off".to_owned()));
    }
    let platform = digit_runtime::PlatformBuilder::new(
        &ifms_adapter::INFO,
        ifms_adapter::NEEDS,
        Env::from_pairs(pairs),
    )
    .build()
    .await
    .unwrap();
    ifms_adapter::routes(platform).await.unwrap()
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

fn body_ref(op: &Value) -> &Value {
    &op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
}

fn answer_ref(op: &Value) -> &Value {
    &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
}

#[tokio::test]
async fn one_open_document_for_both_context_paths() {
    let db = TestDb::migrated(ifms_adapter::NEEDS.migrators)
        .await
        .unwrap();
    let app = app(&db).await;

    let (status, doc) = call(&app, "GET", "/ifms/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let (status, same) = call(&app, "GET", "/ifms-adapter/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, doc);
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, 10, "{:?}", paths.keys().collect::<Vec<_>>());

    for ctx in ["/ifms", "/ifms-adapter"] {
        let op = |p: &str| &doc["paths"][format!("{ctx}{p}")]["post"];
        let disburse = op("/v1/disburse/_create");
        assert_eq!(
            body_ref(disburse),
            "#/components/schemas/DisbursementRequest"
        );
        assert_eq!(
            answer_ref(disburse),
            "#/components/schemas/DisbursementReply"
        );
        assert_eq!(
            body_ref(op("/pi/v1/_create")),
            "#/components/schemas/CreateBody"
        );
        assert_eq!(
            answer_ref(op("/pi/v1/_create")),
            "#/components/schemas/PiCreateResponse"
        );
        assert_eq!(
            answer_ref(op("/pi/v1/_search")),
            "#/components/schemas/PiSearchResponse"
        );
        assert_eq!(
            answer_ref(op("/funds/v1/_search")),
            "#/components/schemas/FundsSearchResponse"
        );
        let scheduler = op("/_scheduler");
        assert_eq!(scheduler["parameters"][0]["name"], "serviceId");
        assert_eq!(scheduler["parameters"][0]["in"], "query");
        assert_eq!(scheduler["parameters"][0]["required"], true);
        assert_eq!(answer_ref(scheduler), "#/components/schemas/ResponseInfo");
        for p in ["/v1/disburse/_create", "/pi/v1/_create", "/_scheduler"] {
            assert_eq!(op(p)["requestBody"]["required"], true, "{p}");
            for code in ["400", "401", "403", "default"] {
                assert!(op(p)["responses"].get(code).is_some(), "{p} {code}");
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let create = &schemas["CreateBody"];
    assert_eq!(create["required"], json!(["RequestInfo"]));
    for field in ["tenantId", "referenceId", "parentPI", "payment"] {
        assert!(create["properties"].get(field).is_some(), "{field}");
    }
    assert_eq!(
        schemas["PiStatus"]["enum"],
        json!([
            "INITIATED",
            "APPROVED",
            "IN PROCESS",
            "SUCCESSFUL",
            "PARTIAL",
            "COMPLETED",
            "FAILED"
        ])
    );
    assert!(schemas["Disbursement"]["properties"]
        .get("children")
        .is_some());

    let (status, _) = call(&app, "GET", "/ifms/docs", None).await;
    assert_eq!(status, StatusCode::OK);
    // The business routes stay behind the gate.
    let (status, body) = call(
        &app,
        "POST",
        "/ifms/pi/v1/_search",
        Some(json!({"RequestInfo": {}, "searchCriteria": {"tenantId": "pg.citya"}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    db.cleanup().await.unwrap();
}
