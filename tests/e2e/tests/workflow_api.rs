//! The `/egov-workflow-v2/egov-wf/…` API against upstream's request/response shapes, on the
//! real stack (Postgres, broker, persister): every endpoint, its errors, and read-your-writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use serde_json::{json, Value};

fn ri() -> Value {
    json!({"apiId": "Rainmaker", "ts": 42, "msgId": "m-1"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_over_http_with_read_your_writes() {
    let stack = WorkflowStack::start(true).await;
    let id = business_id();

    // APPLY by the citizen.
    let (status, body) = stack.transition(&citizen(), pgr_instance(&id, "APPLY")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ResponseInfo"]["status"], "successful");
    assert_eq!(body["ResponseInfo"]["ts"], 42);
    assert!(body["totalCount"].is_null());
    let pi = &body["ProcessInstances"][0];
    assert_eq!(pi["state"]["applicationStatus"], "PENDINGFORASSIGNMENT");
    assert_eq!(pi["moduleName"], "pgr-services");
    assert_eq!(pi["businesssServiceSla"], 432_000_000);
    assert_eq!(pi["stateSla"], 172_800_000);
    assert_eq!(pi["escalated"], false);
    assert!(pi.as_object().unwrap().contains_key("assignes"));
    assert!(!pi.as_object().unwrap().contains_key("assignee"));
    assert_eq!(pi["assigner"]["uuid"], users::CITIZEN);
    // Answered after the persister committed: the row is there now.
    assert_eq!(stack.history_rows(&id).await, 1);

    // Search immediately finds it, with the state and next actions for the caller.
    let (status, body) = stack
        .post(&format!("/process/_search?tenantId=pg.citya&businessIds={id}"), Some(&gro()), json!({"RequestInfo": ri()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["ResponseInfo"].is_null());
    assert_eq!(body["totalCount"], 1);
    let found = &body["ProcessInstances"][0];
    assert_eq!(found["businessId"], id.as_str());
    assert_eq!(found["state"]["state"], "PENDINGFORASSIGNMENT");
    let next: Vec<&str> = found["nextActions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(next, ["ASSIGN", "ESCALATE", "REJECT"]);

    // ASSIGN to the LME, RESOLVE, RATE.
    let mut pi = pgr_instance(&id, "ASSIGN");
    pi["assignes"] = json!([{"uuid": users::LME}]);
    pi["comment"] = json!("please fix");
    let (status, body) = stack.transition(&gro(), pi).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pi = &body["ProcessInstances"][0];
    assert_eq!(pi["state"]["applicationStatus"], "PENDINGATLME");
    assert_eq!(pi["assignes"][0]["uuid"], users::LME);
    assert_eq!(pi["assignes"][0]["roles"][0]["code"], "PGR_LME", "assignees enriched from the users table");

    let (status, body) = stack.transition(&lme(), pgr_instance(&id, "RESOLVE")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut rate = pgr_instance(&id, "RATE");
    rate["rating"] = json!(5);
    let (status, body) = stack.transition(&citizen(), rate).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ProcessInstances"][0]["state"]["applicationStatus"], "CLOSEDAFTERRESOLUTION");
    assert_eq!(body["ProcessInstances"][0]["rating"], 5);

    // History: newest first, four rows, assignee and comment persisted.
    let (_, body) = stack
        .post(&format!("/process/_search?tenantId=pg.citya&businessIds={id}&history=true"), Some(&citizen()), json!({"RequestInfo": ri()}))
        .await;
    let actions: Vec<&str> = body["ProcessInstances"].as_array().unwrap().iter().map(|p| p["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["RATE", "RESOLVE", "ASSIGN", "APPLY"]);
    assert_eq!(body["totalCount"], 4);
    assert_eq!(body["ProcessInstances"][2]["comment"], "please fix");
    assert_eq!(body["ProcessInstances"][2]["assignes"][0]["uuid"], users::LME);
    assert_eq!(body["ProcessInstances"][0]["rating"], 5);
    // previousStatus points at the state before each action.
    assert_eq!(body["ProcessInstances"][0]["previousStatus"], body["ProcessInstances"][1]["state"]["uuid"]);
}
