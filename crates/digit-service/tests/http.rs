//! The HTTP surface every service shares, driven through the real router stack:
//! envelope failures → DIGIT 400s, authentication (401), authorization (403), jwt mode
//! ignoring a forged `userInfo`, gateway mode trusting it, health and metrics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code: a failed step should abort the test.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Extension, Json, Router};
use digit_core::{RequestInfo, Role, UserInfo, UserType};
use digit_service::authz::{Authorizer, RoleAction, RoleActionProvider};
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::{self, Gate};
use digit_service::{server, ApiError, DigitJson, Metrics, QueryCriteria, RequestContext};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const SECRET: &str = "test-secret";
const INFO: ServiceInfo = ServiceInfo {
    name: "svc",
    description: "test",
    default_port: 0,
    default_context_path: "/svc",
    env: &[],
};

#[derive(Debug, Deserialize)]
struct Thing {
    #[serde(rename = "RequestInfo")]
    request_info: RequestInfo,
    #[serde(rename = "Thing")]
    thing: ThingBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThingBody {
    tenant_id: String,
    count: i64,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Criteria {
    tenant_id: Option<String>,
    ids: Vec<String>,
}

async fn create(
    Extension(ctx): Extension<RequestContext>,
    DigitJson(body): DigitJson<Thing>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "seenUser": body.request_info.user_info,
        "ctxUser": ctx.user.map(|u| u.uuid),
        "tenant": body.thing.tenant_id,
        "count": body.thing.count,
        "correlationId": body.request_info.correlation_id,
    })))
}

async fn search(
    QueryCriteria(c): QueryCriteria<Criteria>,
    DigitJson(_w): DigitJson<digit_core::RequestInfoWrapper>,
) -> Json<Value> {
    Json(json!({"tenantId": c.tenant_id, "ids": c.ids}))
}

/// An iFIX-envelope endpoint: what the gate established.
async fn ifix_create(Extension(ctx): Extension<RequestContext>) -> Json<Value> {
    Json(json!({"ctxUser": ctx.user.map(|u| u.uuid), "correlationId": ctx.correlation_id}))
}

struct Grants;
#[async_trait::async_trait]
impl RoleActionProvider for Grants {
    async fn role_actions(&self, _tenant: &str) -> Result<Vec<RoleAction>, String> {
        Ok(vec![
            RoleAction {
                role_code: "GRO".into(),
                url: "/svc/v1/thing/_create".into(),
            },
            RoleAction {
                role_code: "GRO".into(),
                url: "/svc/v1/thing/_search".into(),
            },
            RoleAction {
                role_code: "CITIZEN".into(),
                url: "/svc/v1/thing/_search".into(),
            },
            RoleAction {
                role_code: "GRO".into(),
                url: "/svc/v1/ifix/_create".into(),
            },
        ])
    }
}

fn app(mode: &str) -> Router {
    let env = Env::from_pairs([
        ("AUTH_MODE", mode),
        ("JWT_SECRET", SECRET),
        ("MAX_BODY_BYTES", "4096"),
    ]);
    let settings = ServiceSettings::from_env(&INFO, &env).unwrap();
    let authorizer = Arc::new(Authorizer::new(
        Arc::new(Grants),
        Duration::from_secs(60),
        1,
    ));
    let gate = Gate::new(&settings, Some(authorizer)).unwrap();
    let routes = Router::new()
        .route("/svc/v1/thing/_create", post(create))
        .route("/svc/v1/thing/_search", post(search))
        .route("/svc/v1/ifix/_create", post(ifix_create))
        .layer(axum::middleware::from_fn_with_state(
            gate,
            gate::authenticate,
        ));
    server::app(&settings, &Metrics::new("svc"), routes)
}

fn user(uuid: &str, roles: &[(&str, &str)]) -> UserInfo {
    UserInfo {
        uuid: Some(uuid.into()),
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
    }
}

