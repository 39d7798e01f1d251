//! The iFIX conversation between two domains over real HTTP, the real broker and Postgres:
//! a program created by the department gets its code from the treasury; the treasury's
//! sanction and allocation reach the department with equal balances on both ledgers; a
//! payment from the department reaches the treasury, whose adapter is down, and the ERROR
//! reply returns and refunds the department once — in clear and with `is_msg_encrypted`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifix::TwoDomains;
use digit_e2e::program::envelope;
use serde_json::{json, Value};

const BALANCES: &str =
    "SELECT trim_scale(allocated_amount)::text || '/' || trim_scale(available_amount)::text
                          FROM eg_program_sanction WHERE id = $1";

fn line(code: &str, target: &str, gross: &str, sanction: &str) -> Value {
    json!({"location_code": "pg.citya", "program_code": code, "target_id": target, "sanction_id": sanction,
        "account_code": "1234567890@SBIN0003491", "net_amount": serde_json::from_str::<Value>(gross).unwrap(),
        "gross_amount": serde_json::from_str::<Value>(gross).unwrap(),
        "individual": {"name": "Asha Devi", "phone": "9999999999", "address": "12 Temple Road", "pin": "751001"}})
}

async fn pay(d: &TwoDomains, code: &str, sanction: &str, target: &str, encrypted: bool) -> Value {
    let gross = "250.25";
    let mut body = envelope(
        "disburse",
        "create",
        &d.department.participant(),
        &d.treasury.participant(),
        json!({"location_code": "pg.citya", "program_code": code, "target_id": target, "sanction_id": sanction,
            "net_amount": 250.25, "gross_amount": 250.25,
            "children": [line(code, &format!("{target}-L1"), gross, sanction)]}),
    );
    body["header"]["is_msg_encrypted"] = json!(encrypted);
    let (status, paid) = d.post(&d.department, "/disburse/_create", &body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        paid["message"]["status"]["status_code"], "INITIATED",
        "{paid}"
    );
    paid
}

