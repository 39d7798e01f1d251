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
//! Like upstream's, these are open endpoints (the indexer checks no token); deploy them
//! behind the gateway's whitelist as DIGIT does.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::error::codes as core_codes;
use digit_core::{ErrorDetail, ResponseInfo, ResponseStatus};
use digit_service::{ApiError, DigitJson};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::IndexerError;
use crate::service::{IndexOperations, LegacyIndexRequest, ReindexRequest};
use crate::store::jobs;

/// Most jobs one search answers.
const MAX_JOBS: i64 = 100;

/// The index-operations routes under `ctx`.
pub fn router(ctx: &str, ops: IndexOperations) -> Router {
    let p = |path: &str| format!("{}{path}", ctx.trim_end_matches('/'));
    Router::new()
        .route(&p("/index-operations/{key}/_index"), post(index))
        .route(&p("/index-operations/_reindex"), post(reindex))
        .route(&p("/index-operations/_legacyindex"), post(legacy_index))
        .route(&p("/index-operations/jobs/_search"), post(search_jobs))
        .with_state(ops)
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
    Path(key): Path<String>,
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
) -> Result<Json<Value>, ApiError> {
    let request: ReindexRequest = parse(&body)?;
    let started = ops.reindex(request, caller(&body).as_deref()).await?;
    let total = started.total.unwrap_or(0);
    Ok(Json(json!({
        "responseInfo": ResponseInfo::from_request(None, ResponseStatus::Successful),
        "url": started.url,
        "totalRecordsToBeIndexed": total,
        "estimatedTime": estimated_time(total),
        "message": "Please hit the 'url' after the estimated time to see the reindexed data.",
        "jobId": started.job_id,
    })))
}

async fn legacy_index(
    State(ops): State<IndexOperations>,
    DigitJson(body): DigitJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let request: LegacyIndexRequest = parse(&body)?;
    let started = ops.legacy_index(request, caller(&body).as_deref()).await?;
    Ok(Json(json!({
        "responseInfo": ResponseInfo::from_request(None, ResponseStatus::Successful),
        "url": started.url,
        "message": "Please hit the 'url' after some time to see the indexed data.",
        "jobId": started.job_id,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobSearch {
    tenant_id: Option<String>,
    #[serde(default)]
    job_ids: Vec<String>,
    limit: Option<i64>,
}

async fn search_jobs(
    State(ops): State<IndexOperations>,
    DigitJson(body): DigitJson<Value>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "ResponseInfo": ResponseInfo::from_request(None, ResponseStatus::Successful),
        "IndexJobs": found,
    })))
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
