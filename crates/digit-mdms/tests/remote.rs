//! `RemoteMdms` against a small local HTTP server that plays a DIGIT MDMS.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use common::post_json;
use digit_core::RequestInfo;
use digit_mdms::{
    load_role_actions, router, MdmsCriteria, MdmsError, MdmsSource, RemoteMdms, SEARCH_PATH,
};
use serde_json::{json, Value};

/// What the fake MDMS saw.
#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
    correlation_ids: Vec<Option<String>>,
}

type Shared = Arc<Mutex<Seen>>;

async fn canned_search(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Ok(mut s) = seen.lock() {
        s.bodies.push(body.clone());
        s.correlation_ids.push(
            headers
                .get("x-correlation-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        );
    }
    let tenant = body["MdmsCriteria"]["tenantId"]
        .as_str()
        .unwrap_or_default();
    if tenant == "bad" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"ResponseInfo": null, "Errors": [
                {"code": "Invalid_tenantId.MdmsCriteria.tenantId", "message": "Invalid Tenant Id",
                 "description": null, "params": null}
            ]})),
        );
    }
    if tenant == "boom" {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!("oops")));
    }
    (
        StatusCode::OK,
        Json(json!({"ResponseInfo": null, "MdmsRes": {
            "common-masters": {"IdFormat": [{"idname": "pgr.servicerequestid", "format": "REMOTE-[SEQ_X]"}]},
            "ACCESSCONTROL-ROLEACTIONS": {"roleactions": [
                {"rolecode": "GRO", "actionid": "10", "actioncode": "", "tenantId": "pg"},
                {"rolecode": "CSR", "actionid": 11, "actioncode": "", "tenantId": "pg"},
                {"rolecode": "CSR", "actionid": 99, "actioncode": "", "tenantId": "pg"}
            ]},
            "ACCESSCONTROL-ACTIONS-TEST": {"actions-test": [
                {"id": 10, "url": "/pgr-services/v2/request/_update"},
                {"id": 11, "url": "/pgr-services/v2/request/_create"}
            ]}
        }})),
    )
}

/// Starts the fake MDMS on 127.0.0.1:0; returns its base URL (with a trailing slash).
#[allow(clippy::expect_used)]
async fn start_fake() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/mdms-v2/v1/_search", post(canned_search))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/"), seen)
}

#[tokio::test]
async fn remote_search_forwards_request_info_and_correlation_id() {
    let (host, seen) = start_fake().await;
    let remote = RemoteMdms::new(&host, "/mdms-v2/v1/_search").expect("client");
    let request_info = RequestInfo {
        api_id: Some("Rainmaker".into()),
        correlation_id: Some("corr-123".into()),
        ..Default::default()
    };
    let res = remote
        .search_with(
            &request_info,
            &MdmsCriteria::single("pg.citya", "common-masters", "IdFormat", Some("[?(@.x)]")),
        )
        .await
        .expect("remote search");
    assert_eq!(
        res["common-masters"]["IdFormat"][0]["format"],
        json!("REMOTE-[SEQ_X]")
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.correlation_ids, vec![Some("corr-123".to_string())]);
    let body = &seen.bodies[0];
    assert_eq!(body["RequestInfo"]["apiId"], json!("Rainmaker"));
    assert_eq!(
        body["MdmsCriteria"],
        json!({"tenantId": "pg.citya", "moduleDetails": [{"moduleName": "common-masters",
            "masterDetails": [{"name": "IdFormat", "filter": "[?(@.x)]"}]}]})
    );
}

#[tokio::test]
async fn remote_generates_a_correlation_id_when_none_is_known() {
    let (host, seen) = start_fake().await;
    let remote = RemoteMdms::new(&host, "mdms-v2/v1/_search").expect("client");
    remote
        .master("pg", "common-masters", "IdFormat", None)
        .await
        .expect("remote search");
    let seen = seen.lock().expect("lock");
    assert!(seen.correlation_ids[0]
        .as_deref()
        .is_some_and(|c| c.len() == 36));
}

#[tokio::test]
async fn remote_errors_pass_through_or_become_resource_access_errors() {
    let (host, _) = start_fake().await;
    let remote = RemoteMdms::new(&host, "mdms-v2/v1/_search").expect("client");
    let err = remote
        .search(&MdmsCriteria::single("bad", "m", "x", None))
        .await
        .expect_err("downstream error");
    match &err {
        MdmsError::Downstream { status, errors } => {
            assert_eq!(*status, 400);
            assert_eq!(errors[0].code, "Invalid_tenantId.MdmsCriteria.tenantId");
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = remote
        .search(&MdmsCriteria::single("boom", "m", "x", None))
        .await
        .expect_err("server error");
    assert!(matches!(err, MdmsError::ResourceAccess { .. }), "{err:?}");
    let wrong_path = RemoteMdms::new(&host, "nope").expect("client");
    assert!(matches!(
        wrong_path
            .search(&MdmsCriteria::single("pg", "m", "x", None))
            .await,
        Err(MdmsError::ResourceAccess { .. })
    ));

    // Nothing listening.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let closed = RemoteMdms::new(&format!("http://{addr}"), "x").expect("client");
    assert!(matches!(
        closed
            .search(&MdmsCriteria::single("pg", "m", "x", None))
            .await,
        Err(MdmsError::ResourceAccess { .. })
    ));
}

#[tokio::test]
async fn router_over_remote_passes_downstream_errors_and_correlation() {
    let (host, seen) = start_fake().await;
    let source: Arc<dyn MdmsSource> =
        Arc::new(RemoteMdms::new(&host, "mdms-v2/v1/_search").expect("client"));
    let app = router(source);
    let body = json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": "bad",
        "moduleDetails": [{"moduleName": "m", "masterDetails": [{"name": "x"}]}]}});
    let (status, resp) = post_json(&app, SEARCH_PATH, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp["Errors"][0]["code"],
        json!("Invalid_tenantId.MdmsCriteria.tenantId")
    );
    let (status, _) = common::call(
        &app,
        SEARCH_PATH,
        Some("application/json"),
        &json!({"RequestInfo": {"correlationId": "from-body"}, "MdmsCriteria": {"tenantId": "pg",
            "moduleDetails": []}})
        .to_string(),
        &[("x-correlation-id", "from-header")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen.correlation_ids.last().cloned().flatten().as_deref(),
        Some("from-header")
    );
}

#[tokio::test]
async fn role_actions_join_remote_masters() {
    let (host, _) = start_fake().await;
    let remote = RemoteMdms::new(&host, "mdms-v2/v1/_search").expect("client");
    let grants = load_role_actions(&remote, "pg").await.expect("grants");
    assert_eq!(
        grants,
        vec![
            (
                "GRO".to_string(),
                "/pgr-services/v2/request/_update".to_string()
            ),
            (
                "CSR".to_string(),
                "/pgr-services/v2/request/_create".to_string()
            ),
        ]
    );
}
