//! Disbursement dispatch through the outbox (§1.8 step 5, §1.12, §5 items 6–8), with a
//! tiny HTTP server standing in for the adapter and the local exchange:
//! - on the treasury side the relay calls the adapter's `disburse/_create`, reads its
//!   synchronous reply and applies it as `on-disburse` (transaction ids stored, the reply
//!   forwarded to the department through the exchange);
//! - an adapter that refuses the call, or never answers within the relay's attempts,
//!   makes the payment ERROR and refunds it;
//! - a crash between commit and dispatch, and another between a delivery and the relay
//!   recording it, deliver the message exactly once per idempotency key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::{exchange_identity, own_id, ProgramStack, OTHER_EXCHANGE};
use program_disburse_common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// This installation as the treasury (IFMS, `OTHER_EXCHANGE`), its adapter and exchange
/// at `remote`.
async fn treasury(remote: &Remote, extra: &[(&str, &str)]) -> ProgramStack {
    let host = format!("{}/", remote.url);
    let mut settings = vec![
        ("ADAPTER_HOST", host.as_str()),
        ("EXCHANGE_HOST", host.as_str()),
        ("EXCHANGE_SERVICE_EXTERNAL_URL", OTHER_EXCHANGE),
    ];
    settings.extend_from_slice(extra);
    ProgramStack::start_with(&settings).await
}

