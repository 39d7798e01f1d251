//! The dashboard API's errors and their DIGIT rendering (`{"ResponseInfo": null,
//! "Errors": [...]}`); every code is a constant below with a test that produces it
//! (`tests/dashboard.rs`).

use digit_core::{DigitError, ErrorDetail};

/// Error codes of `POST /egov-indexer/dashboard/v1/_summary`.
pub mod codes {
    /// `fromDate` / `toDate` is not a whole number of epoch milliseconds in range (400).
    pub const INVALID_DATE: &str = "DASHBOARD_INVALID_DATE";
    /// `fromDate` is after `toDate` (400).
    pub const INVALID_DATE_RANGE: &str = "DASHBOARD_INVALID_DATE_RANGE";
    /// `tenantId` is not a tenant id (400; the platform's code).
    pub const INVALID_TENANT: &str = digit_core::error::codes::INVALID_TENANT_ID_FORMAT;
    /// `slaHours` is not a positive number of hours up to ten years (400).
    pub const INVALID_SLA_HOURS: &str = "DASHBOARD_INVALID_SLA_HOURS";
    /// Elasticsearch cannot be reached, timed out, or answered 429/5xx (503).
    pub const ES_UNAVAILABLE: &str = "DASHBOARD_ES_UNAVAILABLE";
    /// Elasticsearch refused a query (4xx: an index whose mapping does not fit) or
    /// answered something that is not JSON (502).
    pub const ES_QUERY_FAILED: &str = "DASHBOARD_ES_QUERY_FAILED";
}

/// Why a summary could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// A request field is invalid.
    #[error("{code}: {message}")]
    Invalid {
        /// One of [`codes`].
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The field.
        field: &'static str,
    },
    /// Elasticsearch is unavailable (the cause is logged, not sent).
    #[error("Elasticsearch is unavailable: {0}")]
    Unavailable(String),
    /// Elasticsearch refused a query (the cause is logged, not sent).
    #[error("Elasticsearch refused a dashboard query: {0}")]
    Query(String),
}

impl DashboardError {
    /// An invalid field.
    pub fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
            field,
        }
    }
}

impl DigitError for DashboardError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Unavailable(_) => 503,
            Self::Query(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid {
                code,
                message,
                field,
            } => vec![ErrorDetail::new(*code, message.clone()).with_params(vec![(*field).into()])],
            Self::Unavailable(_) => vec![ErrorDetail::new(
                codes::ES_UNAVAILABLE,
                "Elasticsearch is not available; try again later",
            )],
            Self::Query(_) => vec![ErrorDetail::new(
                codes::ES_QUERY_FAILED,
                "Elasticsearch could not answer a dashboard query",
            )],
        }
    }
}
