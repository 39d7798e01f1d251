//! `RemoteWorkflow` (the client for an upstream egov-workflow-v2 at `EGOV_WORKFLOW_HOST`)
//! speaks the wire contract: pointed at our own API over a real socket, it transitions,
//! searches and reads business services through the same `WorkflowClient` trait, and
//! upstream's error envelope comes back as the same codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::*;
use digit_workflow::{
    ProcessInstance, ProcessInstanceRequest, RemoteWorkflow, SearchCriteria, WorkflowClient,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_client_round_trips_through_the_http_contract() {
    let stack = WorkflowStack::start(true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = stack.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = digit_http::HttpClient::new(
        "workflow",
        &digit_http::HttpSettings::default(),
        &digit_service::Metrics::new("test"),
    )
    .unwrap();
    let remote = RemoteWorkflow::new(http, &format!("http://{addr}")).unwrap();

    let request_info = |user: &digit_core::UserInfo| digit_core::RequestInfo {
        auth_token: Some(token(user)),
        ..Default::default()
    };
    let id = business_id();
    let pi: ProcessInstance = serde_json::from_value(pgr_instance(&id, "APPLY")).unwrap();
    let out = remote
        .transition(ProcessInstanceRequest {
            request_info: request_info(&citizen()),
            process_instances: vec![pi],
        })
        .await
        .unwrap();
    assert_eq!(
        out[0].state.as_ref().unwrap().application_status.as_deref(),
        Some("PENDINGFORASSIGNMENT")
    );
    assert_eq!(out[0].businesss_service_sla, Some(432_000_000));

    let criteria = SearchCriteria {
        tenant_id: Some("pg.citya".into()),
        business_ids: vec![id.clone()],
        history: Some(true),
        ..SearchCriteria::default()
    };
    let (found, total) = remote
        .search(&request_info(&gro()), &criteria)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(found[0].business_id.as_deref(), Some(id.as_str()));

    let bs = remote
        .business_service(&request_info(&gro()), "pg.citya", "PGR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bs.business.as_deref(), Some("pgr-services"));

    // Errors keep upstream's codes.
    let bad: ProcessInstance = serde_json::from_value(pgr_instance(&id, "RESOLVE")).unwrap();
    let err = remote
        .transition(ProcessInstanceRequest {
            request_info: request_info(&gro()),
            process_instances: vec![bad],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID ACTION");
}
