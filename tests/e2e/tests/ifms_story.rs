//! The whole treasury story over real HTTP, the real broker and Postgres: the department
//! (MUKTA) and the treasury (IFMS) program services and exchanges, the IFMS adapter and the
//! JIT simulator. VA → sanction and allocation on both program ledgers → a payment from the
//! department → PI posted → PIS approve → PAG → PD with one beneficiary failed → FD →
//! PARTIAL on both sides → the department's revision → COR → the original COMPLETED → FTPS
//! → SUCCESSFUL; every ledger equal to what its rows sum to, no beneficiary paid twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_core::UserType;
use digit_e2e::ifix::TwoDomains;
use digit_e2e::ifms::{scenario, va_item, IfmsStack};
use digit_e2e::program::envelope;
use serde_json::{json, Value};

const BALANCES: &str =
    "SELECT trim_scale(allocated_amount)::text || '/' || trim_scale(available_amount)::text
                          FROM eg_program_sanction WHERE id = $1";
const STATUS: &str = "SELECT status FROM eg_program_disburse WHERE id = $1";

fn child(code: &str, sanction: &str, target: &str, account: &str, amount: &str) -> Value {
    let amount: Value = serde_json::from_str(amount).unwrap();
    json!({"location_code": "pg.citya", "program_code": code, "target_id": target, "sanction_id": sanction,
        "account_code": account, "net_amount": amount, "gross_amount": amount,
        "individual": {"name": "Asha Devi", "phone": "9999999999", "address": "12 Temple Road", "pin": "751001"},
        "additional_details": {"beneficiaryId": format!("IND-{target}"), "beneficiaryType": "IND"}})
}

