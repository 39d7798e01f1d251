//! Routes under the context path (default `/egov-indexer`), upstream's `IndexerController`:
//!
//! - `POST /index-operations/{key}/_index` — the body (any JSON, as upstream's
//!   `@RequestBody Object`: no RequestInfo needed) onto topic `{key}` (a configured one); the
//!   answer echoes the body.
//! - `POST /index-operations/_reindex` — `ReindexRequest` → `ReindexResponse` (camelCase).
//! - `POST /index-operations/_legacyindex` — `LegacyIndexRequest` → `LegacyIndexResponse`.
//! - `POST /index-operations/jobs/_search` — ours: `{tenantId?, jobIds?, limit?}` →
//!   `{ResponseInfo, IndexJobs}` (the rows of `eg_indexer_job`).
//!
//! They share the OpenAPI document of the context with the dashboard ([`crate::router`]); the
//! bodies are read as any JSON and then checked, so the documented body types
//! (`ReindexBody`, …) describe what is read rather than being the extractors' own.
//!
//! Like upstream's, these are open endpoints (the indexer checks no token); deploy them
//! behind the gateway's whitelist as DIGIT does.

use aide::openapi::ReferenceOr;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use digit_core::error::codes as core_codes;
use digit_core::{ErrorDetail, RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::openapi::{optional_json_body, post_with, TransformOperation};
use digit_service::{ApiError, ApiRouter, DigitJson};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::IndexerError;
use crate::service::{IndexOperations, LegacyIndexRequest, ReindexRequest};
use crate::store::jobs::{self, IndexJob};

/// Most jobs one search answers.
const MAX_JOBS: i64 = 100;

/// The index-operations routes under `ctx`, documented but not finished: [`crate::router`]
/// finishes them with the dashboard's into the one document of the context.
pub fn routes(ctx: &str, ops: IndexOperations) -> ApiRouter {
    let p = |path: &str| format!("{}{path}", ctx.trim_end_matches('/'));
    ApiRouter::new()
        .api_route(
            &p("/index-operations/{key}/_index"),
            post_with(index, |o| {
                json_body::<Value>(
                    o.tag("Index operations")
                        .summary("Produce the body onto topic {key} (a configured one); echoes it"),
                    "Any JSON (upstream's `@RequestBody Object`; no `RequestInfo` needed)",
                    true,
                )
            }),
        )
        .api_route(
            &p("/index-operations/_reindex"),
            post_with(reindex, |o| {
                json_body::<ReindexBody>(
                    o.tag("Index operations")
                        .summary("Start a job reindexing an index through a REINDEX topic"),
                    "`ReindexRequest` (camelCase) with its `RequestInfo`",
                    true,
                )
            }),
        )
        .api_route(
            &p("/index-operations/_legacyindex"),
            post_with(legacy_index, |o| {
                json_body::<LegacyIndexBody>(
                    o.tag("Index operations").summary(
                        "Start a job indexing the pages of an API through a LEGACYINDEX topic",
                    ),
                    "`LegacyIndexRequest` (camelCase) with its `RequestInfo`",
                    true,
                )
            }),
        )
        .api_route(
            &p("/index-operations/jobs/_search"),
            post_with(search_jobs, |o| {
                json_body::<JobSearchBody>(
                    o.tag("Index operations")
                        .summary("Search the reindex and legacy-index jobs, newest first"),
                    "Criteria (all optional) with a `RequestInfo`",
                    true,
                )
            }),
        )
        .with_state(ops)
}

/// Documents the request body as JSON of type `T` (the handlers read any JSON, or raw bytes,
/// and check its shape themselves: their errors are this service's 400s).
pub(crate) fn json_body<'a, T: JsonSchema>(
    op: TransformOperation<'a>,
    description: &str,
    required: bool,
) -> TransformOperation<'a> {
    let mut op = optional_json_body::<T>(op);
    if let Some(ReferenceOr::Item(body)) = op.inner_mut().request_body.as_mut() {
        body.required = required;
        body.description = Some(description.to_owned());
    }
    op
}

/// Path of `_index`.
#[derive(Debug, Deserialize, JsonSchema)]
struct IndexPath {
    /// A topic an INDEX, REINDEX or LEGACYINDEX mapping of the configs consumes.
    key: String,
}

// The documented bodies below describe what the handlers read (an envelope, then its fields
// as the request type); they are never built.

/// Upstream's `ReindexRequest` with its `RequestInfo`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ReindexBody {
    /// Required, an object (also accepted as `requestInfo`); `userInfo.uuid` is recorded as
    /// the job's `createdBy`.
    #[serde(rename = "RequestInfo")]
    request_info: RequestInfo,
    #[serde(flatten)]
    request: ReindexRequest,
}

/// Upstream's `LegacyIndexRequest` with its `RequestInfo`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct LegacyIndexBody {
    /// Required, an object (also accepted as `requestInfo`); `userInfo.uuid` is recorded as
    /// the job's `createdBy`.
    #[serde(rename = "RequestInfo")]
    request_info: RequestInfo,
    #[serde(flatten)]
    request: LegacyIndexRequest,
}

/// Job search criteria with a `RequestInfo`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct JobSearchBody {
    /// Required, an object (also accepted as `requestInfo`).
    #[serde(rename = "RequestInfo")]
    request_info: RequestInfo,
    #[serde(flatten)]
    criteria: JobSearch,
}

