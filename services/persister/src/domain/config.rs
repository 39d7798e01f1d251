//! egov-persister YAML configs (§2.1/§2.2): the model, loading and start-up validation.
//!
//! A config file looks like upstream's:
//!
//! ```yaml
//! serviceMaps:
//!   serviceName: egov-workflow-v2
//!   mappings:
//!   - version: 1.0
//!     fromTopic: save-wf-transitions
//!     queryMaps:
//!     - query: INSERT INTO t(id, doc) VALUES (?, ?);
//!       basePath: $.ProcessInstances.*
//!       jsonMaps:
//!       - jsonPath: $.ProcessInstances.*.id
//!       - jsonPath: $.ProcessInstances.*.documents
//!         type: JSON
//!         dbType: JSONB
//! ```
//!
//! Unknown keys are ignored. Scalars are read leniently like Jackson does for `String`
//! fields (`version: 1.0` is the text `1.0`, `isBatch: "true"` is `true`). `type`/`dbType`
//! are matched case-sensitively against [`TypeEnum`]; anything else (`Double`, `INTEGER`)
//! is treated as absent, and an absent `type` means `STRING`.
//!
//! [`load_configs`] resolves `EGOV_PERSIST_YML_REPO_PATH` and validates every mapping so
//! that a config that could never bind correctly fails start-up, naming the file, the
//! mapping and the query — instead of dead-lettering every message as upstream does:
//!
//! * YAML syntax / shape errors;
//! * missing `fromTopic`, `query`, `basePath` or `jsonPath`;
//! * a `version` that is not a valid range expression ([`VersionRange`]);
//! * the number of `?` placeholders ([`parse_query`]) differing from the number of
//!   `jsonMaps`, or a query mixing `?` with PostgreSQL `$n` parameters;
//! * a `basePath`/`jsonPath` that is not valid JSONPath (paths with `{attr}` parent
//!   references are checked with a dummy literal in place of each reference);
//! * `type: LONG` with a `dbType` other than `DATE`, and `type: CURRENTDATE` with a `dbType`
//!   other than `DATE`/`LONG`: upstream binds **no** parameter for these, shifting every
//!   later column (or throws on a missing `dbType`); we refuse them.
//!
//! Softer problems are reported in [`PersisterConfig::warnings`] (the binary should log
//! them): unknown `type`/`dbType` strings, a mapping without `version` (upstream throws on
//! every message; we apply it to every version), `type: JSON`/`ARRAY` without a `dbType`
//! (upstream throws on every message; we bind the raw value), a mapping without
//! `queryMaps`, extra YAML documents in one file (only the first is read, like Jackson).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use digit_jsonpath::JsonPath;
use semver::Version;
use serde::Deserialize;

use super::sql::parse_query;
use super::version::{VersionRange, DEFAULT_VERSION};

/// The `type`/`dbType` vocabulary (`TypeEnum`). Matching is case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeEnum {
    /// `ARRAY` (with `dbType: STRING`: comma-joined list element).
    Array,
    /// `STRING` (also the default `type`).
    String,
    /// `INT` (raw value).
    Int,
    /// `DOUBLE` (raw value).
    Double,
    /// `FLOAT` (raw value).
    Float,
    /// `DATE` (`type`: parse `dd/MM/yyyy`; `dbType`: the column is a date/timestamp).
    Date,
    /// `LONG` (`type`: raw, or epoch ms → date with `dbType: DATE`).
    Long,
    /// `BIGDECIMAL` (raw value).
    BigDecimal,
    /// `BOOLEAN` (raw value).
    Boolean,
    /// `CURRENTDATE` (now, as timestamp or epoch ms).
    CurrentDate,
    /// `JSON` (with `dbType: STRING`/`JSONB`: the value serialized).
    Json,
    /// `JSONB` (only meaningful as `dbType`).
    Jsonb,
}

