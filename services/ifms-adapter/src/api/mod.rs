//! The adapter's endpoints (spec A2.1), all in [`router`], under the context path (`/ifms`)
//! and under upstream's own `/ifms-adapter`:
//!
//! | path | body | answer |
//! |---|---|---|
//! | `POST /v1/disburse/_create` | `{signature, header, message}` (iFIX disbursement) | the envelope with statuses and transaction ids |
//! | `POST /pi/v1/_create` | `{RequestInfo, tenantId, referenceId}`, `{RequestInfo, tenantId, parentPI}` or `{RequestInfo, payment}` | `{ResponseInfo, paymentInstruction}` |
//! | `POST /pi/v1/_search` | `{RequestInfo, searchCriteria}` | `{ResponseInfo, paymentInstructions}` |
//! | `POST /funds/v1/_search` | `{RequestInfo, searchCriteria}` | `{ResponseInfo, funds}` |
//! | `POST /_scheduler?serviceId=VA\|PIS\|PAG\|PD\|FD\|FTPS\|FTFPS` | `{RequestInfo}` | a bare `ResponseInfo` |
//!
//! There are no `/test/*` endpoints (C.1 item 21).

use crate::domain::codes;
use crate::error::IfmsError;
use crate::service::jobs::Scheduler;
use crate::service::{AdapterService, Caller};
use crate::store::pi::PiCriteria;
use crate::store::sanctions::FundsCriteria;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::routing::post;
use axum::{Extension, Json, Router};
use digit_core::{RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::extract::parse_envelope;
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The context path upstream's own deployment uses (every caller uses `/ifms`).
pub const UPSTREAM_CONTEXT: &str = "/ifms-adapter";

#[derive(Clone)]
struct AppState {
    service: AdapterService,
    scheduler: Scheduler,
}

type Ctx = Option<Extension<RequestContext>>;

/// All routes under `context` and under [`UPSTREAM_CONTEXT`].
pub fn router(context: &str, service: AdapterService, scheduler: Scheduler) -> Router {
    let mut routes = Router::new();
    let mut contexts = vec![context.to_owned()];
    if context != UPSTREAM_CONTEXT {
        contexts.push(UPSTREAM_CONTEXT.to_owned());
    }
    for ctx in contexts {
        routes = routes
            .route(&format!("{ctx}/v1/disburse/_create"), post(disburse_create))
            .route(&format!("{ctx}/pi/v1/_create"), post(pi_create))
            .route(&format!("{ctx}/pi/v1/_search"), post(pi_search))
            .route(&format!("{ctx}/funds/v1/_search"), post(funds_search))
            .route(&format!("{ctx}/_scheduler"), post(scheduler_run));
    }
    routes.with_state(AppState { service, scheduler })
}

fn caller(ctx: &Ctx, uri: &Uri) -> Caller {
    let ctx = ctx.as_ref().map(|c| &c.0);
    Caller {
        user: ctx.and_then(|c| c.user.clone()),
        path: uri.path().to_owned(),
        correlation_id: ctx.map(|c| c.correlation_id.clone()).unwrap_or_default(),
    }
}

async fn disburse_create(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(&ctx, &uri);
    Ok(Json(s.service.disburse_create(&who, &body).await?))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: RequestInfo,
    #[serde(flatten)]
    request: crate::service::payment::PaymentRequest,
}

async fn pi_create(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: CreateBody = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let pi = s.service.pi_create(&who, b.request).await?;
    Ok(Json(
        json!({"ResponseInfo": response_info(&b.request_info), "paymentInstruction": pi}),
    ))
}

#[derive(Deserialize)]
struct SearchBody<T> {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: RequestInfo,
    #[serde(rename = "searchCriteria", default)]
    search_criteria: Option<T>,
}

fn response_info(request: &RequestInfo) -> ResponseInfo {
    ResponseInfo::from_request(Some(request), ResponseStatus::Successful)
}

async fn pi_search(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: SearchBody<PiCriteria> = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let found = s
        .service
        .search_pis(&who, &b.search_criteria.unwrap_or_default())
        .await?;
    Ok(Json(
        json!({"ResponseInfo": response_info(&b.request_info), "paymentInstructions": found}),
    ))
}

async fn funds_search(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: SearchBody<FundsCriteria> = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let found = s
        .service
        .search_funds(&who, &b.search_criteria.unwrap_or_default())
        .await?;
    Ok(Json(
        json!({"ResponseInfo": response_info(&b.request_info), "funds": found}),
    ))
}

#[derive(Deserialize)]
struct SchedulerBody {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: RequestInfo,
}

async fn scheduler_run(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<ResponseInfo>, ApiError> {
    let b: SchedulerBody = parse_envelope(&body)?;
    let which = query
        .get("serviceId")
        .and_then(|id| id.parse::<digit_jit::ServiceId>().ok())
        .ok_or_else(|| IfmsError::rule(codes::INVALID_SERVICE_ID))?;
    let outcome = s
        .scheduler
        .run_now(which)
        .await
        .map_err(|e| IfmsError::Corrupt(digit_core::infra::chain(&e)))?;
    tracing::info!(service_id = %which, ?outcome, "Scheduler call.");
    // A run that failed as a whole (e.g. MDMS unreachable) says so; per-PI failures are
    // logged and retried by the next run, as upstream.
    let status = match outcome {
        Some(digit_jobs::TickOutcome::Ran { ok: false }) => ResponseStatus::Failed,
        _ => ResponseStatus::Successful,
    };
    Ok(Json(ResponseInfo::from_request(
        Some(&b.request_info),
        status,
    )))
}
