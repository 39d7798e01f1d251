//! Sanctions, their funds summaries and allotments (spec A1.4, A1.5) — and the only code
//! that changes a balance. Every change is a relative `UPDATE` written in the transaction of
//! the row that explains it (an allotment, a DEBIT or a REVERSAL), so that for every sanction
//! `allottedamount = Σ allotments` and `availableamount = allotted − Σ debits + Σ reversals`
//! (C.1 items 1, 3), and concurrent debits can never overspend: the guard
//! `availableamount >= amount` is evaluated on the row as locked by the `UPDATE`.

use rust_decimal::Decimal;
use sqlx::PgConnection;

/// A sanction to create (an Initial Allotment).
#[derive(Debug, Clone)]
pub struct NewSanction<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Head of account.
    pub hoa_code: &'a str,
    /// DDO.
    pub ddo_code: &'a str,
    /// Master allotment.
    pub master_allotment_id: &'a str,
    /// Sanctioned amount.
    pub sanctioned_amount: Decimal,
    /// `YYYY-YY`.
    pub financial_year: &'a str,
    /// Program.
    pub program_code: Option<&'a str>,
    /// Who and when.
    pub by: &'a str,
    /// When.
    pub now: i64,
}

/// Creates a sanction with a zero funds summary; `false` when its master allotment already
/// has one (nothing written).
pub async fn insert_sanction(
    conn: &mut PgConnection,
    s: &NewSanction<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO jit_sanction_details (id, tenantid, hoacode, ddocode, masterallotmentid,
            sanctionedamount, financialyear, additionaldetails, programcode,
            createdtime, createdby, lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, $7, '{}'::jsonb, $8, $9, $10, $9, $10)
         ON CONFLICT ON CONSTRAINT jit_sanction_master_unique DO NOTHING",
    )
    .bind(s.id)
    .bind(s.tenant_id)
    .bind(s.hoa_code)
    .bind(s.ddo_code)
    .bind(s.master_allotment_id)
    .bind(s.sanctioned_amount)
    .bind(s.financial_year)
    .bind(s.program_code)
    .bind(s.now)
    .bind(s.by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query(
            "INSERT INTO jit_funds_summary (id, tenantid, sanctionid, allottedamount,
                availableamount, additionaldetails, createdtime, createdby, lastmodifiedtime, lastmodifiedby)
             VALUES ($1, $2, $3, 0, 0, '{}'::jsonb, $4, $5, $4, $5)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(s.tenant_id)
        .bind(s.id)
        .bind(s.now)
        .bind(s.by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(inserted)
}

/// An allotment to record.
#[derive(Debug, Clone)]
pub struct NewAllotment<'a> {
    /// Id.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Its sanction.
    pub sanction_id: &'a str,
    /// JIT serial number.
    pub serial_no: i32,
    /// JIT `ssuAllotmentId` (the idempotency key).
    pub ssu_allotment_id: &'a str,
    /// Amount.
    pub amount: Decimal,
    /// JIT's transaction type text.
    pub transaction_type: &'a str,
    /// JIT's `availableBalance`.
    pub sanction_balance: Option<Decimal>,
    /// Allotment date (epoch ms).
    pub date: Option<i64>,
    /// Program.
    pub program_code: Option<&'a str>,
    /// +amount, or −amount for a withdrawal.
    pub delta: Decimal,
    /// Who.
    pub by: &'a str,
    /// When.
    pub now: i64,
}