async fn stored_transaction_id(stack: &ProgramStack, id: &str) -> Option<String> {
    sqlx::query_scalar("SELECT transaction_id FROM eg_program_disburse WHERE id = $1")
        .bind(id)
        .fetch_one(stack.db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapters_reply_is_applied_end_to_end() {
    let remote = Remote::start().await;
    let stack = treasury(&remote, &[]).await;
    let sanction = funded(&stack, "1000", "1000").await;
    // The department's payment arrives through the exchange: its receiver is this installation.
    let body = create(payment("T1", "30", "30", &[("10", "10"), ("20", "20")]));
    let (status, out) = stack
        .post("/disburse/_create", Some(&exchange_identity()), &body)
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["message"]["status"]["status_code"], "INITIATED",
        "{out}"
    );
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    assert_available(&stack.db, &sanction, "970").await;
    assert!(
        remote.seen("").is_empty(),
        "nothing is sent before the relay runs"
    );

    let workers = stack.start_workers();
    let forwarded = remote
        .wait_for("/digit-exchange/v1/exchange/on-disburse", 1)
        .await;
    assert_eq!(forwarded.len(), 1, "{:?}", remote.seen(""));
    let calls = remote.seen("/ifms/v1/disburse/_create");
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].key.is_some(),
        "the adapter call carries an Idempotency-Key"
    );
    assert_eq!(calls[0].body["header"]["message_type"], "disburse");
    assert!(
        calls[0].body["message"].is_object(),
        "the adapter gets the message as an object"
    );
    assert_eq!(
        calls[0].body["message"]["children"][1]["individual"]["name"],
        "Asha Devi"
    );
    // The reply was applied: transaction ids stored, statuses as the adapter said.
    assert_eq!(
        stored_transaction_id(&stack, &id).await.as_deref(),
        Some("PI-T1")
    );
    let child: String = sqlx::query_scalar(
        "SELECT transaction_id FROM eg_program_disburse WHERE parent_id = $1 AND line_no = 2",
    )
    .bind(&id)
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(child, "BEN-1");
    // …and answered to the department (updateUri: back to the sender, as on-disburse).
    let reply = &forwarded[0].body;
    assert_eq!(reply["header"]["message_type"], "on-disburse");
    assert_eq!(reply["header"]["receiver_id"], own_id());
    assert_eq!(
        reply["header"]["sender_id"],
        format!("program@{OTHER_EXCHANGE}")
    );
    let message: Value = serde_json::from_str(reply["message"].as_str().unwrap()).unwrap();
    assert_eq!(message["transaction_id"], "PI-T1");
    assert_eq!(message["status"]["status_message"], "accepted by JIT");
    assert!(
        eventually(|| async {
            outbox_states(&stack.db)
                .await
                .iter()
                .all(|r| r.2 == "delivered")
        })
        .await,
        "{:?}",
        outbox_states(&stack.db).await
    );
    assert_available(&stack.db, &sanction, "970").await;
    stack.stop();
    workers.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adapter_that_refuses_makes_the_payment_error_and_refunds() {
    let remote = Remote::start().await;
    remote.adapter(AdapterMode::Status(400));
    let stack = treasury(&remote, &[]).await;
    let sanction = funded(&stack, "1000", "1000").await;
    let (_, out) = stack
        .post(
            "/disburse/_create",
            Some(&exchange_identity()),
            &create(simple("T1", "99.99")),
        )
        .await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    assert_available(&stack.db, &sanction, "900.01").await;
    let workers = stack.start_workers();
    let forwarded = remote
        .wait_for("/digit-exchange/v1/exchange/on-disburse", 1)
        .await;
    assert_eq!(forwarded.len(), 1, "{:?}", remote.seen(""));
    let (status, _, refunded) = stored(&stack.db, &id).await;
    assert_eq!(status.as_deref(), Some("ERROR"));
    assert!(same_number(&stack.db, &refunded, "99.99").await);
    assert_available(&stack.db, &sanction, "1000").await;
    let message: Value =
        serde_json::from_str(forwarded[0].body["message"].as_str().unwrap()).unwrap();
    let text = message["status"]["status_message"].as_str().unwrap();
    assert!(text.starts_with("Bad Request HTTP 400 from "), "{text}");
    assert_eq!(message["children"][0]["status"]["status_code"], "ERROR");
    // The adapter call is dead (visible), the rest delivered.
    assert!(
        eventually(|| async {
            let rows = outbox_states(&stack.db).await;
            rows.iter().any(|r| {
                r.1.as_deref()
                    .is_some_and(|u| u.ends_with("/disburse/_create"))
                    && r.2 == "dead"
            }) && rows.iter().filter(|r| r.2 == "pending").count() == 0
        })
        .await,
        "{:?}",
        outbox_states(&stack.db).await
    );
    assert_eq!(
        remote.seen("/ifms/v1/disburse/_create").len(),
        1,
        "a 400 is not retried"
    );
    stack.stop();
    workers.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adapter_that_never_answers_is_retried_then_error() {
    let remote = Remote::start().await;
    remote.adapter(AdapterMode::Status(503));
    let stack = treasury(
        &remote,
        &[
            ("OUTBOX_MAX_ATTEMPTS", "3"),
            ("OUTBOX_BACKOFF_BASE_MS", "50"),
        ],
    )
    .await;
    let sanction = funded(&stack, "1000", "1000").await;
    let (_, out) = stack
        .post(
            "/disburse/_create",
            Some(&exchange_identity()),
            &create(simple("T1", "10")),
        )
        .await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    let workers = stack.start_workers();
    let forwarded = remote
        .wait_for("/digit-exchange/v1/exchange/on-disburse", 1)
        .await;
    assert_eq!(forwarded.len(), 1, "{:?}", remote.seen(""));
    assert_eq!(
        remote.seen("/ifms/v1/disburse/_create").len(),
        3,
        "retried until the last attempt"
    );
    let (status, _, _) = stored(&stack.db, &id).await;
    assert_eq!(status.as_deref(), Some("ERROR"));
    let message: Value =
        serde_json::from_str(forwarded[0].body["message"].as_str().unwrap()).unwrap();
    assert!(
        message["status"]["status_message"]
            .as_str()
            .unwrap()
            .starts_with("EXTERNAL_SERVICE_EXCEPTION HTTP 503"),
        "{message}"
    );
    assert_available(&stack.db, &sanction, "1000").await;
    stack.stop();
    workers.stop(Duration::from_secs(5)).await;
}

/// Takes the database out of a stack and drops the rest of it (the process "dies").
fn crash(stack: ProgramStack) -> digit_store::TestDb {
    let ProgramStack {
        app, platform, db, ..
    } = stack;
    platform.shutdown.trigger();
    drop(app);
    drop(platform);
    db
}

/// Restarts the service on `db` on a runtime of its own, with its workers, until `remote`
/// received the payment from the relay; then kills that runtime: every task of the
/// service — the relay in the middle of the delivery included — is dropped at once and its
/// connections closed, as in a SIGKILL (the claim's transaction rolls back).
async fn run_until_killed(db: digit_store::TestDb, host: String, remote: Remote) -> ProgramStack {
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let stack = runtime.block_on(ProgramStack::start_on(
            db,
            &[("EXCHANGE_HOST", host.as_str())],
        ));
        runtime.block_on(async {
            let _workers = stack.start_workers();
            remote
                .wait_for("/digit-exchange/v1/exchange/disburse", 1)
                .await;
        });
        runtime.shutdown_background();
        stack
    });
    tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_commit_delivers_exactly_once() {
    let remote = Remote::start().await;
    let host = format!("{}/", remote.url);
    let settings = [("EXCHANGE_HOST", host.as_str())];
    // 1. The payment commits with its outbox rows; the service dies before any dispatch.
    let stack = ProgramStack::start_with(&settings).await;
    let sanction = funded(&stack, "1000", "1000").await;
    let out = created(&stack, simple("T1", "12.34")).await;
    let id = out["message"]["id"].as_str().unwrap().to_owned();
    let db = crash(stack);
    assert_eq!(remote.seen("").len(), 0);

    // 2. Restarted, it delivers — and is killed while the exchange holds the request,
    //    after the delivery and before the relay records it.
    remote.hang(true);
    let stack = run_until_killed(db, host.clone(), remote.clone()).await;
    assert_eq!(remote.seen("/digit-exchange/v1/exchange/disburse").len(), 1);
    let db = crash(stack);
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM digit_outbox WHERE status = 'pending' AND attempts = 0",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(pending >= 1, "the interrupted delivery was never recorded");

    // 3. Restarted again, with an exchange that answers.
    remote.hang(false);
    let stack = ProgramStack::start_on(db, &settings).await;
    let workers = stack.start_workers();
    assert!(
        eventually(|| async {
            outbox_states(&stack.db)
                .await
                .iter()
                .all(|r| r.2 == "delivered")
        })
        .await,
        "{:?}",
        outbox_states(&stack.db).await
    );
    let seen = remote.seen("/digit-exchange/v1/exchange/disburse");
    // The receiver's side of the contract: one effect per Idempotency-Key.
    let mut effects: HashMap<String, usize> = HashMap::new();
    for s in &seen {
        *effects.entry(s.key.clone().unwrap()).or_default() += 1;
        let message: Value = serde_json::from_str(s.body["message"].as_str().unwrap()).unwrap();
        assert_eq!(message["id"], id.as_str(), "the same message each time");
    }
    assert_eq!(
        seen.len(),
        2,
        "delivered, lost in the crash, delivered again: {seen:?}"
    );
    assert_eq!(effects.len(), 1, "one key: one effect at the receiver");
    let (attempts, status): (i32, String) = sqlx::query_as(
        "SELECT attempts, status FROM digit_outbox WHERE http_url LIKE '%/exchange/disburse'",
    )
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (attempts, status.as_str()),
        (1, "delivered"),
        "{:?}",
        outbox_states(&stack.db).await
    );
    // Nothing diverged: one payment, one debit.
    assert_eq!(ledger_rows(&stack.db, &id, "DISBURSE").await, 1);
    assert_available(&stack.db, &sanction, "987.66").await;
    stack.stop();
    workers.stop(Duration::from_secs(5)).await;
}
