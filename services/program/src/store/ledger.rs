//! The ledger (spec §1.9, fixing §5 items 1–4): every change of a sanction's
//! `allocated_amount` / `available_amount` is one guarded relative `UPDATE` plus one
//! append-only `eg_program_transaction_logs` row, in the caller's transaction. So for every
//! sanction `allocated_amount = Σ allocated_delta` and `available_amount = Σ
//! available_delta`, and concurrent changes can neither overspend nor lose an update: the
//! guard is evaluated on the row as locked by the `UPDATE`, never on a value read earlier.
//!
//! | kind | type | allocated | available | guard |
//! |---|---|---|---|---|
//! | ALLOCATION | CREDIT | +a | +a | allocated + a ≤ gross |
//! | DEDUCTION | DEBIT | −a | −a | available ≥ a |
//! | DISBURSE | DEBIT | | −a | available ≥ a |
//! | REFUND | CREDIT | | +a | (one per disbursement, unique index) |

use rust_decimal::Decimal;
use sqlx::{Postgres, Transaction};

/// Why the balance changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An allocation adds to allocated and available.
    Allocation,
    /// A deduction (allotment withdrawal) takes from both.
    Deduction,
    /// A payment takes from available.
    Disburse,
    /// A failed payment gives its debit back.
    Refund,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Allocation => "ALLOCATION",
            Self::Deduction => "DEDUCTION",
            Self::Disburse => "DISBURSE",
            Self::Refund => "REFUND",
        }
    }

    /// Upstream's transaction-log type.
    fn log_type(self) -> &'static str {
        match self {
            Self::Allocation | Self::Refund => "CREDIT",
            Self::Deduction | Self::Disburse => "DEBIT",
        }
    }

    /// (allocated, available) deltas of an amount.
    fn deltas(self, a: Decimal) -> (Decimal, Decimal) {
        match self {
            Self::Allocation => (a, a),
            Self::Deduction => (-a, -a),
            Self::Disburse => (Decimal::ZERO, -a),
            Self::Refund => (Decimal::ZERO, a),
        }
    }
}

/// One balance change.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The sanction.
    pub sanction_id: &'a str,
    /// Its location (every statement is scoped by it).
    pub location_code: &'a str,
    /// Its program code (recorded in the log).
    pub program_code: &'a str,
    /// Why.
    pub kind: Kind,
    /// How much (> 0).
    pub amount: Decimal,
    /// The payment (DISBURSE, REFUND).
    pub disburse_id: Option<&'a str>,
    /// The allocation (ALLOCATION, DEDUCTION).
    pub allocation_id: Option<&'a str>,
    /// Who (audit).
    pub created_by: &'a str,
    /// When (epoch ms).
    pub now: i64,
}

/// The balances after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balances {
    /// Allocated amount.
    pub allocated: Decimal,
    /// Available amount.
    pub available: Decimal,
}

/// Applies `entry` in `tx`: `Ok(Some(balances))` when done, `Ok(None)` when the guard
/// refused it (not enough balance / over the sanction, or no such sanction at the
/// location) — nothing was written then.
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    entry: &Entry<'_>,
) -> Result<Option<Balances>, sqlx::Error> {
    let (allocated_delta, available_delta) = entry.kind.deltas(entry.amount);
    let guard = match entry.kind {
        Kind::Allocation => "allocated_amount + $3 <= gross_amount",
        Kind::Deduction | Kind::Disburse => "available_amount >= $4",
        Kind::Refund => "TRUE",
    };
    let sql = format!(
        "UPDATE eg_program_sanction
            SET allocated_amount = allocated_amount + $3,
                available_amount = available_amount + $5,
                last_modified_by = $6, last_modified_time = $7
          WHERE id = $1 AND location_code = $2 AND {guard}
      RETURNING allocated_amount, available_amount"
    );
    let row: Option<(Decimal, Decimal)> = sqlx::query_as(&sql)
        .bind(entry.sanction_id)
        .bind(entry.location_code)
        .bind(allocated_delta)
        .bind(entry.amount)
        .bind(available_delta)
        .bind(entry.created_by)
        .bind(entry.now)
        .fetch_optional(&mut **tx)
        .await?;
    let Some((allocated, available)) = row else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO eg_program_transaction_logs
            (id, location_code, program_code, sanction_id, disburse_id, allocation_id,
             type, kind, amount, allocated_delta, available_delta, created_by, created_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(entry.location_code)
    .bind(entry.program_code)
    .bind(entry.sanction_id)
    .bind(entry.disburse_id)
    .bind(entry.allocation_id)
    .bind(entry.kind.log_type())
    .bind(entry.kind.as_str())
    .bind(entry.amount)
    .bind(allocated_delta)
    .bind(available_delta)
    .bind(entry.created_by)
    .bind(entry.now)
    .execute(&mut **tx)
    .await?;
    Ok(Some(Balances {
        allocated,
        available,
    }))
}
