//! Citizens' OTP registration and login in standalone mode (user-otp's and egov-user's
//! contract, served by pgr) on the real stack: the OTP goes out as an SMS message on the
//! notification topic (read back from Kafka here), registers the citizen once, logs it in
//! once; wrong, reused, expired and too often guessed OTPs are refused, sends are bounded, and
//! the fixed development OTP works only when enabled. Every error code is triggered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digit_e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

const CLIENT: &str = "Basic ZWdvdi11c2VyLWNsaWVudDo=";

async fn post_open(app: &axum::Router, path: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, bytes) = send(app, req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn send_otp(app: &axum::Router, mobile: &str, purpose: &str) -> (StatusCode, Value) {
    post_open(
        app,
        "/user-otp/v1/_send",
        json!({"RequestInfo": {"apiId": "Rainmaker"},
               "otp": {"mobileNumber": mobile, "tenantId": "pg.citya", "type": purpose, "userType": "CITIZEN"}}),
    )
    .await
}

async fn citizen_login(app: &axum::Router, mobile: &str, otp: &str) -> (StatusCode, Value) {
    let req = Request::post("/user/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", CLIENT)
        .body(Body::from(format!(
            "username={mobile}&password={otp}&grant_type=password&scope=&tenantId=pg.citya&userType=CITIZEN"
        )))
        .unwrap();
    let (status, bytes) = send(app, req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn register(app: &axum::Router, mobile: &str, otp: &str) -> (StatusCode, Value) {
    post_open(
        app,
        "/user/citizen/_create",
        json!({"RequestInfo": {"apiId": "Rainmaker"},
               "User": {"name": "Asha Citizen", "username": mobile, "otpReference": otp,
                        "tenantId": "pg.citya", "permanentCity": "pg.citya"}}),
    )
    .await
}

/// The OTP of the latest SMS to `mobile` on this stack's SMS topic.
fn otp_from_sms(stack: &WorkflowStack, mobile: &str, skip: usize) -> (Value, String) {
    let topic = format!("sms-{}", stack.tag);
    let seen = std::cell::Cell::new(0);
    let found = read_topic_until(
        &topic,
        |m| {
            let hit = m["mobileNumber"] == mobile && m["category"] == "OTP";
            if hit {
                seen.set(seen.get() + 1);
            }
            hit && seen.get() > skip
        },
        Duration::from_secs(15),
    );
    let sms = found.into_iter().last().expect("the OTP SMS on the topic");
    let text = sms["message"].as_str().unwrap().to_owned();
    let otp: String = text.chars().filter(char::is_ascii_digit).collect();
    (sms, otp)
}

fn codes(body: &Value) -> Vec<String> {
    body["Errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn fresh_mobile() -> String {
    let digits: String = tag().chars().filter(char::is_ascii_digit).take(8).collect();
    format!("7{:0<9}", digits)
}

#[tokio::test]
async fn a_citizen_registers_and_logs_in_by_otp_sent_as_sms() {
    let stack = WorkflowStack::start(true).await;
    let mobile = fresh_mobile();

    // Register: the OTP comes by SMS.
    let (status, body) = send_otp(&stack.app, &mobile, "register").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["isSuccessful"], true);
    let (sms, otp) = otp_from_sms(&stack, &mobile, 0);
    assert_eq!(otp.len(), 6, "{sms}");
    assert_eq!(sms["tenantId"], "pg.citya");
    assert!(sms["expiryTime"].as_i64().unwrap() > 0);

    // A wrong OTP does not register; the right one does, once, and logs the citizen in.
    let (status, body) = register(&stack.app, &mobile, "000000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["INVALID_OTP"]);
    let (status, body) = register(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["UserRequest"]["type"], "CITIZEN");
    assert_eq!(body["UserRequest"]["userName"], mobile.as_str());
    assert_eq!(body["UserRequest"]["mobileNumber"], mobile.as_str());
    assert_eq!(body["UserRequest"]["tenantId"], "pg");
    assert_eq!(body["UserRequest"]["roles"][0]["code"], "CITIZEN");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) = post_open(
        &stack.app,
        "/pgr-services/v2/request/_search?tenantId=pg.citya",
        json!({"RequestInfo": {"apiId": "Rainmaker", "authToken": token}}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the citizen's token opens PGR: {body}"
    );
    // The OTP is spent.
    let (status, body) = register(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["INVALID_OTP"]);
    // A registered number cannot register again.
    let (status, body) = send_otp(&stack.app, &mobile, "register").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["OTP.USER_ALREADY_EXISTS"]);

    // Login: a login OTP, then the OTP is the password — once.
    let (status, _) = send_otp(&stack.app, &mobile, "login").await;
    assert_eq!(status, StatusCode::OK);
    let (_, otp) = otp_from_sms(&stack, &mobile, 1);
    let (status, body) = citizen_login(&stack.app, &mobile, "123456").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no fixed OTP unless enabled: {body}"
    );
    assert_eq!(body["error_description"], "Invalid login credentials");
    let (status, body) = citizen_login(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["UserRequest"]["type"], "CITIZEN");
    let (status, body) = citizen_login(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a used OTP: {body}");
    assert_eq!(body["error"], "invalid_grant");

    // Unknown numbers get no login or reset OTP.
    for purpose in ["login", "passwordreset"] {
        let (status, body) = send_otp(&stack.app, "7000000001", purpose).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(codes(&body), ["OTP.USER_NOT_EXISTING"]);
    }
    // The OTP rows hold digests only.
    let clear: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_user_otp WHERE otp_hash = $1")
        .bind(&otp)
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(clear, 0);
}

#[tokio::test]
async fn bad_requests_get_their_codes() {
    let stack = WorkflowStack::start(true).await;
    let cases = [
        (json!({"RequestInfo": {}}), vec!["OTP.REQUEST_MANDATORY"]),
        (
            json!({"otp": {"tenantId": "pg.citya", "type": "login"}}),
            vec!["OTP.MOBILE_NUMBER_MANDATORY"],
        ),
        (
            json!({"otp": {"mobileNumber": "12345", "type": "reset"}}),
            vec![
                "OTP.MOBILE_NUMBER_INVALID",
                "OTP.TENANT_ID_MANDATORY",
                "OTP.REQUEST_TYPE_MANDATORY",
            ],
        ),
        (
            json!({"otp": {"mobileNumber": 9}}),
            vec!["JsonMappingException"],
        ),
    ];
    for (body, want) in cases {
        let (status, answer) = post_open(&stack.app, "/user-otp/v1/_send", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(codes(&answer), want, "{body}");
    }
    let req = Request::post("/user-otp/v1/_send")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, bytes) = send(&stack.app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&serde_json::from_slice(&bytes).unwrap()),
        ["JsonParseException"]
    );

    let cases = [
        (json!({"RequestInfo": {}}), vec!["USER_MANDATORY"]),
        (
            json!({"User": {"username": "12", "name": ""}}),
            vec!["INVALID_MOBILE_NUMBER", "INVALID_NAME", "INVALID_TENANT_ID"],
        ),
        (
            json!({"User": {"username": "7000000002", "name": "A", "tenantId": "pg.citya"}}),
            vec!["OTP_REFERENCE_MANDATORY"],
        ),
        (json!({"User": {"name": 5}}), vec!["JsonMappingException"]),
    ];
    for (body, want) in cases {
        let (status, answer) = post_open(&stack.app, "/user/citizen/_create", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(codes(&answer), want, "{body}");
    }
}

#[tokio::test]
async fn otps_expire_die_after_wrong_guesses_and_sends_are_bounded() {
    let stack = WorkflowStack::start_with(
        true,
        &[
            ("USER_OTP_MAX_SENDS", "3"),
            ("USER_OTP_MAX_GUESSES", "2"),
            ("USER_OTP_TTL_SECONDS", "2"),
        ],
    )
    .await;
    let mobile = fresh_mobile();
    // Two wrong guesses kill the OTP: the right one no longer registers.
    assert_eq!(
        send_otp(&stack.app, &mobile, "register").await.0,
        StatusCode::OK
    );
    let (_, otp) = otp_from_sms(&stack, &mobile, 0);
    for _ in 0..2 {
        let (status, _) = register(&stack.app, &mobile, "999999").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, body) = register(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["INVALID_OTP"]);
    // A new OTP replaces the old one, and expires.
    assert_eq!(
        send_otp(&stack.app, &mobile, "register").await.0,
        StatusCode::OK
    );
    let (_, otp) = otp_from_sms(&stack, &mobile, 1);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (status, body) = register(&stack.app, &mobile, &otp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an expired OTP: {body}");
    // The window has passed: three more sends, then the fourth within it is refused.
    for _ in 0..3 {
        assert_eq!(
            send_otp(&stack.app, &mobile, "register").await.0,
            StatusCode::OK
        );
    }
    let (status, body) = send_otp(&stack.app, &mobile, "register").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(codes(&body), ["OTP.TOO_MANY_REQUESTS"]);
}

#[tokio::test]
async fn the_fixed_development_otp_works_only_when_enabled() {
    let stack = WorkflowStack::start_with(
        true,
        &[
            ("CITIZEN_LOGIN_PASSWORD_OTP_FIXED_ENABLED", "true"),
            ("CITIZEN_LOGIN_PASSWORD_OTP_FIXED_VALUE", "123456"),
        ],
    )
    .await;
    let mobile = fresh_mobile();
    let (status, body) = register(&stack.app, &mobile, "123456").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = citizen_login(&stack.app, &mobile, "123456").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Registration is once per number, whatever the OTP.
    let (status, body) = register(&stack.app, &mobile, "123456").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["DUPLICATE_USER_NAME"]);
    // Real OTPs still go out and work beside it.
    assert_eq!(
        send_otp(&stack.app, &mobile, "login").await.0,
        StatusCode::OK
    );
    let (_, otp) = otp_from_sms(&stack, &mobile, 0);
    assert_ne!(otp, "123456");
    assert_eq!(
        citizen_login(&stack.app, &mobile, &otp).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_sms_that_cannot_be_published_spends_the_otp_and_says_so() {
    // A topic name Kafka refuses: the SMS cannot be sent.
    let stack =
        WorkflowStack::start_with(true, &[("USER_OTP_SMS_TOPIC", "not a valid topic!")]).await;
    let mobile = fresh_mobile();
    let (status, body) = send_otp(&stack.app, &mobile, "register").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(codes(&body), ["OTP.SMS_FAILED"]);
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM eg_user_otp WHERE identity = $1 AND NOT used")
            .bind(&mobile)
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(live, 0, "the unsent OTP cannot be used");
}
