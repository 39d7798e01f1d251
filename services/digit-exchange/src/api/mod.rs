//! `POST {context}/v1/exchange/{type}` (spec §2.2).
//!
//! The path type is any of the fourteen exchange types in any case; anything else is 400
//! `INVALID_EXCHANGE_TYPE` before anything else runs (upstream accepts it and fails in the
//! consumer). The request then passes the auth gate with these paths as *mixed* endpoints:
//! another domain's exchange calls without a token (it authenticates by signature), a
//! local service with its token, which the gate verifies when present; the handler then
//! requires it of local senders ([`crate::service::intake`]).
//!
//! [`router`] also mounts the registry API and serves the one OpenAPI document of both.

pub mod envelope;

use crate::domain::error::ExchangeError;
use crate::domain::model::{EchoMessage, ExchangeType, RequestMessage};
use crate::registry::Registry;
use crate::service::intake::Caller;
use crate::service::ExchangeService;
use aide::openapi::SecurityRequirement;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use digit_service::gate::{authenticate, Gate, RequestContext};
use digit_service::openapi::{document, post_with, TransformOperation, BEARER};
use digit_service::{ApiError, ApiRouter};
use serde::Deserialize;

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

/// The exchange route behind `exchange_gate` (a gate with [`exchange_paths`] as mixed
/// endpoints) and, in front of it, [`normalise_type`]; the registry API
/// ([`crate::registry::api::routes`]) behind `registry_gate` (the platform's); and their one
/// OpenAPI document at `{context}/openapi.json` and `{context}/docs`, open.
pub fn router(
    context: &str,
    service: ExchangeService,
    registry: Registry,
    exchange_gate: Gate,
    registry_gate: Gate,
) -> Router {
    let exchange = ApiRouter::new()
        .api_route(
            &format!("{context}/v1/exchange/{{type}}"),
            post_with(exchange, |o| {
                signed_message_body(
                    o.tag("Exchange")
                        .summary("Send a message to a service of another domain or of this one")
                        .description(
                            "Another domain's exchange calls without a token: its message is \
                             verified by `signature` (and `seal`) against its registry keys. A \
                             local service (`sender_id` on this exchange's URL) sends with its \
                             token and no signature. The message is queued for delivery and \
                             echoed (200); the receiver's answer comes back later as an \
                             `on-<type>` message.",
                        ),
                )
            }),
        )
        .with_state(service)
        .layer(axum::middleware::from_fn_with_state(
            exchange_gate,
            authenticate,
        ))
        .layer(axum::middleware::from_fn(normalise_type));
    let registry = crate::registry::api::routes(context, registry).layer(
        axum::middleware::from_fn_with_state(registry_gate, authenticate),
    );
    document(
        "DIGIT Exchange",
        "Signed messages between domains (iFIX exchange): the exchange endpoint of the fourteen \
         message types, and the registry of the other domains' exchanges and keys (admin).",
        &[context],
        exchange.merge(registry),
    )
    .into_router()
}

/// The path parameter: one of the fourteen types, in any case (400 `INVALID_EXCHANGE_TYPE`
/// otherwise).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(inline)]
struct TypePath {
    /// The exchange type (any case); replies are the `on-` types.
    #[serde(rename = "type")]
    #[schemars(with = "ExchangeType")]
    exchange_type: String,
}

/// The body (read as bytes by the handler, see [`envelope::parse_body`]) as JSON
/// [`RequestMessage`], and the token as optional (other domains send none).
fn signed_message_body(op: TransformOperation<'_>) -> TransformOperation<'_> {
    let mut op = digit_service::openapi::json_request_body::<RequestMessage>(
        op,
        "The envelope, `message` a JSON string",
        true,
    );
    let inner = op.inner_mut();
    let mut bearer = SecurityRequirement::new();
    bearer.insert(BEARER.to_owned(), Vec::new());
    inner.security = vec![SecurityRequirement::new(), bearer];
    op
}

async fn exchange(
    State(service): State<ExchangeService>,
    ctx: Option<Extension<RequestContext>>,
    Path(TypePath {
        exchange_type: path_type,
    }): Path<TypePath>,
    body: Bytes,
) -> Result<Json<EchoMessage>, ApiError> {
    let path_type = ExchangeType::parse(&path_type).ok_or(ExchangeError::InvalidType(path_type))?;
    let msg = envelope::parse_body(&body)?;
    let caller = Caller {
        user: ctx.as_ref().and_then(|c| c.user.clone()),
        correlation_id: ctx.map(|c| c.0.correlation_id).unwrap_or_default(),
    };
    let echo = service.receive(&caller, path_type, msg).await?;
    Ok(Json(EchoMessage::from(echo)))
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
