//! SQL over `eg_sor`, `eg_sor_rate`, `eg_sor_rate_amount`. Bound parameters only; sort
//! columns come from a whitelist.

use crate::domain::model::{AmountDetail, RateCriteria, RateDetails, Sor, SorCriteria};
use digit_core::{AuditDetails, Money};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;

fn audit(r: &PgRow) -> AuditDetails {
    AuditDetails {
        created_by: r.get("createdby"),
        created_time: r.get("createdtime"),
        last_modified_by: r.get("lastmodifiedby"),
        last_modified_time: r.get("lastmodifiedtime"),
    }
}

fn sor_from_row(r: &PgRow) -> Sor {
    Sor {
        id: r.get("id"),
        tenant_id: r.get("tenantid"),
        sor_number: r.get("sornumber"),
        sor_type: r.get("sortype"),
        sor_sub_type: r.get("sorsubtype"),
        sor_variant: r.get("sorvariant"),
        uom: r.get("uom"),
        uom_value: r.get::<Option<Decimal>, _>("uomvalue").map(Money),
        description: r.get("description"),
        is_active: r.get("isactive"),
        details: None,
        audit_details: Some(audit(r)),
        additional_details: r.get("additionaldetails"),
    }
}

const SOR_COLUMNS: &str =
    "id, tenantid, sornumber, sortype, sorsubtype, sorvariant, uom, uomvalue, description,
    isactive, additionaldetails, createdby, createdtime, lastmodifiedby, lastmodifiedtime";

/// One SOR of one of `tenants` (its tenant, or the tenant and its ancestors where a record
/// may refer to a state-level SOR). Never by id alone: ids of other tenants are not found.
pub async fn sor_by_id<'e>(
    db: impl PgExecutor<'e>,
    tenants: &[String],
    id: &str,
) -> Result<Option<Sor>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SOR_COLUMNS} FROM eg_sor WHERE id = $1 AND tenantid = ANY($2)"
    ))
    .bind(id)
    .bind(tenants)
    .fetch_optional(db)
    .await?;
    Ok(row.as_ref().map(sor_from_row))
}

/// True when an SOR with the same natural key exists in the tenant.
pub async fn sor_duplicate(conn: &mut PgConnection, sor: &Sor) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_sor WHERE tenantid = $1 AND sortype = $2 AND sorsubtype = $3
           AND sorvariant = $4 AND uom = $5 AND lower(description) = lower($6))",
    )
    .bind(&sor.tenant_id)
    .bind(&sor.sor_type)
    .bind(&sor.sor_sub_type)
    .bind(&sor.sor_variant)
    .bind(&sor.uom)
    .bind(&sor.description)
    .fetch_one(conn)
    .await
}

fn push_sor_where(q: &mut QueryBuilder<'_, Postgres>, tenant: &str, c: &SorCriteria) {
    q.push(" FROM eg_sor WHERE tenantid = ")
        .push_bind(tenant.to_owned());
    if !c.ids.is_empty() {
        q.push(" AND id = ANY(").push_bind(c.ids.clone()).push(")");
    }
    if !c.sor_numbers.is_empty() {
        q.push(" AND sornumber = ANY(")
            .push_bind(c.sor_numbers.clone())
            .push(")");
    }
    for (col, v) in [
        ("sortype", &c.sor_type),
        ("sorsubtype", &c.sor_sub_type),
        ("sorvariant", &c.sor_variant),
    ] {
        if let Some(v) = v {
            q.push(format!(" AND {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(active) = c.is_active {
        q.push(" AND isactive = ").push_bind(active);
    }
}

/// A page of SORs and the total.
pub async fn search_sors(
    pool: &PgPool,
    tenant: &str,
    c: &SorCriteria,
    sort_column: &str,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Sor>, i64), sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {SOR_COLUMNS}"));
    push_sor_where(&mut q, tenant, c);
    q.push(format!(
        " ORDER BY {sort_column} {}, id",
        if descending { "DESC" } else { "ASC" }
    ));
    q.push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build().fetch_all(pool).await?;
    let mut count = QueryBuilder::new("SELECT count(*)");
    push_sor_where(&mut count, tenant, c);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    Ok((rows.iter().map(sor_from_row).collect(), total))
}

const RATE_COLUMNS: &str =
    "id, tenantid, sorid, detailid, validfrom, validto, rate, isactive, compositionid,
    additionaldetails, createdby, createdtime, lastmodifiedby, lastmodifiedtime";

fn rate_from_row(r: &PgRow) -> RateDetails {
    let detail: String = r.get("detailid");
    RateDetails {
        id: r.get("id"),
        tenant_id: r.get("tenantid"),
        sor_id: r.get("sorid"),
        detail_id: (!detail.is_empty()).then_some(detail),
        valid_from: r.get("validfrom"),
        valid_to: r.get("validto"),
        rate: r.get::<Option<Decimal>, _>("rate").map(Money),
        amount_detail: Vec::new(),
        is_active: r.get("isactive"),
        composition_id: r.get("compositionid"),
        additional_details: r.get("additionaldetails"),
        audit_details: Some(audit(r)),
    }
}

/// The active rates of one (tenant, SOR, detail), by `validFrom`.
pub async fn active_rates(
    conn: &mut PgConnection,
    tenant: &str,
    sor_id: &str,
    detail_id: &str,
) -> Result<Vec<RateDetails>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {RATE_COLUMNS} FROM eg_sor_rate WHERE tenantid = $1 AND sorid = $2 AND detailid = $3 AND isactive
         ORDER BY validfrom"
    ))
    .bind(tenant)
    .bind(sor_id)
    .bind(detail_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(rate_from_row).collect())
}