impl TypeEnum {
    /// The config spelling (`ARRAY`, `CURRENTDATE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TypeEnum::Array => "ARRAY",
            TypeEnum::String => "STRING",
            TypeEnum::Int => "INT",
            TypeEnum::Double => "DOUBLE",
            TypeEnum::Float => "FLOAT",
            TypeEnum::Date => "DATE",
            TypeEnum::Long => "LONG",
            TypeEnum::BigDecimal => "BIGDECIMAL",
            TypeEnum::Boolean => "BOOLEAN",
            TypeEnum::CurrentDate => "CURRENTDATE",
            TypeEnum::Json => "JSON",
            TypeEnum::Jsonb => "JSONB",
        }
    }
}

impl FromStr for TypeEnum {
    type Err = ();

    /// Case-sensitive, as upstream (`Double` is not `DOUBLE`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ARRAY" => TypeEnum::Array,
            "STRING" => TypeEnum::String,
            "INT" => TypeEnum::Int,
            "DOUBLE" => TypeEnum::Double,
            "FLOAT" => TypeEnum::Float,
            "DATE" => TypeEnum::Date,
            "LONG" => TypeEnum::Long,
            "BIGDECIMAL" => TypeEnum::BigDecimal,
            "BOOLEAN" => TypeEnum::Boolean,
            "CURRENTDATE" => TypeEnum::CurrentDate,
            "JSON" => TypeEnum::Json,
            "JSONB" => TypeEnum::Jsonb,
            _ => return Err(()),
        })
    }
}

impl fmt::Display for TypeEnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// All loaded mappings, by topic.
#[derive(Debug, Clone)]
pub struct PersisterConfig {
    topics: BTreeMap<String, Vec<Arc<Mapping>>>,
    files: Vec<PathBuf>,
    warnings: Vec<String>,
    default_version: Version,
}

impl PersisterConfig {
    /// The mappings for `topic` in load order (empty for an unknown topic).
    pub fn mappings(&self, topic: &str) -> &[Arc<Mapping>] {
        self.topics.get(topic).map_or(&[], Vec::as_slice)
    }

    /// Every topic some mapping reads from, sorted.
    pub fn topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.topics.keys().map(String::as_str)
    }

    /// Topics for the regular listener (names without `-batch`, §2.5).
    pub fn regular_topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.topics().filter(|t| !is_batch_topic(t))
    }

    /// Topics for the bulk listener (names containing `-batch`, §2.5).
    pub fn batch_topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.topics().filter(|t| is_batch_topic(t))
    }

    /// The files the mappings came from, in load order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Non-fatal problems found while loading, one sentence each (log them at start-up).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The version assumed for messages without a valid `RequestInfo.ver`
    /// (upstream `default.version`, `1.0.0` unless changed with
    /// [`PersisterConfig::with_default_version`]).
    pub fn default_version(&self) -> &Version {
        &self.default_version
    }

    /// Replaces the default request version.
    pub fn with_default_version(mut self, version: Version) -> PersisterConfig {
        self.default_version = version;
        self
    }

    /// Builds a config from in-memory YAML sources `(name, text)`, in order, with the same
    /// validation as [`load_configs`]. `name` is used in messages and [`Mapping::file`].
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<PersisterConfig, ConfigError> {
        let mut config = PersisterConfig {
            topics: BTreeMap::new(),
            files: Vec::new(),
            warnings: Vec::new(),
            default_version: DEFAULT_VERSION,
        };
        for (path, text) in sources {
            config.add_file(path, text)?;
        }
        if config.files.is_empty() {
            return Err(ConfigError::NoFiles {
                spec: String::new(),
            });
        }
        Ok(config)
    }

    fn add_file(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let mut documents = serde_yaml::Deserializer::from_str(text);
        let first = documents.next().ok_or_else(|| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: "the file is empty".to_string(),
        })?;
        let raw = RawFile::deserialize(first).map_err(|e| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if documents.next().is_some() {
            self.warnings.push(format!(
                "{}: contains more than one YAML document; only the first is used",
                path.display()
            ));
        }
        let service_maps = raw.service_maps.ok_or_else(|| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: "missing `serviceMaps`".to_string(),
        })?;
        let raw_mappings = service_maps.mappings.ok_or_else(|| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: "missing `serviceMaps.mappings`".to_string(),
        })?;
        let file: Arc<Path> = Arc::from(path);
        let service_name = scalar(service_maps.service_name, "serviceName").map_err(|reason| {
            ConfigError::Yaml {
                file: path.to_path_buf(),
                message: reason,
            }
        })?;
        for (index, raw) in raw_mappings.into_iter().enumerate() {
            let mapping =
                Mapping::build(raw, &file, index, service_name.clone(), &mut self.warnings)?;
            self.topics
                .entry(mapping.from_topic.clone())
                .or_default()
                .push(Arc::new(mapping));
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }
}

