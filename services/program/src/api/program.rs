//! The program endpoints.

use crate::service::ProgramService;
use axum::Router;

/// The program routes under `context`.
pub fn routes(_context: &str) -> Router<ProgramService> {
    Router::new()
}
