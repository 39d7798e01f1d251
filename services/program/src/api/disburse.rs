//! The disburse endpoints (§1.3): `disburse/_create|_update|_search` and
//! `on-disburse/_create|_update`.

use crate::api::caller;
use crate::api::envelope::{parse_search, Body};
use crate::domain::model::DisburseSearch;
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

/// The disburse routes under `context`.
pub fn routes(context: &str) -> Router<ProgramService> {
    Router::new()
        .route(&format!("{context}/v1/disburse/_create"), post(create))
        .route(&format!("{context}/v1/disburse/_update"), post(update))
        .route(&format!("{context}/v1/disburse/_search"), post(search))
        .route(
            &format!("{context}/v1/on-disburse/_create"),
            post(on_create),
        )
        .route(
            &format!("{context}/v1/on-disburse/_update"),
            post(on_update),
        )
}

type Ctx = Option<Extension<RequestContext>>;

async fn create(
    State(service): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(
        service.write(&caller, Write::DisburseCreate, &body).await?,
    ))
}

async fn update(
    State(service): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(
        service.write(&caller, Write::DisburseUpdate, &body).await?,
    ))
}

async fn on_create(
    State(service): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(
        service
            .write(&caller, Write::OnDisburseCreate, &body)
            .await?,
    ))
}

async fn on_update(
    State(service): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(
        service
            .write(&caller, Write::OnDisburseUpdate, &body)
            .await?,
    ))
}

async fn search(
    State(service): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (header, criteria) = parse_search::<DisburseSearch>(Body::DisburseSearch, &body)?;
    let caller = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(
        service.disburse_search(&caller, header, criteria).await?,
    ))
}