/// True for topics consumed by the bulk listener: the name contains `-batch` (§2.5).
pub fn is_batch_topic(topic: &str) -> bool {
    topic.contains("-batch")
}

/// One `serviceMaps.mappings[]` entry, validated.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The file it came from.
    pub file: Arc<Path>,
    /// Its position in that file's `mappings` list (0-based).
    pub index: usize,
    /// `serviceMaps.serviceName` of the file.
    pub service_name: Option<String>,
    /// `version` (a range expression); [`VersionRange::any`] when the config has none.
    pub version: VersionRange,
    /// `name` (informational).
    pub name: Option<String>,
    /// `description` (informational).
    pub description: Option<String>,
    /// `fromTopic`.
    pub from_topic: String,
    /// `isTransaction` (parsed, ignored: every message is one transaction).
    pub is_transaction: Option<bool>,
    /// `isBatch` (parsed, ignored: batch mode is decided by the topic name).
    pub is_batch: Option<bool>,
    /// `isAuditEnabled` (signed audit, §2.8).
    pub is_audit_enabled: Option<bool>,
    /// `module` (signed audit).
    pub module: Option<String>,
    /// `objecIdJsonPath` (sic; signed audit).
    pub objec_id_json_path: Option<String>,
    /// `tenantIdJsonPath` (signed audit).
    pub tenant_id_json_path: Option<String>,
    /// `transactionCodeJsonPath` (signed audit).
    pub transaction_code_json_path: Option<String>,
    /// `auditAttributeBasePath` (signed audit).
    pub audit_attribute_base_path: Option<String>,
    /// `queryMaps`, in order.
    pub query_maps: Vec<QueryMap>,
}

impl Mapping {
    /// `fromTopic` plus `name` (or the index) — how messages name this mapping.
    pub fn label(&self) -> String {
        mapping_label(&self.from_topic, self.name.as_deref(), self.index)
    }

    fn build(
        raw: RawMapping,
        file: &Arc<Path>,
        index: usize,
        service_name: Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<Mapping, ConfigError> {
        // Name the mapping as well as we can before anything else can fail.
        let name = scalar(raw.name.clone(), "name").ok().flatten();
        let topic_hint = scalar(raw.from_topic.clone(), "fromTopic")
            .ok()
            .flatten()
            .unwrap_or_default();
        let invalid = |query: Option<usize>, reason: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            mapping: mapping_label(&topic_hint, name.as_deref(), index),
            query: query.map(|i| format!("queryMaps[{i}]")),
            reason,
        };
        let text = |v: Option<serde_yaml::Value>, key: &str| {
            scalar(v, key).map_err(|reason| invalid(None, reason))
        };
        let flag = |v: Option<serde_yaml::Value>, key: &str| {
            boolean(v, key).map_err(|reason| invalid(None, reason))
        };

        let from_topic = text(raw.from_topic, "fromTopic")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| invalid(None, "`fromTopic` is missing".to_string()))?;
        let version = match text(raw.version, "version")? {
            Some(v) => VersionRange::parse(&v).map_err(|e| invalid(None, e.to_string()))?,
            None => {
                warnings.push(format!(
                    "{}: mapping {} has no `version`; it applies to every request version",
                    file.display(),
                    mapping_label(&from_topic, name.as_deref(), index)
                ));
                VersionRange::any()
            }
        };

