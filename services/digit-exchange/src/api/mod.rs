//! `POST {context}/v1/exchange/{type}` (spec §2.2).
//!
//! The path type is any of the fourteen exchange types in any case; anything else is 400
//! `INVALID_EXCHANGE_TYPE` before anything else runs (upstream accepts it and fails in the
//! consumer). The request then passes the auth gate with these paths as *mixed* endpoints:
//! another domain's exchange calls without a token (it authenticates by signature), a
//! local service with its token, which the gate verifies when present; the handler then
//! requires it of local senders ([`crate::service::intake`]).

pub mod envelope;

use crate::domain::error::ExchangeError;
use crate::domain::model::ExchangeType;
use crate::service::intake::Caller;
use crate::service::ExchangeService;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use serde_json::Value;

/// The path of one type under `context`.
pub fn exchange_path(context: &str, t: ExchangeType) -> String {
    format!("{context}/v1/exchange/{}", t.as_str())
}

/// The fourteen paths (the gate's mixed endpoints).
pub fn exchange_paths(context: &str) -> Vec<String> {
    ExchangeType::ALL
        .into_iter()
        .map(|t| exchange_path(context, t))
        .collect()
}

/// The exchange route under `context` (not yet behind the gate; see [`normalise_type`]).
pub fn router(context: &str, service: ExchangeService) -> Router {
    Router::new()
        .route(&format!("{context}/v1/exchange/{{type}}"), post(exchange))
        .with_state(service)
}

async fn exchange(
    State(service): State<ExchangeService>,
    ctx: Option<Extension<RequestContext>>,
    Path(path_type): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let path_type = ExchangeType::parse(&path_type).ok_or(ExchangeError::InvalidType(path_type))?;
    let msg = envelope::parse_body(&body)?;
    let caller = Caller {
        user: ctx.as_ref().and_then(|c| c.user.clone()),
        correlation_id: ctx.map(|c| c.0.correlation_id).unwrap_or_default(),
    };
    let echo = service.receive(&caller, path_type, msg).await?;
    Ok(Json(echo.upstream_json()))
}

/// Middleware in front of the gate: `…/v1/exchange/<type>` with the type in any case is
/// rewritten to the lower-case path the gate lists; an unknown type is answered 400
/// `INVALID_EXCHANGE_TYPE` at once.
pub async fn normalise_type(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let Some((prefix, segment)) = path.rsplit_once('/') else {
        return next.run(request).await;
    };
    if !prefix.ends_with("/v1/exchange") {
        return next.run(request).await;
    }
    let Some(t) = ExchangeType::parse(segment) else {
        let e: ApiError = ExchangeError::InvalidType(segment.to_owned()).into();
        return e.into_response();
    };
    if segment == t.as_str() {
        return next.run(request).await;
    }
    let canonical = format!("{prefix}/{}", t.as_str());
    let (mut parts, body) = request.into_parts();
    let rewritten = match parts.uri.query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical,
    };
    if let Ok(uri) = rewritten.parse::<Uri>() {
        parts.uri = uri;
    }
    next.run(Request::from_parts(parts, body)).await
}
