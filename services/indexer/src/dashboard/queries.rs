//! The aggregation requests of the dashboard and the figures read back from the answers.
//!
//! Pure functions, no I/O: `*_query` builds one `_search` body per index (`size: 0`,
//! aggregations only — no document is ever fetched for a figure), `parse_*` reads the
//! answer into typed figures. A missing aggregation (a missing index answers without any)
//! reads as zero. The rules (which field each filter uses, what "closed" and "SLA breach"
//! mean) are documented in README "Indexer dashboard".

use chrono::DateTime;
use digit_core::Money;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// A range shorter than this many days is drawn per day; longer or open ranges per month.
pub const DAILY_UNDER_DAYS: i64 = 92;
/// Empty buckets are filled across the requested range only up to this many buckets.
pub const MAX_FILLED_BUCKETS: i64 = 400;
/// The status of a complaint the citizen withdrew: neither closed by the city nor open.
pub const CANCELLED: &str = "CANCELLED";

/// Fields of `pgr-services` (upstream's document shape, strings dynamically mapped with
/// `.keyword`, as upstream's DSS queries them).
pub mod pgr {
    /// Tenant.
    pub const TENANT: &str = "Data.service.tenantId.keyword";
    /// Workflow status.
    pub const STATUS: &str = "Data.service.applicationStatus.keyword";
    /// Department name (MDMS enrichment).
    pub const DEPARTMENT: &str = "Data.department.keyword";
    /// Ward (boundary enrichment).
    pub const WARD: &str = "Data.ward.name.keyword";
    /// The citizen who filed it.
    pub const CITIZEN: &str = "Data.service.citizen.uuid.keyword";
    /// The index timestamp: the complaint's last change (upstream's `timeStampField`),
    /// DSS's `dateRefField`.
    pub const TIMESTAMP: &str = "Data.@timestamp";
    /// Filed at (epoch ms).
    pub const CREATED: &str = "Data.service.auditDetails.createdTime";
    /// Last changed at (epoch ms).
    pub const MODIFIED: &str = "Data.service.auditDetails.lastModifiedTime";
    /// The complaint type's SLA (MDMS `ComplaintHierarchy.slaHours`).
    pub const SLA_HOURS: &str = "Data.slaHours";
}

/// Fields of an index of money movements with a status (payment instructions,
/// disbursements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountFields {
    /// Tenant (keyword).
    pub tenant: &'static str,
    /// The date the range filters on.
    pub date: &'static str,
    /// Status (keyword).
    pub status: &'static str,
    /// Gross amount (numeric).
    pub gross: &'static str,
    /// Net amount (numeric).
    pub net: &'static str,
}

/// `ifms-pi-index` (upstream's `ifms-pi-indexer.yml`): no `@timestamp`, so PIs are
/// dated by creation, the config's `timeStampField`.
pub const PAYMENT_INSTRUCTION: AmountFields = AmountFields {
    tenant: "Data.tenantId.keyword",
    date: "Data.auditDetails.createdTime",
    status: "Data.piStatus.keyword",
    gross: "Data.grossAmount",
    net: "Data.netAmount",
};

/// `ifix-disbursements` (the program service's ledger events, latest state per
/// disbursement): dated by the event (`@timestamp`, the last change).
pub const DISBURSEMENT: AmountFields = AmountFields {
    tenant: "Data.disburse.location_code.keyword",
    date: "Data.@timestamp",
    status: "Data.disburse.status.status_code.keyword",
    gross: "Data.disburse.gross_amount",
    net: "Data.disburse.net_amount",
};

/// Fields of `ifix-sanctions` (latest state per sanction).
pub mod sanction {
    /// Tenant.
    pub const TENANT: &str = "Data.sanction.location_code.keyword";
    /// Program code.
    pub const PROGRAM: &str = "Data.sanction.program_code.keyword";
    /// Prefix of the exchange-code fields (`<prefix><code>.keyword`).
    pub const CODE_PREFIX: &str = "Data.sanction.";
    /// Sanctioned (gross, the allocation ceiling).
    pub const SANCTIONED: &str = "Data.sanction.gross_amount";
    /// Allocated (Σ allocations − Σ deductions).
    pub const ALLOCATED: &str = "Data.sanction.allocated_amount";
    /// Available (allocated − disbursed + refunds).
    pub const AVAILABLE: &str = "Data.sanction.available_amount";
}

/// Fields of `exchange-events-v1` (upstream's `digit-exchange-indexer.yml`).
pub mod exchange {
    /// The message's own tenant (iFIX entities carry `location_code`; an encrypted
    /// message has none).
    pub const TENANT: &str = "Data.message.location_code.keyword";
    /// When the message was sent (epoch ms, the config's `timeStampField`).
    pub const SENT: &str = "Data.header.message_ts";
    /// `program`, `on-sanction`, …
    pub const TYPE: &str = "Data.header.message_type.keyword";
}

/// The eight iFIX exchange codes a sanction carries; one of them is the dashboard's
/// "head of account" (README).
pub const EXCHANGE_CODES: [&str; 8] = [
    "function_code",
    "administration_code",
    "recipient_segment_code",
    "economic_segment_code",
    "source_of_fund_code",
    "target_segment_code",
    "currency_code",
    "locale_code",
];

