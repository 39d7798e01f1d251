//! Upstream's asynchronous intake (`IS_*_ASYNC`): the answer carries the ids the records
//! get, the consumer applies the message through the same pipeline (a debit of the exact
//! amount), a redelivered message changes nothing, and a message no endpoint accepts goes
//! to the error topic without blocking the ones after it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::{envelope, ledger_sums, other_id, own_id, ProgramStack};
use program_disburse_common::{create, funded, simple};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_writes_answer_their_ids_and_are_applied_once() {
    let tag = digit_e2e::tag();
    let (program_topic, disburse_topic, errors) = (
        format!("program-kafka-topic-{tag}"),
        format!("disburse-kafka-topic-{tag}"),
        format!("error-queue-{tag}"),
    );
    let group = format!("program-async-{tag}");
    let stack = ProgramStack::start_with(&[
        ("IS_PROGRAM_ASYNC", "true"),
        ("IS_DISBURSE_ASYNC", "true"),
        ("PROGRAM_KAFKA_TOPIC", &program_topic),
        ("DISBURSE_KAFKA_TOPIC", &disburse_topic),
        ("ERROR_KAFKA_TOPIC", &errors),
        ("PROGRAM_KAFKA_GROUP_ID", &group),
    ])
    .await;
    let _workers = stack.start_workers();

    // A program: the answer is the envelope with the id the row will have.
    let body = envelope(
        "program",
        "create",
        &other_id(),
        &own_id(),
        json!({"location_code": "pg.citya", "name": "Async", "start_date": 1}),
    );
    let (status, answer) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["message"]["id"].as_str().unwrap().to_owned();
    let pool = stack.db.pool().clone();
    eventually("the async program", || {
        let (pool, id) = (pool.clone(), id.clone());
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM eg_program WHERE id = $1")
                .bind(&id)
                .fetch_one(&pool)
                .await
                .unwrap()
                == 1
        }
    })
    .await;

    // Header errors are still answered at once.
    let mut same = body.clone();
    same["header"]["receiver_id"] = same["header"]["sender_id"].clone();
    let (status, out) = stack.admin("/program/_create", &same).await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "RECEIVER_ID_SENDER_ID_ERROR");

    // A message no endpoint takes: dead-lettered; the next one is still applied.
    let producer = digit_kafka::Producer::new(&digit_e2e::kafka()).unwrap();
    producer
        .send_json(
            &disburse_topic,
            None,
            &json!({"header": {"message_type": "bill", "action": "create"}}),
            None,
        )
        .await
        .unwrap();

    // A disbursement, sent twice (a redelivery): one debit of exactly 0.3.
    let sanction = funded(&stack, "100", "10.5").await;
    let payment = create(simple("EP/ASYNC/1", "0.3"));
    let (status, first) = stack.admin("/disburse/_create", &payment).await;
    assert_eq!(status, 200, "{first}");
    let payment_id = first["message"]["id"].as_str().unwrap().to_owned();
    assert!(first["message"]["children"][0]["id"].is_string(), "{first}");
    producer
        .send_json(&disburse_topic, Some(&payment_id), &first, None)
        .await
        .unwrap();
    eventually("the async payment", || {
        let (pool, payment_id) = (pool.clone(), payment_id.clone());
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT status FROM eg_program_disburse WHERE id = $1",
            )
            .bind(&payment_id)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten()
            .as_deref()
                == Some("INITIATED")
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let available: String =
        sqlx::query_scalar("SELECT available_amount::text FROM eg_program_sanction WHERE id = $1")
            .bind(&sanction)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(available.parse::<f64>().unwrap().to_string(), "10.2");
    assert_eq!(
        ledger_sums(&stack.db, &sanction)
            .await
            .1
            .parse::<f64>()
            .unwrap()
            .to_string(),
        "10.2"
    );

    let dead = tokio::task::spawn_blocking(move || {
        digit_e2e::read_topic_until(
            &errors,
            |v: &Value| v.to_string().contains("bill"),
            Duration::from_secs(20),
        )
    })
    .await
    .unwrap();
    assert!(!dead.is_empty(), "the unroutable message is dead-lettered");
    stack.stop();
}
