//! Chart of accounts on the real stack (program binary's routes, broker, persister,
//! Postgres): every rule and error code, read-your-writes, per-tenant uniqueness, 20 racing
//! creates of one code, the gate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::masters::*;
use serde_json::{json, Value};

const CREATE: &str = "/ifix-master-data/chartOfAccount/v1/_create";
const SEARCH: &str = "/ifix-master-data/chartOfAccount/v1/_search";

fn coa(tenant: &str, major: &str) -> Value {
    json!({
        "tenantId": tenant, "majorHead": major, "majorHeadName": "Water Supply", "majorHeadType": "Revenue",
        "subMajorHead": "01", "subMajorHeadName": "Water", "minorHead": "102", "minorHeadName": "Rural",
        "subHead": "00", "subHeadName": "Rural WS", "groupHead": "00", "groupHeadName": "Group",
        "objectHead": "01", "objectHeadName": "Water Charges"
    })
}

async fn create(stack: &MastersStack, c: Value) -> (StatusCode, Value) {
    stack
        .admin(
            CREATE,
            &json!({"requestHeader": header(), "chartOfAccount": c}),
        )
        .await
}

async fn search(stack: &MastersStack, criteria: Value) -> (StatusCode, Value) {
    stack
        .admin(
            SEARCH,
            &json!({"requestHeader": header(), "criteria": criteria}),
        )
        .await
}

#[tokio::test]
async fn create_answers_202_and_a_search_at_once_finds_it() {
    let stack = MastersStack::start(&[]).await;
    let (status, body) = create(&stack, coa("pg", "0215")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let created = &body["chartOfAccounts"][0];
    assert_eq!(created["coaCode"], "0215-01-102-00-00-01");
    assert_eq!(body["responseHeader"]["status"], "successful");
    assert_eq!(body["responseHeader"]["msgId"], "Unknown");
    assert_eq!(body["responseHeader"]["ts"], 1627193067);
    // The header's userInfo is not trusted: the audit names the token's user.
    assert_eq!(
        created["auditDetails"]["createdBy"],
        master_admin().uuid.unwrap()
    );
    let (status, found) = search(
        &stack,
        json!({"tenantId": "pg", "coaCodes": ["0215-01-102-00-00-01"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["chartOfAccounts"].as_array().unwrap().len(), 1);
    assert_eq!(found["chartOfAccounts"][0]["id"], created["id"]);
    assert_eq!(found["chartOfAccounts"][0]["majorHeadType"], "Revenue");
    let stored: String = sqlx::query_scalar("SELECT createdby FROM eg_ifix_chartofaccount")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, master_admin().uuid.unwrap());
}

#[tokio::test]
async fn a_code_is_unique_per_tenant() {
    let stack = MastersStack::start(&[]).await;
    assert_eq!(
        create(&stack, coa("pg", "0215")).await.0,
        StatusCode::ACCEPTED
    );
    let (status, body) = create(&stack, coa("pg", "0215")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["DUPLICATE_COA_CODE"]);
    // Upstream's constraint is global; ours is per tenant.
    assert_eq!(
        create(&stack, coa("pb", "0215")).await.0,
        StatusCode::ACCEPTED
    );
    let (_, pb) = search(&stack, json!({"tenantId": "pb"})).await;
    assert_eq!(pb["chartOfAccounts"].as_array().unwrap().len(), 1);
    assert_eq!(pb["chartOfAccounts"][0]["tenantId"], "pb");
}

#[tokio::test]
async fn twenty_racing_creates_of_one_code_store_one_row() {
    let stack = std::sync::Arc::new(MastersStack::start(&[]).await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let stack = stack.clone();
        tasks.push(tokio::spawn(async move {
            create(&stack, coa("pg", "8243")).await
        }));
    }
    let mut accepted = 0;
    let mut duplicates = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::BAD_REQUEST if error_codes(&body) == ["DUPLICATE_COA_CODE"] => {
                duplicates += 1
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((accepted, duplicates), (1, 19));
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eg_ifix_chartofaccount WHERE coacode = '8243-01-102-00-00-01'",
    )
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn every_rule_answers_its_code() {
    let stack = MastersStack::start(&[]).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"chartOfAccount": coa("pg", "0215")}),
            vec!["REQUEST_HEADER"],
        ),
        (json!({"requestHeader": header()}), vec!["INVALID_REQUEST"]),
        (
            json!({"requestHeader": header(), "chartOfAccount": coa("pg.nowhere", "0215")}),
            vec!["TENANT_ID"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "majorHead": "0215"}}),
            vec!["GROUP_HEAD"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "groupHead": "00", "majorHead": "0215"}}),
            vec!["MINOR_HEAD"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "groupHead": "00"}}),
            vec!["MAJOR_HEAD"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "groupHead": "00", "majorHead": "0215", "minorHead": "102"}}),
            vec!["SUB_HEAD"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "groupHead": "00", "majorHead": "0215", "minorHead": "102", "subHead": "00"}}),
            vec!["OBJECT_HEAD"],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "groupHead": "00", "majorHead": "0215", "minorHead": "102", "subHead": "00", "objectHead": "01"}}),
            vec!["SUB_MAJOR_HEAD"],
        ),
        (
            // Upstream's own Postman request: a 3-digit major head and a 2-digit minor head.
            json!({"requestHeader": header(), "chartOfAccount": {"tenantId": "pg", "majorHead": "824", "majorHeadtype": "t",
                   "subMajorHead": "123", "minorHead": "37", "subHead": "5", "groupHead": "789", "objectHead": "9",
                   "majorHeadName": "m", "subMajorHeadName": "s", "minorHeadName": "n", "subHeadName": "s", "groupHeadName": "g", "objectHeadName": "o"}}),
            vec![
                "GROUP_HEAD_CODE_LENGTH",
                "MAJOR_HEAD_CODE_LENGTH",
                "MINOR_HEAD_CODE_LENGTH",
                "SUB_HEAD_CODE_LENGTH",
                "OBJECT_HEAD_CODE_LENGTH",
                "SUB_MAJOR_HEAD_CODE_LENGTH",
                "MAJOR_HEAD_NAME",
                "SUB_MAJOR_HEAD_NAME",
                "MINOR_HEAD_NAME",
                "SUB_HEAD_NAME",
                "GROUP_HEAD_NAME",
                "OBJECT_HEAD_NAME",
                "MAJOR_HEAD_TYPE",
            ],
        ),
        (
            json!({"requestHeader": header(), "chartOfAccount": {"majorHead": 5}}),
            vec!["JsonMappingException"],
        ),
    ];
    for (body, codes) in cases {
        let (status, answer) = stack.admin(CREATE, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(error_codes(&answer), codes, "{body}");
        assert!(
            answer["ResponseInfo"].is_null() && answer["Errors"][0]["message"].is_string(),
            "{answer}"
        );
    }
    let searches: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"criteria": {"tenantId": "pg"}}),
            vec!["REQUEST_HEADER"],
        ),
        (
            json!({"requestHeader": header()}),
            vec!["INVALID_SEARCH_CRITERIA"],
        ),
        (
            json!({"requestHeader": header(), "criteria": {}}),
            vec!["TENANT_ID"],
        ),
        (
            json!({"requestHeader": header(), "criteria": {"tenantId": format!("pg.{}", "x".repeat(62)), "minorHead": "1", "coaCodes": ["x".repeat(65)]}}),
            vec![
                "TENANT_ID_LENGTH",
                "MINOR_HEAD_CODE_LENGTH",
                "COA_CODE_LENGTH",
            ],
        ),
    ];
    for (body, codes) in searches {
        let (status, answer) = stack.admin(SEARCH, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(error_codes(&answer), codes, "{body}");
    }
}

