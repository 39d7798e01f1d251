//! The `/egov-mdms-service/v1/_search` and `/_get` endpoints.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::error::codes as core_codes;
use digit_core::{ErrorDetail, RequestInfo};
use digit_service::extract::is_json;
use digit_service::{ApiError, DigitJson, QueryCriteria};
use serde::Deserialize;
use serde_json::Value;

use crate::error::MdmsError;
use crate::model::{validate, MdmsCriteria, MdmsResponse, SearchBody};
use crate::remote::CORRELATION_HEADER;
use crate::MdmsSource;

/// Path of the search endpoint.
pub const SEARCH_PATH: &str = "/egov-mdms-service/v1/_search";
/// Path of the single-master endpoint.
pub const GET_PATH: &str = "/egov-mdms-service/v1/_get";
/// The v1-compatible search of mdms-v2 (same request and answer).
pub const V2_SEARCH_PATH: &str = "/mdms-v2/v1/_search";
/// boundary-service search.
pub const BOUNDARY_SEARCH_PATH: &str = "/boundary-service/boundary-relationships/_search";
/// egov-location search.
pub const LOCATION_SEARCH_PATH: &str = "/egov-location/location/v11/boundarys/_search";

/// The MDMS v1 API over `source`:
///
/// * `POST /egov-mdms-service/v1/_search` with `{RequestInfo, MdmsCriteria}` →
///   `{"ResponseInfo": null, "MdmsRes": {...}}`;
/// * `POST /egov-mdms-service/v1/_get?moduleName=&masterName=&filter=&tenantId=` with a
///   RequestInfo body (bare, as upstream binds it, or wrapped in `{"RequestInfo": …}`) →
///   the same response for one master.
///
/// Missing criteria or parameters are DIGIT 400s. The router carries no authentication:
/// both paths are on upstream's open-endpoint list.
pub fn router(source: Arc<dyn MdmsSource>) -> Router {
    Router::new()
        .route(SEARCH_PATH, post(search))
        .route(V2_SEARCH_PATH, post(search))
        .route(GET_PATH, post(get))
        .route(BOUNDARY_SEARCH_PATH, post(boundaries))
        .route(LOCATION_SEARCH_PATH, post(boundaries))
        .with_state(source)
}

/// The header's correlation id wins over the body's, as in the tracer.
fn apply_correlation(headers: &HeaderMap, request_info: &mut RequestInfo) {
    if let Some(id) = headers
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        request_info.correlation_id = Some(id.to_string());
    }
}

async fn search(
    State(source): State<Arc<dyn MdmsSource>>,
    headers: HeaderMap,
    DigitJson(body): DigitJson<SearchBody>,
) -> Result<Json<MdmsResponse>, ApiError> {
    let criteria = validate(body.mdms_criteria)?;
    let mut request_info = body.request_info.unwrap_or_default();
    apply_correlation(&headers, &mut request_info);
    let mdms_res = source.search_with(&request_info, &criteria).await?;
    Ok(Json(MdmsResponse {
        response_info: None,
        mdms_res,
    }))
}

/// Query parameters of `_get`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GetParams {
    module_name: Option<String>,
    master_name: Option<String>,
    filter: Option<String>,
    tenant_id: Option<String>,
}

fn required(value: Option<String>, name: &'static str) -> Result<String, MdmsError> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or(MdmsError::MissingParameter(name))
}

/// Reads `_get`'s body: a RequestInfo object, bare or under `RequestInfo`/`requestInfo`.
fn bare_request_info(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<RequestInfo, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::bad_request(
            core_codes::UNSUPPORTED_MEDIA_TYPE,
            "Content type is not supported; send application/json",
        ));
    }
    let missing = || {
        ApiError::bad_request(
            core_codes::MISSING_JSON,
            "JSON body has errors or is missing",
        )
    };
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                vec![ErrorDetail::new(
                    core_codes::PAYLOAD_TOO_LARGE,
                    "Request body is too large",
                )],
            )
        } else {
            missing()
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(missing());
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            core_codes::JSON_PARSE,
            format!("Failed to parse JSON body: {e}"),
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err(missing());
    };
    let inner = ["RequestInfo", "requestInfo"]
        .iter()
        .find_map(|k| object.remove(*k).filter(Value::is_object));
    let request_info = inner.unwrap_or(Value::Object(object));
    serde_json::from_value(request_info).map_err(|e| {
        ApiError::bad_request(
            core_codes::JSON_MAPPING,
            format!("Failed to deserialize certain JSON fields: {e}"),
        )
    })
}

async fn get(
    State(source): State<Arc<dyn MdmsSource>>,
    headers: HeaderMap,
    QueryCriteria(params): QueryCriteria<GetParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MdmsResponse>, ApiError> {
    let module = required(params.module_name, "moduleName")?;
    let master = required(params.master_name, "masterName")?;
    let tenant_id = required(params.tenant_id, "tenantId")?;
    let mut request_info = bare_request_info(&headers, body)?;
    apply_correlation(&headers, &mut request_info);
    let criteria = MdmsCriteria::single(&tenant_id, &module, &master, params.filter.as_deref());
    criteria.check_limits()?;
    let mdms_res = source.search_with(&request_info, &criteria).await?;
    Ok(Json(MdmsResponse {
        response_info: None,
        mdms_res,
    }))
}

/// Query parameters of the boundary searches.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BoundaryParams {
    tenant_id: Option<String>,
    hierarchy_type_code: Option<String>,
    boundary_type: Option<String>,
    codes: Option<String>,
    include_children: Option<bool>,
}

async fn boundaries(
    State(source): State<Arc<dyn MdmsSource>>,
    axum::extract::Query(params): axum::extract::Query<BoundaryParams>,
) -> Result<Json<Value>, ApiError> {
    let tenant = required(params.tenant_id, "tenantId")?;
    let codes: Vec<String> = params
        .codes
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if codes.len() > crate::boundary::MAX_CODES {
        return Err(ApiError::bad_request(
            crate::codes::CRITERIA_TOO_LARGE,
            format!("at most {} codes per search", crate::boundary::MAX_CODES),
        ));
    }
    let trees = source
        .master(&tenant, "egov-location", "TenantBoundary", None)
        .await?;
    let query = crate::boundary::BoundaryQuery {
        hierarchy_type: params.hierarchy_type_code.filter(|s| !s.is_empty()),
        boundary_type: params.boundary_type.filter(|s| !s.is_empty()),
        codes,
        include_children: params.include_children.unwrap_or(false),
    };
    Ok(Json(serde_json::json!({
        "ResponseInfo": digit_core::ResponseInfo::from_request(None, digit_core::ResponseStatus::Successful),
        "TenantBoundary": crate::boundary::search(&trees, &tenant, &query),
    })))
}