        let mut mapping = Mapping {
            file: Arc::clone(file),
            index,
            service_name,
            version,
            name: name.clone(),
            description: text(raw.description, "description")?,
            from_topic,
            is_transaction: flag(raw.is_transaction, "isTransaction")?,
            is_batch: flag(raw.is_batch, "isBatch")?,
            is_audit_enabled: flag(raw.is_audit_enabled, "isAuditEnabled")?,
            module: text(raw.module, "module")?,
            objec_id_json_path: text(raw.objec_id_json_path, "objecIdJsonPath")?,
            tenant_id_json_path: text(raw.tenant_id_json_path, "tenantIdJsonPath")?,
            transaction_code_json_path: text(
                raw.transaction_code_json_path,
                "transactionCodeJsonPath",
            )?,
            audit_attribute_base_path: text(
                raw.audit_attribute_base_path,
                "auditAttributeBasePath",
            )?,
            query_maps: Vec::new(),
        };

        let raw_query_maps = match raw.query_maps {
            Some(q) => q,
            None => {
                warnings.push(format!(
                    "{}: mapping {} has no `queryMaps`; it writes nothing",
                    file.display(),
                    mapping.label()
                ));
                Vec::new()
            }
        };
        for (qi, rq) in raw_query_maps.into_iter().enumerate() {
            let context = format!(
                "{}: mapping {}, queryMaps[{qi}]",
                file.display(),
                mapping.label()
            );
            let qm = QueryMap::build(rq, warnings, &context, &|reason| invalid(Some(qi), reason))?;
            mapping.query_maps.push(qm);
        }
        Ok(mapping)
    }
}

fn mapping_label(topic: &str, name: Option<&str>, index: usize) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("#{index} (fromTopic {topic:?}, name {n:?})"),
        _ => format!("#{index} (fromTopic {topic:?})"),
    }
}

/// One `queryMaps[]` entry, validated and compiled.
#[derive(Debug, Clone)]
pub struct QueryMap {
    /// The query as written (JDBC `?` placeholders).
    pub query: String,
    /// The query with `$1..$n` placeholders ([`parse_query`]), ready to prepare.
    pub sql: Arc<str>,
    /// `basePath` as written.
    pub base_path: String,
    /// `jsonMaps`, one per placeholder, in order.
    pub json_maps: Vec<JsonMap>,
    pub(crate) base: BasePlan,
}

/// How a `basePath` yields records (§2.3).
#[derive(Debug, Clone)]
pub(crate) enum BasePlan {
    /// No `*`: the one value at the path is the only record.
    Single(JsonPath),
    /// With `*`: `records` is the path truncated after its last wildcard; a record is skipped
    /// when any key of `child` (the dot-separated rest of the path) is null/missing in it.
    Iterate {
        records: JsonPath,
        child: Vec<String>,
    },
}

impl QueryMap {
    fn build(
        raw: RawQueryMap,
        warnings: &mut Vec<String>,
        context: &str,
        invalid: &dyn Fn(String) -> ConfigError,
    ) -> Result<QueryMap, ConfigError> {
        let query = scalar(raw.query, "query")
            .map_err(invalid)?
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| invalid("`query` is missing".to_string()))?;
        let base_path = scalar(raw.base_path, "basePath")
            .map_err(invalid)?
            .filter(|b| !b.trim().is_empty())
            .ok_or_else(|| invalid("`basePath` is missing".to_string()))?;
        let base = BasePlan::compile(&base_path).map_err(invalid)?;

