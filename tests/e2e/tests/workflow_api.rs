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
    let (status, body) = stack
        .transition(&citizen(), pgr_instance(&id, "APPLY"))
        .await;
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
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={id}"),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["ResponseInfo"].is_null());
    assert_eq!(body["totalCount"], 1);
    let found = &body["ProcessInstances"][0];
    assert_eq!(found["businessId"], id.as_str());
    assert_eq!(found["state"]["state"], "PENDINGFORASSIGNMENT");
    let next: Vec<&str> = found["nextActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
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
    assert_eq!(
        pi["assignes"][0]["roles"][0]["code"], "PGR_LME",
        "assignees enriched from the users table"
    );

    let (status, body) = stack.transition(&lme(), pgr_instance(&id, "RESOLVE")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut rate = pgr_instance(&id, "RATE");
    rate["rating"] = json!(5);
    let (status, body) = stack.transition(&citizen(), rate).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ProcessInstances"][0]["state"]["applicationStatus"],
        "CLOSEDAFTERRESOLUTION"
    );
    assert_eq!(body["ProcessInstances"][0]["rating"], 5);

    // History: newest first, four rows, assignee and comment persisted.
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={id}&history=true"),
            Some(&citizen()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    let actions: Vec<&str> = body["ProcessInstances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["RATE", "RESOLVE", "ASSIGN", "APPLY"]);
    assert_eq!(body["totalCount"], 4);
    assert_eq!(body["ProcessInstances"][2]["comment"], "please fix");
    assert_eq!(
        body["ProcessInstances"][2]["assignes"][0]["uuid"],
        users::LME
    );
    assert_eq!(body["ProcessInstances"][0]["rating"], 5);
    // previousStatus points at the state before each action.
    assert_eq!(
        body["ProcessInstances"][0]["previousStatus"],
        body["ProcessInstances"][1]["state"]["uuid"]
    );
}

async fn apply(stack: &WorkflowStack) -> String {
    let id = business_id();
    let (status, body) = stack
        .transition(&citizen(), pgr_instance(&id, "APPLY"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn assign(stack: &WorkflowStack, id: &str, to: &str) {
    let mut pi = pgr_instance(id, "ASSIGN");
    pi["assignes"] = json!([{"uuid": to}]);
    let (status, body) = stack.transition(&gro(), pi).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transition_errors_in_the_digit_envelope() {
    let stack = WorkflowStack::start(true).await;
    let id = apply(&stack).await;
    let cases: Vec<(digit_core::UserInfo, Value, &str, String)> = vec![
        (
            gro(),
            pgr_instance(&id, "RESOLVE"),
            "INVALID ACTION",
            format!("Action RESOLVE not found in config for the businessId: {id}"),
        ),
        (
            lme(),
            pgr_instance(&id, "ASSIGN"),
            "INVALID ROLE",
            "User is not authorized to perform action".to_owned(),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p["assignes"] = json!([{"uuid": users::CSR}]);
                p
            },
            "INVALID_ASSIGNEE",
            format!("Cannot assign to the user: {}", users::CSR),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p["assignes"] = json!([{"uuid": users::LME_CITYB}]);
                p
            },
            "INVALID_ASSIGNEE",
            format!("Cannot assign to the user: {}", users::LME_CITYB),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p["assignes"] = json!([{"uuid": "no-such-user"}]);
                p
            },
            "INVALID UUID",
            "User not found for uuid: no-such-user".to_owned(),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "REJECT");
                p["rating"] = json!(3);
                p
            },
            "INVALID_ACTION",
            "Rating can be given only upon taking RATE action.".to_owned(),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p["businessService"] = json!("NOPE");
                p
            },
            "BUSINESSSERVICE ERROR",
            "No bussinessService object found for businessSerice: NOPE and tenantId: pg.citya"
                .to_owned(),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p.as_object_mut().unwrap().remove("moduleName");
                p
            },
            "NotNull",
            "ProcessInstances[0].moduleName must not be null".to_owned(),
        ),
        (
            gro(),
            {
                let mut p = pgr_instance(&id, "ASSIGN");
                p["comment"] = json!("x".repeat(1025));
                p
            },
            "Size",
            "ProcessInstances[0].comment size must be between 0 and 1024".to_owned(),
        ),
    ];
    for (who, pi, code, message) in cases {
        let (status, body) = stack.transition(&who, pi).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}: {body}");
        assert!(body["ResponseInfo"].is_null());
        assert_eq!(body["Errors"][0]["code"], code, "{body}");
        assert_eq!(body["Errors"][0]["message"], message, "{body}");
    }
    // Still one row: nothing was accepted.
    assert_eq!(stack.history_rows(&id).await, 1);

    // A second citizen may not act on a complaint assigned to the first (CITIZEN assignee).
    assign(&stack, &id, users::LME).await;
    let (status, _) = stack.transition(&lme(), pgr_instance(&id, "RESOLVE")).await;
    assert_eq!(status, StatusCode::OK);
    let mut reopen = pgr_instance(&id, "REOPEN");
    reopen["assignes"] = json!([]);
    let (status, _) = stack.transition(&citizen(), reopen).await;
    assert_eq!(status, StatusCode::OK);

    // No token → 401; a role without the action → 403.
    let (status, body) = stack
        .post(
            "/process/_transition",
            None,
            json!({"RequestInfo": ri(), "ProcessInstances": [pgr_instance(&id, "COMMENT")]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = stack
        .post(
            "/businessservice/_create",
            Some(&gro()),
            json!({"RequestInfo": ri(), "BusinessServices": []}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn searches_counts_inbox_and_pagination() {
    let stack = WorkflowStack::start(true).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(apply(&stack).await);
    }
    assign(&stack, &ids[0], users::LME).await;
    assign(&stack, &ids[1], users::LME).await;

    // Default page size 10, totalCount is the real total.
    let (status, body) = stack
        .post(
            "/process/_search?tenantId=pg.citya&businessService=PGR&status=",
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Inbox mode for the GRO: the 10 PENDINGFORASSIGNMENT applications he can act on.
    assert_eq!(body["totalCount"], 10, "{body}");
    assert_eq!(body["ProcessInstances"].as_array().unwrap().len(), 10);

    // The LME's inbox: the two assigned to him.
    let (_, body) = stack
        .post(
            "/process/_search?tenantId=pg.citya",
            Some(&lme()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["totalCount"], 2, "{body}");
    let next = &body["ProcessInstances"][0]["nextActions"];
    let names: Vec<&str> = next
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ESCALATE", "REASSIGN", "RESOLVE"]);

    // Explicit criteria, pagination and the max limit.
    let all = ids.join(",");
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={all}&limit=5&offset=10"),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["totalCount"], 12);
    assert_eq!(body["ProcessInstances"].as_array().unwrap().len(), 2);
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={all}&limit=100000"),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["ProcessInstances"].as_array().unwrap().len(), 12);
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&assignee={}", users::LME),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["totalCount"], 2);
    // Fuzzy business ids (substring), as upstream.
    let fragment = &ids[3][3..];
    let (_, body) = stack
        .post(
            &format!("/process/_search?tenantId=pg.citya&businessIds={fragment}"),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["ProcessInstances"][0]["businessId"], ids[3].as_str());

    // tenantId is mandatory.
    let (status, body) = stack
        .post(
            "/process/_search",
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "EG_WF_CRITERIA_ERR");
    assert_eq!(
        body["Errors"][0]["message"],
        "TenantId is mandatory for searching workflow"
    );

    // _count: a bare integer.
    let (status, body) = stack
        .post(
            &format!("/process/_count?tenantId=pg.citya&businessIds={all}"),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(12));
    let (status, body) = stack
        .post(
            "/process/_count",
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["Errors"][0]["message"],
        "TenantId is mandatory for count workflow call"
    );

    // _statuscount: a bare array of lower-case rows.
    let (status, body) = stack
        .post(
            "/process/_statuscount",
            Some(&gro()),
            json!({"RequestInfo": ri(), "ProcessInstanceSearchCriteria": {"tenantId": "pg.citya", "businessIds": ids}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body.as_array().unwrap();
    let by_status: std::collections::BTreeMap<&str, i64> = rows
        .iter()
        .map(|r| {
            (
                r["applicationstatus"].as_str().unwrap(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_status["PENDINGFORASSIGNMENT"], 10);
    assert_eq!(by_status["PENDINGATLME"], 2);
    assert_eq!(rows[0]["businessservice"], "PGR");
    assert!(rows[0]["statusid"].is_string());

    // _nearingslacount: businessService mandatory; all 12 are fresh (within the SLA slot).
    let (status, body) = stack
        .post(
            "/process/_nearingslacount?tenantId=pg.citya",
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "EG_WF_BUSINESSSRV_ERR");
    let (status, body) = stack
        .post(
            &format!(
                "/process/_nearingslacount?tenantId=pg.citya&businessService=PGR&businessIds={all}"
            ),
            Some(&gro()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!(12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn business_services_create_update_search() {
    let stack = WorkflowStack::start(true).await;
    // The UI's call: state-level definition found for a city, tenant rewritten.
    let (status, body) = stack
        .post(
            "/businessservice/_search?tenantId=pg.citya&businessServices=PGR",
            Some(&citizen()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ResponseInfo"]["status"], "successful");
    let bs = &body["BusinessServices"][0];
    assert_eq!(bs["businessService"], "PGR");
    assert_eq!(bs["tenantId"], "pg.citya");
    assert_eq!(bs["businessServiceSla"], 432_000_000);
    assert!(
        bs.get("getUri").is_none(),
        "nulls omitted on business services"
    );
    assert_eq!(bs["states"].as_array().unwrap().len(), 11);
    let (status, body) = stack
        .post(
            "/businessservice/v2/_search?businessServices=PGR",
            Some(&citizen()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "NotNull");

    // v2 create: a small three-state service (state level, as every code missing from
    // BusinessServiceMasterConfig is); duplicates refused.
    let new_bs = json!({
        "tenantId": "pg", "businessService": "NOC", "business": "noc-services", "businessServiceSla": 1000,
        "states": [
            {"state": null, "applicationStatus": null, "isStartState": true, "actions": [
                {"action": "APPLY", "nextState": "APPLIED", "roles": ["CITIZEN"]}]},
            {"state": "APPLIED", "applicationStatus": "APPLIED", "sla": 500, "actions": [
                {"action": "APPROVE", "nextState": "APPROVED", "roles": ["*"]}]},
            {"state": "APPROVED", "applicationStatus": "APPROVED", "docUploadRequired": true, "isTerminateState": true}
        ]
    });
    let (status, body) = stack
        .post(
            "/businessservice/v2/_create",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [new_bs.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = &body["BusinessServices"][0];
    let applied_uuid = created["states"][1]["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        created["states"][0]["actions"][0]["nextState"],
        applied_uuid.as_str()
    );
    assert_eq!(created["states"][0]["actions"][0]["active"], true);
    let (status, body) = stack
        .post(
            "/businessservice/v2/_create",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [new_bs.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "INVALID BUSINESSSERVICE");
    assert_eq!(
        body["Errors"][0]["message"],
        "The businessService: NOC for tenantId: pg already exists"
    );
    let mut bad = new_bs.clone();
    bad["businessService"] = json!("NOC2");
    bad["states"][1]["actions"][0]["nextState"] = json!("NOWHERE");
    let (_, body) = stack
        .post(
            "/businessservice/v2/_create",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [bad]}),
        )
        .await;
    assert_eq!(body["Errors"][0]["code"], "INVALID NEXTSTATE");

    // The new service works at once (read-your-writes): docUploadRequired and "*" roles.
    let mut apply = pgr_instance("NOC-0001", "APPLY");
    apply["tenantId"] = json!("pg.cityb");
    apply["businessService"] = json!("NOC");
    let cb_citizen = user(
        users::CITIZEN,
        digit_core::UserType::Citizen,
        &[("CITIZEN", "pg")],
    );
    let (status, body) = stack.transition(&cb_citizen, apply.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ProcessInstances"][0]["moduleName"], "noc-services");
    let mut approve = apply.clone();
    approve["action"] = json!("APPROVE");
    let (status, body) = stack.transition(&cb_citizen, approve.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "INVALID DOCUMENT");
    assert_eq!(
        body["Errors"][0]["message"],
        "Documents cannot be null for status: APPROVED"
    );

    // v2 update: SLA changed, the APPROVED state no longer needs documents; unknown refused.
    let mut updated = created.clone();
    updated["businessServiceSla"] = json!(2000);
    updated["states"][2]["docUploadRequired"] = json!(false);
    let (status, body) = stack
        .post(
            "/businessservice/v2/_update",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [updated]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = stack
        .post(
            "/businessservice/v2/_search?tenantId=pg.cityb&businessServices=NOC",
            Some(&citizen()),
            json!({"RequestInfo": ri()}),
        )
        .await;
    assert_eq!(body["BusinessServices"][0]["businessServiceSla"], 2000);
    // …and the engine uses the update at once: APPROVE without documents now passes.
    let (status, body) = stack.transition(&cb_citizen, approve).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ProcessInstances"][0]["state"]["applicationStatus"],
        "APPROVED"
    );
    let mut missing = new_bs.clone();
    missing["businessService"] = json!("NOPE");
    let (status, body) = stack
        .post(
            "/businessservice/v2/_update",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [missing]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["Errors"][0]["message"],
        "The businessService: NOPE for tenantId: pg does not exists"
    );

    // A tenant-level code (MDMS BusinessServiceMasterConfig isStatelevel "false") is looked
    // up under the application's own tenant: defined for City B, unknown in City A.
    let mut city = new_bs.clone();
    city["businessService"] = json!("CITYNOC");
    city["tenantId"] = json!("pg.cityb");
    let (status, body) = stack
        .post(
            "/businessservice/v2/_create",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [city]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut in_b = pgr_instance("CITYNOC-0001", "APPLY");
    in_b["tenantId"] = json!("pg.cityb");
    in_b["businessService"] = json!("CITYNOC");
    let (status, body) = stack.transition(&cb_citizen, in_b.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut in_a = in_b.clone();
    in_a["tenantId"] = json!("pg.citya");
    let (status, body) = stack.transition(&cb_citizen, in_a).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Errors"][0]["code"], "BUSINESSSERVICE ERROR");

    // v1 create and update work without the v2 checks.
    let mut v1 = new_bs.clone();
    v1["businessService"] = json!("NOC-V1");
    let (status, body) = stack
        .post(
            "/businessservice/_create",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [v1.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = stack
        .post(
            "/businessservice/_update",
            Some(&superuser()),
            json!({"RequestInfo": ri(), "BusinessServices": [body["BusinessServices"][0].clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_process_callers_get_every_instance_of_a_large_page() {
    use digit_workflow::{ProcessInstance, ProcessInstanceRequest, SearchCriteria, WorkflowClient};
    let stack = WorkflowStack::start(true).await;
    let ids: Vec<String> = (0..120).map(|i| format!("PG-PGR-BIG-{i:04}")).collect();
    let instances: Vec<ProcessInstance> = ids
        .iter()
        .map(|id| serde_json::from_value(pgr_instance(id, "APPLY")).unwrap())
        .collect();
    for chunk in instances.chunks(40) {
        stack
            .workflow
            .transition(ProcessInstanceRequest {
                request_info: digit_core::RequestInfo {
                    user_info: Some(citizen()),
                    ..Default::default()
                },
                process_instances: chunk.to_vec(),
            })
            .await
            .unwrap();
    }
    let criteria = |exact: bool| SearchCriteria {
        tenant_id: Some("pg.citya".into()),
        business_ids: ids.clone(),
        exact_business_ids: exact,
        limit: Some(digit_workflow::INTERNAL_MAX_LIMIT),
        ..SearchCriteria::default()
    };
    let ri = digit_core::RequestInfo {
        user_info: Some(gro()),
        ..Default::default()
    };
    let (found, total) = WorkflowClient::search(&stack.workflow, &ri, &criteria(true))
        .await
        .unwrap();
    assert_eq!((found.len(), total), (120, 120));
    // From the query string the page stays capped at EGOV_WF_MAX_LIMIT.
    let (capped, total) = WorkflowClient::search(&stack.workflow, &ri, &criteria(false))
        .await
        .unwrap();
    assert_eq!((capped.len(), total), (100, 120));
}
