//! Read-your-writes as PGR runs it (`pgr::routes`): one commit listener per process, on a
//! connection outside the service's pool, shared by PGR and its embedded workflow; and the
//! one timeout policy — a write the persister does not confirm in time is answered, logged
//! and counted, and still lands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// (application_name) of every connection of this database listening for commits.
async fn listeners(stack: &WorkflowStack) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT application_name FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN%persister_commit%'",
    )
    .fetch_all(stack.db.pool())
    .await
    .unwrap()
}

fn complaint() -> serde_json::Value {
    json!({
        "RequestInfo": {"apiId": "Rainmaker", "ts": 1_700_000_000_000_i64, "msgId": "m-1|en_IN"},
        "service": {
            "tenantId": "pg.citya",
            "serviceCode": "StreetLightNotWorking",
            "description": "Unconfirmed but answered",
            "source": "web",
            "address": {"city": "pg.citya", "locality": {"code": "ALOC1"}, "geoLocation": {"latitude": 12.97, "longitude": 77.59}},
            "additionalDetail": {}
        },
        "workflow": {"action": "APPLY", "verificationDocuments": []}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pgr_and_its_workflow_share_one_listener_outside_the_pool() {
    let stack = WorkflowStack::start(true).await;
    // A write through both (workflow transition, then the complaint) is awaited.
    let (status, body) = stack
        .call(
            "/pgr-services/v2/request/_create",
            Some(&citizen()),
            complaint(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listening = listeners(&stack).await;
    assert_eq!(listening.len(), 1, "one watcher per process: {listening:?}");
    assert!(
        listening[0].ends_with("commit-watcher"),
        "on the watcher's own connection, not the service pool's: {listening:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unconfirmed_write_is_answered_counted_and_still_lands() {
    // The service awaits a persister group that never commits: nothing is ever confirmed.
    let stack = WorkflowStack::start_with(
        true,
        &[
            ("PERSISTER_GROUP_ID", "a-persister-that-is-not-running"),
            ("PERSISTER_AWAIT_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let (status, body) = stack
        .call(
            "/pgr-services/v2/request/_create",
            Some(&citizen()),
            complaint(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "answered as upstream would: {body}");
    let srid = body["ServiceWrappers"][0]["service"]["serviceRequestId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, metrics) = stack.get_text("/pgr-services/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for topic in [
        format!("save-wf-transitions-{}", stack.tag),
        format!("save-pgr-request-{}", stack.tag),
    ] {
        let line =
            format!(r#"persister_await_unconfirmed_total{{topic="{topic}",service="pgr"}} 1"#);
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }

    // The message is in Kafka: the (real) persister stores it anyway.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eg_pgr_service_v2 WHERE servicerequestid = $1",
        )
        .bind(&srid)
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{srid} never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