        let raw_json_maps = raw.json_maps.unwrap_or_default();
        let parsed = parse_query(&query);
        if parsed.native_params {
            return Err(invalid(format!(
                "the query uses PostgreSQL `$n` parameters; write JDBC `?` placeholders: {query}"
            )));
        }
        if parsed.placeholders != raw_json_maps.len() {
            return Err(invalid(format!(
                "the query has {} `?` placeholder(s) but {} jsonMaps: {query}",
                parsed.placeholders,
                raw_json_maps.len()
            )));
        }

        let mut json_maps = Vec::with_capacity(raw_json_maps.len());
        for (ji, rj) in raw_json_maps.into_iter().enumerate() {
            let jm = JsonMap::build(rj, warnings, &format!("{context}, jsonMaps[{ji}]"))
                .map_err(|reason| invalid(format!("jsonMaps[{ji}]: {reason}")))?;
            json_maps.push(jm);
        }
        Ok(QueryMap {
            sql: Arc::from(parsed.numbered),
            query,
            base_path,
            json_maps,
            base,
        })
    }
}

impl BasePlan {
    fn compile(base_path: &str) -> Result<BasePlan, String> {
        let bad = |e: digit_jsonpath::JsonPathError| format!("basePath {base_path:?}: {e}");
        if !base_path.contains('*') {
            return Ok(BasePlan::Single(JsonPath::parse(base_path).map_err(bad)?));
        }
        // Validate the whole expression, then cut after the last `.*` (or `[*]`, an extension).
        JsonPath::parse(base_path).map_err(bad)?;
        let dot = base_path.rfind(".*").map(|i| i + 2);
        let bracket = base_path.rfind("[*]").map(|i| i + 3);
        let cut = match (dot, bracket) {
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => {
                return Err(format!(
                    "basePath {base_path:?} has a `*` that is neither `.*` nor `[*]`"
                ))
            }
        };
        let (head, tail) = base_path.split_at(cut);
        let records = JsonPath::parse(head).map_err(bad)?;
        let child = tail
            .trim_start_matches('.')
            .split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Ok(BasePlan::Iterate { records, child })
    }
}

/// One `jsonMaps[]` entry, validated and compiled.
#[derive(Debug, Clone)]
pub struct JsonMap {
    /// `jsonPath` as written.
    pub json_path: String,
    /// `type` as written (any string).
    pub type_raw: Option<String>,
    /// `type` parsed; `None` for absent or unknown strings (then treated as `STRING`).
    pub type_: Option<TypeEnum>,
    /// `dbType` as written.
    pub db_type_raw: Option<String>,
    /// `dbType` parsed; `None` for absent or unknown strings.
    pub db_type: Option<TypeEnum>,
    /// `parentPath` (unused upstream and here).
    pub parent_path: Option<String>,
    /// `format` (unused upstream and here).
    pub format: Option<String>,
    pub(crate) plan: ValuePlan,
}

impl JsonMap {
    /// The effective type: `type`, or `STRING` when absent/unknown.
    pub fn effective_type(&self) -> TypeEnum {
        self.type_.unwrap_or(TypeEnum::String)
    }
}

/// Where a parameter's value comes from (§2.3), decided once at load.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// `{attr}` references: substitute, evaluate against the document, bind the first match
    /// as a raw scalar (no type conversion, as upstream).
    ParentRef { template: String },
    /// `CURRENTDATE` + `DATE` / `LONG`.
    CurrentDate { as_millis: bool },
    /// `jsonPath` starting with `default`.
    Default,
    /// `ARRAY` + `STRING`: element *i* of the indefinite path's result list.
    ArrayString(JsonPath),
    /// The keys after the last `*.`, resolved in the current record.
    Relative(Vec<String>),
    /// Evaluated against the whole document.
    Absolute(JsonPath),
}

/// How the found value becomes a parameter (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// The JSON scalar as is (objects/arrays as JSON text).
    Raw,
    /// `JSON` + `STRING`: JSON text.
    JsonText,
    /// `JSON` + `JSONB`: jsonb.
    Jsonb,
    /// `LONG` + `DATE`: epoch ms → date.
    EpochToDate,
    /// `DATE`: `dd/MM/yyyy` → timestamp.
    DayMonthYear,
}

