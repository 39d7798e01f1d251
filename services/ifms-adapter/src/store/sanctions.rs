//! Reading sanctions: by master allotment, for a PI, and `/funds/v1/_search` (pages over
//! sanctions, then their funds summaries and allotments).

use crate::domain::model::{Allotment, FundsSummary, SanctionDetail};
use digit_core::{AuditDetails, Money};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};

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

/// `/funds/v1/_search` criteria (A2.1).
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
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

/// The sanctions of a tenant × DDO × head of account whose available funds cover `amount`,
/// newest first (A1.6 step 6: the first of them pays; the guarded debit decides).
pub async fn with_funds(
    conn: &mut PgConnection,
    tenant_id: &str,
    ddo_code: &str,
    hoa_code: &str,
    amount: Decimal,
) -> Result<Vec<SanctionForPi>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.hoacode, s.ddocode, s.masterallotmentid, s.programcode,
                a.ssuallotmentid, a.allotmentserialno
         FROM jit_sanction_details s
         JOIN jit_funds_summary f ON f.sanctionid = s.id
         LEFT JOIN LATERAL (SELECT ssuallotmentid, allotmentserialno FROM jit_allotment_details
                WHERE sanctionid = s.id AND allotmenttransactiontype NOT ILIKE 'Allotment withdrawal'
                ORDER BY allotmentserialno DESC, createdtime DESC LIMIT 1) a ON TRUE
         WHERE s.tenantid = $1 AND s.ddocode = $2 AND s.hoacode = $3 AND f.availableamount >= $4
         ORDER BY s.lastmodifiedtime DESC, s.id",
    )
    .bind(tenant_id)
    .bind(ddo_code)
    .bind(hoa_code)
    .bind(amount)
    .fetch_all(conn)
    .await
}
