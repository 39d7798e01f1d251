//! The crate's error type and its DIGIT rendering.

use digit_core::error::codes as core_codes;
use digit_core::{DigitError, ErrorDetail};

/// Error codes this crate emits.
pub mod codes {
    /// `MdmsCriteria` missing from the `_search` body (Spring bean-validation code).
    pub const NOT_NULL_CRITERIA: &str = "NotNull.mdmsCriteriaReq.mdmsCriteria";
    /// `MdmsCriteria.tenantId` missing or blank.
    pub const NOT_NULL_TENANT_ID: &str = "NotNull.mdmsCriteriaReq.mdmsCriteria.tenantId";
    /// `MdmsCriteria.moduleDetails` missing. Nested fields use the same prefix with their
    /// path, e.g. `NotNull.mdmsCriteriaReq.mdmsCriteria.moduleDetails[0].moduleName`.
    pub const NOT_NULL_MODULE_DETAILS: &str = "NotNull.mdmsCriteriaReq.mdmsCriteria.moduleDetails";
    /// `tenantId` missing from a boundary-service `boundary-relationships/_search` (Spring
    /// bean-validation code of its `BoundaryRelationshipSearchCriteria`).
    pub const NOT_NULL_BOUNDARY_TENANT_ID: &str =
        "NotNull.boundaryRelationshipSearchCriteria.tenantId";
    /// A required query parameter of `_get` (or of egov-location's boundary search) is
    /// missing (upstream tracer: empty code, `params` = the parameter name).
    pub const MISSING_REQUEST_PARAMETER: &str = "";
    /// A master's `filter` is not a valid JSONPath or cannot be evaluated.
    pub const INVALID_FILTER: &str = "INVALID_FILTER";
    /// The criteria exceed the request bounds.
    pub const CRITERIA_TOO_LARGE: &str = "MDMS_CRITERIA_TOO_LARGE";
    /// The remote MDMS could not be reached or answered garbage (tracer spelling).
    pub const RESOURCE_ACCESS: &str = digit_core::error::codes::RESOURCE_ACCESS;
}

/// Message of upstream's `ResourceAccessError` (sic).
const RESOURCE_ACCESS_MESSAGE: &str = "An error occurred while accessing a underlying resource";