/// What the caller asked for: a tenant (and every tenant below it) and an inclusive
/// range of epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `pg.citya`; `pg` also covers `pg.citya`, `pg.cityb`, …; `None` for all.
    pub tenant_id: Option<String>,
    /// From (inclusive).
    pub from: Option<i64>,
    /// To (inclusive).
    pub to: Option<i64>,
}

impl Filter {
    /// The query clauses for an index whose tenant is `tenant_field` and whose date is
    /// `date_field` (`None`: the range does not apply).
    fn clauses(&self, tenant_field: &str, date_field: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(tenant) = &self.tenant_id {
            out.push(json!({"bool": {"should": [
                {"term": {tenant_field: tenant}},
                {"prefix": {tenant_field: format!("{tenant}.")}}
            ], "minimum_should_match": 1}}));
        }
        if let Some(field) = date_field {
            let mut range = Map::new();
            if let Some(from) = self.from {
                range.insert("gte".into(), from.into());
            }
            if let Some(to) = self.to {
                range.insert("lte".into(), to.into());
            }
            if !range.is_empty() {
                out.push(json!({"range": {field: range}}));
            }
        }
        out
    }

    /// `{"bool": {"filter": [...]}}` over [`Self::clauses`].
    fn query(&self, tenant_field: &str, date_field: Option<&str>) -> Value {
        json!({"bool": {"filter": self.clauses(tenant_field, date_field)}})
    }
}

/// Bucket width of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// Calendar days (UTC).
    Day,
    /// Calendar months (UTC).
    Month,
}

impl Interval {
    /// Per day for a closed range shorter than [`DAILY_UNDER_DAYS`], else per month.
    pub fn for_range(from: Option<i64>, to: Option<i64>) -> Self {
        match (from, to) {
            (Some(f), Some(t)) if t.saturating_sub(f) < DAILY_UNDER_DAYS * DAY_MS => Self::Day,
            _ => Self::Month,
        }
    }

    fn calendar(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    /// Longest span (ms) whose empty buckets are still filled in.
    fn fill_limit(self) -> i64 {
        match self {
            Self::Day => MAX_FILLED_BUCKETS * DAY_MS,
            Self::Month => MAX_FILLED_BUCKETS * 31 * DAY_MS,
        }
    }
}

/// A `date_histogram` in UTC (numeric epoch-ms fields take no time zone), with the
/// requested range's empty buckets filled in when the range is closed and not too long.
fn histogram(field: &str, interval: Interval, filter: &Filter) -> Value {
    let mut h =
        json!({"field": field, "calendar_interval": interval.calendar(), "min_doc_count": 0});
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if to.saturating_sub(from) <= interval.fill_limit() {
            h["extended_bounds"] = json!({"min": from, "max": to});
        }
    }
    json!({"date_histogram": h})
}

fn terms(field: &str, size: u32) -> Value {
    json!({"terms": {"field": field, "size": size}})
}

fn missing(field: &str) -> Value {
    json!({"missing": {"field": field}})
}

fn exists(field: &str) -> Value {
    json!({"exists": {"field": field}})
}

fn sum(field: &str) -> Value {
    json!({"sum": {"field": field}})
}

fn script(source: String, params: Value) -> Value {
    json!({"script": {"script": {"source": source, "lang": "painless", "params": params}}})
}

/// Hours as whole milliseconds.
pub fn hours_to_ms(hours: f64) -> i64 {
    // Bounded by validation (request and settings) to well inside i64.
    (hours * 3_600_000.0).round() as i64
}

/// How a complaint's SLA is decided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "rule", rename_all = "camelCase")]
pub enum SlaRule {
    /// Each complaint's own `slaHours` (its type's SLA from MDMS); `default_hours` for a
    /// document without one.
    #[serde(rename_all = "camelCase")]
    PerComplaint {
        /// SLA of a complaint whose document has no `slaHours`.
        default_hours: f64,
    },
    /// One SLA for every complaint (upstream DSS uses 48 h).
    #[serde(rename_all = "camelCase")]
    Fixed {
        /// The SLA.
        hours: f64,
    },
}

/// What the complaint figures depend on besides the filter.
#[derive(Debug, Clone)]
pub struct ComplaintOptions<'a> {
    /// Statuses that count as closed (resolution time, SLA of closed complaints).
    pub closed_statuses: &'a [String],
    /// SLA rule.
    pub sla: SlaRule,
    /// "Now" for open complaints past their SLA (epoch ms).
    pub now: i64,
    /// Buckets per breakdown.
    pub terms_size: u32,
    /// Width of the time series.
    pub interval: Interval,
}

