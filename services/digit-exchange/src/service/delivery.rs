//! The `exchange-topic` consumer (spec §2.3): for each wrapper, in partition order —
//!
//! - **local receiver**: decrypt when the message arrived encrypted, parse `message` into
//!   an object and POST `{signature, header (is_msg_encrypted: false), message: <object>}`
//!   to `<APP_RECEIVER_ENDPOINTS[service]>/<message_type>/_<action>` with
//!   `Authorization: Bearer <EXCHANGE_OUTBOUND_TOKEN>`;
//! - **remote receiver**: POST `{signature, header, message: "<string>", seal}` to
//!   `<receiver exchange URL>/v1/exchange/<message_type>`. When the sender is local this
//!   exchange is the origin: it stamps `message_ts` (so a message that waited in the topic
//!   is still inside the receiver's replay window), encrypts when `is_msg_encrypted`, and
//!   signs and seals. A message relayed for another domain is forwarded untouched.
//!
//! Each POST has a timeout (`EXCHANGE_DELIVERY_TIMEOUT_MS`) and is retried with doubling
//! backoff on HTTP 5xx/408/429, timeouts and connection failures, up to
//! `EXCHANGE_DELIVERY_ATTEMPTS`; any other 4xx is final at once. A 409 `REPLAYED_MESSAGE`
//! "received before" from the receiving exchange means an earlier attempt got through
//! (the answer was lost, or this is a redelivery after a crash): delivered. A final failure
//! is handled by [`super::errors`] (§2.7). The handler returns — and the runner commits the
//! offset — only after the delivery or the recorded failure; on shutdown a message waiting
//! for its next attempt is left uncommitted and delivered again by the group.
//!
//! Up to `EXCHANGE_DELIVERY_BATCH` already-fetched messages are handled at once: messages
//! with different keys (`receiver_id`) in parallel, those with the same key — one receiver's
//! — in offset order (causal order: a sanction is delivered before its allocation),
//! the offsets committed together after all of them. A wrapper that cannot be read goes to
//! the error queue as it was (`x-exchange-error: INVALID_WRAPPER …`).

use super::ExchangeService;
use crate::api::envelope;
use crate::domain::error::EXTERNAL_SERVICE_ERROR;
use crate::domain::model::{ExchangeType, RequestMessage, Wrapper};
use crate::domain::routing::Route;
use crate::security::{encryption, seal, SecurityError};
use digit_http::HttpError;
use digit_kafka::{HandlerError, InboundMessage, MessageHandler};
use serde_json::Value;

/// Why a message was not delivered (what the error reply's status says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Code (`EXTERANL_SERVICE_ERROR` for a failed POST, as upstream).
    pub code: String,
    /// What happened (no message content).
    pub message: String,
}

impl Failure {
    /// A failure.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// `"<code> <message>"`.
    pub fn status_message(&self) -> String {
        format!("{} {}", self.code, self.message)
    }
}

impl From<&SecurityError> for Failure {
    fn from(e: &SecurityError) -> Self {
        let message = digit_core::DigitError::errors(e)
            .into_iter()
            .next()
            .map(|d| d.message)
            .unwrap_or_default();
        Self::new(e.code(), message)
    }
}

/// How a delivery ended without success.
#[derive(Debug)]
pub enum DeliveryError {
    /// Final: no more attempts.
    Failed(Failure),
    /// Shutdown arrived while waiting for the next attempt.
    Shutdown,
}

/// A security step that failed: a database problem is transient (the same message is
/// tried again), anything else final.
pub(crate) fn security_outcome(e: SecurityError) -> Result<Failure, HandlerError> {
    match e {
        SecurityError::Database(_) => Err(HandlerError::transient(e)),
        other => Ok(Failure::from(&other)),
    }
}

/// Whether another attempt may succeed.
fn retryable(e: &HttpError) -> bool {
    match e {
        HttpError::Connect { .. } | HttpError::Timeout { .. } | HttpError::Transport { .. } => true,
        HttpError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        _ => false,
    }
}

