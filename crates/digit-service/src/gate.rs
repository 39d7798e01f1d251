//! The request gate: what the DIGIT gateway does before a request reaches a service —
//! correlation id, authentication, role-action and tenant authorization, and `userInfo`
//! enrichment — as one axum middleware in front of the business routes (§7.2).
//!
//! - Open endpoints skip authentication; mixed endpoints allow anonymous callers.
//! - `AUTH_MODE=jwt`: the token is `RequestInfo.authToken`, else `Authorization: Bearer`,
//!   else the `auth-token` header. The body's `userInfo` is **replaced** with the token's
//!   user, so a forged `userInfo` never reaches a handler, a Kafka payload or a log.
//! - `AUTH_MODE=gateway`: `RequestInfo.userInfo` (or the `x-user-info` header for non-JSON
//!   requests, or an iFIX envelope's `requestHeader.userInfo`) is trusted as the DIGIT
//!   gateway injected it.
//! - A missing/invalid/expired token is 401 with the body the DIGIT UI logs out on; a user
//!   without a role granting the URI for the request's tenant is 403.

use crate::authz::{Authorizer, AuthzError};
use crate::config::{AuthMode, ServiceSettings};
use crate::error::ApiError;
use crate::extract::is_json;
use crate::jwt::TokenVerifier;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use digit_core::error::codes;
use digit_core::{ErrorDetail, UserInfo};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Header carrying the correlation id (upstream tracer).
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// What the gate learned about the request; handlers read it with `Extension<RequestContext>`.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// Correlation id (header, else body, else new).
    pub correlation_id: String,
    /// The authenticated user; `None` for anonymous calls to open/mixed endpoints.
    pub user: Option<UserInfo>,
}

/// The gate's configuration; cheap to clone.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

struct GateInner {
    mode: AuthMode,
    verifier: Option<TokenVerifier>,
    authorizer: Option<Arc<Authorizer>>,
    open: HashSet<String>,
    mixed: HashSet<String>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("mode", &self.inner.mode)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate from the service settings. Without an authorizer only authentication runs.
    pub fn new(
        settings: &ServiceSettings,
        authorizer: Option<Arc<Authorizer>>,
    ) -> Result<Self, crate::config::ConfigError> {
        let verifier = match settings.auth_mode {
            AuthMode::Jwt => Some(TokenVerifier::from_settings(settings)?),
            AuthMode::Gateway => None,
        };
        Ok(Self {
            inner: Arc::new(GateInner {
                mode: settings.auth_mode,
                verifier,
                authorizer,
                open: settings.open_endpoints.iter().cloned().collect(),
                mixed: settings.mixed_endpoints.iter().cloned().collect(),
                max_body_bytes: settings.max_body_bytes,
            }),
        })
    }

    /// The role-action authorizer, for services that must also authorize against the
    /// tenant of the record a request touches (the gate only sees the body's `tenantId`s).
    pub fn authorizer(&self) -> Option<Arc<Authorizer>> {
        self.inner.authorizer.clone()
    }
}

/// The middleware function; install with
/// `axum::middleware::from_fn_with_state(gate, digit_service::gate::authenticate)`.
pub async fn authenticate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    match gate_request(&gate.inner, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn gate_request(gate: &GateInner, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let header_correlation = header_str(&parts.headers, CORRELATION_HEADER).map(str::to_owned);

    // Read the JSON body once (bounded); other content types are left to the handler.
    let mut json: Option<Value> = None;
    let mut raw: Option<axum::body::Bytes> = None;
    let mut passthrough: Option<Body> = None;
    if is_json(&parts.headers) {
        let bytes = axum::body::to_bytes(body, gate.max_body_bytes)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    vec![ErrorDetail::new(
                        codes::PAYLOAD_TOO_LARGE,
                        "Request body is too large",
                    )],
                )
            })?;
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::bad_request(codes::JSON_PARSE, format!("Failed to parse JSON body: {e}"))
            })?;
            json = Some(value);
        }
        raw = Some(bytes);
    } else {
        // Not JSON: keep the stream as it is for the handler (which rejects it if it wants JSON).
        passthrough = Some(body);
    }

    let body_correlation = json
        .as_ref()
        .and_then(|v| request_info(v))
        .and_then(|ri| ri.get("correlationId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let correlation_id = header_correlation
        .or(body_correlation)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

    let user = if gate.open.contains(&path) {
        None
    } else {
        let user = identify(gate, &parts.headers, json.as_ref())?;
        match (&user, gate.mixed.contains(&path)) {
            (None, false) => return Err(ApiError::invalid_token()),
            (None, true) => {}
            (Some(u), _) => {
                if let Some(authorizer) = &gate.authorizer {
                    let tenants = request_tenant_ids(json.as_ref(), parts.uri.query());
                    authorizer
                        .authorize(u, &path, &tenants)
                        .await
                        .map_err(|e| match e {
                            AuthzError::Forbidden(_) => ApiError::forbidden(),
                            AuthzError::Unavailable(cause) => ApiError::internal(&cause),
                        })?;
                }
            }
        }
        user
    };

    // Enrich the body as the gateway does: the trusted user and the correlation id.
    let body = match (json, raw) {
        (Some(mut value), _) => {
            if let Some(ri) = request_info_mut(&mut value) {
                if gate.mode == AuthMode::Jwt {
                    let user_value = match &user {
                        Some(u) => serde_json::to_value(u).map_err(|e| ApiError::internal(&e))?,
                        None => Value::Null,
                    };
                    ri.insert("userInfo".into(), user_value);
                }
                ri.insert(
                    "correlationId".into(),
                    Value::String(correlation_id.clone()),
                );
            }
            let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::internal(&e))?;
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Body::from(bytes)
        }
        (None, Some(bytes)) => Body::from(bytes),
        (None, None) => passthrough.unwrap_or_else(Body::empty),
    };
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        parts.headers.insert(CORRELATION_HEADER, v);
    }
    parts.extensions.insert(RequestContext {
        correlation_id,
        user,
    });
    Ok(Request::from_parts(parts, body))
}

