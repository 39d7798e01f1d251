//! PGR when its dependencies differ or fail, on the real stack: complaint types from the
//! seed's `ServiceDefs` when a deployment has no `ComplaintHierarchy`, a malformed
//! REOPENSLA (counted, default window), an MDMS that cannot answer for the reopen window (an
//! error, not a guess), a state whose workflow has no PGR business service, and a
//! notification whose workflow history cannot be read (counted; the SMS still goes out).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_core::{RequestInfo, UserInfo, UserType};
use digit_e2e::*;
use digit_mdms::{EmbeddedMdms, MdmsCriteria, MdmsError, MdmsRes, MdmsSource};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const CREATE: &str = "/pgr-services/v2/request/_create";
const UPDATE: &str = "/pgr-services/v2/request/_update";
const SEARCH: &str = "/pgr-services/v2/request/_search";

fn ri() -> Value {
    json!({"apiId": "Rainmaker", "msgId": "m|en_IN"})
}

fn complaint(tenant: &str, code: &str) -> Value {
    json!({"RequestInfo": ri(), "service": {
        "tenantId": tenant, "serviceCode": code, "description": "no light", "source": "web",
        "address": {"locality": {"code": "ALOC1"}, "geoLocation": {"latitude": 0, "longitude": 0}}
    }, "workflow": {"action": "APPLY"}})
}