async fn pay(
    d: &TwoDomains,
    code: &str,
    sanction: &str,
    children: Vec<Value>,
    gross: &str,
) -> String {
    let gross: Value = serde_json::from_str(gross).unwrap();
    let body = envelope(
        "disburse",
        "create",
        &d.department.participant(),
        &d.treasury.participant(),
        json!({"location_code": "pg.citya", "program_code": code, "target_id": "EP/STORY/1",
            "sanction_id": sanction, "net_amount": gross, "gross_amount": gross, "children": children}),
    );
    let (status, paid) = d.post(&d.department, "/disburse/_create", &body).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        paid["message"]["status"]["status_code"], "INITIATED",
        "{paid}"
    );
    paid["message"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_treasury_story_end_to_end() {
    let adapter_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adapter_port = adapter_listener.local_addr().unwrap().port();
    let d = TwoDomains::start(
        &[("ADAPTER_HOST", &format!("http://127.0.0.1:{adapter_port}/"))],
        &[],
    )
    .await;
    let (dept, treasury) = (&d.department, &d.treasury);

    // 1. A program, its code from the treasury.
    let (status, created) = d
        .post(dept, "/program/_create", &envelope("program", "create", &dept.participant(), &treasury.participant(),
            json!({"location_code": "pg.citya", "name": "MUKTA 2026", "start_date": 1672531200})))
        .await;
    assert_eq!(status, 200, "{created}");
    let program_id = created["message"]["id"].as_str().unwrap().to_owned();
    let code_query = "SELECT program_code FROM eg_program WHERE id = $1";
    let code = loop {
        let code: Option<Option<String>> = sqlx::query_scalar(code_query)
            .bind(&program_id)
            .fetch_optional(dept.program_db.pool())
            .await
            .unwrap();
        if let Some(Some(code)) = code {
            break code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };

    // 2. The adapter on the treasury side, the SSU's program looked up in the treasury's
    //    program service; VA brings 1000 in.
    let adapter_token = digit_e2e::token(&digit_e2e::user(
        "66666666-6666-4666-8666-000000000003",
        UserType::System,
        &[("IFIX_ADAPTER", "pg")],
    ));
    let treasury_host = treasury
        .program_url
        .trim_end_matches("/program-service")
        .to_owned()
        + "/";
    let s = IfmsStack::start_in(
        scenario(vec![va_item(
            "Initial Allotment",
            "5001",
            0,
            "6001",
            "1000",
            "9000",
            "2026-05-01",
        )]),
        &[
            ("EGOV_PROGRAM_SERVICE_HOST", &treasury_host),
            ("IFMS_OUTBOUND_TOKEN", &adapter_token),
            ("OUTBOX_BACKOFF_BASE_MS", "100"),
        ],
        None,
        Some((&dept.exchange_url, &treasury.exchange_url)),
    )
    .await;
    let app = s.app.clone();
    tokio::spawn(async move {
        let _ = axum::serve(adapter_listener, app).await;
    });
    let _workers = s.start_workers();
    let report = s.service.run_va().await.unwrap();
    assert_eq!(
        (report.sanctions, report.allotments, report.failed),
        (1, 1, 0),
        "{report:?}"
    );
    let sanction = s.sanction_of("5001").await;
    d.await_value(&treasury.program_db, BALANCES, &sanction, "1000/1000")
        .await;
    d.await_value(&dept.program_db, BALANCES, &sanction, "1000/1000")
        .await;
    let program_of: String =
        sqlx::query_scalar("SELECT programcode FROM jit_sanction_details WHERE id = $1")
            .bind(&sanction)
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(program_of, code);

    // 3. The department pays two lines; the treasury's adapter posts the PI.
    let payment = pay(
        &d,
        &code,
        &sanction,
        vec![
            child(&code, &sanction, "LI-a", "111@SBIN0000001", "100"),
            child(&code, &sanction, "LI-b", "222@SBIN0000002", "50"),
        ],
        "150",
    )
    .await;
    d.await_value(&treasury.program_db, BALANCES, &sanction, "1000/850")
        .await;
    d.await_value(&dept.program_db, BALANCES, &sanction, "1000/850")
        .await;
    s.await_pi(&payment).await;
    assert_eq!(s.funds(&sanction).await, "1000/850");

    // 4. The treasury's story: approved, advised, paid, one beneficiary returned.
    s.jit.set_scenario({
        let mut sc: jit_simulator::scenario::Scenario = s.jit.scenario();
        sc.fail_accounts
            .insert("222".into(), "Account does not exist".into());
        sc
    });
    s.service.run_pis().await.unwrap();
    d.await_value(&treasury.program_db, STATUS, &payment, "INPROCESS")
        .await;
    d.await_value(&dept.program_db, STATUS, &payment, "INPROCESS")
        .await;
    s.service.run_pag().await.unwrap();
    s.service.run_pd().await.unwrap();
    d.await_value(&dept.program_db, STATUS, &payment, "SUCCESSFUL")
        .await;
    s.service.run_fd().await.unwrap();
    d.await_value(&treasury.program_db, STATUS, &payment, "PARTIAL")
        .await;
    d.await_value(&dept.program_db, STATUS, &payment, "PARTIAL")
        .await;

    // 5. The department pays the failed line again (corrected account): a revision, no debit.
    let revision = pay(
        &d,
        &code,
        &sanction,
        vec![child(&code, &sanction, "LI-b", "999@SBIN0000009", "50")],
        "50",
    )
    .await;
    s.await_pi(&revision).await;
    assert!(
        s.jit.state().cors.len() == 1,
        "a correction PI (COR), not a new PI"
    );
    d.await_value(&dept.program_db, STATUS, &payment, "COMPLETED")
        .await;
    s.service.run_ftps().await.unwrap();
    d.await_value(&treasury.program_db, STATUS, &revision, "SUCCESSFUL")
        .await;
    d.await_value(&dept.program_db, STATUS, &revision, "SUCCESSFUL")
        .await;
    s.service.run_ftfps().await.unwrap();

    // Every ledger equals its rows; nothing paid twice; money left: 850 on all three books.
    assert_eq!(s.funds(&sanction).await, "1000/850");
    assert_eq!(s.ledger_available(&sanction).await, "850");
    for db in [&treasury.program_db, &dept.program_db] {
        d.await_value(db, BALANCES, &sanction, "1000/850").await;
        let sums: String = sqlx::query_scalar(
            "SELECT trim_scale(SUM(allocated_delta))::text || '/' || trim_scale(SUM(available_delta))::text
               FROM eg_program_transaction_logs WHERE sanction_id = $1",
        )
        .bind(&sanction)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(sums, "1000/850");
    }
    let paid_twice = s
        .count(
            "SELECT count(*) FROM (SELECT beneficiarynumber FROM jit_beneficiary_details
               WHERE paymentstatus = 'SUCCESS' GROUP BY beneficiarynumber HAVING count(*) > 1) x",
        )
        .await;
    assert_eq!(paid_twice, 0);
    assert_eq!(s.jit.state().pis.len(), 1);
}