/// The receiving exchange already has this message (an earlier attempt got through).
fn already_delivered(e: &HttpError) -> bool {
    e.status() == Some(409)
        && e.errors()
            .iter()
            .any(|d| d.code == "REPLAYED_MESSAGE" && d.message.contains("received before"))
}

/// The failure an error reply reports for `e` (no URLs: they stay in this domain's logs).
pub fn failure_of(e: &HttpError, timeout_ms: u128) -> Failure {
    let message = match e {
        HttpError::Status { status, errors, .. } => {
            let reason = axum::http::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            let mut m = format!("HTTP {status} {reason}").trim_end().to_owned();
            if !errors.is_empty() {
                m.push_str(&format!(" ({})", digit_core::error::describe(errors)));
            }
            m
        }
        HttpError::Timeout { .. } => format!("No answer within {timeout_ms} ms"),
        HttpError::Connect { .. } => "Connection refused or unreachable".to_owned(),
        HttpError::Transport { .. } => "The connection failed".to_owned(),
        HttpError::Config { .. } | HttpError::Encode { .. } | HttpError::Decode { .. } => {
            "The request could not be sent".to_owned()
        }
    };
    Failure::new(EXTERNAL_SERVICE_ERROR, message)
}

/// A wrapper from the topic: `{"type", "message"}`.
pub fn parse_wrapper(payload: &[u8]) -> Result<Wrapper, String> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
    let exchange_type = value
        .get("type")
        .and_then(Value::as_str)
        .and_then(ExchangeType::parse)
        .ok_or("the wrapper has no known type")?;
    let message = value.get("message").ok_or("the wrapper has no message")?;
    let message = envelope::parse_message(message).map_err(|e| {
        format!(
            "invalid message: {}",
            digit_core::error::describe(&e.errors)
        )
    })?;
    Ok(Wrapper {
        exchange_type,
        message,
    })
}

impl ExchangeService {
    /// The message in clear: decrypted when it arrived encrypted (for this exchange).
    pub fn clear_text(&self, msg: &RequestMessage) -> Result<String, SecurityError> {
        if msg.header.is_msg_encrypted && encryption::is_encrypted(&msg.message) {
            encryption::decrypt(&self.signer, &msg.message, &super::intake::aad(msg))
        } else {
            Ok(msg.message.clone())
        }
    }

    /// The envelope this exchange sends as the origin: `message_ts` now, encrypted for
    /// `host` when flagged, signed, sealed.
    pub async fn originate(
        &self,
        msg: &RequestMessage,
        host: &str,
    ) -> Result<RequestMessage, SecurityError> {
        let mut out = msg.clone();
        out.header.message_ts = super::now_ms();
        if out.header.is_msg_encrypted && !encryption::is_encrypted(&out.message) {
            out.message = self.encrypt_for(host, &out).await?;
        }
        out.signature = Some(self.signer.sign(&out.message));
        out.seal = Some(seal::seal(&self.signer, &super::intake::seal_input(&out))?);
        Ok(out)
    }

