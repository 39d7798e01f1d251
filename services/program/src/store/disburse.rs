//! SQL of disbursements (`eg_program_disburse`) and the sanction reads the disburse
//! pipelines need. Parents (`parent_id IS NULL`) are payments, children payee lines; PII
//! columns hold ciphertexts (the service encrypts and decrypts, this module never sees
//! plaintext). Every statement is bound and scoped by `location_code`.
//!
//! Lock order of a disbursement transaction, the same everywhere so that concurrent
//! payments cannot deadlock: inbox row → the payment's in-flight index entry (the parent
//! `INSERT`) or its parent row (`FOR UPDATE`) → one sanction row (the guarded ledger
//! `UPDATE`). That is why the sanction is read *without* `FOR UPDATE` here: the balance
//! decision is the ledger's guard, evaluated on the row as the `UPDATE` locks it.

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

/// The unique partial index allowing one in-flight payment per (location, target).
pub const IN_FLIGHT_INDEX: &str = "eg_program_disburse_in_flight";

/// One stored disbursement (parent or child), PII still encrypted.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Row {
    /// Id.
    pub id: String,
    /// Tenant.
    pub location_code: String,
    /// Program code.
    pub program_code: String,
    /// Parent id (children).
    pub parent_id: Option<String>,
    /// Payment number / line item.
    pub target_id: String,
    /// Treasury reference.
    pub transaction_id: Option<String>,
    /// Sanction debited.
    pub sanction_id: Option<String>,
    /// `ACCOUNT@IFSC`, ciphertext.
    pub account_code: Option<String>,
    /// Individual with name/phone/address as ciphertexts.
    pub individual: Option<Json<Value>>,
    /// Net.
    pub net_amount: Decimal,
    /// Gross.
    pub gross_amount: Decimal,
    /// Status code.
    pub status: Option<String>,
    /// Status message.
    pub status_message: Option<String>,
    /// Exchange code.
    pub function_code: Option<String>,
    /// Exchange code.
    pub administration_code: Option<String>,
    /// Exchange code.
    pub recipient_segment_code: Option<String>,
    /// Exchange code.
    pub economic_segment_code: Option<String>,
    /// Exchange code.
    pub source_of_fund_code: Option<String>,
    /// Exchange code.
    pub target_segment_code: Option<String>,
    /// Exchange code.
    pub currency_code: Option<String>,
    /// Exchange code.
    pub locale_code: Option<String>,
    /// Free JSON.
    pub additional_details: Option<Json<Value>>,
    /// Audit.
    pub created_by: Option<String>,
    /// Audit.
    pub last_modified_by: Option<String>,
    /// Audit.
    pub created_time: i64,
    /// Audit.
    pub last_modified_time: i64,
    /// What the payment took from its sanction (parents; 0 for revisions and children).
    pub debited_amount: Decimal,
    /// What was given back.
    pub refunded_amount: Decimal,
    /// Position among its parent's children (0 for parents).
    pub line_no: i32,
}

const COLUMNS: &str = "id, location_code, program_code, parent_id, target_id, transaction_id,
    sanction_id, account_code, individual, net_amount, gross_amount, status, status_message,
    function_code, administration_code, recipient_segment_code, economic_segment_code,
    source_of_fund_code, target_segment_code, currency_code, locale_code, additional_details,
    created_by, last_modified_by, created_time, last_modified_time, debited_amount,
    refunded_amount, line_no";

/// Inserts `row` (with its `debited_amount`/`refunded_amount` as given).
pub async fn insert(tx: &mut Transaction<'_, Postgres>, row: &Row) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO eg_program_disburse ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)"
    );
    sqlx::query(&sql)
        .bind(&row.id)
        .bind(&row.location_code)
        .bind(&row.program_code)
        .bind(&row.parent_id)
        .bind(&row.target_id)
        .bind(&row.transaction_id)
        .bind(&row.sanction_id)
        .bind(&row.account_code)
        .bind(&row.individual)
        .bind(row.net_amount)
        .bind(row.gross_amount)
        .bind(&row.status)
        .bind(&row.status_message)
        .bind(&row.function_code)
        .bind(&row.administration_code)
        .bind(&row.recipient_segment_code)
        .bind(&row.economic_segment_code)
        .bind(&row.source_of_fund_code)
        .bind(&row.target_segment_code)
        .bind(&row.currency_code)
        .bind(&row.locale_code)
        .bind(&row.additional_details)
        .bind(&row.created_by)
        .bind(&row.last_modified_by)
        .bind(row.created_time)
        .bind(row.last_modified_time)
        .bind(row.debited_amount)
        .bind(row.refunded_amount)
        .bind(row.line_no)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether any of `ids` names a stored disbursement (ids are primary keys, unique across
/// locations, so this one check is not scoped).
pub async fn any_exists(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[String],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM eg_program_disburse WHERE id = ANY($1))")
        .bind(ids)
        .fetch_one(&mut **tx)
        .await
}

