//! `POST /egov-idgen/id/_generate` through the router (tower `oneshot`), real Postgres.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use digit_store::testing::TestDb;
use digit_store::{
    idgen_router, FixedClock, IdGenerator, IdgenSettings, InMemoryMasters, IDGEN_MIGRATOR,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn setup(settings: IdgenSettings) -> (TestDb, axum::Router) {
    let db = TestDb::migrated(&[&IDGEN_MIGRATOR]).await.unwrap();
    sqlx::query("CREATE SEQUENCE seq_eg_pgr_id")
        .execute(db.pool())
        .await
        .unwrap();
    let masters = InMemoryMasters::new()
        .with_format(
            "pgr.servicerequestid",
            "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]",
        )
        .with_city("pg.citya", "CITYA");
    let generator =
        IdGenerator::new(db.pool().clone(), Arc::new(masters), settings).with_clock(Arc::new(
            FixedClock(Utc.with_ymd_and_hms(2026, 8, 21, 6, 0, 0).unwrap()),
        ));
    (db, idgen_router(Arc::new(generator)).into_router())
}

async fn post(router: &axum::Router, body: &str) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(
            Request::post("/egov-idgen/id/_generate")
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn request_info() -> Value {
    json!({"apiId": "Rainmaker", "ver": ".01", "ts": 1755756000000_i64, "action": "_generate",
           "msgId": "1755756000000|en_IN", "authToken": "t"})
}

#[tokio::test]
async fn generates_with_upstream_keys_and_casing() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let body = json!({
        "RequestInfo": request_info(),
        "idRequests": [
            {"idName": "pgr.servicerequestid", "tenantId": "pg.citya", "format": "IGNORED", "count": 2},
            {"idName": "none", "tenantId": "pg.citya", "format": "[city]-[SEQ_EG_PGR_ID]"}
        ]
    });
    let (status, v) = post(&router, &body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({
            "responseInfo": {"apiId": "Rainmaker", "ver": ".01", "ts": 1755756000000_i64,
                             "resMsgId": "uief87324", "msgId": "1755756000000|en_IN",
                             "status": "SUCCESSFUL"},
            "idResponses": [
                {"id": "PG-PGR-2026-08-21-000001"},
                {"id": "PG-PGR-2026-08-21-000002"},
                {"id": "CITYA-000003"}
            ]
        })
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["responseInfo", "idResponses"]);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn count_may_be_a_string_and_defaults_to_one() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let body = json!({"RequestInfo": {}, "idRequests": [
        {"idName": "x", "tenantId": "pg", "format": "A-[SEQ_EG_PGR_ID]", "count": "2"},
        {"idName": "x", "tenantId": "pg", "format": "B-[SEQ_EG_PGR_ID]"}
    ]});
    let (status, v) = post(&router, &body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let ids: Vec<&str> = v["idResponses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["A-000001", "A-000002", "B-000003"]);
    // An empty RequestInfo echoes nulls; the idgen constants are still set.
    assert_eq!(v["responseInfo"]["apiId"], Value::Null);
    assert_eq!(v["responseInfo"]["status"], "SUCCESSFUL");
    assert_eq!(v["responseInfo"]["resMsgId"], "uief87324");
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn empty_id_requests_answer_null_id_responses() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let (status, v) = post(
        &router,
        &json!({"RequestInfo": request_info(), "idRequests": []}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["idResponses"], Value::Null);
    assert!(v.as_object().unwrap().contains_key("idResponses"));
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn bean_validation_errors_use_spring_codes() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let long = "x".repeat(201);
    let body = json!({"RequestInfo": request_info(), "idRequests": [
        {"format": "X"},
        {"idName": long, "tenantId": "pg", "format": long}
    ]});
    let (status, v) = post(&router, &body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["ResponseInfo"], Value::Null);
    let codes: Vec<&str> = v["Errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![
            "NotNull.idGenerationRequest.idRequests[0].idName",
            "NotNull.idGenerationRequest.idRequests[0].tenantId",
            "Size.idGenerationRequest.idRequests[1].idName",
            "Size.idGenerationRequest.idRequests[1].format",
        ]
    );
    assert_eq!(v["Errors"][0]["message"], "must not be null");
    assert_eq!(v["Errors"][2]["message"], "size must be between 0 and 200");

    let (status, v) = post(&router, &json!({"RequestInfo": request_info()}).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["Errors"][0]["code"],
        "NotNull.idGenerationRequest.idRequests"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn idgen_errors_use_the_tracer_envelope() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let body = json!({"RequestInfo": request_info(), "idRequests": [
        {"idName": "unknown", "tenantId": "pg"}
    ]});
    let (status, v) = post(&router, &body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"ResponseInfo": null, "Errors": [{
            "code": "ID_NOT_FOUND",
            "message": "No Format is available in the MDMS for the given name and tenant",
            "description": null, "params": null
        }]})
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn limits_on_count_and_requests() {
    let settings = IdgenSettings {
        max_count: 10,
        max_id_requests: 2,
        ..IdgenSettings::default()
    };
    let (db, router) = setup(settings).await;
    let one =
        |count: i64| json!({"idName": "x", "tenantId": "pg", "format": "[d{3}]", "count": count});

    let (status, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [one(11)]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["Errors"][0]["code"], "INVALID_ID_COUNT");

    let (_, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [one(-1)]}).to_string(),
    )
    .await;
    assert_eq!(v["Errors"][0]["code"], "INVALID_ID_COUNT");

    let (_, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [one(6), one(5)]}).to_string(),
    )
    .await;
    assert_eq!(
        v["Errors"][0]["code"], "INVALID_ID_COUNT",
        "total above the limit"
    );

    let (_, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [one(1), one(1), one(1)]}).to_string(),
    )
    .await;
    assert_eq!(v["Errors"][0]["code"], "TOO_MANY_ID_REQUESTS");

    let (status, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [one(5), one(5)]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["idResponses"].as_array().unwrap().len(), 10);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn malformed_bodies_are_digit_errors() {
    let (db, router) = setup(IdgenSettings::default()).await;
    let (status, v) = post(&router, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["ResponseInfo"], Value::Null);
    assert_eq!(v["Errors"][0]["code"], "JsonParseException");

    let (status, v) = post(
        &router,
        &json!({"RequestInfo": {}, "idRequests": [{"idName": "x", "tenantId": "pg", "count": "many"}]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["Errors"][0]["code"], "JsonMappingException");
    db.cleanup().await.unwrap();
}
