//! The pollers (spec A1.9, A1.3) against the JIT simulator: an original PI through PIS → PAG →
//! PD → FD (one beneficiary failed) → PARTIAL, its failed line paid by a correction PI (COR;
//! the PARTIAL PI COMPLETED, no second debit) → FTPS → SUCCESSFUL; a PIS rejection returning
//! the funds once; a PARTIAL PI past its COR window replaced by a new original PI that reuses
//! its debit. Every transition's `on-disburse` is in the outbox.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifms::{disbursement, line, scenario, va_item, IfmsStack};
use serde_json::{json, Value};

fn funded(extra: Value) -> Value {
    let mut sc = scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        "1000",
        "0",
        "2026-05-01",
    )]);
    for (k, v) in extra.as_object().unwrap() {
        sc[k] = v.clone();
    }
    sc
}

async fn statuses(s: &IfmsStack, pi: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT paymentstatus FROM jit_beneficiary_details WHERE piid = $1 ORDER BY beneficiarynumber")
        .bind(pi)
        .fetch_all(s.db.pool())
        .await
        .unwrap()
}

async fn last_on_disburse(s: &IfmsStack) -> Value {
    s.outbox("on-disburse/_update").await.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_with_a_failed_beneficiary_is_paid_by_a_correction_pi() {
    let s = IfmsStack::start(
        funded(json!({"failAccounts": {"222": "Account does not exist"}, "pisPendingPolls": 1})),
        &[],
    )
    .await;
    let sanction = s.funded_sanction().await;
    let body = disbursement(
        "P1",
        "EP/P",
        &sanction,
        vec![
            line("a", "111@SBIN0000001", "100"),
            line("b", "222@SBIN0000002", "50"),
        ],
    );
    let (status, reply) = s.disburse(&body).await;
    assert_eq!(status, 200, "{reply}");

    // PIS: not yet, then approved.
    let r = s.service.run_pis().await.unwrap();
    assert_eq!((r.polled, r.changed), (1, 0), "{r:?}");
    assert_eq!(s.pi_status("P1").await, "INITIATED");
    let r = s.service.run_pis().await.unwrap();
    assert_eq!((r.polled, r.changed), (1, 1), "{r:?}");
    assert_eq!(s.pi_status("P1").await, "APPROVED");
    let logs: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM jit_pi_status_logs WHERE piid = 'P1' ORDER BY createdtime, status",
    )
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        logs,
        [
            "STATUS_LOG_PI_SUCCESS",
            "STATUS_LOG_PIS_NO_RESPONSE",
            "STATUS_LOG_PIS_SUCCESS"
        ]
    );
    let m = last_on_disburse(&s).await;
    assert_eq!(m["message"]["status"]["status_code"], "INPROCESS");
    assert_eq!(m["header"]["message_type"], "on-disburse");
    assert_eq!(m["header"]["sender_id"], digit_e2e::ifms::TREASURY);
    assert_eq!(m["header"]["receiver_id"], digit_e2e::ifms::DEPARTMENT);
    assert_eq!(
        m["message"]["children"][0]["individual"]["name"], "Asha Devi",
        "the whole disbursement"
    );
    let kept: Value =
        sqlx::query_scalar("SELECT disbursement FROM jit_payment_inst_details WHERE id = 'P1'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert!(!kept.to_string().contains("Asha"), "sealed at rest: {kept}");
    // PAG: advice.
    s.service.run_pag().await.unwrap();
    assert_eq!(s.pi_status("P1").await, "IN_PROCESS");
    assert_eq!(statuses(&s, "P1").await, ["IN_PROCESS", "IN_PROCESS"]);
    // PD: paid.
    s.service.run_pd().await.unwrap();
    assert_eq!(s.pi_status("P1").await, "SUCCESSFUL");
    let m = last_on_disburse(&s).await;
    assert_eq!(m["message"]["status"]["status_code"], "SUCCESSFUL");
    assert_eq!(
        m["message"]["children"][1]["status"]["status_code"],
        "SUCCESSFUL"
    );
    // FD: one returned. Run twice: the second changes nothing.
    let r = s.service.run_fd().await.unwrap();
    assert_eq!(r.changed, 1, "{r:?}");
    let again = s.service.run_fd().await.unwrap();
    assert_eq!(again.changed, 0, "{again:?}");
    assert_eq!(s.pi_status("P1").await, "PARTIAL");
    let mut st = statuses(&s, "P1").await;
    st.sort();
    assert_eq!(st, ["FAILED", "SUCCESS"]);
    let m = last_on_disburse(&s).await;
    assert_eq!(m["message"]["status"]["status_code"], "PARTIAL");
    let failed = m["message"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["target_id"] == "LI-b")
        .unwrap();
    assert_eq!(failed["status"]["status_code"], "FAILED");
    assert_eq!(failed["status"]["status_message"], "Account does not exist");
    assert_eq!(
        s.funds(&sanction).await,
        "1000/850",
        "FD returns no funds: the correction reuses the debit"
    );
    let fd_logs = s
        .count("SELECT count(*) FROM jit_pi_status_logs WHERE serviceid = 'FD'")
        .await;
    assert_eq!(fd_logs, 1);

    // The department pays the failed line again, to a corrected account: a correction PI.
    let revised = disbursement(
        "P2",
        "EP/P",
        &sanction,
        vec![line("b", "999@SBIN0000009", "50")],
    );
    let (status, reply) = s.disburse(&revised).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["message"]["status"]["status_code"], "INITIATED",
        "{reply}"
    );
    let repi = reply["message"]["transaction_id"].as_str().unwrap();
    assert!(repi.starts_with("REPI-CITYA/"), "{repi}");
    let original_benef: String = sqlx::query_scalar(
        "SELECT beneficiarynumber FROM jit_beneficiary_details WHERE piid = 'P1' AND paymentstatus = 'FAILED'",
    )
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        reply["message"]["children"][0]["transaction_id"],
        original_benef.as_str(),
        "the beneficiary number is kept"
    );
    assert_eq!(s.pi_status("P1").await, "COMPLETED");
    assert_eq!(s.funds(&sanction).await, "1000/850", "no second debit");
    let cor = &s.jit.state().cors[0].params;
    assert_eq!(cor["jitOrgBillNo"], body_pi_number(&s, "P1").await.as_str());
    assert_eq!(cor["beneficiaryDtls"][0]["orgAccountNo"], "222");
    assert_eq!(cor["beneficiaryDtls"][0]["correctedAccountNo"], "999");
    assert_eq!(cor["beneficiaryDtls"][0]["curAccountNo"], "222");
    assert!(
        cor["jitOrgBillRefNo"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{cor}"
    );
    let completed = s.outbox("on-disburse/_update").await;
    assert!(completed.iter().any(
        |m| m["message"]["id"] == "P1" && m["message"]["status"]["status_code"] == "COMPLETED"
    ));

    // FTPS: the correction is paid.
    let r = s.service.run_ftps().await.unwrap();
    assert_eq!(r.changed, 1, "{r:?}");
    assert_eq!(s.pi_status("P2").await, "SUCCESSFUL");
    assert_eq!(statuses(&s, "P2").await, ["SUCCESS"]);
    // FTFPS: nothing failed.
    let r = s.service.run_ftfps().await.unwrap();
    assert_eq!((r.polled, r.changed), (1, 0), "{r:?}");
    // Every ledger equals its rows; no beneficiary paid twice.
    assert_eq!(s.ledger_available(&sanction).await, "850");
    let paid_twice = s
        .count(
            "SELECT count(*) FROM (SELECT beneficiarynumber FROM jit_beneficiary_details
               WHERE paymentstatus = 'SUCCESS' GROUP BY beneficiarynumber HAVING count(*) > 1) d",
        )
        .await;
    assert_eq!(paid_twice, 0);
}

