//! The rows of a payment instruction and the aggregate [`Pi`], with its wire form.

use crate::domain::model::{
    Beneficiary, BenfLineItem, PaDetails, PaymentInstruction, PiStatusLog, TransactionDetails,
};
use crate::domain::status::{BeneficiaryStatus, PiStatus};
use digit_core::{AuditDetails, Money};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;

use super::REVISED;

/// Audit columns.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Audit {
    /// Creator.
    pub createdby: Option<String>,
    /// Created (ms).
    pub createdtime: i64,
    /// Last modifier.
    pub lastmodifiedby: Option<String>,
    /// Last modified (ms).
    pub lastmodifiedtime: i64,
}

impl Audit {
    /// A new record's audit.
    pub fn new(by: &str, now: i64) -> Self {
        Self {
            createdby: Some(by.to_owned()),
            createdtime: now,
            lastmodifiedby: Some(by.to_owned()),
            lastmodifiedtime: now,
        }
    }

    /// Touched by `by` at `now`.
    pub fn touch(&mut self, by: &str, now: i64) {
        self.lastmodifiedby = Some(by.to_owned());
        self.lastmodifiedtime = now;
    }

    fn wire(&self) -> AuditDetails {
        AuditDetails {
            created_by: self.createdby.clone(),
            last_modified_by: self.lastmodifiedby.clone(),
            created_time: Some(self.createdtime),
            last_modified_time: Some(self.lastmodifiedtime),
        }
    }
}

/// A `jit_payment_inst_details` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PiRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenantid: String,
    /// PI number.
    pub pinumber: String,
    /// Previous PI number (revised).
    pub parentpinumber: Option<String>,
    /// Payment number.
    pub muktareferenceid: String,
    /// Beneficiaries.
    pub numbeneficiaries: i32,
    /// Gross.
    pub grossamount: Decimal,
    /// Net.
    pub netamount: Decimal,
    /// Status code.
    pub pistatus: String,
    /// JIT success code.
    pub pisuccesscode: Option<String>,
    /// JIT success text.
    pub pisuccessdesc: Option<String>,
    /// PIS id.
    pub piapprovedid: Option<String>,
    /// PIS date.
    pub piapprovaldate: Option<String>,
    /// Failure text.
    pub pierrorresp: Option<String>,
    /// Additional details.
    pub additionaldetails: Option<Json<Value>>,
    /// Active.
    pub isactive: bool,
    /// Program.
    pub programcode: Option<String>,
    /// `ORIGINAL` / `REVISED`.
    pub pitype: String,
    /// The chain's original PI.
    pub originalpiid: Option<String>,
    /// The PI this one follows.
    pub previouspiid: Option<String>,
    /// Sanction debited.
    pub sanctionid: Option<String>,
    /// Head of account.
    pub hoacode: Option<String>,
    /// DDO.
    pub ddocode: Option<String>,
    /// SSU.
    pub ssuiaid: Option<String>,
    /// The `jitBillDate` sent.
    pub jitbilldate: String,
    /// JIT acknowledged it.
    pub jitposted: bool,
    /// The disbursement (header + message without PII).
    pub disbursement: Option<Json<Value>>,
    /// The JIT request as posted (encrypted).
    pub jitrequest: Option<String>,
    /// Audit.
    #[sqlx(flatten)]
    pub audit: Audit,
}

impl PiRow {
    /// The status.
    pub fn status(&self) -> PiStatus {
        PiStatus::parse(&self.pistatus).unwrap_or(PiStatus::Failed)
    }

    /// Sets the status.
    pub fn set_status(&mut self, s: PiStatus) {
        self.pistatus = s.code().to_owned();
        if s == PiStatus::Failed {
            self.isactive = false;
        }
    }

    /// Whether it is a correction PI.
    pub fn is_revised(&self) -> bool {
        self.pitype == REVISED
    }
}

