//! Upstream's dead-letter message shape (tracer library `ErrorQueueContract`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A dead-letter record in the shape of the DIGIT tracer library's `ErrorQueueContract`
/// (spec §1.4, §2.7): `{id, source, body, ts, errorRes, exception, message, correlationId}`.
///
/// Every field is nullable as in upstream's Java class; serialisation writes explicit
/// `null`s (as Spring's `JsonSerializer` does) and deserialisation accepts missing fields,
/// so records produced by upstream services can be read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorQueueContract {
    /// Random UUID of this error record.
    #[serde(default)]
    pub id: Option<String>,
    /// Where the failure happened: the Kafka topic (or, for HTTP errors, the URL).
    #[serde(default)]
    pub source: Option<String>,
    /// The failed message: its JSON when the payload parses, otherwise the payload as a
    /// string; `null` for an empty payload.
    #[serde(default)]
    pub body: Value,
    /// When the failure was recorded, epoch milliseconds.
    #[serde(default)]
    pub ts: Option<i64>,
    /// The DIGIT error envelope for HTTP failures; always `null` for Kafka failures.
    #[serde(default)]
    pub error_res: Option<Value>,
    /// "Stack trace": upstream serialises Java `StackTraceElement`s; we describe where the
    /// failure was raised in the same shape.
    #[serde(default)]
    pub exception: Option<Vec<StackFrame>>,
    /// Human-readable failure reason.
    #[serde(default)]
    pub message: Option<String>,
    /// Correlation id of the failed message, when known.
    #[serde(default)]
    pub correlation_id: Option<String>,
}

impl ErrorQueueContract {
    /// A new record for a message from `source` whose raw payload is `payload`, with a fresh
    /// id, the current time, no `errorRes` and no stack frames.
    pub fn new(
        source: impl Into<String>,
        payload: &[u8],
        message: impl Into<String>,
        correlation_id: Option<String>,
    ) -> Self {
        Self {
            id: Some(uuid::Uuid::new_v4().to_string()),
            source: Some(source.into()),
            body: body_from_payload(payload),
            ts: Some(chrono::Utc::now().timestamp_millis()),
            error_res: None,
            exception: Some(Vec::new()),
            message: Some(message.into()),
            correlation_id,
        }
    }
}

/// One frame of [`ErrorQueueContract::exception`], with the property names Jackson uses
/// for `java.lang.StackTraceElement`, so Java consumers can deserialise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackFrame {
    /// Java: class loader name; always `null` here.
    #[serde(default)]
    pub class_loader_name: Option<String>,
    /// Java: module name; here the Rust crate that raised the failure.
    #[serde(default)]
    pub module_name: Option<String>,
    /// Java: module version; here the crate version.
    #[serde(default)]
    pub module_version: Option<String>,
    /// Method that failed.
    #[serde(default)]
    pub method_name: Option<String>,
    /// Source file, when known.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Line number, `-1` when unknown (Java's convention).
    #[serde(default)]
    pub line_number: Option<i32>,
    /// Type that failed (for the consumer runner: the handler's Rust type).
    #[serde(default)]
    pub class_name: Option<String>,
    /// Java: whether the method is native; always `false` here.
    #[serde(default)]
    pub native_method: Option<bool>,
}

impl StackFrame {
    /// A frame naming `class_name::method_name`, with unknown file and line.
    pub fn new(class_name: impl Into<String>, method_name: impl Into<String>) -> Self {
        Self {
            class_loader_name: None,
            module_name: Some(env!("CARGO_PKG_NAME").to_owned()),
            module_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            method_name: Some(method_name.into()),
            file_name: None,
            line_number: Some(-1),
            class_name: Some(class_name.into()),
            native_method: Some(false),
        }
    }
}

/// The dead-letter `body` for a raw payload: parsed JSON if possible, else a (lossy UTF-8)
/// string, `null` when empty.
pub(crate) fn body_from_payload(payload: &[u8]) -> Value {
    if payload.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_with_upstream_field_names_and_explicit_nulls() {
        let contract = ErrorQueueContract {
            id: Some("e1".into()),
            source: Some("save-pgr-request".into()),
            body: json!({"a": 1, "b": null}),
            ts: Some(1_700_000_000_000),
            error_res: None,
            exception: Some(vec![StackFrame::new("Handler", "handle")]),
            message: Some("bad row".into()),
            correlation_id: None,
        };
        let text = serde_json::to_string(&contract).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"id":"e1","source":"save-pgr-request","body":{"a":1,"b":null},"ts":1700000000000,"#,
                r#""errorRes":null,"exception":[{"classLoaderName":null,"moduleName":"digit-kafka","#,
                r#""moduleVersion":""#,
                env!("CARGO_PKG_VERSION"),
                r#"","methodName":"handle","fileName":null,"lineNumber":-1,"className":"Handler","#,
                r#""nativeMethod":false}],"message":"bad row","correlationId":null}"#
            )
        );
    }

    #[test]
    fn deserialises_upstream_record_with_missing_fields() {
        let upstream = r#"{"source":"t","body":"x","ts":5,"exception":[{"methodName":"m","fileName":"F.java","lineNumber":10,"className":"C","nativeMethod":false}],"message":"boom"}"#;
        let contract: ErrorQueueContract = serde_json::from_str(upstream).unwrap();
        assert_eq!(contract.id, None);
        assert_eq!(contract.body, json!("x"));
        assert_eq!(contract.correlation_id, None);
        let frames = contract.exception.unwrap();
        assert_eq!(frames[0].line_number, Some(10));
        assert_eq!(frames[0].class_loader_name, None);
    }

    #[test]
    fn new_fills_id_ts_and_parses_body() {
        let contract = ErrorQueueContract::new("t", br#"{"n":1.10}"#, "why", Some("c".into()));
        assert!(uuid::Uuid::parse_str(contract.id.as_deref().unwrap()).is_ok());
        assert!(contract.ts.unwrap() > 1_600_000_000_000);
        // arbitrary_precision keeps the number exactly as sent.
        assert_eq!(
            serde_json::to_string(&contract.body).unwrap(),
            r#"{"n":1.10}"#
        );
        assert_eq!(contract.correlation_id.as_deref(), Some("c"));
    }

    #[test]
    fn body_falls_back_to_string_or_null() {
        assert_eq!(body_from_payload(b"not json"), json!("not json"));
        assert_eq!(body_from_payload(b"\xff\xfe"), json!("\u{fffd}\u{fffd}"));
        assert_eq!(body_from_payload(b""), Value::Null);
    }
}
