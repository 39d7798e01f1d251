//! Turning one Kafka message into parameter rows (§2.3 with the binding rules of §2.2).
//!
//! [`plan`] selects the topic's mappings whose `version` the message satisfies, and for each
//! of their `queryMaps` (in config order) builds one row of [`BindValue`]s per record:
//!
//! **Records** (`basePath`):
//! * with `*`: the path is cut after its last `.*` (or `[*]`, an extension — upstream only
//!   understands `.*`) and evaluated; every element is a record (nested wildcards flatten).
//!   A `null` element is skipped. When the basePath goes on after the last `*`
//!   (`$.properties.*.address`), a record whose `address` (every key of that rest, in turn)
//!   is null or missing is skipped — optional child objects produce no row. The record
//!   itself is still the array element (the property), not the child.
//! * without `*`: the single value at the path is the record; a `null` value gives no row;
//!   an absent key is [`EvalError::PathNotFound`]. `service.address` works like
//!   `$.service.address` (paths are rooted).
//!
//! **Values** (`jsonMaps`, one per placeholder, checked in this order):
//! 1. a path with `{attr}`: every `{attr}` is replaced by the current record's top-level
//!    field `attr` as a JSON string literal (`"value"`, escaped), the path is evaluated
//!    against the whole message and the **first** match is bound as a plain scalar (no
//!    `type` conversion, as upstream). No match → [`EvalError::ParentRefEmpty`]; the record
//!    lacking `attr` (or holding `null`) → [`EvalError::ParentRefMissing`].
//! 2. `type: CURRENTDATE` → `now` ([`BindValue::Timestamp`] for `dbType: DATE`,
//!    [`BindValue::Long`] epoch ms for `dbType: LONG`).
//! 3. a path starting with `default` → [`BindValue::Null`].
//! 4. `type: ARRAY, dbType: STRING` → the full (indefinite) path is evaluated against the
//!    whole message and element *i* (*i* = the record's index among the basePath elements,
//!    skipped ones included) is rendered comma-joined without brackets or quotes
//!    (`["GRO","CSR"]` → `GRO,CSR`). An empty result, an empty list or `null` → NULL.
//! 5. a path containing `*.`: the part after the last `*.` is a plain dot path (no filters
//!    or indexes) looked up in the current record; anything missing → NULL.
//! 6. otherwise the path is evaluated against the whole message: a definite path whose key
//!    is absent → [`EvalError::PathNotFound`]; present `null` → NULL; an indefinite path
//!    yields the list of matches.
//!
//! **Conversions** of the value found by 4–6: `JSON`+`STRING` → JSON text (`null` → the text
//! `null`, as Jackson writes it); `JSON`+`JSONB` → [`BindValue::Json`] (`null` → jsonb
//! `null`); `LONG`+`DATE` → [`BindValue::Date`] of the epoch ms (UTC); `DATE` → the text
//! parsed as `dd/MM/yyyy` (leniently, like `SimpleDateFormat`) to midnight UTC; everything
//! else → the JSON scalar as is ([`BindValue::from_json`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use digit_jsonpath::{JsonPath, JsonPathError};
use serde_json::{Number, Value};

use super::config::{
    substitute_refs, BasePlan, Conversion, Mapping, PersisterConfig, QueryMap, Source,
};
use super::version::request_version;

/// One positional parameter, faithful to the JSON it came from. The store layer prepares the
/// statement, reads the parameter types PostgreSQL infers and converts each value to that
/// type (so no conversion here is lossy).
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// SQL `NULL`: a JSON `null`, a missing relative value, a `default…` path, an empty
    /// `ARRAY` result.
    Null,
    /// A JSON string; also the JSON text of `JSON`+`STRING` values, of objects/arrays bound
    /// to a plain column, and the comma-joined `ARRAY`+`STRING` rendering.
    Text(String),
    /// A JSON number with its exact text (`arbitrary_precision`): never rounded through
    /// `f64`. Bind it as the inferred type (`numeric`, `int8`, `text`, …).
    Number(Number),
    /// A JSON boolean.
    Bool(bool),
    /// `JSON`+`JSONB`: the value to bind as `jsonb` (JSON `null` stays the jsonb `null`).
    Json(Value),
    /// `CURRENTDATE`+`DATE` (now) or `DATE` (`dd/MM/yyyy` at midnight): a timestamp, as UTC
    /// wall-clock time (bind as `timestamp`, or `.and_utc()` for `timestamptz`).
    Timestamp(NaiveDateTime),
    /// `LONG`+`DATE`: the UTC calendar date of an epoch-millisecond value.
    Date(NaiveDate),
    /// `CURRENTDATE`+`LONG`: now as epoch milliseconds.
    Long(i64),
}

