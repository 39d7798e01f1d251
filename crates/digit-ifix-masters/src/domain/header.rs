//! The iFIX envelope (`core/libraries/ifix-services-common`, spec §4): `requestHeader` in,
//! `responseHeader` out (an echo of the request's `ts`, `msgId`, `signature` and `version`,
//! with the correlation id and `status`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `requestHeader`. Only `userInfo` matters to the server, and the server ignores it: the
/// caller is who the gate authenticated (in gateway mode the gate read it from here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestHeader {
    /// Client time (epoch; any JSON number or string upstream accepts is kept as given).
    #[serde(default)]
    pub ts: Option<Value>,
    /// API version.
    #[serde(default)]
    pub version: Option<String>,
    /// Client message id.
    #[serde(default)]
    pub msg_id: Option<String>,
    /// The user as the client (or the gateway) described it.
    #[serde(default)]
    pub user_info: Option<HeaderUserInfo>,
    /// Correlation id.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Client signature (echoed, not checked: upstream does not check it either).
    #[serde(default)]
    pub signature: Option<String>,
}

/// `requestHeader.userInfo`: iFIX's user (roles and tenants as plain lists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeaderUserInfo {
    /// User uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Role codes.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Tenant ids.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Free-form attributes.
    #[serde(default)]
    pub attributes: Option<Value>,
}

impl HeaderUserInfo {
    /// The trusted form of the gate's user, as it goes into Kafka payloads (so a forged
    /// `userInfo` never reaches a topic).
    pub fn of(user: &digit_core::UserInfo) -> Self {
        let mut tenants: Vec<String> = user
            .roles
            .iter()
            .filter_map(|r| r.tenant_id.clone())
            .collect();
        tenants.sort();
        tenants.dedup();
        let mut roles: Vec<String> = user.roles.iter().map(|r| r.code.clone()).collect();
        roles.sort();
        roles.dedup();
        Self {
            uuid: user.uuid.clone(),
            roles,
            tenants,
            attributes: None,
        }
    }
}

/// `responseHeader.status`.
pub const STATUS_SUCCESSFUL: &str = "successful";

/// `responseHeader`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseHeader {
    /// Echo of `requestHeader.ts`.
    pub ts: Option<Value>,
    /// The request's correlation id.
    pub correlation_id: Option<String>,
    /// Echo of `requestHeader.msgId`.
    pub msg_id: Option<String>,
    /// `successful`.
    pub status: Option<String>,
    /// Echo of `requestHeader.signature`.
    pub signature: Option<String>,
    /// Echo of `requestHeader.version`.
    pub version: Option<String>,
}

impl ResponseHeader {
    /// The successful answer to `request`.
    pub fn successful(request: &RequestHeader, correlation_id: &str) -> Self {
        Self {
            ts: request.ts.clone(),
            correlation_id: Some(correlation_id.to_owned()),
            msg_id: request.msg_id.clone(),
            status: Some(STATUS_SUCCESSFUL.to_owned()),
            // Upstream answers a missing signature with "".
            signature: Some(request.signature.clone().unwrap_or_default()),
            version: request.version.clone(),
        }
    }
}

/// A list item upstream's fixtures send as a plain id (`"children": ["…"]`) and its code
/// as an object (`{"childId": "…", "status": true}`, `{"departmentEntityId": …}`,
/// `{"locationId": …}`): both are read; `status: false` removes the link. Written back as
/// the plain id (the fixtures' shape; only active links are ever answered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The linked id.
    pub id: String,
    /// Active (false: remove the link).
    pub active: bool,
}

impl Link {
    /// An active link.
    pub fn active(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            active: true,
        }
    }
}

impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.id)
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::String(id) => Ok(Self::active(id)),
            Value::Object(map) => {
                let id = ["childId", "departmentEntityId", "locationId", "id"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str))
                    .ok_or_else(|| {
                        D::Error::custom(
                            "a link needs an id (childId, departmentEntityId or locationId)",
                        )
                    })?;
                let active = match map.get("status") {
                    None | Some(Value::Null) => true,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(D::Error::custom("status is a boolean")),
                };
                Ok(Self {
                    id: id.to_owned(),
                    active,
                })
            }
            _ => Err(D::Error::custom("a link is an id or an object with one")),
        }
    }
}

/// Both read forms (a plain id, or an object naming it); answers carry the plain id.
impl schemars::JsonSchema for Link {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Link".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A linked id, or an object naming it (`childId`, `departmentEntityId`, `locationId` or `id`) with `status` (false removes the link); answers carry the plain id.",
            "anyOf": [
                { "type": "string" },
                {
                    "type": "object",
                    "properties": {
                        "childId": { "type": "string" },
                        "departmentEntityId": { "type": "string" },
                        "locationId": { "type": "string" },
                        "id": { "type": "string" },
                        "status": { "type": ["boolean", "null"] }
                    },
                    "anyOf": [
                        { "required": ["childId"] },
                        { "required": ["departmentEntityId"] },
                        { "required": ["locationId"] },
                        { "required": ["id"] }
                    ]
                }
            ]
        })
    }
}

/// A link as it travels to the persister (both fields, so removals are stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredLink<'a> {
    /// The linked id.
    pub id: &'a str,
    /// Active.
    pub status: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_read_both_forms_and_write_ids() {
        let links: Vec<Link> = serde_json::from_value(json!([
            "a",
            {"childId": "b", "status": false},
            {"departmentEntityId": "c"},
            {"locationId": "d", "status": true}
        ]))
        .unwrap();
        assert_eq!(
            links,
            vec![
                Link::active("a"),
                Link {
                    id: "b".into(),
                    active: false
                },
                Link::active("c"),
                Link::active("d")
            ]
        );
        assert_eq!(serde_json::to_value(&links[..1]).unwrap(), json!(["a"]));
        assert!(serde_json::from_value::<Link>(json!({"status": true})).is_err());
        assert!(serde_json::from_value::<Link>(json!(5)).is_err());
    }

    #[test]
    fn response_header_echoes_the_request() {
        let rh: RequestHeader = serde_json::from_value(json!({
            "ts": 1627193067, "version": "V1", "msgId": "Unknown", "signature": "NON",
            "userInfo": {"uuid": "u"}
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(ResponseHeader::successful(&rh, "c")).unwrap(),
            json!({"ts": 1627193067, "correlationId": "c", "msgId": "Unknown",
                   "status": "successful", "signature": "NON", "version": "V1"})
        );
    }
}
