//! SOR & rates errors, rendered in the DIGIT envelope (HTTP 400 for validation).

use digit_core::{DigitError, ErrorDetail};

/// Error codes.
pub mod codes {
    /// Tenant missing: every write item names its tenant (as do analysis requests).
    pub const INVALID_TENANT: &str = "INVALID_TENANT";
    /// Type not an active `WORKS-SOR.Type`.
    pub const INVALID_SOR_TYPE: &str = "INVALID_SOR_TYPE";
    /// Subtype missing (works), unknown, inactive or of another type.
    pub const INVALID_SOR_SUBTYPE: &str = "INVALID_SOR_SUBTYPE";
    /// Variant missing (works) or unknown.
    pub const INVALID_SOR_VARIANT: &str = "INVALID_SOR_VARIANT";
    /// Unit unknown.
    pub const INVALID_UOM: &str = "INVALID_UOM";
    /// Quantity not positive.
    pub const INVALID_UOM_VALUE: &str = "INVALID_UOM_VALUE";
    /// Description missing or too long.
    pub const INVALID_DESCRIPTION: &str = "INVALID_DESCRIPTION";
    /// A client-supplied sorNumber on create.
    pub const SOR_NUMBER_NOT_ALLOWED: &str = "SOR_NUMBER_NOT_ALLOWED";
    /// Same type, subtype, variant, unit and description exists.
    pub const DUPLICATE_SOR: &str = "DUPLICATE_SOR";
    /// Unknown SOR id.
    pub const SOR_NOT_FOUND: &str = "SOR_NOT_FOUND";
    /// An update touching fields other than description, status, additional details.
    pub const SOR_FIELD_IMMUTABLE: &str = "SOR_FIELD_IMMUTABLE";
    /// Rate for an inactive SOR.
    pub const SOR_INACTIVE: &str = "SOR_INACTIVE";
    /// Manual rate for a works SOR (rate analysis only).
    pub const WORKS_SOR_RATE: &str = "WORKS_SOR_RATE_NOT_ALLOWED";
    /// Missing validFrom.
    pub const VALID_FROM_REQUIRED: &str = "VALID_FROM_REQUIRED";
    /// validTo not after validFrom.
    pub const INVALID_VALIDITY: &str = "INVALID_VALIDITY";
    /// validFrom before the current rate's.
    pub const BACKDATED_RATE: &str = "BACKDATED_RATE";
    /// No amounts.
    pub const AMOUNT_DETAIL_REQUIRED: &str = "AMOUNT_DETAIL_REQUIRED";
    /// Head not in `WORKS-SOR.Overhead`.
    pub const INVALID_HEAD: &str = "INVALID_HEAD";
    /// Head twice in one rate.
    pub const DUPLICATE_HEAD: &str = "DUPLICATE_HEAD";
    /// Amount missing or negative.
    pub const INVALID_AMOUNT: &str = "INVALID_AMOUNT";
    /// Unknown rate id.
    pub const RATE_NOT_FOUND: &str = "RATE_NOT_FOUND";
    /// An update that changes nothing.
    pub const RATE_UNCHANGED: &str = "RATE_UNCHANGED";
    /// Reactivating a rate whose validity an active rate of the same SOR overlaps.
    pub const RATE_OVERLAP: &str = "RATE_OVERLAP";
    /// An update trying to move a rate's validity.
    pub const RATE_VALIDITY_IMMUTABLE: &str = "RATE_VALIDITY_IMMUTABLE";
    /// Search without tenant, bad paging.
    pub const INVALID_SEARCH: &str = "INVALID_SEARCH";
    /// A composition that cannot be used (not a works SOR, no items, bad quantities).
    pub const INVALID_COMPOSITION: &str = "INVALID_COMPOSITION";
    /// No composition for the SOR at the date.
    pub const SOR_COMPOSITION_NOT_FOUND: &str = "SOR_COMPOSITION_NOT_FOUND";
    /// A basic SOR without a rate at the date.
    pub const NO_RATES_FOUND: &str = "NO_RATES_FOUND";
    /// Deactivating an SOR an active composition uses.
    pub const SOR_IN_USE: &str = "SOR_IN_USE";
    /// A rate-analysis date before today.
    pub const EFFECTIVE_FROM_ERROR: &str = "EFFECTIVE_FROM_ERROR";
    /// Empty request list.
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
}

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum SorError {
    /// Validation (HTTP 400).
    #[error("{}", digit_core::error::describe(.0))]
    Invalid(Vec<ErrorDetail>),
    /// The caller holds no role granting the endpoint at a record's tenant (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Kafka (nothing acknowledged).
    #[error("kafka: {0}")]
    Kafka(String),
    /// MDMS or idgen.
    #[error("dependency: {0}")]
    Dependency(String),
}

impl SorError {
    /// One validation error.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ErrorDetail::new(code, message)])
    }

    /// First code.
    pub fn code(&self) -> String {
        self.errors()
            .first()
            .map(|e| e.code.clone())
            .unwrap_or_default()
    }
}

impl From<digit_mdms::MdmsError> for SorError {
    fn from(e: digit_mdms::MdmsError) -> Self {
        Self::Dependency(e.to_string())
    }
}

impl DigitError for SorError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Forbidden(_) => 403,
            Self::Database(_) | Self::Kafka(_) => 500,
            Self::Dependency(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid(e) => e.clone(),
            Self::Forbidden(_) => vec![ErrorDetail::new(
                digit_core::error::codes::UNAUTHORIZED_ACCESS,
                "Not authorized to access this resource",
            )],
            Self::Database(_) => vec![ErrorDetail::new(
                digit_core::error::codes::QUERY_EXECUTION,
                "Database operation failed",
            )],
            Self::Kafka(_) => vec![ErrorDetail::new(
                digit_core::error::codes::INTERNAL,
                "The change could not be published",
            )],
            Self::Dependency(_) => vec![ErrorDetail::new(
                digit_core::error::codes::RESOURCE_ACCESS,
                "A dependent service could not be reached",
            )],
        }
    }
}
