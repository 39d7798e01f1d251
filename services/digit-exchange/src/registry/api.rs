//! The registry management API (upstream has none: rows were inserted by hand).
//!
//! All `POST`, DIGIT envelope with `RequestInfo`, admin-only (role `EXCHANGE_ADMIN` through
//! the MDMS role-actions and the gate; `lib.rs` puts these routes behind
//! `Platform::protect`):
//!
//! | path | body (besides `RequestInfo`) | answer |
//! |---|---|---|
//! | `{context}/v1/registry/_create` | `ExchangeServers: [ExchangeServer]` | the rows as stored |
//! | `{context}/v1/registry/_update` | `ExchangeServers: [ExchangeServer]` (by `id`) | the rows as stored |
//! | `{context}/v1/registry/_search` | `criteria: {ids, name, host_url, is_active}` | every matching row |
//! | `{context}/v1/registry/_deactivate` | `ids: [string]` | the deactivated rows |
//!
//! Answers are `{"ResponseInfo": {…}, "ExchangeServers": [...]}`; errors the DIGIT
//! envelope (400 for a bad row or key, an unknown or duplicate id).

use super::{ExchangeServer, Registry, RegistryError, RegistrySearch};
use axum::extract::State;
use axum::{Extension, Json};
use digit_core::{RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::gate::RequestContext;
use digit_service::openapi::{body_example, post_with};
use digit_service::{ApiError, ApiRouter, DigitJson};
use serde::{Deserialize, Serialize};

/// A request body example: `docs/openapi/examples/digit-exchange/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/digit-exchange/",
            $name,
            ".json"
        ))
    };
}

/// `_create` / `_update` body.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct ServersRequest {
    /// The envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    pub request_info: RequestInfo,
    /// The rows.
    #[serde(rename = "ExchangeServers", alias = "exchange_servers", default)]
    pub servers: Vec<ExchangeServer>,
}

/// `_search` body.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct SearchRequest {
    /// The envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    pub request_info: RequestInfo,
    /// The criteria (all optional; `is_active` defaults to true).
    #[serde(
        default,
        alias = "ExchangeServerSearch",
        alias = "exchange_server_search"
    )]
    pub criteria: RegistrySearch,
}

/// `_deactivate` body.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct DeactivateRequest {
    /// The envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    pub request_info: RequestInfo,
    /// Row ids.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// Every answer: the rows concerned, with `ResponseInfo`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServersResponse {
    /// `ResponseInfo` from the request, status `successful`.
    #[serde(rename = "ResponseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// The rows.
    #[serde(rename = "ExchangeServers")]
    pub servers: Vec<ExchangeServer>,
}

/// The four routes under `context` (e.g. `/digit-exchange`), not yet behind the gate and
/// not finished: [`crate::api::router`] puts them behind the platform's gate and documents
/// them with the exchange route (one document per context).
pub fn routes(context: &str, registry: Registry) -> ApiRouter {
    let context = context.trim_end_matches('/');
    ApiRouter::new()
        .api_route(
            &format!("{context}/v1/registry/_create"),
            post_with(create, |o| {
                o.tag("Registry")
                    .summary("Register exchange servers (another domain's URL and public key)")
            }),
        )
        .api_route(
            &format!("{context}/v1/registry/_update"),
            post_with(update, |o| {
                o.tag("Registry").summary("Update exchange servers by id")
            }),
        )
        .api_route(
            &format!("{context}/v1/registry/_search"),
            post_with(search, |o| {
                body_example(
                    o.tag("Registry").summary("Search exchange servers"),
                    example!("registry-search"),
                )
            }),
        )
        .api_route(
            &format!("{context}/v1/registry/_deactivate"),
            post_with(deactivate, |o| {
                o.tag("Registry")
                    .summary("Deactivate exchange servers (their keys stop verifying)")
            }),
        )
        .with_state(registry)
}

type Ctx = Option<Extension<RequestContext>>;

fn answer(ri: &RequestInfo, servers: Vec<ExchangeServer>) -> Json<ServersResponse> {
    Json(ServersResponse {
        response_info: Some(ResponseInfo::from_request(
            Some(ri),
            ResponseStatus::Successful,
        )),
        servers,
    })
}

/// The caller's uuid for the audit: the gate's user, else `RequestInfo.userInfo`.
fn caller(ctx: &Ctx, ri: &RequestInfo) -> String {
    ctx.as_ref()
        .and_then(|c| c.0.user.as_ref())
        .and_then(|u| u.uuid.clone())
        .or_else(|| ri.user_uuid().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn non_empty<T>(list: &[T], what: &str) -> Result<(), ApiError> {
    if list.is_empty() {
        return Err(RegistryError::Invalid {
            code: "INVALID_EXCHANGE_SERVER",
            message: format!("{what} is empty"),
        }
        .into());
    }
    Ok(())
}

async fn create(
    State(registry): State<Registry>,
    ctx: Ctx,
    DigitJson(body): DigitJson<ServersRequest>,
) -> Result<Json<ServersResponse>, ApiError> {
    non_empty(&body.servers, "ExchangeServers")?;
    let by = caller(&ctx, &body.request_info);
    let rows = registry.create(body.servers, &by).await?;
    Ok(answer(&body.request_info, rows))
}

async fn update(
    State(registry): State<Registry>,
    ctx: Ctx,
    DigitJson(body): DigitJson<ServersRequest>,
) -> Result<Json<ServersResponse>, ApiError> {
    non_empty(&body.servers, "ExchangeServers")?;
    let by = caller(&ctx, &body.request_info);
    let rows = registry.update(body.servers, &by).await?;
    Ok(answer(&body.request_info, rows))
}

async fn search(
    State(registry): State<Registry>,
    DigitJson(body): DigitJson<SearchRequest>,
) -> Result<Json<ServersResponse>, ApiError> {
    let rows = registry.search(&body.criteria).await?;
    Ok(answer(&body.request_info, rows))
}

async fn deactivate(
    State(registry): State<Registry>,
    ctx: Ctx,
    DigitJson(body): DigitJson<DeactivateRequest>,
) -> Result<Json<ServersResponse>, ApiError> {
    non_empty(&body.ids, "ids")?;
    let by = caller(&ctx, &body.request_info);
    let rows = registry.deactivate(&body.ids, &by).await?;
    Ok(answer(&body.request_info, rows))
}