/// A `jit_beneficiary_details` row with its line items.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BeneficiaryRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenantid: String,
    /// Payment number.
    pub muktareferenceid: Option<String>,
    /// PI.
    pub piid: String,
    /// Payee id.
    pub beneficiaryid: Option<String>,
    /// Payee type.
    pub beneficiarytype: Option<String>,
    /// JIT `benefId`.
    pub beneficiarynumber: String,
    /// `account@IFSC`.
    pub bankaccountcode: Option<String>,
    /// Amount.
    pub amount: Decimal,
    /// PD voucher.
    pub vouchernumber: Option<String>,
    /// PD voucher date (ms).
    pub voucherdate: Option<i64>,
    /// UTR.
    pub utrno: Option<String>,
    /// UTR date.
    pub utrdate: Option<String>,
    /// End-to-end id.
    pub endtoendid: Option<String>,
    /// FD challan.
    pub challannumber: Option<String>,
    /// FD challan date.
    pub challandate: Option<String>,
    /// Status code.
    pub paymentstatus: String,
    /// JIT's text.
    pub paymentstatusmessage: Option<String>,
    /// Additional details.
    pub additionaldetails: Option<Json<Value>>,
    /// Audit.
    #[sqlx(flatten)]
    pub audit: Audit,
    /// Line items `(id, lineitemid)`.
    #[sqlx(skip)]
    pub line_items: Vec<(String, String)>,
}

impl BeneficiaryRow {
    /// The status.
    pub fn status(&self) -> BeneficiaryStatus {
        BeneficiaryStatus::parse(&self.paymentstatus).unwrap_or(BeneficiaryStatus::Failed)
    }

    /// Sets the status.
    pub fn set_status(&mut self, s: BeneficiaryStatus) {
        self.paymentstatus = s.code().to_owned();
    }

    /// `(account, IFSC)` of its stored account code.
    pub fn account(&self) -> (String, String) {
        let code = self.bankaccountcode.as_deref().unwrap_or_default();
        let (a, i) = code.split_once('@').unwrap_or((code, ""));
        (a.to_owned(), i.to_owned())
    }
}