async fn body_pi_number(s: &IfmsStack, id: &str) -> String {
    sqlx::query_scalar("SELECT pinumber FROM jit_payment_inst_details WHERE id = $1")
        .bind(id)
        .fetch_one(s.db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_pi_returns_its_funds_once() {
    let s = IfmsStack::start(funded(json!({"rejectAccounts": ["444"]})), &[]).await;
    let sanction = s.funded_sanction().await;
    let (status, _) = s
        .disburse(&disbursement(
            "J1",
            "EP/J",
            &sanction,
            vec![line("a", "444@SBIN0000004", "300")],
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(s.funds(&sanction).await, "1000/700");
    for _ in 0..3 {
        s.service.run_pis().await.unwrap();
    }
    assert_eq!(s.pi_status("J1").await, "FAILED");
    assert_eq!(s.funds(&sanction).await, "1000/1000");
    assert_eq!(s.ledger_available(&sanction).await, "1000");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details WHERE transactiontype = 'REVERSAL'")
            .await,
        1
    );
    let logs: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM jit_pi_status_logs WHERE piid = 'J1' AND serviceid = 'PIS' ORDER BY createdtime",
    )
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        logs,
        ["STATUS_LOG_PIS_REJECTED"],
        "polled once: a FAILED PI is not polled again"
    );
    let m = last_on_disburse(&s).await;
    assert_eq!(m["message"]["status"]["status_code"], "FAILED");
    assert!(m["message"]["status"]["status_message"]
        .as_str()
        .unwrap()
        .contains("rejected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_pi_past_its_cor_window_is_replaced_without_a_second_debit() {
    let s = IfmsStack::start(
        funded(json!({"failAccounts": {"222": "Account is Dormant"}})),
        &[],
    )
    .await;
    let sanction = s.funded_sanction().await;
    s.disburse(&disbursement(
        "W1",
        "EP/W",
        &sanction,
        vec![
            line("a", "111@SBIN0000001", "10"),
            line("b", "222@SBIN0000002", "20"),
        ],
    ))
    .await;
    for _ in 0..2 {
        s.service.run_pis().await.unwrap();
        s.service.run_pag().await.unwrap();
        s.service.run_pd().await.unwrap();
    }
    s.service.run_fd().await.unwrap();
    assert_eq!(s.pi_status("W1").await, "PARTIAL");
    // The original was made last financial year (before 30 April): no correction any more.
    sqlx::query("UPDATE jit_payment_inst_details SET createdtime = createdtime - 400::bigint * 86400000 WHERE id = 'W1'")
        .execute(s.db.pool())
        .await
        .unwrap();
    // A line that did not fail cannot be paid again.
    let (status, out) = s
        .disburse(&disbursement(
            "W2",
            "EP/W",
            &sanction,
            vec![line("a", "111@SBIN0000001", "10")],
        ))
        .await;
    assert_eq!(status, 400, "{out}");
    assert_eq!(out["Errors"][0]["code"], "ERROR_REVISED_PI");
    let (status, reply) = s
        .disburse(&disbursement(
            "W3",
            "EP/W",
            &sanction,
            vec![line("b", "555@SBIN0000005", "20")],
        ))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["message"]["transaction_id"]
            .as_str()
            .unwrap()
            .starts_with("PI-CITYA/"),
        "{reply}"
    );
    assert_eq!(s.pi_status("W1").await, "COMPLETED");
    assert_eq!(
        s.funds(&sanction).await,
        "1000/970",
        "the replaced PI's debit pays the line"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_that_fails_again_is_partial_and_corrected_again() {
    let s = IfmsStack::start(
        funded(
            json!({"failAccounts": {"222": "Account does not exist", "333": "Account is Frozen"}}),
        ),
        &[],
    )
    .await;
    let sanction = s.funded_sanction().await;
    s.disburse(&disbursement(
        "F1",
        "EP/F",
        &sanction,
        vec![
            line("a", "111@SBIN0000001", "70"),
            line("b", "222@SBIN0000002", "30"),
        ],
    ))
    .await;
    s.service.run_pis().await.unwrap();
    s.service.run_pag().await.unwrap();
    s.service.run_pd().await.unwrap();
    s.service.run_fd().await.unwrap();
    assert_eq!(s.pi_status("F1").await, "PARTIAL");
    // The first correction goes to another bad account.
    let (_, r) = s
        .disburse(&disbursement(
            "F2",
            "EP/F",
            &sanction,
            vec![line("b", "333@SBIN0000003", "30")],
        ))
        .await;
    assert_eq!(r["message"]["status"]["status_code"], "INITIATED", "{r}");
    s.service.run_ftps().await.unwrap();
    assert_eq!(s.pi_status("F2").await, "INITIATED", "nothing paid");
    let r = s.service.run_ftfps().await.unwrap();
    assert_eq!(r.changed, 1, "{r:?}");
    assert_eq!(s.pi_status("F2").await, "PARTIAL");
    assert_eq!(statuses(&s, "F2").await, ["FAILED"]);
    // The second correction pays it; the first is COMPLETED; one debit all along.
    let (_, r) = s
        .disburse(&disbursement(
            "F3",
            "EP/F",
            &sanction,
            vec![line("b", "444@SBIN0000004", "30")],
        ))
        .await;
    assert_eq!(r["message"]["status"]["status_code"], "INITIATED", "{r}");
    assert_eq!(s.pi_status("F2").await, "COMPLETED");
    let cor = &s.jit.state().cors[1].params;
    assert_eq!(
        cor["jitOrgBillNo"],
        body_pi_number(&s, "F1").await.as_str(),
        "the chain's original"
    );
    assert_eq!(cor["beneficiaryDtls"][0]["orgAccountNo"], "222");
    assert_eq!(cor["beneficiaryDtls"][0]["curAccountNo"], "333");
    assert_eq!(cor["beneficiaryDtls"][0]["correctedAccountNo"], "444");
    s.service.run_ftps().await.unwrap();
    assert_eq!(s.pi_status("F3").await, "SUCCESSFUL");
    assert_eq!(s.funds(&sanction).await, "1000/900");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details")
            .await,
        1
    );
}
