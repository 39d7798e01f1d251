//! `eg_indexer_job`: the bookkeeping of `_reindex` and `_legacyindex` jobs, and its search.

use serde::Serialize;
use sqlx::PgPool;

/// Job kinds (upstream `typeOfJob`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    /// `_reindex`.
    Reindex,
    /// `_legacyindex`.
    LegacyIndex,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Reindex => "REINDEX",
            JobKind::LegacyIndex => "LEGACY_INDEX",
        }
    }
}

/// One job as the search answers it (upstream `IndexJob` field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndexJob {
    /// Job id.
    #[sqlx(rename = "id")]
    pub job_id: String,
    /// `INPROGRESS`, `COMPLETED` or `FAILED`.
    #[sqlx(rename = "jobstatus")]
    pub job_status: String,
    /// `REINDEX` or `LEGACY_INDEX`.
    #[sqlx(rename = "typeofjob")]
    pub type_of_job: String,
    /// Source index (reindex).
    #[sqlx(rename = "oldindex")]
    pub old_index: Option<String>,
    /// Target index.
    #[sqlx(rename = "newindex")]
    pub new_index: Option<String>,
    /// The topic pages are produced to.
    pub topic: String,
    /// Tenant of the request.
    #[sqlx(rename = "tenantid")]
    pub tenant_id: Option<String>,
    /// Records to go (known up front for a reindex).
    #[sqlx(rename = "recordstobeindexed")]
    pub records_to_be_indexed: Option<i64>,
    /// Records produced so far.
    #[sqlx(rename = "totalrecordsindexed")]
    pub total_records_indexed: i64,
    /// Elapsed time.
    #[sqlx(rename = "totaltimetakeninms")]
    pub total_time_taken_in_ms: i64,
    /// Why it failed.
    pub reason: Option<String>,
    /// Who asked.
    #[sqlx(rename = "createdby")]
    pub created_by: Option<String>,
    /// Start, epoch ms.
    #[sqlx(rename = "createdtime")]
    pub created_time: i64,
    /// Last progress, epoch ms.
    #[sqlx(rename = "lastmodifiedtime")]
    pub last_modified_time: i64,
}

/// A job to start.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Id.
    pub id: &'a str,
    /// Kind.
    pub kind: JobKind,
    /// Source index.
    pub old_index: Option<&'a str>,
    /// Target index.
    pub new_index: Option<&'a str>,
    /// Topic.
    pub topic: &'a str,
    /// Tenant.
    pub tenant_id: Option<&'a str>,
    /// Records to go, if known.
    pub records: Option<i64>,
    /// Caller.
    pub created_by: Option<&'a str>,
    /// Now, epoch ms.
    pub now: i64,
}

/// Records a started job.
pub async fn insert(pool: &PgPool, job: &NewJob<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO eg_indexer_job (id, jobstatus, typeofjob, oldindex, newindex, topic, tenantid,
             recordstobeindexed, createdby, lastmodifiedby, createdtime, lastmodifiedtime)
         VALUES ($1, 'INPROGRESS', $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)",
    )
    .bind(job.id)
    .bind(job.kind.as_str())
    .bind(job.old_index)
    .bind(job.new_index)
    .bind(job.topic)
    .bind(job.tenant_id)
    .bind(job.records)
    .bind(job.created_by)
    .bind(job.now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Progress: records produced so far and elapsed time.
pub async fn progress(
    pool: &PgPool,
    id: &str,
    records: i64,
    elapsed_ms: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_indexer_job SET totalrecordsindexed = $2, totaltimetakeninms = $3, lastmodifiedtime = $4
         WHERE id = $1 AND jobstatus = 'INPROGRESS'",
    )
    .bind(id)
    .bind(records)
    .bind(elapsed_ms)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// The end of a job: `COMPLETED`, or `FAILED` with a reason.
pub async fn finish(
    pool: &PgPool,
    id: &str,
    records: i64,
    elapsed_ms: i64,
    now: i64,
    failure: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_indexer_job SET jobstatus = $2, totalrecordsindexed = $3, totaltimetakeninms = $4,
             reason = $5, lastmodifiedtime = $6
         WHERE id = $1",
    )
    .bind(id)
    .bind(if failure.is_some() { "FAILED" } else { "COMPLETED" })
    .bind(records)
    .bind(elapsed_ms)
    .bind(failure)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Jobs by id and/or tenant, newest first, at most `limit`.
pub async fn search(
    pool: &PgPool,
    ids: &[String],
    tenant_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IndexJob>, sqlx::Error> {
    sqlx::query_as::<_, IndexJob>(
        "SELECT id, jobstatus, typeofjob, oldindex, newindex, topic, tenantid, recordstobeindexed,
                totalrecordsindexed, totaltimetakeninms, reason, createdby, createdtime, lastmodifiedtime
         FROM eg_indexer_job
         WHERE (cardinality($1::text[]) = 0 OR id = ANY($1))
           AND ($2::text IS NULL OR tenantid = $2)
         ORDER BY createdtime DESC, id
         LIMIT $3",
    )
    .bind(ids)
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
