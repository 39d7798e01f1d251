//! The envelope extractor: every malformed body becomes a DIGIT 400, never axum's
//! plain-text rejection and never a panic (upstream-platform §1.4).

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use digit_core::error::codes;
use digit_core::ErrorDetail;
use serde::de::DeserializeOwned;

/// A JSON body with a `RequestInfo` envelope, deserialized into `T`.
///
/// Failure modes, all HTTP 400 in the tracer shape:
/// - content type not JSON → `UnsupportedMediaType`;
/// - empty body, or a body that is not a JSON object → `MissingJsonException`;
/// - invalid JSON → `JsonParseException` with the parser's message;
/// - no `RequestInfo` (or `requestInfo`) object → `MissingJsonException`;
/// - a text value (or key) holding the NUL character → `INVALID_CHARACTER` naming its path
///   (Postgres refuses `\u0000` in text: without this check it became a 500);
/// - a field of the wrong type → `JsonMappingException`,
///   `Failed to parse field - <path>. Expected type is <…>`.
#[derive(Debug, Clone)]
pub struct DigitJson<T>(pub T);

impl<S, T> FromRequest<S> for DigitJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Content type is not supported; send application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        vec![ErrorDetail::new(
                            codes::PAYLOAD_TOO_LARGE,
                            "Request body is too large",
                        )],
                    )
                } else {
                    ApiError::bad_request(codes::MISSING_JSON, "JSON body has errors or is missing")
                }
            })?;
        parse_envelope(&bytes).map(DigitJson)
    }
}

/// True when the request declares a JSON content type (`application/json`, `…+json`).
pub fn is_json(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses an envelope body into `T` with the error mapping documented on [`DigitJson`].
pub fn parse_envelope<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(codes::JSON_PARSE, format!("Failed to parse JSON body: {e}"))
    })?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    };
    let has_request_info = ["RequestInfo", "requestInfo"]
        .iter()
        .any(|k| object.get(*k).is_some_and(serde_json::Value::is_object));
    if !has_request_info {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "RequestInfo is missing or is not an object in the request body",
        ));
    }
    reject_nul(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| mapping_error(&e))
}

/// `INVALID_CHARACTER` (400) when any string or key of `value` holds the NUL character, naming
/// the first one's path (`Service.description`, `items[2]`). For handlers that parse raw
/// bodies themselves; [`DigitJson`] applies it to every envelope.
pub fn reject_nul(value: &serde_json::Value) -> Result<(), ApiError> {
    fn find(value: &serde_json::Value, path: &mut String) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = find(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let found = k.contains('\0') || find(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    if find(value, &mut path) {
        let at = if path.is_empty() { "." } else { path.as_str() };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            vec![ErrorDetail::new(
                codes::INVALID_CHARACTER,
                format!("Field {at} contains the NUL character (\\u0000), which is not allowed"),
            )
            .with_params(vec![at.to_owned()])],
        ));
    }
    Ok(())
}

/// Maps a typed deserialization failure to `JsonMappingException` naming the field.
pub fn mapping_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    // serde's messages look like "invalid type: string \"x\", expected i64 at line.."
    let expected = inner
        .split_once("expected ")
        .map(|(_, rest)| rest.split(" at line").next().unwrap_or(rest).to_owned());
    let message = match expected {
        Some(exp) if path != "." => {
            format!("Failed to parse field - {path}. Expected type is {exp}")
        }
        _ if inner.starts_with("missing field") => {
            let field = inner.split('`').nth(1).unwrap_or("");
            let location = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            format!("Failed to parse field - {location}. Field is required")
        }
        _ => "Failed to deserialize certain JSON fields".to_owned(),
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        vec![ErrorDetail::new(codes::JSON_MAPPING, message).with_params(vec![path])],
    )
}
