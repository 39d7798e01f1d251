//! Sanctions, their funds summaries and allotments (spec A1.4, A1.5) — and the only code
//! that changes a balance. Every change is a relative `UPDATE` written in the transaction of
//! the row that explains it (an allotment, a DEBIT or a REVERSAL), so that for every sanction
//! `allottedamount = Σ allotments` and `availableamount = allotted − Σ debits + Σ reversals`
//! (C.1 items 1, 3), and concurrent debits can never overspend: the guard
//! `availableamount >= amount` is evaluated on the row as locked by the `UPDATE`.

use crate::domain::model::{Allotment, FundsSummary, SanctionDetail};
use digit_core::{AuditDetails, Money};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};

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

/// The sanction of a master allotment, if known.
pub async fn sanction_of_master(
    conn: &mut PgConnection,
    tenant_id: &str,
    hoa_code: &str,
    ddo_code: &str,
    master_allotment_id: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, programcode FROM jit_sanction_details
         WHERE tenantid = $1 AND hoacode = $2 AND ddocode = $3 AND masterallotmentid = $4",
    )
    .bind(tenant_id)
    .bind(hoa_code)
    .bind(ddo_code)
    .bind(master_allotment_id)
    .fetch_optional(conn)
    .await
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

/// Keeps a VA item whose sanction is unknown (applied by a later run); `false` when kept
/// already.
#[allow(clippy::too_many_arguments)]
pub async fn keep_unmatched(
    conn: &mut PgConnection,
    tenant_id: &str,
    hoa_code: &str,
    ddo_code: &str,
    master_allotment_id: &str,
    ssu_allotment_id: &str,
    item: &Value,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO jit_unmatched_allotments (id, tenantid, hoacode, ddocode, masterallotmentid,
            ssuallotmentid, allotment, createdtime)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT ON CONSTRAINT jit_unmatched_unique DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(tenant_id)
    .bind(hoa_code)
    .bind(ddo_code)
    .bind(master_allotment_id)
    .bind(ssu_allotment_id)
    .bind(sqlx::types::Json(item))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// The kept items of a tenant × head × DDO whose sanction now exists (locked; removed with
/// [`drop_unmatched`] once applied).
pub async fn resolvable_unmatched(
    conn: &mut PgConnection,
    tenant_id: &str,
    hoa_code: &str,
    ddo_code: &str,
) -> Result<Vec<(String, Value)>, sqlx::Error> {
    let rows: Vec<(String, sqlx::types::Json<Value>)> = sqlx::query_as(
        "SELECT u.id, u.allotment FROM jit_unmatched_allotments u
         WHERE u.tenantid = $1 AND u.hoacode = $2 AND u.ddocode = $3
           AND EXISTS (SELECT 1 FROM jit_sanction_details s WHERE s.tenantid = u.tenantid
                AND s.hoacode = u.hoacode AND s.ddocode = u.ddocode
                AND s.masterallotmentid = u.masterallotmentid)
         ORDER BY u.createdtime, u.id FOR UPDATE",
    )
    .bind(tenant_id)
    .bind(hoa_code)
    .bind(ddo_code)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, v)| (id, v.0)).collect())
}

/// Removes an applied kept item.
pub async fn drop_unmatched(conn: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jit_unmatched_allotments WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The VA watermark of a tenant × head × DDO × grantee.
pub async fn va_watermark(
    conn: &mut PgConnection,
    tenant_id: &str,
    hoa_code: &str,
    ddo_code: &str,
    grantee_code: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT lastexecuted FROM jit_executed_va_logs
         WHERE tenantid = $1 AND hoacode = $2 AND ddocode = $3 AND granteecode = $4",
    )
    .bind(tenant_id)
    .bind(hoa_code)
    .bind(ddo_code)
    .bind(grantee_code)
    .fetch_optional(conn)
    .await
}