/// Whether a payment for `target_id` is in flight (INITIATED / INPROCESS). The unique
/// index [`IN_FLIGHT_INDEX`] is what enforces it under concurrency; this read only gives
/// the common case its answer before anything is written.
pub async fn in_flight(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    target_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_program_disburse
                         WHERE location_code = $1 AND target_id = $2 AND parent_id IS NULL
                           AND status IN ('INITIATED', 'INPROCESS'))",
    )
    .bind(location)
    .bind(target_id)
    .fetch_one(&mut **tx)
    .await
}

/// The newest PARTIAL payment for `target_id` with its sanction: `(id, sanction_id)`.
pub async fn latest_partial(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    target_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, sanction_id FROM eg_program_disburse
          WHERE location_code = $1 AND target_id = $2 AND parent_id IS NULL
            AND status = 'PARTIAL' AND sanction_id IS NOT NULL
          ORDER BY created_time DESC, id DESC
          LIMIT 1",
    )
    .bind(location)
    .bind(target_id)
    .fetch_optional(&mut **tx)
    .await
}

/// The payment `id` at `location`, locked for the rest of the transaction (replies and
/// updates of one payment serialise on it).
pub async fn lock_parent(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    id: &str,
) -> Result<Option<Row>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM eg_program_disburse
          WHERE location_code = $1 AND id = $2 AND parent_id IS NULL
            FOR UPDATE"
    );
    sqlx::query_as(&sql)
        .bind(location)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The children of `parent_ids` at `location`, in arrival order per parent.
pub async fn children<'e, E>(
    executor: E,
    location: &str,
    parent_ids: &[String],
) -> Result<Vec<Row>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let sql = format!(
        "SELECT {COLUMNS} FROM eg_program_disburse
          WHERE location_code = $1 AND parent_id = ANY($2)
          ORDER BY parent_id, line_no, id"
    );
    sqlx::query_as(&sql)
        .bind(location)
        .bind(parent_ids)
        .fetch_all(executor)
        .await
}

/// Records the sanction chosen for payment `parent_id` on it and its children, and the
/// parent's debit.
pub async fn set_sanction(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    parent_id: &str,
    sanction_id: &str,
    debited: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_program_disburse
            SET sanction_id = $3,
                debited_amount = CASE WHEN id = $2 THEN $4 ELSE 0 END
          WHERE location_code = $1 AND (id = $2 OR parent_id = $2)",
    )
    .bind(location)
    .bind(parent_id)
    .bind(sanction_id)
    .bind(debited)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A status change of one row (parent or child). `None` keeps the stored value, so that a
/// reply without a transaction id or additional details never erases them.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The row.
    pub id: &'a str,
    /// New status code (`None`: unchanged).
    pub status: Option<&'a str>,
    /// New status message (written together with a status; `None` with a status clears it).
    pub status_message: Option<&'a str>,
    /// New transaction id (`None`: unchanged).
    pub transaction_id: Option<&'a str>,
    /// New additional details (`None`: unchanged).
    pub additional_details: Option<&'a Value>,
    /// Who.
    pub modified_by: &'a str,
    /// When.
    pub now: i64,
}

/// Applies `change` to the row at `location`.
pub async fn update(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    change: &Change<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_program_disburse
            SET status = COALESCE($3, status),
                status_message = CASE WHEN $3::text IS NULL THEN status_message ELSE $4 END,
                transaction_id = COALESCE($5, transaction_id),
                additional_details = COALESCE($6, additional_details),
                last_modified_by = $7, last_modified_time = $8
          WHERE location_code = $1 AND id = $2",
    )
    .bind(location)
    .bind(change.id)
    .bind(change.status)
    .bind(change.status_message)
    .bind(change.transaction_id)
    .bind(change.additional_details.map(Json))
    .bind(change.modified_by)
    .bind(change.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that payment `id` got `amount` back (its ledger REFUND row is written by
/// `ledger::apply` in the same transaction).
pub async fn add_refund(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    id: &str,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE eg_program_disburse SET refunded_amount = refunded_amount + $3
          WHERE location_code = $1 AND id = $2",
    )
    .bind(location)
    .bind(id)
    .bind(amount)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether a later payment for the same target reused `parent`'s debit (a revision of a
/// PARTIAL payment: `debited_amount = 0`). Such a debit is never refunded: the money is
/// being paid out by the revision.
pub async fn debit_reused(
    tx: &mut Transaction<'_, Postgres>,
    parent: &Row,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM eg_program_disburse
                         WHERE location_code = $1 AND target_id = $2 AND parent_id IS NULL
                           AND id <> $3 AND debited_amount = 0 AND created_time >= $4
                           AND sanction_id = $5)",
    )
    .bind(&parent.location_code)
    .bind(&parent.target_id)
    .bind(&parent.id)
    .bind(parent.created_time)
    .bind(&parent.sanction_id)
    .fetch_one(&mut **tx)
    .await
}

