//! Row helpers shared by the entity stores: the exchange-code, status, audit and
//! `additional_details` columns every entity table has, and search paging (a whitelisted
//! `ORDER BY`, the effective page echoed back with `total_count`).

use crate::domain::model::{ExchangeCodes, Pagination, SortOrder, Status, StatusCode};
use digit_core::AuditDetails;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

/// The eight exchange-code columns, in wire order.
pub const CODE_COLUMNS: &str = "function_code, administration_code, recipient_segment_code, \
     economic_segment_code, source_of_fund_code, target_segment_code, currency_code, locale_code";

/// The exchange codes of a row.
pub fn codes(r: &PgRow) -> Result<ExchangeCodes, sqlx::Error> {
    Ok(ExchangeCodes {
        function_code: r.try_get("function_code")?,
        administration_code: r.try_get("administration_code")?,
        recipient_segment_code: r.try_get("recipient_segment_code")?,
        economic_segment_code: r.try_get("economic_segment_code")?,
        source_of_fund_code: r.try_get("source_of_fund_code")?,
        target_segment_code: r.try_get("target_segment_code")?,
        currency_code: r.try_get("currency_code")?,
        locale_code: r.try_get("locale_code")?,
    })
}

/// Pushes `, $code1, …, $code8` (binds in [`CODE_COLUMNS`] order).
pub fn push_codes(q: &mut QueryBuilder<'_, Postgres>, c: &ExchangeCodes) {
    for v in [
        &c.function_code,
        &c.administration_code,
        &c.recipient_segment_code,
        &c.economic_segment_code,
        &c.source_of_fund_code,
        &c.target_segment_code,
        &c.currency_code,
        &c.locale_code,
    ] {
        q.push(", ").push_bind(v.clone());
    }
}

/// Pushes `, function_code = $…, …` (all eight codes, as upstream's update writes them).
pub fn push_set_codes(q: &mut QueryBuilder<'_, Postgres>, c: &ExchangeCodes) {
    let names = CODE_COLUMNS.split(", ");
    let values = [
        &c.function_code,
        &c.administration_code,
        &c.recipient_segment_code,
        &c.economic_segment_code,
        &c.source_of_fund_code,
        &c.target_segment_code,
        &c.currency_code,
        &c.locale_code,
    ];
    for (name, v) in names.zip(values) {
        q.push(", ")
            .push(name.trim())
            .push(" = ")
            .push_bind(v.clone());
    }
}

/// The `status` / `status_message` columns (`None` when both are null).
pub fn status(r: &PgRow) -> Result<Option<Status>, sqlx::Error> {
    let code: Option<String> = r.try_get("status")?;
    let message: Option<String> = r.try_get("status_message")?;
    if code.is_none() && message.is_none() {
        return Ok(None);
    }
    Ok(Some(Status {
        status_code: code.as_deref().and_then(StatusCode::parse),
        status_message: message,
    }))
}

/// `(status, status_message)` column values of a status.
pub fn status_columns(s: Option<&Status>) -> (Option<&'static str>, Option<String>) {
    match s {
        None => (None, None),
        Some(s) => (
            s.status_code.map(StatusCode::as_str),
            s.status_message.clone(),
        ),
    }
}

/// The audit columns.
pub fn audit(r: &PgRow) -> Result<AuditDetails, sqlx::Error> {
    Ok(AuditDetails {
        created_by: r.try_get("created_by")?,
        last_modified_by: r.try_get("last_modified_by")?,
        created_time: r.try_get("created_time")?,
        last_modified_time: r.try_get("last_modified_time")?,
    })
}

/// `additional_details` as upstream reads it back: an empty object is `null`.
pub fn details(r: &PgRow) -> Result<Option<Value>, sqlx::Error> {
    let v: Option<Value> = r.try_get("additional_details")?;
    Ok(v.filter(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty())))
}

/// The effective page of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows per page (1..=max).
    pub limit: i64,
    /// Rows skipped (≥ 0).
    pub offset: i64,
    /// The whitelisted column (qualified as the caller needs it).
    pub column: &'static str,
    /// The JSON name echoed back.
    pub sort_by: String,
    /// Order.
    pub order: SortOrder,
}

impl Page {
    /// The page of `p`: limit defaults to `default` and is capped at `max` (as upstream:
    /// silently), a limit below 1 is the default, a negative offset 0; `sort_by` must be one
    /// of `columns` (`(json name, column)`; the first is the default — upstream appends
    /// the text raw into `ORDER BY`, §5 item 15: an unknown name falls back to the
    /// default), `sort_order` defaults to `DESC`.
    pub fn of(
        p: Option<&Pagination>,
        default: i64,
        max: i64,
        columns: &[(&'static str, &'static str)],
    ) -> Self {
        let limit = match p.and_then(|p| p.limit) {
            Some(l) if l >= 1 => l.min(max),
            _ => default.min(max),
        };
        let offset = p.and_then(|p| p.offset).unwrap_or(0).max(0);
        let wanted = p.and_then(|p| p.sort_by.as_deref()).map(str::trim);
        let (json, column) = wanted
            .and_then(|w| columns.iter().find(|(j, _)| j.eq_ignore_ascii_case(w)))
            .or_else(|| columns.first())
            .copied()
            .unwrap_or(("last_modified_time", "last_modified_time"));
        Self {
            limit,
            offset,
            column,
            sort_by: json.to_owned(),
            order: p.and_then(|p| p.sort_order).unwrap_or(SortOrder::Desc),
        }
    }

    /// Pushes ` ORDER BY <column> <order>, <tie> <order> LIMIT $ OFFSET $` (`tie` makes
    /// the order total, so pages neither repeat nor skip rows).
    pub fn push(&self, q: &mut QueryBuilder<'_, Postgres>, tie: &str) {
        let order = match self.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        q.push(" ORDER BY ").push(self.column).push(" ").push(order);
        if self.column != tie {
            q.push(", ").push(tie).push(" ").push(order);
        }
        q.push(" LIMIT ")
            .push_bind(self.limit)
            .push(" OFFSET ")
            .push_bind(self.offset);
    }

    /// The `pagination` of the answer.
    pub fn echo(&self, total_count: i64) -> Pagination {
        Pagination {
            limit: Some(self.limit),
            offset: Some(self.offset),
            total_count: Some(total_count),
            sort_by: Some(self.sort_by.clone()),
            sort_order: Some(self.order),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[(&str, &str)] = &[
        ("last_modified_time", "p.last_modified_time"),
        ("id", "p.id"),
    ];

    #[test]
    fn paging_defaults_caps_and_whitelist() {
        let p = Page::of(None, 20, 100, COLS);
        assert_eq!(
            (p.limit, p.offset, p.column, p.order),
            (20, 0, "p.last_modified_time", SortOrder::Desc)
        );
        let req = Pagination {
            limit: Some(500),
            offset: Some(-3),
            total_count: None,
            sort_by: Some("id; DROP TABLE eg_program".into()),
            sort_order: Some(SortOrder::Asc),
        };
        let p = Page::of(Some(&req), 20, 100, COLS);
        assert_eq!(
            (p.limit, p.offset, p.column),
            (100, 0, "p.last_modified_time")
        );
        let req = Pagination {
            sort_by: Some("ID".into()),
            limit: Some(0),
            ..req
        };
        let p = Page::of(Some(&req), 20, 100, COLS);
        assert_eq!((p.limit, p.column, p.sort_by.as_str()), (20, "p.id", "id"));
    }
}