/// Upstream's `ReindexResponse`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ReindexResponse {
    response_info: ResponseInfo,
    /// `<es>/<target index>/_search`.
    url: String,
    /// Documents in the source index when the job started.
    total_records_to_be_indexed: u64,
    /// At upstream's 0.25 ms per record.
    estimated_time: String,
    message: String,
    /// The job's id (`jobs/_search`).
    job_id: String,
}

/// Upstream's `LegacyIndexResponse`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct LegacyIndexResponse {
    response_info: ResponseInfo,
    /// `<es>/<target index>/_search`.
    url: String,
    message: String,
    /// The job's id (`jobs/_search`).
    job_id: String,
}

/// The job search's answer.
#[derive(Debug, Serialize, JsonSchema)]
struct IndexJobResponse {
    #[serde(rename = "ResponseInfo")]
    response_info: ResponseInfo,
    /// Newest first.
    #[serde(rename = "IndexJobs")]
    index_jobs: Vec<IndexJob>,
}

fn correlation(headers: &HeaderMap) -> Option<String> {
    headers
        .get(digit_service::gate::CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn caller(body: &Value) -> Option<String> {
    body.pointer("/RequestInfo/userInfo/uuid")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

async fn index(
    State(ops): State<IndexOperations>,
    Path(IndexPath { key }): Path<IndexPath>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = any_json(&headers, body)?;
    ops.index(&key, &body, correlation(&headers).as_deref())
        .await?;
    Ok(Json(body))
}

async fn reindex(
    State(ops): State<IndexOperations>,
    DigitJson(body): DigitJson<Value>,
) -> Result<Json<ReindexResponse>, ApiError> {
    let request: ReindexRequest = parse(&body)?;
    let started = ops.reindex(request, caller(&body).as_deref()).await?;
    let total = started.total.unwrap_or(0);
    Ok(Json(ReindexResponse {
        response_info: ResponseInfo::from_request(None, ResponseStatus::Successful),
        url: started.url,
        total_records_to_be_indexed: total,
        estimated_time: estimated_time(total),
        message: "Please hit the 'url' after the estimated time to see the reindexed data.".into(),
        job_id: started.job_id,
    }))
}

async fn legacy_index(
    State(ops): State<IndexOperations>,
    DigitJson(body): DigitJson<Value>,
) -> Result<Json<LegacyIndexResponse>, ApiError> {
    let request: LegacyIndexRequest = parse(&body)?;
    let started = ops.legacy_index(request, caller(&body).as_deref()).await?;
    Ok(Json(LegacyIndexResponse {
        response_info: ResponseInfo::from_request(None, ResponseStatus::Successful),
        url: started.url,
        message: "Please hit the 'url' after some time to see the indexed data.".into(),
        job_id: started.job_id,
    }))
}

/// Job search criteria; none: the newest jobs.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct JobSearch {
    /// Jobs requested for this tenant.
    tenant_id: Option<String>,
    /// Jobs with these ids.
    #[serde(default)]
    job_ids: Vec<String>,
    /// Most jobs answered (default and most: 100).
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
}

async fn search_jobs(
    State(ops): State<IndexOperations>,
    DigitJson(body): DigitJson<Value>,
) -> Result<Json<IndexJobResponse>, ApiError> {
    let criteria: JobSearch = parse(&body)?;
    let limit = criteria.limit.unwrap_or(MAX_JOBS);
    if !(1..=MAX_JOBS).contains(&limit) {
        return Err(
            IndexerError::Invalid(format!("limit must be between 1 and {MAX_JOBS}")).into(),
        );
    }
    let found = jobs::search(
        &ops.pool,
        &criteria.job_ids,
        criteria.tenant_id.as_deref(),
        limit,
    )
    .await
    .map_err(IndexerError::from)?;
    Ok(Json(IndexJobResponse {
        response_info: ResponseInfo::from_request(None, ResponseStatus::Successful),
        index_jobs: found,
    }))
}

/// Any JSON body, malformed ones answered in the DIGIT error shape like [`DigitJson`]'s.
fn any_json(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    if !digit_service::extract::is_json(headers) {
        return Err(ApiError::bad_request(
            core_codes::UNSUPPORTED_MEDIA_TYPE,
            "Content type is not supported; send application/json",
        ));
    }
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
            ApiError::bad_request(
                core_codes::MISSING_JSON,
                "JSON body has errors or is missing",
            )
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            core_codes::JSON_PARSE,
            format!("Failed to parse JSON body: {e}"),
        )
    })
}

fn parse<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    serde_json::from_value(body.clone()).map_err(|e| {
        IndexerError::Invalid(format!("the request does not have the expected shape: {e}")).into()
    })
}

/// Upstream's estimate: 0.25 ms per record.
fn estimated_time(total: u64) -> String {
    let seconds = total as f64 * 0.000_250;
    if seconds < 1.0 {
        "less than a second".into()
    } else if seconds > 60.0 {
        format!(
            "{:.0}mins {:.0}secs",
            (seconds / 60.0).floor(),
            seconds % 60.0
        )
    } else {
        format!("{seconds:.1}secs")
    }
}
