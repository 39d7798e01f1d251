//! `RemoteMdms` against a small local HTTP server that plays a DIGIT MDMS.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use common::post_json;
use digit_core::DigitError;
use digit_core::RequestInfo;
use digit_http::{HttpClient, HttpError, HttpSettings};
use digit_mdms::{
    load_role_actions, router, MdmsCriteria, MdmsError, MdmsSource, RemoteMdms, SEARCH_PATH,
};
use digit_service::Metrics;
use serde_json::{json, Value};
use std::time::Duration;

/// A remote MDMS client with default HTTP settings.
#[allow(clippy::expect_used)]
fn remote_at(host: &str, endpoint: &str) -> RemoteMdms {
    let http =
        HttpClient::new("mdms", &HttpSettings::default(), &Metrics::new("test")).expect("client");
    RemoteMdms::new(http, host, endpoint).expect("remote")
}

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
    let remote = remote_at(&host, "/mdms-v2/v1/_search");
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
    let remote = remote_at(&host, "mdms-v2/v1/_search");
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
    let remote = remote_at(&host, "mdms-v2/v1/_search");
    let err = remote
        .search(&MdmsCriteria::single("bad", "m", "x", None))
        .await
        .expect_err("downstream error");
    match &err {
        MdmsError::Remote(e @ HttpError::Status { status, .. }) => {
            assert_eq!(*status, 400);
            assert_eq!(e.codes(), vec!["Invalid_tenantId.MdmsCriteria.tenantId"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.errors()[0].code,
        "Invalid_tenantId.MdmsCriteria.tenantId"
    );
    let err = remote
        .search(&MdmsCriteria::single("boom", "m", "x", None))
        .await
        .expect_err("server error");
    assert!(
        matches!(
            err,
            MdmsError::Remote(HttpError::Status { status: 500, .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.errors()[0].code, "ResourceAccessError");
    let wrong_path = remote_at(&host, "nope");
    let err = wrong_path
        .search(&MdmsCriteria::single("pg", "m", "x", None))
        .await
        .expect_err("404");
    assert_eq!(err.errors()[0].code, "ResourceAccessError", "{err:?}");

    // Nothing listening.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let closed = remote_at(&format!("http://{addr}"), "x");
    let err = closed
        .search(&MdmsCriteria::single("pg", "m", "x", None))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, MdmsError::Remote(HttpError::Connect { .. })),
        "{err:?}"
    );
    assert_eq!(err.errors()[0].code, "ResourceAccessError");
}

/// The configured timeout applies (it used to be a constant 30 s): an MDMS that accepts
/// and never answers fails the search at the configured bound, as a ResourceAccessError.
#[tokio::test]
async fn remote_search_honours_the_configured_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let env = digit_service::config::Env::from_pairs([
        ("EGOV_MDMS_HOST", format!("http://{addr}")),
        ("HTTP_CLIENT_TIMEOUT_MS", "200".to_owned()),
        ("HTTP_CLIENT_RETRIES", "1".to_owned()),
        ("HTTP_CLIENT_RETRY_BACKOFF_MS", "1".to_owned()),
    ]);
    let metrics = Metrics::new("test");
    let remote = RemoteMdms::from_env(&env, &metrics)
        .expect("settings")
        .expect("remote");
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        remote.search(&MdmsCriteria::single("pg", "m", "x", None)),
    )
    .await
    .expect("the client gave up by itself")
    .expect_err("timeout");
    assert!(
        matches!(&err, MdmsError::Remote(e) if e.is_timeout()),
        "{err:?}"
    );
    assert_eq!(err.errors()[0].code, "ResourceAccessError");
    // A search is a safe read: retried once, then given up.
    let attempts = metrics
        .outbound()
        .requests
        .with_label_values(&["mdms", "timeout"])
        .get();
    assert_eq!(attempts, 2);
    silent.abort();
}

#[tokio::test]
async fn router_over_remote_passes_downstream_errors_and_correlation() {
    let (host, seen) = start_fake().await;
    let source: Arc<dyn MdmsSource> = Arc::new(remote_at(&host, "mdms-v2/v1/_search"));
    let app = router(source).into_router();
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
    let remote = remote_at(&host, "mdms-v2/v1/_search");
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
