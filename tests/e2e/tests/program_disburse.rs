//! Disbursement rules (spec §1.7.5): one test per code, each producing it through the API
//! on the real database — HTTP 200, the payment and every line `ERROR` with
//! `"<CODE> <message>"` byte-identical to upstream's catalogue, nothing written but the
//! answer (and, for disburse create/update, the reply to the sender, §1.10).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::{envelope, other_id, own_id, ProgramStack};
use program_disburse_common::*;
use serde_json::{json, Value};

async fn refused_create(stack: &ProgramStack, message: Value, expected: &str) -> Value {
    let (status, out) = stack.admin("/disburse/_create", &create(message)).await;
    assert_eq!(status, 200, "{out}");
    assert_refused(&out, expected.split(' ').next().unwrap());
    assert_eq!(
        out["message"]["status"]["status_message"], expected,
        "{out}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM eg_program_disburse")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0, "a refused payment leaves no row");
    out
}

async fn refused(stack: &ProgramStack, path: &str, body: &Value, expected: &str) -> Value {
    let (status, out) = stack.admin(path, body).await;
    assert_eq!(status, 200, "{out}");
    assert_refused(&out, expected.split(' ').next().unwrap());
    assert_eq!(
        out["message"]["status"]["status_message"], expected,
        "{out}"
    );
    out
}

#[tokio::test]
async fn child_disbursement_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = simple("T1", "10");
    m["children"] = json!([]);
    let out = refused_create(
        &stack,
        m,
        "CHILD_DISBURSEMENT_ERROR Child disbursements should not be null or empty",
    )
    .await;
    // §1.10: the sender (this installation's adapter) is told, through the outbox.
    assert_eq!(out["header"]["message_type"], "on-disburse");
    assert_eq!(out["header"]["receiver_id"], own_id());
    let rows = outbox(&stack.db).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].1,
        "http://127.0.0.1:8085/ifms/v1/on-disburse/_create"
    );
    assert_eq!(rows[0].2["message"]["status"]["status_code"], "ERROR");

    // An update naming a line without id.
    let answer = created(&stack, simple("T2", "10")).await;
    let mut m = answer["message"].clone();
    m["children"][0]["id"] = Value::Null;
    refused(
        &stack,
        "/disburse/_update",
        &update(m),
        "CHILD_DISBURSEMENT_ERROR Child disbursements should not be null or empty",
    )
    .await;
}

#[tokio::test]
async fn individual_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = simple("T1", "10");
    m["children"][0]["individual"] = Value::Null;
    refused_create(&stack, m, "INDIVIDUAL_ERROR Individual should not be null").await;
}

#[tokio::test]
async fn account_code_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = simple("T1", "10");
    m["children"][0]
        .as_object_mut()
        .unwrap()
        .remove("account_code");
    refused_create(
        &stack,
        m,
        "ACCOUNT_CODE_ERROR Account code should not be null or empty",
    )
    .await;
}

#[tokio::test]
async fn multiple_child_disbursement_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = simple("T1", "10");
    m["children"][0]["children"] = json!([]);
    refused_create(
        &stack,
        m,
        "MULTIPLE_CHILD_DISBURSEMENT_ERROR Currently child disbursement should not have child disbursements",
    )
    .await;
}

#[tokio::test]
async fn disbursement_location_code_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = payment("T1", "20", "20", &[("10", "10"), ("10", "10")]);
    m["children"][1]["location_code"] = json!("pg.cityb");
    refused_create(
        &stack,
        m,
        "DISBURSEMENT_LOCATION_CODE_ERROR Disbursement location code should be same as child disbursement location code",
    )
    .await;
}

#[tokio::test]
async fn disbursement_program_code_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let mut m = simple("T1", "10");
    m["children"][0]["program_code"] = json!("P2");
    refused_create(
        &stack,
        m,
        "DISBURSEMENT_PROGRAM_CODE_ERROR Disbursement program code should be same as child disbursement program code",
    )
    .await;
}

