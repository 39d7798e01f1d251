//! PGR end to end on the real stack (broker, persister, Postgres): the complaint lifecycle
//! through HTTP, with the rows in Postgres and the workflow attached to search results.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::*;
use serde_json::{json, Value};

const CREATE: &str = "/pgr-services/v2/request/_create";
const UPDATE: &str = "/pgr-services/v2/request/_update";
const SERVICE_NAME: &str = "Streetlight not working";

fn ri() -> Value {
    json!({"apiId": "Rainmaker", "ts": 1_700_000_000_000_i64, "msgId": "m-1|en_IN"})
}

fn new_complaint(citizen_data: Option<Value>) -> Value {
    let mut service = json!({
        "tenantId": "pg.citya",
        "serviceCode": "StreetLightNotWorking",
        "description": "The light in front of 12 Main St is out",
        "source": "web",
        "address": {"city": "pg.citya", "locality": {"code": "ALOC1"}, "geoLocation": {"latitude": 12.97, "longitude": 77.59}},
        "additionalDetail": {"note": "client value"}
    });
    if let Some(c) = citizen_data {
        service["citizen"] = c;
    }
    json!({"RequestInfo": ri(), "service": service, "workflow": {"action": "APPLY", "verificationDocuments": []}})
}

async fn search_as(
    stack: &WorkflowStack,
    who: &digit_core::UserInfo,
    query: &str,
) -> (StatusCode, Value) {
    stack
        .call(
            &format!("/pgr-services/v2/request/_search?{query}"),
            Some(who),
            json!({"RequestInfo": ri()}),
        )
        .await
}

/// The full service object as search returns it, with a workflow step.
async fn update(
    stack: &WorkflowStack,
    who: &digit_core::UserInfo,
    srid: &str,
    workflow: Value,
    edit: impl Fn(&mut Value),
) -> (StatusCode, Value) {
    let (_, found) = search_as(
        stack,
        who,
        &format!("tenantId=pg.citya&serviceRequestId={srid}"),
    )
    .await;
    let mut service = found["ServiceWrappers"][0]["service"].clone();
    assert!(service.is_object(), "{who:?} cannot see {srid}: {found}");
    edit(&mut service);
    stack
        .call(
            UPDATE,
            Some(who),
            json!({"RequestInfo": ri(), "service": service, "workflow": workflow}),
        )
        .await
}

