//! The event record of spec §2.6: for every message received on the HTTP endpoint (from a
//! local service or from another domain), `{"signature", "header", "message": <message
//! parsed as a JSON object>}` on `exchange-event-log-queue` — upstream's `JsonMessage`,
//! exactly, for the indexer — keyed by `message_id`.
//!
//! Encrypted messages never appear in clear: a message that arrived encrypted is recorded
//! as its envelope (`{"alg","kid","key","iv","ct"}`, parsed as an object); a message a
//! local service asked to encrypt for another domain is recorded encrypted for that domain;
//! a flagged message that cannot be encrypted here (a local or an upstream peer's clear
//! message) is recorded with `"message": null`. A message that is not JSON is skipped, as
//! upstream does (it logs and moves on).

use super::ExchangeService;
use crate::domain::model::RequestMessage;
use crate::security::encryption;
use serde_json::Value;

/// The record for `msg` whose `message` (as it should be recorded) is `recorded`.
pub fn record(msg: &RequestMessage, recorded: Option<&str>) -> Option<Value> {
    let object = match recorded {
        None => Value::Null,
        Some(text) => serde_json::from_str::<Value>(text).ok()?,
    };
    Some(msg.with_object(object))
}

impl ExchangeService {
    /// Emits the record of `msg` (best effort: a failure is logged, as upstream). `cipher`
    /// is the text to record in place of a clear flagged message (see the module docs).
    pub async fn emit_event(&self, msg: &RequestMessage, cipher: Option<&str>, correlation: &str) {
        if !self.settings.events_enabled {
            return;
        }
        let recorded = if !msg.header.is_msg_encrypted || encryption::is_encrypted(&msg.message) {
            Some(msg.message.as_str())
        } else {
            cipher
        };
        let Some(record) = record(msg, recorded) else {
            tracing::warn!(
                message_id = %msg.header.message_id,
                "The message is not JSON; no event recorded."
            );
            return;
        };
        let sent = self
            .producer
            .send_json(
                &self.settings.topics.events,
                Some(&msg.header.message_id),
                &record,
                (!correlation.is_empty()).then_some(correlation),
            )
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, message_id = %msg.header.message_id, "The event could not be recorded.");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::model::{Action, ExchangeType, RequestHeader};
    use serde_json::json;

    #[test]
    fn upstream_json_message_shape() {
        let msg = RequestMessage {
            signature: Some("sig".into()),
            header: RequestHeader {
                message_id: "m".into(),
                message_ts: 1,
                message_type: ExchangeType::OnProgram,
                action: Action::Create,
                sender_id: "program@http://a".into(),
                sender_uri: None,
                receiver_id: "program@http://b".into(),
                is_msg_encrypted: false,
            },
            message: r#"{"name":"P","amount":10.50}"#.into(),
            seal: Some("seal".into()),
        };
        let r = record(&msg, Some(&msg.message)).unwrap();
        assert_eq!(
            r,
            json!({"signature": "sig", "header": {"message_id": "m", "message_ts": 1,
                "message_type": "on-program", "action": "create", "sender_id": "program@http://a",
                "sender_uri": null, "receiver_id": "program@http://b", "is_msg_encrypted": false},
                "message": serde_json::from_str::<Value>(r#"{"name":"P","amount":10.50}"#).unwrap()})
        );
        assert_eq!(r["message"]["amount"].to_string(), "10.50");
        assert_eq!(record(&msg, Some("not json")), None);
        assert_eq!(record(&msg, None).unwrap()["message"], Value::Null);
    }
}
