//! Filestore errors and their one mapping to the DIGIT envelope.

use digit_core::{DigitError, ErrorDetail};

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum FilestoreError {
    /// A refused request (HTTP 400): code, message.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// No such file for the tenant (HTTP 404).
    #[error("file not found: {0}")]
    NotFound(String),
    /// The metadata table.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The storage (disk or bucket).
    #[error("storage: {0}")]
    Storage(String),
}

/// `EG_FILESTORE_NOT_FOUND`.
pub const NOT_FOUND: &str = "EG_FILESTORE_NOT_FOUND";

impl DigitError for FilestoreError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(..) => 400,
            Self::NotFound(_) => 404,
            Self::Database(_) | Self::Storage(_) => 500,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid(code, message) => vec![ErrorDetail::new(*code, message.clone())],
            Self::NotFound(id) => vec![ErrorDetail::new(
                NOT_FOUND,
                format!("No file found with fileStoreId {id}"),
            )],
            Self::Database(_) | Self::Storage(_) => vec![ErrorDetail::new(
                digit_core::error::codes::INTERNAL,
                "The file could not be stored or read",
            )],
        }
    }
}
