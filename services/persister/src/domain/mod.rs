//! The persister's pure domain: egov-persister YAML configs and the evaluation of a Kafka
//! message against them (upstream-platform spec §2). No I/O except reading config files.
//!
//! * [`load_configs`] resolves `EGOV_PERSIST_YML_REPO_PATH`, parses and validates every
//!   mapping ([`PersisterConfig`], [`ConfigError`]);
//! * [`plan`] turns one message of a topic into the [`Statement`]s to execute in one
//!   transaction: SQL with `$n` placeholders and rows of [`BindValue`]s; failures are
//!   [`EvalError`]s (poison messages);
//! * [`VersionRange`] / [`request_version`] decide which mappings apply (§2.6);
//! * [`parse_query`] converts JDBC `?` placeholders.
//!
//! # Deviations from upstream (all deliberate)
//!
//! Refused at start-up (upstream loads them, then fails every message of the topic):
//! a `?` count different from the `jsonMaps` count; an unparsable `basePath`/`jsonPath`/
//! `version`; `type: LONG` with a `dbType` other than `DATE` and `type: CURRENTDATE`
//! without `dbType: DATE`/`LONG` (upstream binds no parameter and shifts the columns);
//! PostgreSQL `$n` parameters in a query; missing `fromTopic`/`query`/`basePath`/`jsonPath`.
//!
//! Accepted with a warning ([`PersisterConfig::warnings`]) where upstream throws on every
//! message: a mapping without `version` (applies to every version); `type: JSON`/`ARRAY`
//! without `dbType` (the raw value is bound). Also warned: unknown `type`/`dbType` strings,
//! extra YAML documents in a file (only the first is read, as Jackson does).
//!
//! Evaluation: numbers keep their exact text (upstream parses them into `double`); `{attr}`
//! values are escaped as JSON string literals and several different `{attr}`s may be used
//! in one path (upstream splices the raw text of the first one); `ARRAY`+`STRING` renders
//! each element as its string content or JSON text, and a `null`/empty element binds NULL
//! (upstream throws); `LONG`+`DATE` of `null` binds NULL (upstream throws) and dates are
//! computed in UTC (upstream: the JVM time zone, also for `DATE` `dd/MM/yyyy`); a basePath
//! may use `[*]` as well as `.*`; records that are not objects are tolerated (relative
//! paths through non-objects give NULL; upstream throws `ClassCastException`); an object or
//! array bound to a plain column is its JSON text (the JDBC driver rejects it upstream); a
//! non-string `RequestInfo.ver` means the default version (upstream throws); a topic
//! without mappings plans nothing.
//!
//! Loading: `classpath:` and `http(s)://` entries are refused (mount the files); list
//! entries are trimmed; a directory may also be given as `file://`; its files are read in
//! name order. YAML is parsed as YAML 1.2 by `serde_yaml`: `yes`/`no` are strings, a
//! duplicated key is an error (Jackson keeps the last), and an unquoted float `version`
//! loses trailing zeros (`1.10` reads as `1.1` — quote such versions). Version expressions
//! accept a few npm-style extras (`,`, `||`, whitespace as AND).

pub mod config;
pub mod eval;
pub mod sql;
pub mod version;

pub use config::{
    is_batch_topic, load_configs, ConfigError, JsonMap, Mapping, PersisterConfig, QueryMap,
    TypeEnum,
};
pub use eval::{
    applicable_mappings, parse_day_month_year, plan, rows_for, BindValue, EvalContext, EvalError,
    Statement,
};
pub use sql::{parse_query, ParsedQuery};
pub use version::{request_version, VersionError, VersionRange, DEFAULT_VERSION};

use chrono::{DateTime, Utc};

/// The clock [`plan`] is given in production (`CURRENTDATE`); tests pass a fixed instant.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

#[cfg(test)]
mod tests;
