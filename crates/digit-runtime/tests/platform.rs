//! The standalone platform APIs as a service mounts them: real Postgres (fresh database),
//! the shipped MDMS data in `configs/mdms`, role-actions from that data deciding 403s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code: a failed step should abort the test.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digit_core::{Role, UserInfo, UserType};
use digit_mdms::EmbeddedMdms;
use digit_runtime::{Needs, Platform, PlatformBuilder};
use digit_service::config::{Env, ServiceInfo};
use digit_store::{TestDb, IDGEN_MIGRATOR};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const INFO: ServiceInfo = ServiceInfo {
    name: "pgr",
    description: "test",
    default_port: 0,
    default_context_path: "/pgr-services",
    env: &[],
};
const SECRET: &str = "platform-test-secret";
const NEEDS: Needs = Needs {
    migrators: &[&IDGEN_MIGRATOR],
    kafka: false,
    platform_apis: true,
    auth: true,
    mdms: true,
};

async fn platform(db: &TestDb) -> (Platform, axum::Router) {
    // The production wiring (`run` minus serving), from an explicit environment.
    let env = Env::from_pairs([("JWT_SECRET", SECRET), ("DB_URL", db.url())]);
    let mdms: Arc<dyn digit_mdms::MdmsSource> = Arc::new(
        EmbeddedMdms::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/mdms")).unwrap(),
    );
    let platform = PlatformBuilder::new(&INFO, NEEDS, env)
        .mdms(mdms)
        .build()
        .await
        .unwrap();
    assert!(platform.producer.is_none(), "no Kafka needed");
    let app = digit_runtime::app(&platform, &NEEDS, axum::Router::new())
        .await
        .unwrap();
    (platform, app)
}

fn token(roles: &[(&str, &str)]) -> String {
    let user = UserInfo {
        uuid: Some("u-1".into()),
        user_type: Some(UserType::Employee),
        tenant_id: Some("pg.citya".into()),
        roles: roles
            .iter()
            .map(|(c, t)| Role {
                code: (*c).into(),
                tenant_id: Some((*t).into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    digit_service::jwt::mint_hs256(&user, SECRET.as_bytes(), 300, None).unwrap()
}

async fn post(app: &axum::Router, path: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn idgen(token: Option<String>, tenant: &str) -> Value {
    json!({"RequestInfo": {"apiId": "Rainmaker", "authToken": token, "ts": 42},
           "idRequests": [{"idName": "pgr.servicerequestid", "tenantId": tenant, "count": 2}]})
}

#[tokio::test]
async fn role_actions_from_mdms_decide_access_to_idgen() {
    let db = TestDb::migrated(&[&IDGEN_MIGRATOR]).await.unwrap();
    let (_platform, app) = platform(&db).await;
    let path = "/egov-idgen/id/_generate";

    // EMPLOYEE holds the idgen action in roleactions.json.
    let (s, b) = post(
        &app,
        path,
        idgen(Some(token(&[("EMPLOYEE", "pg.citya")])), "pg.citya"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["responseInfo"]["status"], "SUCCESSFUL");
    assert_eq!(b["responseInfo"]["ts"], 42);
    let ids: Vec<&str> = b["idResponses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|id| id.starts_with("PG-PGR-")), "{ids:?}");
    assert_ne!(ids[0], ids[1]);

    // A role that has no grant for the URL → 403.
    let (s, b) = post(
        &app,
        path,
        idgen(Some(token(&[("PGR_LME", "pg.citya")])), "pg.citya"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["Errors"][0]["code"], "CustomException");

    // The right role, but for another city → 403.
    let (s, _) = post(
        &app,
        path,
        idgen(Some(token(&[("EMPLOYEE", "pg.citya")])), "pg.cityb"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A bad token is 401 even on a mixed-mode endpoint; no token is anonymous there.
    let (s, _) = post(&app, path, idgen(Some("junk".into()), "pg.citya")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = post(&app, path, idgen(None, "pg.citya")).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // MDMS search is open: no token needed, city→state fallback applies.
    let (s, b) = post(
        &app,
        "/egov-mdms-service/v1/_search",
        json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": "pg.citya", "moduleDetails": [
            {"moduleName": "common-masters", "masterDetails": [{"name": "IdFormat", "filter": "[?(@.idname=='pgr.servicerequestid')]"}]}]}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["MdmsRes"]["common-masters"]["IdFormat"][0]["format"],
        "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"
    );
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn mdms_v2_and_boundary_searches_are_open() {
    let db = TestDb::migrated(&[&IDGEN_MIGRATOR]).await.unwrap();
    let (_platform, app) = platform(&db).await;

    // mdms-v2's v1 search, anonymously (no token at all), as egov-indexer calls it.
    let (s, b) = post(
        &app,
        "/mdms-v2/v1/_search",
        json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": "pg.citya", "moduleDetails": [
            {"moduleName": "common-masters", "masterDetails": [{"name": "IdFormat", "filter": "[?(@.idname=='pgr.servicerequestid')]"}]}]}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["MdmsRes"]["common-masters"]["IdFormat"][0]["idname"],
        "pgr.servicerequestid"
    );

    // The indexer's ward lookup and egov-location's search: no token, 200, the locality.
    let (s, b) = post(
        &app,
        "/boundary-service/boundary-relationships/_search?hierarchyTypeCode=ADMIN&boundaryType=Locality&codes=ALOC1&tenantId=pg.citya",
        json!({"RequestInfo": {"apiId": "egov-indexer"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["TenantBoundary"][0]["boundary"][0]["name"], "Alakapuri");
    let (s, b) = post(
        &app,
        "/egov-location/location/v11/boundarys/_search?tenantId=pg.citya&boundaryType=locality&codes=ALOC2",
        json!({"RequestInfo": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["TenantBoundary"][0]["boundary"][0]["name"],
        "Bharat Nagar"
    );

    // Open means open: a token is not even read there (a junk one is no 401).
    let (s, b) = post(
        &app,
        "/boundary-service/boundary-relationships/_search?tenantId=pg.citya",
        json!({"RequestInfo": {"authToken": "junk"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["TenantBoundary"][0]["boundary"][0]["code"], "pg.citya");

    // A missing tenant is the DIGIT 400, past the gate.
    let (s, b) = post(
        &app,
        "/boundary-service/boundary-relationships/_search?boundaryType=Locality",
        json!({"RequestInfo": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(
        b["Errors"][0]["code"],
        digit_mdms::codes::NOT_NULL_BOUNDARY_TENANT_ID
    );
    db.cleanup().await.unwrap();
}
