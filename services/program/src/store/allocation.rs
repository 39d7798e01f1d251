//! SQL over `eg_program_allocation`. Reads return the allocation's **own** exchange codes
//! and `type: "allocation"` (upstream joined the codes on `sanction_id` and answered the
//! sanction's codes with `type: "sanction"`, §5 item 19). The balance effect of an
//! allocation is written by [`crate::store::ledger::apply`], never here.

use crate::domain::model::{Allocation, AllocationSearch, AllocationType};
use crate::store::rows::{self, Page, CODE_COLUMNS};
use digit_core::Money;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder, Row, Transaction};

const COLUMNS: &str = "id, location_code, program_code, sanction_id, net_amount, gross_amount, \
     allocation_type, status, status_message, function_code, administration_code, \
     recipient_segment_code, economic_segment_code, source_of_fund_code, target_segment_code, \
     currency_code, locale_code, additional_details, created_by, last_modified_by, \
     created_time, last_modified_time";

/// `sort_by` names an allocation search accepts (the first is the default).
pub const SORT_COLUMNS: &[(&str, &str)] = &[
    ("last_modified_time", "last_modified_time"),
    ("created_time", "created_time"),
    ("id", "id"),
    ("program_code", "program_code"),
    ("sanction_id", "sanction_id"),
    ("location_code", "location_code"),
    ("allocation_type", "allocation_type"),
    ("status", "status"),
    ("net_amount", "net_amount"),
    ("gross_amount", "gross_amount"),
];

fn from_row(r: &PgRow) -> Result<Allocation, sqlx::Error> {
    let money = |c: &str| -> Result<Option<Money>, sqlx::Error> {
        Ok(r.try_get::<Option<Decimal>, _>(c)?.map(Money))
    };
    let kind: Option<String> = r.try_get("allocation_type")?;
    Ok(Allocation {
        id: r.try_get("id")?,
        entity_type: Some("allocation".to_owned()),
        codes: rows::codes(r)?,
        status: rows::status(r)?,
        location_code: r.try_get("location_code")?,
        program_code: r.try_get("program_code")?,
        sanction_id: r.try_get("sanction_id")?,
        net_amount: money("net_amount")?,
        gross_amount: money("gross_amount")?,
        allocation_type: match kind.as_deref() {
            Some("DEDUCTION") => Some(AllocationType::Deduction),
            Some("ALLOCATION") => Some(AllocationType::Allocation),
            _ => None,
        },
        additional_details: rows::details(r)?,
        audit_details: Some(rows::audit(r)?),
        children: None,
    })
}

/// Which of `ids` exist, at any location (ids are the table's primary key).
pub async fn existing_ids<'e>(
    db: impl PgExecutor<'e>,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM eg_program_allocation WHERE id = ANY($1) ORDER BY id")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// The allocations `ids` at `location`, in id order.
pub async fn find_many<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    ids: &[String],
) -> Result<Vec<Allocation>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_allocation
          WHERE location_code = $1 AND id = ANY($2) ORDER BY id"
    ))
    .bind(location)
    .bind(ids)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Inserts an allocation; `false` when its id exists already (nothing written).
pub async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    a: &Allocation,
) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(a.status.as_ref());
    let audit = a.audit_details.clone().unwrap_or_default();
    let mut q = QueryBuilder::new(format!(
        "INSERT INTO eg_program_allocation (id, location_code, program_code, sanction_id, \
         net_amount, gross_amount, allocation_type, status, status_message, {CODE_COLUMNS}, \
         additional_details, created_by, last_modified_by, created_time, last_modified_time) \
         VALUES ("
    ));
    q.push_bind(a.id.clone())
        .push(", ")
        .push_bind(a.location_code.clone())
        .push(", ")
        .push_bind(a.program_code.clone())
        .push(", ")
        .push_bind(a.sanction_id.clone())
        .push(", ")
        .push_bind(a.net_amount.map(|m| m.0))
        .push(", ")
        .push_bind(a.gross_amount.map(|m| m.0))
        .push(", ")
        .push_bind(a.allocation_type.map(AllocationType::as_str))
        .push(", ")
        .push_bind(status)
        .push(", ")
        .push_bind(status_message);
    rows::push_codes(&mut q, &a.codes);
    q.push(", ")
        .push_bind(a.additional_details.clone())
        .push(", ")
        .push_bind(audit.created_by.clone())
        .push(", ")
        .push_bind(audit.last_modified_by.clone())
        .push(", ")
        .push_bind(audit.created_time.unwrap_or(0))
        .push(", ")
        .push_bind(audit.last_modified_time.unwrap_or(0))
        .push(") ON CONFLICT (id) DO NOTHING");
    Ok(q.build().execute(&mut **tx).await?.rows_affected() == 1)
}

/// Upstream's allocation update: codes, status, status message, additional details and
/// the last-modified audit; amounts, type and sanction never change (and so neither do
/// the sanction's balances). `false` when no such allocation at its location.
pub async fn update(
    tx: &mut Transaction<'_, Postgres>,
    a: &Allocation,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(a.status.as_ref());
    let mut q = QueryBuilder::new("UPDATE eg_program_allocation SET status = ");
    q.push_bind(status)
        .push(", status_message = ")
        .push_bind(status_message)
        .push(", additional_details = ")
        .push_bind(a.additional_details.clone());
    rows::push_set_codes(&mut q, &a.codes);
    q.push(", last_modified_by = ")
        .push_bind(by.to_owned())
        .push(", last_modified_time = ")
        .push_bind(now)
        .push(" WHERE id = ")
        .push_bind(a.id.clone())
        .push(" AND location_code = ")
        .push_bind(a.location_code.clone());
    Ok(q.build().execute(&mut **tx).await?.rows_affected() == 1)
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, location: &str, c: &AllocationSearch) {
    q.push(" FROM eg_program_allocation WHERE location_code = ")
        .push_bind(location.to_owned());
    if let Some(ids) = c.ids.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(v) = &c.program_code {
        q.push(" AND program_code = ").push_bind(v.clone());
    }
    if let Some(v) = &c.sanction_id {
        q.push(" AND sanction_id = ").push_bind(v.clone());
    }
}

/// An allocation search at `location`: AND-ed equality filters, `ids` as `IN`, one page in
/// `page`'s order; also the number of matching rows.
pub async fn search(
    conn: &mut PgConnection,
    location: &str,
    c: &AllocationSearch,
    page: &Page,
) -> Result<(Vec<Allocation>, i64), sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}, COUNT(*) OVER () AS total_count"));
    push_filters(&mut q, location, c);
    page.push(&mut q, "id");
    let found = q.build().fetch_all(&mut *conn).await?;
    let total = match found.first() {
        Some(r) => r.try_get("total_count")?,
        None if page.offset > 0 => {
            let mut q = QueryBuilder::new("SELECT COUNT(*)");
            push_filters(&mut q, location, c);
            q.build_query_scalar().fetch_one(&mut *conn).await?
        }
        None => 0,
    };
    let items = found.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}
