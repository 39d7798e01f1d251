//! The program endpoints: `program/_create|_update|_search`, `on-program/_create|_update`.

use crate::api::caller;
use crate::api::envelope::{parse_search, Body};
use crate::domain::model::ProgramSearch;
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

/// The program routes under `context`.
pub fn routes(context: &str) -> Router<ProgramService> {
    Router::new()
        .route(&format!("{context}/v1/program/_create"), post(create))
        .route(&format!("{context}/v1/program/_update"), post(update))
        .route(&format!("{context}/v1/program/_search"), post(search))
        .route(&format!("{context}/v1/on-program/_create"), post(on_create))
        .route(&format!("{context}/v1/on-program/_update"), post(on_update))
}

type Ctx = Option<Extension<RequestContext>>;

async fn create(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::ProgramCreate, &body).await?))
}

async fn update(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::ProgramUpdate, &body).await?))
}

async fn on_create(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::OnProgramCreate, &body).await?))
}

async fn on_update(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.write(&who, Write::OnProgramUpdate, &body).await?))
}

async fn search(
    State(s): State<ProgramService>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (header, criteria) = parse_search::<ProgramSearch>(Body::ProgramSearch, &body)?;
    let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
    Ok(Json(s.search_programs(&who, header, criteria).await?))
}