/// The caller: `Ok(None)` when no credentials were presented.
fn identify(
    gate: &GateInner,
    headers: &HeaderMap,
    json: Option<&Value>,
) -> Result<Option<UserInfo>, ApiError> {
    let ri = json.and_then(request_info);
    match gate.mode {
        AuthMode::Jwt => {
            let token = ri
                .and_then(|r| r.get("authToken"))
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .map(str::to_owned)
                .or_else(|| bearer(headers))
                .or_else(|| header_str(headers, "auth-token").map(str::to_owned));
            let Some(token) = token else { return Ok(None) };
            let verifier = gate.verifier.as_ref().ok_or_else(ApiError::invalid_token)?;
            match verifier.verify(&token) {
                Ok(user) => Ok(Some(user)),
                Err(e) => {
                    tracing::info!(reason = %e, "Token refused.");
                    Err(ApiError::invalid_token())
                }
            }
        }
        AuthMode::Gateway => {
            let from_body = ri
                .and_then(|r| r.get("userInfo"))
                .filter(|u| !u.is_null())
                .cloned();
            let from_header = header_str(headers, "x-user-info")
                .and_then(|h| serde_json::from_str::<Value>(h).ok());
            // iFIX envelopes carry the user as `requestHeader.userInfo` (roles and tenants as
            // plain lists).
            let from_ifix_header = json
                .and_then(|v| v.get("requestHeader"))
                .and_then(|h| h.get("userInfo"))
                .filter(|u| u.is_object())
                .map(ifix_user);
            match from_body.or(from_header).or(from_ifix_header) {
                None => Ok(None),
                Some(v) => serde_json::from_value::<UserInfo>(v)
                    .map(Some)
                    .map_err(|e| {
                        ApiError::bad_request(
                            codes::JSON_MAPPING,
                            format!("Failed to parse field - RequestInfo.userInfo: {e}"),
                        )
                    }),
            }
        }
    }
}

/// An iFIX `userInfo` (`{uuid, roles: [code], tenants: [tenantId], attributes}`) in DIGIT's
/// shape: every role held at every listed tenant.
fn ifix_user(u: &Value) -> Value {
    let strings = |k: &str| -> Vec<String> {
        u.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let tenants = strings("tenants");
    let roles: Vec<Value> = strings("roles")
        .iter()
        .flat_map(|code| {
            tenants
                .iter()
                .map(move |t| serde_json::json!({"code": code, "name": code, "tenantId": t}))
        })
        .collect();
    serde_json::json!({
        "uuid": u.get("uuid").cloned().unwrap_or(Value::Null),
        "type": "EMPLOYEE",
        "tenantId": tenants.first(),
        "roles": roles,
    })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = header_str(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.trim().is_empty())
}

fn request_info(body: &Value) -> Option<&serde_json::Map<String, Value>> {
    body.get("RequestInfo")
        .or_else(|| body.get("requestInfo"))
        .and_then(Value::as_object)
}

fn request_info_mut(body: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let obj = body.as_object_mut()?;
    let key = if obj.get("RequestInfo").is_some_and(Value::is_object) {
        "RequestInfo"
    } else {
        "requestInfo"
    };
    obj.get_mut(key).and_then(Value::as_object_mut)
}

/// The tenant ids a request is about, as the gateway collects them (§7.3): every string
/// (or string-array) property named `tenantId` anywhere in the body outside `RequestInfo`;
/// when there is none, the `tenantId` query parameter, comma-split. `"null"` is ignored.
pub fn request_tenant_ids(body: Option<&Value>, query: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::Object(map)) = body {
        for (k, v) in map {
            if k != "RequestInfo" && k != "requestInfo" {
                collect_tenants(k, v, &mut out, 0);
            }
        }
    }
    if out.is_empty() {
        if let Some(q) = query {
            for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default()
            {
                if k == "tenantId" {
                    out.extend(
                        v.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty() && *s != "null")
                            .map(str::to_owned),
                    );
                }
            }
        }
    }
    let mut seen = HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    out
}

fn collect_tenants(key: &str, value: &Value, out: &mut Vec<String>, depth: usize) {
    // Bodies are bounded in size; depth is bounded too so a hostile nesting cannot recurse forever.
    if depth > 64 {
        return;
    }
    match value {
        Value::String(s) if key == "tenantId" && s != "null" && !s.is_empty() => {
            out.push(s.clone())
        }
        Value::Array(items) if key == "tenantId" => {
            out.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| *s != "null" && !s.is_empty())
                    .map(str::to_owned),
            );
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_tenants("", i, out, depth + 1)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_tenants(k, v, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tenant_ids_come_from_the_body_outside_request_info_then_the_query() {
        let body = json!({"RequestInfo": {"userInfo": {"tenantId": "pg"}},
            "service": {"tenantId": "pg.citya", "address": {"tenantId": "pg.citya"}},
            "items": [{"tenantId": "pg.cityb"}, {"tenantId": "null"}], "list": {"tenantId": ["pg.cityc"]}});
        assert_eq!(
            request_tenant_ids(Some(&body), Some("tenantId=zz")),
            ["pg.citya", "pg.cityb", "pg.cityc"]
        );
        assert_eq!(
            request_tenant_ids(
                Some(&json!({"RequestInfo": {}})),
                Some("tenantId=pg.citya,pg&_=1")
            ),
            ["pg.citya", "pg"]
        );
        assert!(request_tenant_ids(None, None).is_empty());
    }
}
