//! `{context}/v1/…` — the sixteen endpoints of spec §1.3, one file per aggregate. Every
//! endpoint is `POST` with the iFIX envelope (`api::envelope`); creates, updates and
//! replies answer HTTP 200 with the (mutated) envelope — status `ERROR` on a business rule
//! failure — and searches `{header, <plural>: [...]}`. Header and structural errors are
//! HTTP 400 in the DIGIT envelope.

pub mod allocation;
pub mod disburse;
pub mod envelope;
pub mod program;
pub mod sanction;

use crate::service::{Caller, ProgramService};
use axum::http::Uri;
use axum::Router;
use digit_service::gate::RequestContext;

/// All routes under `context` (e.g. `/program-service`).
pub fn router(context: &str, service: ProgramService) -> Router {
    Router::new()
        .merge(program::routes(context))
        .merge(sanction::routes(context))
        .merge(allocation::routes(context))
        .merge(disburse::routes(context))
        .with_state(service)
}

/// The caller of a request (the gate's context; none when the routes are open).
pub fn caller(ctx: Option<&RequestContext>, uri: &Uri) -> Caller {
    Caller {
        user: ctx.and_then(|c| c.user.clone()),
        path: uri.path().to_owned(),
        correlation_id: ctx.map(|c| c.correlation_id.clone()).unwrap_or_default(),
    }
}
