//! The `/egov-workflow-v2/egov-wf/…` endpoints (upstream-platform §4.3) over the embedded
//! engine. Bodies and criteria as upstream: criteria in the query string, `RequestInfo` in
//! the body; counts are bare integers, `_statuscount` a bare array, `_escalate` a bare
//! ResponseInfo.

use crate::engine::Workflow;
use crate::error::{codes, WorkflowError};
use crate::model::{
    BusinessServiceRequest, BusinessServiceResponse, ProcessInstanceRequest,
    ProcessInstanceResponse,
};
use crate::SearchCriteria;
use axum::extract::{Path, State};
use axum::Json;
use digit_core::response::ResponseStatus;
use digit_core::{ErrorDetail, RequestInfo, RequestInfoWrapper, ResponseInfo};
use digit_service::openapi::{body_example, document, post_with};
use digit_service::{ApiError, ApiRouter, DigitJson, Documented, QueryCriteria};
use serde::Deserialize;

/// The context path upstream serves under.
pub const CONTEXT: &str = "/egov-workflow-v2/egov-wf";

/// The context path of the document (`<context>/openapi.json`, `<context>/docs`).
pub const DOC_CONTEXT: &str = "/egov-workflow-v2";

/// A request body example: `docs/openapi/examples/egov-workflow-v2/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/egov-workflow-v2/",
            $name,
            ".json"
        ))
    };
}

/// Every workflow route (full paths), over `workflow`, and their OpenAPI document. Put the
/// auth gate in front of the routes (`Documented::protected`); the document routes are open.
pub fn router(workflow: Workflow) -> Documented {
    let p = |s: &str| format!("{CONTEXT}{s}");
    let routes = ApiRouter::new()
        .api_route(
            &p("/process/_transition"),
            post_with(transition, |o| {
                body_example(
                    o.tag("Process instances")
                        .summary("Take actions on applications (one process instance each)"),
                    example!("process-transition"),
                )
            }),
        )
        .api_route(
            &p("/process/_search"),
            post_with(search, |o| {
                body_example(
                    o.tag("Process instances").summary(
                        "Search process instances (latest per application unless history)",
                    ),
                    example!("process-search"),
                )
            }),
        )
        .api_route(
            &p("/process/_count"),
            post_with(count, |o| {
                o.tag("Process instances")
                    .summary("Count applications (a bare integer)")
            }),
        )
        .api_route(
            &p("/process/_statuscount"),
            post_with(status_count, |o| {
                o.tag("Process instances").summary(
                    "Applications per status (a bare array); criteria in the body or the query",
                )
            }),
        )
        .api_route(
            &p("/process/_nearingslacount"),
            post_with(nearing_sla_count, |o| {
                o.tag("Process instances")
                    .summary("Applications nearing their SLA (a bare integer)")
            }),
        )
        .api_route(
            &p("/escalate/_search"),
            post_with(escalated_search, |o| {
                o.tag("Process instances")
                    .summary("Search auto-escalated applications")
            }),
        )
        .api_route(
            &p("/businessservice/_create"),
            post_with(create_v1, |o| {
                body_example(
                    o.tag("Business services")
                        .summary("Create business services"),
                    example!("businessservice-create"),
                )
            }),
        )
        .api_route(
            &p("/businessservice/_update"),
            post_with(update_v1, |o| {
                o.tag("Business services")
                    .summary("Update business services")
            }),
        )
        .api_route(
            &p("/businessservice/_search"),
            post_with(search_business_services_v1, |o| {
                body_example(
                    o.tag("Business services")
                        .summary("Search business services of a tenant"),
                    example!("businessservice-search"),
                )
            }),
        )
        .api_route(
            &p("/businessservice/v2/_create"),
            post_with(create_v2, |o| {
                body_example(
                    o.tag("Business services")
                        .summary("Create business services (v2)"),
                    example!("businessservice-create"),
                )
            }),
        )
        .api_route(
            &p("/businessservice/v2/_update"),
            post_with(update_v2, |o| {
                o.tag("Business services")
                    .summary("Update business services (v2)")
            }),
        )
        .api_route(
            &p("/businessservice/v2/_search"),
            post_with(search_business_services_v2, |o| {
                body_example(
                    o.tag("Business services")
                        .summary("Search business services of a tenant (v2)"),
                    example!("businessservice-search"),
                )
            }),
        )
        .api_route(
            &p("/auto/{business_service}/_escalate"),
            post_with(auto_escalate, |o| {
                o.tag("Escalation").summary(
                    "Auto-escalate the business service's applications past their SLA \
                     (a bare ResponseInfo)",
                )
            }),
        )
        .with_state(workflow);
    document(
        "Workflow",
        "egov-workflow-v2: business services (state machines), transitions of applications \
         and their process instances, SLA counts and auto-escalation.",
        &[DOC_CONTEXT],
        routes,
    )
}

fn ok(ri: &RequestInfo) -> Option<ResponseInfo> {
    Some(ResponseInfo::from_request(
        Some(ri),
        ResponseStatus::Successful,
    ))
}