impl BindValue {
    /// The plain binding of a JSON value: scalars as themselves, objects and arrays as
    /// their JSON text.
    pub fn from_json(value: &Value) -> BindValue {
        match value {
            Value::Null => BindValue::Null,
            Value::Bool(b) => BindValue::Bool(*b),
            Value::Number(n) => BindValue::Number(n.clone()),
            Value::String(s) => BindValue::Text(s.clone()),
            Value::Array(_) | Value::Object(_) => BindValue::Text(value.to_string()),
        }
    }

    /// True for [`BindValue::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, BindValue::Null)
    }
}

/// One query of one mapping with the rows to execute it for (a JDBC-style batch).
#[derive(Debug, Clone)]
pub struct Statement {
    /// The mapping the query belongs to.
    pub mapping: Arc<Mapping>,
    /// Index of the query in `mapping.query_maps`.
    pub query_index: usize,
    /// The SQL with `$1..$n` placeholders.
    pub sql: Arc<str>,
    /// One parameter row per record, in `jsonMaps` order. May be empty (nothing to write —
    /// upstream skips the query then).
    pub rows: Vec<Vec<BindValue>>,
}

impl Statement {
    /// The query map this statement executes.
    pub fn query_map(&self) -> Option<&QueryMap> {
        self.mapping.query_maps.get(self.query_index)
    }
}

/// Where an evaluation error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalContext {
    /// The mapping's label (`#0 (fromTopic "save-x", name "y")`) and file.
    pub mapping: String,
    /// Index of the query map.
    pub query_index: usize,
    /// The query as written in the config.
    pub query: String,
}

impl fmt::Display for EvalContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mapping {}, queryMaps[{}] ({})",
            self.mapping, self.query_index, self.query
        )
    }
}

/// Why a message cannot be persisted. Every variant is a property of the message (given the
/// configs), so retrying cannot help: the message is poison and goes to the dead-letter
/// topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A definite path (basePath without `*`, an absolute jsonPath, or the definite prefix of
    /// any path) names a key the message does not have (Jayway `PathNotFoundException`).
    #[error("path {path:?} not found ({detail}) in {at}")]
    PathNotFound {
        /// The path as evaluated.
        path: String,
        /// The JSONPath engine's message.
        detail: String,
        /// Where.
        at: EvalContext,
    },
    /// A path cannot be applied to this message (e.g. a filter over a string).
    #[error("path {path:?} cannot be evaluated ({detail}) in {at}")]
    InvalidPath {
        /// The path as evaluated.
        path: String,
        /// The JSONPath engine's message.
        detail: String,
        /// Where.
        at: EvalContext,
    },
    /// A `{attr}` reference names a field the current record lacks or holds `null`.
    #[error("path {path:?}: the record has no value for {{{attr}}} in {at}")]
    ParentRefMissing {
        /// The jsonPath as configured.
        path: String,
        /// The attribute.
        attr: String,
        /// Where.
        at: EvalContext,
    },
    /// A `{attr}` path matched nothing (upstream: `IndexOutOfBoundsException`).
    #[error("path {path:?} matched nothing in {at}")]
    ParentRefEmpty {
        /// The path after substitution.
        path: String,
        /// Where.
        at: EvalContext,
    },
    /// `ARRAY`+`STRING`: the list has no element for this record (basePath and array path
    /// have different shapes).
    #[error("path {path:?} has {len} element(s), none for record {index} in {at}")]
    ArrayIndexOutOfRange {
        /// The jsonPath.
        path: String,
        /// The record index.
        index: usize,
        /// The list length.
        len: usize,
        /// Where.
        at: EvalContext,
    },
    /// `LONG`+`DATE`: the value is not an integer number of epoch milliseconds.
    #[error("path {path:?}: {value} is not epoch milliseconds in {at}")]
    InvalidDate {
        /// The jsonPath.
        path: String,
        /// The value found (JSON text).
        value: String,
        /// Where.
        at: EvalContext,
    },
}

