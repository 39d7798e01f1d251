//! Payment instructions: the PI row with its payment advice, beneficiaries (and their line
//! items), transactions and status logs (spec A2.5). Reads load a page of PI ids first and
//! then their children, so a page never truncates a PI (C.1 item 7).

use crate::domain::model::{
    Beneficiary, BenfLineItem, PaDetails, PaymentInstruction, PiStatusLog, TransactionDetails,
};
use crate::domain::status::{BeneficiaryStatus, PiStatus};
use crate::error::IfmsError;
use digit_core::{AuditDetails, Money};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// `ORIGINAL` or `REVISED`.
pub const ORIGINAL: &str = "ORIGINAL";
/// A correction PI.
pub const REVISED: &str = "REVISED";

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
struct TransactionRow {
    id: String,
    tenantid: String,
    sanctionid: String,
    paymentinstid: String,
    transactionamount: Decimal,
    transactiondate: i64,
    transactiontype: String,
    additionaldetails: Option<Json<Value>>,
    #[sqlx(flatten)]
    audit: Audit,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct LogRow {
    id: String,
    piid: String,
    serviceid: String,
    status: String,
    additionaldetails: Option<Json<Value>>,
    #[sqlx(flatten)]
    audit: Audit,
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
    transactions: Vec<TransactionRow>,
    logs: Vec<LogRow>,
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

/// Serialises work on one payment (all PIs of a payment are decided under this lock, held
/// until the transaction ends).
pub async fn lock_payment(
    conn: &mut PgConnection,
    tenant_id: &str,
    reference: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('jit-payment:' || $1 || '/' || $2, 0))",
    )
    .bind(tenant_id)
    .bind(reference)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new PI with its payment advice, beneficiaries and line items.
pub async fn insert(conn: &mut PgConnection, pi: &Pi) -> Result<(), sqlx::Error> {
    let r = &pi.row;
    sqlx::query(
        "INSERT INTO jit_payment_inst_details (id, tenantid, pinumber, parentpinumber,
            muktareferenceid, numbeneficiaries, grossamount, netamount, pistatus, pisuccesscode,
            pisuccessdesc, piapprovedid, piapprovaldate, pierrorresp, additionaldetails, isactive,
            programcode, pitype, originalpiid, previouspiid, sanctionid, hoacode, ddocode, ssuiaid,
            jitbilldate, jitposted, disbursement, jitrequest, createdtime, createdby,
            lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)",
    )
    .bind(&r.id)
    .bind(&r.tenantid)
    .bind(&r.pinumber)
    .bind(&r.parentpinumber)
    .bind(&r.muktareferenceid)
    .bind(r.numbeneficiaries)
    .bind(r.grossamount)
    .bind(r.netamount)
    .bind(&r.pistatus)
    .bind(&r.pisuccesscode)
    .bind(&r.pisuccessdesc)
    .bind(&r.piapprovedid)
    .bind(&r.piapprovaldate)
    .bind(&r.pierrorresp)
    .bind(&r.additionaldetails)
    .bind(r.isactive)
    .bind(&r.programcode)
    .bind(&r.pitype)
    .bind(&r.originalpiid)
    .bind(&r.previouspiid)
    .bind(&r.sanctionid)
    .bind(&r.hoacode)
    .bind(&r.ddocode)
    .bind(&r.ssuiaid)
    .bind(&r.jitbilldate)
    .bind(r.jitposted)
    .bind(&r.disbursement)
    .bind(&r.jitrequest)
    .bind(r.audit.createdtime)
    .bind(&r.audit.createdby)
    .bind(r.audit.lastmodifiedtime)
    .bind(&r.audit.lastmodifiedby)
    .execute(&mut *conn)
    .await?;
    if let Some(pa) = &pi.pa {
        sqlx::query(
            "INSERT INTO jit_payment_advice_details (id, tenantid, muktareferenceid, piid,
                additionaldetails, createdtime, createdby, lastmodifiedtime, lastmodifiedby)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&pa.id)
        .bind(&pa.tenantid)
        .bind(&pa.muktareferenceid)
        .bind(&pa.piid)
        .bind(&pa.additionaldetails)
        .bind(pa.audit.createdtime)
        .bind(&pa.audit.createdby)
        .bind(pa.audit.lastmodifiedtime)
        .bind(&pa.audit.lastmodifiedby)
        .execute(&mut *conn)
        .await?;
    }
    for b in &pi.beneficiaries {
        sqlx::query(
            "INSERT INTO jit_beneficiary_details (id, tenantid, muktareferenceid, piid,
                beneficiaryid, beneficiarytype, beneficiarynumber, bankaccountcode, amount,
                paymentstatus, paymentstatusmessage, additionaldetails,
                createdtime, createdby, lastmodifiedtime, lastmodifiedby)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&b.id)
        .bind(&b.tenantid)
        .bind(&b.muktareferenceid)
        .bind(&b.piid)
        .bind(&b.beneficiaryid)
        .bind(&b.beneficiarytype)
        .bind(&b.beneficiarynumber)
        .bind(&b.bankaccountcode)
        .bind(b.amount)
        .bind(&b.paymentstatus)
        .bind(&b.paymentstatusmessage)
        .bind(&b.additionaldetails)
        .bind(b.audit.createdtime)
        .bind(&b.audit.createdby)
        .bind(b.audit.lastmodifiedtime)
        .bind(&b.audit.lastmodifiedby)
        .execute(&mut *conn)
        .await?;
        for (id, line) in &b.line_items {
            sqlx::query(
                "INSERT INTO jit_beneficiary_lineitems (id, beneficiaryid, lineitemid,
                    createdtime, createdby, lastmodifiedtime, lastmodifiedby)
                 VALUES ($1, $2, $3, $4, $5, $4, $5)",
            )
            .bind(id)
            .bind(&b.id)
            .bind(line)
            .bind(b.audit.createdtime)
            .bind(&b.audit.createdby)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Writes a PI's changeable fields, its payment advice and its beneficiaries' payment fields.
