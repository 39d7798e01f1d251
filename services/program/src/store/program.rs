//! SQL over `eg_program`. Lookups never filter on `status` (upstream's silent `ACTIVE`
//! filter made a program vanish after any status update, §5 item 17).

use crate::domain::model::{Program, ProgramSearch};
use crate::store::rows::{self, Page, CODE_COLUMNS};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder, Row, Transaction};

const COLUMNS: &str = "id, location_code, program_code, name, parent_id, description, status, \
     status_message, start_date, end_date, function_code, administration_code, \
     recipient_segment_code, economic_segment_code, source_of_fund_code, target_segment_code, \
     currency_code, locale_code, additional_details, created_by, last_modified_by, \
     created_time, last_modified_time";

/// `sort_by` names a program search accepts (the first is the default).
pub const SORT_COLUMNS: &[(&str, &str)] = &[
    ("last_modified_time", "last_modified_time"),
    ("created_time", "created_time"),
    ("id", "id"),
    ("program_code", "program_code"),
    ("name", "name"),
    ("location_code", "location_code"),
    ("parent_id", "parent_id"),
    ("status", "status"),
    ("start_date", "start_date"),
    ("end_date", "end_date"),
];

fn from_row(r: &PgRow) -> Result<Program, sqlx::Error> {
    Ok(Program {
        id: r.try_get("id")?,
        entity_type: Some("program".to_owned()),
        codes: rows::codes(r)?,
        status: rows::status(r)?,
        location_code: r.try_get("location_code")?,
        program_code: r.try_get("program_code")?,
        name: r.try_get("name")?,
        parent_id: r.try_get("parent_id")?,
        description: r.try_get("description")?,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        additional_details: rows::details(r)?,
        audit_details: Some(rows::audit(r)?),
        children: None,
    })
}

/// The program `id` at `location`, locked `FOR UPDATE` when `lock` (an update decides on
/// it and then writes it).
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    id: &str,
    lock: bool,
) -> Result<Option<Program>, sqlx::Error> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_program WHERE id = $1 AND location_code = $2{lock}"
    ))
    .bind(id)
    .bind(location)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether program `id` exists at `location` or at its state tenant (the part of
/// `location` before its first `.`): a city program may hang under a state program.
pub async fn parent_exists<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let state = location.split('.').next().unwrap_or(location);
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_program WHERE id = $1 AND location_code IN ($2, $3))",
    )
    .bind(id)
    .bind(location)
    .bind(state)
    .fetch_one(db)
    .await
}

/// Whether a program with this id exists anywhere (the id is the primary key).
pub async fn id_exists<'e>(db: impl PgExecutor<'e>, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM eg_program WHERE id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Whether a program coded `code` exists at `location` (any status).
pub async fn code_exists<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    code: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_program WHERE location_code = $1 AND program_code = $2)",
    )
    .bind(location)
    .bind(code)
    .fetch_one(db)
    .await
}

/// Whether `code` is used at `location` by a program other than `id`.
pub async fn code_taken<'e>(
    db: impl PgExecutor<'e>,
    location: &str,
    code: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_program
                         WHERE location_code = $1 AND program_code = $2 AND id <> $3)",
    )
    .bind(location)
    .bind(code)
    .bind(id)
    .fetch_one(db)
    .await
}

/// Inserts a program; `false` when its id exists already (nothing written).
pub async fn insert(tx: &mut Transaction<'_, Postgres>, p: &Program) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(p.status.as_ref());
    let audit = p.audit_details.clone().unwrap_or_default();
    let mut q = QueryBuilder::new(format!(
        "INSERT INTO eg_program (id, location_code, program_code, name, parent_id, description, \
         status, status_message, start_date, end_date, {CODE_COLUMNS}, additional_details, \
         created_by, last_modified_by, created_time, last_modified_time) VALUES ("
    ));
    q.push_bind(p.id.clone())
        .push(", ")
        .push_bind(p.location_code.clone())
        .push(", ")
        .push_bind(p.program_code.clone())
        .push(", ")
        .push_bind(p.name.clone())
        .push(", ")
        .push_bind(p.parent_id.clone())
        .push(", ")
        .push_bind(p.description.clone())
        .push(", ")
        .push_bind(status)
        .push(", ")
        .push_bind(status_message)
        .push(", ")
        .push_bind(p.start_date)
        .push(", ")
        .push_bind(p.end_date);
    rows::push_codes(&mut q, &p.codes);
    q.push(", ")
        .push_bind(p.additional_details.clone())
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

/// Upstream's program update: name, description, status, status message, end date,
/// additional details, the eight codes and the last-modified audit; with `set_code` also
/// `program_code` (on-program create). `start_date`, `parent_id` and `location_code` are
/// immutable. `false` when there is no such program at its location.
pub async fn update(
    tx: &mut Transaction<'_, Postgres>,
    p: &Program,
    set_code: bool,
) -> Result<bool, sqlx::Error> {
    let (status, status_message) = rows::status_columns(p.status.as_ref());
    let audit = p.audit_details.clone().unwrap_or_default();
    let mut q = QueryBuilder::new("UPDATE eg_program SET name = ");
    q.push_bind(p.name.clone())
        .push(", description = ")
        .push_bind(p.description.clone())
        .push(", status = ")
        .push_bind(status)
        .push(", status_message = ")
        .push_bind(status_message)
        .push(", end_date = ")
        .push_bind(p.end_date)
        .push(", additional_details = ")
        .push_bind(p.additional_details.clone());
    rows::push_set_codes(&mut q, &p.codes);
    if set_code {
        q.push(", program_code = ")
            .push_bind(p.program_code.clone());
    }
    q.push(", last_modified_by = ")
        .push_bind(audit.last_modified_by.clone())
        .push(", last_modified_time = ")
        .push_bind(audit.last_modified_time.unwrap_or(0))
        .push(" WHERE id = ")
        .push_bind(p.id.clone())
        .push(" AND location_code = ")
        .push_bind(p.location_code.clone());
    Ok(q.build().execute(&mut **tx).await?.rows_affected() == 1)
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, location: &str, c: &ProgramSearch) {
    q.push(" FROM eg_program WHERE location_code = ")
        .push_bind(location.to_owned());
    if let Some(ids) = c.ids.as_ref().filter(|i| !i.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(v) = &c.parent_id {
        q.push(" AND parent_id = ").push_bind(v.clone());
    }
    if let Some(v) = &c.name {
        q.push(" AND name = ").push_bind(v.clone());
    }
    if let Some(v) = &c.program_code {
        q.push(" AND program_code = ").push_bind(v.clone());
    }
    if let Some(v) = c.status {
        q.push(" AND status = ").push_bind(v.as_str());
    }
}

/// A program search at `location`: AND-ed equality filters (`status` only when given),
/// `ids` as `IN`, one page in `page`'s order; also the number of matching rows.
pub async fn search(
    conn: &mut PgConnection,
    location: &str,
    c: &ProgramSearch,
    page: &Page,
) -> Result<(Vec<Program>, i64), sqlx::Error> {
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
