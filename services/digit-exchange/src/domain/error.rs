//! What the HTTP edge refuses, and its one mapping to the DIGIT error envelope
//! (`{"ResponseInfo":null,"Errors":[{code,message,description,params}]}`).

use crate::security::SecurityError;
use digit_core::{DigitError, ErrorDetail};

/// `INVALID_EXCHANGE_TYPE`: the path names none of the fourteen types (HTTP 400).
pub const INVALID_EXCHANGE_TYPE: &str = "INVALID_EXCHANGE_TYPE";
/// `UNKNOWN_RECEIVER`: a local receiver whose service is not in `APP_RECEIVER_ENDPOINTS`,
/// or a receiver_id without an exchange URL (HTTP 400).
pub const UNKNOWN_RECEIVER: &str = "UNKNOWN_RECEIVER";
/// `EXCHANGE_UNAVAILABLE`: the message could not be queued (HTTP 503; nothing was queued).
pub const EXCHANGE_UNAVAILABLE: &str = "EXCHANGE_UNAVAILABLE";
/// The code of a failed delivery in an error reply's `status_message` (upstream's
/// spelling, §2.7).
pub const EXTERNAL_SERVICE_ERROR: &str = "EXTERANL_SERVICE_ERROR";

/// A refused request.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Unknown path type.
    #[error("unknown exchange type '{0}'")]
    InvalidType(String),
    /// The receiver cannot be routed.
    #[error("unknown receiver: {0}")]
    UnknownReceiver(String),
    /// A local sender without a valid token (HTTP 401, the body the DIGIT UI knows).
    #[error("a local sender must present a valid token")]
    Unauthenticated,
    /// A local sender whose token lacks the roles (HTTP 403).
    #[error("the caller may not send messages")]
    Forbidden,
    /// Signature, seal, replay, encryption (status of the security error).
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// The broker did not take the message.
    #[error("queueing failed: {0}")]
    Unavailable(String),
}

impl DigitError for ExchangeError {
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidType(_) | Self::UnknownReceiver(_) => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::Security(e) => e.http_status(),
            Self::Unavailable(_) => 503,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        use digit_core::error::codes;
        match self {
            Self::InvalidType(t) => vec![ErrorDetail::new(
                INVALID_EXCHANGE_TYPE,
                format!("Exchange type '{t}' is not valid"),
            )
            .with_description(
                "One of program, on-program, sanction, on-sanction, allocation, on-allocation, \
                 disburse, on-disburse, demand, on-demand, receipt, on-receipt, bill, on-bill",
            )],
            Self::UnknownReceiver(why) => vec![ErrorDetail::new(UNKNOWN_RECEIVER, why.clone())],
            Self::Unauthenticated => {
                vec![
                    ErrorDetail::new(codes::INVALID_ACCESS_TOKEN, codes::INVALID_ACCESS_TOKEN)
                        .with_description(
                            "Invalid access token or access token expired for the request",
                        ),
                ]
            }
            Self::Forbidden => vec![ErrorDetail::new(
                codes::UNAUTHORIZED_ACCESS,
                "Not authorized to access this resource",
            )],
            Self::Security(e) => e.errors(),
            Self::Unavailable(_) => vec![ErrorDetail::new(
                EXCHANGE_UNAVAILABLE,
                "The message could not be queued; nothing was accepted, send it again",
            )],
        }
    }
}
