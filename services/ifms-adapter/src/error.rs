//! Adapter errors and their one mapping to HTTP: a broken rule is HTTP 400 with its code
//! (upstream's `CustomException`); the database, the outbox and stored data that cannot be
//! read are 500; MDMS, idgen and the treasury 502 — in the DIGIT envelope, with nothing
//! committed.

use crate::domain::codes::{self, Rule};
use digit_core::{DigitError, ErrorDetail};

/// Everything that can go wrong in a request or a job.
#[derive(Debug, thiserror::Error)]
pub enum IfmsError {
    /// A business rule (HTTP 400).
    #[error("{}: {}", .0.code, .0.message)]
    Rule(Rule),
    /// The caller may not act at the tenant (HTTP 403).
    #[error("forbidden at {0}")]
    Forbidden(String),
    /// Database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// MDMS or another dependency (HTTP 502).
    #[error("dependency: {0}")]
    Dependency(String),
    /// idgen (HTTP 502, upstream's `IDGEN ERROR`).
    #[error("idgen: {0}")]
    Idgen(String),
    /// Outbox (a message could not be written: nothing committed).
    #[error("outbox: {0}")]
    Outbox(#[from] digit_outbox::OutboxError),
    /// Stored data or configuration that cannot be used (HTTP 500).
    #[error("corrupt: {0}")]
    Corrupt(String),
}

impl From<Rule> for IfmsError {
    fn from(rule: Rule) -> Self {
        Self::Rule(rule)
    }
}

impl From<digit_mdms::MdmsError> for IfmsError {
    fn from(e: digit_mdms::MdmsError) -> Self {
        Self::Dependency(digit_core::infra::chain(&e))
    }
}

impl From<digit_store::IdgenError> for IfmsError {
    fn from(e: digit_store::IdgenError) -> Self {
        Self::Idgen(digit_core::infra::chain(&e))
    }
}

impl From<serde_json::Error> for IfmsError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

impl IfmsError {
    /// The rule of a catalogue entry.
    pub fn rule(code: codes::Code) -> Self {
        Self::Rule(codes::rule(code))
    }
}

impl DigitError for IfmsError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Rule(_) => 400,
            Self::Forbidden(_) => 403,
            Self::Database(_) | Self::Outbox(_) | Self::Corrupt(_) => 500,
            Self::Dependency(_) | Self::Idgen(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        use digit_core::error::codes as common;
        match self {
            Self::Rule(rule) => vec![ErrorDetail::new(rule.code, rule.message.clone())],
            Self::Forbidden(_) => vec![ErrorDetail::new(
                common::UNAUTHORIZED_ACCESS,
                "Not authorized to access this resource",
            )],
            Self::Database(_) => vec![ErrorDetail::new(
                common::QUERY_EXECUTION,
                "Database operation failed",
            )],
            Self::Outbox(_) | Self::Corrupt(_) => vec![ErrorDetail::new(
                common::INTERNAL,
                "The change could not be recorded",
            )],
            Self::Dependency(_) => vec![ErrorDetail::new(
                "EXTERNAL_SERVICE_EXCEPTION",
                "A dependent service could not be reached",
            )],
            Self::Idgen(_) => vec![ErrorDetail::new(codes::IDGEN_ERROR.0, codes::IDGEN_ERROR.1)],
        }
    }
}
