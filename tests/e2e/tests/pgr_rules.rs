//! PGR validation codes (upstream-pgr §3), authorization, citizen find-or-create,
//! concurrent updates and auto-escalation — over HTTP on the real stack.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_core::{UserInfo, UserType};
use digit_e2e::*;
use serde_json::{json, Value};

const CREATE: &str = "/pgr-services/v2/request/_create";
const UPDATE: &str = "/pgr-services/v2/request/_update";
const SEARCH: &str = "/pgr-services/v2/request/_search";

fn ri() -> Value {
    json!({"apiId": "Rainmaker", "msgId": "m|en_IN"})
}

fn complaint(edit: impl Fn(&mut Value)) -> Value {
    let mut body = json!({"RequestInfo": ri(), "service": {
        "tenantId": "pg.citya", "serviceCode": "NoWaterSupply", "description": "no water", "source": "mobile",
        "address": {"locality": {"code": "ALOC2"}, "geoLocation": {"latitude": 0, "longitude": 0}}
    }, "workflow": {"action": "APPLY"}});
    edit(&mut body);
    body
}

fn csr() -> UserInfo {
    user(
        users::CSR,
        UserType::Employee,
        &[("CSR", "pg.citya"), ("EMPLOYEE", "pg.citya")],
    )
}

fn other_citizen() -> UserInfo {
    user(
        "22222222-2222-4222-8222-0000000000ff",
        UserType::Citizen,
        &[("CITIZEN", "pg")],
    )
}