#[tokio::test]
async fn disbursement_net_amount_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    // 0.1 + 0.2 is 0.3 exactly; the double sum 0.30000000000000004 is not.
    let m = payment(
        "T1",
        "0.30000000000000004",
        "0.3",
        &[("0.1", "0.1"), ("0.2", "0.2")],
    );
    refused_create(
        &stack,
        m,
        "DISBURSEMENT_NET_AMOUNT_ERROR Disbursement amount should be equal to child disbursement net amount",
    )
    .await;
    created(
        &stack,
        payment("T2", "0.3", "0.3", &[("0.1", "0.1"), ("0.2", "0.2")]),
    )
    .await;
}

#[tokio::test]
async fn disbursement_gross_amount_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let m = payment("T1", "0.3", "0.31", &[("0.1", "0.1"), ("0.2", "0.2")]);
    refused_create(
        &stack,
        m,
        "DISBURSEMENT_GROSS_AMOUNT_ERROR Disbursement amount should be equal to child disbursement gross amount",
    )
    .await;
}

#[tokio::test]
async fn disbursement_sanction_id_error() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    let mut m = payment("T1", "20", "20", &[("10", "10"), ("10", "10")]);
    m["sanction_id"] = json!(sanction);
    m["children"][0]["sanction_id"] = json!(sanction.to_uppercase()); // case-insensitive, as upstream
    refused_create(
        &stack,
        m,
        "DISBURSEMENT_SANCTION_ID_ERROR Disbursement sanction id should be same as child disbursement sanction id",
    )
    .await;
}

#[tokio::test]
async fn no_sanction_found() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    // A sanction of another program is not this payment's either.
    program(&stack.db, "P2").await;
    let other = sanction(&stack.db, "P2", "1000", "1000", 5).await;
    for id in ["S-404", other.as_str()] {
        let mut m = simple(&format!("T-{id}"), "10");
        m["sanction_id"] = json!(id);
        m["children"][0]["sanction_id"] = json!(id);
        refused_create(
            &stack,
            m,
            &format!("NO_SANCTION_FOUND No sanction found for id: {id}"),
        )
        .await;
    }
    assert_available(&stack.db, &other, "1000").await;
}

#[tokio::test]
async fn sanction_available_amount_error() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "100").await;
    let mut m = simple("T1", "100.01");
    m["sanction_id"] = json!(sanction);
    m["children"][0]["sanction_id"] = json!(sanction);
    refused_create(
        &stack,
        m,
        "SANCTION_AVAILABLE_AMOUNT_ERROR Sanction available amount should be greater than disbursement amount",
    )
    .await;
    assert_available(&stack.db, &sanction, "100").await;
}

#[tokio::test]
async fn no_sanction_available_for_amount() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "20000000", "10000000").await;
    // The amount as upstream's Double prints it.
    refused_create(
        &stack,
        simple("T1", "10000000.01"),
        "NO_SANCTION_AVAILABLE_FOR_AMOUNT No sanction available for disburse amount 1.000000001E7",
    )
    .await;
    assert_available(&stack.db, &sanction, "10000000").await;
}

#[tokio::test]
async fn disbursement_id_null_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let answer = created(&stack, simple("T1", "10")).await;
    let mut m = answer["message"].clone();
    m["id"] = Value::Null;
    refused(
        &stack,
        "/disburse/_update",
        &update(m.clone()),
        "DISBURSEMENT_ID_NULL_ERROR Disbursement id should not be null or empty",
    )
    .await;
    refused(
        &stack,
        "/on-disburse/_update",
        &reply("update", m),
        "DISBURSEMENT_ID_NULL_ERROR Disbursement id should not be null or empty",
    )
    .await;
}

