//! What travels between the adapter and JIT-FS (spec A1.2, A2.4), before encryption
//! (service request and response) and as it is sent (authenticate, service call envelope).
//!
//! Field names are the treasury's, misspellings included (`sucessDescrp`, `granteCode`):
//! the service-specific `params` and `data[]` items stay [`serde_json::Value`] here, since
//! every value is a string and each caller (adapter, simulator) reads the fields it needs.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// The JIT services (upstream `JITServiceId`). `PA` is the adapter's own ("create payments
/// for approved bills"); JIT itself does not serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ServiceId {
    /// Virtual allotments since a date.
    VA,
    /// Post a payment instruction ("bill").
    PI,
    /// Payment instruction status (SSU approval).
    PIS,
    /// Payment advice generated.
    PAG,
    /// Payment done (debit scroll).
    PD,
    /// Failed payments.
    FD,
    /// Correction ("revised") bill for failed beneficiaries.
    COR,
    /// Success details of a correction bill.
    FTPS,
    /// Failures of a correction bill.
    FTFPS,
    /// Adapter-internal: create payments from approved bills.
    PA,
}

impl ServiceId {
    /// Every id, in catalogue order.
    pub const ALL: [ServiceId; 10] = [
        Self::VA,
        Self::PI,
        Self::PIS,
        Self::PAG,
        Self::PD,
        Self::FD,
        Self::COR,
        Self::FTPS,
        Self::FTFPS,
        Self::PA,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VA => "VA",
            Self::PI => "PI",
            Self::PIS => "PIS",
            Self::PAG => "PAG",
            Self::PD => "PD",
            Self::FD => "FD",
            Self::COR => "COR",
            Self::FTPS => "FTPS",
            Self::FTFPS => "FTFPS",
            Self::PA => "PA",
        }
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is no [`ServiceId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown JIT service id '{0}'")]
pub struct UnknownServiceId(pub String);

impl FromStr for ServiceId {
    type Err = UnknownServiceId;

    /// Exact ids, ignoring surrounding blanks and case (one JIT sample answers `" FTFPS"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|id| id.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownServiceId(s.to_owned()))
    }
}

/// The plaintext of a service call: `{"serviceId": "...", "params": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitRequest {
    /// Which service. Some JIT samples spell the key `serviceID`; it is accepted on input.
    #[serde(rename = "serviceId", alias = "serviceID")]
    pub service_id: ServiceId,
    /// The service's parameters (all values strings).
    #[serde(default)]
    pub params: Value,
}

/// One entry of `errorMsgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JitErrorMsg {
    /// JIT's code, e.g. `"340"` (wrong IFSC).
    #[serde(rename = "errorCode", default)]
    pub error_code: String,
    /// The text.
    #[serde(rename = "errorMsg", default)]
    pub error_msg: String,
}

impl JitErrorMsg {
    /// An entry.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_code: code.into(),
            error_msg: message.into(),
        }
    }
}

/// The decrypted answer of a service call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JitResponse {
    /// Echo of the service id (not always clean: `" FTFPS"` occurs).
    #[serde(rename = "serviceId", default)]
    pub service_id: Option<String>,
    /// One error text; `null` on success (always written, as JIT does).
    #[serde(rename = "errorMsg", default)]
    pub error_msg: Option<String>,
    /// Several coded errors (PI, COR); left out when absent.
    #[serde(rename = "errorMsgs", default, skip_serializing_if = "Option::is_none")]
    pub error_msgs: Option<Vec<JitErrorMsg>>,
    /// The result items; `null` or missing reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data: Vec<Value>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default())
}

impl JitResponse {
    /// A successful answer with these items.
    pub fn success(service: ServiceId, data: Vec<Value>) -> Self {
        Self {
            service_id: Some(service.as_str().to_owned()),
            error_msg: None,
            error_msgs: None,
            data,
        }
    }

    /// An answer with one error text and no items.
    pub fn error(service: Option<ServiceId>, message: impl Into<String>) -> Self {
        Self {
            service_id: service.map(|s| s.as_str().to_owned()),
            error_msg: Some(message.into()),
            error_msgs: None,
            data: Vec::new(),
        }
    }

    /// An answer with coded errors and no items (how PI and COR reject).
    pub fn errors(service: ServiceId, errors: Vec<JitErrorMsg>) -> Self {
        Self {
            service_id: Some(service.as_str().to_owned()),
            error_msg: None,
            error_msgs: Some(errors),
            data: Vec::new(),
        }
    }

    /// The adapter's success rule (A1.2): `errorMsg` is null **and** `data` is non-empty.
    /// `errorMsgs` alone does not fail a call; only the empty `data` does.
    pub fn succeeded(&self) -> bool {
        self.error_msg.is_none() && !self.data.is_empty()
    }

