//! The tracer error envelope (§1.4) and the trait every crate's error enum implements.
//!
//! Each crate keeps its own `thiserror` enum and says, through [`DigitError`], which HTTP
//! status and which DIGIT `Errors[]` entries it stands for. `digit-service` turns any
//! `DigitError` into the HTTP response in one place.

use serde::{Deserialize, Serialize};

/// One entry of `Errors[]`: `{code, message, description, params}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `INVALID ACTION`.
    pub code: String,
    /// Human-readable message (the UI reads this one).
    pub message: String,
    /// Optional longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// Optional parameters (e.g. the name of a missing query parameter).
    #[serde(default)]
    pub params: Option<Vec<String>>,
}

impl ErrorDetail {
    /// An error with code and message, no description or params.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            description: None,
            params: None,
        }
    }

    /// Adds a description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds params.
    #[must_use]
    pub fn with_params(mut self, params: Vec<String>) -> Self {
        self.params = Some(params);
        self
    }
}

/// `{"ResponseInfo": null, "Errors": [...]}` — the body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorResponse {
    /// Always `null` in tracer-generated errors.
    #[serde(rename = "ResponseInfo")]
    pub response_info: Option<crate::ResponseInfo>,
    /// The errors, in the order they were found.
    #[serde(rename = "Errors")]
    pub errors: Vec<ErrorDetail>,
}

impl ErrorResponse {
    /// The envelope around these errors.
    pub fn new(errors: Vec<ErrorDetail>) -> Self {
        Self {
            response_info: None,
            errors,
        }
    }
}

/// `code: message; code: message` — how an error enum's validation variant displays (logs).
pub fn describe(errors: &[ErrorDetail]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An error that knows its DIGIT rendering. Implemented by every crate's error enum.
pub trait DigitError: std::error::Error {
    /// HTTP status; upstream answers 400 for every handled error.
    fn http_status(&self) -> u16 {
        400
    }

    /// The `Errors[]` entries this error renders as.
    fn errors(&self) -> Vec<ErrorDetail>;
}

/// Error codes shared across services (upstream tracer and gateway spellings).
pub mod codes {
    /// Body is not JSON.
    pub const JSON_PARSE: &str = "JsonParseException";
    /// Body is JSON but a field has the wrong type.
    pub const JSON_MAPPING: &str = "JsonMappingException";
    /// Body missing or without the required envelope.
    pub const MISSING_JSON: &str = "MissingJsonException";
    /// Content type is not JSON.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UnsupportedMediaType";
    /// Missing, invalid, expired or wrongly signed token (401).
    pub const INVALID_ACCESS_TOKEN: &str = "InvalidAccessTokenException";
    /// Authenticated, but no role grants the action for the tenant (403).
    pub const UNAUTHORIZED_ACCESS: &str = "CustomException";
    /// A downstream service could not be reached.
    pub const RESOURCE_ACCESS: &str = "ResourceAccessError";
    /// A database operation failed.
    pub const QUERY_EXECUTION: &str = "QUERY_EXECUTION_ERROR";
    /// Unexpected server-side failure.
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    /// Tenant id not in the `a.b` segment format.
    pub const INVALID_TENANT_ID_FORMAT: &str = "INVALID_TENANT_ID_FORMAT";
    /// A query parameter could not be parsed.
    pub const INVALID_SEARCH_CRITERIA: &str = "INVALID_SEARCH_CRITERIA";
    /// The body exceeds the configured limit.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A text value holds the NUL character (`\u0000`), which no DIGIT store accepts.
    pub const INVALID_CHARACTER: &str = "INVALID_CHARACTER";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_has_the_tracer_shape() {
        let body = ErrorResponse::new(vec![ErrorDetail::new(
            "INVALID ACTION",
            "Action X not found",
        )]);
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"ResponseInfo": null, "Errors": [
                {"code": "INVALID ACTION", "message": "Action X not found", "description": null, "params": null}
            ]})
        );
    }

    #[test]
    fn envelope_reads_upstream_bodies_with_extra_fields() {
        let v = json!({"ResponseInfo": null, "Errors": [{"id": null, "code": "C", "message": "m", "parentId": null}]});
        let e: ErrorResponse = serde_json::from_value(v).unwrap();
        assert_eq!(e.errors[0].code, "C");
    }
}
