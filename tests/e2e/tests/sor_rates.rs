//! SOR & rates on the real stack (broker, persister, Postgres): SOR rules, rate validity,
//! closing of predecessors, boundary lookups, exact money, and 50 racing rate creations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00+05:30.
const D0: i64 = 1_767_205_800_000;

fn ri() -> Value {
    json!({"apiId": "works", "ts": 5})
}

fn material(description: &str) -> Value {
    json!({"tenantId": "pg", "sorType": "M", "uom": "BAG", "uomValue": 1, "description": description})
}

async fn create_sor(stack: &SorStack, sor: Value) -> Value {
    let (status, body) = stack
        .post(
            "/sor/v1/_create",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [sor]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["sors"][0].clone()
}

fn rate(sor_id: &str, valid_from: i64, amounts: &[(&str, &str)]) -> Value {
    let amounts: Vec<Value> = amounts
        .iter()
        .map(|(h, a)| json!({"heads": h, "amount": serde_json::from_str::<Value>(a).unwrap()}))
        .collect();
    json!({"tenantId": "pg", "sorId": sor_id, "validFrom": valid_from, "amountDetail": amounts})
}

async fn create_rate(stack: &SorStack, r: Value) -> (StatusCode, Value) {
    stack
        .post(
            "/sor/rate/v1/_create",
            &sor_admin(),
            json!({"RequestInfo": ri(), "rateDetails": [r]}),
        )
        .await
}

async fn rates_of(stack: &SorStack, sor_id: &str, extra: Value) -> Vec<Value> {
    let mut criteria = json!({"tenantId": "pg", "sorIds": [sor_id]});
    for (k, v) in extra.as_object().unwrap() {
        criteria[k] = v.clone();
    }
    let (status, body) = stack
        .post("/sor/rate/v1/_search", &sor_admin(), json!({"requestInfo": ri(), "criteria": criteria, "pagination": {"limit": 100, "sortBy": "validFrom", "order": "ASC"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["rateDetails"].as_array().unwrap().clone()
}

fn error(body: &Value) -> (String, String) {
    (
        body["Errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .into(),
        body["Errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sor_rules() {
    let stack = SorStack::start().await;
    let cement = create_sor(&stack, material("Cement OPC 53 grade")).await;
    assert_eq!(cement["sorNumber"], "LD-00001");
    assert_eq!(cement["sorSubType"], "NA");
    assert_eq!(cement["isActive"], true);
    let sand = create_sor(&stack, material("River sand")).await;
    assert_eq!(sand["sorNumber"], "LD-00002");
    let works = create_sor(&stack, json!({"tenantId": "pg", "sorType": "W", "sorSubType": "EW", "sorVariant": "FN", "uom": "CUM", "uomValue": 10, "description": "Earth work in excavation"})).await;
    assert!(
        works["sorNumber"].as_str().unwrap().starts_with("EW-"),
        "{works}"
    );

    let cases: Vec<(Value, &str)> = vec![
        (material("cement opc 53 GRADE"), "DUPLICATE_SOR"),
        (
            json!({"tenantId": "pg", "sorType": "X", "uom": "BAG", "uomValue": 1, "description": "retired"}),
            "INVALID_SOR_TYPE",
        ),
        (
            json!({"tenantId": "pg", "sorType": "W", "sorSubType": "CEM", "sorVariant": "FN", "uom": "BAG", "uomValue": 1, "description": "wrong subtype"}),
            "INVALID_SOR_SUBTYPE",
        ),
        (
            json!({"tenantId": "pg", "sorType": "W", "sorSubType": "EW", "sorVariant": "ZZ", "uom": "BAG", "uomValue": 1, "description": "bad variant"}),
            "INVALID_SOR_VARIANT",
        ),
        (
            json!({"tenantId": "pg", "sorType": "M", "uom": "GALLON", "uomValue": 1, "description": "bad unit"}),
            "INVALID_UOM",
        ),
        (
            json!({"tenantId": "pg", "sorType": "M", "uom": "BAG", "uomValue": 0, "description": "zero"}),
            "INVALID_UOM_VALUE",
        ),
        (
            json!({"tenantId": "pg", "sorType": "M", "uom": "BAG", "uomValue": 1, "description": "x"}),
            "INVALID_DESCRIPTION",
        ),
        (
            json!({"tenantId": "pg", "sorType": "M", "uom": "BAG", "uomValue": 1, "description": "mine", "sorNumber": "LD-99"}),
            "SOR_NUMBER_NOT_ALLOWED",
        ),
    ];
    for (sor, code) in cases {
        let (status, body) = stack
            .post(
                "/sor/v1/_create",
                &sor_admin(),
                json!({"RequestInfo": ri(), "sors": [sor]}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {body}");
        assert_eq!(error(&body).0, code, "{body}");
    }
    let (_, body) = stack
        .post(
            "/sor/v1/_create",
            &sor_admin(),
            json!({"RequestInfo": ri(), "sors": [material("cement opc 53 GRADE")]}),
        )
        .await;
    assert_eq!(error(&body).1, "This SOR already exists");

    // Search: by type, paged, with totalCount; sortBy is whitelisted.
    let (status, body) = stack
        .post("/sor/v1/_search", &sor_admin(), json!({"requestInfo": ri(), "criteria": {"tenantId": "pg", "sorType": "M"}, "pagination": {"limit": 1, "offSet": 0, "sortBy": "sorNumber", "order": "ASC"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["responseInfo"]["status"], "successful");
    assert_eq!(body["pagination"]["totalCount"], 2);
    assert_eq!(body["sors"][0]["sorNumber"], "LD-00001");
    let (status, body) = stack
        .post("/sor/v1/_search", &sor_admin(), json!({"requestInfo": ri(), "criteria": {"tenantId": "pg"}, "pagination": {"sortBy": "id; drop table eg_sor"}}))
        .await;
    assert_eq!(
        (status, error(&body).0),
        (StatusCode::BAD_REQUEST, "INVALID_SEARCH".to_owned())
    );
    let (_, body) = stack
        .post(
            "/sor/v1/_search",
            &sor_admin(),
            json!({"requestInfo": ri(), "criteria": {}, "pagination": {}}),
        )
        .await;
    assert_eq!(error(&body).1, "criteria.tenantId is required");

    // Update: only description, status, additional details.
    let mut edit = cement.clone();
    edit["description"] = json!("Cement OPC 53 grade (50 kg bag)");
    let (status, body) = stack
        .post(
            "/sor/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [edit]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body["sors"][0]["description"],
        "Cement OPC 53 grade (50 kg bag)"
    );
    let mut renumber = cement.clone();
    renumber["sorNumber"] = json!("LD-12345");
    let (_, body) = stack
        .post(
            "/sor/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [renumber]}),
        )
        .await;
    assert_eq!(
        error(&body),
        (
            "SOR_FIELD_IMMUTABLE".into(),
            "sorNumber cannot be changed".into()
        )
    );
    let (_, body) = stack
        .post(
            "/sor/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [{"tenantId": "pg", "id": "nope"}]}),
        )
        .await;
    assert_eq!(error(&body).0, "SOR_NOT_FOUND");

    // Works SORs get rates from rate analysis only.
    let (status, body) = create_rate(
        &stack,
        rate(works["id"].as_str().unwrap(), D0, &[("LA.1", "10")]),
    )
    .await;
    assert_eq!(
        (status, error(&body).0),
        (
            StatusCode::BAD_REQUEST,
            "WORKS_SOR_RATE_NOT_ALLOWED".to_owned()
        )
    );
    // A deactivated SOR takes no rates.
    let mut off = sand.clone();
    off["isActive"] = json!(false);
    stack
        .post(
            "/sor/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [off]}),
        )
        .await;
    let (_, body) = create_rate(
        &stack,
        rate(sand["id"].as_str().unwrap(), D0, &[("MA.2", "10")]),
    )
    .await;
    assert_eq!(error(&body).0, "SOR_INACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_validity_closing_and_lookup() {
    let stack = SorStack::start().await;
    let sor = create_sor(&stack, material("Cement PPC")).await;
    let id = sor["id"].as_str().unwrap();

    // 0.1 + 0.2 is 0.3 exactly; validFrom (10:00 IST) becomes the start of that day.
    let (status, body) = create_rate(
        &stack,
        rate(id, D0 + 10 * 3_600_000, &[("MA.2", "0.1"), ("CA.9", "0.2")]),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["ResponseInfo"]["status"], "successful");
    let first = body["rateDetails"][0].clone();
    assert_eq!(first["rate"].to_string(), "0.3");
    assert_eq!(first["validFrom"], D0);
    assert!(first["validTo"].is_null());

    // A new rate from day 5 closes the first at that instant.
    let (status, body) = create_rate(&stack, rate(id, D0 + 5 * DAY, &[("MA.2", "410.50")])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let second = body["rateDetails"][0].clone();
    let history = rates_of(&stack, id, json!({})).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["validTo"], D0 + 5 * DAY);
    assert_eq!(history[1]["validFrom"], D0 + 5 * DAY);

    // Lookups: exactly at the boundary the newer rate answers; a millisecond before, the older.
    let at = |t: i64| {
        let stack = &stack;
        async move { rates_of(stack, id, json!({"effectiveOn": t})).await }
    };
    assert_eq!(at(D0 + 5 * DAY).await[0]["id"], second["id"]);
    assert_eq!(at(D0 + 5 * DAY - 1).await[0]["id"], first["id"]);
    assert!(at(D0 - 1).await.is_empty());
    assert_eq!(at(D0 + 400 * DAY).await[0]["id"], second["id"]);
    assert_eq!(
        at(D0 + 400 * DAY).await[0]["amountDetail"][0]["amount"].to_string(),
        "410.50"
    );

    // Back-dating below the current rate is refused.
    let (status, body) = create_rate(&stack, rate(id, D0 + 3 * DAY, &[("MA.2", "1")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error(&body).0, "BACKDATED_RATE");
    // A rate starting with the current one replaces it.
    let (status, body) = create_rate(
        &stack,
        rate(id, D0 + 5 * DAY + 3_600_000, &[("MA.2", "420")]),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let third = body["rateDetails"][0].clone();
    assert_eq!(at(D0 + 6 * DAY).await[0]["id"], third["id"]);
    let all = rates_of(&stack, id, json!({"includeInactive": true})).await;
    assert_eq!(all.iter().filter(|r| r["isActive"] == false).count(), 1);
    // The replaced rate cannot come back while the rate that replaced it is active.
    let mut revive = second.clone();
    revive["isActive"] = json!(true);
    revive["amountDetail"] = json!([{"heads": "MA.2", "amount": 1}]);
    let (status, body) = stack
        .post(
            "/sor/rate/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [revive]}),
        )
        .await;
    assert_eq!(
        (status, error(&body).0),
        (StatusCode::BAD_REQUEST, "RATE_OVERLAP".to_owned()),
        "{body}"
    );

    // Amount rules.
    for (amounts, code) in [
        (vec![], "AMOUNT_DETAIL_REQUIRED"),
        (vec![("ZZ.1", "1")], "INVALID_HEAD"),
        (vec![("MA.2", "1"), ("MA.2", "2")], "DUPLICATE_HEAD"),
        (vec![("MA.2", "-0.01")], "INVALID_AMOUNT"),
    ] {
        let (status, body) = create_rate(&stack, rate(id, D0 + 9 * DAY, &amounts)).await;
        assert_eq!(
            (status, error(&body).0),
            (StatusCode::BAD_REQUEST, code.to_owned()),
            "{body}"
        );
    }
    let (_, body) = create_rate(
        &stack,
        json!({"tenantId": "pg", "sorId": id, "amountDetail": [{"heads": "MA.2", "amount": 1}]}),
    )
    .await;
    assert_eq!(error(&body).0, "VALID_FROM_REQUIRED");
    let (_, body) = create_rate(&stack, rate("no-such-sor", D0, &[("MA.2", "1")])).await;
    assert_eq!(error(&body).0, "SOR_NOT_FOUND");
    // validTo must come after validFrom (the day's start): the same day is refused.
    let mut inverted = rate(id, D0 + 9 * DAY + 3_600_000, &[("MA.2", "1")]);
    inverted["validTo"] = json!(D0 + 9 * DAY);
    let (status, body) = create_rate(&stack, inverted).await;
    assert_eq!(
        (status, error(&body)),
        (
            StatusCode::BAD_REQUEST,
            (
                "INVALID_VALIDITY".to_owned(),
                "validTo must be after validFrom".to_owned()
            )
        )
    );
    // Updating a rate that does not exist.
    let (status, body) = stack
        .post(
            "/sor/rate/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [{"tenantId": "pg", "id": "no-such-rate",
                "amountDetail": [{"heads": "MA.2", "amount": 1}]}]}),
        )
        .await;
    assert_eq!(
        (status, error(&body)),
        (
            StatusCode::BAD_REQUEST,
            (
                "RATE_NOT_FOUND".to_owned(),
                "Rate not found: no-such-rate".to_owned()
            )
        )
    );

    // Update: amounts (rate recomputed); no change and validity moves are refused.
    let mut update = third.clone();
    update["amountDetail"] =
        json!([{"heads": "MA.2", "amount": 400}, {"heads": "CA.9", "amount": 20.25}]);
    let (status, body) = stack
        .post(
            "/sor/rate/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [update.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rateDetails"][0]["rate"].to_string(), "420.25");
    let (_, body) = stack
        .post(
            "/sor/rate/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [update.clone()]}),
        )
        .await;
    assert_eq!(error(&body).0, "RATE_UNCHANGED");
    let mut moved = update.clone();
    moved["validFrom"] = json!(D0);
    let (_, body) = stack
        .post(
            "/sor/rate/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": [moved]}),
        )
        .await;
    assert_eq!(error(&body).0, "RATE_VALIDITY_IMMUTABLE");
    let by_head = rates_of(
        &stack,
        id,
        json!({"headCodeIds": ["CA.9"], "effectiveOn": D0 + 6 * DAY}),
    )
    .await;
    assert_eq!(by_head.len(), 1);

    // Postgres refuses an overlap even when written around the service.
    let overlap = sqlx::query("INSERT INTO eg_sor_rate (id, tenantid, sorid, validfrom, validto, rate) VALUES ('x', 'pg', $1, $2, NULL, 1)")
        .bind(id)
        .bind(D0 + 7 * DAY)
        .execute(stack.db.pool())
        .await
        .unwrap_err();
    assert!(
        overlap.to_string().contains("ex_eg_sor_rate_overlap"),
        "{overlap}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_rate_creations_leave_a_clean_history() {
    let stack = std::sync::Arc::new(SorStack::start().await);
    let sor = create_sor(&stack, material("Bricks class A")).await;
    let id = sor["id"].as_str().unwrap().to_owned();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50_i64 {
        let (stack, id, barrier) = (stack.clone(), id.clone(), barrier.clone());
        // Days in a scrambled order, so some arrive after a later day was accepted.
        let day = (i * 37) % 50;
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            create_rate(
                &stack,
                rate(
                    &id,
                    D0 + day * DAY,
                    &[("MA.2", &format!("{}.{:02}", 100 + day, day))],
                ),
            )
            .await
        }));
    }
    let mut accepted = 0;
    let mut refused = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::BAD_REQUEST => {
                assert_eq!(error(&body).0, "BACKDATED_RATE", "{body}");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    eprintln!("accepted={accepted} refused={refused}");
    assert_eq!(accepted + refused, 50);
    assert!(accepted >= 1);
    let history = rates_of(&stack, &id, json!({})).await;
    assert_eq!(history.len(), accepted);
    for pair in history.windows(2) {
        assert_eq!(
            pair[0]["validTo"], pair[1]["validFrom"],
            "gap-free and overlap-free"
        );
    }
    assert!(history.last().unwrap()["validTo"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_analysis_worked_example_to_the_paisa() {
    let stack = SorStack::start().await;
    let basic = |t: &str, uom: &str, qty: i64, d: &str| json!({"tenantId": "pg", "sorType": t, "uom": uom, "uomValue": qty, "description": d});
    let bricks = create_sor(&stack, basic("M", "NOS", 1000, "Bricks first class")).await;
    let mason = create_sor(&stack, basic("L", "DAY", 1, "Mason")).await;
    let cement = create_sor(&stack, basic("M", "BAG", 1, "Cement OPC")).await;
    let works = create_sor(
        &stack,
        json!({"tenantId": "pg", "sorType": "W", "sorSubType": "RCC", "sorVariant": "SS",
        "uom": "CUM", "uomValue": 10, "description": "Brick masonry in CM 1:6"}),
    )
    .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    for (sor, amounts) in [
        (&bricks, vec![("MA.2", "8000")]),
        (&mason, vec![("LA.1", "850.50")]),
        (&cement, vec![("MA.2", "410.50"), ("CA.9", "12.25")]),
    ] {
        let (status, body) = create_rate(&stack, rate(&id(sor), D0, &amounts)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let composition = json!({"tenantId": "pg", "sorId": id(&works), "quantity": 1, "effectiveFrom": D0,
        "basicSorDetails": [
            {"sorId": id(&bricks), "quantity": 500},
            {"sorId": id(&mason), "quantity": 1.5},
            {"sorId": id(&cement), "quantity": 1.25}],
        "additionalCharges": [{"description": "Scaffolding", "applicableOn": "ADC.4", "calculationType": "fixed", "figure": 100}]});
    let (status, body) = stack
        .post(
            "/sor/composition/v1/_create",
            &sor_admin(),
            json!({"requestInfo": ri(), "compositions": [composition]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body["compositions"][0]["compositionId"]
        .as_str()
        .unwrap()
        .starts_with("CMP_"));

    // _calculate: per 10 CUM from 1 CUM of analysis (the quantity factor upstream drops).
    let details = |t: i64| json!({"RequestInfo": ri(), "sorDetails": {"tenantId": "pg", "sorIds": [id(&works)], "effectiveFrom": t}});
    let (status, body) = stack
        .post(
            "/sor/rate-analysis/v1/_calculate",
            &sor_admin(),
            details(D0 + DAY),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let analysis = &body["rateAnalysis"][0];
    assert_eq!(analysis["rate"]["rate"].to_string(), "59632.30");
    let heads: std::collections::BTreeMap<String, String> = analysis["rate"]["amountDetail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["heads"].as_str().unwrap().to_owned(),
                a["amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(heads["MA.2"], "45131.25");
    assert_eq!(heads["LA.1"], "12757.50");
    assert_eq!(heads["CA.9"], "153.13");
    assert_eq!(heads["ADC.4"], "1000");
    assert_eq!(heads["LC.7"], "590.42");
    assert_eq!(analysis["lineItems"].as_array().unwrap().len(), 4);

    // No composition before D0.
    let (_, body) = stack
        .post(
            "/sor/rate-analysis/v1/_calculate",
            &sor_admin(),
            details(D0 - DAY),
        )
        .await;
    assert_eq!(error(&body).0, "SOR_COMPOSITION_NOT_FOUND");
    // _create refuses past dates, stores a future one like a manual rate, skips a repeat.
    let (_, body) = stack
        .post(
            "/sor/rate-analysis/v1/_create",
            &sor_admin(),
            details(D0 + DAY),
        )
        .await;
    assert_eq!(error(&body).0, "EFFECTIVE_FROM_ERROR");
    let tomorrow = digit_core::time::now_ms() + DAY;
    let (status, body) = stack
        .post(
            "/sor/rate-analysis/v1/_create",
            &sor_admin(),
            details(tomorrow),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rateDetails"][0]["rate"].to_string(), "59632.30");
    assert!(body["rateDetails"][0]["compositionId"]
        .as_str()
        .unwrap()
        .starts_with("CMP_"));
    let stored = rates_of(&stack, &id(&works), json!({"effectiveOn": tomorrow})).await;
    assert_eq!(stored[0]["rate"].to_string(), "59632.30");
    let (status, body) = stack
        .post(
            "/sor/rate-analysis/v1/_create",
            &sor_admin(),
            details(tomorrow),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rateDetails"], json!([]), "the same rate is skipped");

    // A basic SOR used by an active composition cannot be deactivated.
    let mut off = cement.clone();
    off["isActive"] = json!(false);
    let (_, body) = stack
        .post(
            "/sor/v1/_update",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": [off]}),
        )
        .await;
    assert_eq!(error(&body).0, "SOR_IN_USE");
    // Compositions are searchable by date.
    let (_, body) = stack
        .post("/sor/composition/v1/_search", &sor_admin(), json!({"requestInfo": ri(), "criteria": {"tenantId": "pg", "sorIds": [id(&works)], "effectiveOn": D0}}))
        .await;
    assert_eq!(body["compositions"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_requests_are_bounded() {
    let stack = SorStack::start().await;
    let many: Vec<Value> = (0..101).map(|i| material(&format!("Item {i}"))).collect();
    let (status, body) = stack
        .post(
            "/sor/v1/_create",
            &sor_admin(),
            json!({"requestInfo": ri(), "sors": many}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body),
        (
            "INVALID_REQUEST".into(),
            "at most 100 sors per request".into()
        )
    );
    let (_, body) = stack
        .post(
            "/sor/rate/v1/_create",
            &sor_admin(),
            json!({"requestInfo": ri(), "rateDetails": []}),
        )
        .await;
    assert_eq!(
        error(&body),
        (
            "INVALID_REQUEST".into(),
            "rateDetails must not be empty".into()
        )
    );
}
