//! Concurrency of the IFMS adapter (C.1 items 1, 19, 20) on real Postgres: 50 simultaneous
//! disbursements against funds that cover 7 make exactly 7 PIs with an exact balance; 20
//! simultaneous creates for one payment make one PI; three scheduler replicas running PIS
//! at once poll each PI once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifms::{disbursement, line, scenario, va_item, IfmsStack};
use futures::future::join_all;

fn funded(amount: &str) -> serde_json::Value {
    scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        amount,
        "0",
        "2026-05-01",
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_payments_against_funds_for_seven_make_seven_pis() {
    let s = IfmsStack::start(funded("700.07"), &[]).await;
    let sanction = s.funded_sanction().await;
    let bodies: Vec<_> = (0..50)
        .map(|i| {
            disbursement(
                &format!("C{i}"),
                &format!("EP/C/{i}"),
                &sanction,
                vec![line(
                    &format!("l{i}"),
                    &format!("{}@SBIN0000001", 1000 + i),
                    "100.01",
                )],
            )
        })
        .collect();
    let answers = join_all(bodies.iter().map(|b| s.disburse(b))).await;
    let mut codes: Vec<String> = answers
        .iter()
        .map(|(status, out)| match status.as_u16() {
            200 => out["message"]["status"]["status_code"]
                .as_str()
                .unwrap()
                .to_owned(),
            _ => out["Errors"][0]["code"].as_str().unwrap().to_owned(),
        })
        .collect();
    codes.sort();
    codes.dedup_by(|a, b| a == b);
    let initiated = answers
        .iter()
        .filter(|(st, out)| {
            st.as_u16() == 200 && out["message"]["status"]["status_code"] == "INITIATED"
        })
        .count();
    let refused = answers
        .iter()
        .filter(|(_, out)| out["Errors"][0]["code"] == "FUND_NOT_AVAILABLE")
        .count();
    assert_eq!((initiated, refused), (7, 43), "{codes:?}");
    assert_eq!(s.funds(&sanction).await, "700.07/0");
    assert_eq!(s.ledger_available(&sanction).await, "0");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        7
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_transaction_details WHERE transactiontype = 'DEBIT'")
            .await,
        7
    );
    assert_eq!(s.jit.state().pis.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_creates_for_one_payment_make_one_pi() {
    let s = IfmsStack::start(funded("10000"), &[]).await;
    let sanction = s.funded_sanction().await;
    let bodies: Vec<_> = (0..20)
        .map(|i| {
            disbursement(
                &format!("O{i}"),
                "EP/ONE",
                &sanction,
                vec![line("x", "777@SBIN0000007", "10")],
            )
        })
        .collect();
    let answers = join_all(bodies.iter().map(|b| s.disburse(b))).await;
    let ok = answers.iter().filter(|(st, _)| st.as_u16() == 200).count();
    let dup = answers
        .iter()
        .filter(|(_, out)| out["Errors"][0]["code"] == "PI_ALREADY_EXISTS")
        .count();
    assert_eq!((ok, dup), (1, 19), "{answers:?}");
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        1
    );
    assert_eq!(s.funds(&sanction).await, "10000/9990");
    assert_eq!(s.jit.state().pis.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_scheduler_replicas_poll_each_pi_once() {
    let s = IfmsStack::start(funded("10000"), &[]).await;
    let sanction = s.funded_sanction().await;
    for i in 0..5 {
        let (status, out) = s
            .disburse(&disbursement(
                &format!("S{i}"),
                &format!("EP/S/{i}"),
                &sanction,
                vec![line("x", "777@SBIN0000007", "10")],
            ))
            .await;
        assert_eq!(status, 200, "{out}");
    }
    let replicas: Vec<_> = (0..3)
        .map(|_| {
            ifms_adapter::service::jobs::Scheduler::new(&s.service, &s.platform.env, None).unwrap()
        })
        .collect();
    let outcomes = join_all(
        replicas
            .iter()
            .map(|r| r.run_now(digit_jit::ServiceId::PIS)),
    )
    .await;
    let ran = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Some(digit_jobs::TickOutcome::Ran { ok: true }))))
        .count();
    // One holds the lock while it polls; a replica arriving after it finished finds nothing
    // left in INITIATED. Either way each PI was asked about once.
    assert!(ran >= 1, "{outcomes:?}");
    assert_eq!(s.jit.state().calls.get("PIS").copied().unwrap_or(0), 5);
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details WHERE pistatus = 'APPROVED'")
            .await,
        5
    );
    assert_eq!(
        s.count("SELECT count(*) FROM jit_pi_status_logs WHERE serviceid = 'PIS'")
            .await,
        5
    );
}