/// The department creates a program; the treasury assigns its code and replies; the code
/// is the same on both sides.
async fn program_with_code(d: &TwoDomains) -> String {
    let (dept, treasury) = (&d.department, &d.treasury);
    let (status, created) = d
        .post(
            dept,
            "/program/_create",
            &envelope("program", "create", &dept.participant(), &treasury.participant(),
                json!({"location_code": "pg.citya", "name": "Roads 2026", "start_date": 1672531200})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert!(created["message"]["program_code"].is_null());
    let program_id = created["message"]["id"].as_str().unwrap().to_owned();
    let code_query = "SELECT program_code FROM eg_program WHERE id = $1";
    let code = loop {
        let code: Option<Option<String>> = sqlx::query_scalar(code_query)
            .bind(&program_id)
            .fetch_optional(treasury.program_db.pool())
            .await
            .unwrap();
        if let Some(Some(code)) = code {
            break code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(code.starts_with("PROG/"), "{code}");
    d.await_value(&dept.program_db, code_query, &program_id, &code)
        .await;

    code
}

/// The treasury sanctions 1000.10 and allocates 0.1 + 0.2 + 999.8: both ledgers agree.
async fn funded_sanction(d: &TwoDomains, code: &str) -> String {
    let (dept, treasury) = (&d.department, &d.treasury);
    let sanction = json!({"location_code": "pg.citya", "program_code": code, "net_amount": 1000.10,
        "gross_amount": 1000.10, "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let mut parent = sanction.clone();
    parent["children"] = json!([sanction]);
    let (status, sanctioned) = d
        .post(
            treasury,
            "/on-sanction/_create",
            &envelope(
                "on-sanction",
                "create",
                &treasury.participant(),
                &dept.participant(),
                parent,
            ),
        )
        .await;
    assert_eq!(status, 200, "{sanctioned}");
    let sanction_id = sanctioned["message"]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let allocation = |gross: &str| {
        json!({"location_code": "pg.citya", "program_code": code, "sanction_id": sanction_id,
            "net_amount": serde_json::from_str::<Value>(gross).unwrap(), "gross_amount": serde_json::from_str::<Value>(gross).unwrap(),
            "allocation_type": "ALLOCATION", "status": {"status_code": "SUCCESSFUL", "status_message": null}})
    };
    let mut parent = allocation("1000.1");
    parent["children"] = json!([allocation("0.1"), allocation("0.2"), allocation("999.8")]);
    let (status, allocated) = d
        .post(
            treasury,
            "/on-allocation/_create",
            &envelope(
                "on-allocation",
                "create",
                &treasury.participant(),
                &dept.participant(),
                parent,
            ),
        )
        .await;
    assert_eq!(status, 200, "{allocated}");
    d.await_value(
        &treasury.program_db,
        BALANCES,
        &sanction_id,
        "1000.1/1000.1",
    )
    .await;
    d.await_value(&dept.program_db, BALANCES, &sanction_id, "1000.1/1000.1")
        .await;

    sanction_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_program_its_funds_and_a_failed_payment_cross_both_domains() {
    // The treasury's adapter is down (nothing listens on port 9): its payments fail fast.
    let d = TwoDomains::start(
        &[
            ("ADAPTER_HOST", "http://127.0.0.1:9/"),
            ("OUTBOX_MAX_ATTEMPTS", "2"),
        ],
        &[],
    )
    .await;
    let (dept, treasury) = (&d.department, &d.treasury);
    let code = program_with_code(&d).await;
    let sanction_id = funded_sanction(&d, &code).await;

    // 3. A payment (in clear, then encrypted in transit): the treasury's adapter is down, so
    //    both ledgers refund once and end where they started.
    for (target, encrypted) in [("EP/TWO/1", false), ("EP/TWO/2", true)] {
        let paid = pay(&d, &code, &sanction_id, target, encrypted).await;
        let payment_id = paid["message"]["id"].as_str().unwrap().to_owned();
        let status_query = "SELECT status FROM eg_program_disburse WHERE id = $1";
        d.await_value(&treasury.program_db, status_query, &payment_id, "ERROR")
            .await;
        d.await_value(&dept.program_db, status_query, &payment_id, "ERROR")
            .await;
        for db in [&treasury.program_db, &dept.program_db] {
            d.await_value(db, BALANCES, &sanction_id, "1000.1/1000.1")
                .await;
            let refunds: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM eg_program_transaction_logs WHERE disburse_id = $1 AND kind = 'REFUND'",
            )
            .bind(&payment_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(refunds, 1, "one refund on each ledger");
        }
        if encrypted {
            // The treasury's copy arrived decrypted (its PII is its own ciphertext at rest).
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT account_code FROM eg_program_disburse WHERE parent_id = $1",
            )
            .bind(&payment_id)
            .fetch_one(treasury.program_db.pool())
            .await
            .unwrap();
            assert!(stored.is_some_and(|a| !a.contains("1234567890")));
        }
    }
}

/// A message the treasury's exchange would send to the department's: signed with the
/// treasury's key (upstream sample key 2) and sealed.
fn from_treasury(d: &TwoDomains, message_type: &str, message: &Value) -> Value {
    use digit_exchange::security::{seal, Signer};
    let key = std::fs::read_to_string(
        digit_e2e::repo_root().join("configs/exchange/sample_private_key-2.pem"),
    )
    .unwrap();
    let signer = Signer::from_pem(&key).unwrap();
    let mut body = digit_e2e::exchange::envelope(
        message_type,
        "create",
        &d.treasury.participant(),
        &d.department.participant(),
        message,
    );
    let text = body["message"].as_str().unwrap().to_owned();
    let h = body["header"].clone();
    let input = seal::SealInput {
        message: &text,
        message_id: h["message_id"].as_str().unwrap(),
        message_ts: h["message_ts"].as_i64().unwrap(),
        message_type,
        action: "create",
        sender_id: h["sender_id"].as_str().unwrap(),
        receiver_id: h["receiver_id"].as_str().unwrap(),
    };
    body["signature"] = json!(signer.sign(&text));
    body["seal"] = json!(seal::seal(&signer, &input).unwrap());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_and_replayed_messages_leave_both_ledgers_unchanged() {
    let d = TwoDomains::start(&[], &[]).await;
    let code = program_with_code(&d).await;
    let sanction_id = funded_sanction(&d, &code).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/exchange/on-allocation", d.department.exchange_url);
    let allocation = json!({"location_code": "pg.citya", "program_code": code, "sanction_id": sanction_id,
        "net_amount": 5, "gross_amount": 5, "allocation_type": "DEDUCTION",
        "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let mut message = allocation.clone();
    message["children"] = json!([allocation]);
    let signed = from_treasury(&d, "on-allocation", &message);
    let send = |body: Value| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client.post(url).json(&body).send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // Forged: the message changed after signing (a bigger deduction), or signed with the
    // department's own key by someone posing as the treasury.
    let mut tampered = signed.clone();
    tampered["message"] = json!(signed["message"]
        .as_str()
        .unwrap()
        .replace("\"gross_amount\":5", "\"gross_amount\":500"));
    let (status, out) = send(tampered).await;
    assert_eq!(status, 401, "{out}");
    assert_eq!(out["Errors"][0]["code"], "INVALID_SIGNATURE");
    let mut header_changed = signed.clone();
    header_changed["header"]["action"] = json!("update");
    let (status, out) = send(header_changed).await;
    assert_eq!(status, 401, "{out}");

    // The genuine message once, then its replay.
    let (status, out) = send(signed.clone()).await;
    assert_eq!(status, 200, "{out}");
    d.await_value(
        &d.department.program_db,
        BALANCES,
        &sanction_id,
        "995.1/995.1",
    )
    .await;
    let (status, out) = send(signed).await;
    assert_eq!(status, 409, "{out}");
    assert_eq!(out["Errors"][0]["code"], "REPLAYED_MESSAGE");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    d.await_value(
        &d.department.program_db,
        BALANCES,
        &sanction_id,
        "995.1/995.1",
    )
    .await;
    let deductions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eg_program_transaction_logs WHERE sanction_id = $1 AND kind = 'DEDUCTION'",
    )
    .bind(&sanction_id)
    .fetch_one(d.department.program_db.pool())
    .await
    .unwrap();
    assert_eq!(deductions, 1, "the replay changed nothing");
    // The treasury's ledger never saw either (the messages were addressed to the department).
    d.await_value(
        &d.treasury.program_db,
        BALANCES,
        &sanction_id,
        "1000.1/1000.1",
    )
    .await;
}
