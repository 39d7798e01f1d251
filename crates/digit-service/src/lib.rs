//! Axum plumbing every service shares.
//!
//! A service binary reads [`config::ServiceSettings`], builds its business router, puts the
//! [`gate`] (authentication, role-action and tenant authorization) in front of it, and hands
//! it to [`server::app`]/[`server::serve`], which add `<ctx>/health`, `<ctx>/metrics`,
//! correlation ids, limits and graceful shutdown. Handlers take bodies through
//! [`DigitJson`] and query criteria through [`QueryCriteria`], and return [`ApiError`] —
//! the one place errors become DIGIT envelopes. Routers are built as [`openapi::ApiRouter`]s
//! so every service's OpenAPI document is generated from these same types.

pub mod authz;
pub mod config;
pub mod config_files;
pub mod error;
pub mod extract;
pub mod gate;
pub mod jwt;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod readiness;
pub mod server;
pub mod telemetry;
pub mod unread;

pub use error::ApiError;
pub use extract::DigitJson;
pub use gate::RequestContext;
pub use metrics::Metrics;
pub use openapi::{Accepted, ApiRouter, Documented};
pub use query::QueryCriteria;
pub use readiness::{CheckOutcome, Readiness, ReadinessCheck};
pub use server::Shutdown;
