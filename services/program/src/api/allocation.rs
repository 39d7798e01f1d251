//! The allocation endpoints.

use crate::service::ProgramService;
use axum::Router;

/// The allocation routes under `context`.
pub fn routes(_context: &str) -> Router<ProgramService> {
    Router::new()
}
