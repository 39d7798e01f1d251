//! `eg_ifix_chartofaccount`.

use crate::domain::coa::{ChartOfAccount, CoaCriteria};
use digit_core::AuditDetails;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder, Row};

const COLUMNS: &str = "id, tenantid, coacode, majorhead, majorheadname, majorheadtype, submajorhead, submajorheadname,
    minorhead, minorheadname, subhead, subheadname, grouphead, groupheadname, objecthead, objectheadname,
    attributes, createdtime, createdby, lastmodifiedtime, lastmodifiedby";

fn from_row(r: &PgRow) -> Result<ChartOfAccount, sqlx::Error> {
    Ok(ChartOfAccount {
        id: r.try_get("id")?,
        coa_code: r.try_get("coacode")?,
        tenant_id: r.try_get("tenantid")?,
        major_head: r.try_get("majorhead")?,
        major_head_name: r.try_get("majorheadname")?,
        major_head_type: r.try_get("majorheadtype")?,
        sub_major_head: r.try_get("submajorhead")?,
        sub_major_head_name: r.try_get("submajorheadname")?,
        minor_head: r.try_get("minorhead")?,
        minor_head_name: r.try_get("minorheadname")?,
        sub_head: r.try_get("subhead")?,
        sub_head_name: r.try_get("subheadname")?,
        group_head: r.try_get("grouphead")?,
        group_head_name: r.try_get("groupheadname")?,
        object_head: r.try_get("objecthead")?,
        object_head_name: r.try_get("objectheadname")?,
        audit_details: Some(AuditDetails {
            created_by: r.try_get("createdby")?,
            last_modified_by: r.try_get("lastmodifiedby")?,
            created_time: r.try_get("createdtime")?,
            last_modified_time: r.try_get("lastmodifiedtime")?,
        }),
        attributes: r.try_get("attributes")?,
    })
}

/// The id of the tenant's chart of account with this code.
pub async fn id_by_code(
    db: impl PgExecutor<'_>,
    tenant: &str,
    coa_code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM eg_ifix_chartofaccount WHERE tenantid = $1 AND coacode = $2")
        .bind(tenant)
        .bind(coa_code)
        .fetch_optional(db)
        .await
}

/// Matches of validated criteria (AND-ed equality), oldest first, at most `limit`.
pub async fn search(
    pool: &PgPool,
    c: &CoaCriteria,
    limit: i64,
) -> Result<Vec<ChartOfAccount>, sqlx::Error> {
    let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM eg_ifix_chartofaccount WHERE tenantid = "
    ));
    q.push_bind(c.tenant_id.clone().unwrap_or_default());
    if !c.ids.is_empty() {
        q.push(" AND id = ANY(").push_bind(c.ids.clone()).push(")");
    }
    let heads = [
        ("majorhead", &c.major_head),
        ("submajorhead", &c.sub_major_head),
        ("minorhead", &c.minor_head),
        ("subhead", &c.sub_head),
        ("grouphead", &c.group_head),
        ("objecthead", &c.object_head),
    ];
    for (column, value) in heads {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            q.push(format!(" AND {column} = ")).push_bind(v.to_owned());
        }
    }
    if !c.coa_codes.is_empty() {
        q.push(" AND coacode = ANY(")
            .push_bind(c.coa_codes.clone())
            .push(")");
    }
    q.push(" ORDER BY createdtime, id LIMIT ").push_bind(limit);
    q.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
