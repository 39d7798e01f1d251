//! The money of disbursements (spec §1.9, §5 items 1–5) and the other endpoints: exact
//! amounts (0.1 + 0.2, 10,000,000.01), the guarded debit, the deterministic auto-pick,
//! refunds exactly once, the PARTIAL revision rule, disburse/_update FAILED, PII at rest,
//! and `disburse/_search` (ids of lines, total_count, sort, decrypted PII).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::{envelope, own_id, viewer, ProgramStack};
use program_disburse_common::*;
use serde_json::{json, Value};

fn search(criteria: Value) -> Value {
    let mut c = json!({"location_code": LOCATION});
    c.as_object_mut()
        .unwrap()
        .extend(criteria.as_object().unwrap().clone());
    envelope("disburse", "search", &own_id(), &own_id(), c)
}

#[tokio::test]
async fn exact_amounts_are_debited_and_refunded_once() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "20000000", "10000000.31").await;
    let small = created(
        &stack,
        payment("T1", "0.3", "0.3", &[("0.1", "0.1"), ("0.2", "0.2")]),
    )
    .await;
    let big = created(
        &stack,
        payment(
            "T2",
            "10000000.01",
            "10000000.01",
            &[
                ("5000000.005", "5000000.005"),
                ("5000000.005", "5000000.005"),
            ],
        ),
    )
    .await;
    // The answer carries the exact amounts and the sanction debited.
    assert_eq!(big["message"]["gross_amount"].to_string(), "10000000.01");
    assert_eq!(
        small["message"]["children"][0]["net_amount"].to_string(),
        "0.1"
    );
    assert_eq!(big["message"]["sanction_id"], sanction);
    assert_eq!(big["message"]["children"][1]["sanction_id"], sanction);
    assert_available(&stack.db, &sanction, "0").await;
    let big_id = big["message"]["id"].as_str().unwrap();
    let (_, debited, _) = stored(&stack.db, big_id).await;
    assert!(same_number(&stack.db, &debited, "10000000.01").await);

    // FAILED: exactly the debit comes back, once — a second FAILED reply (another message)
    // and an ERROR update change nothing.
    let failed = with_status(&big, "FAILED", &["FAILED"]);
    let (status, out) = stack
        .admin("/on-disburse/_create", &reply("create", failed.clone()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(out["message"]["status"]["status_code"], "FAILED", "{out}");
    assert_available(&stack.db, &sanction, "10000000.01").await;
    stack
        .admin("/on-disburse/_update", &reply("update", failed))
        .await;
    let mut error = with_status(&big, "ERROR", &["ERROR"]);
    error["status"]["status_message"] = json!("rejected by treasury");
    stack
        .admin("/on-disburse/_update", &reply("update", error))
        .await;
    assert_available(&stack.db, &sanction, "10000000.01").await;
    assert_eq!(ledger_rows(&stack.db, big_id, "REFUND").await, 1);
    let (status, _, refunded) = stored(&stack.db, big_id).await;
    assert_eq!(status.as_deref(), Some("ERROR"));
    assert!(same_number(&stack.db, &refunded, "10000000.01").await);

    // The target is free again: a new payment for it debits afresh.
    created(&stack, simple("T2", "10000000")).await;
    assert_available(&stack.db, &sanction, "0.01").await;
}

#[tokio::test]
async fn the_oldest_sanction_with_enough_balance_is_picked_and_recorded() {
    let stack = ProgramStack::start().await;
    program(&stack.db, "P1").await;
    let oldest_small = sanction(&stack.db, "P1", "1000", "50", 100).await;
    let newer = sanction(&stack.db, "P1", "1000", "500", 300).await;
    let older = sanction(&stack.db, "P1", "1000", "500", 200).await;
    let out = created(
        &stack,
        payment("T1", "100", "100", &[("60", "60"), ("40", "40")]),
    )
    .await;
    assert_eq!(out["message"]["sanction_id"], older, "{out}");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT sanction_id FROM eg_program_disburse")
            .fetch_all(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(
        ids,
        std::slice::from_ref(&older),
        "recorded on the payment and its lines"
    );
    assert_available(&stack.db, &older, "400").await;
    assert_available(&stack.db, &newer, "500").await;
    assert_available(&stack.db, &oldest_small, "50").await;
    // 450 fits only the newer one now.
    let out = created(&stack, simple("T2", "450")).await;
    assert_eq!(out["message"]["sanction_id"], newer);
    assert_available(&stack.db, &newer, "50").await;
}

#[tokio::test]
async fn a_revision_of_a_partial_payment_reuses_its_debit() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    let first = created(
        &stack,
        payment("T1", "100", "100", &[("60", "60"), ("40", "40")]),
    )
    .await;
    let first_id = first["message"]["id"].as_str().unwrap().to_owned();
    // One line paid, one failed: the payment becomes PARTIAL (no refund).
    let m = with_status(&first, "SUCCESSFUL", &["SUCCESSFUL", "FAILED"]);
    let (_, out) = stack
        .admin("/on-disburse/_create", &reply("create", m))
        .await;
    assert_eq!(out["message"]["status"]["status_code"], "PARTIAL", "{out}");
    assert_eq!(
        stored(&stack.db, &first_id).await.0.as_deref(),
        Some("PARTIAL")
    );
    assert_available(&stack.db, &sanction, "900").await;
    // The revised payment for the failed line reuses that sanction and debits nothing.
    let revision = created(&stack, simple("T1", "40")).await;
    let revision_id = revision["message"]["id"].as_str().unwrap().to_owned();
    assert_eq!(revision["message"]["sanction_id"], sanction);
    let (_, debited, _) = stored(&stack.db, &revision_id).await;
    assert!(same_number(&stack.db, &debited, "0").await);
    assert_available(&stack.db, &sanction, "900").await;
    assert_eq!(ledger_rows(&stack.db, &revision_id, "DISBURSE").await, 0);
    // It fails: nothing to refund. The original fails later: its debit was reused, no refund.
    stack
        .admin(
            "/on-disburse/_create",
            &reply("create", with_status(&revision, "FAILED", &["FAILED"])),
        )
        .await;
    assert_eq!(
        stored(&stack.db, &revision_id).await.0.as_deref(),
        Some("FAILED")
    );
    stack
        .admin(
            "/on-disburse/_update",
            &reply("update", with_status(&first, "FAILED", &["FAILED"])),
        )
        .await;
    assert_eq!(
        stored(&stack.db, &first_id).await.0.as_deref(),
        Some("FAILED")
    );
    assert_available(&stack.db, &sanction, "900").await;
    assert_eq!(ledger_rows(&stack.db, &first_id, "REFUND").await, 0);
}

#[tokio::test]
async fn disburse_update_failed_refunds_once() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    let out = created(&stack, simple("T1", "250.75")).await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    assert_available(&stack.db, &sanction, "749.25").await;
    let m = with_status(&out, "FAILED", &["FAILED"]);
    let (status, answer) = stack.admin("/disburse/_update", &update(m.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["message"]["status"]["status_code"], "FAILED",
        "{answer}"
    );
    assert_eq!(answer["header"]["message_id"], id.as_str());
    // The sender's update goes on to the treasury through the exchange.
    let rows = outbox(&stack.db).await;
    let last_http = rows.iter().rev().find(|r| r.0 == "http").unwrap();
    assert_eq!(
        last_http.1,
        "http://127.0.0.1:8084/digit-exchange/v1/exchange/disburse"
    );
    assert_eq!(last_http.2["header"]["action"], "update");
    assert!(
        last_http.2["message"].is_string(),
        "the exchange gets the message as a JSON string"
    );
    assert_available(&stack.db, &sanction, "1000").await;
    // The treasury's FAILED reply and a redelivery of the update refund nothing more.
    stack
        .admin("/on-disburse/_update", &reply("update", m.clone()))
        .await;
    stack.admin("/disburse/_update", &update(m)).await;
    assert_available(&stack.db, &sanction, "1000").await;
    assert_eq!(ledger_rows(&stack.db, &id, "REFUND").await, 1);
}

#[tokio::test]
async fn replies_update_statuses_and_transaction_ids() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let out = created(
        &stack,
        payment("T1", "30", "30", &[("10", "10"), ("20", "20")]),
    )
    .await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    let m = with_status(&out, "INITIATED", &["INITIATED"]);
    let body = reply("create", m);
    let (status, answer) = stack.admin("/on-disburse/_create", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["header"]["message_id"], id.as_str());
    assert_eq!(
        answer["message"]["audit_details"]["lastModifiedBy"],
        body["header"]["sender_id"]
    );
    assert_eq!(answer["message"]["audit_details"]["createdBy"], own_id());
    // Same domain: the adapter hears of it.
    let rows = outbox(&stack.db).await;
    let last_http = rows.iter().rev().find(|r| r.0 == "http").unwrap();
    assert_eq!(
        last_http.1,
        "http://127.0.0.1:8085/ifms/v1/on-disburse/_create"
    );
    assert!(last_http.2["message"].is_object());
    // A redelivered reply answers the stored response and changes nothing.
    let (_, again) = stack.admin("/on-disburse/_create", &body).await;
    assert_eq!(again, answer);
    assert_eq!(outbox(&stack.db).await.len(), rows.len());
    // on-disburse/_update: statuses change, transaction ids stay; a missing status keeps.
    let mut m = with_status(&out, "SUCCESSFUL", &["SUCCESSFUL"]);
    m["transaction_id"] = json!("PI-CHANGED");
    m["children"][1]["status"] = Value::Null;
    stack
        .admin("/on-disburse/_update", &reply("update", m))
        .await;
    let (_, found) = stack
        .post(
            "/disburse/_search",
            Some(&viewer()),
            &search(json!({"ids": [id]})),
        )
        .await;
    let p = &found["disbursements"][0];
    assert_eq!(p["status"]["status_code"], "SUCCESSFUL", "{found}");
    assert_eq!(p["transaction_id"], "PI-0001");
    assert_eq!(p["children"][0]["status"]["status_code"], "SUCCESSFUL");
    assert_eq!(p["children"][0]["transaction_id"], "BEN-0");
    assert_eq!(p["children"][1]["status"]["status_code"], "INITIATED");
}

