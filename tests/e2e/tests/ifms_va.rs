//! VA against the JIT simulator, real Postgres and the broker (spec A1.4, C.1 items 2–4):
//! each allotment type applied once with exact decimals, a repeated run (the program
//! service unreachable, its callbacks still pending) changing nothing, unknown masters kept
//! and applied later, the financial year April–March, the watermark in the transaction.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifms::{scenario, va_item, IfmsStack, GENERAL_HOA, TENANT};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_allotment_type_is_applied_once_however_often_va_runs() {
    let items = vec![
        va_item(
            "Initial Allotment",
            "920",
            0,
            "860",
            "1000.10",
            "6000",
            "2026-05-10",
        ),
        va_item(
            "Additional allotment",
            "920",
            1,
            "898",
            "10.05",
            "5990",
            "2026-05-18",
        ),
        va_item(
            "Allotment withdrawal",
            "920",
            2,
            "937",
            "5.15",
            "5995",
            "2026-05-23",
        ),
    ];
    let s = IfmsStack::start(scenario(items), &[]).await;
    let report = s.service.run_va().await.unwrap();
    assert_eq!(
        (
            report.sanctions,
            report.allotments,
            report.repeated,
            report.failed
        ),
        (1, 3, 0, 0),
        "{report:?}"
    );
    let sanction = s.sanction_of("920").await;
    // Sanctioned = JIT's unallotted balance + the initial allotment; funds by the allotments.
    let sanctioned: String = sqlx::query_scalar(
        "SELECT trim_scale(sanctionedamount)::text || ' ' || financialyear FROM jit_sanction_details WHERE id = $1",
    )
    .bind(&sanction)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(sanctioned, "7000.1 2026-27");
    assert_eq!(s.funds(&sanction).await, "1005/1005");

    // The program service hears of it through the outbox: one sanction, three allocations.
    let sanctions = s.outbox("on-sanction/_create").await;
    assert_eq!(sanctions.len(), 1);
    let m = &sanctions[0]["message"];
    assert_eq!(m["children"][0]["id"], sanction);
    assert_eq!(m["children"][0]["net_amount"].to_string(), "7000.10");
    assert_eq!(m["children"][0]["program_code"], "PG/2026-27/000358");
    assert_eq!(
        sanctions[0]["header"]["sender_id"],
        "program@http://127.0.0.1:8094/digit-exchange"
    );
    assert_eq!(
        sanctions[0]["header"]["receiver_id"],
        "program@http://127.0.0.1:8084/digit-exchange"
    );
    let allocations = s.outbox("on-allocation/_create").await;
    assert_eq!(allocations.len(), 1);
    let kinds: Vec<(String, String)> = allocations[0]["message"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["allocation_type"].as_str().unwrap().to_owned(),
                c["net_amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ALLOCATION".into(), "1000.10".into()),
            ("ALLOCATION".into(), "10.05".into()),
            ("DEDUCTION".into(), "5.15".into())
        ]
    );

    // The callbacks never arrived (no program service): VA runs again, twice — nothing
    // changes, nothing is sent twice. (It asks from the watermark less a week: the two
    // allotments since 16 May come again and are recognised.)
    for _ in 0..2 {
        let again = s.service.run_va().await.unwrap();
        assert_eq!(
            (again.sanctions, again.allotments, again.repeated),
            (0, 0, 2),
            "{again:?}"
        );
    }
    assert_eq!(s.funds(&sanction).await, "1005/1005");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_allotment_details").await,
        3
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_sanction_details").await,
        1
    );
    assert_eq!(s.outbox("on-allocation").await.len(), 1);
    // The watermark is the start of the newest allotment's day in India (2026-05-23 00:00 IST).
    let watermark: i64 =
        sqlx::query_scalar("SELECT lastexecuted FROM jit_executed_va_logs WHERE hoacode = $1")
            .bind(GENERAL_HOA)
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(watermark, 1_779_474_600_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allotment_of_an_unknown_sanction_is_kept_until_its_initial_allotment_arrives() {
    let s = IfmsStack::start(
        scenario(vec![va_item(
            "Additional allotment",
            "77",
            1,
            "771",
            "40",
            "0",
            "2026-06-02",
        )]),
        &[],
    )
    .await;
    let first = s.service.run_va().await.unwrap();
    assert_eq!(
        (first.sanctions, first.allotments, first.unmatched),
        (0, 0, 1),
        "{first:?}"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_unmatched_allotments")
            .await,
        1
    );
    // Its Initial Allotment comes later (dated earlier): both apply, in order.
    s.jit.set_scenario(
        serde_json::from_value(scenario(vec![
            va_item(
                "Initial Allotment",
                "77",
                0,
                "770",
                "100",
                "900",
                "2026-06-01",
            ),
            va_item(
                "Additional allotment",
                "77",
                1,
                "771",
                "40",
                "0",
                "2026-06-02",
            ),
        ]))
        .unwrap(),
    );
    // VA asks again from the watermark less a week, so the earlier date is covered.
    let second = s.service.run_va().await.unwrap();
    assert_eq!((second.sanctions, second.allotments), (1, 2), "{second:?}");
    let sanction = s.sanction_of("77").await;
    assert_eq!(s.funds(&sanction).await, "140/140");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_unmatched_allotments")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn va_with_the_treasury_down_changes_nothing_and_funds_search_shows_the_ledger() {
    let s = IfmsStack::start(
        scenario(vec![va_item(
            "Initial Allotment",
            "5001",
            0,
            "6001",
            "500",
            "0",
            "2026-02-10",
        )]),
        &[],
    )
    .await;
    // A February allotment belongs to the financial year that started the April before.
    s.service.run_va().await.unwrap();
    let sanction = s.sanction_of("5001").await;
    let fy: String =
        sqlx::query_scalar("SELECT financialyear FROM jit_sanction_details WHERE id = $1")
            .bind(&sanction)
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(fy, "2025-26");

    let (status, out) = s
        .post(
            "/funds/v1/_search",
            &digit_e2e::ifms::accountant(),
            &serde_json::json!({"RequestInfo": {"apiId": "ifms"}, "searchCriteria": {"tenantId": TENANT}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let f = &out["funds"][0];
    assert_eq!(f["id"], sanction);
    assert_eq!(f["fundsSummary"]["availableAmount"].to_string(), "500");
    assert_eq!(
        f["allotmentDetails"][0]["allotmentTxnType"],
        "Initial Allotment"
    );
    assert_eq!(f["allotmentDetails"][0]["ssuAllotmentId"], "6001");
    assert!(
        f["allotmentDetails"][0]
            .as_object()
            .unwrap()
            .contains_key("schemeCode"),
        "nulls are written"
    );
    let (status, out) = s
        .post(
            "/funds/v1/_search",
            &digit_e2e::ifms::accountant(),
            &serde_json::json!({"RequestInfo": {"apiId": "ifms"}, "searchCriteria": {}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "SEARCH_CRITERIA_MANDATORY");

    // The treasury goes away: VA fails for the pair, records nothing, keeps the watermark.
    let before: Option<i64> = sqlx::query_scalar("SELECT lastexecuted FROM jit_executed_va_logs")
        .fetch_optional(s.db.pool())
        .await
        .unwrap();
    let jit = s.jit;
    jit.shutdown().await;
    let report = s.service.run_va().await.unwrap();
    assert_eq!(report.failed, report.polled, "{report:?}");
    let after: Option<i64> = sqlx::query_scalar("SELECT lastexecuted FROM jit_executed_va_logs")
        .fetch_optional(s.db.pool())
        .await
        .unwrap();
    assert_eq!(before, after);
    let _: Value = Value::Null;
}