    /// Delivers one wrapper (module docs); `Ok` once delivered or the failure recorded.
    pub async fn dispatch(
        &self,
        wrapper: &Wrapper,
        correlation: Option<&str>,
    ) -> Result<(), HandlerError> {
        let msg = &wrapper.message;
        let route = match self.route_of(msg) {
            Ok(route) => route,
            Err(e) => {
                let clear = self.clear_text(msg).ok();
                let failure = Failure::new(crate::domain::error::UNKNOWN_RECEIVER, e.to_string());
                return self.fail(wrapper, clear, failure, correlation).await;
            }
        };
        match &route {
            Route::Local { .. } => {
                let clear = match self.clear_text(msg) {
                    Ok(clear) => clear,
                    Err(e) => {
                        return self
                            .fail(wrapper, None, security_outcome(e)?, correlation)
                            .await
                    }
                };
                let Ok(object) = serde_json::from_str::<Value>(&clear) else {
                    let failure =
                        Failure::new("JSON_PROCESSING_EXCEPTION", "The message is not JSON");
                    return self.fail(wrapper, None, failure, correlation).await;
                };
                let mut local = msg.clone();
                local.header.is_msg_encrypted = false;
                let body = local.with_object(object);
                match self.deliver(&route, &body, correlation).await {
                    Ok(()) => Ok(()),
                    Err(DeliveryError::Shutdown) => Err(HandlerError::transient("shutting down")),
                    Err(DeliveryError::Failed(f)) => {
                        self.fail(wrapper, Some(clear), f, correlation).await
                    }
                }
            }
            Route::Remote { host, .. } => {
                let origin = self.settings.is_local(&msg.header.sender_id);
                let out = if origin {
                    match self.originate(msg, host).await {
                        Ok(out) => out,
                        Err(e) => {
                            let failure = security_outcome(e)?;
                            let clear = self.clear_text(msg).ok();
                            return self.fail(wrapper, clear, failure, correlation).await;
                        }
                    }
                } else {
                    msg.clone()
                };
                match self.deliver(&route, &out.wire_json(), correlation).await {
                    Ok(()) => Ok(()),
                    Err(DeliveryError::Shutdown) => Err(HandlerError::transient("shutting down")),
                    Err(DeliveryError::Failed(f)) => {
                        // In clear at the origin; a relayed ciphertext is not ours to open.
                        let clear = self.clear_text(msg).ok();
                        self.fail(wrapper, clear, f, correlation).await
                    }
                }
            }
        }
    }

    /// POSTs `body` to `route` with the retry policy of the module docs.
    pub async fn deliver(
        &self,
        route: &Route,
        body: &Value,
        correlation: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let policy = self.settings.delivery;
        let bytes = bytes::Bytes::from(body.to_string());
        let url = route.url();
        for attempt in 1..=policy.attempts {
            let mut call = self
                .http
                .post(url)
                .json_bytes(bytes.clone())
                .timeout(policy.timeout)
                .correlation_id(correlation);
            if let (true, Some(token)) = (route.is_local(), &self.settings.outbound_token) {
                call = call.header("Authorization", &format!("Bearer {token}"));
            }
            let error = match call.send().await {
                Ok(_) => {
                    tracing::info!(url, attempt, "Message delivered.");
                    self.metrics.event("delivered");
                    return Ok(());
                }
                Err(e) if already_delivered(&e) => {
                    tracing::info!(url, attempt, "The receiver had the message already.");
                    return Ok(());
                }
                Err(e) => e,
            };
            let last = attempt == policy.attempts || !retryable(&error);
            tracing::warn!(url, attempt, final_attempt = last, error = %error, "Delivery failed.");
            if last {
                return Err(DeliveryError::Failed(failure_of(
                    &error,
                    policy.timeout.as_millis(),
                )));
            }
            tokio::select! {
                () = tokio::time::sleep(policy.wait(attempt)) => {}
                () = self.shutdown.wait() => return Err(DeliveryError::Shutdown),
            }
        }
        Err(DeliveryError::Failed(Failure::new(
            EXTERNAL_SERVICE_ERROR,
            "No attempt was made",
        )))
    }
}

/// The [`MessageHandler`] of the delivery consumer.
#[derive(Debug, Clone)]
pub struct ExchangeConsumer {
    /// The exchange.
    pub service: ExchangeService,
}

impl ExchangeConsumer {
    /// One message: an unreadable wrapper goes to the error queue as it is (it can be
    /// neither delivered nor answered); the only error left is a transient one.
    async fn one(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        match parse_wrapper(&msg.payload) {
            Ok(wrapper) => {
                self.service
                    .dispatch(&wrapper, msg.correlation_id.as_deref())
                    .await
            }
            Err(why) => {
                let failure = Failure::new("INVALID_WRAPPER", why);
                self.service
                    .raw_to_error_queue(
                        msg.key.as_deref(),
                        &msg.payload,
                        &failure,
                        msg.correlation_id.as_deref(),
                    )
                    .await
            }
        }
    }
}

