//! Per-record processing of §3.2, without I/O: record extraction, masking, `@timestamp`, ids,
//! and the custom document (template + field mappings), plus the requests an external or MDMS
//! enrichment needs and how their answers land in the document. The store layer makes the
//! calls in between.

use chrono::TimeZone;
use chrono_tz::Tz;
use digit_jsonpath::JsonPath;
use serde_json::{Map, Value};

use super::config::{
    CustomMapping, FieldMap, FilterSpec, Index, MdmsMap, PutTarget, QueryParam, UriMap,
};

/// What masked fields become (upstream's literal).
pub const MASK: &str = "XXXXXXXX";

/// Why a message yields no records for an index (the message is unusable for it: poison).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// `isBulk` but the selection is not an array.
    #[error("index {index}: isBulk is set but {path} does not select an array")]
    NotAnArray {
        /// Index name.
        index: String,
        /// The path (or `the message`).
        path: String,
    },
    /// `jsonPath` selects nothing.
    #[error("index {index}: jsonPath {path} selects nothing in the message")]
    Missing {
        /// Index name.
        index: String,
        /// The path.
        path: String,
    },
}

/// The records a message yields for `index` (`isBulk`/`jsonPath`); `null` records are skipped.
pub fn records(index: &Index, message: &Value) -> Result<Vec<Value>, RecordError> {
    let selected = match &index.json_path {
        Some(path) => path.read_value(message).map_err(|_| RecordError::Missing {
            index: index.name.clone(),
            path: path.as_str().to_string(),
        })?,
        None => message.clone(),
    };
    let records = if index.is_bulk {
        match selected {
            Value::Array(items) => items,
            _ => {
                return Err(RecordError::NotAnArray {
                    index: index.name.clone(),
                    path: index
                        .json_path
                        .as_ref()
                        .map_or_else(|| "the message".to_string(), |p| p.as_str().to_string()),
                })
            }
        }
    } else {
        vec![selected]
    };
    Ok(records.into_iter().filter(|r| !r.is_null()).collect())
}

/// `documentContext.put(parent, key, value)`: sets `key` on every object the parent path
/// matches. False when the parent matches nothing (upstream logs and goes on).
pub fn put(doc: &mut Value, target: &PutTarget, value: Value) -> bool {
    let locations: Vec<_> = match target.parent.read_with_paths(doc) {
        Ok(found) => found.into_iter().map(|m| m.location).collect(),
        Err(_) => return false,
    };
    let mut done = false;
    for location in locations {
        if let Some(Value::Object(object)) = location.resolve_mut(doc) {
            object.insert(target.key.clone(), value.clone());
            done = true;
        }
    }
    done
}

/// A record after masking and `@timestamp`, with its document id.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The transformed record.
    pub record: Value,
    /// The id (`None`: not written to Elasticsearch).
    pub id: Option<String>,
}

/// Masks, stamps and identifies one record (§3.2 step 2).
pub fn prepare(index: &Index, mut record: Value, zone: Tz) -> Prepared {
    for target in &index.masked {
        put(&mut record, target, Value::String(MASK.into()));
    }
    if let Some(field) = &index.timestamp_field {
        if let Some(stamp) = field
            .read_first(&record)
            .ok()
            .flatten()
            .and_then(|v| timestamp(&v, zone))
        {
            if let Value::Object(object) = &mut record {
                object.insert("@timestamp".into(), Value::String(stamp));
            }
        }
    }
    let id = document_id(&index.id, &record);
    Prepared { record, id }
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in `zone` from an epoch-millisecond number (upstream
/// writes the literal `Z` whatever the zone). Non-numbers give no timestamp.
pub fn timestamp(value: &Value, zone: Tz) -> Option<String> {
    let millis = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.round() as i64)
        })?,
        _ => return None,
    };
    let at = zone.timestamp_millis_opt(millis).single()?;
    Some(at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// The id: each path's string value concatenated; a missing path or a non-string value
/// makes no id, `null` values are skipped, and an empty result is no id.
pub fn document_id(paths: &[JsonPath], record: &Value) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    let mut id = String::new();
    for path in paths {
        if !path.is_definite() {
            return None;
        }
        match path.read_first(record).ok()??.as_ref() {
            Value::String(s) => id.push_str(s),
            Value::Null => {}
            _ => return None,
        }
    }
    (!id.is_empty()).then_some(id)
}

/// The custom document before enrichment: the template with every `fieldMapping` applied
/// (a mapping whose input is missing leaves the template value).
pub fn base_document(custom: &CustomMapping, record: &Value) -> Value {
    let mut doc = custom.template.clone();
    for field in &custom.fields {
        let Some(input) = input_path(field, record) else {
            continue;
        };
        if let Ok(value) = input.read_value(record) {
            put(&mut doc, &field.output, value);
        }
    }
    doc
}