pub async fn update(conn: &mut PgConnection, pi: &Pi) -> Result<(), sqlx::Error> {
    let r = &pi.row;
    sqlx::query(
        "UPDATE jit_payment_inst_details SET pistatus = $2, pisuccesscode = $3, pisuccessdesc = $4,
            piapprovedid = $5, piapprovaldate = $6, pierrorresp = $7, additionaldetails = $8,
            isactive = $9, jitposted = $10, lastmodifiedtime = $11, lastmodifiedby = $12
         WHERE id = $1",
    )
    .bind(&r.id)
    .bind(&r.pistatus)
    .bind(&r.pisuccesscode)
    .bind(&r.pisuccessdesc)
    .bind(&r.piapprovedid)
    .bind(&r.piapprovaldate)
    .bind(&r.pierrorresp)
    .bind(&r.additionaldetails)
    .bind(r.isactive)
    .bind(r.jitposted)
    .bind(r.audit.lastmodifiedtime)
    .bind(&r.audit.lastmodifiedby)
    .execute(&mut *conn)
    .await?;
    if let Some(pa) = &pi.pa {
        sqlx::query(
            "UPDATE jit_payment_advice_details SET pabillrefnumber = $2, pafinyear = $3,
                paadviceid = $4, paadvicedate = $5, patokennumber = $6, patokendate = $7,
                paerrormsg = $8, lastmodifiedtime = $9, lastmodifiedby = $10
             WHERE id = $1",
        )
        .bind(&pa.id)
        .bind(&pa.pabillrefnumber)
        .bind(&pa.pafinyear)
        .bind(&pa.paadviceid)
        .bind(&pa.paadvicedate)
        .bind(&pa.patokennumber)
        .bind(&pa.patokendate)
        .bind(&pa.paerrormsg)
        .bind(r.audit.lastmodifiedtime)
        .bind(&r.audit.lastmodifiedby)
        .execute(&mut *conn)
        .await?;
    }
    for b in &pi.beneficiaries {
        sqlx::query(
            "UPDATE jit_beneficiary_details SET vouchernumber = $2, voucherdate = $3, utrno = $4,
                utrdate = $5, endtoendid = $6, challannumber = $7, challandate = $8,
                paymentstatus = $9, paymentstatusmessage = $10, lastmodifiedtime = $11,
                lastmodifiedby = $12
             WHERE id = $1",
        )
        .bind(&b.id)
        .bind(&b.vouchernumber)
        .bind(b.voucherdate)
        .bind(&b.utrno)
        .bind(&b.utrdate)
        .bind(&b.endtoendid)
        .bind(&b.challannumber)
        .bind(&b.challandate)
        .bind(&b.paymentstatus)
        .bind(&b.paymentstatusmessage)
        .bind(b.audit.lastmodifiedtime)
        .bind(&b.audit.lastmodifiedby)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records a JIT interaction about a PI.
pub async fn log(
    conn: &mut PgConnection,
    pi_id: &str,
    service: &str,
    status: &str,
    details: Option<Value>,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jit_pi_status_logs (id, piid, serviceid, status, additionaldetails,
            createdtime, createdby, lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(pi_id)
    .bind(service)
    .bind(status)
    .bind(details.map(Json))
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The PIs of a payment, newest first.
pub async fn of_payment(
    conn: &mut PgConnection,
    tenant_id: &str,
    reference: &str,
) -> Result<Vec<PiRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM jit_payment_inst_details WHERE tenantid = $1 AND muktareferenceid = $2
         ORDER BY createdtime DESC, id DESC",
    )
    .bind(tenant_id)
    .bind(reference)
    .fetch_all(conn)
    .await
}

/// PIs with everything under them, in the order of `ids`. `lock` takes their rows
/// `FOR UPDATE` (pollers change them in the same transaction).
pub async fn load(
    conn: &mut PgConnection,
    ids: &[String],
    lock: bool,
) -> Result<Vec<Pi>, IfmsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = if lock {
        "SELECT * FROM jit_payment_inst_details WHERE id = ANY($1) FOR UPDATE"
    } else {
        "SELECT * FROM jit_payment_inst_details WHERE id = ANY($1)"
    };
    let rows: Vec<PiRow> = sqlx::query_as(sql).bind(ids).fetch_all(&mut *conn).await?;
    let pas: Vec<PaRow> =
        sqlx::query_as("SELECT * FROM jit_payment_advice_details WHERE piid = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?;
    let mut bens: Vec<BeneficiaryRow> = sqlx::query_as(
        "SELECT * FROM jit_beneficiary_details WHERE piid = ANY($1) ORDER BY createdtime, beneficiarynumber",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let ben_ids: Vec<String> = bens.iter().map(|b| b.id.clone()).collect();
    let lines: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, beneficiaryid, lineitemid FROM jit_beneficiary_lineitems
         WHERE beneficiaryid = ANY($1) ORDER BY createdtime, id",
    )
    .bind(&ben_ids)
    .fetch_all(&mut *conn)
    .await?;
    for (id, ben, line) in lines {
        if let Some(b) = bens.iter_mut().find(|b| b.id == ben) {
            b.line_items.push((id, line));
        }
    }
    let txs: Vec<TransactionRow> = sqlx::query_as(
        "SELECT * FROM jit_transaction_details WHERE paymentinstid = ANY($1) ORDER BY createdtime, id",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let logs: Vec<LogRow> = sqlx::query_as(
        "SELECT * FROM jit_pi_status_logs WHERE piid = ANY($1) ORDER BY createdtime DESC, id",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for id in ids {
        let Some(row) = rows.iter().find(|r| &r.id == id).cloned() else {
            continue;
        };
        out.push(Pi {
            pa: pas.iter().find(|p| &p.piid == id).cloned(),
            beneficiaries: bens.iter().filter(|b| &b.piid == id).cloned().collect(),
            transactions: txs
                .iter()
                .filter(|t| &t.paymentinstid == id)
                .cloned()
                .collect(),
            logs: logs.iter().filter(|l| &l.piid == id).cloned().collect(),
            row,
        });
    }
    Ok(out)
}

/// One PI by number in a tenant.
pub async fn by_number(
    conn: &mut PgConnection,
    tenant_id: Option<&str>,
    number: &str,
) -> Result<Option<PiRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM jit_payment_inst_details WHERE pinumber = $1 AND ($2::text IS NULL OR tenantid = $2)
         ORDER BY createdtime DESC LIMIT 1",
    )
    .bind(number)
    .bind(tenant_id)
    .fetch_optional(conn)
    .await
}

/// Ids of the PIs a poller works on: `statuses`, of one type, posted (or not), oldest first.
pub async fn to_poll(
    conn: &mut PgConnection,
    statuses: &[PiStatus],
    pi_type: &str,
    posted: bool,
    created_before: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let codes: Vec<&str> = statuses.iter().map(|s| s.code()).collect();
    sqlx::query_scalar(
        "SELECT id FROM jit_payment_inst_details
         WHERE pistatus = ANY($1) AND pitype = $2 AND jitposted = $3 AND createdtime <= $4
         ORDER BY createdtime, id LIMIT $5",
    )
    .bind(&codes)
    .bind(pi_type)
    .bind(posted)
    .bind(created_before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// `/pi/v1/_search` criteria (A2.1).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PiCriteria {
    /// Ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Status (code or upstream text).
    #[serde(default)]
    pub pi_status: Option<String>,
    /// Payment number.
    #[serde(default)]
    pub mukta_reference_id: Option<String>,
    /// PI number.
    #[serde(default)]
    pub pi_number: Option<String>,
    /// Parent PI number.
    #[serde(default)]
    pub parent_pi_number: Option<String>,
    /// Active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// `ORIGINAL` / `REVISED`.
    #[serde(default)]
    pub pi_type: Option<String>,
    /// PI numbers.
    #[serde(default)]
    pub pi_numbers: Option<Vec<String>>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// `lastModifiedTime` or `createdTime`.
    #[serde(default)]
    pub sort_by: Option<String>,
    /// `ASC` / `DESC`.
    #[serde(default)]
    pub sort_order: Option<String>,
}

impl PiCriteria {
    /// Upstream requires one of ids, piNumber, muktaReferenceId, piStatus, tenantId.
    pub fn is_empty(&self) -> bool {
        self.ids.as_ref().is_none_or(Vec::is_empty)
            && [
                &self.pi_number,
                &self.mukta_reference_id,
                &self.pi_status,
                &self.tenant_id,
            ]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// A page of PIs matching `c` (ids first, then their children).
pub async fn search(
    conn: &mut PgConnection,
    c: &PiCriteria,
    default_limit: i64,
    max_limit: i64,
) -> Result<Vec<Pi>, IfmsError> {
    let mut q: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("SELECT id FROM jit_payment_inst_details WHERE TRUE");
    let some = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(ids) = c.ids.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(numbers) = c.pi_numbers.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND pinumber = ANY(")
            .push_bind(numbers.clone())
            .push(")");
    }
    if let Some(t) = some(&c.tenant_id) {
        q.push(" AND tenantid = ").push_bind(t);
    }
    if let Some(s) = some(&c.pi_status) {
        let code = PiStatus::parse(&s).map_or(s, |p| p.code().to_owned());
        q.push(" AND pistatus = ").push_bind(code);
    }
    if let Some(v) = some(&c.mukta_reference_id) {
        q.push(" AND muktareferenceid = ").push_bind(v);
    }
    if let Some(v) = some(&c.pi_number) {
        q.push(" AND pinumber = ").push_bind(v);
    }
    if let Some(v) = some(&c.parent_pi_number) {
        q.push(" AND parentpinumber = ").push_bind(v);
    }
    if let Some(active) = c.is_active {
        q.push(" AND isactive = ").push_bind(active);
    }
    // Parenthesised (C.1 item 6): the type filter never bypasses the others.
    match some(&c.pi_type).map(|t| t.to_ascii_uppercase()).as_deref() {
        Some(ORIGINAL) => {
            q.push(" AND pitype = 'ORIGINAL'");
        }
        Some(REVISED) => {
            q.push(" AND pitype = 'REVISED'");
        }
        _ => {}
    }
    let column = match c.sort_by.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("lastModifiedTime") => "lastmodifiedtime",
        _ => "createdtime",
    };
    let asc = c
        .sort_order
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("ASC"));
    q.push(format_args!(
        " ORDER BY {column} {}, id",
        if asc { "ASC" } else { "DESC" }
    ));
    let limit = c
        .limit
        .filter(|l| *l > 0)
        .unwrap_or(default_limit)
        .min(max_limit);
    q.push(" LIMIT ").push_bind(limit);
    q.push(" OFFSET ").push_bind(c.offset.unwrap_or(0).max(0));
    let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *conn).await?;
    load(conn, &ids, false).await
}

/// The amount as JIT wants it: two decimals (`"500.00"`).
pub fn jit_amount(amount: Decimal) -> String {
    let mut a =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    a.rescale(2);
    a.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jit_amounts_have_two_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(jit_amount(d("500")), "500.00");
        assert_eq!(jit_amount(d("1500.0")), "1500.00");
        assert_eq!(jit_amount(d("0.125")), "0.13");
    }
}
