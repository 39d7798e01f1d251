//! Dashboard events: every committed change goes out through the outbox to its topic —
//! programs CREATED, the sanction's BALANCE_CHANGED after the allocation and after the
//! payment (with the exact balance), the payment CREATED without PII.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod program_disburse_common;

use digit_e2e::program::{envelope, other_id, own_id, ProgramStack};
use digit_e2e::read_topic_until;
use program_disburse_common::{amount, create, simple};
use serde_json::{json, Value};
use std::time::Duration;

fn read(
    topic: String,
    pred: impl Fn(&Value) -> bool + Send + 'static,
) -> tokio::task::JoinHandle<Vec<Value>> {
    tokio::task::spawn_blocking(move || read_topic_until(&topic, pred, Duration::from_secs(30)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_changes_are_published_to_the_event_topics() {
    let stack = ProgramStack::start().await;
    let _workers = stack.start_workers();
    let topic = |name: &str| format!("ifix-{name}-events-{}", stack.tag);

    // The program (owned here: its code from idgen).
    let (_, program) = stack
        .admin(
            "/program/_create",
            &envelope(
                "program",
                "create",
                &other_id(),
                &own_id(),
                json!({"location_code": "pg.citya", "name": "Events", "start_date": 1}),
            ),
        )
        .await;
    let code = program["message"]["program_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = program["message"]["id"].as_str().unwrap().to_owned();
    let programs = read(topic("program"), move |v| v["program"]["id"] == json!(id));

    // A sanction funded with 100.1 and a payment of 0.3 against it: 99.8 left, exactly.
    let sanction = json!({"location_code": "pg.citya", "program_code": code, "net_amount": 100.10,
        "gross_amount": 100.10, "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let mut parent = sanction.clone();
    parent["children"] = json!([sanction]);
    let (_, sanctioned) = stack
        .admin(
            "/on-sanction/_create",
            &envelope("on-sanction", "create", &other_id(), &own_id(), parent),
        )
        .await;
    let sanction_id = sanctioned["message"]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let allocation = json!({"location_code": "pg.citya", "program_code": code, "sanction_id": sanction_id,
        "net_amount": 100.10, "gross_amount": 100.10, "allocation_type": "ALLOCATION",
        "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let mut parent = allocation.clone();
    parent["children"] = json!([allocation]);
    let (status, allocated) = stack
        .admin(
            "/on-allocation/_create",
            &envelope("on-allocation", "create", &other_id(), &own_id(), parent),
        )
        .await;
    assert_eq!(status, 200, "{allocated}");
    let mut payment = simple("EP/EVENTS/1", "0.3");
    payment["program_code"] = json!(code);
    payment["children"][0]["program_code"] = json!(code);
    payment["sanction_id"] = json!(sanction_id);
    payment["children"][0]["sanction_id"] = json!(sanction_id);
    let (status, paid) = stack.admin("/disburse/_create", &create(payment)).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        paid["message"]["status"]["status_code"], "INITIATED",
        "{paid}"
    );
    let payment_id = paid["message"]["id"].as_str().unwrap().to_owned();

    let sid = sanction_id.clone();
    let balances = read(topic("sanction"), move |v| {
        v["event_type"] == "BALANCE_CHANGED"
            && v["sanction"]["id"] == json!(sid)
            && v["sanction"]["available_amount"] == amount("99.8")
    });
    let payments = read(topic("disburse"), move |v| {
        v["disburse"]["id"] == json!(payment_id)
    });

    let programs = programs.await.unwrap();
    assert_eq!(programs[0]["event_type"], "CREATED", "{programs:?}");
    assert_eq!(programs[0]["entity_type"], "program");
    let balances = balances.await.unwrap();
    assert!(
        !balances.is_empty(),
        "the sanction's balance after the payment is published"
    );
    assert_eq!(
        balances[0]["sanction"]["allocated_amount"].to_string(),
        "100.1"
    );
    let payments = payments.await.unwrap();
    assert_eq!(payments[0]["event_type"], "CREATED");
    let line = &payments[0]["disburse"]["children"][0];
    assert!(
        line["individual"].is_null() && line["account_code"].is_null(),
        "no PII in events: {line}"
    );
    stack.stop();
}
