//! Sanctions (spec §1.8): on-sanction create and update (only the children are stored,
//! balances start at 0 and are answered), the forward when the receiver is another
//! installation, searches with every criterion and paging, every sanction rule code, the
//! 400s (header, binding, missing status or children), 403 for a viewer, and a redelivered
//! message answering its stored result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::program::{envelope, other_id, own_id, viewer, ProgramStack};
use serde_json::{json, Value};

const LOC: &str = "pg.citya";
const EXCHANGE: &str = "http://127.0.0.1:8084/digit-exchange/v1/exchange/";

/// A program owned here; its code.
async fn program(stack: &ProgramStack, name: &str) -> String {
    let msg = json!({"location_code": LOC, "name": name, "start_date": 1672531200});
    let body = envelope("program", "create", &other_id(), &own_id(), msg);
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    out["message"]["program_code"].as_str().unwrap().to_owned()
}

fn child(code: &str, gross: f64) -> Value {
    json!({
        "location_code": LOC, "program_code": code, "net_amount": gross, "gross_amount": gross,
        "status": {"status_code": "INITIATED", "status_message": "INITIATED"},
        "function_code": "FC001", "currency_code": "INR", "additional_details": {"ref": "JIT-1"}
    })
}

fn sanction(code: &str, children: Vec<Value>) -> Value {
    json!({
        "location_code": LOC, "program_code": code, "net_amount": 1, "gross_amount": 1,
        "status": {"status_code": "INITIATED", "status_message": "INITIATED"},
        "children": children
    })
}

fn on_sanction(action: &str, message: Value) -> Value {
    envelope("on-sanction", action, &other_id(), &own_id(), message)
}

