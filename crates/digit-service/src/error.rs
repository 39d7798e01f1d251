//! The one place where errors become HTTP responses in the DIGIT envelope.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use digit_core::error::codes;
use digit_core::{DigitError, ErrorDetail, ErrorResponse};

/// An error on its way to the client: an HTTP status and the `Errors[]` entries.
///
/// Every crate's error enum implements [`DigitError`]; `?` converts it into `ApiError`
/// through the blanket `From`, so handlers return `Result<_, ApiError>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status (400 for validation, as upstream).
    pub status: StatusCode,
    /// The errors to render.
    pub errors: Vec<ErrorDetail>,
}

impl ApiError {
    /// An error with this status and these entries.
    pub fn new(status: StatusCode, errors: Vec<ErrorDetail>) -> Self {
        Self { status, errors }
    }

    /// HTTP 400 with one error.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            vec![ErrorDetail::new(code, message)],
        )
    }

    /// HTTP 401 with the body the DIGIT UI reacts to by logging out (upstream-platform §7.2).
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            vec![
                ErrorDetail::new(codes::INVALID_ACCESS_TOKEN, codes::INVALID_ACCESS_TOKEN)
                    .with_description(
                        "Invalid access token or access token expired for the request",
                    ),
            ],
        )
    }

    /// HTTP 403: authenticated but not allowed.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            vec![ErrorDetail::new(
                codes::UNAUTHORIZED_ACCESS,
                "Not authorized to access this resource",
            )],
        )
    }

    /// HTTP 500 for an unexpected failure. The cause is logged, never sent to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "Internal error.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![ErrorDetail::new(
                codes::INTERNAL,
                "An unhandled exception occurred on the server",
            )],
        )
    }

    /// The response body.
    pub fn body(&self) -> ErrorResponse {
        ErrorResponse::new(self.errors.clone())
    }
}

impl<E: DigitError> From<E> for ApiError {
    fn from(e: E) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        if status.is_server_error() {
            tracing::error!(error = %e, "Request failed.");
        }
        Self::new(status, e.errors())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        (self.status, axum::Json(body)).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self.errors.first().map(|e| e.code.as_str()).unwrap_or("");
        write!(f, "{} {}", self.status, first)
    }
}
