//! The error reply of spec §2.7: what the exchange sends back to the original sender when
//! a request (not a reply) cannot be delivered.
//!
//! - `sender_id` and `receiver_id` swapped;
//! - header `message_type` and the wrapper type get the `on-` prefix (action unchanged);
//! - in the parsed `message`, `status` becomes `{"status_code":"ERROR","status_message":
//!   "<code> <message>"}` — recursively through every `children` array;
//! - `message` written back as a string; the old signature and seal dropped (this exchange
//!   signs and seals the reply afresh when it goes to another domain, §5 item 11).

use super::model::{RequestMessage, Wrapper};
use serde_json::{json, Value};

/// How deep `children` are followed (bodies are bounded; so is recursion).
const MAX_DEPTH: usize = 32;

/// Why the reply could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorReplyError {
    /// `message` is not a JSON object.
    #[error("the message is not a JSON object")]
    NotAnObject,
}

/// Sets the `ERROR` status on `node` and, recursively, on every element of its `children`.
pub fn set_error_statuses(node: &mut Value, status_message: &str) {
    set(node, status_message, 0);
}

fn set(node: &mut Value, status_message: &str, depth: usize) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    obj.shift_remove("status");
    obj.insert(
        "status".into(),
        json!({"status_code": "ERROR", "status_message": status_message}),
    );
    if depth >= MAX_DEPTH {
        return;
    }
    if let Some(Value::Array(children)) = obj.get_mut("children") {
        for child in children {
            set(child, status_message, depth + 1);
        }
    }
}

/// The error reply to `original` (its `message` in clear) for a failure `code` /
/// `message`: returns the reply wrapper and the reply's message as an object.
pub fn error_reply(
    original: &Wrapper,
    code: &str,
    message: &str,
) -> Result<(Wrapper, Value), ErrorReplyError> {
    let mut body: Value = serde_json::from_str(&original.message.message)
        .map_err(|_| ErrorReplyError::NotAnObject)?;
    if !body.is_object() {
        return Err(ErrorReplyError::NotAnObject);
    }
    set_error_statuses(&mut body, &format!("{code} {message}"));
    let mut header = original.message.header.clone();
    std::mem::swap(&mut header.sender_id, &mut header.receiver_id);
    header.message_type = header.message_type.reply();
    let reply = Wrapper {
        exchange_type: original.exchange_type.reply(),
        message: RequestMessage {
            signature: None,
            header,
            message: body.to_string(),
            seal: None,
        },
    };
    Ok((reply, body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::model::{Action, ExchangeType, RequestHeader};

    fn wrapper(message: &str) -> Wrapper {
        Wrapper {
            exchange_type: ExchangeType::Disburse,
            message: RequestMessage {
                signature: Some("old".into()),
                header: RequestHeader {
                    message_id: "m1".into(),
                    message_ts: 7,
                    message_type: ExchangeType::Disburse,
                    action: Action::Update,
                    sender_id: "program@http://a/x".into(),
                    sender_uri: Some("cb".into()),
                    receiver_id: "program@http://b/y".into(),
                    is_msg_encrypted: true,
                },
                message: message.into(),
                seal: Some("seal".into()),
            },
        }
    }

    #[test]
    fn swaps_ids_prefixes_types_and_sets_error_statuses_recursively() {
        let msg = r#"{"id": "D1", "net_amount": 10.50, "status": {"status_code": "INITIATED", "status_message": "x"},
            "children": [{"id": "C1", "status": {"status_code": "INITIATED"}, "children": [{"id": "G1"}]},
                         {"id": "C2"}]}"#;
        let (reply, body) =
            error_reply(&wrapper(msg), "EXTERANL_SERVICE_ERROR", "HTTP 503").unwrap();
        let status =
            json!({"status_code": "ERROR", "status_message": "EXTERANL_SERVICE_ERROR HTTP 503"});
        assert_eq!(reply.exchange_type, ExchangeType::OnDisburse);
        let h = &reply.message.header;
        assert_eq!(h.message_type, ExchangeType::OnDisburse);
        assert_eq!(h.action, Action::Update);
        assert_eq!(h.sender_id, "program@http://b/y");
        assert_eq!(h.receiver_id, "program@http://a/x");
        assert_eq!((h.message_id.as_str(), h.message_ts), ("m1", 7));
        assert!(
            h.is_msg_encrypted,
            "the flag stays: the reply is encrypted again"
        );
        assert_eq!(reply.message.signature, None);
        assert_eq!(reply.message.seal, None);
        assert_eq!(body["status"], status);
        assert_eq!(body["children"][0]["status"], status);
        assert_eq!(body["children"][0]["children"][0]["status"], status);
        assert_eq!(body["children"][1]["status"], status);
        assert_eq!(
            body["net_amount"].to_string(),
            "10.50",
            "numbers kept exactly"
        );
        let text: Value = serde_json::from_str(&reply.message.message).unwrap();
        assert_eq!(text, body);
        // `status` stays where upstream's ObjectNode puts it: after the other fields.
        assert_eq!(
            body.as_object().unwrap().keys().next_back().unwrap(),
            "status"
        );
    }

    #[test]
    fn a_message_that_is_not_an_object_has_no_error_reply() {
        for m in ["[1]", "\"x\"", "not json"] {
            assert_eq!(
                error_reply(&wrapper(m), "C", "m").unwrap_err(),
                ErrorReplyError::NotAnObject
            );
        }
    }

    #[test]
    fn reply_types_stay_replies() {
        let mut w = wrapper("{}");
        w.exchange_type = ExchangeType::OnProgram;
        w.message.header.message_type = ExchangeType::OnProgram;
        let (reply, _) = error_reply(&w, "C", "m").unwrap();
        assert_eq!(reply.exchange_type, ExchangeType::OnProgram);
    }
}
