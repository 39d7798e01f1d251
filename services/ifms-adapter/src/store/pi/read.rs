//! Reads: a payment's PIs, PIs with everything under them, poller selections, the search.

use super::rows::{BeneficiaryRow, LogRow, PaRow, TransactionRow};
use super::{Pi, PiRow, ORIGINAL, REVISED};
use crate::domain::status::PiStatus;
use crate::error::IfmsError;
use sqlx::{PgConnection, Postgres, QueryBuilder};

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
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
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