#[tokio::test]
async fn disbursement_id_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let answer = created(&stack, simple("T1", "10")).await;
    let mut m = simple("T2", "10");
    m["id"] = answer["message"]["id"].clone();
    let (status, out) = stack.admin("/disburse/_create", &create(m)).await;
    assert_eq!(status, 200);
    assert_eq!(
        out["message"]["status"]["status_message"],
        "DISBURSEMENT_ID_ERROR Disbursement id should be unique",
        "{out}"
    );
    // A line's id too (upstream failed with a database error).
    let mut m = simple("T3", "10");
    m["children"][0]["id"] = answer["message"]["children"][0]["id"].clone();
    let (_, out) = stack.admin("/disburse/_create", &create(m)).await;
    assert_eq!(
        out["message"]["status"]["status_message"],
        "DISBURSEMENT_ID_ERROR Disbursement id should be unique",
        "{out}"
    );
}

#[tokio::test]
async fn no_disbursement_found() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let answer = created(&stack, simple("T1", "10")).await;
    let mut m = answer["message"].clone();
    m["id"] = json!("D-404");
    refused(
        &stack,
        "/disburse/_update",
        &update(m.clone()),
        "NO_DISBURSEMENT_FOUND No disbursement found for id: D-404",
    )
    .await;
    refused(
        &stack,
        "/on-disburse/_update",
        &reply("update", m),
        "NO_DISBURSEMENT_FOUND No disbursement found for id: D-404",
    )
    .await;
}

#[tokio::test]
async fn child_disbursement_id_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let first = created(&stack, simple("T1", "10")).await;
    let second = created(&stack, simple("T2", "10")).await;
    let mut m = first["message"].clone();
    m["children"][0]["id"] = second["message"]["children"][0]["id"].clone();
    refused(
        &stack,
        "/disburse/_update",
        &update(m),
        "CHILD_DISBURSEMENT_ID_ERROR Child disbursement id should be present in db",
    )
    .await;
}

#[tokio::test]
async fn disbursement_already_present_error() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    created(&stack, simple("T1", "10")).await;
    refused(
        &stack,
        "/disburse/_create",
        &create(simple("T1", "10")),
        "DISBURSEMENT_ALREADY_PRESENT_ERROR Disbursement already present for target id: T1",
    )
    .await;
    assert_available(&stack.db, &sanction, "990").await;
}

#[tokio::test]
async fn transaction_id_mandatory() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let answer = created(&stack, simple("T1", "10")).await;
    let mut m = with_status(&answer, "INITIATED", &["INITIATED"]);
    m["children"][0]["transaction_id"] = Value::Null;
    refused(
        &stack,
        "/on-disburse/_create",
        &reply("create", m.clone()),
        "TRANSACTION_ID_MANDATORY Transaction id is mandatory",
    )
    .await;
    // on-disburse/_update does not require them.
    let (_, out) = stack
        .admin("/on-disburse/_update", &reply("update", m))
        .await;
    assert_eq!(
        out["message"]["status"]["status_code"], "INITIATED",
        "{out}"
    );
}

#[tokio::test]
async fn receiver_id_client_host_url_error() {
    let stack = ProgramStack::start().await;
    funded(&stack, "1000", "1000").await;
    let answer = created(&stack, simple("T1", "10")).await;
    let before = outbox(&stack.db).await.len();
    let m = with_status(&answer, "FAILED", &["FAILED"]);
    let body = envelope(
        "on-disburse",
        "create",
        &other_id(),
        "program@http://127.0.0.1:9999/digit-exchange",
        m,
    );
    refused(
        &stack,
        "/on-disburse/_create",
        &body,
        "RECEIVER_ID_CLIENT_HOST_URL_ERROR ReceiverId should be same as client host url",
    )
    .await;
    // A refused reply tells no one and refunds nothing.
    assert_eq!(outbox(&stack.db).await.len(), before);
    let id = answer["message"]["id"].as_str().unwrap();
    assert_eq!(stored(&stack.db, id).await.0.as_deref(), Some("INITIATED"));
    assert_eq!(ledger_rows(&stack.db, id, "REFUND").await, 0);
}