#[derive(Debug, Clone)]
pub(crate) struct ValuePlan {
    pub(crate) source: Source,
    pub(crate) conversion: Conversion,
}

impl JsonMap {
    fn build(
        raw: RawJsonMap,
        warnings: &mut Vec<String>,
        context: &str,
    ) -> Result<JsonMap, String> {
        let json_path = scalar(raw.json_path, "jsonPath")?
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| "`jsonPath` is missing".to_string())?;
        let type_raw = scalar(raw.type_, "type")?;
        let db_type_raw = scalar(raw.db_type, "dbType")?;
        let parse_type = |raw: &Option<String>, key: &str, warnings: &mut Vec<String>| {
            let raw = raw.as_deref()?;
            let parsed = raw.parse::<TypeEnum>().ok();
            if parsed.is_none() {
                warnings.push(format!(
                    "{context}: unknown {key} {raw:?} (matching is case-sensitive) is ignored"
                ));
            }
            parsed
        };
        let type_ = parse_type(&type_raw, "type", warnings);
        let db_type = parse_type(&db_type_raw, "dbType", warnings);
        let effective = type_.unwrap_or(TypeEnum::String);

        match (effective, db_type) {
            (TypeEnum::Long, None | Some(TypeEnum::Date)) => {}
            (TypeEnum::Long, Some(other)) => {
                return Err(format!(
                    "jsonPath {json_path:?}: `type: LONG` with `dbType: {other}` is not supported \
                     (upstream binds no parameter for it and shifts every later column); \
                     omit dbType, or use DATE"
                ))
            }
            (TypeEnum::CurrentDate, Some(TypeEnum::Date | TypeEnum::Long)) => {}
            (TypeEnum::CurrentDate, other) => {
                return Err(format!(
                    "jsonPath {json_path:?}: `type: CURRENTDATE` needs `dbType: DATE` or `dbType: LONG` (got {}): \
                     upstream binds no parameter otherwise",
                    other.map_or("none".to_string(), |t| t.to_string())
                ))
            }
            (TypeEnum::Json | TypeEnum::Array, None) => warnings.push(format!(
                "{context}: `type: {effective}` without dbType fails every message upstream; \
                 the raw value is bound instead"
            )),
            _ => {}
        }

        let plan = ValuePlan::compile(&json_path, effective, db_type)?;
        Ok(JsonMap {
            json_path,
            type_raw,
            type_,
            db_type_raw,
            db_type,
            parent_path: scalar(raw.parent_path, "parentPath")?,
            format: scalar(raw.format, "format")?,
            plan,
        })
    }
}

impl ValuePlan {
    fn compile(path: &str, ty: TypeEnum, db: Option<TypeEnum>) -> Result<ValuePlan, String> {
        let bad = |e: digit_jsonpath::JsonPathError| format!("jsonPath {path:?}: {e}");
        let source = if has_parent_ref(path) {
            // Validate with a dummy literal in place of every `{attr}`.
            JsonPath::parse(&substitute_refs(path, |_| Some("\"x\"".to_string()))?).map_err(bad)?;
            Source::ParentRef {
                template: path.to_string(),
            }
        } else if ty == TypeEnum::CurrentDate {
            Source::CurrentDate {
                as_millis: db == Some(TypeEnum::Long),
            }
        } else if path.starts_with("default") {
            Source::Default
        } else if ty == TypeEnum::Array && db == Some(TypeEnum::String) {
            Source::ArrayString(JsonPath::parse(path).map_err(bad)?)
        } else if let Some(pos) = path.rfind("*.") {
            // Upstream never evaluates these with JSONPath, but a typo should still fail.
            JsonPath::parse(path).map_err(bad)?;
            let rest = &path[pos + 2..];
            Source::Relative(rest.split('.').map(str::to_string).collect())
        } else {
            Source::Absolute(JsonPath::parse(path).map_err(bad)?)
        };
        let conversion = match (ty, db) {
            (TypeEnum::Json, Some(TypeEnum::String)) => Conversion::JsonText,
            (TypeEnum::Json, Some(TypeEnum::Jsonb)) => Conversion::Jsonb,
            (TypeEnum::Long, Some(TypeEnum::Date)) => Conversion::EpochToDate,
            (TypeEnum::Date, _) => Conversion::DayMonthYear,
            _ => Conversion::Raw,
        };
        Ok(ValuePlan { source, conversion })
    }
}