    /// The error text to record: `errorMsgs` as `code: message; …` when present, else
    /// `errorMsg`; `None` when the answer carries neither.
    pub fn error_text(&self) -> Option<String> {
        match &self.error_msgs {
            Some(list) if !list.is_empty() => Some(
                list.iter()
                    .map(|e| {
                        if e.error_code.is_empty() {
                            e.error_msg.clone()
                        } else {
                            format!("{}: {}", e.error_code, e.error_msg)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => self.error_msg.clone(),
        }
    }
}

/// Body of `POST …/authenticate`: `{"appKey": base64(RSA-OAEP(app key))}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    /// The RSA-encrypted app key, base64.
    #[serde(rename = "appKey")]
    pub app_key: String,
}

/// Answer of `POST …/authenticate` (plain JSON).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    /// Sent back in the `authToken` header of every service call.
    #[serde(rename = "authToken")]
    pub auth_token: String,
    /// The session key, AES-encrypted under the app key, base64.
    pub sek: String,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthResponse(<redacted>)")
    }
}

/// Body of `POST …/get-jit-service-data`: the encrypted request and the encrypted REK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCall {
    /// base64(AES(SEK, request JSON)).
    pub params: String,
    /// base64(AES(SEK, REK)).
    pub rek: String,
}

/// Headers of the protocol.
pub mod headers {
    /// Client id, on authenticate.
    pub const CLIENT_ID: &str = "clientId";
    /// Client secret, on authenticate.
    pub const CLIENT_SECRET: &str = "clientSecret";
    /// Session token, on service calls.
    pub const AUTH_TOKEN: &str = "authToken";
}

/// The text JIT answers (as a 4xx body) when the session is unknown or expired; the client
/// re-authenticates once when it sees it.
pub const NO_VALID_SESSION: &str = "No valid session encryption key";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn service_ids_parse_and_serialise_as_their_names() {
        for id in ServiceId::ALL {
            assert_eq!(id.as_str().parse::<ServiceId>().unwrap(), id);
            assert_eq!(serde_json::to_value(id).unwrap(), json!(id.as_str()));
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!(" FTFPS".parse::<ServiceId>().unwrap(), ServiceId::FTFPS);
        assert_eq!("pis".parse::<ServiceId>().unwrap(), ServiceId::PIS);
        assert!("XX".parse::<ServiceId>().is_err());
    }

    #[test]
    fn requests_keep_the_wire_key_and_accept_service_id_capitalised() {
        let r = JitRequest {
            service_id: ServiceId::VA,
            params: json!({"hoa": "1"}),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"serviceId":"VA","params":{"hoa":"1"}}"#
        );
        let cor: JitRequest =
            serde_json::from_str(r#"{"serviceID":"COR","params":{"jitCorBillNo":"x"}}"#).unwrap();
        assert_eq!(cor.service_id, ServiceId::COR);
    }

    #[test]
    fn success_needs_no_error_msg_and_some_data() {
        let ok: JitResponse = serde_json::from_str(
            r#"{"serviceId":"PI","errorMsg":null,"data":[{"jitBillNo":"PI-1"}]}"#,
        )
        .unwrap();
        assert!(ok.succeeded());
        assert_eq!(ok.error_text(), None);
        let empty: JitResponse =
            serde_json::from_str(r#"{"serviceId":"PIS","errorMsg":null,"data":[]}"#).unwrap();
        assert!(!empty.succeeded());
        let rejected: JitResponse = serde_json::from_str(
            r#"{"serviceId":"PIS","errorMsg":"This Bill Number PI-1 is rejected by SSU angul_op","data":[]}"#,
        )
        .unwrap();
        assert!(!rejected.succeeded());
        assert_eq!(
            rejected.error_text().unwrap(),
            "This Bill Number PI-1 is rejected by SSU angul_op"
        );
        let coded: JitResponse = serde_json::from_str(
            r#"{"serviceId":"PI","errorMsgs":[{"errorCode":"340","errorMsg":"Wrong IFSC provided in Beneficiary Details for BenefId 1"},{"errorCode":"340","errorMsg":"Wrong IFSC provided in Beneficiary Details for BenefId 2"}],"data":[]}"#,
        )
        .unwrap();
        assert!(!coded.succeeded());
        assert_eq!(
            coded.error_text().unwrap(),
            "340: Wrong IFSC provided in Beneficiary Details for BenefId 1; 340: Wrong IFSC provided in Beneficiary Details for BenefId 2"
        );
        let null_data: JitResponse =
            serde_json::from_str(r#"{"serviceId":"VA","errorMsg":null,"data":null}"#).unwrap();
        assert!(null_data.data.is_empty());
    }

    #[test]
    fn responses_serialise_like_jit() {
        let ok = JitResponse::success(ServiceId::VA, vec![json!({"a": "1"})]);
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"serviceId":"VA","errorMsg":null,"data":[{"a":"1"}]}"#
        );
        let bad = JitResponse::errors(ServiceId::PI, vec![JitErrorMsg::new("340", "x")]);
        assert_eq!(
            serde_json::to_string(&bad).unwrap(),
            r#"{"serviceId":"PI","errorMsg":null,"errorMsgs":[{"errorCode":"340","errorMsg":"x"}],"data":[]}"#
        );
    }

    #[test]
    fn auth_types_use_the_wire_names_and_hide_secrets() {
        let a: AuthResponse = serde_json::from_str(r#"{"authToken":"t","sek":"s"}"#).unwrap();
        assert_eq!(a.auth_token, "t");
        assert_eq!(format!("{a:?}"), "AuthResponse(<redacted>)");
        assert_eq!(
            serde_json::to_string(&AuthRequest {
                app_key: "k".into()
            })
            .unwrap(),
            r#"{"appKey":"k"}"#
        );
    }
}
