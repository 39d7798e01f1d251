//! `{context}/v1/…` — the sixteen endpoints of spec §1.3, all in the table of [`router`].
//! Every endpoint is `POST` with the iFIX envelope ([`envelope`]): the twelve creates,
//! updates and replies run [`ProgramService::write`] (the pipeline, or the async intake)
//! and answer HTTP 200 with the (mutated) envelope — status `ERROR` on a business rule
//! failure; the four searches answer `{header, <plural>: [...], pagination}`. Header and
//! structural errors are HTTP 400 in the DIGIT envelope.

pub mod envelope;

use crate::domain::model::{
    AllocationSearch, DisburseSearch, ProgramSearch, RequestHeader, SanctionSearch,
};
use crate::error::ProgramError;
use crate::service::intake::Write;
use crate::service::{Caller, ProgramService};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::routing::{post, MethodRouter};
use axum::{Extension, Json, Router};
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use envelope::{parse_search, Body};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;

/// All routes under `context` (e.g. `/program-service`).
pub fn router(context: &str, service: ProgramService) -> Router {
    let mut routes = Router::new();
    // program/_create|_update, on-program/…, on-sanction/…, on-allocation/…,
    // disburse/_create|_update, on-disburse/_create|_update.
    for write in Write::ALL {
        routes = routes.route(
            &format!("{context}/v1/{}", write.path()),
            write_route(write),
        );
    }
    routes
        .route(
            &format!("{context}/v1/program/_search"),
            search_route(Body::ProgramSearch, |s, who, h, c: ProgramSearch| async move {
                s.search_programs(&who, h, c).await
            }),
        )
        .route(
            &format!("{context}/v1/sanction/_search"),
            search_route(Body::SanctionSearch, |s, who, h, c: SanctionSearch| async move {
                s.search_sanctions(&who, h, c).await
            }),
        )
        .route(
            &format!("{context}/v1/allocation/_search"),
            search_route(Body::AllocationSearch, |s, who, h, c: AllocationSearch| async move {
                s.search_allocations(&who, h, c).await
            }),
        )
        .route(
            &format!("{context}/v1/disburse/_search"),
            search_route(Body::DisburseSearch, |s, who, h, c: DisburseSearch| async move {
                s.disburse_search(&who, h, c).await
            }),
        )
        .with_state(service)
}

type Ctx = Option<Extension<RequestContext>>;

/// A create/update/reply endpoint.
fn write_route(write: Write) -> MethodRouter<ProgramService> {
    post(
        move |State(s): State<ProgramService>, ctx: Ctx, uri: Uri, body: Bytes| async move {
            let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
            s.write(&who, write, &body).await.map(Json)
        },
    )
}

/// A search endpoint: `body` names the criteria type of upstream's binding codes.
fn search_route<T, F, Fut>(body: Body, run: F) -> MethodRouter<ProgramService>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(ProgramService, Caller, RequestHeader, T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ProgramError>> + Send + 'static,
{
    post(
        move |State(s): State<ProgramService>, ctx: Ctx, uri: Uri, bytes: Bytes| async move {
            let (header, criteria) = parse_search::<T>(body, &bytes)?;
            let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
            Ok::<_, ApiError>(Json(run(s, who, header, criteria).await?))
        },
    )
}

/// The caller of a request (the gate's context; none when the routes are open).
pub fn caller(ctx: Option<&RequestContext>, uri: &Uri) -> Caller {
    Caller {
        user: ctx.and_then(|c| c.user.clone()),
        path: uri.path().to_owned(),
        correlation_id: ctx.map(|c| c.correlation_id.clone()).unwrap_or_default(),
    }
}
