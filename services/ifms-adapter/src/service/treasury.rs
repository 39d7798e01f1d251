//! The treasury as the services see it: one JIT call with its outcome classified — an
//! answer (success or JIT's error), a call that certainly never booked anything, or a call
//! whose fate is unknown (sent, no usable answer). The last matters for money: a PI whose
//! post timed out may be booked at JIT, so it is neither failed nor refunded; the PIS job
//! posts it again with the same bill number until JIT answers (C.1 items 18, 27).
//!
//! Two implementations: the JIT-FS client ([`digit_jit::JitClient`]), and upstream's mock
//! mode (A1.13, `IFMS_JIT_MOCK_ENABLED`, off by default) which answers listed tenants from
//! MDMS `ifms.JitMockResponse`.

use async_trait::async_trait;
use digit_http::HttpError;
use digit_jit::{JitClient, JitError, JitResponse, ServiceId};
use digit_mdms::MdmsSource;
use serde_json::Value;
use std::sync::Arc;

/// Why a call has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// Nothing reached JIT (no connection, bad settings, or JIT refused the request outright).
    NotBooked(String),
    /// The request may have reached JIT.
    Unknown(String),
}

impl CallFailure {
    /// The text to record.
    pub fn message(&self) -> &str {
        match self {
            Self::NotBooked(m) | Self::Unknown(m) => m,
        }
    }
}

impl From<JitError> for CallFailure {
    fn from(e: JitError) -> Self {
        let text = e.to_string();
        match e {
            JitError::Config(_) => Self::NotBooked(text),
            JitError::Unreachable {
                source: HttpError::Connect { .. },
            } => Self::NotBooked(text),
            JitError::Rejected { status, .. } if (400..500).contains(&status) => {
                Self::NotBooked(text)
            }
            _ => Self::Unknown(text),
        }
    }
}

/// A JIT call for a tenant.
#[async_trait]
pub trait Treasury: Send + Sync {
    /// Calls `service` with `params` on behalf of `tenant_id` (mock mode picks by tenant).
    async fn call(
        &self,
        tenant_id: Option<&str>,
        service: ServiceId,
        params: Value,
    ) -> Result<JitResponse, CallFailure>;
}

/// JIT-FS itself, with mock mode for listed tenants.
pub struct JitTreasury {
    client: Arc<JitClient>,
    mock: Option<MockTreasury>,
}

impl JitTreasury {
    /// The client, and mock mode when `mock` is set.
    pub fn new(client: Arc<JitClient>, mock: Option<MockTreasury>) -> Self {
        Self { client, mock }
    }
}

#[async_trait]
impl Treasury for JitTreasury {
    async fn call(
        &self,
        tenant_id: Option<&str>,
        service: ServiceId,
        params: Value,
    ) -> Result<JitResponse, CallFailure> {
        if let (Some(mock), Some(tenant)) = (&self.mock, tenant_id) {
            if mock.tenants.iter().any(|t| t == tenant) {
                return mock.answer(tenant, service, &params).await;
            }
        }
        Ok(self.client.call(service, params).await?)
    }
}

/// Upstream's mock mode (A1.13): answers from MDMS `ifms.JitMockResponse`, whose records'
/// `data` are complete JIT envelopes keyed by a `uniqueIdentifier` per service.
pub struct MockTreasury {
    mdms: Arc<dyn MdmsSource>,
    tenants: Vec<String>,
}

impl MockTreasury {
    /// Mock answers for `tenants`.
    pub fn new(mdms: Arc<dyn MdmsSource>, tenants: Vec<String>) -> Self {
        Self { mdms, tenants }
    }

    fn key(service: ServiceId, params: &Value) -> Option<String> {
        let p = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
        Some(match service {
            ServiceId::VA => format!("VA.{}.{}", p("hoa"), p("ddoCode")),
            ServiceId::PI => "PI.PI".to_owned(),
            ServiceId::PIS => format!("PIS.{}", p("jitBillNo")),
            ServiceId::PAG => format!("PAG.{}", p("billNo")),
            ServiceId::PD => format!("PD.{}", p("billRefNo")),
            ServiceId::COR => "COR.COR".to_owned(),
            ServiceId::FTPS => format!("FTPS.{}", p("jitCorBillNo")),
            ServiceId::FTFPS => format!("FTFPS.{}", p("jitCorBillNo")),
            ServiceId::FD | ServiceId::PA => return None,
        })
    }

    async fn answer(
        &self,
        tenant_id: &str,
        service: ServiceId,
        params: &Value,
    ) -> Result<JitResponse, CallFailure> {
        let records = self
            .mdms
            .master(tenant_id, "ifms", "JitMockResponse", None)
            .await
            .map_err(|e| CallFailure::NotBooked(format!("mock MDMS: {e}")))?;
        let key = Self::key(service, params);
        let mut data = Vec::new();
        let mut found: Option<JitResponse> = None;
        for record in records {
            let unique = record
                .get("uniqueIdentifier")
                .or_else(|| record.get("id"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let envelope: Option<JitResponse> = record
                .get("data")
                .cloned()
                .and_then(|d| serde_json::from_value(d).ok());
            match (&key, envelope) {
                (Some(k), Some(env)) if unique == k => {
                    found = Some(env);
                    break;
                }
                // FD: every record filtered by service id, data concatenated.
                (None, Some(env))
                    if record.get("serviceId").and_then(Value::as_str)
                        == Some(service.as_str())
                        || env.service_id.as_deref().map(str::trim) == Some(service.as_str()) =>
                {
                    data.extend(env.data);
                }
                _ => {}
            }
        }
        Ok(found.unwrap_or_else(|| JitResponse::success(service, data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mock_keys_follow_upstream() {
        let p = json!({"hoa": "H", "ddoCode": "D", "jitBillNo": "PI-1", "billNo": "PI-2",
            "billRefNo": "R", "jitCorBillNo": "C"});
        assert_eq!(
            MockTreasury::key(ServiceId::VA, &p).as_deref(),
            Some("VA.H.D")
        );
        assert_eq!(
            MockTreasury::key(ServiceId::PIS, &p).as_deref(),
            Some("PIS.PI-1")
        );
        assert_eq!(
            MockTreasury::key(ServiceId::PAG, &p).as_deref(),
            Some("PAG.PI-2")
        );
        assert_eq!(
            MockTreasury::key(ServiceId::PD, &p).as_deref(),
            Some("PD.R")
        );
        assert_eq!(
            MockTreasury::key(ServiceId::FTFPS, &p).as_deref(),
            Some("FTFPS.C")
        );
        assert_eq!(MockTreasury::key(ServiceId::FD, &p), None);
    }

    #[test]
    fn only_a_refused_or_unsent_call_is_not_booked() {
        let rejected = JitError::Rejected {
            status: 400,
            body: "bad".into(),
        };
        assert!(matches!(
            CallFailure::from(rejected),
            CallFailure::NotBooked(_)
        ));
        let server = JitError::Rejected {
            status: 502,
            body: "gateway".into(),
        };
        assert!(matches!(CallFailure::from(server), CallFailure::Unknown(_)));
        let garbled = JitError::Protocol("bad padding".into());
        assert!(matches!(
            CallFailure::from(garbled),
            CallFailure::Unknown(_)
        ));
    }
}
