//! The `/egov-mdms-service/v1/_search` and `/_get` endpoints, mdms-v2's v1-compatible
//! `/mdms-v2/v1/_search`, and the boundary searches over `egov-location.TenantBoundary`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use digit_core::error::codes as core_codes;
use digit_core::{ErrorDetail, RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::extract::is_json;
use digit_service::openapi::{body_example, document, optional_json_body, post_with};
use digit_service::{ApiError, ApiRouter, DigitJson, Documented, QueryCriteria};
use serde::Deserialize;
use serde_json::Value;

use crate::boundary::{
    add_boundary_type, search_boundaries, BoundaryQuery, BoundaryRelationshipResponse,
    HierarchyBoundaries, HierarchyRelation, LocationBoundaryResponse, LocationTenantBoundary,
    BOUNDARY_MASTER, BOUNDARY_MODULE,
};
use crate::error::{codes, MdmsError};
use crate::model::{take_master, validate, MdmsCriteria, MdmsResponse, SearchBody};
use crate::remote::CORRELATION_HEADER;
use crate::MdmsSource;

/// A request body example: `docs/openapi/examples/egov-mdms-service/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/egov-mdms-service/",
            $name,
            ".json"
        ))
    };
}

/// Path of the search endpoint.
pub const SEARCH_PATH: &str = "/egov-mdms-service/v1/_search";
/// Path of the single-master endpoint.
pub const GET_PATH: &str = "/egov-mdms-service/v1/_get";
/// mdms-v2's v1-compatible search (same request and response as [`SEARCH_PATH`]).
pub const MDMS_V2_SEARCH_PATH: &str = "/mdms-v2/v1/_search";
/// boundary-service's boundary search.
pub const BOUNDARY_SEARCH_PATH: &str = "/boundary-service/boundary-relationships/_search";
/// egov-location's boundary search.
pub const LOCATION_BOUNDARY_SEARCH_PATH: &str = "/egov-location/location/v11/boundarys/_search";
/// boundary-service's hierarchy definition search.
pub const HIERARCHY_SEARCH_PATH: &str = "/boundary-service/boundary-hierarchy-definition/_search";