/// Closed within the SLA: `lastModifiedTime − createdTime < SLA`. With a fixed SLA the
/// script is upstream DSS's own ("Closed With In Sla"). A per-complaint SLA reads
/// `slaHours` only where it exists: behind an `exists` filter (a script touching a field
/// no document has fails in ES) and a `size()` guard (an engine may run the script on
/// every document).
fn within_sla(rule: SlaRule) -> Value {
    use pgr::{CREATED, MODIFIED, SLA_HOURS};
    let below = |rhs: &str| format!("doc['{MODIFIED}'].value - doc['{CREATED}'].value < {rhs}");
    let timed = vec![exists(CREATED), exists(MODIFIED)];
    match rule {
        SlaRule::Fixed { hours } => {
            let mut clauses = timed;
            clauses.push(script(
                below("params.threshold"),
                json!({"threshold": hours_to_ms(hours)}),
            ));
            json!({"bool": {"filter": clauses}})
        }
        SlaRule::PerComplaint { default_hours } => json!({"bool": {
            "filter": timed,
            "should": [
                {"bool": {"filter": [
                    exists(SLA_HOURS),
                    script(
                        format!("doc['{SLA_HOURS}'].size() != 0 && {}", below(&format!("doc['{SLA_HOURS}'].value * 3600000.0"))),
                        json!({})
                    )
                ]}},
                {"bool": {
                    "must_not": [exists(SLA_HOURS)],
                    "filter": [script(below("params.threshold"), json!({"threshold": hours_to_ms(default_hours)}))]
                }}
            ],
            "minimum_should_match": 1
        }}),
    }
}

/// Open past the SLA: `now − createdTime ≥ SLA`, i.e. `createdTime ≤ now − SLA`.
fn overdue(rule: SlaRule, now: i64) -> Value {
    use pgr::{CREATED, SLA_HOURS};
    let filed_before = |ms: i64| json!({"range": {CREATED: {"lte": now.saturating_sub(ms)}}});
    match rule {
        SlaRule::Fixed { hours } => filed_before(hours_to_ms(hours)),
        SlaRule::PerComplaint { default_hours } => json!({"bool": {
            "filter": [exists(CREATED)],
            "should": [
                {"bool": {"filter": [
                    exists(SLA_HOURS),
                    script(
                        format!("doc['{SLA_HOURS}'].size() != 0 && params.now - doc['{CREATED}'].value >= doc['{SLA_HOURS}'].value * 3600000.0"),
                        json!({"now": now})
                    )
                ]}},
                {"bool": {"must_not": [exists(SLA_HOURS)], "filter": [filed_before(hours_to_ms(default_hours))]}}
            ],
            "minimum_should_match": 1
        }}),
    }
}

/// The `pgr-services` search: breakdowns by status, department, ward and tenant, the
/// time series, distinct citizens, resolution time and SLA of closed complaints, open
/// complaints past their SLA. The date range applies to `Data.@timestamp`.
pub fn complaints_query(filter: &Filter, opts: &ComplaintOptions<'_>) -> Value {
    use pgr::*;
    let size = opts.terms_size;
    let mut not_open: Vec<String> = opts.closed_statuses.to_vec();
    not_open.push(CANCELLED.to_owned());
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": filter.query(TENANT, Some(TIMESTAMP)),
        "aggs": {
            "by_status": terms(STATUS, size),
            "no_status": missing(STATUS),
            "by_department": terms(DEPARTMENT, size),
            "no_department": missing(DEPARTMENT),
            "by_ward": terms(WARD, size),
            "no_ward": missing(WARD),
            "by_tenant": terms(TENANT, size),
            "over_time": histogram(TIMESTAMP, opts.interval, filter),
            "citizens": {"cardinality": {"field": CITIZEN, "precision_threshold": 40000}},
            "closed": {
                "filter": {"terms": {STATUS: opts.closed_statuses}},
                "aggs": {
                    "timed": {
                        "filter": {"bool": {"filter": [exists(CREATED), exists(MODIFIED)]}},
                        "aggs": {
                            "created": {"avg": {"field": CREATED}},
                            "modified": {"avg": {"field": MODIFIED}}
                        }
                    },
                    "within_sla": {
                        "filter": within_sla(opts.sla),
                        "aggs": {"by_tenant": terms(TENANT, size)}
                    }
                }
            },
            "open_overdue": {"filter": {"bool": {
                "must_not": [{"terms": {STATUS: not_open}}],
                "filter": [overdue(opts.sla, opts.now)]
            }}}
        }
    })
}

fn amount_sums(fields: &AmountFields) -> Value {
    json!({"gross": sum(fields.gross), "net": sum(fields.net)})
}

/// A payment-instruction or disbursement search: count and amounts, by status.
pub fn amounts_query(filter: &Filter, fields: &AmountFields, terms_size: u32) -> Value {
    let mut aggs = amount_sums(fields);
    aggs["by_status"] =
        json!({"terms": {"field": fields.status, "size": terms_size}, "aggs": amount_sums(fields)});
    aggs["no_status"] = json!({"missing": {"field": fields.status}, "aggs": amount_sums(fields)});
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": filter.query(fields.tenant, Some(fields.date)),
        "aggs": aggs
    })
}

fn fund_sums() -> Value {
    json!({
        "sanctioned": sum(sanction::SANCTIONED),
        "allocated": sum(sanction::ALLOCATED),
        "available": sum(sanction::AVAILABLE)
    })
}

