//! The HTTP edge (spec §2.2): `POST {context}/v1/exchange/{type}`, after the envelope was
//! parsed. In order:
//!
//! 1. **Who sends**: a local sender (its `sender_id` on this exchange's URL) is a local
//!    service: it must present a valid token with one of `EXCHANGE_SENDER_ROLES` (401/403,
//!    unless `EXCHANGE_OPEN_ACCESS`). Any other sender is another domain: its signature
//!    (and, for `seal_required` peers or when present, seal, timestamp and replay) is
//!    checked against its active registry keys (`APP_AUTH_SIGN_VALIDATION`, on by default),
//!    at every exchange it reaches, not only the last.
//! 2. **Route**: the receiver must be routable — a local receiver's service must be in
//!    `APP_RECEIVER_ENDPOINTS` and a remote one must have an exchange URL — else 400
//!    `UNKNOWN_RECEIVER` (upstream accepts and drops it in the consumer).
//! 3. **Encryption**: a flagged clear message from a local service to another domain needs
//!    that domain's active key (400 `NO_ENCRYPTION_KEY` otherwise); an encrypted message for
//!    a local service must open with this exchange's key (400 `DECRYPTION_FAILED`), so a
//!    sender learns at once rather than through an error reply.
//! 4. **Queue**: the wrapper `{"type": <path type>, "message": <envelope>}` to
//!    `exchange-topic`, keyed by `receiver_id` (so each receiver gets its messages in the
//!    order they arrived: an on-allocation never overtakes its on-sanction), acknowledged by
//!    the broker (503 otherwise).
//!    A refusal after step 1 withdraws the replay record, so the sender may send again.
//! 5. **Event** (§2.6) and the 200 echo `{signature, header, message}`.

use super::ExchangeService;
use crate::domain::error::ExchangeError;
use crate::domain::model::{ExchangeType, RequestMessage, Wrapper};
use crate::domain::routing::{self, Route, RouteError};
use crate::security::{encryption, PublicKey, SealInput, SecurityError};
use digit_core::UserInfo;

/// Who is calling, as the gate established it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The token's user (`None`: no token).
    pub user: Option<UserInfo>,
    /// Correlation id (carried into Kafka and the outbound calls).
    pub correlation_id: String,
}

/// The seal input of an envelope (canonical header values).
pub fn seal_input(msg: &RequestMessage) -> SealInput<'_> {
    SealInput {
        message: &msg.message,
        message_id: &msg.header.message_id,
        message_ts: msg.header.message_ts,
        message_type: msg.header.message_type.as_str(),
        action: msg.header.action.as_str(),
        sender_id: &msg.header.sender_id,
        receiver_id: &msg.header.receiver_id,
    }
}

/// The AEAD data of an envelope's encryption.
pub fn aad(msg: &RequestMessage) -> encryption::Aad<'_> {
    encryption::Aad {
        message_id: &msg.header.message_id,
        message_type: msg.header.message_type.as_str(),
        action: msg.header.action.as_str(),
    }
}

impl ExchangeService {
    /// The route of `msg`, or the edge's 400.
    pub fn route_of(&self, msg: &RequestMessage) -> Result<Route, RouteError> {
        routing::route(
            &msg.header,
            &self.settings.host_url,
            &self.settings.endpoints,
        )
    }

    /// The active key to encrypt for the exchange at `host` (its newest active registry
    /// row; the row id is the `kid`).
    pub async fn encryption_key(&self, host: &str) -> Result<(String, PublicKey), SecurityError> {
        let (row, key) = self.guard.registry().encryption_key(host).await?;
        Ok((row.id, key))
    }

    /// `msg.message` encrypted for the exchange at `host`.
    pub async fn encrypt_for(
        &self,
        host: &str,
        msg: &RequestMessage,
    ) -> Result<String, SecurityError> {
        let (kid, key) = self.encryption_key(host).await?;
        encryption::encrypt_with(&key, &kid, &aad(msg), &msg.message)
    }

    /// Steps 1–5 of the module docs; the echo.
    pub async fn receive(
        &self,
        caller: &Caller,
        path_type: ExchangeType,
        msg: RequestMessage,
    ) -> Result<RequestMessage, ExchangeError> {
        let result = self.admit(caller, path_type, msg).await;
        match &result {
            Ok(m) if self.settings.is_local(&m.header.sender_id) => {
                self.metrics.event("accepted_local")
            }
            Ok(_) => self.metrics.event("accepted_remote"),
            Err(e) => {
                let errors = digit_core::DigitError::errors(e);
                self.metrics
                    .refused(errors.first().map_or("", |d| d.code.as_str()));
            }
        }
        result
    }

