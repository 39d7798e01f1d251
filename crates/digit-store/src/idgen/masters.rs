//! The master data idgen reads: `common-masters.IdFormat` and `tenant.tenants`.
//!
//! [`IdgenMasters`] is the seam: the embedded/remote MDMS implementation lives next to the
//! `digit_mdms::MdmsSource` adapter, [`InMemoryMasters`] serves tests and small deployments.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

/// An id format as configured in MDMS `common-masters.IdFormat` (or the `id_generator` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdFormatDef {
    /// The format, e.g. `PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]`.
    pub format: String,
    /// Zero-padding width of sequence numbers (newer upstream reads `padding` from the MDMS
    /// entry); `None` means the default 6.
    pub padding: Option<usize>,
}

impl IdFormatDef {
    /// A format with the default padding.
    pub fn new(format: impl Into<String>) -> Self {
        Self {
            format: format.into(),
            padding: None,
        }
    }

    /// Reads an `IdFormat` master entry (`{"idname": …, "format": …, "padding"?: …}`); `padding`
    /// may be a number or a numeric string, anything else (or negative) means the default.
    pub fn from_mdms_entry(entry: &Value) -> Option<Self> {
        let format = entry.get("format")?.as_str()?.to_owned();
        let padding = match entry.get("padding") {
            Some(Value::Number(n)) => n.as_u64().and_then(|p| usize::try_from(p).ok()),
            Some(Value::String(s)) => s.trim().parse::<usize>().ok(),
            _ => None,
        };
        Some(Self { format, padding })
    }
}

/// Why master data could not be read (MDMS down, malformed master…).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct MastersError(pub String);

/// The two master-data lookups idgen needs.
#[async_trait]
pub trait IdgenMasters: Send + Sync {
    /// The first `common-masters.IdFormat` entry visible to `tenant_id` whose `idname` equals
    /// `id_name`.
    async fn id_format(
        &self,
        tenant_id: &str,
        id_name: &str,
    ) -> Result<Option<IdFormatDef>, MastersError>;

    /// `city.code` of the `tenant.tenants` entry whose `code` equals `tenant_id`.
    async fn city_code(&self, tenant_id: &str) -> Result<Option<String>, MastersError>;
}

/// Master data held in memory: formats by id name (valid for every tenant, like a state-level
/// MDMS file) and tenants by code.
#[derive(Debug, Clone, Default)]
pub struct InMemoryMasters {
    formats: HashMap<String, IdFormatDef>,
    city_codes: HashMap<String, String>,
}

impl InMemoryMasters {
    /// No formats, no tenants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the format of `id_name`.
    pub fn with_format(mut self, id_name: impl Into<String>, format: impl Into<String>) -> Self {
        self.formats
            .insert(id_name.into(), IdFormatDef::new(format));
        self
    }

    /// Adds (or replaces) a format with an explicit definition (e.g. padding).
    pub fn with_format_def(mut self, id_name: impl Into<String>, def: IdFormatDef) -> Self {
        self.formats.insert(id_name.into(), def);
        self
    }

    /// Adds (or replaces) the city code of tenant `tenant_id`.
    pub fn with_city(mut self, tenant_id: impl Into<String>, city_code: impl Into<String>) -> Self {
        self.city_codes.insert(tenant_id.into(), city_code.into());
        self
    }

    /// Loads the masters from MDMS JSON files' contents: an `IdFormat` document
    /// (`{"IdFormat":[…]}` or a bare array) and a `tenants` document (`{"tenants":[…]}` or a
    /// bare array). The first entry wins for duplicate names, as MDMS's filter returns it first.
    pub fn from_mdms_json(id_formats: &Value, tenants: &Value) -> Self {
        let mut masters = Self::new();
        for entry in entries(id_formats, "IdFormat") {
            if let (Some(name), Some(def)) = (
                entry.get("idname").and_then(Value::as_str),
                IdFormatDef::from_mdms_entry(entry),
            ) {
                masters.formats.entry(name.to_owned()).or_insert(def);
            }
        }
        for tenant in entries(tenants, "tenants") {
            if let (Some(code), Some(city)) = (
                tenant.get("code").and_then(Value::as_str),
                tenant.pointer("/city/code").and_then(Value::as_str),
            ) {
                masters
                    .city_codes
                    .entry(code.to_owned())
                    .or_insert_with(|| city.to_owned());
            }
        }
        masters
    }
}

fn entries<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    let list = match doc {
        Value::Array(items) => Some(items),
        Value::Object(map) => map.get(key).and_then(Value::as_array),
        _ => None,
    };
    list.into_iter().flatten()
}

#[async_trait]
impl IdgenMasters for InMemoryMasters {
    async fn id_format(
        &self,
        _tenant_id: &str,
        id_name: &str,
    ) -> Result<Option<IdFormatDef>, MastersError> {
        Ok(self.formats.get(id_name).cloned())
    }

    async fn city_code(&self, tenant_id: &str) -> Result<Option<String>, MastersError> {
        Ok(self.city_codes.get(tenant_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn loads_mdms_documents() {
        let formats = json!({"tenantId": "pg", "moduleName": "common-masters", "IdFormat": [
            {"idname": "pgr.servicerequestid", "format": "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"},
            {"idname": "padded", "format": "P-[SEQ_P]", "padding": "4"},
            {"idname": "padded", "format": "second-wins-not"},
            {"format": "no-name"}
        ]});
        let tenants = json!({"tenants": [
            {"code": "pg.citya", "city": {"code": "CITYA", "name": "City A"}},
            {"code": "pg"}
        ]});
        let m = InMemoryMasters::from_mdms_json(&formats, &tenants);
        assert_eq!(
            m.id_format("pg.citya", "pgr.servicerequestid")
                .await
                .unwrap(),
            Some(IdFormatDef::new("PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"))
        );
        assert_eq!(
            m.id_format("pg", "padded").await.unwrap(),
            Some(IdFormatDef {
                format: "P-[SEQ_P]".into(),
                padding: Some(4)
            })
        );
        assert_eq!(m.id_format("pg", "unknown").await.unwrap(), None);
        assert_eq!(
            m.city_code("pg.citya").await.unwrap().as_deref(),
            Some("CITYA")
        );
        assert_eq!(m.city_code("pg").await.unwrap(), None);
    }

    #[test]
    fn padding_forms() {
        let p = |v: Value| {
            IdFormatDef::from_mdms_entry(&json!({"format": "x", "padding": v}))
                .unwrap()
                .padding
        };
        assert_eq!(p(json!(8)), Some(8));
        assert_eq!(p(json!("3")), Some(3));
        assert_eq!(p(json!(-1)), None);
        assert_eq!(p(json!("x")), None);
        assert_eq!(p(Value::Null), None);
    }
}
