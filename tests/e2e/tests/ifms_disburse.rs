//! The disbursement path (spec A1.7, C.1 items 1, 17, 19, 20) against the JIT simulator, real
//! Postgres and the broker: a PI posted with its debit, answered with transaction ids; a
//! redelivered message answered from its PI; every rule's code; JIT's refusal reversing the
//! debit once; a post whose answer is lost left INITIATED and re-posted, never refunded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_core::UserType;
use digit_e2e::ifms::{
    accountant, disbursement, line, scenario, va_item, IfmsStack, DEPARTMENT, TENANT,
};
use serde_json::{json, Value};

fn funded() -> Value {
    scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        "1000",
        "0",
        "2026-05-01",
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disbursement_becomes_one_posted_pi_with_its_debit() {
    let s = IfmsStack::start(funded(), &[]).await;
    let sanction = s.funded_sanction().await;
    let body = disbursement(
        "D1",
        "EP/1",
        &sanction,
        vec![
            line("a", "111@SBIN0000001", "100.25"),
            line("b", "222@SBIN0000002", "100"),
            line("c", "111@SBIN0000001", "100.25"),
        ],
    );
    let (status, reply) = s.disburse(&body).await;
    assert_eq!(status, 200, "{reply}");
    let m = &reply["message"];
    assert_eq!(m["status"]["status_code"], "INITIATED", "{reply}");
    let pi_number = m["transaction_id"].as_str().unwrap().to_owned();
    assert!(pi_number.starts_with("PI-CITYA/"), "{pi_number}");
    let benef = |i: usize| {
        m["children"][i]["transaction_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(benef(0).starts_with("BN-CITYA/"), "{reply}");
    assert_eq!(benef(0), benef(2), "one beneficiary per account");
    assert_ne!(benef(0), benef(1));
    assert_eq!(m["children"][1]["status"]["status_code"], "INITIATED");
    assert_eq!(reply["header"], body["header"], "the header is echoed");
    assert_eq!(
        m["children"][0]["individual"]["name"], "Asha Devi",
        "the message is echoed"
    );

    // The debit, on the ledger.
    assert_eq!(s.funds(&sanction).await, "1000/699.5");
    assert_eq!(s.ledger_available(&sanction).await, "699.5");
    // What JIT received: two beneficiaries, amounts with two decimals, India time.
    let state = s.jit.state();
    assert_eq!(state.pis.len(), 1);
    let p = &state.pis[0].params;
    assert_eq!(p["billNetAmount"], "300.50");
    assert_eq!(p["billNumberOfBenf"], "2");
    assert_eq!(p["beneficiaryDetails"][0]["benfAmount"], "200.50");
    assert_eq!(p["beneficiaryDetails"][0]["benfAcctNo"], "111");
    assert_eq!(p["hoa"], digit_e2e::ifms::GENERAL_HOA);
    assert_eq!(p["mstAllotmentDistId"], "5001");
    assert_eq!(p["ssuAllotmentId"], "6001");
    assert_eq!(p["jitBillDate"].as_str().unwrap().len(), 19);

    // The program service's relay retries: the same answer, nothing new.
    let (status, again) = s.disburse(&body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["message"]["transaction_id"], pi_number.as_str());
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        1
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details")
            .await,
        1
    );
    assert_eq!(s.jit.state().pis.len(), 1);

    // Another disbursement for the same payment while this PI is in flight.
    let other = disbursement(
        "D2",
        "EP/1",
        &sanction,
        vec![line("d", "333@SBIN0000003", "1")],
    );
    let (status, out) = s.disburse(&other).await;
    assert_eq!(status, 400, "{out}");
    assert_eq!(out["Errors"][0]["code"], "PI_ALREADY_EXISTS");

    // The PI as the UI searches it; its index copy without bank fields.
    let (status, out) = s
        .post(
            "/pi/v1/_search",
            &accountant(),
            &json!({"RequestInfo": {"apiId": "ifms"}, "searchCriteria": {"tenantId": TENANT, "muktaReferenceId": "EP/1"}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let pi = &out["paymentInstructions"][0];
    assert_eq!(pi["jitBillNo"], pi_number.as_str());
    assert_eq!(pi["piStatus"], "INITIATED");
    assert_eq!(pi["netAmount"].to_string(), "300.50");
    assert_eq!(
        pi["beneficiaryDetails"][0]["paymentStatus"],
        "Payment Initiated"
    );
    assert_eq!(
        pi["beneficiaryDetails"][0]["bankAccountId"],
        "111@SBIN0000001"
    );
    assert_eq!(
        pi["beneficiaryDetails"][0]["benfLineItems"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(pi["transactionDetails"][0]["transactionType"], "DEBIT");
    assert!(
        pi["transactionDetails"][0]["transactionDate"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(pi["piStatusLogs"][0]["status"], "STATUS_LOG_PI_SUCCESS");
    assert_eq!(pi["paDetails"].as_array().unwrap().len(), 1);
    let stored: Option<String> =
        sqlx::query_scalar("SELECT bankaccountcode FROM jit_beneficiary_details LIMIT 1")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert!(
        stored.is_some_and(|a| a.starts_with("i1:") && !a.contains("111")),
        "encrypted at rest"
    );
    let index = s.outbox("ifms-pi-index-enrich").await;
    let copy = &index.last().unwrap()["paymentInstruction"];
    assert_eq!(copy["piType"], "ORIGINAL");
    assert_eq!(copy["parentPiNumber"], "");
    assert_eq!(copy["piErrorResp"], "");
    assert!(copy.get("paDetails").is_none());
    assert!(copy["beneficiaryDetails"][0].get("bankAccountId").is_none());
    let (status, out) = s
        .post(
            "/pi/v1/_search",
            &accountant(),
            &json!({"RequestInfo": {}, "searchCriteria": {}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "SEARCH_CRITERIA_MANDATORY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_answers_its_code_and_writes_nothing() {
    let s = IfmsStack::start(funded(), &[]).await;
    let sanction = s.funded_sanction().await;
    let one = || vec![line("a", "111@SBIN0000001", "10")];
    let code = |out: &Value| {
        out["Errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let (status, out) = s
        .disburse(&disbursement("X1", "EP/X1", "nope", one()))
        .await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "INVALID_SANCTION_ID".into()),
        "{out}"
    );
    let (status, out) = s
        .disburse(&disbursement(
            "X2",
            "EP/X2",
            &sanction,
            vec![line("a", "111@SBIN0000001", "1000.01")],
        ))
        .await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "FUND_NOT_AVAILABLE".into()),
        "{out}"
    );
    let mut wrong_program = disbursement("X3", "EP/X3", &sanction, one());
    wrong_program["message"]["program_code"] = json!("PG/OTHER");
    let (status, out) = s.disburse(&wrong_program).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "INVALID_PROGRAM_CODE".into()),
        "{out}"
    );
    let mut same = disbursement("X4", "EP/X4", &sanction, one());
    same["header"]["receiver_id"] = json!(DEPARTMENT);
    let (status, out) = s.disburse(&same).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "INVALID_SENDER_RECEIVER_ID".into()),
        "{out}"
    );
    let mut no_lines = disbursement("X5", "EP/X5", &sanction, one());
    no_lines["message"]["children"] = json!([]);
    let (status, out) = s.disburse(&no_lines).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "INVALID_CHILD_DISBURSEMENTS".into()),
        "{out}"
    );
    let mut sums = disbursement("X6", "EP/X6", &sanction, one());
    sums["message"]["net_amount"] = json!(11);
    sums["message"]["gross_amount"] = json!(11);
    let (status, out) = s.disburse(&sums).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "INVALID_AMOUNT".into()),
        "{out}"
    );
    let (status, out) = s.disburse(&json!({"message": {}})).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "PARSING_ERROR".into()),
        "{out}"
    );
    // A location code that is no tenant of the state, or no tenant id at all: refused before
    // the program lookup (found by the contract fuzzer as a 502 from that lookup).
    for location in ["pg.nowhere", "p\u{1}g"] {
        let mut elsewhere = disbursement("X10", "EP/X10", &sanction, one());
        elsewhere["message"]["location_code"] = json!(location);
        let (status, out) = s.disburse(&elsewhere).await;
        assert_eq!(
            (status.as_u16(), code(&out)),
            (400, "INVALID_LOCATION_CODE".into()),
            "{location}: {out}"
        );
    }
    // The NUL character anywhere in the envelope (Postgres refuses it in text).
    let mut nul = disbursement("X11", "EP/X11", &sanction, one());
    nul["message"]["target_id"] = json!("EP/\u{0}X11");
    let (status, out) = s.disburse(&nul).await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "PARSING_ERROR".into()),
        "{out}"
    );

    // A sanction whose head of account is not in MDMS.
    sqlx::query(
        "INSERT INTO jit_sanction_details (id, tenantid, hoacode, ddocode, masterallotmentid, sanctionedamount,
            createdtime, lastmodifiedtime) VALUES ('S-NOHOA', $1, 'NOPE', 'OLSHUD001', 'M-NOHOA', 100, 1, 1)",
    )
    .bind(TENANT)
    .execute(s.db.pool())
    .await
    .unwrap();
    let (status, out) = s
        .disburse(&disbursement("X7", "EP/X7", "S-NOHOA", one()))
        .await;
    assert_eq!(
        (status.as_u16(), code(&out)),
        (400, "HOA_NOT_FOUND".into()),
        "{out}"
    );

    // A caller whose role is only at another city.
    let elsewhere = digit_e2e::user(
        "66666666-6666-4666-8666-0000000000bb",
        UserType::System,
        &[("IFIX_PROGRAM_SERVICE", "pg.cityb")],
    );
    let (status, out) = s
        .post(
            "/v1/disburse/_create",
            &elsewhere,
            &disbursement("X8", "EP/X8", &sanction, one()),
        )
        .await;
    assert_eq!(status, 403, "{out}");
    // The cron user may not disburse.
    let (status, _) = s
        .post(
            "/v1/disburse/_create",
            &digit_e2e::ifms::scheduler_user(),
            &disbursement("X9", "EP/X9", &sanction, one()),
        )
        .await;
    assert_eq!(status, 403);

    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        0
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details")
            .await,
        0
    );
    assert_eq!(s.funds(&sanction).await, "1000/1000");
    assert!(s.jit.state().pis.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pi_jit_refuses_is_failed_and_its_debit_reversed_once() {
    let mut sc = funded();
    sc["invalidIfsc"] = json!(["BADC0000001"]);
    let s = IfmsStack::start(sc, &[]).await;
    let sanction = s.funded_sanction().await;
    let body = disbursement(
        "R1",
        "EP/R",
        &sanction,
        vec![line("a", "111@BADC0000001", "250")],
    );
    let (status, reply) = s.disburse(&body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["message"]["status"]["status_code"], "FAILED",
        "{reply}"
    );
    assert!(
        reply["message"]["status"]["status_message"]
            .as_str()
            .unwrap()
            .contains("340"),
        "{reply}"
    );
    assert_eq!(
        reply["message"]["children"][0]["status"]["status_code"],
        "FAILED"
    );
    assert_eq!(s.funds(&sanction).await, "1000/1000");
    assert_eq!(s.ledger_available(&sanction).await, "1000");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details WHERE transactiontype = 'REVERSAL'")
            .await,
        1
    );
    let active: bool =
        sqlx::query_scalar("SELECT isactive FROM jit_payment_inst_details WHERE id = 'R1'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert!(!active);
    // Redelivered: still one reversal.
    let (_, again) = s.disburse(&body).await;
    assert_eq!(again["message"]["status"]["status_code"], "FAILED");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details WHERE transactiontype = 'REVERSAL'")
            .await,
        1
    );
    // A FAILED PI does not block the payment: corrected, it is paid.
    let fixed = disbursement(
        "R2",
        "EP/R",
        &sanction,
        vec![line("a", "111@SBIN0000001", "250")],
    );
    let (status, reply) = s.disburse(&fixed).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["message"]["status"]["status_code"], "INITIATED",
        "{reply}"
    );
    assert_eq!(s.funds(&sanction).await, "1000/750");
    assert_eq!(s.ledger_available(&sanction).await, "750");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_whose_answer_is_lost_stays_initiated_and_is_posted_again() {
    let mut sc = funded();
    sc["delayMs"] = json!(1500);
    let s = IfmsStack::start(
        sc,
        &[
            ("HTTP_CLIENT_TIMEOUT_MS", "500"),
            ("IFMS_REPUSH_AFTER_MS", "0"),
        ],
    )
    .await;
    // VA is slow too: fund the sanction directly through VA without the delay first.
    let mut quick = funded();
    quick["delayMs"] = json!(0);
    s.jit
        .set_scenario(serde_json::from_value(quick.clone()).unwrap());
    let sanction = s.funded_sanction().await;
    let mut slow = quick;
    slow["delayMs"] = json!(1500);
    s.jit.set_scenario(serde_json::from_value(slow).unwrap());

    let body = disbursement(
        "T1",
        "EP/T",
        &sanction,
        vec![line("a", "111@SBIN0000001", "100")],
    );
    let (status, reply) = s.disburse(&body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["message"]["status"]["status_code"], "INITIATED",
        "{reply}"
    );
    assert_eq!(
        reply["message"]["status"]["status_message"],
        "Posted to JIT; awaiting its acknowledgement"
    );
    let posted: bool =
        sqlx::query_scalar("SELECT jitposted FROM jit_payment_inst_details WHERE id = 'T1'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert!(!posted);
    // Not refunded: JIT may have booked it (here it did, after the timeout).
    assert_eq!(s.funds(&sanction).await, "1000/900");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;

    // The next PIS run posts it again; JIT knows the bill: it is acknowledged.
    let mut quick = funded();
    quick["delayMs"] = json!(0);
    s.jit.set_scenario(serde_json::from_value(quick).unwrap());
    let report = s.service.run_repost().await.unwrap();
    assert_eq!((report.polled, report.changed), (1, 1), "{report:?}");
    let posted: bool =
        sqlx::query_scalar("SELECT jitposted FROM jit_payment_inst_details WHERE id = 'T1'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert!(posted);
    assert_eq!(s.pi_status("T1").await, "INITIATED");
    assert_eq!(s.funds(&sanction).await, "1000/900");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details")
            .await,
        1
    );
    let logs: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM jit_pi_status_logs WHERE piid = 'T1' ORDER BY createdtime",
    )
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(logs, ["STATUS_LOG_PI_NO_RESPONSE", "STATUS_LOG_PI_SUCCESS"]);
    // The program service hears the state the reply could not give.
    assert_eq!(s.outbox("on-disburse/_update").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pi_numbers_nothing_is_recorded() {
    // No id formats (idgen reads its table, which is empty): upstream's `IDGEN ERROR`.
    let s = IfmsStack::start(funded(), &[("IDFORMAT_FROM_MDMS", "false")]).await;
    let sanction = s.funded_sanction().await;
    let (status, out) = s
        .disburse(&disbursement(
            "G1",
            "EP/G",
            &sanction,
            vec![line("a", "111@SBIN0000001", "10")],
        ))
        .await;
    assert_eq!(status, 502, "{out}");
    assert_eq!(out["Errors"][0]["code"], "IDGEN ERROR");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        0
    );
    assert_eq!(s.funds(&sanction).await, "1000/1000");
}
