//! The allocation endpoints: `on-allocation/_create|_update`, `allocation/_search`.

use crate::api::caller;
use crate::api::envelope::{parse_search, Body};
use crate::domain::model::AllocationSearch;
use crate::service::intake::Write;
use crate::service::ProgramService;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::post;
use axum::{Extension, Json, Router};
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use serde_json::Value;

/// The allocation routes under `context`.
pub fn routes(context: &str) -> Router<ProgramService> {
    Router::new()
        .route(
            &format!("{context}/v1/on-allocation/_create"),
            post(on_create),
        )
        .route(
            &format!("{context}/v1/on-allocation/_update"),
            post(on_update),
        )
        .route(&format!("{context}/v1/allocation/_search"), post(search))
}

type Ctx = Option<Extension<RequestContext>>;

async fn on_create(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::OnAllocationCreate, &body).await?))
}

async fn on_update(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::OnAllocationUpdate, &body).await?))
}

async fn search(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (header, criteria) = parse_search::<AllocationSearch>(Body::AllocationSearch, &body)?;
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.search_allocations(&who, header, criteria).await?))
}
