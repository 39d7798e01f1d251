//! SOR & rates integrity on the real stack (broker, persister, Postgres): tenants are never
//! crossed, a request is stored whole or not at all, racing writers never lose each other's
//! changes, and the v1 contract's own rate shape is accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_core::{UserInfo, UserType};
use digit_e2e::*;
use serde_json::{json, Value};
use std::sync::Arc;

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00+05:30.
const D0: i64 = 1_767_205_800_000;

fn ri() -> Value {
    json!({"apiId": "works", "ts": 5})
}

/// An SOR administrator whose roles are all scoped to City B.
fn city_b_admin() -> UserInfo {
    user(
        "44444444-4444-4444-8444-0000000000b1",
        UserType::Employee,
        &[("STATE_MUKTA_ADMIN", "pg.cityb"), ("EMPLOYEE", "pg.cityb")],
    )
}

fn basic(tenant: &str, description: &str) -> Value {
    json!({"tenantId": tenant, "sorType": "M", "uom": "BAG", "uomValue": 1, "description": description})
}

fn works(tenant: &str, description: &str) -> Value {
    json!({"tenantId": tenant, "sorType": "W", "sorSubType": "EW", "sorVariant": "FN",
        "uom": "CUM", "uomValue": 10, "description": description})
}

fn rate(tenant: &str, sor_id: &str, valid_from: i64, amount: i64) -> Value {
    json!({"tenantId": tenant, "sorId": sor_id, "validFrom": valid_from,
        "amountDetail": [{"heads": "MA.2", "amount": amount}]})
}

fn composition(tenant: &str, works_id: &str, basic_id: &str) -> Value {
    json!({"tenantId": tenant, "sorId": works_id, "quantity": 1, "effectiveFrom": D0,
        "basicSorDetails": [{"sorId": basic_id, "quantity": 2}]})
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn code(body: &Value) -> String {
    body["Errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn write(stack: &SorStack, path: &str, key: &str, items: Vec<Value>) -> (StatusCode, Value) {
    stack
        .post(path, &sor_admin(), json!({"requestInfo": ri(), key: items}))
        .await
}

async fn create(stack: &SorStack, path: &str, key: &str, item: Value) -> Value {
    let (status, body) = write(stack, path, key, vec![item]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body[key][0].clone()
}

/// Every row of the SOR tables, as text: what "unchanged" is compared on.
async fn snapshot(stack: &SorStack) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "eg_sor",
        "eg_sor_rate",
        "eg_sor_rate_amount",
        "eg_sor_composition",
    ] {
        let rows: String = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]')::text FROM {table} t"
        ))
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
        out.push(rows);
    }
    out
}

