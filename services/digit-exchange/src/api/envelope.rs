//! Reading the exchange envelope (spec §2.2): `{signature, header, message: "<JSON
//! string>", seal?}` with upstream's coercions, the same as the program service's header
//! rules (§1.4): `message_ts` takes numbers and numeric strings (missing, null or `""` →
//! 0), `message_type` and `action` any case, string fields take numbers and booleans
//! (Jackson's coercion), `is_msg_encrypted` takes `true`/`"true"`.
//!
//! Then upstream's bean validation (`@NotNull @Valid header`, `@NotNull message`, the
//! header's `@NotNull` fields), one HTTP 400 entry per violation, coded as Spring binds
//! them: `NotNull.requestMessage.header.messageId`. An unknown header `message_type` is
//! null for upstream (`ExchangeType.fromValue`), so it fails `NotNull` too. A wrongly typed
//! field (an object `message`, an unknown `action`) is upstream's `JsonMappingException`.

use crate::domain::model::{Action, ExchangeType, RequestHeader, RequestMessage};
use axum::http::StatusCode;
use digit_core::error::codes;
use digit_core::ErrorDetail;
use digit_service::ApiError;
use serde_json::Value;

const BEAN: &str = "requestMessage";
const NOT_NULL: &str = "must not be null";

fn mapping(path: &str, expected: &str) -> ApiError {
    ApiError::bad_request(
        codes::JSON_MAPPING,
        format!("Failed to parse field - {path}. Expected type is {expected}"),
    )
}

fn not_null(path: &str) -> ErrorDetail {
    ErrorDetail::new(format!("NotNull.{BEAN}.{path}"), NOT_NULL)
}

/// A Java `long` from JSON: a number, or a numeric string (Jackson's coercion).
pub fn long_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// A Java `String` field: strings, numbers and booleans (Jackson coerces scalars).
fn text(obj: &Value, key: &str, path: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(mapping(path, "String")),
    }
}

/// The body as a JSON object (DIGIT's 400s for an empty body, bad JSON, a non-object).
pub fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(codes::JSON_PARSE, format!("Failed to parse JSON body: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    }
    // Postgres refuses NUL in text: a 400 naming the field, not a 500 from the store.
    digit_service::extract::reject_nul(&value)?;
    Ok(value)
}

/// A header object, typed (`None` fields are nulls for bean validation).
struct RawHeader {
    message_id: Option<String>,
    message_ts: i64,
    message_type: Option<ExchangeType>,
    action: Option<Action>,
    sender_id: Option<String>,
    sender_uri: Option<String>,
    receiver_id: Option<String>,
    is_msg_encrypted: bool,
}

fn raw_header(h: &Value) -> Result<RawHeader, ApiError> {
    if !h.is_object() {
        return Err(mapping("header", "RequestHeader"));
    }
    let message_ts = match h.get("message_ts") {
        None | Some(Value::Null) => 0,
        Some(Value::String(s)) if s.trim().is_empty() => 0,
        Some(v) => long_value(v).ok_or_else(|| mapping("header.message_ts", "long"))?,
    };
    let message_type = text(h, "message_type", "header.message_type")?
        .as_deref()
        .and_then(ExchangeType::parse);
    let action = match text(h, "action", "header.action")? {
        None => None,
        Some(a) => Some(Action::parse(&a).ok_or_else(|| mapping("header.action", "Action"))?),
    };
    let is_msg_encrypted = match h.get("is_msg_encrypted") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => false,
        Some(_) => return Err(mapping("header.is_msg_encrypted", "boolean")),
    };
    Ok(RawHeader {
        message_id: text(h, "message_id", "header.message_id")?,
        message_ts,
        message_type,
        action,
        sender_id: text(h, "sender_id", "header.sender_id")?,
        sender_uri: text(h, "sender_uri", "header.sender_uri")?,
        receiver_id: text(h, "receiver_id", "header.receiver_id")?,
        is_msg_encrypted,
    })
}