/// Records an allotment and applies it to its sanction's balances; `false` when it was
/// already applied (nothing changes).
pub async fn apply_allotment(
    conn: &mut PgConnection,
    a: &NewAllotment<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO jit_allotment_details (id, tenantid, sanctionid, allotmentserialno,
            ssuallotmentid, allotmentamount, allotmenttransactiontype, sanctionbalance,
            allotmentdate, additionaldetails, programcode, createdtime, createdby,
            lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}'::jsonb, $10, $11, $12, $11, $12)
         ON CONFLICT ON CONSTRAINT jit_allotment_unique DO NOTHING",
    )
    .bind(a.id)
    .bind(a.tenant_id)
    .bind(a.sanction_id)
    .bind(a.serial_no)
    .bind(a.ssu_allotment_id)
    .bind(a.amount)
    .bind(a.transaction_type)
    .bind(a.sanction_balance)
    .bind(a.date)
    .bind(a.program_code)
    .bind(a.now)
    .bind(a.by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query(
            "UPDATE jit_funds_summary SET allottedamount = allottedamount + $1,
                availableamount = availableamount + $1, lastmodifiedtime = $3, lastmodifiedby = $4
             WHERE sanctionid = $2",
        )
        .bind(a.delta)
        .bind(a.sanction_id)
        .bind(a.now)
        .bind(a.by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(inserted)
}

/// Takes `amount` from a sanction's available funds and writes the PI's DEBIT row, in the
/// caller's transaction; `false` (nothing written) when the funds do not cover it.
pub async fn debit(
    conn: &mut PgConnection,
    tenant_id: &str,
    sanction_id: &str,
    pi_id: &str,
    amount: Decimal,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let taken = debit_guard(conn, tenant_id, sanction_id, amount, by, now).await?;
    if taken {
        debit_record(conn, tenant_id, sanction_id, pi_id, amount, by, now).await?;
    }
    Ok(taken)
}

/// The guarded relative update of a debit (`false`: the funds do not cover `amount`). The
/// caller writes its DEBIT row ([`debit_record`]) in the same transaction.
pub async fn debit_guard(
    conn: &mut PgConnection,
    tenant_id: &str,
    sanction_id: &str,
    amount: Decimal,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE jit_funds_summary SET availableamount = availableamount - $1,
            lastmodifiedtime = $4, lastmodifiedby = $5
         WHERE tenantid = $2 AND sanctionid = $3 AND availableamount >= $1",
    )
    .bind(amount)
    .bind(tenant_id)
    .bind(sanction_id)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The DEBIT row of a guarded debit.
pub async fn debit_record(
    conn: &mut PgConnection,
    tenant_id: &str,
    sanction_id: &str,
    pi_id: &str,
    amount: Decimal,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    insert_transaction(
        conn,
        tenant_id,
        sanction_id,
        pi_id,
        amount,
        "DEBIT",
        by,
        now,
    )
    .await
}

/// Gives a PI's debit back (a REVERSAL row and the credit), once: `None` when the PI has no
/// debit or was reversed already.
pub async fn reverse(
    conn: &mut PgConnection,
    pi_id: &str,
    by: &str,
    now: i64,
) -> Result<Option<Decimal>, sqlx::Error> {
    let debit: Option<(String, String, Decimal)> = sqlx::query_as(
        "SELECT tenantid, sanctionid, transactionamount FROM jit_transaction_details
         WHERE paymentinstid = $1 AND transactiontype = 'DEBIT'",
    )
    .bind(pi_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((tenant_id, sanction_id, amount)) = debit else {
        return Ok(None);
    };
    let inserted = sqlx::query(
        "INSERT INTO jit_transaction_details (id, tenantid, sanctionid, paymentinstid,
            transactionamount, transactiondate, transactiontype, additionaldetails,
            createdtime, createdby, lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, 'REVERSAL', '{}'::jsonb, $6, $7, $6, $7)
         ON CONFLICT ON CONSTRAINT jit_transaction_once DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&tenant_id)
    .bind(&sanction_id)
    .bind(pi_id)
    .bind(amount)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE jit_funds_summary SET availableamount = availableamount + $1,
            lastmodifiedtime = $3, lastmodifiedby = $4 WHERE sanctionid = $2",
    )
    .bind(amount)
    .bind(&sanction_id)
    .bind(now)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(Some(amount))
}

#[allow(clippy::too_many_arguments)]
async fn insert_transaction(
    conn: &mut PgConnection,
    tenant_id: &str,
    sanction_id: &str,
    pi_id: &str,
    amount: Decimal,
    kind: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jit_transaction_details (id, tenantid, sanctionid, paymentinstid,
            transactionamount, transactiondate, transactiontype, additionaldetails,
            createdtime, createdby, lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, $7, '{}'::jsonb, $6, $8, $6, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(tenant_id)
    .bind(sanction_id)
    .bind(pi_id)
    .bind(amount)
    .bind(now)
    .bind(kind)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}
