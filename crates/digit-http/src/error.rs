//! What can go wrong calling another service, with the cause kept as `source`.

use digit_core::ErrorDetail;
use std::time::Duration;

/// Boxed cause of a configuration error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An outbound call that failed. Every variant names the `target` (the metric label, e.g.
/// `mdms`) and keeps the underlying error as its [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The client or a URL could not be built (a configuration error, never a default
    /// client in its place).
    #[error("{target}: invalid HTTP client configuration: {reason}")]
    Config {
        /// Target.
        target: String,
        /// What is wrong.
        reason: String,
        /// The cause.
        #[source]
        source: Option<BoxError>,
    },
    /// The request body could not be serialised.
    #[error("{target}: cannot encode the request to {url}")]
    Encode {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// No connection could be opened (nothing was sent).
    #[error("{target}: cannot connect to {url}")]
    Connect {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The configured timeout elapsed before the whole answer arrived.
    #[error("{target}: {url} did not answer within {timeout:?}")]
    Timeout {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// The bound that applied.
        timeout: Duration,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The connection failed after the request was (possibly) sent: reset, closed early,
    /// malformed HTTP.
    #[error("{target}: exchange with {url} failed")]
    Transport {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with a non-2xx status. `errors` holds its DIGIT `Errors[]`
    /// (`{"ResponseInfo":…, "Errors":[{code, message, description, params}]}`), empty when
    /// the body was something else; `body` the start of the raw body for logs.
    #[error("{target}: {url} answered HTTP {status}{}", describe(.errors))]
    Status {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The DIGIT errors of the body, codes unchanged.
        errors: Vec<ErrorDetail>,
        /// The first bytes of the body (lossy UTF-8).
        body: String,
    },
    /// A 2xx answer that is not the expected JSON.
    #[error("{target}: the answer of {url} (HTTP {status}) is not the expected JSON")]
    Decode {
        /// Target.
        target: String,
        /// URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

fn describe(errors: &[ErrorDetail]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", digit_core::error::describe(errors))
    }
}

impl HttpError {
    /// The HTTP status of a [`HttpError::Status`] or [`HttpError::Decode`] answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } | Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The DIGIT errors the service answered with (empty unless [`HttpError::Status`]).
    pub fn errors(&self) -> &[ErrorDetail] {
        match self {
            Self::Status { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The DIGIT error codes the service answered with.
    pub fn codes(&self) -> Vec<&str> {
        self.errors().iter().map(|e| e.code.as_str()).collect()
    }

    /// A 4xx answer carrying DIGIT errors: the other service rejected the request (a
    /// validation failure to pass on), rather than failed.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::Status { status, errors, .. } if (400..500).contains(status) && !errors.is_empty())
    }

    /// Whether this was a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// The metric `outcome` label.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Self::Config { .. } | Self::Encode { .. } => "config",
            Self::Connect { .. } => "connect",
            Self::Timeout { .. } => "timeout",
            Self::Transport { .. } => "transport",
            Self::Status { status, .. } if *status >= 500 => "server_error",
            Self::Status { .. } => "client_error",
            Self::Decode { .. } => "decode",
        }
    }
}