/// An envelope from JSON (a request body, or the `message` of a Kafka wrapper).
pub fn parse_message(value: &Value) -> Result<RequestMessage, ApiError> {
    let signature = text(value, "signature", "signature")?;
    let seal = match value.get("seal") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(mapping("seal", "String")),
    };
    let message = match value.get("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(mapping("message", "String")),
    };
    let header = match value.get("header") {
        None | Some(Value::Null) => None,
        Some(h) => Some(raw_header(h)?),
    };
    let mut errors = Vec::new();
    match &header {
        None => errors.push(not_null("header")),
        Some(h) => {
            for (missing, name) in [
                (h.message_id.is_none(), "messageId"),
                (h.message_type.is_none(), "messageType"),
                (h.action.is_none(), "action"),
                (h.sender_id.is_none(), "senderId"),
                (h.receiver_id.is_none(), "receiverId"),
            ] {
                if missing {
                    errors.push(not_null(&format!("header.{name}")));
                }
            }
        }
    }
    if message.is_none() {
        errors.push(not_null("message"));
    }
    let (Some(h), Some(message), true) = (header, message, errors.is_empty()) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, errors));
    };
    Ok(RequestMessage {
        signature,
        header: RequestHeader {
            message_id: h.message_id.unwrap_or_default(),
            message_ts: h.message_ts,
            message_type: h.message_type.unwrap_or(ExchangeType::Program),
            action: h.action.unwrap_or(Action::Create),
            sender_id: h.sender_id.unwrap_or_default(),
            sender_uri: h.sender_uri,
            receiver_id: h.receiver_id.unwrap_or_default(),
            is_msg_encrypted: h.is_msg_encrypted,
        },
        message,
        seal,
    })
}

/// `INVALID_MESSAGE`: `message` is not the text of a JSON object.
pub const INVALID_MESSAGE: &str = "INVALID_MESSAGE";

/// A request body. Beyond upstream, `message` must be the text of a JSON object (every
/// iFIX entity, criteria and encrypted message is one): anything else could be neither
/// delivered to a local service nor answered with an error reply.
pub fn parse_body(bytes: &[u8]) -> Result<RequestMessage, ApiError> {
    let msg = parse_message(&parse_value(bytes)?)?;
    let object = serde_json::from_str::<Value>(&msg.message).is_ok_and(|v| v.is_object());
    if !object {
        return Err(ApiError::bad_request(
            INVALID_MESSAGE,
            "message must be a JSON object serialized as a string",
        ));
    }
    Ok(msg)
}

