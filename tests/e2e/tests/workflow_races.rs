//! No stale state: concurrent transitions on one application, and fast sequential ones in
//! fire-and-forget mode (where only the head row and the commit wait stand between the next
//! transition and a stale read).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::*;
use digit_workflow::{codes, ProcessInstance, ProcessInstanceRequest};
use serde_json::json;
use std::sync::Arc;

fn request(user: &digit_core::UserInfo, pi: serde_json::Value) -> ProcessInstanceRequest {
    ProcessInstanceRequest {
        request_info: digit_core::RequestInfo {
            user_info: Some(user.clone()),
            ..Default::default()
        },
        process_instances: vec![serde_json::from_value::<ProcessInstance>(pi).unwrap()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_transitions_exactly_one_wins() {
    let stack = WorkflowStack::start(true).await;
    let id = business_id();
    stack
        .workflow
        .transition(request(&citizen(), pgr_instance(&id, "APPLY")))
        .await
        .unwrap();

    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let wf = stack.workflow.clone();
        let barrier = barrier.clone();
        let mut pi = pgr_instance(&id, "ASSIGN");
        pi["assignes"] = json!([{"uuid": users::LME}]);
        let req = request(&gro(), pi);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            wf.transition(req).await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    let mut invalid_action = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.code() == codes::CONCURRENT_TRANSITION => conflicts += 1,
            Err(e) if e.code() == codes::INVALID_ACTION => invalid_action += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    eprintln!("ok={ok} conflicts={conflicts} invalid_action={invalid_action}");
    assert_eq!(ok, 1);
    assert_eq!(conflicts + invalid_action, 19);
    assert!(conflicts >= 1, "the racing losers see the conflict");
    // Exactly one new row (APPLY + ASSIGN).
    assert_eq!(stack.history_rows(&id).await, 2);
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={id}&history=true"),
            Some(&gro()),
            json!({}),
        )
        .await;
    assert_eq!(body["totalCount"], 2);
    assert_eq!(body["ProcessInstances"][0]["action"], "ASSIGN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conflict_over_http_is_a_409_in_the_digit_envelope() {
    let stack = WorkflowStack::start(true).await;
    let id = business_id();
    stack
        .transition(&citizen(), pgr_instance(&id, "APPLY"))
        .await;
    // Two self-loop ESCALATEs from the same state: both valid alone, only one may win.
    let (g1, g2) = (gro(), gro());
    let a = stack.transition(&g1, pgr_instance(&id, "ESCALATE"));
    let b = stack.transition(&g2, pgr_instance(&id, "ESCALATE"));
    let ((sa, ba), (sb, bb)) = tokio::join!(a, b);
    let statuses = [sa.as_u16(), sb.as_u16()];
    if statuses.contains(&409) {
        assert!(statuses.contains(&200));
        let loser = if sa.as_u16() == 409 { ba } else { bb };
        assert!(loser["ResponseInfo"].is_null());
        assert_eq!(loser["Errors"][0]["code"], "WORKFLOW_CONCURRENT_TRANSITION");
        assert_eq!(stack.history_rows(&id).await, 2);
    } else {
        // They did not overlap: then both were judged on the latest state, one after the other.
        assert_eq!(statuses, [200, 200]);
        assert_eq!(stack.history_rows(&id).await, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_sequential_transitions_never_read_stale_state() {
    // Fire-and-forget: each transition answers right after Kafka acknowledged it, before the
    // persister wrote it. The next one must still start from it.
    let stack = WorkflowStack::start(false).await;
    let id = business_id();
    stack
        .workflow
        .transition(request(&citizen(), pgr_instance(&id, "APPLY")))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    for i in 0..100 {
        // ASSIGN (GRO) and REASSIGN (LME) alternate between three states: a transition
        // decided on a stale state fails with INVALID ACTION.
        let (user, action) = if i % 2 == 0 {
            (gro(), "ASSIGN")
        } else {
            (lme(), "REASSIGN")
        };
        let out = stack
            .workflow
            .transition(request(&user, pgr_instance(&id, action)))
            .await
            .unwrap_or_else(|e| panic!("transition {i} ({action}) failed: {e}"));
        let expected = if i % 2 == 0 {
            "PENDINGATLME"
        } else {
            "PENDINGFORREASSIGNMENT"
        };
        assert_eq!(
            out[0].state.as_ref().unwrap().application_status.as_deref(),
            Some(expected)
        );
    }
    eprintln!("100 sequential transitions in {:?}", started.elapsed());
    // All 101 rows arrive.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while stack.history_rows(&id).await < 101 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stack.history_rows(&id).await, 101);
    // lastModifiedTime strictly increases, so "latest" is unambiguous.
    let distinct: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT lastmodifiedtime) FROM eg_wf_processinstance_v2 WHERE businessid = $1",
    )
    .bind(&id)
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(distinct, 101);
}
