//! Login in standalone mode (egov-user's contract, served by pgr) on the real stack: the
//! password grant for a seeded employee, the token accepted by pgr's and sor-rates' gates,
//! wrong passwords and the lock-out, refresh (single use), logout, expiry, `_details`,
//! `_search` (a citizen sees only itself) and the OAuth client check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digit_e2e::*;
use serde_json::{json, Value};

const CLIENT: &str = "Basic ZWdvdi11c2VyLWNsaWVudDo=";

async fn token_request(
    app: &axum::Router,
    client: Option<&str>,
    form: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post("/user/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = client {
        req = req.header("authorization", c);
    }
    let (status, bytes) = send(app, req.body(Body::from(form.to_owned())).unwrap()).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn password_form(user: &str, password: &str) -> String {
    format!("username={user}&password={}&grant_type=password&scope=read&tenantId=pg.citya&userType=EMPLOYEE", password.replace('@', "%40"))
}

async fn search_with_token(app: &axum::Router, token: &str) -> StatusCode {
    let req = Request::post("/pgr-services/v2/request/_search?tenantId=pg.citya")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"RequestInfo": {"apiId": "Rainmaker", "authToken": token}}).to_string(),
        ))
        .unwrap();
    send(app, req).await.0
}

#[tokio::test]
async fn employee_logs_in_and_the_token_opens_pgr_and_sor_rates() {
    let stack = WorkflowStack::start(true).await;
    let (status, body) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("GRO_CITYA", "eGov@123"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(body["UserRequest"]["uuid"], users::GRO);
    assert_eq!(body["UserRequest"]["userName"], "GRO_CITYA");
    assert_eq!(body["UserRequest"]["roles"][0]["code"], "GRO");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(search_with_token(&stack.app, &token).await, StatusCode::OK);
    // The same token at sor-rates' gate (another service, the suite's signing key).
    let sor = SorStack::start().await;
    let (status, _) = post_as(
        &sor.app,
        "/sor-rates/sor/v1/_search",
        None,
        json!({"RequestInfo": {"authToken": token}, "criteria": {"tenantId": "pg.citya"}}),
    )
    .await;
    assert_ne!(status, StatusCode::UNAUTHORIZED);
    // _details with the token; an invalid token is egov-user's 400.
    let req = Request::post(format!("/user/_details?access_token={token}"))
        .body(Body::empty())
        .unwrap();
    let (status, bytes) = send(&stack.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let details: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(details["uuid"], users::GRO);
    assert_eq!(details["type"], "EMPLOYEE");
    let (status, bytes) = send(
        &stack.app,
        Request::post("/user/_details?access_token=nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&bytes).contains("InvalidAccessTokenException"));
    // A repeated parameter is joined as Spring binds it (found by the contract fuzzer: it was
    // axum's plain-text 400): the DIGIT envelope, as the OpenAPI document says.
    let (status, bytes) = send(
        &stack.app,
        Request::post(format!(
            "/user/_details?access_token={token}&access_token=x"
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body["Errors"][0]["code"], "InvalidAccessTokenException",
        "{body}"
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_account() {
    let stack = WorkflowStack::start_with(true, &[("USER_MAX_FAILED_LOGINS", "3")]).await;
    for _ in 0..2 {
        let (status, body) = token_request(
            &stack.app,
            Some(CLIENT),
            &password_form("LME_CITYA", "wrong"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "invalid_grant", "error_description": "Invalid login credentials"})
        );
    }
    // An unknown user gets the same answer (no telling which names exist).
    let (_, body) = token_request(&stack.app, Some(CLIENT), &password_form("NOBODY", "x")).await;
    assert_eq!(body["error_description"], "Invalid login credentials");
    let (_, body) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("LME_CITYA", "wrong"),
    )
    .await;
    assert_eq!(body["error_description"], "Account locked");
    // Locked: even the right password is refused.
    let (status, body) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("LME_CITYA", "eGov@123"),
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Account locked"))
    );
    // Another user is not affected.
    let (status, _) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("CSR_CITYA", "eGov@123"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let stored: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM eg_user WHERE username = 'LME_CITYA'")
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert!(stored.is_some());
}

#[tokio::test]
async fn refresh_is_single_use_and_logout_revokes() {
    let stack = WorkflowStack::start(true).await;
    let (_, first) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("CSR_CITYA", "eGov@123"),
    )
    .await;
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = token_request(
        &stack.app,
        Some(CLIENT),
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["UserRequest"]["userName"], "CSR_CITYA");
    let (status, again) = token_request(
        &stack.app,
        Some(CLIENT),
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(
        (status, again["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid refresh token"))
    );
    // Logout revokes the newer refresh token too.
    let token = second["access_token"].as_str().unwrap();
    let (status, _) = send(
        &stack.app,
        Request::post(format!("/user/_logout?access_token={token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refresh2 = second["refresh_token"].as_str().unwrap();
    let (status, _) = token_request(
        &stack.app,
        Some(CLIENT),
        &format!("grant_type=refresh_token&refresh_token={refresh2}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The secret is never stored: only digests.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM eg_user_refresh_token")
        .fetch_all(stack.db.pool())
        .await
        .unwrap();
    assert!(!stored.iter().any(|h| h == refresh2));
}

#[tokio::test]
async fn expired_tokens_and_bad_requests() {
    let stack = WorkflowStack::start_with(true, &[("USER_ACCESS_TOKEN_TTL_SECONDS", "1")]).await;
    let (_, body) = token_request(
        &stack.app,
        Some(CLIENT),
        &password_form("GRO_CITYA", "eGov@123"),
    )
    .await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(body["expires_in"], 1);
    // The token says so: exp = iat + the configured lifetime (the gates refuse it after
    // that, with the verifier's leeway; tests of the gate cover expired tokens).
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1
    );
    let expired = digit_service::jwt::mint_hs256(&gro(), SECRET.as_bytes(), -3600, None).unwrap();
    assert_eq!(
        search_with_token(&stack.app, &expired).await,
        StatusCode::UNAUTHORIZED
    );
    // No client, a wrong client, a missing parameter, an unknown grant.
    let (status, body) =
        token_request(&stack.app, None, &password_form("GRO_CITYA", "eGov@123")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (status, _) = token_request(
        &stack.app,
        Some("Basic b3RoZXI6c2VjcmV0"),
        &password_form("GRO_CITYA", "eGov@123"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = token_request(
        &stack.app,
        Some(CLIENT),
        "grant_type=password&username=GRO_CITYA&tenantId=pg.citya",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, body) =
        token_request(&stack.app, Some(CLIENT), "grant_type=client_credentials").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn user_search_and_a_citizen_sees_only_itself() {
    let stack = WorkflowStack::start(true).await;
    let (status, body) = post_as(&stack.app, "/user/_search", Some(&gro()),
        json!({"RequestInfo": {"apiId": "Rainmaker"}, "tenantId": "pg.citya", "userType": "EMPLOYEE", "roleCodes": ["PGR_LME"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["user"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userName"].as_str())
        .collect();
    assert!(
        names.contains(&"LME_CITYA") && !names.contains(&"GRO_CITYA"),
        "{names:?}"
    );
    let (status, body) = post_as(
        &stack.app,
        "/user/_search",
        Some(&citizen()),
        json!({"RequestInfo": {"apiId": "Rainmaker"}, "tenantId": "pg.citya"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uuids: Vec<&str> = body["user"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["uuid"].as_str())
        .collect();
    assert_eq!(uuids, [users::CITIZEN]);
    let (status, _) = post_as(
        &stack.app,
        "/user/_search",
        None,
        json!({"RequestInfo": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