/// A `jit_payment_advice_details` row.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PaRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenantid: String,
    /// Payment number.
    pub muktareferenceid: Option<String>,
    /// PI.
    pub piid: String,
    /// PAG `onlineBillRefNo`.
    pub pabillrefnumber: Option<String>,
    /// PAG `finYear`.
    pub pafinyear: Option<String>,
    /// PAG advice id.
    pub paadviceid: Option<String>,
    /// PAG advice date.
    pub paadvicedate: Option<String>,
    /// PAG token.
    pub patokennumber: Option<String>,
    /// PAG token date.
    pub patokendate: Option<String>,
    /// Error.
    pub paerrormsg: Option<String>,
    /// Additional details.
    pub additionaldetails: Option<Json<Value>>,
    /// Audit.
    #[sqlx(flatten)]
    pub audit: Audit,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TransactionRow {
    pub(crate) id: String,
    pub(crate) tenantid: String,
    pub(crate) sanctionid: String,
    pub(crate) paymentinstid: String,
    pub(crate) transactionamount: Decimal,
    pub(crate) transactiondate: i64,
    pub(crate) transactiontype: String,
    pub(crate) additionaldetails: Option<Json<Value>>,
    #[sqlx(flatten)]
    pub(crate) audit: Audit,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LogRow {
    pub(crate) id: String,
    pub(crate) piid: String,
    pub(crate) serviceid: String,
    pub(crate) status: String,
    pub(crate) additionaldetails: Option<Json<Value>>,
    #[sqlx(flatten)]
    pub(crate) audit: Audit,
}

/// A PI with everything under it.
#[derive(Debug, Clone)]
pub struct Pi {
    /// The PI.
    pub row: PiRow,
    /// Its payment advice.
    pub pa: Option<PaRow>,
    /// Its beneficiaries.
    pub beneficiaries: Vec<BeneficiaryRow>,
    pub(crate) transactions: Vec<TransactionRow>,
    pub(crate) logs: Vec<LogRow>,
}

impl Pi {
    /// A new PI (not yet stored) with its empty payment advice.
    pub fn new(row: PiRow, beneficiaries: Vec<BeneficiaryRow>) -> Self {
        let pa = PaRow {
            id: uuid::Uuid::new_v4().to_string(),
            tenantid: row.tenantid.clone(),
            muktareferenceid: Some(row.muktareferenceid.clone()),
            piid: row.id.clone(),
            additionaldetails: Some(Json(Value::Object(Default::default()))),
            audit: row.audit.clone(),
            ..PaRow::default()
        };
        Self {
            row,
            pa: Some(pa),
            beneficiaries,
            transactions: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// The wire form (upstream's `PaymentInstruction`; logs newest first).
    pub fn to_wire(&self) -> PaymentInstruction {
        let r = &self.row;
        PaymentInstruction {
            id: Some(r.id.clone()),
            tenant_id: Some(r.tenantid.clone()),
            program_code: r.programcode.clone(),
            parent_pi_number: r.parentpinumber.clone(),
            mukta_reference_id: Some(r.muktareferenceid.clone()),
            num_beneficiaries: Some(r.numbeneficiaries),
            gross_amount: Some(Money(r.grossamount)),
            net_amount: Some(Money(r.netamount)),
            pi_status: Some(r.status()),
            pi_success_code: r.pisuccesscode.clone(),
            pi_success_desc: r.pisuccessdesc.clone(),
            pi_approved_id: r.piapprovedid.clone(),
            pi_approval_date: r.piapprovaldate.clone(),
            pi_error_resp: r.pierrorresp.clone(),
            additional_details: r.additionaldetails.as_ref().map(|j| j.0.clone()),
            audit_details: Some(r.audit.wire()),
            is_active: Some(r.isactive),
            jit_bill_no: Some(r.pinumber.clone()),
            transaction_details: Some(
                self.transactions
                    .iter()
                    .map(|t| TransactionDetails {
                        id: t.id.clone(),
                        tenant_id: t.tenantid.clone(),
                        sanction_id: t.sanctionid.clone(),
                        payment_inst_id: t.paymentinstid.clone(),
                        transaction_amount: Money(t.transactionamount),
                        transaction_date: t.transactiondate,
                        transaction_type: t.transactiontype.clone(),
                        additional_details: t.additionaldetails.as_ref().map(|j| j.0.clone()),
                        audit_details: Some(t.audit.wire()),
                    })
                    .collect(),
            ),
            pa_details: Some(
                self.pa
                    .iter()
                    .map(|p| PaDetails {
                        id: p.id.clone(),
                        tenant_id: p.tenantid.clone(),
                        mukta_reference_id: p.muktareferenceid.clone(),
                        pi_id: p.piid.clone(),
                        pa_bill_ref_number: p.pabillrefnumber.clone(),
                        pa_fin_year: p.pafinyear.clone(),
                        pa_advice_id: p.paadviceid.clone(),
                        pa_advice_date: p.paadvicedate.clone(),
                        pa_token_number: p.patokennumber.clone(),
                        pa_token_date: p.patokendate.clone(),
                        pa_error_msg: p.paerrormsg.clone(),
                        additional_details: p.additionaldetails.as_ref().map(|j| j.0.clone()),
                        audit_details: Some(p.audit.wire()),
                    })
                    .collect(),
            ),
            pi_status_logs: Some(
                self.logs
                    .iter()
                    .map(|l| PiStatusLog {
                        id: l.id.clone(),
                        pi_id: l.piid.clone(),
                        service_id: l.serviceid.clone(),
                        status: l.status.clone(),
                        additional_details: l.additionaldetails.as_ref().map(|j| j.0.clone()),
                        audit_details: Some(l.audit.wire()),
                    })
                    .collect(),
            ),
            beneficiary_details: Some(self.beneficiaries.iter().map(beneficiary_wire).collect()),
            pi_type: None,
        }
    }
}

fn beneficiary_wire(b: &BeneficiaryRow) -> Beneficiary {
    Beneficiary {
        id: Some(b.id.clone()),
        tenant_id: Some(b.tenantid.clone()),
        mukta_reference_id: b.muktareferenceid.clone(),
        pi_id: Some(b.piid.clone()),
        beneficiary_id: b.beneficiaryid.clone(),
        beneficiary_type: b.beneficiarytype.clone(),
        beneficiary_number: Some(b.beneficiarynumber.clone()),
        bank_account_id: b.bankaccountcode.clone(),
        amount: Some(Money(b.amount)),
        voucher_number: b.vouchernumber.clone(),
        voucher_date: b.voucherdate,
        utr_no: b.utrno.clone(),
        utr_date: b.utrdate.clone(),
        end_to_end_id: b.endtoendid.clone(),
        challan_number: b.challannumber.clone(),
        challan_date: b.challandate.clone(),
        payment_status: Some(b.status()),
        payment_status_message: b.paymentstatusmessage.clone(),
        additional_details: b.additionaldetails.as_ref().map(|j| j.0.clone()),
        benf_line_items: Some(
            b.line_items
                .iter()
                .map(|(id, line)| BenfLineItem {
                    id: id.clone(),
                    beneficiary_id: b.id.clone(),
                    line_item_id: line.clone(),
                    audit_details: Some(b.audit.wire()),
                })
                .collect(),
        ),
        audit_details: Some(b.audit.wire()),
    }
}
