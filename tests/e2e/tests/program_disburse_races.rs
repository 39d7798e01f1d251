//! Concurrency of the disbursement ledger (§5 items 2–3): simultaneous requests on the
//! real database can neither overspend a sanction, nor refund twice, nor put two payments
//! for one target in flight.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::ProgramStack;
use futures::future::join_all;
use program_disburse_common::*;
use serde_json::{json, Value};

fn status_of(answer: &Value) -> String {
    answer["message"]["status"]["status_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_payments_against_a_sanction_for_seven() {
    let stack = ProgramStack::start().await;
    // 7 × 142.86 = 1000.02 ≤ 1000.05 < 8 × 142.86.
    let first = funded(&stack, "5000", "1000.05").await;
    let answers = join_all((0..50).map(|n| {
        let stack = &stack;
        async move {
            let m = payment(
                &format!("T{n}"),
                "142.86",
                "142.86",
                &[("100", "100"), ("42.86", "42.86")],
            );
            stack.admin("/disburse/_create", &create(m)).await
        }
    }))
    .await;
    let mut ok = 0;
    for (status, out) in &answers {
        assert_eq!(*status, 200, "{out}");
        match status_of(out).as_str() {
            "INITIATED" => ok += 1,
            "ERROR" => assert_eq!(
                out["message"]["status"]["status_message"],
                "NO_SANCTION_AVAILABLE_FOR_AMOUNT No sanction available for disburse amount 142.86",
                "{out}"
            ),
            other => panic!("{other}: {out}"),
        }
    }
    assert_eq!(ok, 7);
    assert_available(&stack.db, &first, "0.03").await;
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM eg_program_disburse WHERE parent_id IS NULL")
            .fetch_one(stack.db.pool())
            .await
            .unwrap();
    assert_eq!(stored, 7);
    // The same with the sanction named: the guard, not the earlier read, decides.
    let named = sanction(&stack.db, "P1", "5000", "300", 2_000).await;
    let answers = join_all((0..20).map(|n| {
        let (stack, named) = (&stack, &named);
        async move {
            let mut m = simple(&format!("N{n}"), "100");
            m["sanction_id"] = json!(named);
            m["children"][0]["sanction_id"] = json!(named);
            stack.admin("/disburse/_create", &create(m)).await
        }
    }))
    .await;
    let ok = answers
        .iter()
        .filter(|(_, out)| status_of(out) == "INITIATED")
        .count();
    assert_eq!(ok, 3);
    for (_, out) in answers
        .iter()
        .filter(|(_, out)| status_of(out) != "INITIATED")
    {
        assert_eq!(
            out["message"]["status"]["status_message"],
            "SANCTION_AVAILABLE_AMOUNT_ERROR Sanction available amount should be greater than disbursement amount",
            "{out}"
        );
    }
    assert_available(&stack.db, &named, "0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_identical_failed_replies_refund_once() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    let out = created(
        &stack,
        payment("T1", "0.3", "0.3", &[("0.1", "0.1"), ("0.2", "0.2")]),
    )
    .await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    assert_available(&stack.db, &sanction, "999.7").await;
    // One message delivered 20 times at once (the inbox), then 20 distinct FAILED replies
    // at once (the payment's row lock and refunded_amount).
    let body = reply("create", with_status(&out, "FAILED", &["FAILED"]));
    let answers = join_all((0..20).map(|_| stack.admin("/on-disburse/_create", &body))).await;
    for (status, answer) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(
            answer, &answers[0].1,
            "every delivery gets the one stored answer"
        );
    }
    let answers = join_all((0..20).map(|_| {
        let m = with_status(&out, "FAILED", &["FAILED"]);
        let stack = &stack;
        async move {
            stack
                .admin("/on-disburse/_update", &reply("update", m))
                .await
        }
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|(s, a)| *s == 200 && status_of(a) == "FAILED"),
        "{answers:?}"
    );
    assert_eq!(ledger_rows(&stack.db, &id, "REFUND").await, 1);
    assert_available(&stack.db, &sanction, "1000").await;
    let (_, debited, refunded) = stored(&stack.db, &id).await;
    assert!(same_number(&stack.db, &debited, &refunded).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_payments_for_one_target_one_in_flight() {
    let stack = ProgramStack::start().await;
    let sanction = funded(&stack, "1000", "1000").await;
    let body = create(simple("T1", "10"));
    // Twenty distinct messages (new message ids) for the same target.
    let bodies: Vec<Value> = (0..20)
        .map(|n| {
            let mut b = body.clone();
            b["header"]["message_id"] = json!(format!("m-{n}"));
            b
        })
        .collect();
    let answers = join_all(bodies.iter().map(|b| stack.admin("/disburse/_create", b))).await;
    let ok = answers
        .iter()
        .filter(|(_, out)| status_of(out) == "INITIATED")
        .count();
    assert_eq!(ok, 1, "{answers:?}");
    for (status, out) in answers
        .iter()
        .filter(|(_, out)| status_of(out) != "INITIATED")
    {
        assert_eq!(*status, 200);
        assert_eq!(
            out["message"]["status"]["status_message"],
            "DISBURSEMENT_ALREADY_PRESENT_ERROR Disbursement already present for target id: T1",
            "{out}"
        );
    }
    let in_flight: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM eg_program_disburse WHERE parent_id IS NULL AND target_id = 'T1'",
    )
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(in_flight, 1);
    assert_available(&stack.db, &sanction, "990").await;
}
