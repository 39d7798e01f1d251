//! Final delivery failures (spec §2.7):
//!
//! - a **reply** (`on-…` wrapper type) that cannot be delivered goes to
//!   `exchange-error-queue` as it was queued;
//! - a **request** gets an error reply ([`crate::domain::error_reply`]: ids swapped, `on-`
//!   type, statuses `ERROR "<code> <message>"` through every `children`), routed like any
//!   message (§2.3): to the local sender's service (`…/on-<type>/_<action>`, message as an
//!   object) when the remote delivery failed, or to the remote sender's exchange when the
//!   local delivery failed — then encrypted again if the request was, and **signed and
//!   sealed by this exchange** (upstream keeps the old signature, which cannot verify);
//! - when there is no error reply to send (the message is not a JSON object, or it stayed
//!   encrypted for another domain) or it cannot be delivered either (same retries), the
//!   original wrapper goes to `exchange-error-queue`.
//!
//! Records on the error queue are upstream's wrapper `{"type","message"}` keyed by
//! `message_id`, with the reason in the Kafka header `x-exchange-error`; each is
//! acknowledged before the consumer commits the offset.

use super::delivery::{security_outcome, DeliveryError, Failure};
use super::ExchangeService;
use crate::domain::error_reply::error_reply;
use crate::domain::model::Wrapper;
use crate::domain::routing::Route;
use digit_kafka::HandlerError;

/// Kafka header of an error-queue record: why the message is there.
pub const ERROR_HEADER: &str = "x-exchange-error";

/// Attempts to put a record on the error queue before the message is retried as a whole.
const ERROR_QUEUE_ATTEMPTS: u32 = 3;

impl ExchangeService {
    /// §2.7 for `original` (its message in clear in `clear`, when this exchange can read
    /// it) that failed with `failure`.
    pub async fn fail(
        &self,
        original: &Wrapper,
        clear: Option<String>,
        failure: Failure,
        correlation: Option<&str>,
    ) -> Result<(), HandlerError> {
        let header = &original.message.header;
        tracing::warn!(
            message_id = %header.message_id,
            message_type = %header.message_type,
            receiver_id = %header.receiver_id,
            reason = %failure.status_message(),
            "Message not delivered."
        );
        if original.is_reply() {
            return self.to_error_queue(original, &failure, correlation).await;
        }
        let Some(clear) = clear else {
            return self.to_error_queue(original, &failure, correlation).await;
        };
        let mut readable = original.clone();
        readable.message.message = clear;
        let Ok((reply, object)) = error_reply(&readable, &failure.code, &failure.message) else {
            return self.to_error_queue(original, &failure, correlation).await;
        };
        let route = match self.route_of(&reply.message) {
            Ok(route) => route,
            Err(e) => {
                let why = Failure::new(crate::domain::error::UNKNOWN_RECEIVER, e.to_string());
                return self.to_error_queue(original, &why, correlation).await;
            }
        };
        let body = match &route {
            Route::Local { .. } => {
                let mut local = reply.message.clone();
                local.header.is_msg_encrypted = false;
                local.with_object(object)
            }
            Route::Remote { host, .. }
                if self.settings.is_local(&reply.message.header.sender_id) =>
            {
                match self.originate(&reply.message, host).await {
                    Ok(out) => out.wire_json(),
                    Err(e) => {
                        let why = security_outcome(e)?;
                        return self.to_error_queue(original, &why, correlation).await;
                    }
                }
            }
            // A relay's reply: this exchange cannot sign for the original receiver.
            Route::Remote { .. } => reply.message.wire_json(),
        };
        match self.deliver(&route, &body, correlation).await {
            Ok(()) => {
                tracing::info!(message_id = %header.message_id, "Error reply delivered.");
                self.metrics.event("error_reply");
                Ok(())
            }
            Err(DeliveryError::Shutdown) => Err(HandlerError::transient("shutting down")),
            Err(DeliveryError::Failed(second)) => {
                let why = Failure::new(
                    failure.code.clone(),
                    format!(
                        "{}; the error reply failed too: {}",
                        failure.message,
                        second.status_message()
                    ),
                );
                self.to_error_queue(original, &why, correlation).await
            }
        }
    }

    /// Puts `wrapper` on `exchange-error-queue` (acknowledged), with `failure` in the
    /// [`ERROR_HEADER`]; a broker that does not take it makes the message transient.
    pub async fn to_error_queue(
        &self,
        wrapper: &Wrapper,
        failure: &Failure,
        correlation: Option<&str>,
    ) -> Result<(), HandlerError> {
        let payload = wrapper.to_json().to_string();
        let key = wrapper.message.header.message_id.as_str();
        self.raw_to_error_queue(Some(key), payload.as_bytes(), failure, correlation)
            .await
    }

    /// [`ExchangeService::to_error_queue`] of raw bytes (an unreadable wrapper as it was).
    pub async fn raw_to_error_queue(
        &self,
        key: Option<&str>,
        payload: &[u8],
        failure: &Failure,
        correlation: Option<&str>,
    ) -> Result<(), HandlerError> {
        let reason = failure.status_message();
        let mut headers: Vec<(&str, &[u8])> = vec![(ERROR_HEADER, reason.as_bytes())];
        if let Some(c) = correlation {
            headers.push((digit_kafka::CORRELATION_ID_HEADER, c.as_bytes()));
        }
        let mut last = None;
        for attempt in 1..=ERROR_QUEUE_ATTEMPTS {
            match self
                .producer
                .send_raw(&self.settings.topics.error, key, payload, &headers)
                .await
            {
                Ok(_) => {
                    tracing::warn!(message_id = key.unwrap_or(""), reason = %reason, "Message put on the error queue.");
                    self.metrics.event("error_queue");
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "The error queue did not take the message.");
                    last = Some(e);
                }
            }
        }
        Err(HandlerError::transient(last.map_or_else(
            || "error queue".to_owned(),
            |e| e.to_string(),
        )))
    }
}