/// Everything that can go wrong reading master data.
#[derive(Debug, thiserror::Error)]
pub enum MdmsError {
    /// The request's criteria are incomplete; one entry per missing field.
    #[error("invalid MDMS criteria: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidCriteria(Vec<ErrorDetail>),
    /// A required query parameter of `_get` (or of egov-location's boundary search) is missing.
    #[error("Required String parameter '{0}' is not present")]
    MissingParameter(&'static str),
    /// The criteria exceed a bound.
    #[error("{0}")]
    TooLarge(String),
    /// A master's filter is invalid.
    #[error("Invalid filter for {module}.{master}: {reason}")]
    InvalidFilter {
        /// Module of the master.
        module: String,
        /// Master the filter applies to.
        master: String,
        /// Why the filter failed.
        reason: String,
    },
    /// The remote MDMS answered, but not with an MDMS response.
    #[error("could not read master data from {url}: {reason}")]
    ResourceAccess {
        /// Endpoint called.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The call to the remote MDMS failed. A DIGIT error body it answered with is passed
    /// through (codes unchanged), as upstream's `ServiceCallException` does; anything else
    /// (unreachable, timeout, 5xx, garbage) renders as a `ResourceAccessError`.
    #[error("remote MDMS: {0}")]
    Remote(#[from] digit_http::HttpError),
    /// Master data files could not be loaded (start-up).
    #[error("cannot load master data from {path}: {reason}")]
    Load {
        /// File or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Invalid configuration (e.g. a malformed `EGOV_MDMS_HOST`, or HTTP settings).
    #[error("invalid MDMS configuration: {0}")]
    Config(#[source] digit_http::HttpError),
}

impl DigitError for MdmsError {
    fn http_status(&self) -> u16 {
        match self {
            MdmsError::Load { .. } | MdmsError::Config(_) => 500,
            _ => 400,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            MdmsError::InvalidCriteria(errors) => errors.clone(),
            MdmsError::MissingParameter(name) => {
                vec![
                    ErrorDetail::new(codes::MISSING_REQUEST_PARAMETER, self.to_string())
                        .with_params(vec![(*name).to_string()]),
                ]
            }
            MdmsError::TooLarge(message) => {
                vec![ErrorDetail::new(codes::CRITERIA_TOO_LARGE, message.clone())]
            }
            MdmsError::InvalidFilter { .. } => {
                vec![ErrorDetail::new(codes::INVALID_FILTER, self.to_string())]
            }
            MdmsError::ResourceAccess { reason, .. } => {
                vec![
                    ErrorDetail::new(codes::RESOURCE_ACCESS, RESOURCE_ACCESS_MESSAGE)
                        .with_description(reason.clone()),
                ]
            }
            MdmsError::Remote(e) if !e.errors().is_empty() => e.errors().to_vec(),
            MdmsError::Remote(e) => {
                vec![
                    ErrorDetail::new(codes::RESOURCE_ACCESS, RESOURCE_ACCESS_MESSAGE)
                        .with_description(digit_core::infra::chain(e)),
                ]
            }
            MdmsError::Load { .. } | MdmsError::Config(_) => vec![ErrorDetail::new(
                core_codes::INTERNAL,
                "An unhandled exception occurred on the server",
            )],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_renders_its_code() {
        let cases: Vec<(MdmsError, u16, &str)> = vec![
            (
                MdmsError::InvalidCriteria(vec![ErrorDetail::new(codes::NOT_NULL_TENANT_ID, "m")]),
                400,
                codes::NOT_NULL_TENANT_ID,
            ),
            (
                MdmsError::MissingParameter("tenantId"),
                400,
                codes::MISSING_REQUEST_PARAMETER,
            ),
            (
                MdmsError::TooLarge("x".into()),
                400,
                codes::CRITERIA_TOO_LARGE,
            ),
            (
                MdmsError::InvalidFilter {
                    module: "m".into(),
                    master: "x".into(),
                    reason: "bad".into(),
                },
                400,
                codes::INVALID_FILTER,
            ),
            (
                MdmsError::ResourceAccess {
                    url: "http://x".into(),
                    reason: "refused".into(),
                },
                400,
                "ResourceAccessError",
            ),
            (
                MdmsError::Remote(digit_http::HttpError::Status {
                    target: "mdms".into(),
                    url: "http://x".into(),
                    status: 400,
                    errors: vec![ErrorDetail::new("UPSTREAM", "m")],
                    body: String::new(),
                }),
                400,
                "UPSTREAM",
            ),
            (
                MdmsError::Remote(digit_http::HttpError::Status {
                    target: "mdms".into(),
                    url: "http://x".into(),
                    status: 502,
                    errors: vec![],
                    body: "bad gateway".into(),
                }),
                400,
                "ResourceAccessError",
            ),
            (
                MdmsError::Load {
                    path: "p".into(),
                    reason: "r".into(),
                },
                500,
                core_codes::INTERNAL,
            ),
            (
                MdmsError::Config(digit_http::HttpError::Config {
                    target: "mdms".into(),
                    reason: "c".into(),
                    source: None,
                }),
                500,
                core_codes::INTERNAL,
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.http_status(), status, "{e}");
            assert_eq!(e.errors()[0].code, code, "{e}");
        }
        let missing = MdmsError::MissingParameter("tenantId").errors();
        assert_eq!(missing[0].params, Some(vec!["tenantId".to_string()]));
        assert_eq!(
            missing[0].message,
            "Required String parameter 'tenantId' is not present"
        );
    }
}