/// The `ifix-sanctions` search: sanctioned / allocated / available per program and head
/// of account (`head_code`, one of [`EXCHANGE_CODES`]). Balances are the sanctions'
/// current state, so the date range does not apply.
pub fn funds_query(filter: &Filter, head_code: &str, terms_size: u32) -> Value {
    let head = format!("{}{head_code}.keyword", sanction::CODE_PREFIX);
    let mut per_program = fund_sums();
    per_program["by_head"] =
        json!({"terms": {"field": head, "size": terms_size}, "aggs": fund_sums()});
    per_program["no_head"] = json!({"missing": {"field": head}, "aggs": fund_sums()});
    let mut aggs = fund_sums();
    aggs["by_program"] = json!({"terms": {"field": sanction::PROGRAM, "size": terms_size}, "aggs": per_program.clone()});
    aggs["no_program"] = json!({"missing": {"field": sanction::PROGRAM}, "aggs": per_program});
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": filter.query(sanction::TENANT, None),
        "aggs": aggs
    })
}

/// The `exchange-events-v1` search: messages per day and by type. Always per day (the
/// empty days of a range up to [`MAX_FILLED_BUCKETS`] days are filled in).
pub fn exchange_query(filter: &Filter, terms_size: u32) -> Value {
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": filter.query(exchange::TENANT, Some(exchange::SENT)),
        "aggs": {
            "per_day": histogram(exchange::SENT, Interval::Day, filter),
            "by_type": terms(exchange::TYPE, terms_size),
            "no_type": missing(exchange::TYPE)
        }
    })
}

// ---------------------------------------------------------------------------- figures

/// One bucket of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Bucket {
    /// The value (status, department, …).
    pub key: String,
    /// Documents with it.
    pub count: u64,
}

/// Counts by the values of one field: the largest buckets, the documents in further
/// buckets (`other`) and those without the field (`missing`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Breakdown {
    /// Σ buckets + other + missing.
    pub total: u64,
    /// Largest first (ties by key).
    pub buckets: Vec<Bucket>,
    /// In buckets beyond the configured size.
    pub other: u64,
    /// Without the field.
    pub missing: u64,
}

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Point {
    /// Bucket start, epoch ms (UTC).
    pub key: i64,
    /// Bucket start, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Documents in the bucket.
    pub count: u64,
}

/// A time series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Series {
    /// Bucket width.
    pub interval: Interval,
    /// Σ counts.
    pub total: u64,
    /// Oldest first.
    pub points: Vec<Point>,
}

/// SLA figures of complaints.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    /// The rule used (`"rule": "perComplaint", "defaultHours"` or `"rule": "fixed", "hours"`).
    #[serde(flatten)]
    pub rule: SlaRule,
    /// Closed complaints.
    pub closed: u64,
    /// … closed within their SLA.
    pub closed_within_sla: u64,
    /// … closed later (a breach).
    pub closed_late: u64,
    /// Open complaints already past their SLA (a breach).
    pub open_overdue: u64,
    /// closed late + open overdue.
    pub breaches: u64,
    /// `closed_within_sla` per tenant (DSS's "Closed With In Sla" buckets).
    pub closed_within_sla_by_tenant: Vec<Bucket>,
}

/// Resolution time of closed complaints: avg(lastModifiedTime) − avg(createdTime).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// Closed complaints with both times.
    pub resolved: u64,
    /// Average, whole ms; `None` without closed complaints.
    pub average_ms: Option<i64>,
    /// Average in hours (2 decimals).
    pub average_hours: Option<f64>,
}

/// Complaint figures.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Complaints {
    /// Complaints in the selection.
    pub total: u64,
    /// By workflow status.
    pub by_status: Breakdown,
    /// By department.
    pub by_department: Breakdown,
    /// By ward.
    pub by_ward: Breakdown,
    /// By tenant (DSS's "Total Applications" buckets).
    pub by_tenant: Breakdown,
    /// By `@timestamp`.
    pub over_time: Series,
    /// Distinct citizens (exact below 40,000: ES cardinality's precision threshold).
    pub citizens: u64,
    /// SLA.
    pub sla: Sla,
    /// Resolution time.
    pub resolution: Resolution,
}

/// A count with its amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    /// Documents.
    pub count: u64,
    /// Σ gross (rounded to paise).
    pub gross_amount: Money,
    /// Σ net (rounded to paise).
    pub net_amount: Money,
}

/// A status with its count and amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountBucket {
    /// The status.
    pub key: String,
    /// Count and amounts.
    #[serde(flatten)]
    pub amounts: Amounts,
}

/// Payment instructions or disbursements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payments {
    /// Everything selected.
    #[serde(flatten)]
    pub total: Amounts,
    /// By status, largest count first.
    pub by_status: Vec<AmountBucket>,
    /// In statuses beyond the configured size.
    pub other: Amounts,
    /// Without a status.
    pub missing: Amounts,
}

/// Sanctioned, allocated and available amounts of some sanctions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Funds {
    /// Sanctions.
    pub sanctions: u64,
    /// Σ gross amounts sanctioned.
    pub sanctioned: Money,
    /// Σ allocated.
    pub allocated: Money,
    /// Σ available.
    pub available: Money,
}

/// The funds of one program and head of account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundsRow {
    /// Program code (`None`: sanctions without one).
    pub program_code: Option<String>,
    /// Head of account (`None`: sanctions without the code, e.g. made from a treasury
    /// allotment, which carries none).
    pub head_of_account: Option<String>,
    /// The amounts.
    #[serde(flatten)]
    pub funds: Funds,
}