/// A sanction as the disburse pipelines see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SanctionFunds {
    /// Id.
    pub id: String,
    /// Program code.
    pub program_code: String,
    /// Available balance.
    pub available_amount: Decimal,
}

/// The sanction `id` at `location` (not locked: see the module documentation).
pub async fn sanction(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    id: &str,
) -> Result<Option<SanctionFunds>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, program_code, available_amount FROM eg_program_sanction
          WHERE location_code = $1 AND id = $2",
    )
    .bind(location)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// The sanctions of `program_code` at `location` with at least `amount` available, oldest
/// first (`created_time`, then `id`): the auto-pick order.
pub async fn candidates(
    tx: &mut Transaction<'_, Postgres>,
    location: &str,
    program_code: &str,
    amount: Decimal,
) -> Result<Vec<SanctionFunds>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, program_code, available_amount FROM eg_program_sanction
          WHERE location_code = $1 AND program_code = $2 AND available_amount >= $3
          ORDER BY created_time, id",
    )
    .bind(location)
    .bind(program_code)
    .bind(amount)
    .fetch_all(&mut **tx)
    .await
}

/// Disbursement search criteria, already checked (sort column from the whitelist).
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// Tenant.
    pub location: &'a str,
    /// Ids of parents or children.
    pub ids: Option<&'a [String]>,
    /// Program code.
    pub program_code: Option<&'a str>,
    /// Payment number.
    pub target_id: Option<&'a str>,
    /// Treasury reference of the payment.
    pub transaction_id: Option<&'a str>,
    /// A column of [`SORT_COLUMNS`].
    pub sort_column: &'static str,
    /// Descending?
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// The sortable columns: `(sort_by as sent, column)`.
pub const SORT_COLUMNS: &[(&str, &str)] = &[
    ("last_modified_time", "last_modified_time"),
    ("created_time", "created_time"),
    ("id", "id"),
    ("target_id", "target_id"),
    ("program_code", "program_code"),
    ("transaction_id", "transaction_id"),
    ("sanction_id", "sanction_id"),
    ("status", "status"),
    ("net_amount", "net_amount"),
    ("gross_amount", "gross_amount"),
];

#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    row: Row,
    total_count: i64,
}

/// One page of payments matching `search` and the number of all matches. An id matches a
/// payment when it is the payment's or one of its children's.
pub async fn search(pool: &PgPool, search: &Search<'_>) -> Result<(Vec<Row>, i64), sqlx::Error> {
    const FILTER: &str = "p.location_code = $1 AND p.parent_id IS NULL
            AND ($2::text[] IS NULL
                 OR p.id = ANY($2)
                 OR EXISTS (SELECT 1 FROM eg_program_disburse c
                             WHERE c.location_code = $1 AND c.parent_id = p.id
                               AND c.id = ANY($2)))
            AND ($3::text IS NULL OR p.program_code = $3)
            AND ($4::text IS NULL OR p.target_id = $4)
            AND ($5::text IS NULL OR p.transaction_id = $5)";
    let direction = if search.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {COLUMNS}, COUNT(*) OVER () AS total_count
           FROM eg_program_disburse p
          WHERE {FILTER}
          ORDER BY p.{col} {direction} NULLS LAST, p.id {direction}
          LIMIT $6 OFFSET $7",
        col = search.sort_column,
    );
    let rows: Vec<Counted> = sqlx::query_as(&sql)
        .bind(search.location)
        .bind(search.ids)
        .bind(search.program_code)
        .bind(search.target_id)
        .bind(search.transaction_id)
        .bind(search.limit)
        .bind(search.offset)
        .fetch_all(pool)
        .await?;
    let total = match rows.first() {
        Some(r) => r.total_count,
        None if search.offset > 0 => {
            // A page past the end: the window count saw no row, count the matches alone.
            let sql = format!("SELECT COUNT(*) FROM eg_program_disburse p WHERE {FILTER}");
            sqlx::query_scalar(&sql)
                .bind(search.location)
                .bind(search.ids)
                .bind(search.program_code)
                .bind(search.target_id)
                .bind(search.transaction_id)
                .fetch_one(pool)
                .await?
        }
        None => 0,
    };
    Ok((rows.into_iter().map(|r| r.row).collect(), total))
}
