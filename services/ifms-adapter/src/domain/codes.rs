//! The adapter's error codes (spec A2.8), each with upstream's message where upstream has
//! one. A [`Rule`] is answered HTTP 400 in the DIGIT envelope, as upstream's
//! `CustomException`.

/// A code and its message.
pub type Code = (&'static str, &'static str);

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The code.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

/// The rule of a catalogue entry.
pub fn rule(code: Code) -> Rule {
    Rule {
        code: code.0,
        message: code.1.to_owned(),
    }
}

/// A catalogue code with a message of its own.
pub fn rule_with(code: Code, message: impl Into<String>) -> Rule {
    Rule {
        code: code.0,
        message: message.into(),
    }
}

/// Sender and receiver are the same.
pub const INVALID_SENDER_RECEIVER_ID: Code = (
    "INVALID_SENDER_RECEIVER_ID",
    "Sender id and receiver id should not be same.",
);
/// The program is not the SSU's.
pub const INVALID_PROGRAM_CODE: Code = (
    "INVALID_PROGRAM_CODE",
    "Program code is not valid for the location.",
);
/// No sanction, or an unknown one.
pub const INVALID_SANCTION_ID: Code = ("INVALID_SANCTION_ID", "Sanction id is invalid.");
/// No lines.
pub const INVALID_CHILD_DISBURSEMENTS: Code = (
    "INVALID_CHILD_DISBURSEMENTS",
    "Child disbursements should not be empty.",
);
/// Net ≠ gross, or the lines do not add up.
pub const INVALID_AMOUNT: Code = (
    "INVALID_AMOUNT",
    "Net amount and gross amount should be equal, positive and equal to the sum of the children.",
);
/// No status.
pub const INVALID_STATUS: Code = ("INVALID_STATUS", "Status should not be null.");
/// No status code.
pub const INVALID_STATUS_CODE: Code = ("INVALID_STATUS_CODE", "Status code should not be null.");
/// No account code (or not `account@IFSC`).
pub const INVALID_ACCOUNT_CODE: Code = (
    "INVALID_ACCOUNT_CODE",
    "Account code should be <account number>@<IFSC>.",
);
/// No payee.
pub const INVALID_INDIVIDUAL: Code = ("INVALID_INDIVIDUAL", "Individual should not be null.");
/// No payee name.
pub const INVALID_NAME: Code = ("INVALID_NAME", "Individual name should not be empty.");
/// No payee phone.
pub const INVALID_PHONE: Code = ("INVALID_PHONE", "Individual phone should not be empty.");
/// No payee address.
pub const INVALID_ADDRESS: Code = ("INVALID_ADDRESS", "Individual address should not be empty.");
/// No payment number (ours: upstream stores a PI without one).
pub const INVALID_TARGET_ID: Code = (
    "INVALID_TARGET_ID",
    "Target id (the payment number) should not be empty.",
);
/// No tenant (ours: upstream fails later with a null pointer).
pub const INVALID_LOCATION_CODE: Code = (
    "INVALID_LOCATION_CODE",
    "Location code should not be empty.",
);
/// The sanction cannot pay the disbursement.
pub const FUND_NOT_AVAILABLE: Code = (
    "FUND_NOT_AVAILABLE",
    "Fund not available for the disbursement.",
);
/// A PI of the payment is in flight.
pub const PI_ALREADY_EXISTS: Code = (
    "PI_ALREADY_EXISTS",
    "Payment instruction already exists for the payment.",
);
/// The sanction's head of account is not in MDMS.
pub const HOA_NOT_FOUND: Code = ("HOA_NOT_FOUND", "Head of account not found.");
/// A revised disbursement names a line that is not a failed payment of the last PI.
pub const ERROR_REVISED_PI: Code = (
    "ERROR_REVISED_PI",
    "Revised payment instruction could not be created.",
);
/// PI search without criteria.
pub const SEARCH_CRITERIA_MANDATORY: Code = (
    "SEARCH_CRITERIA_MANDATORY",
    "At least one search criteria is mandatory.",
);
/// A scheduler run of an unknown service id (upstream: HTTP 500).
pub const INVALID_SERVICE_ID: Code = ("INVALID_SERVICE_ID", "Service id is not valid.");
/// A body that is not the expected request.
pub const PARSING_ERROR: Code = ("PARSING_ERROR", "The request could not be parsed.");
/// idgen failed (upstream's code has a space).
pub const IDGEN_ERROR: Code = ("IDGEN ERROR", "Error while generating ids.");
/// The payment already has a PI that is not FAILED (C.1 item 19: COMPLETED included).
pub const PI_DUPLICATE_ERROR: Code = (
    "PI_DUPLICATE_ERROR",
    "PI is already created for Payment Advice",
);
/// The expense service has no such payment.
pub const PAYMENT_NOT_FIND_ERROR: Code = ("PAYMENT_NOT_FIND_ERROR", "Payment not found");
/// A revised PI cannot be made for this PI.
pub const REVISED_PI_GEN_ERROR: Code = (
    "REVISED_PI_GEN_ERROR",
    "Revised PI can not be generated for this PI",
);
/// `/pi/v1/_create` without `referenceId`, `parentPI` or `payment` (with `tenantId`).
pub const PI_REQUEST_INVALID_PARAMS: Code = (
    "PI_REQUEST_INVALID_PARAMS",
    "Either tenantId with referenceId or parentPI, or payment is required",
);
