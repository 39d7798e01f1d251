//! The exchange's wire models (spec §2.2): the fourteen exchange types, the action, the
//! header, the envelope with `message` as a JSON *string*, and the Kafka wrapper.

use serde::Serialize;
use serde_json::{json, Value};

/// upstream `ExchangeType` and `Action` (the program service's `MessageType`): one
/// definition for both services, in `digit_core::participant`.
pub use digit_core::participant::{Action, MessageType as ExchangeType};

/// The message header (§1.4/§2.2), as parsed by `api::envelope` and written back in
/// upstream's field order (no duplicate `msgEncrypted`; readers ignore unknown keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RequestHeader {
    /// The sender's message id.
    pub message_id: String,
    /// Epoch milliseconds (`0` when missing, as upstream's primitive `long`).
    pub message_ts: i64,
    /// What the message is (routing uses this one).
    pub message_type: ExchangeType,
    /// What to do with it.
    pub action: Action,
    /// `<service>@<exchange base URL>` of the sender.
    pub sender_id: String,
    /// Passed through, never used for routing.
    pub sender_uri: Option<String>,
    /// `<service>@<exchange base URL>` of the receiver.
    pub receiver_id: String,
    /// `message` is encrypted for the receiving domain (§2.5).
    pub is_msg_encrypted: bool,
}

/// upstream `RequestMessage`: the envelope between exchanges, `message` a JSON string.
/// `seal` is our extension (upstream's Jackson ignores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    /// Base64 SHA256withRSA over `message` (set by the originating exchange).
    pub signature: Option<String>,
    /// The header.
    pub header: RequestHeader,
    /// The entity JSON as a string (ciphertext JSON when encrypted).
    pub message: String,
    /// Our seal over the message digest and the header (see `security::seal`).
    pub seal: Option<String>,
}

impl RequestMessage {
    /// `{signature, header, message}` — what upstream sends and echoes (no `seal`).
    pub fn upstream_json(&self) -> Value {
        json!({
            "signature": self.signature,
            "header": self.header,
            "message": self.message,
        })
    }

    /// `{signature, header, message, seal}` — between exchanges and in the Kafka wrapper;
    /// `seal` only when there is one.
    pub fn wire_json(&self) -> Value {
        let mut v = self.upstream_json();
        if let Some(seal) = &self.seal {
            v["seal"] = Value::String(seal.clone());
        }
        v
    }

    /// `{signature, header, message: <object>}` — upstream `JsonMessage`, what local
    /// services receive and what the event log records.
    pub fn with_object(&self, message: Value) -> Value {
        json!({
            "signature": self.signature,
            "header": self.header,
            "message": message,
        })
    }
}

/// The message as queued, echoed as upstream does: `{signature, header, message}`, no `seal`
/// (the JSON of `RequestMessage::upstream_json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EchoMessage {
    /// Base64 SHA256withRSA over `message` (this exchange's, for a local sender).
    pub signature: Option<String>,
    /// The header.
    pub header: RequestHeader,
    /// The entity JSON as a string (ciphertext JSON when encrypted).
    pub message: String,
}

impl From<RequestMessage> for EchoMessage {
    fn from(m: RequestMessage) -> Self {
        Self {
            signature: m.signature,
            header: m.header,
            message: m.message,
        }
    }
}

/// upstream `RequestMessageWrapper`: the value on `exchange-topic` (and on
/// `exchange-error-queue`), `{"type": <path type>, "message": <RequestMessage>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapper {
    /// The type of the path the message came in on (decides whether it is a reply).
    pub exchange_type: ExchangeType,
    /// The envelope.
    pub message: RequestMessage,
}

impl Wrapper {
    /// The JSON on the topic.
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.exchange_type,
            "message": self.message.wire_json(),
        })
    }

    /// Whether upstream treats it as a reply (the wrapper type, not the header's).
    pub fn is_reply(&self) -> bool {
        self.exchange_type.is_reply()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fourteen_types_parse_case_insensitively_and_reply() {
        for t in ExchangeType::ALL {
            assert_eq!(ExchangeType::parse(t.as_str()), Some(t));
            assert_eq!(ExchangeType::parse(&t.as_str().to_uppercase()), Some(t));
            assert_eq!(t.is_reply(), t.as_str().starts_with("on-"));
            assert!(t.reply().is_reply());
            if !t.is_reply() {
                assert_eq!(t.reply().as_str(), format!("on-{t}"));
            }
        }
        assert_eq!(
            ExchangeType::parse("On-Disburse"),
            Some(ExchangeType::OnDisburse)
        );
        assert_eq!(ExchangeType::parse("estimate"), None);
        assert_eq!(ExchangeType::parse("on-on-program"), None);
        assert_eq!(Action::parse("CREATE"), Some(Action::Create));
        assert_eq!(Action::parse("delete"), None);
    }

    #[test]
    fn echo_is_the_upstream_json() {
        let m = RequestMessage {
            signature: None,
            header: RequestHeader {
                message_id: "1".into(),
                message_ts: 5,
                message_type: ExchangeType::OnDisburse,
                action: Action::Update,
                sender_id: "program@http://a".into(),
                sender_uri: Some("http://a/x".into()),
                receiver_id: "program@http://b".into(),
                is_msg_encrypted: true,
            },
            message: "{}".into(),
            seal: Some("s".into()),
        };
        let echo = serde_json::to_value(EchoMessage::from(m.clone())).unwrap();
        assert_eq!(echo, m.upstream_json());
        assert_eq!(echo.to_string(), m.upstream_json().to_string());
    }

    #[test]
    fn wrapper_shape() {
        let m = RequestMessage {
            signature: Some("s".into()),
            header: RequestHeader {
                message_id: "1".into(),
                message_ts: 5,
                message_type: ExchangeType::Program,
                action: Action::Create,
                sender_id: "program@http://a".into(),
                sender_uri: None,
                receiver_id: "program@http://b".into(),
                is_msg_encrypted: false,
            },
            message: "{\"a\":1}".into(),
            seal: None,
        };
        let w = Wrapper {
            exchange_type: ExchangeType::Program,
            message: m,
        };
        assert_eq!(
            w.to_json(),
            json!({"type": "program", "message": {"signature": "s", "header": {
                "message_id": "1", "message_ts": 5, "message_type": "program", "action": "create",
                "sender_id": "program@http://a", "sender_uri": null, "receiver_id": "program@http://b",
                "is_msg_encrypted": false}, "message": "{\"a\":1}"}})
        );
        let json = w.to_json();
        let keys: Vec<&String> = json["message"]["header"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            [
                "message_id",
                "message_ts",
                "message_type",
                "action",
                "sender_id",
                "sender_uri",
                "receiver_id",
                "is_msg_encrypted"
            ]
        );
    }
}
