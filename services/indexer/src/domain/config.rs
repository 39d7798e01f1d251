//! egov-indexer's YAML configs (spec `upstream-platform.md` §3.1), loaded and compiled once.
//!
//! ```yaml
//! ServiceMaps:
//!   serviceName: …
//!   version: 1.0.0
//!   mappings:
//!     - topic: save-pgr-request
//!       configKey: INDEX            # INDEX | REINDEX | LEGACYINDEX
//!       indexes:
//!         - name: pgr-services
//!           id: $.service.serviceRequestId      # comma list, values concatenated
//!           jsonPath: $                         # record(s) to index
//!           isBulk: false
//!           timeStampField: $.service.auditDetails.lastModifiedTime
//!           fieldsToBeMasked: [ … ]
//!           customJsonMapping: { indexMapping, fieldMapping, externalUriMapping, mdmsMapping }
//! ```
//!
//! Every JSONPath is compiled here, so a config that cannot be used stops start-up with a
//! message naming the file and the mapping ([`ConfigError::Invalid`]). Lookups follow
//! upstream: `ServiceMaps.version` → mappings (first match by topic wins); topic → config key
//! (last definition wins).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use digit_jsonpath::JsonPath;
use serde::Deserialize;
use serde_json::Value;

/// The version assumed when a message carries none (upstream `default.service.map.version`).
pub const DEFAULT_VERSION: &str = "1.0.0";

/// Which consumer a topic belongs to (`configKey`, case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigKey {
    /// Live indexing of a service's topic.
    Index,
    /// Pages produced by `_reindex` (`{"hits": [...]}`).
    Reindex,
    /// Pages produced by `_legacyindex`.
    LegacyIndex,
}

impl ConfigKey {
    fn parse(s: &str) -> Option<ConfigKey> {
        match s.to_ascii_uppercase().as_str() {
            "INDEX" => Some(ConfigKey::Index),
            "REINDEX" => Some(ConfigKey::Reindex),
            "LEGACYINDEX" => Some(ConfigKey::LegacyIndex),
            _ => None,
        }
    }

    /// Upstream's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKey::Index => "INDEX",
            ConfigKey::Reindex => "REINDEX",
            ConfigKey::LegacyIndex => "LEGACYINDEX",
        }
    }
}

/// All loaded configs.
#[derive(Debug, Default)]
pub struct IndexerConfig {
    files: Vec<PathBuf>,
    by_version: HashMap<String, Vec<Arc<Mapping>>>,
    keys: BTreeMap<String, ConfigKey>,
}

impl IndexerConfig {
    /// The files loaded, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Every topic with its config key (the last definition of a topic wins).
    pub fn topics(&self) -> impl Iterator<Item = (&str, ConfigKey)> + '_ {
        self.keys.iter().map(|(t, k)| (t.as_str(), *k))
    }

    /// The config key of `topic`, if any config maps it.
    pub fn key_of(&self, topic: &str) -> Option<ConfigKey> {
        self.keys.get(topic).copied()
    }

    /// The mapping for `topic` among the mappings of `version` (a normal `x.y.z` version):
    /// the first one declared, as upstream.
    pub fn mapping(&self, version: &str, topic: &str) -> Option<&Arc<Mapping>> {
        self.by_version
            .get(version)?
            .iter()
            .find(|m| m.topic == topic)
    }

    /// Every mapping of `topic`, any version (for the API's checks).
    pub fn mappings_of<'a>(
        &'a self,
        topic: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Mapping>> + 'a {
        self.by_version
            .values()
            .flat_map(|ms| ms.iter())
            .filter(move |m| m.topic == topic)
    }

    /// Compiles configs from `(file, text)` pairs.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<IndexerConfig, ConfigError> {
        let mut config = IndexerConfig::default();
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
        let raw: RawFile = serde_yaml::from_str(text).map_err(|e| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let maps = raw.service_maps.ok_or_else(|| ConfigError::Yaml {
            file: path.to_path_buf(),
            message: "no `ServiceMaps` key".into(),
        })?;
        let version = normal_version(maps.version.as_deref().unwrap_or(DEFAULT_VERSION))
            .ok_or_else(|| ConfigError::Invalid {
                file: path.to_path_buf(),
                mapping: "ServiceMaps".into(),
                reason: format!(
                    "version {:?} is not a semantic version (x.y.z)",
                    maps.version.as_deref().unwrap_or_default()
                ),
            })?;
        for (i, raw) in maps.mappings.into_iter().enumerate() {
            let label = format!(
                "#{i} (topic {})",
                raw.topic.as_deref().unwrap_or("<missing>")
            );
            let mapping = Mapping::build(raw).map_err(|reason| ConfigError::Invalid {
                file: path.to_path_buf(),
                mapping: label,
                reason,
            })?;
            self.keys.insert(mapping.topic.clone(), mapping.config_key);
            self.by_version
                .entry(version.clone())
                .or_default()
                .push(Arc::new(mapping));
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }
}

