//! Upstream's mock mode (spec A1.13: listed tenants answered from MDMS `ifms.JitMockResponse`,
//! off by default) and the cron contract `POST /_scheduler?serviceId=…` (A1.11, A2.1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifms::{
    accountant, disbursement, line, scenario, scheduler_user, va_item, IfmsStack, DDO, GENERAL_HOA,
    TENANT,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_mode_answers_listed_tenants_from_mdms() {
    let va = json!({"serviceId": "VA", "errorMsg": null, "data": [
        va_item("Initial Allotment", "8001", 0, "9001", "500", "0", "2026-05-01")]});
    let pi = json!({"serviceId": "PI", "errorMsg": null, "data": [
        {"jitBillNo": "x", "jitBillDate": "2026-05-02", "ssuIaId": "1621", "successCode": "0", "sucessDescrp": "mocked"}]});
    let mocks = json!({"tenantId": TENANT, "moduleName": "ifms", "JitMockResponse": [
        {"uniqueIdentifier": format!("VA.{GENERAL_HOA}.{DDO}"), "data": va},
        {"uniqueIdentifier": "PI.PI", "data": pi}]});
    let s = IfmsStack::start_full(
        scenario(vec![]),
        &[
            ("IFMS_JIT_MOCK_ENABLED", "true"),
            ("IFMS_JIT_MOCK_ENABLED_TENANTS", TENANT),
        ],
        Some(digit_e2e::ifms::PROGRAM),
        None,
        vec![mocks],
    )
    .await;
    let report = s.service.run_va().await.unwrap();
    assert_eq!((report.sanctions, report.allotments), (1, 1), "{report:?}");
    let sanction = s.sanction_of("8001").await;
    assert_eq!(s.funds(&sanction).await, "500/500");
    let (status, reply) = s
        .disburse(&disbursement(
            "M1",
            "EP/M",
            &sanction,
            vec![line("a", "111@SBIN0000001", "20")],
        ))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["message"]["status"]["status_code"], "INITIATED",
        "{reply}"
    );
    assert_eq!(reply["message"]["status"]["status_message"], "mocked");
    // JIT itself was never asked.
    assert!(s.jit.state().calls.is_empty(), "{:?}", s.jit.state().calls);
    // A mock without an answer for a service: JIT's empty answer (PIS: no response yet).
    s.service.run_pis().await.unwrap();
    assert_eq!(s.pi_status("M1").await, "INITIATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_endpoint_runs_a_poller_for_the_cron_user_only() {
    let s = IfmsStack::start(
        scenario(vec![va_item(
            "Initial Allotment",
            "5001",
            0,
            "6001",
            "300",
            "0",
            "2026-05-01",
        )]),
        &[],
    )
    .await;
    let body = json!({"RequestInfo": {"apiId": "Rainmaker", "msgId": "20170310130900|en_IN"}});
    let (status, out) = s
        .post("/_scheduler?serviceId=VA", &scheduler_user(), &body)
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], "successful", "a bare ResponseInfo: {out}");
    assert_eq!(out["msgId"], "20170310130900|en_IN");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_sanction_details").await,
        1
    );
    // PI and COR are accepted and do nothing (upstream).
    let (status, _) = s
        .post("/_scheduler?serviceId=COR", &scheduler_user(), &body)
        .await;
    assert_eq!(status, 200);
    // An unknown service id is a 400 (upstream: a 500 NullPointerException).
    let (status, out) = s
        .post("/_scheduler?serviceId=XX", &scheduler_user(), &body)
        .await;
    assert_eq!(status, 400, "{out}");
    assert_eq!(out["Errors"][0]["code"], "INVALID_SERVICE_ID");
    let (status, out) = s.post("/_scheduler", &scheduler_user(), &body).await;
    assert_eq!(
        (status.as_u16(), out["Errors"][0]["code"].as_str()),
        (400, Some("INVALID_SERVICE_ID"))
    );
    // RequestInfo is required.
    let (status, _) = s
        .post("/_scheduler?serviceId=VA", &scheduler_user(), &json!({}))
        .await;
    assert_eq!(status, 400);
    // Only the cron user (and SUPERUSER) may run pollers.
    let (status, _) = s
        .post("/_scheduler?serviceId=VA", &accountant(), &body)
        .await;
    assert_eq!(status, 403);
    // Upstream's own context path serves the same endpoints.
    let req = axum::http::Request::post("/ifms-adapter/funds/v1/_search")
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", digit_e2e::token(&accountant())),
        )
        .body(axum::body::Body::from(
            json!({"RequestInfo": {}, "searchCriteria": {"tenantId": TENANT}}).to_string(),
        ))
        .unwrap();
    let (status, bytes) = digit_e2e::send(&s.app, req).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let out: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(out["funds"].as_array().unwrap().len(), 1);
}