/// The filter text with each variable replaced by `'<value>'` (lists lose their brackets);
/// `None` when a variable's path is missing (the lookup is skipped, as upstream).
pub fn filter_text(spec: &FilterSpec, record: &Value) -> Option<String> {
    let mut text = spec.filter.clone();
    for (variable, path) in &spec.variables {
        let value = path.read_value(record).ok()?;
        let rendered = match &value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Array(_) => {
                let json = value.to_string();
                json[1..json.len() - 1].to_string()
            }
            other => other.to_string(),
        };
        text = text.replace(variable.as_str(), &format!("'{rendered}'"));
    }
    Some(text)
}

fn input_path(field: &FieldMap, record: &Value) -> Option<JsonPath> {
    match (&field.input, &field.filter) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(spec)) => {
            let filter = filter_text(spec, record)?;
            JsonPath::parse(&format!("{}{}", field.input_source, filter)).ok()
        }
        (None, None) => None,
    }
}

/// An external call to make for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalCall {
    /// The URL without its query (host not yet rewritten).
    pub url: String,
    /// Query parameters, in order, unencoded.
    pub query: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

/// The call an `externalUriMapping` makes for `record`; `None` when its `pathParam` is
/// missing (upstream skips the call).
pub fn external_call(uri: &UriMap, record: &Value) -> Option<ExternalCall> {
    let mut url = uri.path.clone();
    if let Some(param) = &uri.path_param {
        let value = param.read_value(record).ok()?;
        url = url.replace('$', &plain(&value));
    }
    let mut query = Vec::new();
    for param in &uri.query {
        match param {
            QueryParam::Literal(k, v) => query.push((k.clone(), v.clone())),
            QueryParam::Raw(raw) => query.push((raw.clone(), String::new())),
            QueryParam::Path {
                key,
                prefix,
                path,
                raw,
            } => match path.read_value(record) {
                Ok(Value::Null) | Err(_) => {
                    // Upstream leaves the expression in the URL when the value is missing.
                    let (k, v) = raw.split_once('=').unwrap_or((raw.as_str(), ""));
                    query.push((k.trim().to_string(), v.trim().to_string()));
                }
                Ok(value) => query.push((key.clone(), format!("{prefix}{}", plain(&value)))),
            },
        }
    }
    Some(ExternalCall {
        url,
        query,
        body: fill_request(&uri.request, record),
    })
}

/// A value as upstream's `toString()` renders it in URLs: strings bare, lists comma-joined.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `apiRequest` with every string containing `$.` replaced by that path's value in the record
/// (`null` when missing).
fn fill_request(template: &Value, record: &Value) -> Value {
    match template {
        Value::String(s) if s.contains("$.") => JsonPath::parse(s.trim())
            .ok()
            .and_then(|p| p.read_value(record).ok())
            .unwrap_or(Value::Null),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| fill_request(v, record)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_request(v, record)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// Maps an answer into the document: each `uriResponseMapping` input read on `response`
/// (`null` when it is not there); `unwrap_single` (MDMS) turns one-element lists into the
/// element.
pub fn apply_response(
    doc: &mut Value,
    mappings: &[FieldMap],
    response: &Value,
    record: &Value,
    unwrap_single: bool,
) {
    for field in mappings {
        let value = input_path(field, record)
            .and_then(|p| p.read_value(response).ok())
            .map(|v| match v {
                Value::Array(mut items) if unwrap_single && items.len() == 1 => items.remove(0),
                other => other,
            })
            .unwrap_or(Value::Null);
        put(doc, &field.output, value);
    }
}

/// An MDMS v1 search to make for one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MdmsCall {
    /// The URL as configured (empty: the indexer's MDMS).
    pub url: String,
    /// `MdmsCriteria.tenantId`.
    pub tenant_id: String,
    /// Module.
    pub module: String,
    /// Master.
    pub master: String,
    /// The filled filter.
    pub filter: Option<String>,
}

impl MdmsCall {
    /// The request body upstream sends.
    pub fn body(&self) -> Value {
        let mut master = serde_json::json!({"name": self.master});
        if let Some(filter) = &self.filter {
            master["filter"] = Value::String(filter.clone());
        }
        serde_json::json!({
            "RequestInfo": {},
            "MdmsCriteria": {
                "tenantId": self.tenant_id,
                "moduleDetails": [{"moduleName": self.module, "masterDetails": [master]}]
            }
        })
    }
}

/// The MDMS search an `mdmsMapping` makes for `record`; `None` when a filter variable is
/// missing (skipped, as upstream).
pub fn mdms_call(mdms: &MdmsMap, record: &Value) -> Option<MdmsCall> {
    let filter = match &mdms.filter {
        Some(spec) => Some(filter_text(spec, record)?),
        None => None,
    };
    Some(MdmsCall {
        url: mdms.path.clone(),
        tenant_id: mdms.tenant_id.clone(),
        module: mdms.module.clone(),
        master: mdms.master.clone(),
        filter,
    })
}
