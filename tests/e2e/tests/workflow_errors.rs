//! Workflow error codes no other test produces, over HTTP on the real stack:
//! `WORKFLOW_TRANSITION_PENDING` (a predecessor the persister never confirms) and the
//! auto-escalation configuration errors (`INVALID_CONFIG` for a malformed entry,
//! `BUSINESSSERVICE_NOT_FOUND`, `STATUS_NOT_FOUND`), with the malformed entry of another
//! business service logged and counted instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use digit_kafka::Producer;
use digit_mdms::{EmbeddedMdms, MdmsSource};
use digit_store::commit::{CommitSettings, CommitWatcher};
use digit_workflow::{codes, Workflow, WorkflowSettings};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transition_after_one_never_persisted_is_pending() {
    let stack = WorkflowStack::start(true).await;
    // A second engine on the same database whose transitions go to a topic no persister
    // reads, waiting 300 ms for commits that never come.
    let kafka = kafka();
    let topic = format!("save-wf-transitions-unread-{}", stack.tag);
    digit_kafka::create_topics(&kafka, &[(topic.as_str(), 1)])
        .await
        .unwrap();
    let group = format!("e2e-persister-{}", stack.tag);
    let mdms: Arc<dyn MdmsSource> =
        Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap());
    let users = Arc::new(digit_user::EmbeddedUsers::new(stack.db.pool().clone()));
    let engine = Workflow::new(
        stack.db.pool().clone(),
        mdms.clone(),
        users,
        Producer::new(&kafka).unwrap(),
        Some(
            CommitWatcher::start(
                stack.db.pool().clone(),
                CommitSettings {
                    group,
                    timeout: Duration::from_millis(300),
                },
                &digit_service::Metrics::new("e2e"),
            )
            .await
            .unwrap(),
        ),
        WorkflowSettings {
            transition_topic: topic,
            await_persister: true,
            ..stack.workflow.settings().clone()
        },
    );
    // The production gate (JWT + the shipped role-actions) of a platform on the same database.
    let platform = platform_with_mdms(&pgr::INFO, pgr::NEEDS, &stack.db, vec![], mdms).await;
    let app = platform.protect(digit_workflow::api::router(engine).routes);
    let transition = |who: digit_core::UserInfo, pi: Value| {
        let app = app.clone();
        async move {
            post_as(
                &app,
                "/egov-workflow-v2/egov-wf/process/_transition",
                Some(&who),
                json!({"RequestInfo": {"apiId": "Rainmaker"}, "ProcessInstances": [pi]}),
            )
            .await
        }
    };

    // Accepted (the broker has it), never persisted.
    let id = business_id();
    let (status, body) = transition(citizen(), pgr_instance(&id, "APPLY")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The next one cannot know the state: 503, retry later.
    let mut pi = pgr_instance(&id, "ASSIGN");
    pi["assignes"] = json!([{"uuid": users::LME}]);
    let (status, body) = transition(gro(), pi).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["Errors"][0]["code"], codes::TRANSITION_PENDING);
    assert_eq!(stack.history_rows(&id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auto_escalation_configuration_errors_fail_the_call() {
    let mut docs = shipped_mdms_documents();
    let workflow = docs
        .iter_mut()
        .find(|d| d.get("AutoEscalation").is_some())
        .unwrap();
    workflow["AutoEscalation"] = json!([
        // PGR: a state the business service does not have.
        {"businessService": "PGR", "module": "PGR", "state": "NOSUCHSTATE", "action": "ESCALATE",
         "stateSLA": 1, "topic": "pgr-auto-escalation"},
        // A business service that does not exist.
        {"businessService": "NOSUCHBS", "module": "X", "state": "ANY", "action": "ESCALATE",
         "stateSLA": 1, "topic": "x-auto-escalation"},
        // Malformed: no action, SLA not a number.
        {"businessService": "BROKEN", "state": "ANY", "stateSLA": "one day", "topic": "t"},
    ]);
    let mdms: Arc<dyn MdmsSource> = Arc::new(EmbeddedMdms::from_documents(docs));
    let stack = WorkflowStack::start_with_mdms(true, mdms).await;
    let escalate = |code: &'static str| {
        let stack = &stack;
        async move {
            stack
                .post(
                    &format!("/auto/{code}/_escalate?tenantId=pg"),
                    Some(&auto_escalation()),
                    json!({"RequestInfo": {"apiId": "Rainmaker", "ts": 7}}),
                )
                .await
        }
    };

    let (status, body) = escalate("BROKEN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], codes::INVALID_CONFIG);

    let (status, body) = escalate("NOSUCHBS").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], codes::BUSINESSSERVICE_NOT_FOUND);

    // PGR's own entry is wrong too; BROKEN's entry is not PGR's: logged and counted.
    let what = "workflow_escalation_config";
    let before = digit_service::metrics::degraded_count(what);
    let (status, body) = escalate("PGR").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], codes::STATUS_NOT_FOUND);
    assert_eq!(digit_service::metrics::degraded_count(what), before + 1);
}
