//! Allocations (spec §1.8, §1.9): exact balances (0.1 + 0.2, 10,000,000.01) moved only
//! through the ledger so that they always equal the ledger sums, deductions, updates with
//! no amount effect, searches with the allocation's own codes and type, every allocation
//! rule code, a refused running total rolled back, redeliveries (sequential and
//! concurrent) counted once, and concurrent allocations never exceeding the sanction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::program::{envelope, ledger_sums, other_id, own_id, viewer, ProgramStack};
use serde_json::{json, Value};

const LOC: &str = "pg.citya";

async fn program(stack: &ProgramStack, name: &str) -> String {
    let msg = json!({"location_code": LOC, "name": name, "start_date": 1672531200});
    let body = envelope("program", "create", &other_id(), &own_id(), msg);
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    out["message"]["program_code"].as_str().unwrap().to_owned()
}

/// A sanction of `gross` (JSON number text) for `code`; its id.
async fn sanction(stack: &ProgramStack, code: &str, gross: &str) -> String {
    let gross: Value = serde_json::from_str(gross).unwrap();
    let c = json!({"location_code": LOC, "program_code": code, "net_amount": gross, "gross_amount": gross,
                   "status": {"status_code": "SUCCESSFUL"}, "function_code": "SANCTION-FN"});
    let msg = json!({"location_code": LOC, "program_code": code, "net_amount": gross, "gross_amount": gross, "children": [c]});
    let body = envelope("on-sanction", "create", &other_id(), &own_id(), msg);
    let (status, out) = stack.admin("/on-sanction/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["message"]["children"][0]["status"]["status_code"], "SUCCESSFUL",
        "{out}"
    );
    out["message"]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn line(code: &str, sanction_id: &str, kind: &str, gross: &str) -> Value {
    let gross: Value = serde_json::from_str(gross).unwrap();
    json!({
        "location_code": LOC, "program_code": code, "sanction_id": sanction_id,
        "net_amount": gross, "gross_amount": gross, "allocation_type": kind,
        "status": {"status_code": "SUCCESSFUL", "status_message": "SUCCESSFUL"},
        "function_code": "ALLOC-FN", "currency_code": "INR"
    })
}

fn allocation(action: &str, children: Vec<Value>) -> Value {
    let first = children.first().cloned().unwrap_or_else(|| json!({}));
    let msg = json!({
        "location_code": LOC, "program_code": first["program_code"], "sanction_id": first["sanction_id"],
        "net_amount": 1, "gross_amount": 1, "allocation_type": "ALLOCATION",
        "status": {"status_code": "SUCCESSFUL"}, "children": children
    });
    envelope("on-allocation", action, &other_id(), &own_id(), msg)
}

async fn allocate(stack: &ProgramStack, action: &str, children: Vec<Value>) -> Value {
    let (status, out) = stack
        .admin(
            &format!("/on-allocation/_{action}"),
            &allocation(action, children),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    out
}

/// (allocated, available) as stored, as text.
async fn balances(stack: &ProgramStack, id: &str) -> (String, String) {
    sqlx::query_as("SELECT allocated_amount::text, available_amount::text FROM eg_program_sanction WHERE id = $1")
        .bind(id)
        .fetch_one(stack.db.pool())
        .await
        .unwrap()
}

/// The balances equal the ledger's sums (compared as numbers, scale aside).
async fn assert_ledger(stack: &ProgramStack, id: &str, allocated: &str, available: &str) {
    let (a, v) = balances(stack, id).await;
    let (la, lv) = ledger_sums(&stack.db, id).await;
    let d = |s: &str| digit_core::Money::parse(s).unwrap().0.normalize();
    assert_eq!((d(&a), d(&v)), (d(allocated), d(available)), "balances");
    assert_eq!(
        (d(&la), d(&lv)),
        (d(allocated), d(available)),
        "ledger sums"
    );
}

fn child_status(out: &Value, i: usize) -> String {
    let s = &out["message"]["children"][i]["status"];
    assert_eq!(s["status_code"], "ERROR", "{out}");
    s["status_message"].as_str().unwrap().to_owned()
}

async fn count(stack: &ProgramStack, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(stack.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn exact_allocations_and_deductions_match_the_ledger() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let s = sanction(&stack, &code, "1000").await;

    let out = allocate(
        &stack,
        "create",
        vec![
            line(&code, &s, "ALLOCATION", "0.1"),
            line(&code, &s, "ALLOCATION", "0.2"),
        ],
    )
    .await;
    let m = &out["message"];
    assert_eq!(out["header"]["message_id"], m["id"]);
    assert_eq!(m["type"], "allocation");
    assert_eq!(m["children"][0]["type"], "allocation");
    assert_eq!(m["children"][0]["status"]["status_code"], "SUCCESSFUL");
    let a1 = m["children"][0]["id"].as_str().unwrap().to_owned();
    assert_ledger(&stack, &s, "0.3", "0.3").await;
    let logs: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT type, kind, allocation_id FROM eg_program_transaction_logs WHERE sanction_id = $1 ORDER BY amount")
            .bind(&s)
            .fetch_all(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(
        (logs[0].0.as_str(), logs[0].1.as_str(), logs[0].2.as_deref()),
        ("CREDIT", "ALLOCATION", Some(a1.as_str()))
    );

    allocate(&stack, "create", vec![line(&code, &s, "DEDUCTION", "0.1")]).await;
    assert_ledger(&stack, &s, "0.2", "0.2").await;

    // The sanction search shows the balances; the allocation search its own codes.
    let (_, out) = stack
        .admin(
            "/sanction/_search",
            &envelope(
                "sanction",
                "search",
                &own_id(),
                &own_id(),
                json!({"location_code": LOC, "ids": [s]}),
            ),
        )
        .await;
    assert_eq!(out["sanctions"][0]["allocated_amount"].to_string(), "0.2");
    assert_eq!(out["sanctions"][0]["available_amount"].to_string(), "0.2");
    let search = |m: Value| envelope("allocation", "search", &own_id(), &other_id(), m);
    let (status, out) = stack
        .admin(
            "/allocation/_search",
            &search(json!({"location_code": LOC, "ids": [a1]})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let a = &out["allocations"][0];
    assert_eq!(a["id"], a1);
    assert_eq!(a["type"], "allocation");
    assert_eq!(a["function_code"], "ALLOC-FN");
    assert_eq!(a["allocation_type"], "ALLOCATION");
    assert_eq!(a["gross_amount"].to_string(), "0.1");
    assert_eq!(a["sanction_id"], s);
    for (criteria, n) in [
        (json!({"location_code": LOC, "sanction_id": s}), 3),
        (json!({"location_code": LOC, "program_code": code}), 3),
        (json!({"location_code": LOC, "program_code": "PG/none"}), 0),
        (
            json!({"location_code": LOC, "pagination": {"sort_by": "gross_amount", "sort_order": "DESC", "limit": 2}}),
            2,
        ),
    ] {
        let (_, out) = stack
            .admin("/allocation/_search", &search(criteria.clone()))
            .await;
        assert_eq!(
            out["allocations"].as_array().unwrap().len(),
            n,
            "{criteria} {out}"
        );
        assert_eq!(out["pagination"]["total_count"], if n == 0 { 0 } else { 3 });
    }
    let (_, out) = stack
        .admin("/allocation/_search", &search(json!({"location_code": LOC, "pagination": {"sort_by": "gross_amount", "sort_order": "DESC"}})))
        .await;
    assert_eq!(out["allocations"][0]["gross_amount"].to_string(), "0.2");

    // on-allocation/_update: status only, no amount effect.
    let mut upd = line(&code, &s, "ALLOCATION", "0.1");
    upd["id"] = json!(a1);
    upd["status"] = json!({"status_code": "FAILED", "status_message": "FAILED"});
    let out = allocate(&stack, "update", vec![upd]).await;
    assert_eq!(
        out["message"]["children"][0]["status"]["status_code"],
        "FAILED"
    );
    assert_ledger(&stack, &s, "0.2", "0.2").await;
    let (_, out) = stack
        .admin(
            "/allocation/_search",
            &search(json!({"location_code": LOC, "ids": [a1]})),
        )
        .await;
    assert_eq!(out["allocations"][0]["status"]["status_code"], "FAILED");
    // Events: allocations and the sanction's new balances.
    let balance_events = count(&stack, "SELECT count(*) FROM digit_outbox WHERE convert_from(payload, 'UTF8') LIKE '%BALANCE_CHANGED%'").await;
    assert_eq!(balance_events, 2);
}

#[tokio::test]
async fn ten_million_and_a_paisa_exactly() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Big").await;
    let s = sanction(&stack, &code, "10000000.01").await;
    allocate(
        &stack,
        "create",
        vec![line(&code, &s, "ALLOCATION", "10000000.01")],
    )
    .await;
    assert_ledger(&stack, &s, "10000000.01", "10000000.01").await;
    let out = allocate(
        &stack,
        "create",
        vec![line(&code, &s, "ALLOCATION", "0.01")],
    )
    .await;
    assert_eq!(child_status(&out, 0), "SANCTIONED_AMOUNT_ERROR_ALLOCATION Sanctioned amount should be greater than allocated amount");
    let out = allocate(
        &stack,
        "create",
        vec![line(&code, &s, "DEDUCTION", "10000000.02")],
    )
    .await;
    assert_eq!(
        child_status(&out, 0),
        "AVAILABLE_AMOUNT_ERROR_DEDUCTION Available amount should be greater than deduction amount"
    );
    allocate(
        &stack,
        "create",
        vec![line(&code, &s, "DEDUCTION", "10000000")],
    )
    .await;
    assert_ledger(&stack, &s, "0.01", "0.01").await;
}

#[tokio::test]
async fn allocation_rule_codes() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let other_code = program(&stack, "Drains").await;
    let s = sanction(&stack, &code, "80").await;
    let other_s = sanction(&stack, &other_code, "80").await;
    let out = allocate(&stack, "create", vec![line(&code, &s, "ALLOCATION", "10")]).await;
    let existing = out["message"]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let logs_before = count(&stack, "SELECT count(*) FROM eg_program_transaction_logs").await;
    let rows_before = count(&stack, "SELECT count(*) FROM eg_program_allocation").await;

    let mut other_loc = line(&code, &s, "ALLOCATION", "1");
    other_loc["location_code"] = json!("pg.cityb");
    let mut dup = line(&code, &s, "ALLOCATION", "1");
    dup["id"] = json!(existing);
    let mut known = line(&code, &s, "ALLOCATION", "1");
    known["id"] = json!(existing);
    let mut unknown = line(&code, &s, "ALLOCATION", "1");
    unknown["id"] = json!("no-such-allocation");
    let cases: Vec<(&str, Vec<Value>, String)> = vec![
        ("create", vec![line(&code, &s, "ALLOCATION", "1"), line(&other_code, &s, "ALLOCATION", "1")],
         "PROGRAM_CODE_ERROR Program code should be same for all allocations".into()),
        ("create", vec![line(&code, &s, "ALLOCATION", "1"), other_loc], "LOCATION_CODE_ERROR Location code should be same for all allocations".into()),
        ("create", vec![line("PG/none", &s, "ALLOCATION", "1")], "NO_PROGRAMS_FOUND No program found for code: PG/none".into()),
        ("create", vec![line(&code, "no-such-sanction", "ALLOCATION", "1")], "SANCTIONS_NOT_FOUND No sanction found for id(s): [no-such-sanction]".into()),
        ("create", vec![line(&code, &other_s, "ALLOCATION", "1")], "PROGRAM_CODE_ERROR_SANCTION Program code should be same as sanction program code".into()),
        ("create", vec![line(&code, &s, "ALLOCATION", "70.01")], "SANCTIONED_AMOUNT_ERROR_ALLOCATION Sanctioned amount should be greater than allocated amount".into()),
        ("create", vec![line(&code, &s, "DEDUCTION", "10.01")], "AVAILABLE_AMOUNT_ERROR_DEDUCTION Available amount should be greater than deduction amount".into()),
        // The net (+65) fits but the running total (+75 first) would pass the sanction.
        ("create", vec![line(&code, &s, "ALLOCATION", "75"), line(&code, &s, "DEDUCTION", "10")],
         "SANCTIONED_AMOUNT_ERROR_ALLOCATION Sanctioned amount should be greater than allocated amount".into()),
        ("create", vec![dup], format!("DUPLICATE_ALLOCATION_ID Duplicate allocation id(s): [{existing}]")),
        ("update", vec![known, line(&code, &s, "ALLOCATION", "1")], "INVALID_ALLOCATION_ID Allocation id cannot be empty".into()),
        ("update", vec![unknown], "ALLOCATIONS_NOT_FOUND No allocation found for id(s): [no-such-allocation]".into()),
    ];
    for (action, children, expected) in cases {
        let n = children.len();
        let out = allocate(&stack, action, children).await;
        for i in 0..n {
            assert_eq!(child_status(&out, i), expected, "{out}");
        }
    }
    let body = envelope(
        "on-allocation",
        "create",
        &own_id(),
        &other_id(),
        allocation("create", vec![line(&code, &s, "ALLOCATION", "1")])["message"].clone(),
    );
    let (_, out) = stack.admin("/on-allocation/_create", &body).await;
    assert_eq!(
        child_status(&out, 0),
        "RECEIVER_ID_CLIENT_HOST_URL_ERROR ReceiverId should be same as client host url"
    );

    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_transaction_logs").await,
        logs_before
    );
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_allocation").await,
        rows_before
    );
    assert_ledger(&stack, &s, "10", "10").await;
}

#[tokio::test]
async fn malformed_allocations_are_400_and_viewers_403() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let s = sanction(&stack, &code, "80").await;
    let mut no_status = line(&code, &s, "ALLOCATION", "1");
    no_status.as_object_mut().unwrap().remove("status");
    let mut no_type = line(&code, &s, "ALLOCATION", "1");
    no_type.as_object_mut().unwrap().remove("allocation_type");
    let cases = [
        (
            "/on-allocation/_create",
            allocation("create", vec![no_status]),
            "NotNull.allocationRequest.allocation.children.status",
        ),
        (
            "/on-allocation/_create",
            allocation("create", vec![no_type]),
            "NotNull.allocationRequest.allocation.children[0].allocationType",
        ),
        (
            "/on-allocation/_update",
            allocation("create", vec![line(&code, &s, "ALLOCATION", "1")]),
            "ACTION_ERROR",
        ),
        (
            "/on-allocation/_create",
            {
                let mut b = allocation("create", vec![line(&code, &s, "ALLOCATION", "1")]);
                b["header"]["sender_id"] = json!("nobody");
                b
            },
            "SENDER_ID_ERROR",
        ),
        (
            "/on-allocation/_create",
            {
                let mut b = allocation("create", vec![line(&code, &s, "ALLOCATION", "1")]);
                b["header"]["receiver_id"] = json!("nobody");
                b
            },
            "RECEIVER_ID_ERROR",
        ),
    ];
    for (path, body, code) in cases {
        let (status, out) = stack.admin(path, &body).await;
        assert_eq!(status, 400, "{code}: {out}");
        assert_eq!(out["Errors"][0]["code"], code, "{out}");
    }
    let body = allocation("create", vec![line(&code, &s, "ALLOCATION", "1")]);
    let (status, _) = stack
        .post("/on-allocation/_create", Some(&viewer()), &body)
        .await;
    assert_eq!(status, 403);
    let (status, _) = stack.post("/on-allocation/_create", None, &body).await;
    assert_eq!(status, 401);
    assert_ledger(&stack, &s, "0", "0").await;
}

#[tokio::test]
async fn the_same_allocation_delivered_twice_or_ten_times_at_once_counts_once() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let s = sanction(&stack, &code, "100").await;
    let body = allocation("create", vec![line(&code, &s, "ALLOCATION", "7.5")]);
    let (_, first) = stack.admin("/on-allocation/_create", &body).await;
    let (_, second) = stack.admin("/on-allocation/_create", &body).await;
    assert_eq!(first, second);
    assert_ledger(&stack, &s, "7.5", "7.5").await;

    let body = allocation("create", vec![line(&code, &s, "ALLOCATION", "2.5")]);
    let outs =
        futures::future::join_all((0..10).map(|_| stack.admin("/on-allocation/_create", &body)))
            .await;
    for (status, out) in &outs {
        assert_eq!(*status, 200, "{out}");
        assert_eq!(out, &outs[0].1);
    }
    assert_ledger(&stack, &s, "10", "10").await;
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_allocation").await,
        2
    );
}

#[tokio::test]
async fn concurrent_allocations_never_exceed_the_sanction() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let s = sanction(&stack, &code, "150").await;
    let bodies: Vec<Value> = (0..20)
        .map(|_| allocation("create", vec![line(&code, &s, "ALLOCATION", "10")]))
        .collect();
    let outs = futures::future::join_all(
        bodies
            .iter()
            .map(|b| stack.admin("/on-allocation/_create", b)),
    )
    .await;
    let mut ok = 0;
    for (status, out) in &outs {
        assert_eq!(*status, 200, "{out}");
        match out["message"]["children"][0]["status"]["status_code"].as_str() {
            Some("SUCCESSFUL") => ok += 1,
            _ => assert_eq!(
                child_status(out, 0),
                "SANCTIONED_AMOUNT_ERROR_ALLOCATION Sanctioned amount should be greater than allocated amount"
            ),
        }
    }
    assert_eq!(ok, 15);
    assert_ledger(&stack, &s, "150", "150").await;
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_allocation").await,
        15
    );
}
