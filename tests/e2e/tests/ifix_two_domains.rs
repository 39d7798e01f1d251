//! The iFIX conversation between two domains over real HTTP, the real broker and Postgres:
//! a program created by the department gets its code from the treasury; the treasury's
//! sanction and allocation reach the department with equal balances on both ledgers; a
//! payment from the department reaches the treasury, whose adapter is down, and the ERROR
//! reply returns and refunds the department once — in clear and with `is_msg_encrypted`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifix::TwoDomains;
use digit_e2e::program::envelope;
use serde_json::{json, Value};

const BALANCES: &str = "SELECT trim_scale(allocated_amount)::text || '/' || trim_scale(available_amount)::text
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
    assert_eq!(paid["message"]["status"]["status_code"], "INITIATED", "{paid}");
    paid
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

    // 1. The department creates a program; the treasury assigns its code and replies.
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
    d.await_value(&dept.program_db, code_query, &program_id, &code).await;

    // 2. The treasury sanctions 1000.10 and allocates 0.1 + 0.2 + 999.8: both ledgers agree.
    let sanction = json!({"location_code": "pg.citya", "program_code": code, "net_amount": 1000.10,
        "gross_amount": 1000.10, "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let mut parent = sanction.clone();
    parent["children"] = json!([sanction]);
    let (status, sanctioned) = d
        .post(treasury, "/on-sanction/_create",
            &envelope("on-sanction", "create", &treasury.participant(), &dept.participant(), parent))
        .await;
    assert_eq!(status, 200, "{sanctioned}");
    let sanction_id = sanctioned["message"]["children"][0]["id"].as_str().unwrap().to_owned();
    let allocation = |gross: &str| {
        json!({"location_code": "pg.citya", "program_code": code, "sanction_id": sanction_id,
            "net_amount": serde_json::from_str::<Value>(gross).unwrap(), "gross_amount": serde_json::from_str::<Value>(gross).unwrap(),
            "allocation_type": "ALLOCATION", "status": {"status_code": "SUCCESSFUL", "status_message": null}})
    };
    let mut parent = allocation("1000.1");
    parent["children"] = json!([allocation("0.1"), allocation("0.2"), allocation("999.8")]);
    let (status, allocated) = d
        .post(treasury, "/on-allocation/_create",
            &envelope("on-allocation", "create", &treasury.participant(), &dept.participant(), parent))
        .await;
    assert_eq!(status, 200, "{allocated}");
    d.await_value(&treasury.program_db, BALANCES, &sanction_id, "1000.1/1000.1").await;
    d.await_value(&dept.program_db, BALANCES, &sanction_id, "1000.1/1000.1").await;

    // 3. A payment (in clear, then encrypted in transit): the treasury's adapter is down, so
    //    both ledgers refund once and end where they started.
    for (target, encrypted) in [("EP/TWO/1", false), ("EP/TWO/2", true)] {
        let paid = pay(&d, &code, &sanction_id, target, encrypted).await;
        let payment_id = paid["message"]["id"].as_str().unwrap().to_owned();
        let status_query = "SELECT status FROM eg_program_disburse WHERE id = $1";
        d.await_value(&treasury.program_db, status_query, &payment_id, "ERROR").await;
        d.await_value(&dept.program_db, status_query, &payment_id, "ERROR").await;
        for db in [&treasury.program_db, &dept.program_db] {
            d.await_value(db, BALANCES, &sanction_id, "1000.1/1000.1").await;
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