async fn status_in_db(stack: &WorkflowStack, srid: &str) -> (String, Option<i16>) {
    sqlx::query_as(
        "SELECT applicationstatus, rating FROM eg_pgr_service_v2 WHERE servicerequestid = $1",
    )
    .bind(srid)
    .fetch_one(stack.db.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn citizen_files_gro_assigns_lme_resolves_citizen_rates() {
    let stack = WorkflowStack::start(true).await;

    // Citizen files: APPLY.
    let (status, body) = stack
        .call(CREATE, Some(&citizen()), new_complaint(None))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["responseInfo"]["status"], "successful",
        "lower-case responseInfo"
    );
    assert_eq!(body["complaintsResolved"], 0);
    let service = &body["ServiceWrappers"][0]["service"];
    let srid = service["serviceRequestId"].as_str().unwrap().to_owned();
    assert!(srid.starts_with("PG-PGR-"), "{srid}");
    assert_eq!(service["applicationStatus"], "PENDINGFORASSIGNMENT");
    assert_eq!(service["accountId"], users::CITIZEN);
    assert_eq!(service["citizen"]["mobileNumber"], "9999900001");
    assert_eq!(service["active"], true);
    // The client's keys survive; department and serviceName come from MDMS.
    assert_eq!(service["additionalDetail"]["note"], "client value");
    assert_eq!(service["additionalDetail"]["department"], "DEPT_1");
    assert_eq!(service["additionalDetail"]["serviceName"], SERVICE_NAME);
    assert_eq!(service["processInstance"]["action"], "APPLY");
    assert_eq!(service["address"]["tenantId"], "pg.citya");
    let keys: Vec<&str> = service
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "active",
            "citizen",
            "id",
            "tenantId",
            "serviceCode",
            "serviceRequestId",
            "description",
            "accountId",
            "rating",
            "additionalDetail",
            "applicationStatus",
            "source",
            "address",
            "documents",
            "auditDetails",
            "processInstance",
            "extendedAttributes"
        ]
    );
    // Read-your-writes: the row is there when the API answers, and search finds it at once.
    assert_eq!(status_in_db(&stack, &srid).await.0, "PENDINGFORASSIGNMENT");
    let (status, found) = search_as(
        &stack,
        &citizen(),
        &format!("tenantId=pg.citya&serviceRequestId={srid}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let wrapper = &found["ServiceWrappers"][0];
    assert_eq!(wrapper["service"]["serviceRequestId"], srid.as_str());
    assert_eq!(wrapper["workflow"]["action"], "APPLY");
    assert!(
        wrapper["service"]["processInstance"].is_null(),
        "null on search"
    );
    assert_eq!(found["complaintTypes"], 13);

    // GRO assigns to the LME.
    let (status, body) = update(
        &stack,
        &gro(),
        &srid,
        json!({"action": "ASSIGN", "assignes": [users::LME], "comments": "please fix"}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ServiceWrappers"][0]["service"]["applicationStatus"],
        "PENDINGATLME"
    );
    assert_eq!(status_in_db(&stack, &srid).await.0, "PENDINGATLME");
    let (_, found) = search_as(
        &stack,
        &gro(),
        &format!("tenantId=pg.citya&serviceRequestId={srid}"),
    )
    .await;
    assert_eq!(
        found["ServiceWrappers"][0]["workflow"]["assignes"],
        json!([users::LME])
    );
    assert_eq!(
        found["ServiceWrappers"][0]["workflow"]["comments"],
        "please fix"
    );

    // LME resolves.
    let (status, body) = update(
        &stack,
        &lme(),
        &srid,
        json!({"action": "RESOLVE", "comments": "fixed"}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_in_db(&stack, &srid).await.0, "RESOLVED");

    // Citizen rates: rating persisted, CLOSEDAFTERRESOLUTION.
    let (status, body) = update(
        &stack,
        &citizen(),
        &srid,
        json!({"action": "RATE", "comments": "thanks"}),
        |s| s["rating"] = json!(5),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ServiceWrappers"][0]["service"]["applicationStatus"],
        "CLOSEDAFTERRESOLUTION"
    );
    assert_eq!(
        status_in_db(&stack, &srid).await,
        ("CLOSEDAFTERRESOLUTION".to_owned(), Some(5))
    );

    // Workflow history: four transitions.
    assert_eq!(stack.history_rows(&srid).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reject_reopen_and_reassign_branches() {
    let stack = WorkflowStack::start(true).await;
    let (_, body) = stack
        .call(CREATE, Some(&citizen()), new_complaint(None))
        .await;
    let srid = body["ServiceWrappers"][0]["service"]["serviceRequestId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = update(
        &stack,
        &gro(),
        &srid,
        json!({"action": "REJECT", "comments": "duplicate"}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_in_db(&stack, &srid).await.0, "REJECTED");
    // REOPEN by the filing citizen, within the window.
    let (status, body) = update(
        &stack,
        &citizen(),
        &srid,
        json!({"action": "REOPEN"}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_in_db(&stack, &srid).await.0, "PENDINGFORASSIGNMENT");
    // ASSIGN, then the LME sends it back (REASSIGN), then the GRO assigns again.
    let (status, _) = update(
        &stack,
        &gro(),
        &srid,
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = update(
        &stack,
        &lme(),
        &srid,
        json!({"action": "REASSIGN", "comments": "not my area"}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        status_in_db(&stack, &srid).await.0,
        "PENDINGFORREASSIGNMENT"
    );
    let (status, _) = update(
        &stack,
        &gro(),
        &srid,
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
        |_| {},
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_in_db(&stack, &srid).await.0, "PENDINGATLME");
    assert_eq!(stack.history_rows(&srid).await, 6);

    // SMS: APPLY, REJECT (with the reason), REOPEN, ASSIGN, REASSIGN, ASSIGN → each a specific
    // and a default message for the citizen.
    let tag = stack.tag.clone();
    let sms = tokio::task::spawn_blocking(move || WorkflowStackTag(tag).sms("9999900001", 12))
        .await
        .unwrap();
    assert_eq!(sms.len(), 12, "{sms:#?}");
    let rejected = sms
        .iter()
        .find(|m| m.contains("has been rejected"))
        .unwrap();
    assert!(
        rejected.contains("Reason for Rejection: duplicate"),
        "{rejected}"
    );
    assert!(sms
        .iter()
        .any(|m| m.contains("Re-opened as per your request")));
    assert!(sms.iter().any(|m| m.contains("has been re-assigned to")));
    assert!(sms.iter().all(|m| !m.contains('{') && !m.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_transition_sends_the_localized_sms() {
    let stack = WorkflowStack::start(true).await;
    let (_, body) = stack
        .call(CREATE, Some(&citizen()), new_complaint(None))
        .await;
    let srid = body["ServiceWrappers"][0]["service"]["serviceRequestId"]
        .as_str()
        .unwrap()
        .to_owned();
    update(
        &stack,
        &gro(),
        &srid,
        json!({"action": "ASSIGN", "assignes": [users::LME]}),
        |_| {},
    )
    .await;
    update(&stack, &lme(), &srid, json!({"action": "RESOLVE"}), |_| {}).await;

    // Citizen: APPLY (specific + default), ASSIGN (specific + default), RESOLVE (specific + default).
    let citizen_sms = tokio::task::spawn_blocking({
        let stack_tag = stack.tag.clone();
        move || {
            let s = WorkflowStackTag(stack_tag);
            s.sms("9999900001", 6)
        }
    })
    .await
    .unwrap();
    assert_eq!(citizen_sms.len(), 6, "{citizen_sms:#?}");
    let apply = citizen_sms
        .iter()
        .find(|m| m.contains("has been submitted"))
        .unwrap();
    assert!(apply.contains(&srid), "{apply}");
    assert!(apply.contains("Streetlight not working"), "{apply}");
    assert!(!apply.contains('{'), "every placeholder filled: {apply}");
    let assigned = citizen_sms
        .iter()
        .find(|m| m.contains("has been assigned to"))
        .unwrap();
    assert!(assigned.contains("Field Officer (City A)"), "{assigned}");
    assert!(
        assigned.contains("Street Lights"),
        "department localized: {assigned}"
    );
    let resolved = citizen_sms
        .iter()
        .find(|m| m.contains("has been resolved by"))
        .unwrap();
    assert!(
        resolved.contains("Field Officer (City A)"),
        "the last ASSIGN assignee: {resolved}"
    );
    assert!(citizen_sms
        .iter()
        .any(|m| m.contains("Your current complaint status is Pending for assignment")));

    // The LME got the employee message of the ASSIGN.
    let tag = stack.tag.clone();
    let lme_sms = tokio::task::spawn_blocking(move || WorkflowStackTag(tag).sms("9000000002", 1))
        .await
        .unwrap();
    assert_eq!(lme_sms.len(), 1, "{lme_sms:?}");
    assert!(
        lme_sms[0]
            .starts_with("Shri Field Officer (City A), Complaint for 'Streetlight not working'"),
        "{}",
        lme_sms[0]
    );
    assert!(lme_sms[0].contains("City A"), "{{ulb}}: {}", lme_sms[0]);
}

/// Reads a stack's topics from a blocking thread.
struct WorkflowStackTag(String);

impl WorkflowStackTag {
    fn sms(&self, phone: &str, expected: usize) -> Vec<String> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::message::Message;
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", kafka().brokers)
            .set("group.id", format!("sms-reader-{}", tag()))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        consumer.subscribe(&[&format!("sms-{}", self.0)]).unwrap();
        let mut out = Vec::new();
        let started = std::time::Instant::now();
        while out.len() < expected && started.elapsed() < std::time::Duration::from_secs(20) {
            if let Some(Ok(m)) = consumer.poll(std::time::Duration::from_millis(200)) {
                let v: Value = serde_json::from_slice(m.payload().unwrap_or_default()).unwrap();
                if v["mobileNumber"] == phone {
                    out.push(v["message"].as_str().unwrap().to_owned());
                }
            }
        }
        // A little longer to catch unexpected extras.
        let extra = std::time::Instant::now();
        while extra.elapsed() < std::time::Duration::from_millis(500) {
            if let Some(Ok(m)) = consumer.poll(std::time::Duration::from_millis(100)) {
                let v: Value = serde_json::from_slice(m.payload().unwrap_or_default()).unwrap();
                if v["mobileNumber"] == phone {
                    out.push(v["message"].as_str().unwrap().to_owned());
                }
            }
        }
        out
    }
}