/// The MDMS v1 API over `source`:
///
/// * `POST /egov-mdms-service/v1/_search` with `{RequestInfo, MdmsCriteria}` →
///   `{"ResponseInfo": null, "MdmsRes": {...}}`;
/// * `POST /egov-mdms-service/v1/_get?moduleName=&masterName=&filter=&tenantId=` with a
///   RequestInfo body (bare, as upstream binds it, or wrapped in `{"RequestInfo": …}`) →
///   the same response for one master.
///
/// * `POST /mdms-v2/v1/_search`: the `_search` above under mdms-v2's path;
/// * `POST /boundary-service/boundary-relationships/_search?tenantId=&hierarchyTypeCode=&boundaryType=&codes=&includeChildren=&includeParents=`
///   → `{"ResponseInfo", "TenantBoundary": [{"tenantId", "hierarchyType", "boundary": [...]}]}`;
/// * `POST /egov-location/location/v11/boundarys/_search?tenantId=&hierarchyTypeCode=&boundaryType=&codes=`
///   → `{"ResponseInfo", "TenantBoundary": [{"hierarchyType", "boundary": [...]}]}`.
///
/// The boundary searches read master `egov-location.TenantBoundary` through `source` (tenant
/// fallback included) and take any body (a `RequestInfo`, bare or wrapped, or nothing).
/// Missing criteria or parameters are DIGIT 400s. The router carries no authentication:
/// the paths are open endpoints (`EGOV_OPEN_ENDPOINTS_WHITELIST`'s default).
///
/// One OpenAPI document covers them, served at each of the four context paths.
pub fn router(source: Arc<dyn MdmsSource>) -> Documented {
    let routes = ApiRouter::new()
        .api_route(
            SEARCH_PATH,
            post_with(search, |o| {
                body_example(
                    o.tag("MDMS").summary("Search master data (MDMS v1)"),
                    example!("search"),
                )
            }),
        )
        .api_route(
            MDMS_V2_SEARCH_PATH,
            post_with(search, |o| {
                body_example(
                    o.tag("MDMS")
                        .summary("Search master data (mdms-v2's v1-compatible path)"),
                    example!("search"),
                )
            }),
        )
        .api_route(
            GET_PATH,
            post_with(get, |o| {
                optional_json_body::<RequestInfo>(o.tag("MDMS").summary("One master's entries"))
            }),
        )
        .api_route(
            BOUNDARY_SEARCH_PATH,
            post_with(boundary_relationships, |o| {
                optional_json_body::<RequestInfo>(
                    o.tag("Boundaries")
                        .summary("Boundary relationships (boundary-service)"),
                )
            }),
        )
        .api_route(
            LOCATION_BOUNDARY_SEARCH_PATH,
            post_with(location_boundaries, |o| {
                optional_json_body::<RequestInfo>(
                    o.tag("Boundaries")
                        .summary("Boundaries (egov-location v11)"),
                )
            }),
        )
        .api_route(
            HIERARCHY_SEARCH_PATH,
            post_with(hierarchy_definitions, |o| {
                optional_json_body::<RequestInfo>(
                    o.tag("Boundaries")
                        .summary("Boundary hierarchy definitions (boundary-service)"),
                )
            }),
        )
        .with_state(source);
    document(
        "MDMS and boundaries",
        "Master data (egov-mdms-service v1, mdms-v2's v1 path) and boundary searches \
         (boundary-service, egov-location) over the embedded or remote MDMS.",
        &[
            "/egov-mdms-service",
            "/mdms-v2",
            "/boundary-service",
            "/egov-location",
        ],
        routes,
    )
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
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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

// ----------------------------------------------------------------------------- boundaries

/// Query parameters of the boundary searches (boundary-service names `hierarchyType` what
/// egov-location and the indexer configs call `hierarchyTypeCode`; both are read).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
struct BoundaryParams {
    tenant_id: Option<String>,
    #[serde(alias = "hierarchyType")]
    hierarchy_type_code: Option<String>,
    boundary_type: Option<String>,
    codes: Vec<String>,
    include_children: Option<bool>,
    include_parents: Option<bool>,
}

impl BoundaryParams {
    /// The tenant (or `missing`) and the query, bounded.
    fn into_query(
        self,
        missing: impl FnOnce() -> MdmsError,
    ) -> Result<(String, BoundaryQuery), MdmsError> {
        let trimmed = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let tenant_id = trimmed(self.tenant_id).ok_or_else(missing)?;
        let query = BoundaryQuery {
            hierarchy_type: trimmed(self.hierarchy_type_code),
            boundary_type: trimmed(self.boundary_type),
            codes: self.codes,
            include_children: self.include_children.unwrap_or(false),
            include_parents: self.include_parents.unwrap_or(false),
        };
        query.check_limits()?;
        Ok((tenant_id, query))
    }
}

/// The body of a boundary search, leniently: a `RequestInfo` bare or under
/// `RequestInfo`/`requestInfo`; anything else (no body, not JSON, other fields) is an empty
/// one, as the indexer and Postman send whatever they like here.
fn lenient_request_info(body: Result<Bytes, BytesRejection>) -> RequestInfo {
    let Ok(bytes) = body else {
        return RequestInfo::default();
    };
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&bytes) else {
        return RequestInfo::default();
    };
    let inner = ["RequestInfo", "requestInfo"]
        .iter()
        .find_map(|k| object.remove(*k).filter(Value::is_object));
    serde_json::from_value(inner.unwrap_or(Value::Object(object))).unwrap_or_default()
}

/// The boundary trees of `tenant_id` (with MDMS's tenant fallback), searched.
async fn find_boundaries(
    source: &dyn MdmsSource,
    request_info: &RequestInfo,
    tenant_id: &str,
    query: &BoundaryQuery,
) -> Result<Vec<HierarchyBoundaries>, MdmsError> {
    let criteria = MdmsCriteria::single(tenant_id, BOUNDARY_MODULE, BOUNDARY_MASTER, None);
    let mut res = source.search_with(request_info, &criteria).await?;
    let trees = take_master(&mut res, BOUNDARY_MODULE, BOUNDARY_MASTER);
    Ok(search_boundaries(&trees, query))
}