/// The mappings of `topic` that apply to `message`: those whose `version` range the request
/// version ([`request_version`], default from the config) satisfies, in config order.
pub fn applicable_mappings<'c>(
    config: &'c PersisterConfig,
    topic: &str,
    message: &Value,
) -> Vec<&'c Arc<Mapping>> {
    let version = request_version(message, config.default_version());
    config
        .mappings(topic)
        .iter()
        .filter(|m| m.version.matches(&version))
        .collect()
}

/// Everything to execute for one message of `topic`, in order: every applicable mapping
/// (config order), every query map (in order). An unknown topic yields nothing. `now` is the
/// clock for `CURRENTDATE`.
pub fn plan(
    config: &PersisterConfig,
    topic: &str,
    message: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<Statement>, EvalError> {
    let mut out = Vec::new();
    for mapping in applicable_mappings(config, topic, message) {
        for (query_index, qm) in mapping.query_maps.iter().enumerate() {
            let rows = rows_for(mapping, query_index, message, now)?;
            out.push(Statement {
                mapping: Arc::clone(mapping),
                query_index,
                sql: Arc::clone(&qm.sql),
                rows,
            });
        }
    }
    Ok(out)
}

/// The parameter rows of query map `query_index` of `mapping` for `message`.
/// Returns no rows when `query_index` is out of range.
pub fn rows_for(
    mapping: &Mapping,
    query_index: usize,
    message: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<Vec<BindValue>>, EvalError> {
    let Some(qm) = mapping.query_maps.get(query_index) else {
        return Ok(Vec::new());
    };
    let at = || EvalContext {
        mapping: format!("{} in {}", mapping.label(), mapping.file.display()),
        query_index,
        query: qm.query.clone(),
    };
    let ev = Evaluator {
        message,
        now,
        at: &at,
    };
    ev.rows(qm)
}

struct Evaluator<'m, 'a> {
    message: &'m Value,
    now: DateTime<Utc>,
    at: &'a dyn Fn() -> EvalContext,
}

impl<'m> Evaluator<'m, '_> {
    fn path_error(&self, path: &str, e: JsonPathError) -> EvalError {
        match e {
            JsonPathError::PathNotFound(detail) => EvalError::PathNotFound {
                path: path.to_string(),
                detail,
                at: (self.at)(),
            },
            other => EvalError::InvalidPath {
                path: path.to_string(),
                detail: other.to_string(),
                at: (self.at)(),
            },
        }
    }

    fn rows(&self, qm: &QueryMap) -> Result<Vec<Vec<BindValue>>, EvalError> {
        let (records, child): (Vec<Cow<'m, Value>>, &[String]) = match &qm.base {
            BasePlan::Single(path) => {
                let one = path
                    .read(self.message)
                    .map_err(|e| self.path_error(&qm.base_path, e))?;
                (one, &[])
            }
            BasePlan::Iterate { records, child } => (
                records
                    .read(self.message)
                    .map_err(|e| self.path_error(records.as_str(), e))?,
                child.as_slice(),
            ),
        };

        let mut rows = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            let record: &Value = record;
            if record.is_null() || child_missing(record, child) {
                continue;
            }
            let mut row = Vec::with_capacity(qm.json_maps.len());
            for jm in &qm.json_maps {
                row.push(self.value(jm, record, index)?);
            }
            rows.push(row);
        }
        Ok(rows)
    }

    fn value(
        &self,
        jm: &super::config::JsonMap,
        record: &Value,
        index: usize,
    ) -> Result<BindValue, EvalError> {
        let found: Cow<'m, Value> = match &jm.plan.source {
            Source::ParentRef { template } => return self.parent_ref(template, record),
            Source::CurrentDate { as_millis } => {
                return Ok(if *as_millis {
                    BindValue::Long(self.now.timestamp_millis())
                } else {
                    BindValue::Timestamp(self.now.naive_utc())
                })
            }
            Source::Default => return Ok(BindValue::Null),
            Source::ArrayString(path) => return self.array_string(path, index),
            Source::Relative(keys) => Cow::Owned(relative(record, keys)),
            Source::Absolute(path) => Cow::Owned(
                path.read_value(self.message)
                    .map_err(|e| self.path_error(path.as_str(), e))?,
            ),
        };
        self.convert(jm, &found)
    }

    fn parent_ref(&self, template: &str, record: &Value) -> Result<BindValue, EvalError> {
        let substituted = substitute_refs(template, |attr| {
            let v = record.get(attr).filter(|v| !v.is_null())?;
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // A JSON string literal is a valid JSONPath string literal.
            Some(Value::String(text).to_string())
        })
        .map_err(|attr| EvalError::ParentRefMissing {
            path: template.to_string(),
            attr,
            at: (self.at)(),
        })?;
        let path = JsonPath::parse(&substituted).map_err(|e| EvalError::InvalidPath {
            path: substituted.clone(),
            detail: e.to_string(),
            at: (self.at)(),
        })?;
        let found = path
            .read(self.message)
            .map_err(|e| self.path_error(&substituted, e))?;
        match found.first() {
            Some(v) => Ok(BindValue::from_json(v)),
            None => Err(EvalError::ParentRefEmpty {
                path: substituted,
                at: (self.at)(),
            }),
        }
    }

    fn array_string(&self, path: &JsonPath, index: usize) -> Result<BindValue, EvalError> {
        let list = path
            .read(self.message)
            .map_err(|e| self.path_error(path.as_str(), e))?;
        if list.is_empty() {
            return Ok(BindValue::Null);
        }
        let Some(element) = list.get(index) else {
            return Err(EvalError::ArrayIndexOutOfRange {
                path: path.as_str().to_string(),
                index,
                len: list.len(),
                at: (self.at)(),
            });
        };
        Ok(match &**element {
            Value::Null => BindValue::Null,
            Value::Array(items) if items.is_empty() => BindValue::Null,
            Value::Array(items) => {
                BindValue::Text(items.iter().map(plain_text).collect::<Vec<_>>().join(","))
            }
            other => BindValue::Text(plain_text(other)),
        })
    }

    fn convert(&self, jm: &super::config::JsonMap, value: &Value) -> Result<BindValue, EvalError> {
        Ok(match jm.plan.conversion {
            Conversion::Raw => BindValue::from_json(value),
            Conversion::JsonText => BindValue::Text(value.to_string()),
            Conversion::Jsonb => BindValue::Json(value.clone()),
            Conversion::EpochToDate => {
                if value.is_null() {
                    BindValue::Null
                } else {
                    let date = epoch_millis(value)
                        .and_then(DateTime::from_timestamp_millis)
                        .map(|t| t.date_naive())
                        .ok_or_else(|| EvalError::InvalidDate {
                            path: jm.json_path.clone(),
                            value: value.to_string(),
                            at: (self.at)(),
                        })?;
                    BindValue::Date(date)
                }
            }
            Conversion::DayMonthYear => {
                if value.is_null() {
                    BindValue::Null
                } else {
                    parse_day_month_year(&plain_text(value))
                        .map_or(BindValue::Null, BindValue::Timestamp)
                }
            }
        })
    }
}