async fn create(stack: &WorkflowStack, who: &UserInfo, body: Value) -> String {
    let (status, body) = stack.call(CREATE, Some(who), body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["ServiceWrappers"][0]["service"]["serviceRequestId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn fetch(stack: &WorkflowStack, who: &UserInfo, srid: &str) -> Value {
    let (_, found) = stack
        .call(
            &format!("{SEARCH}?tenantId=pg.citya&serviceRequestId={srid}"),
            Some(who),
            json!({"RequestInfo": ri()}),
        )
        .await;
    found["ServiceWrappers"][0]["service"].clone()
}

async fn update(
    stack: &WorkflowStack,
    who: &UserInfo,
    service: Value,
    workflow: Value,
) -> (StatusCode, Value) {
    stack
        .call(
            UPDATE,
            Some(who),
            json!({"RequestInfo": ri(), "service": service, "workflow": workflow}),
        )
        .await
}

fn error(body: &Value) -> (String, String) {
    (
        body["Errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["Errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_complaint_without_coordinates_is_stored() {
    // The persister reads `$.service.address.geoLocation.latitude` as a definite path: a
    // complaint whose address has no geoLocation key was answered and then dead-lettered.
    let stack = WorkflowStack::start(true).await;
    let body = complaint(|b| {
        b["service"]["address"]
            .as_object_mut()
            .unwrap()
            .remove("geoLocation");
    });
    let srid = create(&stack, &citizen(), body).await;
    let found = fetch(&stack, &citizen(), &srid).await;
    assert_eq!(found["serviceRequestId"], srid.as_str(), "{found}");
    assert_eq!(found["address"]["geoLocation"]["latitude"], Value::Null);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM eg_pgr_service_v2 WHERE servicerequestid = $1")
            .bind(&srid)
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_validation_codes() {
    let stack = WorkflowStack::start(true).await;
    let cases: Vec<(UserInfo, Value, &str, &str)> = vec![
        (
            citizen(),
            complaint(|b| b["service"]["source"] = json!("fax")),
            "INVALID_SOURCE",
            "The source: fax is not valid",
        ),
        (
            citizen(),
            complaint(|b| b["service"]["address"] = json!({"city": "x"})),
            "INVALID_BOUNDARY",
            "Boundary is required",
        ),
        (
            citizen(),
            complaint(|b| b["service"]["address"]["locality"]["code"] = json!("BLOC1")),
            "INVALID_BOUNDARY_CODE",
            "Invalid locality code: BLOC1",
        ),
        (
            citizen(),
            complaint(|b| b["service"]["serviceCode"] = json!("Nope")),
            "INVALID_SERVICECODE",
            "The service code: Nope is not present in MDMS",
        ),
        (
            citizen(),
            complaint(|b| b["service"]["serviceCode"] = json!("WaterPressureisVeryLess")),
            "INVALID_SERVICECODE",
            "The service code: WaterPressureisVeryLess is not present in MDMS",
        ),
        (
            csr(),
            complaint(|_| {}),
            "INVALID_REQUEST",
            "Citizen object cannot be null",
        ),
        (
            csr(),
            complaint(|b| b["service"]["citizen"] = json!({"name": "No Phone"})),
            "INVALID_REQUEST",
            "Name and Mobile Number is mandatory in citizen object",
        ),
        // CFC may call _create (role-action) but APPLY is for CITIZEN/CSR (workflow).
        (
            user(
                "11111111-1111-4111-8111-000000000006",
                UserType::Employee,
                &[("CFC", "pg.citya"), ("EMPLOYEE", "pg.citya")],
            ),
            complaint(|b| {
                b["service"]["citizen"] = json!({"name": "A", "mobileNumber": "9000011111"})
            }),
            "INVALID ROLE",
            "User is not authorized to perform action",
        ),
    ];
    for (who, body, code, message) in cases {
        let (status, body) = stack.call(CREATE, Some(&who), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {body}");
        assert!(body["ResponseInfo"].is_null());
        assert_eq!(error(&body), (code.to_owned(), message.to_owned()));
    }
    // A citizen the user service does not know (valid token, no user record).
    let (status, body) = stack
        .call(CREATE, Some(&other_citizen()), complaint(|_| {}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error(&body),
        (
            "INVALID_ACCOUNTID".into(),
            "No user exist for the given accountId".into()
        )
    );
    // A role without the _create grant is refused before any of that.
    let (status, body) = stack.call(CREATE, Some(&lme()), complaint(|_| {})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Malformed bodies are DIGIT 400s too.
    let (status, body) = stack
        .call(CREATE, Some(&citizen()), json!({"RequestInfo": ri()}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "JsonMappingException", "{body}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_pgr_service_v2")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn update_rules_reopen_window_rating_and_ownership() {
    let stack = WorkflowStack::start(true).await;
    let srid = create(&stack, &citizen(), complaint(|_| {})).await;
    let service = fetch(&stack, &gro(), &srid).await;

    // Unknown id.
    let mut ghost = service.clone();
    ghost["id"] = json!("00000000-0000-0000-0000-000000000000");
    let (status, body) = update(
        &stack,
        &gro(),
        ghost,
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body),
        (
            "INVALID_UPDATE".into(),
            "The record that you are trying to update does not exists".into()
        )
    );

    // Another citizen can neither see nor change it.
    assert!(fetch(&stack, &other_citizen(), &srid).await.is_null());
    let (status, body) = update(
        &stack,
        &other_citizen(),
        service.clone(),
        json!({"action": "COMMENT"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).0, "INVALID_UPDATE");

    // Reject, then rating outside 1–5 is refused on RATE.
    let (status, _) = update(
        &stack,
        &gro(),
        service.clone(),
        json!({"action": "REJECT", "comments": "spam"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut rated = fetch(&stack, &citizen(), &srid).await;
    rated["rating"] = json!(7);
    let (status, body) = update(&stack, &citizen(), rated, json!({"action": "RATE"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body),
        (
            "INVALID_RATING".into(),
            "Rating must be between 1 and 5".into()
        )
    );

    // Reopen after the MDMS REOPENSLA window (72 h) is refused.
    sqlx::query("UPDATE eg_pgr_service_v2 SET lastmodifiedtime = lastmodifiedtime - 300000000 WHERE servicerequestid = $1")
        .bind(&srid)
        .execute(stack.db.pool())
        .await
        .unwrap();
    let (status, body) = update(
        &stack,
        &citizen(),
        fetch(&stack, &citizen(), &srid).await,
        json!({"action": "REOPEN"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body),
        ("INVALID_ACTION".into(), "Complaint is closed".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_validation_and_tenant_scoping() {
    let stack = WorkflowStack::start(true).await;
    let srid = create(&stack, &citizen(), complaint(|_| {})).await;
    let q = |who: UserInfo, query: &'static str| {
        let stack = &stack;
        async move {
            stack
                .call(
                    &format!("{SEARCH}?{query}"),
                    Some(&who),
                    json!({"RequestInfo": ri()}),
                )
                .await
        }
    };
    let (s, b) = q(gro(), "serviceRequestId=X").await;
    assert_eq!(
        (s, error(&b)),
        (
            StatusCode::BAD_REQUEST,
            (
                "INVALID_SEARCH".into(),
                "TenantId is mandatory search param".into()
            )
        )
    );
    let (s, b) = q(gro(), "").await;
    assert_eq!(
        (s, error(&b)),
        (
            StatusCode::BAD_REQUEST,
            (
                "INVALID_SEARCH".into(),
                "Search without params is not allowed".into()
            )
        )
    );
    let (s, b) = q(citizen(), "tenantId=pg.citya&serviceCode=NoWaterSupply").await;
    assert_eq!(
        (s, error(&b)),
        (
            StatusCode::BAD_REQUEST,
            (
                "INVALID SEARCH".into(),
                "Search on serviceCode is not allowed".into()
            )
        )
    );
    let (s, b) = q(gro(), "tenantId=pg.citya&toDate=5").await;
    assert_eq!(
        (s, error(&b)),
        (
            StatusCode::BAD_REQUEST,
            (
                "INVALID_SEARCH".into(),
                "Cannot specify to-Date without a from-Date".into()
            )
        )
    );
    let (s, b) = q(gro(), "tenantId=pg.citya&sortBy=nonsense").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["Errors"][0]["code"], "INVALID_SEARCH_CRITERIA");

    // The GRO sees it by several criteria; state-level search by a city employee sees nothing.
    for query in [
        "tenantId=pg.citya&applicationStatus=PENDINGFORASSIGNMENT",
        "tenantId=pg.citya&serviceCode=NoWaterSupply",
        "tenantId=pg.citya&mobileNumber=9999900001",
        "tenantId=pg.citya&locality=ALOC2",
    ] {
        let (s, b) = q(gro(), query).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            b["ServiceWrappers"][0]["service"]["serviceRequestId"],
            srid.as_str(),
            "{query}"
        );
    }
    // A city employee may not search at state level (its roles do not cover `pg`).
    let (s, _) = q(gro(), "tenantId=pg&applicationStatus=PENDINGFORASSIGNMENT").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The citizen (state-level role) searches at state level and sees only their own.
    let (s, b) = q(citizen(), "tenantId=pg").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ServiceWrappers"].as_array().unwrap().len(), 1);
    let (_, b) = q(other_citizen(), "tenantId=pg").await;
    assert_eq!(b["ServiceWrappers"], json!([]));
    // An employee of another city is refused by role-action/tenant authorization.
    let lme_b = user(
        users::LME_CITYB,
        UserType::Employee,
        &[("PGR_LME", "pg.cityb"), ("EMPLOYEE", "pg.cityb")],
    );
    let (s, _) = q(
        lme_b,
        "tenantId=pg.citya&applicationStatus=PENDINGFORASSIGNMENT",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // No token → 401.
    let (s, _) = stack
        .call(
            &format!("{SEARCH}?tenantId=pg.citya"),
            None,
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // _count (capital ResponseInfo) and _plainsearch (tenantIds required); plural paths too.
    let (s, b) = stack
        .call("/pgr-services/v2/requests/_count?tenantId=pg.citya&applicationStatus=PENDINGFORASSIGNMENT", Some(&gro()), json!({"RequestInfo": ri()}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["count"], 1);
    assert_eq!(b["ResponseInfo"]["status"], "successful");
    let superuser = superuser();
    let (s, b) = stack
        .call(
            "/pgr-services/v2/request/_plainsearch",
            Some(&superuser),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(
        (s, error(&b)),
        (
            StatusCode::BAD_REQUEST,
            (
                "TENANT_ID_LIST_EMPTY".into(),
                "Tenant ids not provided for searching.".into()
            )
        )
    );
    let (s, b) = stack
        .call(
            "/pgr-services/v2/request/_plainsearch?tenantIds=pg.citya,pg.cityb",
            Some(&superuser),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ServiceWrappers"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn employee_filing_creates_the_citizen_once() {
    let stack = WorkflowStack::start(true).await;
    let filed_for = |name: &str| {
        let name = name.to_owned();
        complaint(move |b| {
            b["service"]["citizen"] = json!({"name": name, "mobileNumber": "9123456780"})
        })
    };
    let first = create(&stack, &csr(), filed_for("Asha")).await;
    let second = create(&stack, &csr(), filed_for("asha")).await;
    let a = fetch(&stack, &gro(), &first).await;
    let b = fetch(&stack, &gro(), &second).await;
    assert_eq!(a["accountId"], b["accountId"]);
    assert_eq!(a["citizen"]["mobileNumber"], "9123456780");
    assert_eq!(a["citizen"]["type"], "CITIZEN");
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM eg_user WHERE mobilenumber = '9123456780'")
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(users, 1);
    // A different name updates the stored one (upstream's upsert), still one user.
    create(&stack, &csr(), filed_for("Asha Rao")).await;
    let name: String =
        sqlx::query_scalar("SELECT name FROM eg_user WHERE mobilenumber = '9123456780'")
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(name, "Asha Rao");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_updates_cannot_both_win() {
    let stack = WorkflowStack::start(true).await;
    let srid = create(&stack, &citizen(), complaint(|_| {})).await;
    let service = fetch(&stack, &gro(), &srid).await;
    let (g1, g2) = (gro(), gro());
    let a = update(
        &stack,
        &g1,
        service.clone(),
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
    );
    let b = update(&stack, &g2, service.clone(), json!({"action": "REJECT"}));
    let ((sa, ba), (sb, bb)) = tokio::join!(a, b);
    let winners = [sa, sb].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(winners, 1, "{ba} / {bb}");
    let loser = if sa == StatusCode::OK { bb } else { ba };
    let code = loser["Errors"][0]["code"].as_str().unwrap().to_owned();
    assert!(
        code == "WORKFLOW_CONCURRENT_TRANSITION" || code == "INVALID ACTION",
        "{loser}"
    );
    assert_eq!(stack.history_rows(&srid).await, 2);
    let status: String = sqlx::query_scalar(
        "SELECT applicationstatus FROM eg_pgr_service_v2 WHERE servicerequestid = $1",
    )
    .bind(&srid)
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert!(status == "PENDINGATLME" || status == "REJECTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auto_escalation_moves_the_complaint_status() {
    let stack = WorkflowStack::start(true).await;
    let srid = create(&stack, &citizen(), complaint(|_| {})).await;
    let service = fetch(&stack, &gro(), &srid).await;
    let (s, _) = update(
        &stack,
        &gro(),
        service,
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let five_days = 5 * 86_400_000_i64;
    sqlx::query("UPDATE eg_wf_processinstance_v2 SET lastmodifiedtime = lastmodifiedtime - $2, createdtime = createdtime - $2 WHERE businessid = $1")
        .bind(&srid)
        .bind(five_days)
        .execute(stack.db.pool())
        .await
        .unwrap();
    let (s, b) = stack
        .post(
            "/auto/PGR/_escalate",
            Some(&auto_escalation()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The persister applies pgr-auto-escalation to eg_pgr_service_v2 (upstream's mapping).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut status = String::new();
    while std::time::Instant::now() < deadline {
        status = sqlx::query_scalar(
            "SELECT applicationstatus FROM eg_pgr_service_v2 WHERE servicerequestid = $1",
        )
        .bind(&srid)
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
        if status == "PENDINGATSUPERVISOR" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "PENDINGATSUPERVISOR");
}