fn push_rate_where(q: &mut QueryBuilder<'_, Postgres>, tenant: &str, c: &RateCriteria) {
    q.push(" FROM eg_sor_rate r WHERE r.tenantid = ")
        .push_bind(tenant.to_owned());
    if !c.include_inactive.unwrap_or(false) {
        q.push(" AND r.isactive");
    }
    if !c.ids.is_empty() {
        q.push(" AND r.id = ANY(")
            .push_bind(c.ids.clone())
            .push(")");
    }
    if !c.sor_ids.is_empty() {
        q.push(" AND r.sorid = ANY(")
            .push_bind(c.sor_ids.clone())
            .push(")");
    }
    if !c.head_code_ids.is_empty() {
        q.push(" AND EXISTS (SELECT 1 FROM eg_sor_rate_amount a WHERE a.rateid = r.id AND a.heads = ANY(")
            .push_bind(c.head_code_ids.clone())
            .push("))");
    }
    if let Some(t) = c.effective_on {
        // Half-open validity: the rate whose [validFrom, validTo) contains t.
        q.push(" AND r.validfrom <= ").push_bind(t);
        q.push(" AND (r.validto IS NULL OR r.validto > ")
            .push_bind(t)
            .push(")");
    }
}

/// A page of rates (with their amounts) and the total.
pub async fn search_rates(
    pool: &PgPool,
    tenant: &str,
    c: &RateCriteria,
    sort_column: &str,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RateDetails>, i64), sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {RATE_COLUMNS}"));
    push_rate_where(&mut q, tenant, c);
    q.push(format!(
        " ORDER BY r.{sort_column} {}, r.id",
        if descending { "DESC" } else { "ASC" }
    ));
    q.push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build().fetch_all(pool).await?;
    let mut rates: Vec<RateDetails> = rows.iter().map(rate_from_row).collect();
    let mut count = QueryBuilder::new("SELECT count(*)");
    push_rate_where(&mut count, tenant, c);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    attach_amounts(pool, &mut rates).await?;
    Ok((rates, total))
}

/// One rate of `tenant` with its amounts.
pub async fn rate_by_id(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
) -> Result<Option<RateDetails>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {RATE_COLUMNS} FROM eg_sor_rate WHERE id = $1 AND tenantid = $2"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let mut rates: Vec<RateDetails> = row.iter().map(rate_from_row).collect();
    attach_amounts(conn, &mut rates).await?;
    Ok(rates.pop())
}