async fn count(stack: &SorStack, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(stack.db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_write_endpoint_crosses_tenants() {
    let stack = SorStack::start().await;
    // The state's records and City A's, written by the state administrator.
    let state_basic = create(
        &stack,
        "/sor/v1/_create",
        "sors",
        basic("pg", "Cement state"),
    )
    .await;
    let state_works = create(
        &stack,
        "/sor/v1/_create",
        "sors",
        works("pg", "Earth work state"),
    )
    .await;
    let city_a_basic = create(
        &stack,
        "/sor/v1/_create",
        "sors",
        basic("pg.citya", "Cement city A"),
    )
    .await;
    let state_rate = create(
        &stack,
        "/sor/rate/v1/_create",
        "rateDetails",
        rate("pg", &id(&state_basic), D0, 100),
    )
    .await;
    let city_a_rate = create(
        &stack,
        "/sor/rate/v1/_create",
        "rateDetails",
        rate("pg.citya", &id(&city_a_basic), D0, 90),
    )
    .await;
    create(
        &stack,
        "/sor/composition/v1/_create",
        "compositions",
        composition("pg", &id(&state_works), &id(&state_basic)),
    )
    .await;
    let before = snapshot(&stack).await;

    let smuggle = |mut item: Value| {
        // A second tenantId the gate sees (it grants the role held at *any* of them).
        item["additionalDetails"] = json!({"tenantId": "pg.cityb"});
        item
    };
    let without_tenant = |mut item: Value| {
        item.as_object_mut().unwrap().remove("tenantId");
        item
    };
    let sor_edit = |tenant: &str, sor: &Value| json!({"tenantId": tenant, "id": id(sor), "description": "Hijacked by City B"});
    let rate_edit = |tenant: &str, r: &Value| json!({"tenantId": tenant, "id": id(r), "amountDetail": [{"heads": "MA.2", "amount": 1}]});
    let own_basic = basic("pg.cityb", "Cement city B");

    // (path, items key, items, expected status, expected code)
    let attempts: Vec<(&str, &str, Vec<Value>, StatusCode, &str)> = vec![
        // sor/v1/_create
        (
            "/sor/v1/_create",
            "sors",
            vec![without_tenant(basic("pg", "No tenant"))],
            StatusCode::BAD_REQUEST,
            "INVALID_TENANT",
        ),
        (
            "/sor/v1/_create",
            "sors",
            vec![basic("pg", "State by City B")],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/v1/_create",
            "sors",
            vec![smuggle(basic("pg", "Smuggled"))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/v1/_create",
            "sors",
            vec![own_basic.clone(), basic("pg", "Mixed")],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        // sor/v1/_update
        (
            "/sor/v1/_update",
            "sors",
            vec![without_tenant(sor_edit("pg", &state_basic))],
            StatusCode::BAD_REQUEST,
            "INVALID_TENANT",
        ),
        (
            "/sor/v1/_update",
            "sors",
            vec![sor_edit("pg", &state_basic)],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/v1/_update",
            "sors",
            vec![sor_edit("pg.cityb", &state_basic)],
            StatusCode::BAD_REQUEST,
            "SOR_NOT_FOUND",
        ),
        (
            "/sor/v1/_update",
            "sors",
            vec![smuggle(sor_edit("pg", &state_basic))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/v1/_update",
            "sors",
            vec![sor_edit("pg.cityb", &city_a_basic)],
            StatusCode::BAD_REQUEST,
            "SOR_NOT_FOUND",
        ),
        (
            "/sor/v1/_update",
            "sors",
            vec![sor_edit("pg.citya", &city_a_basic)],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        // sor/rate/v1/_create
        (
            "/sor/rate/v1/_create",
            "rateDetails",
            vec![without_tenant(rate("pg", &id(&state_basic), D0 + DAY, 5))],
            StatusCode::BAD_REQUEST,
            "INVALID_TENANT",
        ),
        (
            "/sor/rate/v1/_create",
            "rateDetails",
            vec![rate("pg", &id(&state_basic), D0 + DAY, 5)],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/rate/v1/_create",
            "rateDetails",
            vec![smuggle(rate("pg", &id(&state_basic), D0 + DAY, 5))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/rate/v1/_create",
            "rateDetails",
            vec![rate("pg.cityb", &id(&city_a_basic), D0 + DAY, 5)],
            StatusCode::BAD_REQUEST,
            "SOR_NOT_FOUND",
        ),
        // sor/rate/v1/_update
        (
            "/sor/rate/v1/_update",
            "rateDetails",
            vec![without_tenant(rate_edit("pg", &state_rate))],
            StatusCode::BAD_REQUEST,
            "INVALID_TENANT",
        ),
        (
            "/sor/rate/v1/_update",
            "rateDetails",
            vec![rate_edit("pg", &state_rate)],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/rate/v1/_update",
            "rateDetails",
            vec![rate_edit("pg.cityb", &state_rate)],
            StatusCode::BAD_REQUEST,
            "RATE_NOT_FOUND",
        ),
        (
            "/sor/rate/v1/_update",
            "rateDetails",
            vec![smuggle(rate_edit("pg", &state_rate))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/rate/v1/_update",
            "rateDetails",
            vec![rate_edit("pg.cityb", &city_a_rate)],
            StatusCode::BAD_REQUEST,
            "RATE_NOT_FOUND",
        ),
        // sor/composition/v1/_create
        (
            "/sor/composition/v1/_create",
            "compositions",
            vec![without_tenant(composition(
                "pg",
                &id(&state_works),
                &id(&state_basic),
            ))],
            StatusCode::BAD_REQUEST,
            "INVALID_TENANT",
        ),
        (
            "/sor/composition/v1/_create",
            "compositions",
            vec![composition("pg", &id(&state_works), &id(&state_basic))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
        (
            "/sor/composition/v1/_create",
            "compositions",
            vec![composition(
                "pg.cityb",
                &id(&state_works),
                &id(&state_basic),
            )],
            StatusCode::BAD_REQUEST,
            "SOR_NOT_FOUND",
        ),
        (
            "/sor/composition/v1/_create",
            "compositions",
            vec![smuggle(composition(
                "pg",
                &id(&state_works),
                &id(&state_basic),
            ))],
            StatusCode::FORBIDDEN,
            "CustomException",
        ),
    ];
    for (path, key, items, status, expected) in attempts {
        let body = json!({"requestInfo": ri(), key: items});
        let (got, answer) = stack.post(path, &city_b_admin(), body.clone()).await;
        assert_eq!(
            (got, code(&answer).as_str()),
            (status, expected),
            "{path} {body}: {answer}"
        );
    }
    // sor/rate-analysis/v1/_create: for the state, also with City B smuggled in beside it.
    let tomorrow = digit_core::time::now_ms() + DAY;
    for extra in [json!(null), json!({"tenantId": "pg.cityb"})] {
        let body = json!({"RequestInfo": ri(), "extra": extra,
            "sorDetails": {"tenantId": "pg", "sorIds": [id(&state_works)], "effectiveFrom": tomorrow}});
        let (got, answer) = stack
            .post("/sor/rate-analysis/v1/_create", &city_b_admin(), body)
            .await;
        assert_eq!(
            (got, code(&answer).as_str()),
            (StatusCode::FORBIDDEN, "CustomException"),
            "{answer}"
        );
    }
    assert_eq!(
        snapshot(&stack).await,
        before,
        "the other tenants' rows are unchanged"
    );

    // City B's own records remain City B's business.
    let (status, body) = stack
        .post(
            "/sor/v1/_create",
            &city_b_admin(),
            json!({"requestInfo": ri(), "sors": [own_basic]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["sors"][0]["tenantId"], "pg.cityb");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_is_stored_whole_or_not_at_all() {
    let stack = SorStack::start().await;
    // Three new SORs, the third invalid: none is stored.
    let mut bad = basic("pg", "Third");
    bad["uom"] = json!("GALLON");
    let (status, body) = write(
        &stack,
        "/sor/v1/_create",
        "sors",
        vec![basic("pg", "First"), basic("pg", "Second"), bad],
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_UOM"),
        "{body}"
    );
    assert_eq!(count(&stack, "eg_sor").await, 0);
    // Two items of one request with the same natural key: the second is a duplicate.
    let (_, body) = write(
        &stack,
        "/sor/v1/_create",
        "sors",
        vec![basic("pg", "Twin"), basic("pg", "twin")],
    )
    .await;
    assert_eq!(code(&body), "DUPLICATE_SOR");
    assert_eq!(count(&stack, "eg_sor").await, 0);

    let (status, body) = write(
        &stack,
        "/sor/v1/_create",
        "sors",
        vec![
            basic("pg", "First"),
            basic("pg", "Second"),
            works("pg", "Works"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sors = body["sors"].as_array().unwrap().clone();
    assert_eq!(count(&stack, "eg_sor").await, 3);
    let (first, second, works_sor) = (id(&sors[0]), id(&sors[1]), id(&sors[2]));

    // Three rates, the third for a works SOR: none is stored.
    let (status, body) = write(
        &stack,
        "/sor/rate/v1/_create",
        "rateDetails",
        vec![
            rate("pg", &first, D0, 10),
            rate("pg", &second, D0, 20),
            rate("pg", &works_sor, D0, 30),
        ],
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "WORKS_SOR_RATE_NOT_ALLOWED"),
        "{body}"
    );
    assert_eq!(count(&stack, "eg_sor_rate").await, 0);
    assert_eq!(count(&stack, "eg_sor_rate_amount").await, 0);

    // Rates of one SOR in one request chain as if sent one by one.
    let (status, body) = write(
        &stack,
        "/sor/rate/v1/_create",
        "rateDetails",
        vec![
            rate("pg", &first, D0, 10),
            rate("pg", &first, D0 + 5 * DAY, 11),
            rate("pg", &second, D0, 20),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let rates = body["rateDetails"].as_array().unwrap().clone();
    assert_eq!(rates[0]["validTo"], D0 + 5 * DAY);
    assert!(rates[1]["validTo"].is_null());
    assert_eq!(count(&stack, "eg_sor_rate").await, 3);

    // Three SOR updates, the third refused: no description changes.
    let before = snapshot(&stack).await;
    let edit = |sor: &Value, d: &str| json!({"tenantId": "pg", "id": id(sor), "description": d});
    let mut renumber = edit(&sors[2], "Works renamed");
    renumber["sorNumber"] = json!("LD-99999");
    let (status, body) = write(
        &stack,
        "/sor/v1/_update",
        "sors",
        vec![
            edit(&sors[0], "First renamed"),
            edit(&sors[1], "Second renamed"),
            renumber,
        ],
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "SOR_FIELD_IMMUTABLE"),
        "{body}"
    );
    // Three rate updates, the third changes nothing: no amounts change.
    let amounts = |r: &Value, a: i64| json!({"tenantId": "pg", "id": id(r), "amountDetail": [{"heads": "MA.2", "amount": a}]});
    let (status, body) = write(
        &stack,
        "/sor/rate/v1/_update",
        "rateDetails",
        vec![
            amounts(&rates[0], 12),
            amounts(&rates[1], 13),
            amounts(&rates[2], 20),
        ],
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "RATE_UNCHANGED"),
        "{body}"
    );
    // Three compositions, the third using a works SOR as a basic one: none is stored.
    let (status, body) = write(
        &stack,
        "/sor/composition/v1/_create",
        "compositions",
        vec![
            composition("pg", &works_sor, &first),
            composition("pg", &works_sor, &second),
            composition("pg", &works_sor, &works_sor),
        ],
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_COMPOSITION"),
        "{body}"
    );
    assert_eq!(
        snapshot(&stack).await,
        before,
        "nothing of the refused requests is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_sor_updates_keep_every_change() {
    let stack = Arc::new(SorStack::start().await);
    const N: usize = 6;
    let items: Vec<Value> = (0..N)
        .map(|i| basic("pg", &format!("Racing {i}")))
        .collect();
    let (status, body) = write(&stack, "/sor/v1/_create", "sors", items).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sors = body["sors"].as_array().unwrap().clone();
    // Per SOR, two updates from the same prior state: one edits the description, the other
    // the additional details. Without the lock each publishes the whole row as it read it,
    // so whichever the persister applies second erases the other's change.
    let barrier = Arc::new(tokio::sync::Barrier::new(2 * N));
    let mut tasks = Vec::new();
    for (i, sor) in sors.iter().enumerate() {
        for item in [
            json!({"tenantId": "pg", "id": id(sor), "description": format!("Edited {i}")}),
            json!({"tenantId": "pg", "id": id(sor), "additionalDetails": {"n": i}}),
        ] {
            let (stack, barrier) = (stack.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                write(&stack, "/sor/v1/_update", "sors", vec![item]).await
            }));
        }
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    for (i, sor) in sors.iter().enumerate() {
        let (description, details): (String, Option<Value>) =
            sqlx::query_as("SELECT description, additionaldetails FROM eg_sor WHERE id = $1")
                .bind(id(sor))
                .fetch_one(stack.db.pool())
                .await
                .unwrap();
        assert_eq!(
            (description.as_str(), details),
            (format!("Edited {i}").as_str(), Some(json!({"n": i}))),
            "both updates of SOR {i} took effect"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deactivation_racing_a_composition_never_leaves_it_on_an_inactive_sor() {
    let stack = Arc::new(SorStack::start().await);
    const N: usize = 8;
    let mut items: Vec<Value> = (0..N).map(|i| basic("pg", &format!("Basic {i}"))).collect();
    items.extend((0..N).map(|i| works("pg", &format!("Works {i}"))));
    let (status, body) = write(&stack, "/sor/v1/_create", "sors", items).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sors = body["sors"].as_array().unwrap().clone();
    let barrier = Arc::new(tokio::sync::Barrier::new(2 * N));
    let mut tasks = Vec::new();
    for i in 0..N {
        let (basic_id, works_id) = (id(&sors[i]), id(&sors[N + i]));
        let requests = [
            (
                "/sor/v1/_update",
                "sors",
                json!({"tenantId": "pg", "id": basic_id, "isActive": false}),
            ),
            (
                "/sor/composition/v1/_create",
                "compositions",
                composition("pg", &works_id, &basic_id),
            ),
        ];
        for (path, key, item) in requests {
            let (stack, barrier) = (stack.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                write(&stack, path, key, vec![item]).await
            }));
        }
    }
    let mut refused = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::ACCEPTED => {}
            StatusCode::BAD_REQUEST => refused.push(code(&body)),
            other => panic!("{other}: {body}"),
        }
    }
    // One of each pair lost: the deactivation (SOR_IN_USE) or the composition (its basic SOR
    // is no longer active).
    assert_eq!(refused.len(), N, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|c| c == "SOR_IN_USE" || c == "INVALID_COMPOSITION"),
        "{refused:?}"
    );
    let broken: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eg_sor_composition c JOIN eg_sor s
           ON c.basicsordetails @> jsonb_build_array(jsonb_build_object('sorId', s.id))
         WHERE c.isactive AND NOT s.isactive",
    )
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(broken, 0, "no active composition uses an inactive SOR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v1_contract_rate_shape_is_accepted() {
    let stack = SorStack::start().await;
    let sor = create(&stack, "/sor/v1/_create", "sors", basic("pg", "Cement v1")).await;
    // The SOR/Rates v1 contract's RateDetails (upstream-ifms-sor B1.1): AmountDetail is
    // {type, amount, additionalDetails}, `type` naming the charge; there is no `heads`.
    let body = json!({
        "requestInfo": ri(),
        "rateDetails": [{
            "tenantId": "pg",
            "sorId": id(&sor),
            "validFrom": D0,
            "amountDetail": [
                {"type": "Labour", "amount": 120.50, "additionalDetails": {"remarks": "wages"}},
                {"type": "MA", "amount": 300, "additionalDetails": {}},
                {"type": "CA.9", "amount": 0.25}
            ],
            "isActive": true,
            "additionalDetails": {}
        }]
    });
    let (status, answer) = stack.post("/sor/rate/v1/_create", &sor_admin(), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["rateDetails"][0]["rate"].to_string(), "420.75");
    let (status, found) = stack
        .post("/sor/rate/v1/_search", &sor_admin(), json!({"requestInfo": ri(),
            "criteria": {"tenantId": "pg", "sorIds": [id(&sor)], "headCodeIds": ["LA.1"]}, "pagination": {}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let amounts: Vec<(String, String, String)> = found["rateDetails"][0]["amountDetail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_owned(),
                a["heads"].as_str().unwrap().to_owned(),
                a["amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [
            ("CA.9".to_owned(), "CA.9".to_owned(), "0.25".to_owned()),
            ("Labour".to_owned(), "LA.1".to_owned(), "120.50".to_owned()),
            ("MA".to_owned(), "MA.2".to_owned(), "300.00".to_owned()),
        ]
    );
    // A charge no overhead answers to is refused, saying so.
    let (status, answer) = stack
        .post(
            "/sor/rate/v1/_create",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [{
            "tenantId": "pg", "sorId": id(&sor), "validFrom": D0 + DAY,
            "amountDetail": [{"type": "Gst", "amount": 18}]}]}),
        )
        .await;
    assert_eq!(
        (status, code(&answer).as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_HEAD")
    );
    assert!(
        answer["Errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"Gst\""),
        "{answer}"
    );
}
