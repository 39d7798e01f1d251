//! Program-service errors and their one mapping to HTTP (spec §1.7.4):
//! - [`ProgramError::Header`] — upstream's header codes, HTTP 400 DIGIT envelope;
//! - [`ProgramError::Rule`] — a business rule: **not** an HTTP error; the pipelines turn it
//!   into the entity's status `ERROR` with `"<CODE> <message>"` in an HTTP 200 answer;
//! - infrastructure (database, MDMS, idgen, outbox) — 500/502 in the DIGIT envelope, with
//!   nothing committed.

use crate::domain::codes::Rule;
use digit_core::{DigitError, ErrorDetail};

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// A header check of §1.7.2 (HTTP 400).
    #[error("{0}: {1}")]
    Header(&'static str, &'static str),
    /// A business rule (§1.7.5); becomes status `ERROR` (HTTP 200).
    #[error("{0}")]
    Rule(Rule),
    /// The caller may not act for the record's location (HTTP 403).
    #[error("forbidden at {0}")]
    Forbidden(String),
    /// Database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// MDMS, idgen or another dependency (HTTP 502).
    #[error("dependency: {0}")]
    Dependency(String),
    /// Outbox (a message could not be written: nothing committed).
    #[error("outbox: {0}")]
    Outbox(#[from] digit_outbox::OutboxError),
    /// Stored data that cannot be read back (a bug or a wrong key; HTTP 500).
    #[error("corrupt: {0}")]
    Corrupt(String),
}

impl From<Rule> for ProgramError {
    fn from(rule: Rule) -> Self {
        Self::Rule(rule)
    }
}

impl From<digit_mdms::MdmsError> for ProgramError {
    fn from(e: digit_mdms::MdmsError) -> Self {
        Self::Dependency(digit_core::infra::chain(&e))
    }
}

impl From<digit_store::IdgenError> for ProgramError {
    fn from(e: digit_store::IdgenError) -> Self {
        Self::Dependency(digit_core::infra::chain(&e))
    }
}

impl ProgramError {
    /// A header error from a `(code, message)` constant of `domain::codes`.
    pub fn header(pair: (&'static str, &'static str)) -> Self {
        Self::Header(pair.0, pair.1)
    }
}

impl DigitError for ProgramError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Header(..) | Self::Rule(_) => 400,
            Self::Forbidden(_) => 403,
            Self::Database(_) | Self::Outbox(_) | Self::Corrupt(_) => 500,
            Self::Dependency(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        use digit_core::error::codes;
        match self {
            Self::Header(code, message) => vec![ErrorDetail::new(*code, *message)],
            Self::Rule(rule) => vec![ErrorDetail::new(rule.code, rule.message.clone())],
            Self::Forbidden(_) => vec![ErrorDetail::new(
                codes::UNAUTHORIZED_ACCESS,
                "Not authorized to access this resource",
            )],
            Self::Database(_) => vec![ErrorDetail::new(
                codes::QUERY_EXECUTION,
                "Database operation failed",
            )],
            Self::Outbox(_) | Self::Corrupt(_) => vec![ErrorDetail::new(
                codes::INTERNAL,
                "The change could not be recorded",
            )],
            Self::Dependency(_) => vec![ErrorDetail::new(
                "EXTERNAL_SERVICE_EXCEPTION",
                "A dependent service could not be reached",
            )],
        }
    }
}