fn child_status(out: &Value, i: usize) -> (String, String) {
    let s = &out["message"]["children"][i]["status"];
    (
        s["status_code"].as_str().unwrap_or_default().to_owned(),
        s["status_message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn count(stack: &ProgramStack, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(stack.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn create_update_and_search_sanctions() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let mut first = child(&code, 250000.0);
    first["id"] = json!("5a000000-0000-4000-8000-000000000001");
    let body = on_sanction("create", sanction(&code, vec![first, child(&code, 0.1)]));
    let (status, out) = stack.admin("/on-sanction/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    let m = &out["message"];
    let parent_id = m["id"].as_str().unwrap();
    assert_eq!(out["header"]["message_id"], parent_id);
    assert_eq!(m["type"], "sanction");
    assert_eq!(m["status"]["status_code"], "INITIATED");
    let c0 = &m["children"][0];
    assert_eq!(c0["id"], "5a000000-0000-4000-8000-000000000001");
    assert_eq!(c0["type"], "sanction");
    assert_eq!(c0["allocated_amount"], json!(0));
    assert_eq!(c0["available_amount"], json!(0));
    assert_eq!(c0["audit_details"]["createdBy"], other_id());
    let second = m["children"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(m["children"][1]["gross_amount"].to_string(), "0.1");
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_sanction").await,
        2
    );
    assert_eq!(
        count(
            &stack,
            &format!("SELECT count(*) FROM eg_program_sanction WHERE id = '{parent_id}'")
        )
        .await,
        0
    );
    // Same domain: no forward; one event per sanction.
    let topic = format!("ifix-sanction-events-{}", stack.tag);
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM digit_outbox WHERE kind = 'http' AND http_url LIKE '%sanction%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &stack,
            &format!("SELECT count(*) FROM digit_outbox WHERE topic = '{topic}'")
        )
        .await,
        2
    );

    // Update: status echoed and stored, amounts untouched.
    let mut upd = child(&code, 999.0);
    upd["id"] = json!(second);
    upd["status"] = json!({"status_code": "APPROVED", "status_message": "APPROVED"});
    let mut msg = sanction(&format!("{{{code}}}"), vec![upd]);
    msg["id"] = json!(second);
    msg["status"] = json!({"status_code": "APPROVED", "status_message": "APPROVED"});
    let (status, out) = stack
        .admin("/on-sanction/_update", &on_sanction("update", msg))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["message"]["status"]["status_code"], "APPROVED");
    assert_eq!(child_status(&out, 0).0, "APPROVED");

    let search = |m: Value| envelope("sanction", "SEARCH", &own_id(), &other_id(), m);
    let (status, out) = stack
        .admin(
            "/sanction/_search",
            &search(json!({"location_code": LOC, "ids": [second]})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let s = &out["sanctions"][0];
    assert_eq!(s["id"], second);
    assert_eq!(s["status"]["status_code"], "APPROVED");
    assert_eq!(s["gross_amount"].to_string(), "0.1");
    assert_eq!(s["allocated_amount"], json!(0));
    assert_eq!(s["available_amount"], json!(0));
    assert_eq!(s["function_code"], "FC001");
    assert_eq!(s["type"], "sanction");
    assert_eq!(s["additional_details"]["ref"], "JIT-1");
    assert_eq!(out["pagination"]["total_count"], 1);
    let (_, out) = stack
        .admin(
            "/sanction/_search",
            &search(json!({"location_code": LOC, "program_code": code})),
        )
        .await;
    assert_eq!(out["sanctions"].as_array().unwrap().len(), 2);
    let (_, out) = stack
        .admin(
            "/sanction/_search",
            &search(json!({"location_code": LOC, "program_code": "PG/none"})),
        )
        .await;
    assert_eq!(out["sanctions"].as_array().unwrap().len(), 0);
    let (_, out) = stack
        .admin("/sanction/_search", &search(json!({"location_code": LOC, "pagination": {"sort_by": "gross_amount", "sort_order": "ASC", "limit": 1}})))
        .await;
    assert_eq!(out["sanctions"].as_array().unwrap().len(), 1);
    assert_eq!(out["sanctions"][0]["id"], second);
    assert_eq!(out["pagination"]["total_count"], 2);
    let (_, out) = stack
        .admin(
            "/sanction/_search",
            &search(json!({"location_code": "pg.cityb"})),
        )
        .await;
    assert_eq!(out["sanctions"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn forwards_on_sanction_when_the_receiver_is_another_installation() {
    // Replies must be addressed to the MDMS row EXCHANGE_URL_CODE names; with IFMS that is
    // the other installation, so the message is forwarded there through the exchange.
    let stack = ProgramStack::start_with(&[("EXCHANGE_URL_CODE", "IFMS")]).await;
    let code = program(&stack, "Roads").await;
    let body = envelope(
        "on-sanction",
        "create",
        &own_id(),
        &other_id(),
        sanction(&code, vec![child(&code, 5.0)]),
    );
    let (status, out) = stack.admin("/on-sanction/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(child_status(&out, 0).0, "INITIATED", "{out}");
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT http_url, payload FROM digit_outbox WHERE kind = 'http' AND http_url LIKE '%on-sanction'")
        .fetch_all(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, format!("{EXCHANGE}on-sanction"));
    let payload: Value = serde_json::from_slice(&rows[0].1).unwrap();
    let inner: Value = serde_json::from_str(payload["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        inner["children"][0]["id"],
        out["message"]["children"][0]["id"]
    );
    assert_eq!(payload["header"]["receiver_id"], other_id());
}

#[tokio::test]
async fn sanction_rule_codes() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let (_, out) = stack
        .admin(
            "/on-sanction/_create",
            &on_sanction("create", sanction(&code, vec![child(&code, 10.0)])),
        )
        .await;
    let existing = out["message"]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rows_before = count(&stack, "SELECT count(*) FROM eg_program_sanction").await;

    let mut other_loc = child(&code, 1.0);
    other_loc["location_code"] = json!("pg.cityb");
    let mut dup = child(&code, 1.0);
    dup["id"] = json!(existing);
    let mut twice_a = child(&code, 1.0);
    twice_a["id"] = json!("5a000000-0000-4000-8000-0000000000aa");
    let twice_b = twice_a.clone();
    let mut known = child(&code, 1.0);
    known["id"] = json!(existing);
    let mut unknown = child(&code, 1.0);
    unknown["id"] = json!("no-such-sanction");
    let cases: Vec<(&str, Vec<Value>, String)> = vec![
        ("create", vec![child(&code, 1.0), child("PG/other", 1.0)], "SAME_PROGRAM_CODE Program code should be same for all Sanction".into()),
        ("create", vec![child(&code, 1.0), other_loc], "SAME_LOCATION_CODE Location code should be same for all Sanction".into()),
        ("create", vec![child("PG/none", 1.0)], "NO_PROGRAMS_FOUND No program found for code: PG/none".into()),
        ("create", vec![dup], format!("DUPLICATE_SANCTION_ID Duplicate sanction id(s): [{existing}]")),
        ("create", vec![twice_a, twice_b], "DUPLICATE_SANCTION_ID Duplicate sanction id(s): [5a000000-0000-4000-8000-0000000000aa]".into()),
        ("update", vec![known, child(&code, 1.0)], "SANCTION_ID_NULL Sanction id cannot be null or empty".into()),
        ("update", vec![unknown], "NO_SANCTIONS_FOUND No sanction found for id(s): [no-such-sanction]".into()),
    ];
    for (action, children, expected) in cases {
        let n = children.len();
        let body = on_sanction(action, sanction(&code, children));
        let (status, out) = stack.admin(&format!("/on-sanction/_{action}"), &body).await;
        assert_eq!(status, 200, "{out}");
        for i in 0..n {
            assert_eq!(
                child_status(&out, i),
                ("ERROR".into(), expected.clone()),
                "{out}"
            );
        }
        assert!(out["message"]["id"].is_null(), "no parent id on failure");
        // A redelivery answers the stored ERROR.
        let (_, again) = stack.admin(&format!("/on-sanction/_{action}"), &body).await;
        assert_eq!(again, out);
    }
    // A reply addressed elsewhere than the MDMS host.
    let body = envelope(
        "on-sanction",
        "create",
        &own_id(),
        &other_id(),
        sanction(&code, vec![child(&code, 1.0)]),
    );
    let (_, out) = stack.admin("/on-sanction/_create", &body).await;
    assert_eq!(
        child_status(&out, 0).1,
        "RECEIVER_ID_CLIENT_HOST_URL_ERROR ReceiverId should be same as client host url"
    );
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_sanction").await,
        rows_before
    );
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM digit_outbox WHERE kind = 'http' AND http_url LIKE '%sanction%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn malformed_sanctions_are_400() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let mut no_status = child(&code, 1.0);
    no_status.as_object_mut().unwrap().remove("status");
    let mut no_code = child(&code, 1.0);
    no_code.as_object_mut().unwrap().remove("program_code");
    let cases = [
        (
            "/on-sanction/_create",
            on_sanction("create", sanction(&code, vec![no_status])),
            "NotNull.sanctionRequest.sanction.children.status",
        ),
        (
            "/on-sanction/_create",
            on_sanction("create", sanction(&code, vec![])),
            "NotEmpty.sanctionRequest.sanction.children",
        ),
        (
            "/on-sanction/_create",
            on_sanction("create", sanction(&code, vec![no_code])),
            "NotNull.sanctionRequest.sanction.children[0].programCode",
        ),
        (
            "/on-sanction/_create",
            on_sanction("update", sanction(&code, vec![child(&code, 1.0)])),
            "ACTION_ERROR",
        ),
        (
            "/on-sanction/_update",
            envelope(
                "on-allocation",
                "update",
                &other_id(),
                &own_id(),
                sanction(&code, vec![child(&code, 1.0)]),
            ),
            "MESSAGE_TYPE_ERROR",
        ),
        (
            "/on-sanction/_create",
            envelope(
                "on-sanction",
                "create",
                &own_id(),
                &own_id(),
                sanction(&code, vec![child(&code, 1.0)]),
            ),
            "RECEIVER_ID_SENDER_ID_ERROR",
        ),
        (
            "/on-sanction/_create",
            {
                let mut m = sanction(&code, vec![child(&code, 1.0)]);
                m["gross_amount"] = json!(0);
                on_sanction("create", m)
            },
            "DecimalMin.sanctionRequest.sanction.grossAmount",
        ),
    ];
    for (path, body, code) in cases {
        let (status, out) = stack.admin(path, &body).await;
        assert_eq!(status, 400, "{code}: {out}");
        assert_eq!(out["Errors"][0]["code"], code, "{out}");
    }
    let body = on_sanction("create", sanction(&code, vec![child(&code, 1.0)]));
    let (status, _) = stack
        .post("/on-sanction/_create", Some(&viewer()), &body)
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_sanction").await,
        0
    );
}

#[tokio::test]
async fn a_redelivered_sanction_is_stored_once() {
    let stack = ProgramStack::start().await;
    let code = program(&stack, "Roads").await;
    let body = on_sanction("create", sanction(&code, vec![child(&code, 1.0)]));
    let outs =
        futures::future::join_all((0..5).map(|_| stack.admin("/on-sanction/_create", &body))).await;
    for (status, out) in &outs {
        assert_eq!(*status, 200);
        assert_eq!(out, &outs[0].1);
    }
    assert_eq!(
        count(&stack, "SELECT count(*) FROM eg_program_sanction").await,
        1
    );
}
