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
//! There are no `/test/*` endpoints (C.1 item 21). One OpenAPI document covers both context
//! paths, served at `<context>/openapi.json` and `<context>/docs` for each.

use crate::domain::codes;
use crate::domain::disbursement::{DisbursementReply, DisbursementRequest};
use crate::domain::model::{PaymentInstruction, SanctionDetail};
use crate::error::IfmsError;
use crate::service::jobs::Scheduler;
use crate::service::{AdapterService, Caller};
use crate::store::pi::PiCriteria;
use crate::store::sanctions::FundsCriteria;
use aide::openapi::{
    Parameter, ParameterData, ParameterSchemaOrContent, QueryStyle, ReferenceOr, SchemaObject,
};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::{Extension, Json};
use digit_core::{RequestInfo, ResponseInfo, ResponseStatus};
use digit_service::extract::parse_envelope;
use digit_service::gate::RequestContext;
use digit_service::openapi::{body_example, document, post_with, TransformOperation};
use digit_service::{ApiError, ApiRouter, Documented};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// A request body example: `docs/openapi/examples/ifms-adapter/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/ifms-adapter/",
            $name,
            ".json"
        ))
    };
}

/// The context path upstream's own deployment uses (every caller uses `/ifms`).
pub const UPSTREAM_CONTEXT: &str = "/ifms-adapter";

#[derive(Clone)]
struct AppState {
    service: AdapterService,
    scheduler: Scheduler,
}

type Ctx = Option<Extension<RequestContext>>;

/// All routes under `context` and under [`UPSTREAM_CONTEXT`], and their one OpenAPI document
/// (served under both).
pub fn router(context: &str, service: AdapterService, scheduler: Scheduler) -> Documented {
    let mut contexts = vec![context];
    if context != UPSTREAM_CONTEXT {
        contexts.push(UPSTREAM_CONTEXT);
    }
    let mut routes = ApiRouter::new();
    for ctx in &contexts {
        let also = if *ctx == context {
            String::new()
        } else {
            format!(" (upstream's {ctx} path)")
        };
        let summary = |s: &str| format!("{s}{also}");
        routes = routes
            .api_route(
                &format!("{ctx}/v1/disburse/_create"),
                post_with(disburse_create, |o| {
                    json_body::<DisbursementRequest>(
                        o.tag("Disbursement")
                            .summary(&summary("Pay an iFIX disbursement through JIT"))
                            .description(
                                "Creates the payment instruction (or, for a PARTIAL one whose \
                                 COR window is open, a correction) and posts it to JIT; answers \
                                 the disbursement with its state. A disbursement id seen \
                                 before is answered from its PI.",
                            ),
                        "The disbursement envelope (no `RequestInfo`: the token is the \
                         `Authorization` header)",
                    )
                }),
            )
            .api_route(
                &format!("{ctx}/pi/v1/_create"),
                post_with(pi_create, |o| {
                    let o = json_body::<CreateBody>(
                        o.tag("Payment instructions")
                            .summary(&summary("Create a payment instruction"))
                            .description(
                                "From a payment number (`tenantId` + `referenceId`, read from \
                                 mukta), as a revision of a PI (`tenantId` + `parentPI`), or from \
                                 a `payment` given in full.",
                            ),
                        "`RequestInfo` and one of the three forms",
                    );
                    body_example(o, example!("pi-create"))
                }),
            )
            .api_route(
                &format!("{ctx}/pi/v1/_search"),
                post_with(pi_search, |o| {
                    let o = json_body::<SearchBody<PiCriteria>>(
                        o.tag("Payment instructions")
                            .summary(&summary("Search payment instructions")),
                        "`RequestInfo` and `searchCriteria` (one of `ids`, `piNumber`, \
                         `muktaReferenceId`, `piStatus`, `tenantId` is required)",
                    );
                    body_example(o, example!("pi-search"))
                }),
            )
            .api_route(
                &format!("{ctx}/funds/v1/_search"),
                post_with(funds_search, |o| {
                    let o = json_body::<SearchBody<FundsCriteria>>(
                        o.tag("Funds")
                            .summary(&summary("Search sanctions, their balances and allotments")),
                        "`RequestInfo` and `searchCriteria` (one of `ids`, `tenantId`, \
                         `hoaCode`, `ddoCode`, `masterAllotmentId` is required)",
                    );
                    body_example(o, example!("funds-search"))
                }),
            )
            .api_route(
                &format!("{ctx}/_scheduler"),
                post_with(scheduler_run, |o| {
                    service_id_parameter(json_body::<SchedulerBody>(
                        o.tag("Scheduler")
                            .summary(&summary("Run one JIT job now"))
                            .description(
                                "Runs the job of `serviceId` once and answers a bare \
                                 `ResponseInfo`: status `failed` when the run failed as a \
                                 whole (per-PI failures are retried by the next run).",
                            ),
                        "`RequestInfo`",
                    ))
                }),
            );
    }
    document(
        "IFMS adapter",
        "The JIT treasury adapter: iFIX disbursements paid as payment instructions, their \
         search, the sanctions and funds JIT allots, and the JIT jobs on demand.",
        &contexts,
        routes.with_state(AppState { service, scheduler }),
    )
}

