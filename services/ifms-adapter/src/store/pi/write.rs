//! Writes: the payment lock, a new PI with everything under it, its changes, status logs.

use super::Pi;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;

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
