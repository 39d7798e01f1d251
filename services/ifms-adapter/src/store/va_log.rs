//! VA bookkeeping: items kept for a sanction not known yet, and the watermark per tenant ×
//! head × DDO × grantee (moved in the transaction of the allotments it covers).

use serde_json::Value;
use sqlx::PgConnection;

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
