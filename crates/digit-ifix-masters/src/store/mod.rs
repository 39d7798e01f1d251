//! Reads of the rows the persister wrote. Every criterion is a bound parameter and every
//! lookup is scoped by tenant; searches are bounded (`IFIX_MASTERS_SEARCH_LIMIT`) and ordered
//! (creation time, then id) so pages are stable.

pub mod adapter;
pub mod coa;
pub mod entity;

use digit_core::AuditDetails;
use sqlx::postgres::PgRow;
use sqlx::Row;

/// Audit from the snake_case audit columns (adapter and entity tables).
fn audit_snake(r: &PgRow) -> Result<AuditDetails, sqlx::Error> {
    Ok(AuditDetails {
        created_by: r.try_get("created_by")?,
        last_modified_by: r.try_get("last_modified_by")?,
        created_time: r.try_get("created_time")?,
        last_modified_time: r.try_get("last_modified_time")?,
    })
}
