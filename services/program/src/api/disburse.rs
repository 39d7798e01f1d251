//! The disburse endpoints.

use crate::service::ProgramService;
use axum::Router;

/// The disburse routes under `context`.
pub fn routes(_context: &str) -> Router<ProgramService> {
    Router::new()
}