/// True when `path` holds at least one `{attr}` parent reference.
pub(crate) fn has_parent_ref(path: &str) -> bool {
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            if is_attr_name(&after[..close]) {
                return true;
            }
        }
        rest = after;
    }
    false
}

fn is_attr_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$')
}

/// Replaces every `{attr}` in `path` with `value(attr)`. `Err` names the first attribute
/// for which `value` returned `None`.
pub(crate) fn substitute_refs(
    path: &str,
    mut value: impl FnMut(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(path.len() + 32);
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_attr_name(&after[..close]) => {
                let attr = &after[..close];
                out.push_str(&rest[..open]);
                out.push_str(&value(attr).ok_or_else(|| attr.to_string())?);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Why the configs could not be loaded. Every variant names the offending file (or entry).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `EGOV_PERSIST_YML_REPO_PATH` resolved to no YAML file at all.
    #[error("no persister config files found in {spec:?}; the service cannot start")]
    NoFiles {
        /// The configured list.
        spec: String,
    },
    /// An entry of the list uses a scheme this implementation cannot read.
    #[error(
        "persister config entry {entry:?} is not supported: {reason}; \
         mount the files and list them as file:///… paths or a directory"
    )]
    Unsupported {
        /// The entry as configured.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A file or directory could not be read.
    #[error("cannot read persister config {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML or does not have the config shape.
    #[error("persister config {file}: {message}")]
    Yaml {
        /// The file.
        file: PathBuf,
        /// Parser message (with line/column when known).
        message: String,
    },
    /// A mapping fails validation.
    #[error("persister config {file}, mapping {mapping}{}: {reason}", query.as_ref().map(|q| format!(", {q}")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// `#index (fromTopic …, name …)`.
        mapping: String,
        /// `queryMaps[i]` when the problem is inside a query map.
        query: Option<String>,
        /// What is wrong.
        reason: String,
    },
}

/// Loads every config named by `spec`, the `EGOV_PERSIST_YML_REPO_PATH` comma list.
///
/// Entries (trimmed; empty ones ignored):
/// * `file:///abs/x.yml` or a plain path whose last `.`-segment is `yml`/`yaml` — one file;
/// * anything else — a local directory (plain path or `file://`): every `*.yml`/`*.yaml`
///   directly inside it (not recursive), sorted by file name;
/// * `classpath:`, `http://`, `https://` — [`ConfigError::Unsupported`] (there is no
///   classpath, and fetching configs over the network at start-up is not supported: mount
///   them instead).
///
/// Zero files in total is an error, as upstream.
pub fn load_configs(spec: &str) -> Result<PersisterConfig, ConfigError> {
    use digit_service::config_files::{read_yaml_files, ConfigFilesError};
    let files = read_yaml_files(spec).map_err(|e| match e {
        ConfigFilesError::NoFiles { spec } => ConfigError::NoFiles { spec },
        ConfigFilesError::Unsupported { entry, reason } => {
            ConfigError::Unsupported { entry, reason }
        }
        ConfigFilesError::Io { path, source } => ConfigError::Io { path, source },
    })?;
    PersisterConfig::from_sources(
        files
            .iter()
            .map(|(path, text)| (path.as_path(), text.as_str())),
    )
    .map_err(|e| match e {
        ConfigError::NoFiles { .. } => ConfigError::NoFiles {
            spec: spec.to_string(),
        },
        other => other,
    })
}