async fn boundary_relationships(
    State(source): State<Arc<dyn MdmsSource>>,
    headers: HeaderMap,
    QueryCriteria(params): QueryCriteria<BoundaryParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BoundaryRelationshipResponse>, ApiError> {
    let (tenant_id, query) = params.into_query(|| {
        MdmsError::InvalidCriteria(vec![ErrorDetail::new(
            codes::NOT_NULL_BOUNDARY_TENANT_ID,
            "tenantId must not be null",
        )])
    })?;
    let mut request_info = lenient_request_info(body);
    apply_correlation(&headers, &mut request_info);
    let found = find_boundaries(source.as_ref(), &request_info, &tenant_id, &query).await?;
    let tenant_boundary = found
        .into_iter()
        .map(|mut h| {
            add_boundary_type(&mut h.boundary);
            HierarchyRelation {
                tenant_id: tenant_id.clone(),
                hierarchy_type: h.hierarchy_code().map(str::to_string),
                boundary: h.boundary,
            }
        })
        .collect();
    Ok(Json(BoundaryRelationshipResponse {
        response_info: ResponseInfo::from_request(Some(&request_info), ResponseStatus::Successful),
        tenant_boundary,
    }))
}

async fn location_boundaries(
    State(source): State<Arc<dyn MdmsSource>>,
    headers: HeaderMap,
    QueryCriteria(params): QueryCriteria<BoundaryParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LocationBoundaryResponse>, ApiError> {
    let (tenant_id, query) = params.into_query(|| MdmsError::MissingParameter("tenantId"))?;
    let mut request_info = lenient_request_info(body);
    apply_correlation(&headers, &mut request_info);
    let found = find_boundaries(source.as_ref(), &request_info, &tenant_id, &query).await?;
    Ok(Json(LocationBoundaryResponse {
        response_info: ResponseInfo::from_request(Some(&request_info), ResponseStatus::Successful),
        tenant_boundary: found
            .into_iter()
            .map(|h| LocationTenantBoundary {
                hierarchy_type: h.hierarchy_type,
                boundary: h.boundary,
            })
            .collect(),
    }))
}

/// `POST /boundary-service/boundary-hierarchy-definition/_search` with
/// `{RequestInfo, BoundaryTypeHierarchySearchCriteria: {tenantId, hierarchyType}}` → the level
/// chain of each of the tenant's hierarchies (`{ResponseInfo, totalCount, BoundaryHierarchy:
/// [{tenantId, hierarchyType, boundaryHierarchy: [{boundaryType, parentBoundaryType,
/// active}]}]}`), derived from the embedded `egov-location.TenantBoundary` trees.
async fn hierarchy_definitions(
    State(source): State<Arc<dyn MdmsSource>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let parsed: Value = match &body {
        Ok(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let criteria = &parsed["BoundaryTypeHierarchySearchCriteria"];
    let tenant_id = criteria["tenantId"]
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            MdmsError::InvalidCriteria(vec![ErrorDetail::new(
                codes::NOT_NULL_BOUNDARY_TENANT_ID,
                "tenantId must not be null",
            )])
        })?;
    let wanted = criteria["hierarchyType"].as_str().map(str::to_owned);
    let mut request_info = lenient_request_info(body);
    apply_correlation(&headers, &mut request_info);
    let criteria = MdmsCriteria::single(&tenant_id, BOUNDARY_MODULE, BOUNDARY_MASTER, None);
    let mut res = source.search_with(&request_info, &criteria).await?;
    let trees = take_master(&mut res, BOUNDARY_MODULE, BOUNDARY_MASTER);
    let found: Vec<Value> = crate::boundary::hierarchy_definitions(&trees)
        .into_iter()
        .filter(|(code, _)| wanted.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(code)))
        .map(|(code, levels)| {
            serde_json::json!({"tenantId": tenant_id, "hierarchyType": code, "boundaryHierarchy": levels})
        })
        .collect();
    Ok(Json(serde_json::json!({
        "ResponseInfo": ResponseInfo::from_request(Some(&request_info), ResponseStatus::Successful),
        "totalCount": found.len(),
        "BoundaryHierarchy": found,
    })))
}