    async fn admit(
        &self,
        caller: &Caller,
        path_type: ExchangeType,
        msg: RequestMessage,
    ) -> Result<RequestMessage, ExchangeError> {
        let local_sender = self.settings.is_local(&msg.header.sender_id);
        let mut sealed = false;
        if local_sender {
            self.authorize_local(caller)?;
        } else {
            let checked = self
                .guard
                .check(
                    &seal_input(&msg),
                    msg.signature.as_deref(),
                    msg.seal.as_deref(),
                )
                .await?;
            sealed = checked.sealed;
        }
        match self.prepare(local_sender, &msg).await {
            Ok(cipher) => self.queue(caller, path_type, msg, cipher, sealed).await,
            Err(e) => {
                self.withdraw(&msg, sealed).await;
                Err(e)
            }
        }
    }

    /// Steps 2 and 3: the route, and the encryption checks; the text the event records
    /// for a clear flagged message.
    async fn prepare(
        &self,
        local_sender: bool,
        msg: &RequestMessage,
    ) -> Result<Option<String>, ExchangeError> {
        let route = self
            .route_of(msg)
            .map_err(|e| ExchangeError::UnknownReceiver(message_of(&e)))?;
        let flagged = msg.header.is_msg_encrypted;
        match &route {
            Route::Remote { host, .. }
                if local_sender && flagged && !encryption::is_encrypted(&msg.message) =>
            {
                // Fails early without a key; the text is what the event records.
                Ok(Some(self.encrypt_for(host, msg).await?))
            }
            Route::Local { .. }
                if !local_sender && flagged && encryption::is_encrypted(&msg.message) =>
            {
                encryption::decrypt(&self.signer, &msg.message, &aad(msg))?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Steps 4 and 5.
    async fn queue(
        &self,
        caller: &Caller,
        path_type: ExchangeType,
        msg: RequestMessage,
        cipher: Option<String>,
        sealed: bool,
    ) -> Result<RequestMessage, ExchangeError> {
        let wrapper = Wrapper {
            exchange_type: path_type,
            message: msg,
        };
        let correlation =
            (!caller.correlation_id.is_empty()).then_some(caller.correlation_id.as_str());
        let queued = self
            .producer
            .send_json(
                &self.settings.topics.exchange,
                Some(&wrapper.message.header.receiver_id),
                &wrapper.to_json(),
                correlation,
            )
            .await;
        if let Err(e) = queued {
            self.withdraw(&wrapper.message, sealed).await;
            return Err(ExchangeError::Unavailable(e.to_string()));
        }
        tracing::info!(
            message_id = %wrapper.message.header.message_id,
            message_type = %wrapper.message.header.message_type,
            sender_id = %wrapper.message.header.sender_id,
            receiver_id = %wrapper.message.header.receiver_id,
            "Message accepted."
        );
        self.emit_event(&wrapper.message, cipher.as_deref(), &caller.correlation_id)
            .await;
        Ok(wrapper.message)
    }

    /// A local sender needs a token with one of the sender roles.
    fn authorize_local(&self, caller: &Caller) -> Result<(), ExchangeError> {
        if self.settings.open_access {
            return Ok(());
        }
        let user = caller.user.as_ref().ok_or(ExchangeError::Unauthenticated)?;
        let allowed = user
            .roles
            .iter()
            .any(|r| self.settings.sender_roles.iter().any(|s| s == &r.code));
        if allowed {
            Ok(())
        } else {
            Err(ExchangeError::Forbidden)
        }
    }

    /// Withdraws the replay record of a sealed message that was not accepted after all.
    async fn withdraw(&self, msg: &RequestMessage, sealed: bool) {
        if !sealed {
            return;
        }
        if let Err(e) = self.guard.seen().forget(&seal_input(msg)).await {
            tracing::warn!(error = %e, message_id = %msg.header.message_id, "Could not withdraw the replay record.");
        }
    }
}

fn message_of(e: &RouteError) -> String {
    match e {
        RouteError::UnknownService(s) => format!("No local service '{s}' receives messages here"),
        RouteError::NoReceiverUrl => "The receiver_id has no exchange URL".to_owned(),
    }
}
