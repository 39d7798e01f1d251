//! The simulator's errors, rendered in the DIGIT tracer envelope
//! (`{"ResponseInfo": null, "Errors": [{code, message, description, params}]}`).
//!
//! Expense codes are upstream's (`backend/expense/.../web/validators/PaymentValidator.java`);
//! the search and admin codes are ours (upstream answers missing criteria with bean
//! validation messages that nobody matches on).

use digit_core::{DigitError, ErrorDetail};

/// Codes the simulator answers with.
pub mod codes {
    /// `payment.bills[]` names a bill twice.
    pub const DUPLICATE_BILLS: &str = "EG_PAYMENT_DUPLICATE_BILLS_ERROR";
    /// A bill of the payment is unknown in the tenant or not `ACTIVE`.
    pub const INVALID_BILLS: &str = "EG_PAYMENT_INVALID_BILLS_ERROR";
    /// `netPayableAmount`/`netPaidAmount` differ from the bills' pending amount — and the
    /// duplicate check: a bill that already has a (non-cancelled) payment has nothing
    /// pending, so a second payment for it always gets this code.
    pub const INVALID_PAYMENT: &str = "EG_PAYMENT_INVALID_PAYMENT_ERROR";
    /// Prefix: a bill's `totalPaidAmount` differs from its pending amount (`[i]` appended).
    pub const INVALID_BILL: &str = "EG_EXPENSE_PAYMENT_INVALID_BILL";
    /// Prefix: unknown bill detail (`[i]` appended).
    pub const INVALID_BILL_DETAIL: &str = "EG_EXPENSE_PAYMENT_INVALID_BILL_DETAIL";
    /// Prefix: bill-detail amounts differ from the pending amount (`[i]` appended).
    pub const BILLDETAIL_INVALID_AMOUNT: &str = "EG_EXPENSE_PAYMENT_BILLDETAIL_INVALID_AMOUNT";
    /// Prefix: unknown payable line item (`[i]` appended).
    pub const INVALID_LINEITEM: &str = "EG_EXPENSE_PAYMENT_INVALID_LINEITEM";
    /// Prefix: line-item paid amount differs from its pending amount (`[i]` appended).
    pub const LINEITEM_INVALID_AMOUNT: &str = "EG_EXPENSE_PAYMENT_LINEITEM_INVALID_AMOUNT";
    /// Update without id, or with an unknown id.
    pub const PAYMENT_UPDATE: &str = "EG_EXPENSE_PAYMENT_UPDATE_ERROR";
    /// Update without `payment.status`.
    pub const UPDATE_STATUS_NOTNULL: &str = "EG_PAYMENT_UPDATE_STATUS_NOTNULL";
    /// Update without `payment.referenceStatus`.
    pub const UPDATE_REFERENCE_STATUS_NOTNULL: &str = "EG_PAYMENT_UPDATE_REFERENCE_STATUS_NOTNULL";
    /// Update where a bill, bill detail or line item has no status.
    pub const UPDATE_NESTED_STATUS_NOTNULL: &str = "EG_EXPENSE_PAYMENT_UPDATE_STATUS_NOTNULL";
    /// A mandatory field of the request is missing (`payment`, `payment.tenantId`,
    /// `payment.bills` …). Ours.
    pub const INVALID_REQUEST: &str = "EG_EXPENSE_PAYMENT_INVALID_REQUEST";
    /// Search without its criteria object or without `tenantId`. Ours.
    pub const INVALID_SEARCH_CRITERIA: &str = digit_core::error::codes::INVALID_SEARCH_CRITERIA;
    /// Admin: no bank account with that `referenceId`. Ours.
    pub const BANK_ACCOUNT_NOT_FOUND: &str = "SIMULATOR_BANK_ACCOUNT_NOT_FOUND";
    /// Admin: a body that is not what the admin endpoint takes. Ours.
    pub const INVALID_ADMIN_REQUEST: &str = "SIMULATOR_INVALID_REQUEST";
    /// An `on-disburse` callback without `message.id`. Ours.
    pub const INVALID_DISBURSEMENT: &str = "SIMULATOR_INVALID_DISBURSEMENT";
    /// The payment could not be published to Kafka (HTTP 500; nothing was stored).
    pub const PUBLISH_FAILED: &str = "EG_EXPENSE_PAYMENT_PUBLISH_ERROR";
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Bad input (HTTP 400), one entry per problem found.
    #[error("{}", digit_core::error::describe(.0))]
    Invalid(Vec<ErrorDetail>),
    /// The broker refused or timed out (HTTP 500).
    #[error("cannot publish the payment: {0}")]
    Publish(String),
}

impl SimError {
    /// One 400 error.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ErrorDetail::new(code, message)])
    }
}

impl DigitError for SimError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Publish(_) => 500,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Publish(cause) => vec![ErrorDetail::new(
                codes::PUBLISH_FAILED,
                format!("The payment could not be published: {cause}"),
            )],
        }
    }
}