async fn attach_amounts<'e>(
    db: impl PgExecutor<'e>,
    rates: &mut [RateDetails],
) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = rates.iter().filter_map(|r| r.id.clone()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT id, rateid, type, heads, amount, additionaldetails FROM eg_sor_rate_amount
         WHERE rateid = ANY($1) ORDER BY heads",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut by_rate: HashMap<String, Vec<AmountDetail>> = HashMap::new();
    for r in &rows {
        by_rate
            .entry(r.get("rateid"))
            .or_default()
            .push(AmountDetail {
                id: r.get("id"),
                amount_type: r.get("type"),
                heads: r.get("heads"),
                amount: r.get::<Option<Decimal>, _>("amount").map(Money),
                additional_details: r.get("additionaldetails"),
            });
    }
    for rate in rates {
        if let Some(a) = rate.id.as_ref().and_then(|id| by_rate.remove(id)) {
            rate.amount_detail = a;
        }
    }
    Ok(())
}

fn composition_from_row(r: &PgRow) -> crate::domain::model::Composition {
    crate::domain::model::Composition {
        id: r.get("id"),
        tenant_id: r.get("tenantid"),
        composition_id: r.get("compositionid"),
        sor_id: r.get("sorid"),
        quantity: r.get::<Option<Decimal>, _>("quantity").map(Money),
        effective_from: r.get("effectivefrom"),
        effective_to: r.get("effectiveto"),
        is_active: r.get("isactive"),
        basic_sor_details: serde_json::from_value(r.get("basicsordetails")).unwrap_or_default(),
        additional_charges: serde_json::from_value(r.get("additionalcharges")).unwrap_or_default(),
        audit_details: Some(audit(r)),
    }
}

const COMPOSITION_COLUMNS: &str =
    "id, tenantid, compositionid, sorid, quantity, effectivefrom, effectiveto, isactive,
    basicsordetails, additionalcharges, createdby, createdtime, lastmodifiedby, lastmodifiedtime";

/// Active compositions of a works SOR, by `effectiveFrom`.
pub async fn active_compositions(
    conn: &mut PgConnection,
    tenant: &str,
    sor_id: &str,
) -> Result<Vec<crate::domain::model::Composition>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COMPOSITION_COLUMNS} FROM eg_sor_composition WHERE tenantid = $1 AND sorid = $2 AND isactive
         ORDER BY effectivefrom"
    ))
    .bind(tenant)
    .bind(sor_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(composition_from_row).collect())
}

/// Active compositions of a tenant (optionally for some SORs, optionally valid at `t`).
pub async fn search_compositions(
    pool: &PgPool,
    tenant: &str,
    sor_ids: &[String],
    at: Option<i64>,
) -> Result<Vec<crate::domain::model::Composition>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COMPOSITION_COLUMNS} FROM eg_sor_composition WHERE tenantid = $1 AND isactive
           AND (cardinality($2::text[]) = 0 OR sorid = ANY($2))
           AND ($3::bigint IS NULL OR (effectivefrom <= $3 AND (effectiveto IS NULL OR effectiveto > $3)))
         ORDER BY sorid, effectivefrom"
    ))
    .bind(tenant)
    .bind(sor_ids)
    .bind(at)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(composition_from_row).collect())
}

/// True when an active composition (current or future) of `tenant` or a tenant below it
/// uses `sor_id` as a basic SOR.
pub async fn used_by_composition(
    conn: &mut PgConnection,
    tenant: &str,
    sor_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_sor_composition WHERE isactive
           AND (tenantid = $3 OR starts_with(tenantid, $3 || '.'))
           AND (effectiveto IS NULL OR effectiveto > $2)
           AND basicsordetails @> jsonb_build_array(jsonb_build_object('sorId', $1::text)))",
    )
    .bind(sor_id)
    .bind(now)
    .bind(tenant)
    .fetch_one(conn)
    .await
}

/// The active rate of an SOR valid at `t`, with amounts.
pub async fn rate_at(
    pool: &PgPool,
    tenant: &str,
    sor_id: &str,
    t: i64,
) -> Result<Option<RateDetails>, sqlx::Error> {
    let criteria = RateCriteria {
        tenant_id: Some(tenant.to_owned()),
        sor_ids: vec![sor_id.to_owned()],
        effective_on: Some(t),
        ..RateCriteria::default()
    };
    let (mut rates, _) = search_rates(pool, tenant, &criteria, "validfrom", true, 1, 0).await?;
    Ok(rates.pop())
}
