//! Master data errors and their one mapping to HTTP: validation (upstream's
//! `CustomException(errorMap)`: every violation found, one `Errors` entry each) is HTTP 400
//! in the DIGIT envelope; the database and Kafka are 500, MDMS 502.

use digit_core::{DigitError, ErrorDetail};

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum MastersError {
    /// Rule violations (HTTP 400), in the order found.
    #[error("invalid request: {}", .0.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<ErrorDetail>),
    /// Database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The broker did not acknowledge the write (nothing was written).
    #[error("kafka: {0}")]
    Kafka(String),
    /// The broker took the write and the persister consumed it without storing it (it was
    /// dead-lettered for a reason other than the rule the answer would name).
    #[error("not stored: {0}")]
    NotStored(String),
    /// MDMS (tenant lookup) is unavailable.
    #[error("mdms: {0}")]
    Mdms(String),
}

impl MastersError {
    /// One violation.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ErrorDetail::new(code, message.into())])
    }
}

impl From<digit_mdms::MdmsError> for MastersError {
    fn from(e: digit_mdms::MdmsError) -> Self {
        Self::Mdms(digit_core::infra::chain(&e))
    }
}

/// Collects the violations of one request, as upstream's `errorMap` does.
#[derive(Debug, Default)]
pub struct Violations(Vec<ErrorDetail>);

impl Violations {
    /// Records one violation (a code already recorded keeps its first message, as a map
    /// keyed by code does).
    pub fn add(&mut self, code: &str, message: impl Into<String>) {
        if !self.0.iter().any(|e| e.code == code) {
            self.0.push(ErrorDetail::new(code, message.into()));
        }
    }

    /// Whether none were recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when none were recorded.
    pub fn into_result(self) -> Result<(), MastersError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(MastersError::Invalid(self.0))
        }
    }
}

impl DigitError for MastersError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Database(_) | Self::Kafka(_) | Self::NotStored(_) => 500,
            Self::Mdms(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        use digit_core::error::codes;
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Database(_) => vec![ErrorDetail::new(
                codes::INTERNAL,
                "The master data could not be read or written",
            )],
            Self::Kafka(_) => vec![ErrorDetail::new(
                codes::INTERNAL,
                "The write could not be published; nothing was written",
            )],
            Self::NotStored(_) => vec![ErrorDetail::new(
                codes::INTERNAL,
                "The persister did not store the record (see its dead-letter topic)",
            )],
            Self::Mdms(_) => vec![ErrorDetail::new(
                codes::RESOURCE_ACCESS,
                "Master data (tenants) could not be read",
            )],
        }
    }
}