#[tokio::test]
async fn search_filters_and_the_gate() {
    let stack = MastersStack::start(&[]).await;
    let (_, a) = create(&stack, coa("pg", "0215")).await;
    let mut other = coa("pg", "0216");
    other["subHead"] = json!("56");
    let (_, b) = create(&stack, other).await;
    let ids = |v: &Value| -> Vec<Value> {
        v["chartOfAccounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect()
    };
    let (_, all) = search(&stack, json!({"tenantId": "pg"})).await;
    assert_eq!(
        ids(&all),
        [
            a["chartOfAccounts"][0]["id"].clone(),
            b["chartOfAccounts"][0]["id"].clone()
        ]
    );
    let (_, by_head) = search(&stack, json!({"tenantId": "pg", "subHead": "56"})).await;
    assert_eq!(ids(&by_head), [b["chartOfAccounts"][0]["id"].clone()]);
    let (_, by_ids) = search(
        &stack,
        json!({"tenantId": "pg", "Ids": [a["chartOfAccounts"][0]["id"]], "majorHead": "0215"}),
    )
    .await;
    assert_eq!(ids(&by_ids), [a["chartOfAccounts"][0]["id"].clone()]);
    let (_, none) = search(
        &stack,
        json!({"tenantId": "pg", "Ids": [a["chartOfAccounts"][0]["id"]], "majorHead": "0216"}),
    )
    .await;
    assert_eq!(none["chartOfAccounts"], json!([]));
    // The gate: no token → 401; a viewer may search but not create.
    let body = json!({"requestHeader": header(), "chartOfAccount": coa("pg", "0300")});
    assert_eq!(
        stack.post(CREATE, None, &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stack.post(CREATE, Some(&master_viewer()), &body).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = stack
        .post(
            SEARCH,
            Some(&master_viewer()),
            &json!({"requestHeader": header(), "criteria": {"tenantId": "pg"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A role at pg does not reach pb.
    let (status, _) = stack
        .post(
            SEARCH,
            Some(&master_viewer()),
            &json!({"requestHeader": header(), "criteria": {"tenantId": "pb"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