fn first_error(body: &Value) -> (String, String) {
    let e = &body["Errors"][0];
    (
        e["code"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The shipped documents, with `edit` applied to each (returning false drops it).
fn mdms_with(mut edit: impl FnMut(&mut Value) -> bool) -> Vec<Value> {
    shipped_mdms_documents()
        .into_iter()
        .filter_map(|mut d| edit(&mut d).then_some(d))
        .collect()
}

fn is_master(doc: &Value, master: &str) -> bool {
    doc.get(master).is_some()
}

/// Files, searches and rejects a complaint as the citizen, then the citizen reopens it.
async fn file_reject_reopen(stack: &WorkflowStack, code: &str) -> (StatusCode, Value) {
    let (status, body) = stack
        .call(CREATE, Some(&citizen()), complaint("pg.citya", code))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let srid = body["ServiceWrappers"][0]["service"]["serviceRequestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let fetch = |who: UserInfo| {
        let srid = srid.clone();
        async move {
            let (_, found) = stack
                .call(
                    &format!("{SEARCH}?tenantId=pg.citya&serviceRequestId={srid}"),
                    Some(&who),
                    json!({"RequestInfo": ri()}),
                )
                .await;
            found["ServiceWrappers"][0]["service"].clone()
        }
    };
    let (status, body) = stack
        .call(
            UPDATE,
            Some(&gro()),
            json!({"RequestInfo": ri(), "service": fetch(gro()).await, "workflow": {"action": "REJECT", "comments": "dup"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    stack
        .call(
            UPDATE,
            Some(&citizen()),
            json!({"RequestInfo": ri(), "service": fetch(citizen()).await, "workflow": {"action": "REOPEN"}}),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn service_defs_are_the_complaint_types_of_a_deployment_without_a_hierarchy() {
    // No ComplaintHierarchy anywhere; ServiceDefs of the test's own instead (the shipped
    // ones left out). REOPENSLA malformed.
    let mut docs = mdms_with(|d| {
        if is_master(d, "UIConstants") {
            d["UIConstants"][0]["REOPENSLA"] = json!("72h");
        }
        !is_master(d, "ComplaintHierarchy") && !is_master(d, "ServiceDefs")
    });
    docs.push(json!({"tenantId": "pg", "moduleName": "RAINMAKER-PGR", "ServiceDefs": [
        {"serviceCode": "StreetLightNotWorking", "name": "Street light not working (defs)",
         "keywords": "streetlight, light", "department": "DEPT_1", "slaHours": 336, "active": true},
        {"serviceCode": "RetiredCode", "name": "Retired", "department": "DEPT_1", "active": false}
    ]}));
    let mdms: Arc<dyn MdmsSource> = Arc::new(EmbeddedMdms::from_documents(docs));
    let stack = WorkflowStack::start_with_mdms(true, mdms).await;

    // A known serviceCode: created, named and routed from ServiceDefs.
    let (status, body) = stack
        .call(
            CREATE,
            Some(&citizen()),
            complaint("pg.citya", "StreetLightNotWorking"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let detail = &body["ServiceWrappers"][0]["service"]["additionalDetail"];
    assert_eq!(detail["serviceName"], "Street light not working (defs)");
    assert_eq!(detail["department"], "DEPT_1");

    // Unknown and inactive codes: upstream's INVALID_SERVICECODE, nothing stored.
    for code in ["NoSuchComplaint", "RetiredCode"] {
        let (status, body) = stack
            .call(CREATE, Some(&citizen()), complaint("pg.citya", code))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            first_error(&body),
            (
                "INVALID_SERVICECODE".into(),
                format!("The service code: {code} is not present in MDMS")
            )
        );
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_pgr_service_v2")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // Updates read the same types; the malformed REOPENSLA is counted and the default
    // window (72 h) lets the citizen reopen a complaint rejected a moment ago.
    let what = "pgr_reopen_window";
    let before = digit_service::metrics::degraded_count(what);
    let (status, body) = file_reject_reopen(&stack, "StreetLightNotWorking").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ServiceWrappers"][0]["service"]["applicationStatus"],
        "PENDINGFORASSIGNMENT"
    );
    assert_eq!(digit_service::metrics::degraded_count(what), before + 1);
}

/// The shipped master data, except that a search naming `RAINMAKER-PGR.UIConstants` fails
/// the way an unreachable remote MDMS does.
struct UiConstantsUnreachable(EmbeddedMdms);

#[async_trait::async_trait]
impl MdmsSource for UiConstantsUnreachable {
    async fn search_with(
        &self,
        request_info: &RequestInfo,
        criteria: &MdmsCriteria,
    ) -> Result<MdmsRes, MdmsError> {
        let asks = criteria
            .module_details
            .iter()
            .flat_map(|m| &m.master_details)
            .any(|d| d.name == "UIConstants");
        if asks {
            return Err(MdmsError::ResourceAccess {
                url: "http://egov-mdms-service.invalid/egov-mdms-service/v1/_search".into(),
                reason: "connection refused".into(),
            });
        }
        self.0.search_with(request_info, criteria).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reopen_whose_window_cannot_be_read_is_refused_with_a_dependency_error() {
    let mdms = UiConstantsUnreachable(EmbeddedMdms::from_documents(shipped_mdms_documents()));
    let stack = WorkflowStack::start_with_mdms(true, Arc::new(mdms)).await;
    let (status, body) = file_reject_reopen(&stack, "StreetLightNotWorking").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(
        first_error(&body).0,
        digit_core::error::codes::RESOURCE_ACCESS
    );
    let status: String = sqlx::query_scalar("SELECT applicationstatus FROM eg_pgr_service_v2")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "REJECTED", "the complaint was not reopened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_state_whose_workflow_has_no_pgr_is_businessservice_not_found() {
    // A second state `ps`, a copy of `pg`'s master data; the workflow seed defines PGR for
    // `pg` only.
    let mut docs = shipped_mdms_documents();
    let copies: Vec<Value> = docs
        .iter()
        .filter_map(|d| {
            let tenant = d["tenantId"].as_str()?;
            let rest = tenant.strip_prefix("pg")?;
            let mut copy = d.clone();
            copy["tenantId"] = json!(format!("ps{rest}"));
            Some(copy)
        })
        .collect();
    docs.extend(copies);
    let stack =
        WorkflowStack::start_with_mdms(true, Arc::new(EmbeddedMdms::from_documents(docs))).await;
    let ps_citizen = user(users::CITIZEN, UserType::Citizen, &[("CITIZEN", "ps")]);
    let (status, body) = stack
        .call(
            CREATE,
            Some(&ps_citizen),
            complaint("ps.citya", "StreetLightNotWorking"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        first_error(&body),
        (
            "BUSINESSSERVICE_NOT_FOUND".into(),
            "The businessService PGR is not found".into()
        )
    );
    // The same complaint in `pg` goes through.
    let (status, body) = stack
        .call(
            CREATE,
            Some(&citizen()),
            complaint("pg.citya", "StreetLightNotWorking"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notification_whose_workflow_search_fails_is_counted_and_still_sent() {
    let stack = WorkflowStack::start(true).await;
    // The notifier's workflow reads a database that does not answer.
    let unreachable = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let mdms: Arc<dyn MdmsSource> =
        Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap());
    let users: Arc<dyn digit_user::UserDirectory> =
        Arc::new(digit_user::EmbeddedUsers::new(stack.db.pool().clone()));
    let producer = digit_kafka::Producer::new(&kafka()).unwrap();
    let workflow = digit_workflow::Workflow::new(
        unreachable,
        mdms,
        users.clone(),
        producer.clone(),
        None,
        stack.workflow.settings().clone(),
    );
    let sms_topic = format!("sms-{}", stack.tag);
    let notifier = pgr::notify::Notifier {
        localization: Arc::new(
            digit_localization::EmbeddedLocalization::load(
                &repo_root().join("configs/localization"),
            )
            .unwrap(),
        ),
        users,
        workflow: Arc::new(workflow),
        producer,
        settings: pgr::notify::NotifySettings {
            sms_topic: sms_topic.clone(),
            events_topic: format!("user-events-{}", stack.tag),
            ..pgr::notify::NotifySettings::default()
        },
    };
    // RESOLVE names the last assignee, read from the workflow history.
    let srid = format!("PG-PGR-{}", tag());
    let service: pgr::domain::model::Service = serde_json::from_value(json!({
        "tenantId": "pg.citya", "serviceCode": "StreetLightNotWorking", "serviceRequestId": srid,
        "applicationStatus": "RESOLVED", "accountId": users::CITIZEN, "source": "web",
        "citizen": {"mobileNumber": "9999900001", "name": "Demo Citizen"},
        "auditDetails": {"createdTime": 1_700_000_000_000_i64}
    }))
    .unwrap();
    let workflow: pgr::domain::model::Workflow =
        serde_json::from_value(json!({"action": "RESOLVE"})).unwrap();
    let request_info: RequestInfo = serde_json::from_value(json!({"msgId": "m|en_IN"})).unwrap();

    let what = "pgr_notification_workflow_search";
    let before = digit_service::metrics::degraded_count(what);
    let sent = notifier
        .notify(&request_info, &service, &workflow, &lme())
        .await;
    assert!(sent >= 1, "the citizen's SMS still goes out");
    assert_eq!(digit_service::metrics::degraded_count(what), before + 1);
    let sms = read_topic_until(
        &sms_topic,
        |m| m["message"].as_str().is_some_and(|t| t.contains(&srid)),
        Duration::from_secs(10),
    );
    assert_eq!(sms[0]["mobileNumber"], "9999900001");
}
