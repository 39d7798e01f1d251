//! Auto-escalation (§4.6): applications past their state SLA are moved by
//! `auto/{businessService}/_escalate` with `escalated = true`, the MDMS-configured topic
//! receives them, and `escalate/_search` shows them to the employee they were taken from.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overdue_applications_are_escalated_and_published() {
    let stack = WorkflowStack::start(true).await;
    let overdue = business_id();
    let fresh = business_id();
    for id in [&overdue, &fresh] {
        let (status, body) = stack
            .transition(&citizen(), pgr_instance(id, "APPLY"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut pi = pgr_instance(id, "ASSIGN");
        pi["assignes"] = json!([{"uuid": users::LME}]);
        let (status, body) = stack.transition(&gro(), pi).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Make one of them 5 days old at PENDINGATLME (state SLA 3 days; MDMS: escalate 1 day
    // past it). Only the clock is faked; everything else is the real path.
    let five_days = 5 * 24 * 3600 * 1000_i64;
    sqlx::query(
        "UPDATE eg_wf_processinstance_v2 SET createdtime = createdtime - $2, lastmodifiedtime = lastmodifiedtime - $2
         WHERE businessid = $1",
    )
    .bind(&overdue)
    .bind(five_days)
    .execute(stack.db.pool())
    .await
    .unwrap();

    let (status, body) = stack
        .post(
            "/auto/PGR/_escalate?tenantId=pg",
            Some(&auto_escalation()),
            json!({"RequestInfo": {"apiId": "Rainmaker", "ts": 7}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "successful", "a bare ResponseInfo: {body}");
    assert_eq!(body["ts"], 7);

    // The overdue one moved to PENDINGATSUPERVISOR with escalated = true; the fresh one did not.
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={overdue}"),
            Some(&gro()),
            json!({}),
        )
        .await;
    let latest = &body["ProcessInstances"][0];
    assert_eq!(latest["action"], "ESCALATE", "{body}");
    assert_eq!(latest["escalated"], true);
    assert_eq!(latest["state"]["applicationStatus"], "PENDINGATSUPERVISOR");
    assert_eq!(latest["assigner"]["uuid"], users::AUTO_ESCALATION);
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={fresh}"),
            Some(&gro()),
            json!({}),
        )
        .await;
    assert_eq!(body["ProcessInstances"][0]["action"], "ASSIGN");

    // The configured topic got {RequestInfo, ProcessInstances} for the module.
    let wanted = overdue.clone();
    let messages = tokio::task::spawn_blocking(move || {
        read_topic_until(
            "pgr-auto-escalation",
            |v: &Value| v["ProcessInstances"][0]["businessId"] == wanted.as_str(),
            Duration::from_secs(20),
        )
    })
    .await
    .unwrap();
    assert_eq!(messages.len(), 1);
    let pi = &messages[0]["ProcessInstances"][0];
    assert_eq!(pi["escalated"], true);
    assert_eq!(pi["state"]["applicationStatus"], "PENDINGATSUPERVISOR");
    assert!(
        messages[0]["RequestInfo"]
            .get("authToken")
            .is_none_or(Value::is_null),
        "no token in Kafka"
    );

    // escalate/_search: shown to the LME it was taken from, not to others.
    let (status, body) = stack
        .post(
            "/escalate/_search?tenantId=pg.citya",
            Some(&lme()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalCount"], 1);
    assert_eq!(body["ProcessInstances"][0]["businessId"], overdue.as_str());
    let (_, body) = stack
        .post(
            "/escalate/_search?tenantId=pg.citya",
            Some(&gro()),
            json!({}),
        )
        .await;
    assert_eq!(body["totalCount"], 0);

    // Running it again does nothing more (the supervisor state has no escalation config).
    let before = stack.history_rows(&overdue).await;
    stack
        .post(
            "/auto/PGR/_escalate",
            Some(&auto_escalation()),
            json!({"RequestInfo": {"ts": 8}}),
        )
        .await;
    assert_eq!(stack.history_rows(&overdue).await, before);

    // Only AUTO_ESCALATE (or SUPERUSER) may trigger it.
    let (status, _) = stack
        .post("/auto/PGR/_escalate", Some(&gro()), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// PGR's periodic job (digit-jobs, as `pgr` registers it): a tick escalates the overdue
/// application as the system user, exactly like the endpoint, and the same tick run again
/// (another replica) does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_periodic_job_escalates_once_per_tick() {
    use digit_jobs::{JobRunner, Schedule, Tick, TickOutcome, JOBS_MIGRATOR};
    use digit_workflow::escalation_job::AutoEscalationJob;

    let stack = WorkflowStack::start(true).await;
    digit_store::run_migrations(stack.db.pool(), &[&JOBS_MIGRATOR])
        .await
        .unwrap();
    let overdue = business_id();
    let (status, body) = stack
        .transition(&citizen(), pgr_instance(&overdue, "APPLY"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut pi = pgr_instance(&overdue, "ASSIGN");
    pi["assignes"] = json!([{"uuid": users::LME}]);
    let (status, body) = stack.transition(&gro(), pi).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let five_days = 5 * 24 * 3600 * 1000_i64;
    sqlx::query(
        "UPDATE eg_wf_processinstance_v2 SET createdtime = createdtime - $2, lastmodifiedtime = lastmodifiedtime - $2
         WHERE businessid = $1",
    )
    .bind(&overdue)
    .bind(five_days)
    .execute(stack.db.pool())
    .await
    .unwrap();

    let job = AutoEscalationJob::new(stack.workflow.clone(), "PGR", users::AUTO_ESCALATION, "pg");
    let runner = JobRunner::new(
        stack.db.pool().clone(),
        "pgr-auto-escalation",
        Schedule::parse("15m").unwrap(),
        std::sync::Arc::new(job),
    );
    let tick = Tick { at_ms: 900_000 };
    assert_eq!(
        runner.run_tick(tick).await.unwrap(),
        TickOutcome::Ran { ok: true }
    );
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={overdue}"),
            Some(&gro()),
            json!({}),
        )
        .await;
    let latest = &body["ProcessInstances"][0];
    assert_eq!(latest["action"], "ESCALATE", "{body}");
    assert_eq!(latest["escalated"], true);
    assert_eq!(latest["state"]["applicationStatus"], "PENDINGATSUPERVISOR");
    assert_eq!(latest["assigner"]["uuid"], users::AUTO_ESCALATION);
    let before = stack.history_rows(&overdue).await;
    assert_eq!(
        runner.run_tick(tick).await.unwrap(),
        TickOutcome::AlreadyRun
    );
    assert_eq!(stack.history_rows(&overdue).await, before);
}
