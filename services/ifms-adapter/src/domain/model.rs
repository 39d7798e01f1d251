//! The adapter's own wire models (spec A1.5), as `/pi/v1/_search` and `/funds/v1/_search`
//! serve them: camelCase, `null`s left out of payment instructions (`NON_NULL`), kept in
//! sanctions and allotments (which upstream serialises with nulls). Amounts are exact.

use crate::domain::status::{BeneficiaryStatus, PiStatus};
use digit_core::{AuditDetails, Money};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A sanction (`SanctionDetail`): one master allotment of a head of account to a DDO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SanctionDetail {
    /// Id.
    pub id: String,
    /// ULB tenant.
    pub tenant_id: String,
    /// Head of account.
    pub hoa_code: String,
    /// DDO (drawing and disbursing officer) code.
    pub ddo_code: String,
    /// The iFIX program of the SSU.
    pub program_code: Option<String>,
    /// JIT `mstAllotmentDistId`.
    pub master_allotment_id: String,
    /// Sanctioned amount (initial allotment + JIT's unallotted balance).
    pub sanctioned_amount: Money,
    /// `YYYY-YY`, April–March.
    pub financial_year: Option<String>,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Balances.
    pub funds_summary: Option<FundsSummary>,
    /// The allotments applied to it, in serial order.
    pub allotment_details: Vec<Allotment>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// A sanction's balances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundsSummary {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Its sanction.
    pub sanction_id: String,
    /// Σ initial + additional − withdrawals.
    pub allotted_amount: Money,
    /// Allotted − PI debits + reversals.
    pub available_amount: Money,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// An allotment as stored (upstream's `Allotment`, whose VA-only fields are null when read
/// back; `allotmentTxnType` holds the stored transaction type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allotment {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Program.
    pub program_code: Option<String>,
    /// Its sanction.
    pub sanction_id: String,
    /// Free-form.
    pub additional_details: Option<Value>,
    /// JIT `allotmentTxnSlNo`.
    pub allotment_serial_no: i32,
    /// Amount.
    pub decimal_allotted_amount: Money,
    /// JIT's unallotted sanction balance after it.
    pub decimal_sanction_balance: Option<Money>,
    /// Allotment date, epoch ms (00:00 India time).
    pub allotment_date_time_stamp: Option<i64>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
    /// VA field (null when read back).
    pub ddo_code: Option<String>,
    /// VA field.
    pub scheme_code: Option<String>,
    /// VA field.
    pub scheme_name: Option<String>,
    /// VA field.
    pub grantee_ag_code: Option<String>,
    /// VA field.
    pub grantee_name: Option<String>,
    /// VA field.
    pub ssu_id: Option<String>,
    /// VA field.
    pub ssu_office: Option<String>,
    /// VA field.
    pub allotment_date: Option<String>,
    /// VA field.
    pub allotment_txn_sl_no: Option<String>,
    /// VA field.
    pub allotment_amount: Option<String>,
    /// VA field.
    pub available_balance: Option<String>,
    /// The transaction type (`Initial Allotment`, …).
    pub allotment_txn_type: Option<String>,
    /// VA field.
    pub mst_allotment_dist_id: Option<String>,
    /// JIT `ssuAllotmentId`.
    pub ssu_allotment_id: Option<String>,
}

/// A payment instruction (`PaymentInstruction`, `NON_NULL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInstruction {
    /// Id (the iFIX disbursement id on the disbursement path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_code: Option<String>,
    /// The PI this one revises (`""` for originals in the index copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_pi_number: Option<String>,
    /// The payment number (iFIX `target_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mukta_reference_id: Option<String>,
    /// Number of beneficiaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_beneficiaries: Option<i32>,
    /// Gross.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_amount: Option<Money>,
    /// Net.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_amount: Option<Money>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_status: Option<PiStatus>,
    /// JIT `successCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_success_code: Option<String>,
    /// JIT `sucessDescrp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_success_desc: Option<String>,
    /// PIS `pmtInstId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_approved_id: Option<String>,
    /// PIS `payInstDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_approval_date: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_error_resp: Option<String>,
    /// `hoaCode`, `mstAllotmentId`, … (A1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Value>,
    /// Audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
    /// Active (false once it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// The PI number (column `piNumber`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jit_bill_no: Option<String>,
    /// Debits and reversals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_details: Option<Vec<TransactionDetails>>,
    /// The payment advice (one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_details: Option<Vec<PaDetails>>,
    /// Status logs, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_status_logs: Option<Vec<PiStatusLog>>,
    /// Beneficiaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_details: Option<Vec<Beneficiary>>,
    /// `ORIGINAL` / `REVISED` (set on the index copy, A2.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_type: Option<String>,
}

/// A debit or reversal of a sanction's funds for a PI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDetails {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Sanction.
    pub sanction_id: String,
    /// PI.
    pub payment_inst_id: String,
    /// Amount.
    pub transaction_amount: Money,
    /// When (epoch ms; upstream left it null on debits).
    pub transaction_date: i64,
    /// `DEBIT` or `REVERSAL`.
    pub transaction_type: String,
    /// Free-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Value>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
}

/// The payment advice of a PI (filled by PAG; revised PIs by FTPS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaDetails {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Payment number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mukta_reference_id: Option<String>,
    /// PI.
    pub pi_id: String,
    /// PAG `onlineBillRefNo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_bill_ref_number: Option<String>,
    /// PAG `finYear`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_fin_year: Option<String>,
    /// PAG `adviceId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_advice_id: Option<String>,
    /// PAG `adviceDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_advice_date: Option<String>,
    /// PAG `tokenNumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_token_number: Option<String>,
    /// PAG `tokenDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_token_date: Option<String>,
    /// Error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa_error_msg: Option<String>,
    /// Free-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Value>,
    /// Audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

/// A beneficiary of a PI: its stored fields and the transient JIT fields (A1.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Beneficiary {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Payment number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mukta_reference_id: Option<String>,
    /// PI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pi_id: Option<String>,
    /// Individual / organisation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_id: Option<String>,
    /// `IND`, `ORG` or `DEPT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_type: Option<String>,
    /// The JIT `benefId` (idgen `ifms.benef.reference.number`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_number: Option<String>,
    /// `"<account>@<IFSC>"` (column `bankAccountCode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_account_id: Option<String>,
    /// Amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// PD `voucherNo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voucher_number: Option<String>,
    /// PD `voucherDate`, epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voucher_date: Option<i64>,
    /// UTR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utr_no: Option<String>,
    /// UTR date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utr_date: Option<String>,
    /// End-to-end id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// FD challan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challan_number: Option<String>,
    /// FD challan date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challan_date: Option<String>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<BeneficiaryStatus>,
    /// JIT's text (failure reason, RBI status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_status_message: Option<String>,
    /// Free-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Value>,
    /// The disbursement lines it pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benf_line_items: Option<Vec<BenfLineItem>>,
    /// Audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

/// A line item a beneficiary pays (the iFIX child `target_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenfLineItem {
    /// Id.
    pub id: String,
    /// Beneficiary row id.
    pub beneficiary_id: String,
    /// Line item id.
    pub line_item_id: String,
    /// Audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

/// One JIT interaction about a PI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PiStatusLog {
    /// Id.
    pub id: String,
    /// PI.
    pub pi_id: String,
    /// JIT service (`PI`, `PIS`, …).
    pub service_id: String,
    /// `STATUS_LOG_<SVC>_<OUTCOME>`.
    pub status: String,
    /// The JIT error or answer summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<Value>,
    /// Audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}
