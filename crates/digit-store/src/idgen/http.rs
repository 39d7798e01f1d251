//! The egov-idgen HTTP contract (spec §5.1): `POST /egov-idgen/id/_generate`.
//!
//! Request `{RequestInfo, idRequests:[{idName, tenantId, format, count}]}`; response
//! `{"responseInfo":{…,"status":"SUCCESSFUL"},"idResponses":[{"id":…}]}` — camelCase top-level
//! keys and an upper-case status, unlike every other DIGIT service. Errors use the tracer
//! envelope (HTTP 400).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use digit_core::{DigitError, ErrorDetail, RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::openapi::{body_example, document, post_with};
use digit_service::{ApiError, ApiRouter, DigitJson, Documented};
use serde::{Deserialize, Serialize};

use super::error::{codes, IdgenError};
use super::{IdGenerator, IdRequest};

/// Path of the generate endpoint, context path included (mount the router at the root).
pub const GENERATE_PATH: &str = "/egov-idgen/id/_generate";
/// Upper bound of `idName`, `tenantId` and `format` (upstream's `@Size(max = 200)`).
pub const MAX_FIELD_LENGTH: usize = 200;

/// The request body.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct IdGenerationRequest {
    /// The request envelope (also accepted as `requestInfo`).
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub request_info: Option<RequestInfo>,
    /// The id requests.
    #[serde(rename = "idRequests", default)]
    pub id_requests: Option<Vec<IdRequestBody>>,
}

/// One id request as sent on the wire.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdRequestBody {
    /// Format name (required, ≤ 200).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_string")]
    pub id_name: Option<String>,
    /// Tenant (required, ≤ 200).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_string")]
    pub tenant_id: Option<String>,
    /// Fallback format (≤ 200).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_string")]
    pub format: Option<String>,
    /// Number of ids (default 1).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_i64")]
    pub count: Option<i64>,
}

/// The response body.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IdGenerationResponse {
    /// Built from the request's RequestInfo, status `"SUCCESSFUL"`.
    #[serde(rename = "responseInfo")]
    pub response_info: ResponseInfo,
    /// All ids of all requests in order; `null` when `idRequests` was empty (as upstream).
    #[serde(rename = "idResponses")]
    pub id_responses: Option<Vec<IdResponse>>,
}

/// One generated id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IdResponse {
    /// The id.
    pub id: String,
}

/// A request body example: `docs/openapi/examples/egov-idgen/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/egov-idgen/",
            $name,
            ".json"
        ))
    };
}

/// The router serving [`GENERATE_PATH`]; merge it into any service's router.
/// Its OpenAPI document is served at `/egov-idgen/openapi.json`.
pub fn idgen_router(generator: Arc<IdGenerator>) -> Documented {
    let routes = ApiRouter::new()
        .api_route(
            GENERATE_PATH,
            post_with(generate, |o| {
                body_example(
                    o.tag("idgen")
                        .summary("Generate formatted ids (egov-idgen)"),
                    example!("generate"),
                )
            }),
        )
        .with_state(generator);
    document(
        "idgen",
        "egov-idgen: ids from MDMS formats and database sequences.",
        &["/egov-idgen"],
        routes,
    )
}

async fn generate(
    State(generator): State<Arc<IdGenerator>>,
    DigitJson(body): DigitJson<IdGenerationRequest>,
) -> Result<Json<IdGenerationResponse>, ApiError> {
    let requests = validate(&body, generator.settings().max_count)?;
    let response_info =
        ResponseInfo::from_request_upper(body.request_info.as_ref(), ResponseStatus::Successful);
    if requests.is_empty() {
        return Ok(Json(IdGenerationResponse {
            response_info,
            id_responses: None,
        }));
    }
    let ids = generator.generate_all(&requests).await?;
    Ok(Json(IdGenerationResponse {
        response_info,
        id_responses: Some(ids.into_iter().map(|id| IdResponse { id }).collect()),
    }))
}

/// Bean-validation equivalent: every violation is reported, with Spring's message codes
/// (`NotNull.idGenerationRequest.idRequests[0].tenantId`, `Size.…`).
fn validate(body: &IdGenerationRequest, max_count: u32) -> Result<Vec<IdRequest>, ApiError> {
    let Some(list) = &body.id_requests else {
        return Err(ApiError::from(ValidationErrors(vec![ErrorDetail::new(
            "NotNull.idGenerationRequest.idRequests",
            "must not be null",
        )])));
    };
    let mut errors = Vec::new();
    let mut requests = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let field = |name: &str| format!("idGenerationRequest.idRequests[{i}].{name}");
        for (name, value, required) in [
            ("idName", &r.id_name, true),
            ("tenantId", &r.tenant_id, true),
            ("format", &r.format, false),
        ] {
            match value {
                None if required => errors.push(
                    ErrorDetail::new(format!("NotNull.{}", field(name)), "must not be null")
                        .with_params(vec![field(name)]),
                ),
                Some(v) if v.chars().count() > MAX_FIELD_LENGTH => errors.push(
                    ErrorDetail::new(
                        format!("Size.{}", field(name)),
                        format!("size must be between 0 and {MAX_FIELD_LENGTH}"),
                    )
                    .with_params(vec![field(name)]),
                ),
                _ => {}
            }
        }
        let count = r.count.unwrap_or(1);
        let count = match u32::try_from(count) {
            Ok(c) if c <= max_count => c,
            _ => {
                errors.push(ErrorDetail::new(
                    codes::INVALID_ID_COUNT,
                    format!(
                        "count must be between 0 and {max_count}, got {count} in idRequests[{i}]"
                    ),
                ));
                0
            }
        };
        requests.push(IdRequest {
            tenant_id: r.tenant_id.clone().unwrap_or_default(),
            id_name: r.id_name.clone(),
            format: r.format.clone(),
            count,
        });
    }
    if errors.is_empty() {
        Ok(requests)
    } else {
        Err(ApiError::from(ValidationErrors(errors)))
    }
}

/// Request validation failures, rendered one `Errors[]` entry each.
#[derive(Debug, thiserror::Error)]
#[error("invalid id generation request")]
struct ValidationErrors(Vec<ErrorDetail>);

impl DigitError for ValidationErrors {
    fn errors(&self) -> Vec<ErrorDetail> {
        self.0.clone()
    }
}

impl DigitError for IdgenError {
    fn errors(&self) -> Vec<ErrorDetail> {
        if self.is_server_side() {
            tracing::error!(code = self.code(), error = ?self, "id generation failed");
        }
        vec![ErrorDetail::new(self.code(), self.to_string())]
    }
}
