//! SQL of `eg_digit_exchange_servers` (bind parameters only).

use super::{ExchangeServer, RegistryError, RegistrySearch, ServerAudit};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

const COLUMNS: &str = "id, name, description, host_url, public_key, is_active, seal_required, \
                       created_by, created_time, last_modified_by, last_modified_time";

fn row(r: &PgRow) -> Result<ExchangeServer, sqlx::Error> {
    Ok(ExchangeServer {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        host_url: r.try_get("host_url")?,
        public_key: r.try_get("public_key")?,
        is_active: r.try_get("is_active")?,
        seal_required: r.try_get("seal_required")?,
        audit_details: Some(ServerAudit {
            created_by: r.try_get("created_by")?,
            created_time: r.try_get("created_time")?,
            last_modified_by: r.try_get("last_modified_by")?,
            last_modified_time: r.try_get("last_modified_time")?,
        }),
    })
}

fn rows(list: &[PgRow]) -> Result<Vec<ExchangeServer>, RegistryError> {
    Ok(list.iter().map(row).collect::<Result<Vec<_>, _>>()?)
}

/// All rows with `is_active = true`, newest first.
pub(super) async fn active(pool: &PgPool) -> Result<Vec<ExchangeServer>, RegistryError> {
    let list = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_digit_exchange_servers WHERE is_active = true \
         ORDER BY created_time DESC NULLS LAST, id"
    ))
    .fetch_all(pool)
    .await?;
    rows(&list)
}

/// Rows matching ids, name and the active flag (host URLs are filtered by the caller,
/// normalised).
pub(super) async fn search(
    pool: &PgPool,
    criteria: &RegistrySearch,
) -> Result<Vec<ExchangeServer>, RegistryError> {
    let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM eg_digit_exchange_servers WHERE "
    ));
    match criteria.is_active {
        Some(false) => q.push("is_active IS NOT TRUE"),
        _ => q.push("is_active = true"),
    };
    if let Some(ids) = criteria.ids.as_ref().filter(|ids| !ids.is_empty()) {
        q.push(" AND id = ANY(").push_bind(ids.clone()).push(")");
    }
    if let Some(name) = criteria.name.as_ref().filter(|n| !n.is_empty()) {
        q.push(" AND name = ").push_bind(name.clone());
    }
    q.push(" ORDER BY host_url, created_time NULLS LAST, id");
    let list = q.build().fetch_all(pool).await?;
    rows(&list)
}

/// Rows by id (any state).
pub(super) async fn by_ids(
    pool: &PgPool,
    ids: &[String],
) -> Result<Vec<ExchangeServer>, RegistryError> {
    let list = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM eg_digit_exchange_servers WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    rows(&list)
}

/// Inserts rows in one transaction; an existing id is [`RegistryError::Duplicate`].
pub(super) async fn insert(pool: &PgPool, servers: &[ExchangeServer]) -> Result<(), RegistryError> {
    let sql = format!(
        "INSERT INTO eg_digit_exchange_servers ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING"
    );
    let mut tx = pool.begin().await?;
    for s in servers {
        let done = bind_all(sqlx::query(&sql), s).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::Duplicate(s.id.clone()));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts or replaces rows by id in one transaction (the seed).
pub(super) async fn upsert(pool: &PgPool, servers: &[ExchangeServer]) -> Result<(), RegistryError> {
    let sql = format!(
        "INSERT INTO eg_digit_exchange_servers ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
           description = EXCLUDED.description, host_url = EXCLUDED.host_url, \
           public_key = EXCLUDED.public_key, is_active = EXCLUDED.is_active, \
           seal_required = EXCLUDED.seal_required, \
           last_modified_by = EXCLUDED.last_modified_by, \
           last_modified_time = EXCLUDED.last_modified_time"
    );
    let mut tx = pool.begin().await?;
    for s in servers {
        bind_all(sqlx::query(&sql), s).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Replaces rows by id in one transaction (creation audit kept).
pub(super) async fn update(pool: &PgPool, servers: &[ExchangeServer]) -> Result<(), RegistryError> {
    let mut tx = pool.begin().await?;
    for s in servers {
        let audit = s.audit_details.clone().unwrap_or_default();
        let done = sqlx::query(
            "UPDATE eg_digit_exchange_servers SET name = $2, description = $3, host_url = $4, \
               public_key = $5, is_active = $6, seal_required = $7, last_modified_by = $8, \
               last_modified_time = $9 WHERE id = $1",
        )
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.host_url)
        .bind(&s.public_key)
        .bind(s.is_active)
        .bind(s.seal_required)
        .bind(audit.last_modified_by)
        .bind(audit.last_modified_time)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::NotFound(s.id.clone()));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Sets `is_active = false` on the ids; returns the rows changed (a missing id rolls back
/// nothing here: the caller checks and reports it before anything is committed).
pub(super) async fn deactivate(
    pool: &PgPool,
    ids: &[String],
    by: &str,
    now: i64,
) -> Result<Vec<ExchangeServer>, RegistryError> {
    let mut tx = pool.begin().await?;
    let list = sqlx::query(&format!(
        "UPDATE eg_digit_exchange_servers SET is_active = false, last_modified_by = $2, \
           last_modified_time = $3 WHERE id = ANY($1) RETURNING {COLUMNS}"
    ))
    .bind(ids)
    .bind(by)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let changed = rows(&list)?;
    if let Some(missing) = ids.iter().find(|id| !changed.iter().any(|r| &&r.id == id)) {
        return Err(RegistryError::NotFound(missing.clone()));
    }
    tx.commit().await?;
    Ok(changed)
}

fn bind_all<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    s: &'q ExchangeServer,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let audit = s.audit_details.as_ref();
    q.bind(&s.id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.host_url)
        .bind(&s.public_key)
        .bind(s.is_active)
        .bind(s.seal_required)
        .bind(audit.and_then(|a| a.created_by.clone()))
        .bind(audit.and_then(|a| a.created_time))
        .bind(audit.and_then(|a| a.last_modified_by.clone()))
        .bind(audit.and_then(|a| a.last_modified_time))
}