fn token(u: &UserInfo) -> String {
    digit_service::jwt::mint_hs256(u, SECRET.as_bytes(), 300, None).unwrap()
}

async fn call(
    app: &Router,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut req = Request::post(path);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = app
        .clone()
        .oneshot(req.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

async fn post_json(app: &Router, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, path, Some("application/json"), body.to_string()).await
}

/// POST with a bearer token in the header (so body failures are reached after authentication).
async fn call_with_bearer(
    app: &Router,
    path: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let req = Request::post(path)
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {}", gro_token()))
        .body(body.into())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn gro_token() -> String {
    token(&user("u-gro", &[("GRO", "pg.citya")]))
}

fn assert_digit_error(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["ResponseInfo"], Value::Null, "{body}");
    assert_eq!(body["Errors"][0]["code"], code, "{body}");
    assert!(body["Errors"][0]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn health_and_metrics_are_served_under_the_context_path() {
    let app = app("jwt");
    let resp = app
        .clone()
        .oneshot(Request::get("/svc/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap(),
        json!({"status": "UP"})
    );
    let resp = app
        .clone()
        .oneshot(Request::get("/svc/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
}

#[tokio::test]
async fn a_valid_request_reaches_the_handler() {
    let app = app("jwt");
    let (status, body) = post_json(
        &app,
        "/svc/v1/thing/_create",
        json!({"RequestInfo": {"authToken": gro_token()}, "Thing": {"tenantId": "pg.citya", "count": 3}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ctxUser"], "u-gro");
    assert_eq!(body["count"], 3);
    assert!(body["correlationId"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn every_envelope_failure_is_a_digit_400() {
    let app = app("jwt");
    let path = "/svc/v1/thing/_create";
    let auth = json!({"authToken": gro_token()});
    // Not JSON at all (declared JSON).
    let (s, b) = call(&app, path, Some("application/json"), "{not json").await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "JsonParseException");
    // Wrong content type.
    let (s, b) = call(&app, path, Some("text/plain"), "hello").await;
    assert_digit_error(
        s,
        &b,
        StatusCode::UNAUTHORIZED,
        "InvalidAccessTokenException",
    );
    let (s, b) = call(
        &app,
        path,
        Some("text/plain"),
        json!({"RequestInfo": auth, "Thing": {"tenantId": "pg.citya", "count": 1}}).to_string(),
    )
    .await;
    // No token can be read from a non-JSON body; with a bearer header the handler rejects the type.
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, b) = call_with_bearer(&app, path, "text/plain", "x").await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "UnsupportedMediaType");
    // Empty body, a JSON array, a body without RequestInfo.
    let no_request_info = json!({"Thing": {"tenantId": "pg.citya", "count": 1}}).to_string();
    for body in [String::new(), "[1,2]".to_owned(), no_request_info] {
        let (s, b) = call_with_bearer(&app, path, "application/json", body).await;
        assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "MissingJsonException");
    }
    // A field of the wrong type names the field.
    let (s, b) = post_json(
        &app,
        path,
        json!({"RequestInfo": auth, "Thing": {"tenantId": "pg.citya", "count": "many"}}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "JsonMappingException");
    assert!(
        b["Errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Thing.count"),
        "{b}"
    );
    // A missing required field.
    let (s, b) = post_json(
        &app,
        path,
        json!({"RequestInfo": auth, "Thing": {"tenantId": "pg.citya"}}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "JsonMappingException");
    // RequestInfo of the wrong type.
    let (s, b) = post_json(&app, path, json!({"RequestInfo": {"authToken": gro_token(), "ts": {"a": 1}}, "Thing": {"tenantId": "pg.citya", "count": 1}})).await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "JsonMappingException");
    // Too large.
    let big = "x".repeat(10_000);
    let (s, b) = post_json(
        &app,
        path,
        json!({"RequestInfo": auth, "Thing": {"tenantId": big, "count": 1}}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    // Bad query criteria.
    let (s, b) = post_json(
        &app,
        "/svc/v1/thing/_search?tenantId=pg.citya&ids=a,b&_=1",
        json!({"RequestInfo": auth}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ids"], json!(["a", "b"]));
    // The NUL character in a body value or key, or in a query parameter: 400, never a 500
    // from the database.
    let (s, b) = post_json(
        &app,
        path,
        json!({"RequestInfo": auth, "Thing": {"tenantId": "pg.citya", "count": 1, "note": "a\u{0}b"}}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    assert_eq!(b["Errors"][0]["params"], json!(["Thing.note"]), "{b}");
    let (s, b) = post_json(
        &app,
        path,
        json!({"RequestInfo": auth, "Thing": {"tenantId": "pg.citya", "count": 1, "tags": [{"a\u{0}": 1}]}}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    assert_eq!(
        b["Errors"][0]["params"],
        json!(["Thing.tags[0].a\u{0}"]),
        "{b}"
    );
    let (s, b) = post_json(
        &app,
        "/svc/v1/thing/_search?tenantId=pg.citya&ids=a%00b",
        json!({"RequestInfo": auth}),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    // Unknown route.
    let (s, b) = post_json(&app, "/svc/v1/nothing", json!({})).await;
    assert_digit_error(s, &b, StatusCode::NOT_FOUND, "ResourceNotFoundException");
}

#[tokio::test]
async fn bad_tokens_are_401_with_the_body_the_ui_logs_out_on() {
    let app = app("jwt");
    let path = "/svc/v1/thing/_create";
    let thing = json!({"tenantId": "pg.citya", "count": 1});
    let expected = json!({"ResponseInfo": null, "Errors": [{"code": "InvalidAccessTokenException", "message": "InvalidAccessTokenException",
        "description": "Invalid access token or access token expired for the request", "params": null}]});
    let u = user("u-gro", &[("GRO", "pg.citya")]);
    let tokens = [
        None,                                                                             // missing
        Some("garbage".to_owned()), // not a JWT
        Some(digit_service::jwt::mint_hs256(&u, b"other-secret", 300, None).unwrap()), // wrong signature
        Some(digit_service::jwt::mint_hs256(&u, SECRET.as_bytes(), -300, None).unwrap()), // expired
    ];
    for t in tokens {
        let (s, b) = post_json(
            &app,
            path,
            json!({"RequestInfo": {"authToken": t}, "Thing": thing}),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(b, expected);
    }
}

#[tokio::test]
async fn jwt_mode_ignores_a_forged_user_info() {
    let app = app("jwt");
    let forged = user("forged-admin", &[("SUPERUSER", "pg"), ("GRO", "pg")]);
    let real = user("u-gro", &[("GRO", "pg.citya")]);
    let (s, b) = post_json(
        &app,
        "/svc/v1/thing/_create",
        json!({"RequestInfo": {"authToken": token(&real), "userInfo": forged}, "Thing": {"tenantId": "pg.citya", "count": 1}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["seenUser"]["uuid"], "u-gro");
    assert_eq!(
        b["seenUser"]["roles"],
        json!([{"id": null, "name": null, "code": "GRO", "tenantId": "pg.citya"}])
    );
    // A forged userInfo without any token does not authenticate either.
    let (s, _) = post_json(
        &app,
        "/svc/v1/thing/_create",
        json!({"RequestInfo": {"userInfo": forged}, "Thing": {"tenantId": "pg.citya", "count": 1}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_role_without_the_action_or_for_another_tenant_is_403() {
    let app = app("jwt");
    let path = "/svc/v1/thing/_create";
    let body = |t: String, tenant: &str| json!({"RequestInfo": {"authToken": t}, "Thing": {"tenantId": tenant, "count": 1}});
    // CSR has no grant for _create.
    let (s, b) = post_json(
        &app,
        path,
        body(token(&user("u-csr", &[("CSR", "pg.citya")])), "pg.citya"),
    )
    .await;
    assert_digit_error(s, &b, StatusCode::FORBIDDEN, "CustomException");
    // GRO of pg.citya acting on pg.cityb.
    let (s, b) = post_json(&app, path, body(gro_token(), "pg.cityb")).await;
    assert_digit_error(s, &b, StatusCode::FORBIDDEN, "CustomException");
    // A state-level GRO may act on any city of the state.
    let (s, b) = post_json(
        &app,
        path,
        body(token(&user("u-state", &[("GRO", "pg")])), "pg.cityb"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Query tenant is used when the body names none.
    let citizen = token(&user("u-cit", &[("CITIZEN", "pg")]));
    let (s, _) = post_json(
        &app,
        "/svc/v1/thing/_search?tenantId=pg.cityb",
        json!({"RequestInfo": {"authToken": citizen}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn gateway_mode_trusts_user_info_and_bearer_header_works_in_jwt_mode() {
    let gw = app("gateway");
    let u = user("u-gw", &[("GRO", "pg.citya")]);
    let (s, b) = post_json(
        &gw,
        "/svc/v1/thing/_create",
        json!({"RequestInfo": {"userInfo": u}, "Thing": {"tenantId": "pg.citya", "count": 2}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ctxUser"], "u-gw");
    let (s, _) = post_json(
        &gw,
        "/svc/v1/thing/_create",
        json!({"RequestInfo": {}, "Thing": {"tenantId": "pg.citya", "count": 2}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let jwt = app("jwt");
    let req = Request::post("/svc/v1/thing/_create")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", gro_token()))
        .header("x-correlation-id", "corr-123")
        .body(Body::from(
            json!({"RequestInfo": {}, "Thing": {"tenantId": "pg.citya", "count": 2}}).to_string(),
        ))
        .unwrap();
    let resp = jwt.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-correlation-id"], "corr-123");
    let b: Value = serde_json::from_slice(
        &http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    assert_eq!(b["correlationId"], "corr-123");
}

#[tokio::test]
async fn gateway_mode_reads_the_ifix_request_header_user() {
    let gw = app("gateway");
    let body = |tenants: Value| {
        json!({"requestHeader": {"msgId": "m", "correlationId": "c-ifix",
            "userInfo": {"uuid": "u-ifix", "roles": ["GRO"], "tenants": tenants}},
            "record": {"tenantId": "pg.citya"}})
    };
    let (s, b) = post_json(&gw, "/svc/v1/ifix/_create", body(json!(["pg.citya"]))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ctxUser"], "u-ifix");
    // The role counts only at the tenants the header lists.
    let (s, _) = post_json(&gw, "/svc/v1/ifix/_create", body(json!(["pg.cityb"]))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // In jwt mode the header's user is ignored: no token, no user.
    let (s, _) = post_json(
        &app("jwt"),
        "/svc/v1/ifix/_create",
        body(json!(["pg.citya"])),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_answer_given_before_the_body_was_read_closes_the_connection() {
    let app = app("jwt");
    let send = |content_type: &'static str, body: String| {
        let app = app.clone();
        async move {
            let req = Request::post("/svc/v1/thing/_create")
                .header("content-type", content_type)
                .header("authorization", format!("Bearer {}", gro_token()))
                .body(Body::from(body))
                .unwrap();
            app.oneshot(req).await.unwrap()
        }
    };
    // The wrong content type is refused without reading the body: the connection cannot be
    // reused, and the answer says so (a pooling client would otherwise write into it).
    let refused = send("text/plain", "x".repeat(100)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.headers().get("connection").unwrap(), "close");
    // A body read to its end keeps the connection.
    let ok = send(
        "application/json",
        json!({"RequestInfo": {}, "Thing": {"tenantId": "pg.citya", "count": 1}}).to_string(),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.headers().get("connection").is_none());
    // So does a request without a body.
    let health = app
        .clone()
        .oneshot(Request::get("/svc/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().get("connection").is_none());
}