/// `x.y.z` of a semantic version (pre-release and build dropped), `None` if it is not one.
pub fn normal_version(s: &str) -> Option<String> {
    let v = semver::Version::parse(s.trim()).ok()?;
    Some(format!("{}.{}.{}", v.major, v.minor, v.patch))
}

/// The version of a message: `$.RequestInfo.ver` as a semantic version, else
/// [`DEFAULT_VERSION`] (absent, non-string or not semver, e.g. the UI's `.01` or `1.0`).
pub fn message_version(message: &Value) -> String {
    message
        .get("RequestInfo")
        .and_then(|ri| ri.get("ver"))
        .and_then(Value::as_str)
        .and_then(normal_version)
        .unwrap_or_else(|| DEFAULT_VERSION.to_string())
}

/// One `mappings[]` entry.
#[derive(Debug)]
pub struct Mapping {
    /// The topic consumed.
    pub topic: String,
    /// Which consumer.
    pub config_key: ConfigKey,
    /// The indexes each message goes to.
    pub indexes: Vec<Index>,
}

impl Mapping {
    fn build(raw: RawMapping) -> Result<Mapping, String> {
        let topic = raw
            .topic
            .filter(|t| !t.trim().is_empty())
            .ok_or("`topic` is missing")?;
        let config_key = match raw.config_key.as_deref() {
            None => ConfigKey::Index,
            Some(k) => ConfigKey::parse(k)
                .ok_or_else(|| format!("configKey {k:?} is not INDEX, REINDEX or LEGACYINDEX"))?,
        };
        if raw.indexes.is_empty() {
            return Err("`indexes` is empty".into());
        }
        let indexes = raw
            .indexes
            .into_iter()
            .enumerate()
            .map(|(i, ix)| {
                let name = ix.name.clone().unwrap_or_default();
                Index::build(ix).map_err(|e| format!("indexes[{i}] ({name}): {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Mapping {
            topic: topic.trim().to_string(),
            config_key,
            indexes,
        })
    }
}

/// One `indexes[]` entry.
#[derive(Debug)]
pub struct Index {
    /// Elasticsearch index name, used verbatim.
    pub name: String,
    /// Legacy document type (kept for the reindex API).
    pub doc_type: String,
    /// `id`: the comma-separated paths whose string values make the document id.
    pub id: Vec<JsonPath>,
    /// `isBulk`: the records are the array `json_path` selects (or the message itself).
    pub is_bulk: bool,
    /// `jsonPath`: the sub-document(s) to index.
    pub json_path: Option<JsonPath>,
    /// `timeStampField`: epoch ms → root `@timestamp`.
    pub timestamp_field: Option<JsonPath>,
    /// `fieldsToBeMasked`: each replaced by `XXXXXXXX`.
    pub masked: Vec<PutTarget>,
    /// `customJsonMapping`: the document is built from a template.
    pub custom: Option<CustomMapping>,
}

impl Index {
    fn build(raw: RawIndex) -> Result<Index, String> {
        let name = raw
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or("`name` is missing")?;
        let id = match raw.id.as_deref() {
            None => Vec::new(),
            Some(spec) => spec
                .split(',')
                .map(|p| compile(p.trim(), "id"))
                .collect::<Result<_, _>>()?,
        };
        let json_path = raw
            .json_path
            .as_deref()
            .map(|p| compile(p, "jsonPath"))
            .transpose()?;
        let timestamp_field = raw
            .time_stamp_field
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| compile(p, "timeStampField"))
            .transpose()?;
        let masked = raw
            .fields_to_be_masked
            .iter()
            .map(|p| PutTarget::parse(p, "fieldsToBeMasked"))
            .collect::<Result<_, _>>()?;
        let custom = raw
            .custom_json_mapping
            .map(CustomMapping::build)
            .transpose()?;
        Ok(Index {
            name: name.trim().to_string(),
            doc_type: raw.doc_type.unwrap_or_else(|| "general".into()),
            id,
            is_bulk: raw.is_bulk.unwrap_or(false),
            json_path,
            timestamp_field,
            masked,
            custom,
        })
    }
}

/// Where `documentContext.put(parent, key, value)` writes: upstream splits the configured path
/// on `.` — everything before the last segment is the parent path, the last segment the key.
#[derive(Debug, Clone)]
pub struct PutTarget {
    /// The path as configured.
    pub source: String,
    /// The parent (`$` for a root key).
    pub parent: JsonPath,
    /// The key set on every parent match.
    pub key: String,
}

impl PutTarget {
    fn parse(path: &str, what: &str) -> Result<PutTarget, String> {
        let path = path.trim();
        let (parent, key) = path
            .rsplit_once('.')
            .ok_or_else(|| format!("{what} {path:?} has no parent path (expected $.a.b)"))?;
        if key.is_empty() {
            return Err(format!("{what} {path:?} ends with a dot"));
        }
        Ok(PutTarget {
            source: path.to_string(),
            parent: compile(parent, what)?,
            key: key.to_string(),
        })
    }
}

/// `customJsonMapping`.
#[derive(Debug)]
pub struct CustomMapping {
    /// `indexMapping`: the document template.
    pub template: Value,
    /// `fieldMapping`: record → document.
    pub fields: Vec<FieldMap>,
    /// `externalUriMapping`: other services' answers → document.
    pub external: Vec<UriMap>,
    /// `mdmsMapping`: master data → document.
    pub mdms: Vec<MdmsMap>,
}

impl CustomMapping {
    fn build(raw: RawCustom) -> Result<CustomMapping, String> {
        let template = raw.index_mapping.map(yaml_to_json).transpose()?.ok_or(
            "customJsonMapping has no `indexMapping` (EGOV_INDEXER_MISSING_CUSTOM_MAPPING)",
        )?;
        let fields = build_fields(raw.field_mapping, "fieldMapping")?;
        let external = raw
            .external_uri_mapping
            .into_iter()
            .enumerate()
            .map(|(i, u)| UriMap::build(u).map_err(|e| format!("externalUriMapping[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        let mdms = raw
            .mdms_mapping
            .into_iter()
            .enumerate()
            .map(|(i, u)| MdmsMap::build(u).map_err(|e| format!("mdmsMapping[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(CustomMapping {
            template,
            fields,
            external,
            mdms,
        })
    }
}

fn build_fields(raw: Vec<RawField>, what: &str) -> Result<Vec<FieldMap>, String> {
    raw.into_iter()
        .enumerate()
        .map(|(i, f)| FieldMap::build(f).map_err(|e| format!("{what}[{i}]: {e}")))
        .collect()
}

/// `inJsonPath` → `outJsonPath`, optionally with a filter appended to the input path.
#[derive(Debug)]
pub struct FieldMap {
    /// The input path as configured.
    pub input_source: String,
    /// The input path, compiled (when it has no filter to fill in per record).
    pub input: Option<JsonPath>,
    /// Filter appended to the input path per record (`filter` + `filterMapping`).
    pub filter: Option<FilterSpec>,
    /// Where the value goes.
    pub output: PutTarget,
}

impl FieldMap {
    fn build(raw: RawField) -> Result<FieldMap, String> {
        let input_source = raw.in_json_path.ok_or("`inJsonPath` is missing")?;
        let output = raw
            .out_json_path
            .ok_or_else(|| "`outJsonPath` is missing".to_string())
            .and_then(|o| PutTarget::parse(&o, "outJsonPath"))?;
        let filter = FilterSpec::build(raw.filter, raw.filter_mapping)?;
        let input = match filter {
            Some(_) => None,
            None => Some(compile(&input_source, "inJsonPath")?),
        };
        Ok(FieldMap {
            input_source,
            input,
            filter,
            output,
        })
    }
}

/// A filter with `$variables` replaced per record by `'<value>'`.
#[derive(Debug)]
pub struct FilterSpec {
    /// The filter text, e.g. `[?(@.code == $department)]`.
    pub filter: String,
    /// `(variable, valueJsonpath)` pairs.
    pub variables: Vec<(String, JsonPath)>,
}

impl FilterSpec {
    fn build(
        filter: Option<String>,
        mapping: Vec<RawFilterMapping>,
    ) -> Result<Option<FilterSpec>, String> {
        let Some(filter) = filter.filter(|f| !f.trim().is_empty()) else {
            return Ok(None);
        };
        let variables = mapping
            .into_iter()
            .map(|m| {
                let variable = m.variable.ok_or("filterMapping without `variable`")?;
                let path = m
                    .value_json_path
                    .ok_or("filterMapping without `valueJsonpath`")?;
                Ok::<_, String>((variable, compile(&path, "valueJsonpath")?))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(FilterSpec { filter, variables }))
    }
}

/// One query parameter of an external call.
#[derive(Debug)]
pub enum QueryParam {
    /// `key=value` as written.
    Literal(String, String),
    /// `key=[prefix+]$.path`: the record's value (lists comma-joined).
    Path {
        /// Parameter name.
        key: String,
        /// Text put before the value (`prefix+$.path`).
        prefix: String,
        /// Where the value is.
        path: JsonPath,
        /// The expression as written (sent as-is when the value is missing, as upstream).
        raw: String,
    },
    /// An entry without `=`, sent as written.
    Raw(String),
}

/// `externalUriMapping[]`.
#[derive(Debug)]
pub struct UriMap {
    /// URL (before host rewriting).
    pub path: String,
    /// `pathParam`: its value replaces `$` in `path`.
    pub path_param: Option<JsonPath>,
    /// `queryParam`, parsed.
    pub query: Vec<QueryParam>,
    /// `apiRequest`: the body (strings with `$.` are record paths).
    pub request: Value,
    /// `uriResponseMapping`.
    pub response: Vec<FieldMap>,
}

impl UriMap {
    fn build(raw: RawUri) -> Result<UriMap, String> {
        let path = raw
            .path
            .filter(|p| !p.trim().is_empty())
            .ok_or("`path` is missing")?;
        let path_param = raw
            .path_param
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| compile(p, "pathParam"))
            .transpose()?;
        let mut query = Vec::new();
        for part in raw.query_param.as_deref().unwrap_or("").split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((key, value)) = part.split_once('=') else {
                query.push(QueryParam::Raw(part.to_string()));
                continue;
            };
            let (key, value) = (key.trim().to_string(), value.trim());
            if value.contains("$.") {
                let (prefix, path) = match value.split_once('+') {
                    Some((prefix, path)) => (prefix.to_string(), path),
                    None => (String::new(), value),
                };
                query.push(QueryParam::Path {
                    key,
                    prefix,
                    path: compile(path, "queryParam")?,
                    raw: part.to_string(),
                });
            } else {
                query.push(QueryParam::Literal(key, value.to_string()));
            }
        }
        let request = raw
            .api_request
            .map(yaml_to_json)
            .transpose()?
            .unwrap_or(Value::Null);
        Ok(UriMap {
            path: path.trim().to_string(),
            path_param,
            query,
            request,
            response: build_fields(raw.uri_response_mapping, "uriResponseMapping")?,
        })
    }
}

/// `mdmsMapping[]`.
#[derive(Debug)]
pub struct MdmsMap {
    /// MDMS search URL; empty → the indexer's configured MDMS.
    pub path: String,
    /// `moduleName`.
    pub module: String,
    /// `masterName`.
    pub master: String,
    /// `tenantId`.
    pub tenant_id: String,
    /// `filter` + `filterMapping`.
    pub filter: Option<FilterSpec>,
    /// `uriResponseMapping`.
    pub response: Vec<FieldMap>,
}

impl MdmsMap {
    fn build(raw: RawUri) -> Result<MdmsMap, String> {
        let module = raw.module_name.ok_or("`moduleName` is missing")?;
        let master = raw.master_name.ok_or("`masterName` is missing")?;
        let tenant_id = raw.tenant_id.ok_or("`tenantId` is missing")?;
        Ok(MdmsMap {
            path: raw.path.unwrap_or_default().trim().to_string(),
            module,
            master,
            tenant_id,
            filter: FilterSpec::build(raw.filter, raw.filter_mapping)?,
            response: build_fields(raw.uri_response_mapping, "uriResponseMapping")?,
        })
    }
}

fn compile(path: &str, what: &str) -> Result<JsonPath, String> {
    JsonPath::parse(path.trim())
        .map_err(|e| format!("{what} {path:?} is not a valid JSONPath: {e}"))
}

fn yaml_to_json(value: serde_yaml::Value) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("not representable as JSON: {e}"))
}

/// Why the configs could not be loaded. Every variant names the offending file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The list named no YAML file.
    #[error("no indexer config files found in {spec:?}; the service cannot start")]
    NoFiles {
        /// The configured list.
        spec: String,
    },
    /// The list could not be read.
    #[error("indexer configs: {0}")]
    Files(#[from] digit_service::config_files::ConfigFilesError),
    /// Not YAML, or not the config shape.
    #[error("indexer config {file}: {message}")]
    Yaml {
        /// The file.
        file: PathBuf,
        /// Parser message.
        message: String,
    },
    /// A mapping fails validation.
    #[error("indexer config {file}, mapping {mapping}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// `#i (topic …)`.
        mapping: String,
        /// What is wrong.
        reason: String,
    },
}

/// Loads every config named by `spec` (`EGOV_INDEXER_YML_REPO_PATH`, the persister's rules:
/// [`digit_service::config_files::read_yaml_files`]).
pub fn load_configs(spec: &str) -> Result<IndexerConfig, ConfigError> {
    let files = digit_service::config_files::read_yaml_files(spec)?;
    IndexerConfig::from_sources(files.iter().map(|(p, t)| (p.as_path(), t.as_str()))).map_err(|e| {
        match e {
            ConfigError::NoFiles { .. } => ConfigError::NoFiles {
                spec: spec.to_string(),
            },
            other => other,
        }
    })
}

// ---- raw (serde) shapes -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RawFile {
    #[serde(rename = "ServiceMaps", alias = "serviceMaps")]
    service_maps: Option<RawServiceMaps>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawServiceMaps {
    #[serde(default, deserialize_with = "scalar_string")]
    version: Option<String>,
    #[serde(default)]
    mappings: Vec<RawMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMapping {
    topic: Option<String>,
    config_key: Option<String>,
    #[serde(default)]
    indexes: Vec<RawIndex>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIndex {
    name: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    id: Option<String>,
    is_bulk: Option<bool>,
    json_path: Option<String>,
    time_stamp_field: Option<String>,
    #[serde(default)]
    fields_to_be_masked: Vec<String>,
    custom_json_mapping: Option<RawCustom>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCustom {
    index_mapping: Option<serde_yaml::Value>,
    #[serde(default)]
    field_mapping: Vec<RawField>,
    #[serde(default)]
    external_uri_mapping: Vec<RawUri>,
    #[serde(default)]
    mdms_mapping: Vec<RawUri>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawField {
    #[serde(alias = "injsonpath", alias = "inJsonpath")]
    in_json_path: Option<String>,
    #[serde(alias = "outjsonpath", alias = "outJsonpath")]
    out_json_path: Option<String>,
    filter: Option<String>,
    #[serde(default)]
    filter_mapping: Vec<RawFilterMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFilterMapping {
    variable: Option<String>,
    #[serde(rename = "valueJsonpath", alias = "valueJsonPath")]
    value_json_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUri {
    path: Option<String>,
    query_param: Option<String>,
    path_param: Option<String>,
    #[serde(alias = "request")]
    api_request: Option<serde_yaml::Value>,
    #[serde(default)]
    uri_response_mapping: Vec<RawField>,
    module_name: Option<String>,
    master_name: Option<String>,
    tenant_id: Option<String>,
    filter: Option<String>,
    #[serde(default)]
    filter_mapping: Vec<RawFilterMapping>,
}

/// A YAML scalar as text (`version: 1.0` parses as a float).
fn scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_yaml::Value>::deserialize(d)?;
    Ok(match v {
        None | Some(serde_yaml::Value::Null) => None,
        Some(serde_yaml::Value::String(s)) => Some(s),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        Some(serde_yaml::Value::Bool(b)) => Some(b.to_string()),
        Some(other) => Some(format!("{other:?}")),
    })
}
