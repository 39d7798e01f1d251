//! `/pgr-services/v2/request/…` (and the plural `/v2/requests/…` of the seed's role-action
//! list): bodies and responses as upstream-pgr §1–§2.

use crate::domain::model::{CountResponse, SearchCriteria, ServiceRequest, ServiceResponse};
use crate::service::Pgr;
use axum::extract::State;
use axum::Json;
use digit_core::response::ResponseStatus;
use digit_core::{RequestInfo, RequestInfoWrapper, ResponseInfo};
use digit_service::openapi::{body_example, document, post_with};
use digit_service::{ApiError, ApiRouter, DigitJson, Documented, QueryCriteria};

/// Upstream's constant `egov.complaints.category`.
const COMPLAINT_TYPES: i64 = 13;

/// A request body example: `docs/openapi/examples/pgr-services/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/pgr-services/",
            $name,
            ".json"
        ))
    };
}

/// The complaint routes under `context` (e.g. `/pgr-services`) and their OpenAPI document.
pub fn router(context: &str, pgr: Pgr) -> Documented {
    let mut routes = ApiRouter::new();
    for base in ["request", "requests"] {
        let p = |s: &str| format!("{context}/v2/{base}/{s}");
        // The plural base is the seed's role-action spelling of the same endpoints.
        let alias = if base == "requests" {
            " (plural alias)"
        } else {
            ""
        };
        let summary = |s: &str| format!("{s}{alias}");
        routes = routes
            .api_route(
                &p("_create"),
                post_with(create, |o| {
                    body_example(
                        o.tag("Complaints").summary(&summary(
                            "File a complaint (its workflow starts with APPLY)",
                        )),
                        example!("create"),
                    )
                }),
            )
            .api_route(
                &p("_update"),
                post_with(update, |o| {
                    body_example(
                        o.tag("Complaints")
                            .summary(&summary("Take a workflow action on a complaint")),
                        example!("update"),
                    )
                }),
            )
            .api_route(
                &p("_search"),
                post_with(search, |o| {
                    body_example(
                        o.tag("Complaints").summary(&summary(
                            "Search complaints with their workflow and the tenant's statistics",
                        )),
                        example!("search"),
                    )
                }),
            )
            .api_route(
                &p("_count"),
                post_with(count, |o| {
                    o.tag("Complaints")
                        .summary(&summary("Count the complaints matching the criteria"))
                }),
            )
            .api_route(
                &p("_plainsearch"),
                post_with(plain_search, |o| {
                    o.tag("Complaints").summary(&summary(
                        "Search complaints across tenants, without the workflow",
                    ))
                }),
            );
    }
    document(
        "PGR",
        "pgr-services: citizen complaints (public grievance redressal) and their workflow.",
        &[context],
        routes.with_state(pgr),
    )
}

fn ok(ri: &RequestInfo) -> Option<ResponseInfo> {
    Some(ResponseInfo::from_request(
        Some(ri),
        ResponseStatus::Successful,
    ))
}

async fn create(
    State(pgr): State<Pgr>,
    DigitJson(request): DigitJson<ServiceRequest>,
) -> Result<Json<ServiceResponse>, ApiError> {
    let ri = request.request_info.clone();
    let wrapper = pgr.create(request).await?;
    Ok(Json(ServiceResponse {
        response_info: ok(&ri),
        service_wrappers: vec![wrapper],
        ..ServiceResponse::default()
    }))
}

async fn update(
    State(pgr): State<Pgr>,
    DigitJson(request): DigitJson<ServiceRequest>,
) -> Result<Json<ServiceResponse>, ApiError> {
    let ri = request.request_info.clone();
    let wrapper = pgr.update(request).await?;
    Ok(Json(ServiceResponse {
        response_info: ok(&ri),
        service_wrappers: vec![wrapper],
        ..ServiceResponse::default()
    }))
}

async fn search(
    State(pgr): State<Pgr>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<ServiceResponse>, ApiError> {
    let (wrappers, (resolved, average)) = pgr.search(&body.request_info, criteria).await?;
    Ok(Json(ServiceResponse {
        response_info: ok(&body.request_info),
        service_wrappers: wrappers,
        complaints_resolved: resolved,
        average_resolution_time: average,
        complaint_types: COMPLAINT_TYPES,
    }))
}

async fn count(
    State(pgr): State<Pgr>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<CountResponse>, ApiError> {
    let count = pgr.count(&body.request_info, criteria).await?;
    Ok(Json(CountResponse {
        response_info: ok(&body.request_info),
        count,
    }))
}

async fn plain_search(
    State(pgr): State<Pgr>,
    QueryCriteria(criteria): QueryCriteria<SearchCriteria>,
    DigitJson(body): DigitJson<RequestInfoWrapper>,
) -> Result<Json<ServiceResponse>, ApiError> {
    let wrappers = pgr.plain_search(&body.request_info, criteria).await?;
    Ok(Json(ServiceResponse {
        response_info: ok(&body.request_info),
        service_wrappers: wrappers,
        ..ServiceResponse::default()
    }))
}