impl MessageHandler for ExchangeConsumer {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        self.one(msg).await
    }

    fn batch_limit(&self, _topic: &str) -> usize {
        self.service.settings.batch
    }

    /// The batch's messages grouped by key (`receiver_id`): groups in parallel, each
    /// group's messages in offset order. A transient failure retries the whole batch
    /// (deliveries that went through are then answered as replays or by the receiving
    /// service's inbox).
    async fn handle_batch(&self, batch: &[InboundMessage]) -> Result<(), HandlerError> {
        let mut groups: Vec<(Option<&str>, Vec<&InboundMessage>)> = Vec::new();
        for msg in batch {
            let key = msg.key.as_deref();
            match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
                Some((_, group)) => group.push(msg),
                None => groups.push((key, vec![msg])),
            }
        }
        let runs = groups.iter().map(|(_, group)| async move {
            for msg in group {
                self.one(msg).await?;
            }
            Ok::<(), HandlerError>(())
        });
        futures::future::join_all(runs)
            .await
            .into_iter()
            .find(Result::is_err)
            .unwrap_or(Ok(()))
    }
}

/// Registers the consumer of `exchange-topic` (group `EXCHANGE_KAFKA_GROUP_ID`) as a
/// supervised worker.
pub fn register_consumer(platform: &digit_runtime::Platform, service: &ExchangeService) {
    let kafka = platform.kafka.clone();
    let service = service.clone();
    platform.workers.register(
        "exchange-delivery",
        digit_runtime::OnCrash::default(),
        move |shutdown| {
            let (kafka, service) = (kafka.clone(), service.clone());
            async move {
                let settings = service.settings.clone();
                let runner = digit_kafka::ConsumerRunner::new(
                    &kafka,
                    &settings.group_id,
                    &[settings.topics.exchange.as_str()],
                )?;
                runner
                    .run(ExchangeConsumer { service }, None, async move {
                        shutdown.wait().await;
                    })
                    .await
            }
        },
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use digit_core::ErrorDetail;

    fn status(status: u16, errors: Vec<ErrorDetail>) -> HttpError {
        HttpError::Status {
            target: "t".into(),
            url: "http://x".into(),
            status,
            errors,
            body: String::new(),
        }
    }

    #[test]
    fn retry_rules() {
        assert!(retryable(&status(503, vec![])));
        assert!(retryable(&status(500, vec![])));
        assert!(retryable(&status(429, vec![])));
        assert!(!retryable(&status(400, vec![])));
        assert!(!retryable(&status(401, vec![])));
        let replay = status(
            409,
            vec![ErrorDetail::new(
                "REPLAYED_MESSAGE",
                "This message was received before",
            )],
        );
        assert!(already_delivered(&replay));
        let stale = status(
            409,
            vec![ErrorDetail::new(
                "REPLAYED_MESSAGE",
                "message_ts is outside the accepted window of 300000 ms",
            )],
        );
        assert!(!already_delivered(&stale));
        assert!(!retryable(&stale));
    }

    #[test]
    fn failures_describe_without_urls() {
        let f = failure_of(&status(503, vec![]), 100);
        assert_eq!(
            f.status_message(),
            "EXTERANL_SERVICE_ERROR HTTP 503 Service Unavailable"
        );
        let f = failure_of(
            &status(
                401,
                vec![ErrorDetail::new(
                    "INVALID_SIGNATURE",
                    "Signature is not valid",
                )],
            ),
            100,
        );
        assert_eq!(
            f.message,
            "HTTP 401 Unauthorized (INVALID_SIGNATURE: Signature is not valid)"
        );
    }

    #[test]
    fn wrappers_parse_or_are_refused() {
        let w = parse_wrapper(
            br#"{"type":"On-Program","message":{"signature":null,"header":{"message_id":"1","message_ts":2,
            "message_type":"on-program","action":"create","sender_id":"a@http://a","receiver_id":"b@http://b"},
            "message":"{}","seal":"s"}}"#,
        )
        .unwrap();
        assert_eq!(w.exchange_type, ExchangeType::OnProgram);
        assert_eq!(w.message.seal.as_deref(), Some("s"));
        assert!(parse_wrapper(b"{").is_err());
        assert!(parse_wrapper(br#"{"type":"estimate","message":{}}"#).is_err());
        assert!(parse_wrapper(br#"{"type":"program","message":{}}"#).is_err());
    }
}