// ---- raw (serde) shapes -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RawFile {
    #[serde(rename = "serviceMaps")]
    service_maps: Option<RawServiceMaps>,
}

#[derive(Debug, Deserialize)]
struct RawServiceMaps {
    #[serde(rename = "serviceName")]
    service_name: Option<serde_yaml::Value>,
    mappings: Option<Vec<RawMapping>>,
}

#[derive(Debug, Deserialize)]
struct RawMapping {
    version: Option<serde_yaml::Value>,
    name: Option<serde_yaml::Value>,
    description: Option<serde_yaml::Value>,
    #[serde(rename = "fromTopic")]
    from_topic: Option<serde_yaml::Value>,
    #[serde(rename = "isTransaction")]
    is_transaction: Option<serde_yaml::Value>,
    #[serde(rename = "isBatch")]
    is_batch: Option<serde_yaml::Value>,
    #[serde(rename = "isAuditEnabled")]
    is_audit_enabled: Option<serde_yaml::Value>,
    module: Option<serde_yaml::Value>,
    #[serde(rename = "objecIdJsonPath")]
    objec_id_json_path: Option<serde_yaml::Value>,
    #[serde(rename = "tenantIdJsonPath")]
    tenant_id_json_path: Option<serde_yaml::Value>,
    #[serde(rename = "transactionCodeJsonPath")]
    transaction_code_json_path: Option<serde_yaml::Value>,
    #[serde(rename = "auditAttributeBasePath")]
    audit_attribute_base_path: Option<serde_yaml::Value>,
    #[serde(rename = "queryMaps")]
    query_maps: Option<Vec<RawQueryMap>>,
}

#[derive(Debug, Deserialize)]
struct RawQueryMap {
    query: Option<serde_yaml::Value>,
    #[serde(rename = "basePath")]
    base_path: Option<serde_yaml::Value>,
    #[serde(rename = "jsonMaps")]
    json_maps: Option<Vec<RawJsonMap>>,
}

#[derive(Debug, Deserialize)]
struct RawJsonMap {
    #[serde(rename = "jsonPath")]
    json_path: Option<serde_yaml::Value>,
    #[serde(rename = "type")]
    type_: Option<serde_yaml::Value>,
    #[serde(rename = "dbType")]
    db_type: Option<serde_yaml::Value>,
    #[serde(rename = "parentPath")]
    parent_path: Option<serde_yaml::Value>,
    format: Option<serde_yaml::Value>,
}

/// A YAML scalar as text (Jackson's coercion into a `String` field).
fn scalar(value: Option<serde_yaml::Value>, key: &str) -> Result<Option<String>, String> {
    use serde_yaml::Value as Y;
    match value {
        None | Some(Y::Null) => Ok(None),
        Some(Y::String(s)) => Ok(Some(s)),
        Some(Y::Number(n)) => Ok(Some(n.to_string())),
        Some(Y::Bool(b)) => Ok(Some(b.to_string())),
        Some(Y::Tagged(t)) => scalar(Some(t.value), key),
        Some(Y::Sequence(_) | Y::Mapping(_)) => {
            Err(format!("`{key}` must be a scalar, not a list or map"))
        }
    }
}

/// A YAML boolean, also accepting the strings `true`/`false` (any case) as Jackson does.
fn boolean(value: Option<serde_yaml::Value>, key: &str) -> Result<Option<bool>, String> {
    use serde_yaml::Value as Y;
    match value {
        None | Some(Y::Null) => Ok(None),
        Some(Y::Bool(b)) => Ok(Some(b)),
        Some(Y::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Y::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(Y::Tagged(t)) => boolean(Some(t.value), key),
        Some(other) => Err(format!("`{key}` must be true or false, found {other:?}")),
    }
}
