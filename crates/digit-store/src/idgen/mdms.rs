//! [`IdgenMasters`] over `digit_mdms::MdmsSource` (embedded files or a remote DIGIT MDMS).
//!
//! Masters are read whole and filtered here (`idname == …`, `code == …`) instead of through a
//! JSONPath filter built from request text, as upstream does, so an id name or tenant id can
//! never change the meaning of the filter.

use std::sync::Arc;

use async_trait::async_trait;
use digit_mdms::MdmsSource;
use serde_json::Value;

use super::masters::{IdFormatDef, IdgenMasters, MastersError};

/// MDMS module and master of id formats.
pub const ID_FORMAT_MODULE: &str = "common-masters";
/// See [`ID_FORMAT_MODULE`].
pub const ID_FORMAT_MASTER: &str = "IdFormat";
/// MDMS module and master of tenants (for `[city]`).
pub const TENANT_MODULE: &str = "tenant";
/// See [`TENANT_MODULE`].
pub const TENANT_MASTER: &str = "tenants";

#[async_trait]
impl IdgenMasters for Arc<dyn MdmsSource> {
    async fn id_format(
        &self,
        tenant_id: &str,
        id_name: &str,
    ) -> Result<Option<IdFormatDef>, MastersError> {
        let entries = self
            .master(tenant_id, ID_FORMAT_MODULE, ID_FORMAT_MASTER, None)
            .await
            .map_err(|e| MastersError(e.to_string()))?;
        Ok(entries
            .iter()
            .find(|e| e.get("idname").and_then(Value::as_str) == Some(id_name))
            .and_then(IdFormatDef::from_mdms_entry))
    }

    async fn city_code(&self, tenant_id: &str) -> Result<Option<String>, MastersError> {
        let entries = self
            .master(tenant_id, TENANT_MODULE, TENANT_MASTER, None)
            .await
            .map_err(|e| MastersError(e.to_string()))?;
        Ok(entries
            .iter()
            .find(|e| e.get("code").and_then(Value::as_str) == Some(tenant_id))
            .and_then(|e| e.pointer("/city/code"))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }
}

/// The masters of an MDMS source, ready for [`super::IdGenerator::new`].
pub fn mdms_masters(source: Arc<dyn MdmsSource>) -> Arc<dyn IdgenMasters> {
    Arc::new(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use digit_mdms::EmbeddedMdms;
    use serde_json::json;

    fn source() -> Arc<dyn MdmsSource> {
        Arc::new(EmbeddedMdms::from_documents([
            json!({"tenantId": "pg", "moduleName": "common-masters", "IdFormat": [
                {"idname": "pgr.servicerequestid", "format": "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"},
                {"idname": "it's", "format": "Q-[SEQ_Q]", "padding": 2}
            ]}),
            json!({"tenantId": "pg", "moduleName": "tenant", "tenants": [
                {"code": "pg", "city": {"code": "PG"}},
                {"code": "pg.citya", "city": {"code": "CITYA"}}
            ]}),
        ]))
    }

    #[tokio::test]
    async fn reads_formats_and_cities_with_tenant_fallback() {
        let m = mdms_masters(source());
        assert_eq!(
            m.id_format("pg.citya", "pgr.servicerequestid")
                .await
                .unwrap(),
            Some(IdFormatDef::new("PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"))
        );
        // Quotes in the id name cannot break a filter: there is none.
        assert_eq!(
            m.id_format("pg", "it's").await.unwrap(),
            Some(IdFormatDef {
                format: "Q-[SEQ_Q]".into(),
                padding: Some(2)
            })
        );
        assert_eq!(m.id_format("pg", "nope").await.unwrap(), None);
        assert_eq!(
            m.city_code("pg.citya").await.unwrap().as_deref(),
            Some("CITYA")
        );
        assert_eq!(m.city_code("pg.cityz").await.unwrap(), None);
        assert_eq!(m.city_code("other").await.unwrap(), None);
    }
}
