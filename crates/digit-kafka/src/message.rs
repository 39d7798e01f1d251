//! A consumed message, copied out of librdkafka's buffers, and where its correlation id
//! comes from.

use rdkafka::message::{BorrowedMessage, Headers, Message};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Kafka header carrying the correlation id (spec §1.5).
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

/// A message handed to a [`MessageHandler`](crate::MessageHandler), copied out of librdkafka's buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Broker-side topic name (with the central-instance prefix, if any).
    pub topic: String,
    /// Partition the message came from.
    pub partition: i32,
    /// Offset of the message in its partition.
    pub offset: i64,
    /// Record key (lossy UTF-8), `None` when the record has no key.
    pub key: Option<String>,
    /// Raw value bytes; empty for a record without a value. Whether they are valid UTF-8 or
    /// JSON is the handler's business.
    pub payload: Vec<u8>,
    /// Header `x-correlation-id`, else `RequestInfo.correlationId` (or
    /// `requestInfo.correlationId`) from a JSON payload — upstream producers send no headers.
    pub correlation_id: Option<String>,
    /// Record timestamp, epoch milliseconds, when the broker reported one.
    pub timestamp_ms: Option<i64>,
    /// All record headers in order; values are `None` for null headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl InboundMessage {
    /// Deserialises the payload as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.payload)
    }

    /// The payload as UTF-8 text.
    pub fn payload_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.payload)
    }

    /// The value of the first header named `name` (exact match), if present and not null.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.as_deref())
    }

    pub(crate) fn from_borrowed(message: &BorrowedMessage<'_>) -> Self {
        let headers: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let payload = message.payload().map(<[u8]>::to_vec).unwrap_or_default();
        let correlation_id = headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(CORRELATION_ID_HEADER))
            .and_then(|(_, value)| value.as_deref())
            .map(|value| String::from_utf8_lossy(value).into_owned())
            .filter(|id| !id.is_empty())
            .or_else(|| correlation_id_from_body(&payload));
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            payload,
            correlation_id,
            timestamp_ms: message.timestamp().to_millis(),
            headers,
        }
    }
}

/// Reads `RequestInfo.correlationId` (or `requestInfo.correlationId`) from a JSON payload
/// without building a tree of the rest.
fn correlation_id_from_body(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "RequestInfo")]
        upper: Option<ProbeRequestInfo>,
        #[serde(rename = "requestInfo")]
        lower: Option<ProbeRequestInfo>,
    }
    #[derive(Deserialize)]
    struct ProbeRequestInfo {
        #[serde(rename = "correlationId")]
        correlation_id: Option<String>,
    }
    if payload.first() != Some(&b'{') {
        return None;
    }
    let probe: Probe = serde_json::from_slice(payload).ok()?;
    probe
        .upper
        .and_then(|ri| ri.correlation_id)
        .or_else(|| probe.lower.and_then(|ri| ri.correlation_id))
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_id_from_request_info() {
        let body = br#"{"RequestInfo":{"apiId":"x","correlationId":"abc"},"n":1}"#;
        assert_eq!(correlation_id_from_body(body).as_deref(), Some("abc"));
        let body = br#"{"requestInfo":{"correlationId":"def"}}"#;
        assert_eq!(correlation_id_from_body(body).as_deref(), Some("def"));
        assert_eq!(correlation_id_from_body(br#"{"RequestInfo":null}"#), None);
        assert_eq!(
            correlation_id_from_body(br#"{"RequestInfo":{"correlationId":""}}"#),
            None
        );
        assert_eq!(correlation_id_from_body(b"[1,2]"), None);
        assert_eq!(correlation_id_from_body(b"not json"), None);
    }

    #[test]
    fn inbound_message_helpers() {
        let message = InboundMessage {
            topic: "t".into(),
            partition: 0,
            offset: 3,
            key: None,
            payload: br#"{"a":null}"#.to_vec(),
            correlation_id: None,
            timestamp_ms: None,
            headers: vec![("h".into(), Some(b"v".to_vec())), ("n".into(), None)],
        };
        let value: serde_json::Value = message.json().unwrap();
        assert_eq!(value, serde_json::json!({"a": null}));
        assert_eq!(message.payload_str().unwrap(), r#"{"a":null}"#);
        assert_eq!(message.header("h"), Some(&b"v"[..]));
        assert_eq!(message.header("n"), None);
        assert_eq!(message.header("missing"), None);
    }
}