/// A string as its content, anything else as JSON text.
fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// True when `child` is non-empty and some key along it is null/missing in `record`.
fn child_missing(record: &Value, child: &[String]) -> bool {
    let mut cur = record;
    for key in child {
        match cur.get(key.as_str()) {
            Some(v) if !v.is_null() => cur = v,
            _ => return true,
        }
    }
    false
}

/// The value at the dot-separated `keys` inside `record`, `null` when anything is missing.
fn relative(record: &Value, keys: &[String]) -> Value {
    let mut cur = record;
    for key in keys {
        match cur.get(key.as_str()) {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// `Long.parseLong(value.toString())`: an integer number, or a string of one.
fn epoch_millis(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.to_string().parse().ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `new SimpleDateFormat("dd/MM/yyyy").parse(text)` (lenient): digits `/` digits `/` digits
/// at the start of the text, trailing text ignored, out-of-range days and months rolled over
/// (`31/02/2021` → 3 March 2021), at midnight. `None` when it does not parse.
pub fn parse_day_month_year(text: &str) -> Option<NaiveDateTime> {
    fn number(s: &str) -> Option<(i64, &str)> {
        let end = s
            .char_indices()
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if end == 0 || end > 9 {
            return None;
        }
        Some((s[..end].parse().ok()?, &s[end..]))
    }
    let (day, rest) = number(text)?;
    let rest = rest.strip_prefix('/')?;
    let (month, rest) = number(rest)?;
    let rest = rest.strip_prefix('/')?;
    let (year, _) = number(rest)?;

    let first_of_year = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1)?;
    let months = month - 1;
    let first_of_month = if months >= 0 {
        first_of_year.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        first_of_year.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    let date = first_of_month.checked_add_signed(TimeDelta::try_days(day - 1)?)?;
    date.and_hms_opt(0, 0, 0)
}
