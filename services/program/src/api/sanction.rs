//! The sanction endpoints.

use crate::service::ProgramService;
use axum::Router;

/// The sanction routes under `context`.
pub fn routes(_context: &str) -> Router<ProgramService> {
    Router::new()
}