/// Funds per program and head of account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundsSummary {
    /// The exchange code shown as head of account.
    pub head_of_account_code: String,
    /// Every sanction selected.
    #[serde(flatten)]
    pub total: Funds,
    /// Program × head, programs by sanction count, heads by sanction count.
    pub rows: Vec<FundsRow>,
    /// Sanctions in programs or heads beyond the configured size.
    pub other: Funds,
}

/// Messages through the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// Messages selected.
    pub total: u64,
    /// Per day (UTC).
    pub per_day: Series,
    /// By `message_type`.
    pub by_type: Breakdown,
}

// ---------------------------------------------------------------------------- parsing

/// `hits.total` (`{"value": n}`, or ES 6's bare number).
fn hits_total(answer: &Value) -> u64 {
    let total = &answer["hits"]["total"];
    total["value"]
        .as_u64()
        .or_else(|| total.as_u64())
        .unwrap_or(0)
}

fn doc_count(agg: &Value) -> u64 {
    agg["doc_count"].as_u64().unwrap_or(0)
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn buckets_of(agg: &Value) -> &[Value] {
    agg["buckets"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn bucket_list(agg: &Value) -> Vec<Bucket> {
    buckets_of(agg)
        .iter()
        .map(|b| Bucket {
            key: key_text(&b["key"]),
            count: doc_count(b),
        })
        .collect()
}

fn breakdown(terms_agg: &Value, missing_agg: &Value) -> Breakdown {
    let buckets = bucket_list(terms_agg);
    let other = terms_agg["sum_other_doc_count"].as_u64().unwrap_or(0);
    let missing = doc_count(missing_agg);
    let total = buckets.iter().map(|b| b.count).sum::<u64>() + other + missing;
    Breakdown {
        total,
        buckets,
        other,
        missing,
    }
}

fn series(agg: &Value, interval: Interval) -> Series {
    let points: Vec<Point> = buckets_of(agg)
        .iter()
        .filter_map(|b| {
            let key = b["key"].as_i64()?;
            let date = DateTime::from_timestamp_millis(key)?
                .format("%Y-%m-%d")
                .to_string();
            Some(Point {
                key,
                date,
                count: doc_count(b),
            })
        })
        .collect();
    Series {
        interval,
        total: points.iter().map(|p| p.count).sum(),
        points,
    }
}

/// A `sum` value as money rounded to paise (ES sums in double precision).
pub fn money(agg: &Value) -> Money {
    let value = agg["value"].as_f64().unwrap_or(0.0);
    if !value.is_finite() {
        return Money::ZERO;
    }
    match Decimal::from_str_exact(&format!("{value:.2}")) {
        Ok(d) if !d.is_zero() => Money(d.normalize()),
        _ => Money::ZERO,
    }
}

fn minus(a: Money, b: Money) -> Money {
    a.checked_sub(b)
        .map(|d| Money(d.decimal().normalize()))
        .unwrap_or(Money::ZERO)
}

/// Reads the [`complaints_query`] answer.
pub fn parse_complaints(answer: &Value, opts: &ComplaintOptions<'_>) -> Complaints {
    let aggs = &answer["aggregations"];
    let closed = &aggs["closed"];
    let timed = &closed["timed"];
    let within = &closed["within_sla"];
    let closed_count = doc_count(closed);
    let closed_within_sla = doc_count(within);
    let closed_late = closed_count.saturating_sub(closed_within_sla);
    let open_overdue = doc_count(&aggs["open_overdue"]);
    let resolved = doc_count(timed);
    let average_ms = match (
        timed["created"]["value"].as_f64(),
        timed["modified"]["value"].as_f64(),
    ) {
        (Some(created), Some(modified)) if resolved > 0 => {
            Some((modified - created).round() as i64)
        }
        _ => None,
    };
    Complaints {
        total: hits_total(answer),
        by_status: breakdown(&aggs["by_status"], &aggs["no_status"]),
        by_department: breakdown(&aggs["by_department"], &aggs["no_department"]),
        by_ward: breakdown(&aggs["by_ward"], &aggs["no_ward"]),
        by_tenant: breakdown(&aggs["by_tenant"], &Value::Null),
        over_time: series(&aggs["over_time"], opts.interval),
        citizens: aggs["citizens"]["value"].as_u64().unwrap_or(0),
        sla: Sla {
            rule: opts.sla,
            closed: closed_count,
            closed_within_sla,
            closed_late,
            open_overdue,
            breaches: closed_late + open_overdue,
            closed_within_sla_by_tenant: bucket_list(&within["by_tenant"]),
        },
        resolution: Resolution {
            resolved,
            average_ms,
            average_hours: average_ms.map(|ms| (ms as f64 / 36_000.0).round() / 100.0),
        },
    }
}

fn amounts(agg: &Value, count: u64) -> Amounts {
    Amounts {
        count,
        gross_amount: money(&agg["gross"]),
        net_amount: money(&agg["net"]),
    }
}

/// Reads the [`amounts_query`] answer.
pub fn parse_amounts(answer: &Value) -> Payments {
    let aggs = &answer["aggregations"];
    let total = amounts(aggs, hits_total(answer));
    let by_status: Vec<AmountBucket> = buckets_of(&aggs["by_status"])
        .iter()
        .map(|b| AmountBucket {
            key: key_text(&b["key"]),
            amounts: amounts(b, doc_count(b)),
        })
        .collect();
    let missing = amounts(&aggs["no_status"], doc_count(&aggs["no_status"]));
    let mut other = Amounts {
        count: aggs["by_status"]["sum_other_doc_count"]
            .as_u64()
            .unwrap_or(0),
        gross_amount: minus(total.gross_amount, missing.gross_amount),
        net_amount: minus(total.net_amount, missing.net_amount),
    };
    for b in &by_status {
        other.gross_amount = minus(other.gross_amount, b.amounts.gross_amount);
        other.net_amount = minus(other.net_amount, b.amounts.net_amount);
    }
    Payments {
        total,
        by_status,
        other,
        missing,
    }
}

fn funds(agg: &Value, count: u64) -> Funds {
    Funds {
        sanctions: count,
        sanctioned: money(&agg["sanctioned"]),
        allocated: money(&agg["allocated"]),
        available: money(&agg["available"]),
    }
}

fn program_rows(program: Option<String>, agg: &Value, rows: &mut Vec<FundsRow>) {
    for head in buckets_of(&agg["by_head"]) {
        rows.push(FundsRow {
            program_code: program.clone(),
            head_of_account: Some(key_text(&head["key"])),
            funds: funds(head, doc_count(head)),
        });
    }
    let no_head = &agg["no_head"];
    if doc_count(no_head) > 0 {
        rows.push(FundsRow {
            program_code: program,
            head_of_account: None,
            funds: funds(no_head, doc_count(no_head)),
        });
    }
}

/// Reads the [`funds_query`] answer.
pub fn parse_funds(answer: &Value, head_code: &str) -> FundsSummary {
    let aggs = &answer["aggregations"];
    let total = funds(aggs, hits_total(answer));
    let mut rows = Vec::new();
    for program in buckets_of(&aggs["by_program"]) {
        program_rows(Some(key_text(&program["key"])), program, &mut rows);
    }
    if doc_count(&aggs["no_program"]) > 0 {
        program_rows(None, &aggs["no_program"], &mut rows);
    }
    let mut other = total.clone();
    for row in &rows {
        other.sanctions = other.sanctions.saturating_sub(row.funds.sanctions);
        other.sanctioned = minus(other.sanctioned, row.funds.sanctioned);
        other.allocated = minus(other.allocated, row.funds.allocated);
        other.available = minus(other.available, row.funds.available);
    }
    FundsSummary {
        head_of_account_code: head_code.to_owned(),
        total,
        rows,
        other,
    }
}

/// Reads the [`exchange_query`] answer.
pub fn parse_exchange(answer: &Value) -> Exchange {
    let aggs = &answer["aggregations"];
    Exchange {
        total: hits_total(answer),
        per_day: series(&aggs["per_day"], Interval::Day),
        by_type: breakdown(&aggs["by_type"], &aggs["no_type"]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn closed() -> Vec<String> {
        vec!["RESOLVED".into(), "REJECTED".into()]
    }

    fn opts(closed: &[String], sla: SlaRule) -> ComplaintOptions<'_> {
        ComplaintOptions {
            closed_statuses: closed,
            sla,
            now: 1_800_000_000_000,
            terms_size: 10,
            interval: Interval::Month,
        }
    }

    #[test]
    fn ranges_under_92_days_are_daily_others_monthly() {
        let june_to_august = (1_717_200_000_000, 1_717_200_000_000 + 92 * DAY_MS - 1);
        assert_eq!(
            Interval::for_range(Some(june_to_august.0), Some(june_to_august.1)),
            Interval::Day
        );
        assert_eq!(
            Interval::for_range(Some(june_to_august.0), Some(june_to_august.1 + 1)),
            Interval::Month
        );
        assert_eq!(Interval::for_range(Some(0), None), Interval::Month);
        assert_eq!(Interval::for_range(None, None), Interval::Month);
    }

    #[test]
    fn a_tenant_filter_covers_the_tenants_below_it() {
        let f = Filter {
            tenant_id: Some("pg".into()),
            from: Some(5),
            to: None,
        };
        assert_eq!(
            f.clauses("t.keyword", Some("d")),
            vec![
                json!({"bool": {"should": [{"term": {"t.keyword": "pg"}}, {"prefix": {"t.keyword": "pg."}}], "minimum_should_match": 1}}),
                json!({"range": {"d": {"gte": 5}}})
            ]
        );
        assert_eq!(f.clauses("t", None).len(), 1);
        assert!(Filter::default().clauses("t", Some("d")).is_empty());
    }

    #[test]
    fn histograms_fill_closed_ranges_that_are_not_too_long() {
        let f = Filter {
            tenant_id: None,
            from: Some(0),
            to: Some(10 * DAY_MS),
        };
        assert_eq!(
            histogram("d", Interval::Day, &f),
            json!({"date_histogram": {"field": "d", "calendar_interval": "day", "min_doc_count": 0,
                "extended_bounds": {"min": 0, "max": 10 * DAY_MS}}})
        );
        let long = Filter {
            to: Some(401 * DAY_MS),
            ..f
        };
        assert!(histogram("d", Interval::Day, &long)["date_histogram"]
            .get("extended_bounds")
            .is_none());
        assert!(histogram("d", Interval::Month, &long)["date_histogram"]
            .get("extended_bounds")
            .is_some());
    }

    #[test]
    fn a_fixed_sla_is_upstream_dss_script() {
        let q = within_sla(SlaRule::Fixed { hours: 48.0 });
        let script = &q["bool"]["filter"][2]["script"]["script"];
        assert_eq!(
            script["source"],
            "doc['Data.service.auditDetails.lastModifiedTime'].value - doc['Data.service.auditDetails.createdTime'].value < params.threshold"
        );
        assert_eq!(script["params"]["threshold"], 172_800_000);
        assert_eq!(
            overdue(SlaRule::Fixed { hours: 48.0 }, 1_000_000_000),
            json!({"range": {"Data.service.auditDetails.createdTime": {"lte": 1_000_000_000 - 172_800_000}}})
        );
    }

    #[test]
    fn a_per_complaint_sla_reads_sla_hours_only_where_it_exists() {
        let q = within_sla(SlaRule::PerComplaint {
            default_hours: 48.0,
        });
        let own = &q["bool"]["should"][0]["bool"]["filter"];
        assert_eq!(own[0], exists(pgr::SLA_HOURS));
        assert!(own[1]["script"]["script"]["source"]
            .as_str()
            .unwrap()
            .contains("doc['Data.slaHours'].value * 3600000.0"));
        let fallback = &q["bool"]["should"][1]["bool"];
        assert_eq!(fallback["must_not"][0], exists(pgr::SLA_HOURS));
        assert_eq!(
            fallback["filter"][0]["script"]["script"]["params"]["threshold"],
            172_800_000
        );
        let o = overdue(SlaRule::PerComplaint { default_hours: 1.5 }, 10_000_000);
        assert_eq!(
            o["bool"]["should"][1]["bool"]["filter"][0],
            json!({"range": {pgr::CREATED: {"lte": 10_000_000 - 5_400_000}}})
        );
    }

    #[test]
    fn the_complaints_query_is_aggregations_only_and_open_excludes_closed_and_cancelled() {
        let c = closed();
        let q = complaints_query(
            &Filter::default(),
            &opts(
                &c,
                SlaRule::PerComplaint {
                    default_hours: 48.0,
                },
            ),
        );
        assert_eq!(q["size"], 0);
        assert_eq!(q["track_total_hits"], true);
        assert_eq!(
            q["aggs"]["closed"]["filter"],
            json!({"terms": {pgr::STATUS: ["RESOLVED", "REJECTED"]}})
        );
        assert_eq!(
            q["aggs"]["open_overdue"]["filter"]["bool"]["must_not"],
            json!([{"terms": {pgr::STATUS: ["RESOLVED", "REJECTED", "CANCELLED"]}}])
        );
        assert_eq!(
            q["aggs"]["citizens"],
            json!({"cardinality": {"field": pgr::CITIZEN, "precision_threshold": 40000}})
        );
    }

    #[test]
    fn complaint_figures_from_an_answer() {
        let answer = json!({
            "hits": {"total": {"value": 7, "relation": "eq"}},
            "aggregations": {
                "by_status": {"sum_other_doc_count": 1, "buckets": [{"key": "RESOLVED", "doc_count": 4}, {"key": "REJECTED", "doc_count": 1}]},
                "no_status": {"doc_count": 1},
                "by_department": {"sum_other_doc_count": 0, "buckets": [{"key": "Street Lights", "doc_count": 7}]},
                "no_department": {"doc_count": 0},
                "by_tenant": {"buckets": [{"key": "pg.citya", "doc_count": 7}]},
                "over_time": {"buckets": [{"key": 1_717_200_000_000_i64, "doc_count": 3}, {"key": 1_719_792_000_000_i64, "doc_count": 4}]},
                "citizens": {"value": 5},
                "closed": {"doc_count": 5,
                    "timed": {"doc_count": 5, "created": {"value": 1.7e12}, "modified": {"value": 1.700018e12}},
                    "within_sla": {"doc_count": 3, "by_tenant": {"buckets": [{"key": "pg.citya", "doc_count": 3}]}}},
                "open_overdue": {"doc_count": 1}
            }
        });
        let c = closed();
        let o = opts(&c, SlaRule::Fixed { hours: 48.0 });
        let f = parse_complaints(&answer, &o);
        assert_eq!(f.total, 7);
        assert_eq!(f.by_status.total, 7);
        assert_eq!(f.by_status.other, 1);
        assert_eq!(f.by_status.missing, 1);
        assert_eq!(
            f.by_ward,
            Breakdown::default(),
            "a missing aggregation is empty"
        );
        assert_eq!(f.over_time.total, 7);
        assert_eq!(f.over_time.points[0].date, "2024-06-01");
        assert_eq!(f.citizens, 5);
        assert_eq!(
            (
                f.sla.closed,
                f.sla.closed_within_sla,
                f.sla.closed_late,
                f.sla.open_overdue,
                f.sla.breaches
            ),
            (5, 3, 2, 1, 3)
        );
        assert_eq!(f.resolution.average_ms, Some(18_000_000));
        assert_eq!(f.resolution.average_hours, Some(5.0));
    }

    #[test]
    fn no_closed_complaints_means_no_average() {
        let c = closed();
        let f = parse_complaints(
            &json!({"hits": {"total": 0}, "aggregations": {"closed": {"doc_count": 0,
                "timed": {"doc_count": 0, "created": {"value": null}, "modified": {"value": null}}}}}),
            &opts(
                &c,
                SlaRule::PerComplaint {
                    default_hours: 48.0,
                },
            ),
        );
        assert_eq!(f.resolution.average_ms, None);
        assert_eq!(f.resolution.average_hours, None);
    }

    #[test]
    fn sums_are_rounded_to_paise_and_others_are_the_remainder() {
        assert_eq!(
            money(&json!({"value": 0.30000000000000004})).to_string(),
            "0.3"
        );
        assert_eq!(
            money(&json!({"value": 1.0000000003499999e9})).to_string(),
            "1000000000.35"
        );
        assert_eq!(money(&json!({"value": -0.001})), Money::ZERO);
        assert_eq!(money(&json!({"value": null})), Money::ZERO);
        let answer = json!({
            "hits": {"total": {"value": 4}},
            "aggregations": {
                "gross": {"value": 10.5}, "net": {"value": 9.5},
                "by_status": {"sum_other_doc_count": 1, "buckets": [
                    {"key": "SUCCESSFUL", "doc_count": 2, "gross": {"value": 0.30000000000000004}, "net": {"value": 0.3}}]},
                "no_status": {"doc_count": 1, "gross": {"value": 0.2}, "net": {"value": 0.2}}
            }
        });
        let p = parse_amounts(&answer);
        assert_eq!(p.total.count, 4);
        assert_eq!(p.by_status[0].amounts.gross_amount.to_string(), "0.3");
        assert_eq!(p.other.count, 1);
        assert_eq!(p.other.gross_amount.to_string(), "10");
        assert_eq!(p.missing.net_amount.to_string(), "0.2");
        let wire = serde_json::to_value(&p).unwrap();
        assert_eq!(wire["grossAmount"].to_string(), "10.5");
        assert_eq!(wire["byStatus"][0]["key"], "SUCCESSFUL");
        assert_eq!(wire["byStatus"][0]["count"], 2);
    }

    #[test]
    fn funds_rows_are_program_by_head_with_sanctions_without_a_head() {
        let sums = |s: f64| json!({"sanctioned": {"value": s}, "allocated": {"value": s / 2.0}, "available": {"value": 1.0}});
        let mut p1 = sums(30.0);
        p1["doc_count"] = 3.into();
        p1["key"] = "P1".into();
        let mut h = sums(20.0);
        h["doc_count"] = 2.into();
        h["key"] = "F1".into();
        p1["by_head"] = json!({"buckets": [h]});
        let mut nh = sums(10.0);
        nh["doc_count"] = 1.into();
        p1["no_head"] = nh;
        let mut aggs = sums(31.0);
        aggs["by_program"] = json!({"buckets": [p1]});
        aggs["no_program"] = json!({"doc_count": 0});
        let f = parse_funds(
            &json!({"hits": {"total": {"value": 4}}, "aggregations": aggs}),
            "function_code",
        );
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].head_of_account.as_deref(), Some("F1"));
        assert_eq!(f.rows[1].head_of_account, None);
        assert_eq!(f.rows[1].funds.sanctioned.to_string(), "10");
        assert_eq!(f.other.sanctions, 1);
        assert_eq!(f.other.sanctioned.to_string(), "1");
        let q = funds_query(&Filter::default(), "economic_segment_code", 5);
        assert_eq!(
            q["aggs"]["by_program"]["aggs"]["by_head"]["terms"]["field"],
            "Data.sanction.economic_segment_code.keyword"
        );
        assert!(q["query"]["bool"]["filter"].as_array().unwrap().is_empty());
    }

    #[test]
    fn funds_ignore_the_date_range() {
        let f = Filter {
            tenant_id: Some("pg.citya".into()),
            from: Some(1),
            to: Some(2),
        };
        let q = funds_query(&f, "function_code", 5);
        assert_eq!(q["query"]["bool"]["filter"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn exchange_messages_are_counted_per_day() {
        let q = exchange_query(&Filter::default(), 5);
        assert_eq!(
            q["aggs"]["per_day"]["date_histogram"]["calendar_interval"],
            "day"
        );
        let e = parse_exchange(&json!({"hits": {"total": {"value": 3}}, "aggregations": {
            "per_day": {"buckets": [{"key": 0, "doc_count": 2}, {"key": DAY_MS, "doc_count": 1}]},
            "by_type": {"buckets": [{"key": "program", "doc_count": 3}], "sum_other_doc_count": 0},
            "no_type": {"doc_count": 0}}}));
        assert_eq!(e.total, 3);
        assert_eq!(e.per_day.points[1].date, "1970-01-02");
        assert_eq!(e.by_type.total, 3);
    }
}