#[tokio::test]
async fn pii_is_ciphertext_at_rest_and_plaintext_in_search() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let out = created(
        &stack,
        payment("T1", "30", "30", &[("10", "10"), ("20", "20")]),
    )
    .await;
    let child_id = out["message"]["children"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (account, individual): (Option<String>, Value) =
        sqlx::query_as("SELECT account_code, individual FROM eg_program_disburse WHERE id = $1")
            .bind(&child_id)
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    let account = account.unwrap();
    assert!(
        account.starts_with("t1:") && !account.contains("1234567890"),
        "{account}"
    );
    for key in ["name", "phone", "address"] {
        let v = individual[key].as_str().unwrap();
        assert!(v.starts_with("t1:"), "{key}: {v}");
    }
    let text = individual.to_string();
    assert!(
        !text.contains("Asha") && !text.contains("9999999999") && !text.contains("Temple"),
        "{text}"
    );
    assert_eq!(
        individual["pin"], "751001",
        "pin and email are not PII upstream"
    );
    // The dashboard event has no PII at all.
    let events = outbox(&stack.db).await;
    let event = events.iter().find(|r| r.0 == "kafka").unwrap();
    assert_eq!(event.2["event_type"], "CREATED");
    assert!(!event.2.to_string().contains("Asha") && !event.2.to_string().contains("1234567890"));
    // Search by a line's id finds its payment, decrypted.
    let (status, found) = stack
        .post(
            "/disburse/_search",
            Some(&viewer()),
            &search(json!({"ids": [child_id]})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let p = &found["disbursements"][0];
    assert_eq!(p["id"], out["message"]["id"]);
    assert_eq!(p["children"][1]["account_code"], "1234567890@SBIN0003491");
    assert_eq!(p["children"][1]["individual"]["name"], "Asha Devi");
    assert_eq!(p["children"][1]["individual"]["phone"], "9999999999");
    assert_eq!(p["children"][1]["individual"]["address"], "12 Temple Road");
    assert_eq!(p["children"][1]["individual"]["email"], "asha@example.org");
    assert_eq!(p["children"][1]["parent_id"], out["message"]["id"]);
    assert_eq!(
        p["children"][0]["target_id"], "T1-L0",
        "lines in arrival order"
    );
}

#[tokio::test]
async fn search_filters_pages_and_sorts() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000000", "1000000").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let out = created(&stack, simple(&format!("T{n}"), &format!("{}", n + 1))).await;
        ids.push(out["message"]["id"].as_str().unwrap().to_owned());
    }
    let body = search(
        json!({"pagination": {"limit": 2, "offset": 1, "sort_by": "gross_amount", "sort_order": "ASC"}}),
    );
    let (status, out) = stack.admin("/disburse/_search", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["header"], body["header"]);
    let got: Vec<&str> = out["disbursements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["T1", "T2"]);
    assert_eq!(out["pagination"]["total_count"], 5);
    assert_eq!(
        out["disbursements"][0]["children"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Unknown sort columns are not SQL: the default order.
    let body =
        search(json!({"pagination": {"sort_by": "id; DROP TABLE eg_program", "limit": 1000}}));
    let (status, out) = stack.admin("/disburse/_search", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["pagination"]["sort_by"], "last_modified_time");
    assert_eq!(out["pagination"]["limit"], 100, "capped");
    assert_eq!(out["disbursements"].as_array().unwrap().len(), 5);
    // Criteria: target, program, transaction id; past the end still counts.
    let (_, out) = stack
        .admin("/disburse/_search", &search(json!({"target_id": "T3"})))
        .await;
    assert_eq!(out["disbursements"][0]["id"], ids[3].as_str());
    let (_, out) = stack
        .admin("/disburse/_search", &search(json!({"program_code": "P2"})))
        .await;
    assert_eq!(out["pagination"]["total_count"], 0);
    let (_, out) = stack
        .admin(
            "/disburse/_search",
            &search(json!({"pagination": {"offset": 10}})),
        )
        .await;
    assert_eq!(out["pagination"]["total_count"], 5);
    assert_eq!(out["disbursements"], json!([]));
    // Another tenant sees nothing; the header rules apply to searches too.
    let (_, out) = stack
        .admin(
            "/disburse/_search",
            &search(json!({"location_code": "pg.cityb"})),
        )
        .await;
    assert_eq!(out["disbursements"], json!([]));
    let mut bad = search(json!({}));
    bad["header"]["action"] = json!("create");
    let (status, out) = stack.admin("/disburse/_search", &bad).await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "ACTION_ERROR");
    let (status, out) = stack
        .admin(
            "/disburse/_search",
            &envelope("disburse", "search", &own_id(), &own_id(), json!({})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        out["Errors"][0]["code"],
        "NotNull.disburseSearchRequest.disburseSearch.locationCode"
    );
}

#[tokio::test]
async fn writes_need_a_role_at_the_location() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let (status, _) = stack
        .post("/disburse/_create", None, &create(simple("T1", "1")))
        .await;
    assert_eq!(status, 401);
    let (status, _) = stack
        .post(
            "/disburse/_create",
            Some(&viewer()),
            &create(simple("T1", "1")),
        )
        .await;
    assert_eq!(status, 403);
    let (status, out) = stack
        .post(
            "/on-disburse/_create",
            Some(&viewer()),
            &reply("create", simple("T1", "1")),
        )
        .await;
    assert_eq!(status, 403, "{out}");
    // Header errors are 400 before anything else.
    let mut body = create(simple("T1", "1"));
    body["header"]["receiver_id"] = body["header"]["sender_id"].clone();
    let (status, out) = stack.admin("/disburse/_create", &body).await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "RECEIVER_ID_SENDER_ID_ERROR");
    let (status, out) = stack
        .admin("/on-disburse/_create", &create(simple("T1", "1")))
        .await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "MESSAGE_TYPE_ERROR");
}
