//! SQL over `eg_program_sanction`. Reads return the wire [`Sanction`] with its balances
//! (`allocated_amount`, `available_amount`, visible unlike upstream, §5 item 18), its own
//! exchange codes, `type: "sanction"` and audit. Balances are never written here: they
//! change only through [`crate::store::ledger::apply`].

use crate::domain::model::{Sanction, SanctionSearch};
use crate::store::rows::{self, Page, CODE_COLUMNS};
use digit_core::Money;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Postgres, QueryBuilder, Row, Transaction};

const COLUMNS: &str = "id, location_code, program_code, net_amount, gross_amount, \
     allocated_amount, available_amount, status, status_message, function_code, \
     administration_code, recipient_segment_code, economic_segment_code, source_of_fund_code, \
     target_segment_code, currency_code, locale_code, additional_details, created_by, \
     last_modified_by, created_time, last_modified_time";

/// `sort_by` names a sanction search accepts (the first is the default).
pub const SORT_COLUMNS: &[(&str, &str)] = &[
    ("last_modified_time", "last_modified_time"),
    ("created_time", "created_time"),
    ("id", "id"),
    ("program_code", "program_code"),
    ("location_code", "location_code"),
    ("status", "status"),
    ("net_amount", "net_amount"),
    ("gross_amount", "gross_amount"),
    ("allocated_amount", "allocated_amount"),
    ("available_amount", "available_amount"),
];

fn from_row(r: &PgRow) -> Result<Sanction, sqlx::Error> {
    let money = |c: &str| -> Result<Option<Money>, sqlx::Error> {
        Ok(r.try_get::<Option<Decimal>, _>(c)?.map(Money))
    };
    Ok(Sanction {
        id: r.try_get("id")?,
        entity_type: Some("sanction".to_owned()),
        codes: rows::codes(r)?,
        status: rows::status(r)?,
        location_code: r.try_get("location_code")?,
        program_code: r.try_get("program_code")?,
        net_amount: money("net_amount")?,
        gross_amount: money("gross_amount")?,
        allocated_amount: money("allocated_amount")?,
        available_amount: money("available_amount")?,
        additional_details: rows::details(r)?,
        audit_details: Some(rows::audit(r)?),
        children: None,
    })
}

/// The sanction `id` at `location` (`None` when there is none there: a sanction of another
/// location is never found).
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    id: &str,
) -> Result<Option<Sanction>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_sanction WHERE id = $1 AND location_code = $2"
    ))
    .bind(id)
    .bind(location)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// [`find`] with `FOR UPDATE`: the row stays locked until the transaction ends, so a
/// decision taken on its balances holds (the ledger's guards hold regardless).
pub async fn find_for_update<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    id: &str,
) -> Result<Option<Sanction>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_sanction WHERE id = $1 AND location_code = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(location)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every sanction of `program_code` at `location`, oldest first (`created_time`, then
/// `id`): the deterministic order in which a disbursement auto-picks its sanction (§5
/// item 5). Not locked.
pub async fn list_for_program<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    program_code: &str,
) -> Result<Vec<Sanction>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_sanction
          WHERE location_code = $1 AND program_code = $2
          ORDER BY created_time, id"
    ))
    .bind(location)
    .bind(program_code)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The sanctions `ids` at `location`, locked `FOR UPDATE` in id order (one lock order for
/// every transaction, so two allocations touching the same sanctions cannot deadlock).
pub async fn lock_many<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    ids: &[String],
) -> Result<Vec<Sanction>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_sanction
          WHERE location_code = $1 AND id = ANY($2)
          ORDER BY id FOR UPDATE"
    ))
    .bind(location)
    .bind(ids)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The sanctions `ids` at `location`, not locked, in id order.
pub async fn find_many<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    ids: &[String],
) -> Result<Vec<Sanction>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program_sanction
          WHERE location_code = $1 AND id = ANY($2)
          ORDER BY id"
    ))
    .bind(location)
    .bind(ids)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Which of `ids` exist, at any location (ids are the table's primary key).
pub async fn existing_ids<'e>(
    db: impl PgExecutor<'e>,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM eg_program_sanction WHERE id = ANY($1) ORDER BY id")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Inserts a new sanction with balances 0 (they grow only by allocations); `false` when
/// its id exists already (nothing written).
pub async fn insert(tx: &mut Transaction<'_, Postgres>, s: &Sanction) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(s.status.as_ref());
    let audit = s.audit_details.clone().unwrap_or_default();
    let mut q = QueryBuilder::new(format!(
        "INSERT INTO eg_program_sanction (id, location_code, program_code, net_amount, \
         gross_amount, status, status_message, {CODE_COLUMNS}, additional_details, created_by, \
         last_modified_by, created_time, last_modified_time) VALUES ("
    ));
    q.push_bind(s.id.clone())
        .push(", ")
        .push_bind(s.location_code.clone())
        .push(", ")
        .push_bind(s.program_code.clone())
        .push(", ")
        .push_bind(s.net_amount.map(|m| m.0))
        .push(", ")
        .push_bind(s.gross_amount.map(|m| m.0))
        .push(", ")
        .push_bind(status)
        .push(", ")
        .push_bind(status_message);
    rows::push_codes(&mut q, &s.codes);
    q.push(", ")
        .push_bind(s.additional_details.clone())
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

/// Upstream's sanction update: codes, status, status message, additional details and the
/// last-modified audit (amounts never change). `false` when no such sanction at its
/// location.
pub async fn update(
    tx: &mut Transaction<'_, Postgres>,
    s: &Sanction,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(s.status.as_ref());
    let mut q = QueryBuilder::new("UPDATE eg_program_sanction SET status = ");
    q.push_bind(status)
        .push(", status_message = ")
        .push_bind(status_message)
        .push(", additional_details = ")
        .push_bind(s.additional_details.clone());
    rows::push_set_codes(&mut q, &s.codes);
    q.push(", last_modified_by = ")
        .push_bind(by.to_owned())
        .push(", last_modified_time = ")
        .push_bind(now)
        .push(" WHERE id = ")
        .push_bind(s.id.clone())
        .push(" AND location_code = ")
        .push_bind(s.location_code.clone());
    Ok(q.build().execute(&mut **tx).await?.rows_affected() == 1)
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, location: &str, c: &SanctionSearch) {
    q.push(" FROM eg_program_sanction WHERE location_code = ")
        .push_bind(location.to_owned());
    if let Some(ids) = c.ids.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(code) = &c.program_code {
        q.push(" AND program_code = ").push_bind(code.clone());
    }
}

/// A sanction search at `location`: AND-ed equality filters, `ids` as `IN`, one page in
/// `page`'s order; also the number of matching rows.
pub async fn search(
    conn: &mut sqlx::PgConnection,
    location: &str,
    c: &SanctionSearch,
    page: &Page,
) -> Result<(Vec<Sanction>, i64), sqlx::Error> {
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
