//! The `RequestInfo` request envelope and the user it carries (upstream-platform §1.1).

use serde::{Deserialize, Serialize};

/// The request envelope every DIGIT business call carries under the key `RequestInfo`.
///
/// Deserialization is lenient like upstream's: unknown keys are ignored and `did`/`ts`
/// accept numbers or strings. `userInfo` is only trusted behind the DIGIT gateway; in JWT
/// mode `digit-service` replaces it with the token's user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    /// Calling application, e.g. `"Rainmaker"`.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub api_id: Option<String>,
    /// Client API version; the persister and indexer select config versions by it.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub ver: Option<String>,
    /// Client timestamp in epoch ms, echoed back in `ResponseInfo.ts`.
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub ts: Option<i64>,
    /// Free-form action name.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub action: Option<String>,
    /// Device id; clients sometimes send a number.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub did: Option<String>,
    /// Free-form key.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub key: Option<String>,
    /// Message id; the UI sends `<epochMs>|<locale>`.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub msg_id: Option<String>,
    /// Requester id (present in the contract, unused by services).
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub requester_id: Option<String>,
    /// Access token (a JWT in `AUTH_MODE=jwt`, an opaque token behind the gateway).
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub auth_token: Option<String>,
    /// Correlation id set by the gateway or the tracer.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub correlation_id: Option<String>,
    /// Privacy/decryption request; the UI sends `{}`.
    #[serde(default)]
    pub plain_access_request: Option<PlainAccessRequest>,
    /// The calling user, as injected by the gateway or derived from the JWT.
    #[serde(default)]
    pub user_info: Option<UserInfo>,
}

impl RequestInfo {
    /// The locale after the `|` of `msgId` (`"1751888233965|en_IN"` → `en_IN`), as
    /// upstream services read it for localization.
    pub fn locale(&self) -> Option<&str> {
        let msg_id = self.msg_id.as_deref()?;
        let (_, locale) = msg_id.split_once('|')?;
        let locale = locale.trim();
        (!locale.is_empty()).then_some(locale)
    }

    /// The uuid of the calling user, if any.
    pub fn user_uuid(&self) -> Option<&str> {
        self.user_info.as_ref().and_then(|u| u.uuid.as_deref())
    }
}

/// `RequestInfo.plainAccessRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlainAccessRequest {
    /// Record whose fields should be decrypted.
    #[serde(default)]
    pub record_id: Option<String>,
    /// Fields requested in plain text.
    #[serde(default)]
    pub plain_request_fields: Option<Vec<String>>,
}

/// Kind of DIGIT user (`type` in `userInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum UserType {
    /// A member of the public.
    Citizen,
    /// A government employee.
    Employee,
    /// A system user (e.g. the anonymous or auto-escalation user).
    System,
}

impl UserType {
    /// The upstream spelling, e.g. `"CITIZEN"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "CITIZEN",
            Self::Employee => "EMPLOYEE",
            Self::System => "SYSTEM",
        }
    }
}

/// `RequestInfo.userInfo`: the calling user (upstream `User`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Numeric user id.
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub id: Option<i64>,
    /// User uuid: the id every record's audit refers to.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Login name.
    #[serde(default)]
    pub user_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `CITIZEN`, `EMPLOYEE` or `SYSTEM`.
    #[serde(default, rename = "type")]
    pub user_type: Option<UserType>,
    /// Mobile number.
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    pub mobile_number: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email_id: Option<String>,
    /// Tenant the user belongs to.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Roles, each scoped to a tenant.
    #[serde(default)]
    pub roles: Vec<Role>,
}

impl UserInfo {
    /// True when the user has a role with this code, for any tenant.
    pub fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r.code == code)
    }

    /// True for `type == CITIZEN`.
    pub fn is_citizen(&self) -> bool {
        self.user_type == Some(UserType::Citizen)
    }
}

/// A role held for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Usually null.
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub id: Option<i64>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Role code, e.g. `GRO`.
    pub code: String,
    /// Tenant this role is valid for.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// `{"RequestInfo": {...}}` — the body of searches whose criteria are query parameters.
///
/// Upstream's tracer also accepts the camelCase key `requestInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestInfoWrapper {
    /// The envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    pub request_info: RequestInfo,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_info_reads_the_ui_shape_and_ignores_unknown_keys() {
        let body = json!({
            "apiId": "Rainmaker", "ver": ".01", "ts": 1751888233965_i64, "action": "_create",
            "did": 1, "key": "", "msgId": "1751888233965|en_IN", "authToken": "abc",
            "plainAccessRequest": {}, "somethingNew": [1, 2],
            "userInfo": {"id": 23, "uuid": "u-1", "userName": "GRO1", "name": "Gro",
                "type": "EMPLOYEE", "mobileNumber": 9999999999_i64, "emailId": null, "tenantId": "pg.citya",
                "roles": [{"name": "Grievance Routing Officer", "code": "GRO", "tenantId": "pg.citya"}]}
        });
        let ri: RequestInfo = serde_json::from_value(body).unwrap();
        assert_eq!(ri.api_id.as_deref(), Some("Rainmaker"));
        assert_eq!(ri.ts, Some(1751888233965));
        assert_eq!(ri.did.as_deref(), Some("1"));
        assert_eq!(ri.locale(), Some("en_IN"));
        let user = ri.user_info.as_ref().unwrap();
        assert_eq!(user.user_type, Some(UserType::Employee));
        assert_eq!(user.mobile_number.as_deref(), Some("9999999999"));
        assert!(user.has_role("GRO"));
        assert_eq!(ri.user_uuid(), Some("u-1"));
    }

    #[test]
    fn ts_may_be_a_string() {
        let ri: RequestInfo = serde_json::from_value(json!({"ts": "42"})).unwrap();
        assert_eq!(ri.ts, Some(42));
        assert!(serde_json::from_value::<RequestInfo>(json!({"ts": "x"})).is_err());
        assert!(serde_json::from_value::<RequestInfo>(json!({"ts": {}})).is_err());
    }

    #[test]
    fn request_info_serializes_every_key_with_explicit_nulls() {
        let v = serde_json::to_value(RequestInfo::default()).unwrap();
        let obj = v.as_object().unwrap();
        for key in [
            "apiId",
            "ver",
            "ts",
            "action",
            "did",
            "key",
            "msgId",
            "requesterId",
            "authToken",
            "correlationId",
            "plainAccessRequest",
            "userInfo",
        ] {
            assert!(obj.get(key).unwrap().is_null(), "{key}");
        }
    }

    #[test]
    fn wrapper_accepts_both_casings() {
        let a: RequestInfoWrapper =
            serde_json::from_value(json!({"RequestInfo": {"apiId": "a"}})).unwrap();
        let b: RequestInfoWrapper =
            serde_json::from_value(json!({"requestInfo": {"apiId": "a"}})).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn locale_is_absent_without_a_pipe() {
        let ri = RequestInfo {
            msg_id: Some("123".into()),
            ..Default::default()
        };
        assert_eq!(ri.locale(), None);
    }
}
