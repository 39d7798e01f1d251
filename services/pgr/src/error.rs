//! PGR's errors and their DIGIT rendering (upstream-pgr §3). Validation failures are HTTP
//! 400 with upstream's codes; workflow errors pass through with the workflow's own codes;
//! a failing dependency is an error too (upstream swallows downstream 5xx — we do not).

use digit_core::{DigitError, ErrorDetail};
use digit_workflow::WorkflowError;

/// Error codes.
pub mod codes {
    /// Employee filing without citizen data / malformed request.
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    /// Source not allowed.
    pub const INVALID_SOURCE: &str = "INVALID_SOURCE";
    /// No address/locality.
    pub const INVALID_BOUNDARY: &str = "INVALID_BOUNDARY";
    /// Unknown locality.
    pub const INVALID_BOUNDARY_CODE: &str = "INVALID_BOUNDARY_CODE";
    /// Unknown complaint type.
    pub const INVALID_SERVICECODE: &str = "INVALID_SERVICECODE";
    /// accountId is not a citizen.
    pub const INVALID_ACCOUNTID: &str = "INVALID_ACCOUNTID";
    /// No PGR business service.
    pub const BUSINESSSERVICE_NOT_FOUND: &str = "BUSINESSSERVICE_NOT_FOUND";
    /// Update of an unknown complaint.
    pub const INVALID_UPDATE: &str = "INVALID_UPDATE";
    /// Reopen not allowed.
    pub const INVALID_ACTION: &str = "INVALID_ACTION";
    /// Rating outside 1–5 (ours: upstream declares but never enforces it).
    pub const INVALID_RATING: &str = "INVALID_RATING";
    /// Search criteria problems.
    pub const INVALID_SEARCH: &str = "INVALID_SEARCH";
    /// A search parameter the user type may not use (space, as upstream).
    pub const INVALID_SEARCH_PARAM: &str = "INVALID SEARCH";
    /// No userInfo.
    pub const INVALID_REQUESTINFO: &str = "INVALID_REQUESTINFO";
    /// Plain search without tenants.
    pub const TENANT_ID_LIST_EMPTY: &str = "TENANT_ID_LIST_EMPTY";
}

/// Everything that can go wrong in PGR.
#[derive(Debug, thiserror::Error)]
pub enum PgrError {
    /// Validation (HTTP 400), possibly several errors.
    #[error("{}", digit_core::error::describe(.0))]
    Invalid(Vec<ErrorDetail>),
    /// The workflow refused or failed (its codes and status pass through).
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// Database failure.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Kafka failure (nothing acknowledged).
    #[error("kafka: {0}")]
    Kafka(String),
    /// MDMS, idgen or the user service failed.
    #[error("dependency: {0}")]
    Dependency(String),
}

impl PgrError {
    /// One validation error.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ErrorDetail::new(code, message)])
    }

    /// The first code (tests, logs).
    pub fn code(&self) -> String {
        self.errors()
            .first()
            .map(|e| e.code.clone())
            .unwrap_or_default()
    }
}

impl From<digit_user::UserError> for PgrError {
    fn from(e: digit_user::UserError) -> Self {
        Self::Dependency(e.to_string())
    }
}

impl From<digit_mdms::MdmsError> for PgrError {
    fn from(e: digit_mdms::MdmsError) -> Self {
        Self::Dependency(e.to_string())
    }
}

impl DigitError for PgrError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Workflow(e) => e.http_status(),
            Self::Database(_) | Self::Kafka(_) => 500,
            Self::Dependency(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Workflow(e) => e.errors(),
            Self::Database(_) => vec![ErrorDetail::new(
                digit_core::error::codes::QUERY_EXECUTION,
                "Database operation failed",
            )],
            Self::Kafka(_) => vec![ErrorDetail::new(
                digit_core::error::codes::INTERNAL,
                "The complaint could not be published",
            )],
            Self::Dependency(_) => vec![ErrorDetail::new(
                digit_core::error::codes::RESOURCE_ACCESS,
                "A dependent service could not be reached",
            )],
        }
    }
}