/// Moves the VA watermark forward to `at` (never backwards), in the transaction of the
/// allotments it covers.
pub async fn advance_va_watermark(
    conn: &mut PgConnection,
    key: (&str, &str, &str, &str),
    at: i64,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jit_executed_va_logs (id, tenantid, hoacode, ddocode, granteecode,
            lastexecuted, additionaldetails, createdtime, createdby, lastmodifiedtime, lastmodifiedby)
         VALUES ($1, $2, $3, $4, $5, $6, '{}'::jsonb, $7, $8, $7, $8)
         ON CONFLICT ON CONSTRAINT jit_va_log_unique DO UPDATE
            SET lastexecuted = GREATEST(jit_executed_va_logs.lastexecuted, EXCLUDED.lastexecuted),
                lastmodifiedtime = EXCLUDED.lastmodifiedtime, lastmodifiedby = EXCLUDED.lastmodifiedby",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(key.3)
    .bind(at)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
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
    let taken = sqlx::query(
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
        == 1;
    if taken {
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
        .await?;
    }
    Ok(taken)
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

/// `/funds/v1/_search` criteria (A2.1).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundsCriteria {
    /// Sanction ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Head of account.
    #[serde(default)]
    pub hoa_code: Option<String>,
    /// DDO.
    #[serde(default)]
    pub ddo_code: Option<String>,
    /// Master allotment.
    #[serde(default)]
    pub master_allotment_id: Option<String>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// `lastModifiedTime` (the only sort field).
    #[serde(default)]
    pub sort_by: Option<String>,
    /// `ASC` / `DESC`.
    #[serde(default)]
    pub sort_order: Option<String>,
}

impl FundsCriteria {
    /// Whether any criterion is given (upstream requires one).
    pub fn is_empty(&self) -> bool {
        self.ids.as_ref().is_none_or(Vec::is_empty)
            && [
                &self.tenant_id,
                &self.hoa_code,
                &self.ddo_code,
                &self.master_allotment_id,
            ]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

fn audit(r: &sqlx::postgres::PgRow) -> Result<AuditDetails, sqlx::Error> {
    Ok(AuditDetails {
        created_by: r.try_get("createdby")?,
        last_modified_by: r.try_get("lastmodifiedby")?,
        created_time: r.try_get("createdtime")?,
        last_modified_time: r.try_get("lastmodifiedtime")?,
    })
}

fn json(r: &sqlx::postgres::PgRow, col: &str) -> Result<Option<Value>, sqlx::Error> {
    let v: Option<sqlx::types::Json<Value>> = r.try_get(col)?;
    Ok(v.map(|j| j.0))
}

/// Sanctions matching `c` with their funds summaries and allotments; pages over sanctions
/// (C.1 item 7), `lastmodifiedtime DESC` by default. `max_limit` bounds the page.
pub async fn search(
    conn: &mut PgConnection,
    c: &FundsCriteria,
    default_limit: i64,
    max_limit: i64,
) -> Result<Vec<SanctionDetail>, sqlx::Error> {
    let mut q: QueryBuilder<'_, Postgres> =
        QueryBuilder::new("SELECT * FROM jit_sanction_details WHERE TRUE");
    if let Some(ids) = c.ids.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    for (col, v) in [
        ("tenantid", &c.tenant_id),
        ("hoacode", &c.hoa_code),
        ("ddocode", &c.ddo_code),
        ("masterallotmentid", &c.master_allotment_id),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            q.push(format_args!(" AND {col} = "))
                .push_bind(v.to_owned());
        }
    }
    let asc = c
        .sort_order
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("ASC"));
    q.push(if asc {
        " ORDER BY lastmodifiedtime ASC, id"
    } else {
        " ORDER BY lastmodifiedtime DESC, id"
    });
    let limit = c
        .limit
        .filter(|l| *l > 0)
        .unwrap_or(default_limit)
        .min(max_limit);
    q.push(" LIMIT ").push_bind(limit);
    q.push(" OFFSET ").push_bind(c.offset.unwrap_or(0).max(0));
    let rows = q.build().fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(SanctionDetail {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenantid")?,
            hoa_code: r.try_get("hoacode")?,
            ddo_code: r.try_get("ddocode")?,
            program_code: r.try_get("programcode")?,
            master_allotment_id: r.try_get("masterallotmentid")?,
            sanctioned_amount: Money(r.try_get("sanctionedamount")?),
            financial_year: r.try_get("financialyear")?,
            additional_details: json(r, "additionaldetails")?,
            funds_summary: None,
            allotment_details: Vec::new(),
            audit_details: Some(audit(r)?),
        });
    }
    let ids: Vec<String> = out.iter().map(|s| s.id.clone()).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in sqlx::query("SELECT * FROM jit_funds_summary WHERE sanctionid = ANY($1)")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?
    {
        let sanction_id: String = r.try_get("sanctionid")?;
        if let Some(s) = out.iter_mut().find(|s| s.id == sanction_id) {
            s.funds_summary = Some(FundsSummary {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenantid")?,
                sanction_id,
                allotted_amount: Money(r.try_get("allottedamount")?),
                available_amount: Money(r.try_get("availableamount")?),
                additional_details: json(&r, "additionaldetails")?,
                audit_details: Some(audit(&r)?),
            });
        }
    }
    for r in sqlx::query(
        "SELECT * FROM jit_allotment_details WHERE sanctionid = ANY($1)
         ORDER BY allotmentserialno, createdtime, id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    {
        let sanction_id: String = r.try_get("sanctionid")?;
        let sanction_balance: Option<Decimal> = r.try_get("sanctionbalance")?;
        let allotment = Allotment {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenantid")?,
            program_code: r.try_get("programcode")?,
            sanction_id: sanction_id.clone(),
            additional_details: json(&r, "additionaldetails")?,
            allotment_serial_no: r.try_get("allotmentserialno")?,
            decimal_allotted_amount: Money(r.try_get("allotmentamount")?),
            decimal_sanction_balance: sanction_balance.map(Money),
            allotment_date_time_stamp: r.try_get("allotmentdate")?,
            audit_details: Some(audit(&r)?),
            ddo_code: None,
            scheme_code: None,
            scheme_name: None,
            grantee_ag_code: None,
            grantee_name: None,
            ssu_id: None,
            ssu_office: None,
            allotment_date: None,
            allotment_txn_sl_no: None,
            allotment_amount: None,
            available_balance: None,
            allotment_txn_type: r.try_get("allotmenttransactiontype")?,
            mst_allotment_dist_id: None,
            ssu_allotment_id: r.try_get("ssuallotmentid")?,
        };
        if let Some(s) = out.iter_mut().find(|s| s.id == sanction_id) {
            s.allotment_details.push(allotment);
        }
    }
    Ok(out)
}

/// A sanction of a tenant, with its head, DDO and program, and its first non-withdrawal
/// allotment (`ssuAllotmentId`, serial) — what a PI needs (A1.7 step 4).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SanctionForPi {
    /// Id.
    pub id: String,
    /// Head of account.
    pub hoacode: String,
    /// DDO.
    pub ddocode: String,
    /// Master allotment.
    pub masterallotmentid: String,
    /// Program.
    pub programcode: Option<String>,
    /// First non-withdrawal allotment's `ssuAllotmentId`.
    pub ssuallotmentid: Option<String>,
    /// Its serial.
    pub allotmentserialno: Option<i32>,
}

/// The sanction `id` of `tenant_id`, if any.
pub async fn sanction_for_pi(
    conn: &mut PgConnection,
    tenant_id: &str,
    id: &str,
) -> Result<Option<SanctionForPi>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.hoacode, s.ddocode, s.masterallotmentid, s.programcode,
                a.ssuallotmentid, a.allotmentserialno
         FROM jit_sanction_details s
         LEFT JOIN LATERAL (SELECT ssuallotmentid, allotmentserialno FROM jit_allotment_details
                WHERE sanctionid = s.id AND allotmenttransactiontype NOT ILIKE 'Allotment withdrawal'
                ORDER BY allotmentserialno, createdtime LIMIT 1) a ON TRUE
         WHERE s.tenantid = $1 AND s.id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}
