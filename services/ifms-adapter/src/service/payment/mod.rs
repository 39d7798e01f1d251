//! The payment path (spec A1.0.1, A1.6, A1.8, A1.9 PA): MUKTA's expense payments become
//! PIs on the same machinery as disbursements — `POST /pi/v1/_create` (`referenceId`
//! retry, `parentPI` revision, `payment`), the consumer of `expense-payment-create`, and PA,
//! which makes payments for approved bills.
//!
//! Fixes (C.1): a new original PI is refused while any PI of the payment is not FAILED —
//! COMPLETED included, so a payment paid through corrections is never paid again (item
//! 19); the `payment` body and a redelivered message are checked the same way (a message
//! seen again creates nothing); an unknown payee fails the PI with the reason instead of
//! fake details (item 30); every later status change of the PI moves the expense payment
//! (item 26); null payments and bodies are rules with codes, not exceptions (item 18).

pub mod build;
pub mod consumer;
pub mod pa;
pub mod revise;

use crate::domain::codes;
use crate::domain::status::PiStatus;
use crate::error::IfmsError;
use crate::service::{AdapterService, Caller};
use crate::store::pi::{self as store, Pi};
use digit_outbox::OutboxMessage;
use serde::Deserialize;
use serde_json::{json, Value};

/// How a payment reached the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `{tenantId, referenceId}`: a retry from the UI.
    Retry,
    /// `{payment}` over HTTP.
    Direct,
    /// `expense-payment-create`: a redelivery answers the PI already made.
    Message,
}

/// The body of `/pi/v1/_create` (A1.6).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PaymentRequest {
    /// Tenant (with `referenceId` or `parentPI`).
    #[serde(rename = "tenantId", default)]
    pub tenant_id: Option<String>,
    /// A payment number to (re)try.
    #[serde(rename = "referenceId", default)]
    pub reference_id: Option<String>,
    /// A PI to revise.
    #[serde(rename = "parentPI", default)]
    pub parent_pi: Option<String>,
    /// A payment (mukta's `Payment`: `tenantId`, `paymentNumber`, `bills`, …), kept as JSON.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub payment: Option<Value>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AdapterService {
    /// `/pi/v1/_create` dispatch (A1.6): the PI made (or found).
    pub async fn pi_create(
        &self,
        caller: &Caller,
        request: PaymentRequest,
    ) -> Result<Value, IfmsError> {
        let pi = match (
            text(&request.tenant_id),
            text(&request.reference_id),
            text(&request.parent_pi),
        ) {
            (Some(tenant), Some(reference), _) => {
                self.authorize(caller, tenant).await?;
                let payment = self
                    .mukta
                    .payment(tenant, reference)
                    .await?
                    .ok_or_else(|| IfmsError::rule(codes::PAYMENT_NOT_FIND_ERROR))?;
                self.pay(caller, &payment, Source::Retry).await?
            }
            (Some(tenant), None, Some(parent)) => {
                self.authorize(caller, tenant).await?;
                self.revise(caller, tenant, parent).await?
            }
            _ => match request.payment.filter(Value::is_object) {
                Some(payment) => self.pay(caller, &payment, Source::Direct).await?,
                None => return Err(IfmsError::rule(codes::PI_REQUEST_INVALID_PARAMS)),
            },
        };
        self.revealed(&pi)
    }

    /// The PI as answered (accounts decrypted).
    pub(crate) fn revealed(&self, pi: &Pi) -> Result<Value, IfmsError> {
        let mut wire = pi.to_wire();
        for (b, row) in wire
            .beneficiary_details
            .iter_mut()
            .flatten()
            .zip(&pi.beneficiaries)
        {
            b.bank_account_id = match row.bankaccountcode {
                Some(_) => Some(self.account_of(row).map(|(a, i)| format!("{a}@{i}"))?),
                None => None,
            };
        }
        Ok(serde_json::to_value(wire)?)
    }

    /// The PI of a payment that blocks a new original one: any PI that is not FAILED.
    pub(crate) async fn blocking_pi(
        &self,
        tenant: &str,
        reference: &str,
    ) -> Result<Option<Pi>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        let pis = store::of_payment(&mut conn, tenant, reference).await?;
        let Some(row) = pis.into_iter().find(|p| p.status() != PiStatus::Failed) else {
            return Ok(None);
        };
        Ok(store::load(&mut conn, &[row.id], false).await?.pop())
    }

    /// `expense/payment/v1/_update` with the PI's status on the payment, its bills, bill
    /// details and (the PI's) line items, through the outbox; `None` for a PI not made
    /// from an expense payment.
    pub fn payment_update(
        &self,
        caller: &Caller,
        pi: &Pi,
    ) -> Result<Option<OutboxMessage>, IfmsError> {
        let Some(mut payment) = pi
            .row
            .disbursement
            .as_ref()
            .and_then(|j| j.0.get("payment").cloned())
        else {
            return Ok(None);
        };
        let status = match pi.row.status() {
            PiStatus::Failed => "FAILED",
            PiStatus::Successful => "SUCCESSFUL",
            PiStatus::Partial => "PARTIAL",
            // A later PI of the chain speaks for the payment.
            PiStatus::Completed => return Ok(None),
            PiStatus::Initiated | PiStatus::Approved | PiStatus::InProcess => "INITIATED",
        };
        let reference = match pi.row.status() {
            PiStatus::Failed => pi
                .row
                .pierrorresp
                .as_deref()
                .filter(|e| e.starts_with("PAYMENT_"))
                .map_or("PAYMENT_FAILED", |e| {
                    e.split_whitespace().next().unwrap_or("PAYMENT_FAILED")
                })
                .to_owned(),
            _ => format!("PAYMENT_{status}"),
        };
        let lines: Vec<&str> = pi
            .beneficiaries
            .iter()
            .flat_map(|b| b.line_items.iter().map(|(_, l)| l.as_str()))
            .collect();
        payment["status"] = json!(status);
        payment["referenceStatus"] = json!(reference);
        for bill in payment
            .get_mut("bills")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            bill["status"] = json!(status);
            for detail in bill
                .get_mut("billDetails")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                detail["status"] = json!(status);
                for item in detail
                    .get_mut("payableLineItems")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let id = item
                        .get("lineItemId")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if lines.contains(&id) {
                        item["status"] = json!(status);
                    }
                }
            }
        }
        let url = self.mukta.expense_url("expense/payment/v1/_update");
        let mut message =
            OutboxMessage::http_json("POST", url, &json!({"RequestInfo": {}, "payment": payment}))?
                .with_source(crate::service::callbacks::OUTBOX_SOURCE)
                .with_correlation_id(&caller.correlation_id);
        if let Some(token) = &self.settings.program_token {
            message = message.with_header("Authorization", format!("Bearer {token}"));
        }
        Ok(Some(message))
    }
}