/// Documents the body, read as bytes by the handler (any content type; see
/// [`parse_envelope`]), as required JSON of type `T`.
fn json_body<'a, T: JsonSchema>(
    op: TransformOperation<'a>,
    description: &str,
) -> TransformOperation<'a> {
    digit_service::openapi::json_request_body::<T>(op, description, true)
}

/// Documents `?serviceId=` (read from the raw query by [`scheduler_run`]).
fn service_id_parameter(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    let ids: Vec<&str> = digit_jit::ServiceId::ALL
        .iter()
        .map(|id| id.as_str())
        .collect();
    let json_schema = schemars::json_schema!({ "type": "string", "enum": ids });
    op.inner_mut()
        .parameters
        .push(ReferenceOr::Item(Parameter::Query {
            parameter_data: ParameterData {
                name: "serviceId".into(),
                description: Some(
                    "The JIT service whose job runs (any case): VA, PIS, PAG, PD, FD, FTPS or \
                     FTFPS; PI, COR and PA have no job and answer `successful` at once. Anything \
                     else is 400 `INVALID_SERVICE_ID`."
                        .into(),
                ),
                required: true,
                format: ParameterSchemaOrContent::Schema(SchemaObject {
                    json_schema,
                    example: None,
                    external_docs: None,
                }),
                extensions: IndexMap::default(),
                deprecated: None,
                example: None,
                examples: IndexMap::default(),
                explode: None,
            },
            allow_reserved: false,
            style: QueryStyle::Form,
            allow_empty_value: None,
        }));
    op
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
) -> Result<Json<DisbursementReply>, ApiError> {
    let who = caller(&ctx, &uri);
    Ok(Json(DisbursementReply(
        s.service.disburse_create(&who, &body).await?,
    )))
}

/// `/pi/v1/_create` body.
#[derive(Deserialize, schemars::JsonSchema)]
struct CreateBody {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: RequestInfo,
    #[serde(flatten)]
    request: crate::service::payment::PaymentRequest,
}

/// The payment instruction made (or found).
#[derive(Serialize, schemars::JsonSchema)]
struct PiCreateResponse {
    #[serde(rename = "ResponseInfo")]
    response_info: ResponseInfo,
    #[serde(rename = "paymentInstruction")]
    #[schemars(with = "PaymentInstruction")]
    payment_instruction: Value,
}

async fn pi_create(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<PiCreateResponse>, ApiError> {
    let b: CreateBody = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let pi = s.service.pi_create(&who, b.request).await?;
    Ok(Json(PiCreateResponse {
        response_info: response_info(&b.request_info),
        payment_instruction: pi,
    }))
}

/// A search body.
#[derive(Deserialize, schemars::JsonSchema)]
struct SearchBody<T> {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: RequestInfo,
    #[serde(rename = "searchCriteria", default)]
    search_criteria: Option<T>,
}

fn response_info(request: &RequestInfo) -> ResponseInfo {
    ResponseInfo::from_request(Some(request), ResponseStatus::Successful)
}

/// The payment instructions found (accounts as `account@IFSC`).
#[derive(Serialize, schemars::JsonSchema)]
struct PiSearchResponse {
    #[serde(rename = "ResponseInfo")]
    response_info: ResponseInfo,
    #[serde(rename = "paymentInstructions")]
    payment_instructions: Vec<PaymentInstruction>,
}

async fn pi_search(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<PiSearchResponse>, ApiError> {
    let b: SearchBody<PiCriteria> = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let found = s
        .service
        .search_pis(&who, &b.search_criteria.unwrap_or_default())
        .await?;
    Ok(Json(PiSearchResponse {
        response_info: response_info(&b.request_info),
        payment_instructions: found,
    }))
}

/// The sanctions found, with their funds summaries and allotments.
#[derive(Serialize, schemars::JsonSchema)]
struct FundsSearchResponse {
    #[serde(rename = "ResponseInfo")]
    response_info: ResponseInfo,
    funds: Vec<SanctionDetail>,
}

async fn funds_search(
    State(s): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    body: Bytes,
) -> Result<Json<FundsSearchResponse>, ApiError> {
    let b: SearchBody<FundsCriteria> = parse_envelope(&body)?;
    let who = caller(&ctx, &uri);
    let found = s
        .service
        .search_funds(&who, &b.search_criteria.unwrap_or_default())
        .await?;
    Ok(Json(FundsSearchResponse {
        response_info: response_info(&b.request_info),
        funds: found,
    }))
}

/// `/_scheduler` body.
#[derive(Deserialize, schemars::JsonSchema)]
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
