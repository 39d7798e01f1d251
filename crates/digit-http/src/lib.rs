//! The one outbound HTTP client of the services: every call to another DIGIT service (MDMS,
//! egov-user, egov-workflow-v2, egov-localization, and later exchange, adapters, JIT)
//! goes through [`HttpClient`].
//!
//! It applies the connect and request timeouts from settings ([`HTTP_VARS`], printed by
//! `--help`); retries only what is safe — a call the caller marked
//! [`idempotent`](Call::idempotent) after a timeout, a broken exchange or HTTP 502/503/504,
//! and any call whose connection could not be opened (nothing was sent), never a write
//! that may have reached the other side; sends the caller's correlation id in
//! `x-correlation-id` (a new one when none is known); decodes DIGIT error bodies
//! (`{"ResponseInfo", "Errors": [{code, message, description, params}]}`) into
//! [`HttpError::Status`] with the codes unchanged; and counts every attempt in the service's
//! [`Metrics`](digit_service::Metrics) (`http_client_requests_total{target,outcome}`,
//! `http_client_request_duration_seconds{target}`, `http_client_retries_total{target}`).

mod client;
mod error;
mod settings;

pub use client::{join_url, Call, HttpClient, Retry, CORRELATION_HEADER};
pub use error::{BoxError, HttpError};
/// The method and URL types of [`HttpClient::request`] (callers need no HTTP crate of their own).
pub use reqwest::{Method, Url};
pub use settings::{
    HttpSettings, CONNECT_TIMEOUT, HTTP_VARS, REQUEST_TIMEOUT, RETRIES, RETRY_BACKOFF,
};