async fn transition(
    State(wf): State<Workflow>,
    DigitJson(request): DigitJson<ProcessInstanceRequest>,
) -> Result<Json<ProcessInstanceResponse>, ApiError> {
    let ri = request.request_info.clone();
    let instances = wf.transition(request).await?;
    Ok(Json(ProcessInstanceResponse {
        response_info: ok(&ri),
        process_instances: instances,
        total_count: None,
    }))
}

async fn search(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<ProcessInstanceResponse>, ApiError> {
    let (instances, total) = wf.search(&body.request_info, &criteria).await?;
    Ok(Json(ProcessInstanceResponse {
        response_info: None,
        process_instances: instances,
        total_count: Some(total),
    }))
}

async fn count(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<i64>, ApiError> {
    Ok(Json(wf.count(&body.request_info, &criteria).await?))
}

/// `{RequestInfo, ProcessInstanceSearchCriteria?}`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct StatusCountBody {
    /// Envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    request_info: RequestInfo,
    /// Criteria; when given, they replace the query string's.
    #[serde(rename = "ProcessInstanceSearchCriteria", default)]
    criteria: Option<SearchCriteria>,
}

async fn status_count(
    State(wf): State<Workflow>,
    QueryCriteria(query): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<StatusCountBody>,
) -> Result<Json<Vec<crate::model::StatusCount>>, ApiError> {
    let criteria = body.criteria.unwrap_or(query);
    Ok(Json(wf.status_count(&body.request_info, &criteria).await?))
}

async fn nearing_sla_count(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<i64>, ApiError> {
    Ok(Json(
        wf.nearing_sla_count(&body.request_info, &criteria).await?,
    ))
}

async fn escalated_search(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<ProcessInstanceResponse>, ApiError> {
    let (instances, total) = wf.escalated_search(&body.request_info, &criteria).await?;
    Ok(Json(ProcessInstanceResponse {
        response_info: None,
        process_instances: instances,
        total_count: Some(total),
    }))
}

async fn create(
    wf: Workflow,
    request: BusinessServiceRequest,
    v2: bool,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    let services = wf
        .create_business_services(&request.request_info, request.business_services, v2)
        .await?;
    Ok(Json(BusinessServiceResponse {
        response_info: ok(&request.request_info),
        business_services: services,
    }))
}

async fn update(
    wf: Workflow,
    request: BusinessServiceRequest,
    v2: bool,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    let services = wf
        .update_business_services(&request.request_info, request.business_services, v2)
        .await?;
    Ok(Json(BusinessServiceResponse {
        response_info: ok(&request.request_info),
        business_services: services,
    }))
}

async fn create_v1(
    State(wf): State<Workflow>,
    DigitJson(request): DigitJson<BusinessServiceRequest>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    create(wf, request, false).await
}

async fn create_v2(
    State(wf): State<Workflow>,
    DigitJson(request): DigitJson<BusinessServiceRequest>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    create(wf, request, true).await
}

async fn update_v1(
    State(wf): State<Workflow>,
    DigitJson(request): DigitJson<BusinessServiceRequest>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    update(wf, request, false).await
}

async fn update_v2(
    State(wf): State<Workflow>,
    DigitJson(request): DigitJson<BusinessServiceRequest>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    update(wf, request, true).await
}

/// `businessservice/_search` criteria.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct BusinessServiceCriteria {
    /// Tenant (mandatory); state-level definitions are found from a city tenant.
    #[serde(default)]
    tenant_id: Option<String>,
    /// Business service codes (repeated or comma-separated); all when empty.
    #[serde(default)]
    business_services: Vec<String>,
}

async fn search_business_services(
    wf: Workflow,
    criteria: BusinessServiceCriteria,
    ri: &RequestInfo,
    v2: bool,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    let Some(tenant) = criteria.tenant_id.filter(|t| !t.trim().is_empty()) else {
        return Err(WorkflowError::Invalid(vec![ErrorDetail::new(
            codes::NOT_NULL,
            "tenantId must not be null",
        )
        .with_params(vec!["tenantId".into()])])
        .into());
    };
    let services = wf
        .search_business_services(&tenant, &criteria.business_services, v2)
        .await?;
    Ok(Json(BusinessServiceResponse {
        response_info: ok(ri),
        business_services: services,
    }))
}

async fn search_business_services_v1(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<BusinessServiceCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    search_business_services(wf, criteria, &body.request_info, false).await
}

async fn search_business_services_v2(
    State(wf): State<Workflow>,
    QueryCriteria(criteria): QueryCriteria<BusinessServiceCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<BusinessServiceResponse>, ApiError> {
    search_business_services(wf, criteria, &body.request_info, true).await
}

/// The `auto/{business_service}/_escalate` path parameter.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EscalatePath {
    /// Business service code, e.g. `PGR`.
    business_service: String,
}

async fn auto_escalate(
    State(wf): State<Workflow>,
    Path(EscalatePath { business_service }): Path<EscalatePath>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<Option<ResponseInfo>>, ApiError> {
    let moved = wf
        .auto_escalate(&body.request_info, &business_service)
        .await?;
    tracing::info!(business_service, moved, "Auto-escalation done.");
    Ok(Json(ok(&body.request_info)))
}