/// The body as [`parse_body`] reads it: the canonical form of each field (the coercions of
/// the module docs — numbers and booleans for strings, a numeric string for `message_ts`,
/// `"true"` for `is_msg_encrypted`, any case for `message_type` and `action` — are accepted
/// but not advertised).
impl schemars::JsonSchema for RequestMessage {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RequestMessage".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let message_type = generator.subschema_for::<ExchangeType>();
        let action = generator.subschema_for::<Action>();
        schemars::json_schema!({
            "type": "object",
            "description": "An exchange envelope (upstream `RequestMessage`): the entity as a JSON \
                string in `message`, signed by the originating exchange.",
            "required": ["header", "message"],
            "properties": {
                "signature": {
                    "type": ["string", "null"],
                    "description": "Base64 SHA256withRSA over `message` with the sending domain's \
                        key; required of messages from other domains (verified against their \
                        registry keys), left out by local services (this exchange signs)."
                },
                "header": {
                    "type": "object",
                    "description": "The message header (upstream `RequestHeader`).",
                    "required": ["message_id", "message_type", "action", "sender_id", "receiver_id"],
                    "properties": {
                        "message_id": {
                            "type": "string",
                            "description": "The sender's message id."
                        },
                        "message_ts": {
                            "type": "integer",
                            "format": "int64",
                            "description": "Epoch milliseconds (missing: 0); checked against the \
                                timestamp window for sealed messages."
                        },
                        "message_type": message_type,
                        "action": action,
                        "sender_id": {
                            "type": "string",
                            "description": "`<service>@<exchange base URL>` of the sender; a \
                                sender on this exchange's URL is a local service and needs a token."
                        },
                        "sender_uri": {
                            "type": ["string", "null"],
                            "description": "Passed through, never used for routing."
                        },
                        "receiver_id": {
                            "type": "string",
                            "description": "`<service>@<exchange base URL>` of the receiver \
                                (400 `UNKNOWN_RECEIVER` when it cannot be routed)."
                        },
                        "is_msg_encrypted": {
                            "type": "boolean",
                            "default": false,
                            "description": "`message` is (to be) encrypted for the receiving domain."
                        }
                    }
                },
                "message": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "description": "The entity as the text of a JSON object (400 `INVALID_MESSAGE` \
                        otherwise); ciphertext JSON when `is_msg_encrypted`."
                },
                "seal": {
                    "type": ["string", "null"],
                    "description": "Our exchanges' seal over the message digest and the header \
                        (required of `seal_required` peers; upstream exchanges leave it out)."
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn header() -> Value {
        json!({"message_id": "123", "message_ts": "1708428280", "message_type": "Program",
               "action": "CREATE", "sender_id": "program@https://a.org", "receiver_id": "program@https://b.org"})
    }

    fn codes_of(e: ApiError) -> Vec<String> {
        e.errors.into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn coercions_as_the_program_service() {
        let body =
            json!({"signature": "s", "header": header(), "message": "{\"a\":1}", "seal": "x"});
        let m = parse_body(body.to_string().as_bytes()).unwrap();
        assert_eq!(m.header.message_ts, 1_708_428_280);
        assert_eq!(m.header.message_type, ExchangeType::Program);
        assert_eq!(m.header.action, Action::Create);
        assert!(!m.header.is_msg_encrypted);
        assert_eq!(m.message, "{\"a\":1}");
        assert_eq!(
            (m.signature.as_deref(), m.seal.as_deref()),
            (Some("s"), Some("x"))
        );
        let mut h = header();
        h["message_ts"] = json!("");
        h["message_id"] = json!(42);
        h["is_msg_encrypted"] = json!("TRUE");
        let m = parse_body(json!({"header": h, "message": "{}"}).to_string().as_bytes()).unwrap();
        assert_eq!(m.header.message_ts, 0);
        assert_eq!(m.header.message_id, "42");
        assert!(m.header.is_msg_encrypted);
        assert_eq!(m.signature, None);
        h["message_ts"] = json!(1.7e12);
        let m = parse_body(json!({"header": h, "message": "{}"}).to_string().as_bytes()).unwrap();
        assert_eq!(m.header.message_ts, 1_700_000_000_000);
    }

    #[test]
    fn bean_validation_codes() {
        let err = parse_body(b"{\"message\": \"{}\"}").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(codes_of(err), ["NotNull.requestMessage.header"]);
        let err = parse_body(json!({"header": header()}).to_string().as_bytes()).unwrap_err();
        assert_eq!(codes_of(err), ["NotNull.requestMessage.message"]);
        let err = parse_body(b"{\"header\": {\"message_type\": \"estimate\"}}").unwrap_err();
        assert_eq!(
            codes_of(err),
            [
                "NotNull.requestMessage.header.messageId",
                "NotNull.requestMessage.header.messageType",
                "NotNull.requestMessage.header.action",
                "NotNull.requestMessage.header.senderId",
                "NotNull.requestMessage.header.receiverId",
                "NotNull.requestMessage.message",
            ]
        );
    }

    #[test]
    fn type_errors_are_mapping_errors() {
        let cases = [
            json!({"header": header(), "message": {"a": 1}}),
            json!({"header": "h", "message": "{}"}),
            json!({"header": {"message_ts": "soon"}, "message": "{}"}),
            json!({"header": {"action": "delete"}, "message": "{}"}),
            json!({"header": {"sender_id": ["x"]}, "message": "{}"}),
        ];
        for body in cases {
            let err = parse_body(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(codes_of(err), [codes::JSON_MAPPING], "{body}");
        }
        assert_eq!(
            codes_of(parse_body(b"  ").unwrap_err()),
            [codes::MISSING_JSON]
        );
        assert_eq!(
            codes_of(parse_body(b"[]").unwrap_err()),
            [codes::MISSING_JSON]
        );
        assert_eq!(codes_of(parse_body(b"{").unwrap_err()), [codes::JSON_PARSE]);
        for m in ["not json", "[1]", "\"x\"", ""] {
            let body = json!({"header": header(), "message": m});
            let err = parse_body(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(codes_of(err), [INVALID_MESSAGE], "{m}");
        }
    }
}
