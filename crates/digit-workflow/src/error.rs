//! The workflow's errors and their DIGIT rendering. Codes are upstream's, byte for byte —
//! several contain a space (`INVALID ACTION`), one pair differs only by it
//! (`INVALID ACTION` for an unknown action, `INVALID_ACTION` for a rating on a non-RATE
//! action).

use digit_core::{DigitError, ErrorDetail};

/// Error codes (constants so tests and clients can match them).
pub mod codes {
    /// No such action from the current state, or no action for a non-terminal state.
    pub const INVALID_ACTION: &str = "INVALID ACTION";
    /// A rating on an action other than RATE.
    pub const INVALID_ACTION_RATING: &str = "INVALID_ACTION";
    /// The requester lacks the action's roles.
    pub const INVALID_ROLE: &str = "INVALID ROLE";
    /// An assignee without a role that can act in the resultant state.
    pub const INVALID_ASSIGNEE: &str = "INVALID_ASSIGNEE";
    /// Documents required by the resultant state are missing.
    pub const INVALID_DOCUMENT: &str = "INVALID DOCUMENT";
    /// A citizen acting on an application assigned to another citizen.
    pub const INVALID_USER: &str = "INVALID_USER";
    /// An assignee uuid unknown to the user service.
    pub const INVALID_UUID: &str = "INVALID UUID";
    /// Business service missing (or ambiguous).
    pub const BUSINESSSERVICE_ERROR: &str = "BUSINESSSERVICE ERROR";
    /// An action's `nextState` names no state of the business service.
    pub const INVALID_NEXTSTATE: &str = "INVALID NEXTSTATE";
    /// Search without `tenantId`.
    pub const CRITERIA_ERROR: &str = "EG_WF_CRITERIA_ERR";
    /// v2 create of a business service that exists, update of one that does not, duplicates.
    pub const INVALID_BUSINESSSERVICE: &str = "INVALID BUSINESSSERVICE";
    /// Duplicate state names in one business service.
    pub const INVALID_STATE: &str = "INVALID STATE";
    /// v2 create without a requester uuid.
    pub const APP_ERROR: &str = "EG_Workflow_APP_ERR";
    /// A required field is missing (bean validation).
    pub const NOT_NULL: &str = "NotNull";
    /// A field is too long (bean validation).
    pub const SIZE: &str = "Size";
    /// Mandatory request fields missing.
    pub const INVALID_REQUEST: &str = "INVALID REQUEST";
    /// `_nearingslacount` without `businessService`.
    pub const NEARING_SLA_CRITERIA: &str = "EG_WF_BUSINESSSRV_ERR";
    /// Auto-escalation: business service not found.
    pub const BUSINESSSERVICE_NOT_FOUND: &str = "BUSINESSSERVICE_NOT_FOUND";
    /// Auto-escalation: configured state not found.
    pub const STATUS_NOT_FOUND: &str = "STATUS_NOT_FOUND";
    /// Auto-escalation config without any SLA.
    pub const INVALID_CONFIG: &str = "INVALID_CONFIG";
    /// Another transition of the same application was accepted after this one read the
    /// state (ours; upstream has the race instead).
    pub const CONCURRENT_TRANSITION: &str = "WORKFLOW_CONCURRENT_TRANSITION";
    /// The previous transition is not yet in the database and did not arrive in time (ours).
    pub const TRANSITION_PENDING: &str = "WORKFLOW_TRANSITION_PENDING";
    /// The user service or another dependency failed.
    pub const DEPENDENCY: &str = digit_core::error::codes::RESOURCE_ACCESS;
}

/// Everything that can go wrong in the workflow.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// A validation failure with upstream's code and message (HTTP 400). Several may be
    /// reported together, as upstream's CustomException map does.
    #[error("{}", digit_core::error::describe(.0))]
    Invalid(Vec<ErrorDetail>),
    /// Another transition won the race (HTTP 409).
    #[error("{message}")]
    Conflict {
        /// Message for the client.
        message: String,
    },
    /// The previous transition is not persisted yet (HTTP 503, retry).
    #[error("{message}")]
    Pending {
        /// Message for the client.
        message: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Kafka failed (message not acknowledged).
    #[error("kafka: {0}")]
    Kafka(String),
    /// The user service or another dependency failed.
    #[error("dependency: {0}")]
    Dependency(String),
    /// The remote egov-workflow-v2 could not be reached, failed, or is misconfigured (its
    /// rejections with DIGIT errors become [`WorkflowError::Invalid`] instead).
    #[error("egov-workflow-v2: {0}")]
    Remote(#[source] digit_http::HttpError),
}

impl WorkflowError {
    /// One validation error.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ErrorDetail::new(code, message)])
    }

    /// The first error code (for tests and logs).
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid(errors) => errors.first().map_or("", |e| e.code.as_str()),
            Self::Conflict { .. } => codes::CONCURRENT_TRANSITION,
            Self::Pending { .. } => codes::TRANSITION_PENDING,
            Self::Database(_) => digit_core::error::codes::QUERY_EXECUTION,
            Self::Kafka(_) | Self::Dependency(_) | Self::Remote(_) => codes::DEPENDENCY,
        }
    }
}

impl From<digit_http::HttpError> for WorkflowError {
    /// A rejection (4xx with DIGIT errors) passes its codes through; anything else is a
    /// failed dependency.
    fn from(e: digit_http::HttpError) -> Self {
        if e.is_rejection() {
            Self::Invalid(e.errors().to_vec())
        } else {
            Self::Remote(e)
        }
    }
}

impl From<digit_user::UserError> for WorkflowError {
    fn from(e: digit_user::UserError) -> Self {
        Self::Dependency(e.to_string())
    }
}

impl DigitError for WorkflowError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Conflict { .. } => 409,
            Self::Pending { .. } => 503,
            Self::Database(_) | Self::Kafka(_) => 500,
            Self::Dependency(_) | Self::Remote(_) => 502,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Conflict { message } => {
                vec![ErrorDetail::new(
                    codes::CONCURRENT_TRANSITION,
                    message.clone(),
                )]
            }
            Self::Pending { message } => {
                vec![ErrorDetail::new(codes::TRANSITION_PENDING, message.clone())]
            }
            Self::Database(_) => vec![ErrorDetail::new(
                digit_core::error::codes::QUERY_EXECUTION,
                "A database operation failed",
            )],
            Self::Kafka(_) => vec![ErrorDetail::new(
                digit_core::error::codes::INTERNAL,
                "The transition could not be published",
            )],
            Self::Dependency(_) | Self::Remote(_) => vec![ErrorDetail::new(
                codes::DEPENDENCY,
                "A dependent service could not be reached",
            )],
        }
    }
}
