//! Outbound delivery: the outbox relay as a supervised worker, with [`ProgramSender`] as
//! its HTTP sender. Messages to the local exchange, to the adapter's `on-disburse`
//! endpoints and the dashboard events are plain deliveries ([`OutboundSender`]: 2xx is
//! delivered; 408/425/429/5xx, timeouts and connection errors are retried by the relay with
//! backoff; other statuses are permanent and the row is dead).
//!
//! A call to the adapter's `disburse/_create|_update` (the treasury side, §1.8 step 5) is
//! answered synchronously with the disbursement reply envelope. The sender reads it,
//! applies `updateUri` to its header and runs `on-disburse/_create|_update` with it in
//! this process ([`ProgramService::apply_internal_reply`], idempotent through the inbox:
//! a relay retry after a crash applies nothing twice). When the adapter call fails for
//! good — a permanent status, or a transient failure on the relay's last attempt — the
//! payment and its lines are set `ERROR` (`"<code> <message>"`: the HTTP status text for
//! a 4xx, else `EXTERNAL_SERVICE_EXCEPTION`, as upstream) and that is applied as
//! `on-disburse`, which refunds the debit; the row then ends `dead` with the adapter's
//! error. Transient failures before the last attempt are left to the relay's retries. A
//! 2xx answer that is not a disbursement envelope changes nothing (the adapter may have
//! acted) and makes the row dead for an operator to look at.

use crate::api::envelope::{parse_write, Body};
use crate::domain::codes::Rule;
use crate::domain::model::{Disbursement, Envelope};
use crate::error::ProgramError;
use crate::service::disburse::{set_error, ReplyKind};
use crate::service::{Caller, ProgramService};
use async_trait::async_trait;
use digit_http::{HttpClient, HttpError, HttpSettings, Method};
use digit_kafka::Producer;
use digit_outbox::{
    DeliveryFailure, HttpRequest, HttpSender, OutboundSender, OutboxMetrics, OutboxSettings, Relay,
    HTTP_IDEMPOTENCY_HEADER,
};
use digit_runtime::{OnCrash, Platform};
use std::sync::Arc;

/// upstream's code for an outbound call that failed other than by a 4xx.
const EXTERNAL: &str = "EXTERNAL_SERVICE_EXCEPTION";

/// Registers the outbox relay (`worker:program-outbox`) with [`ProgramSender`].
pub fn register_relay(
    platform: &Platform,
    service: &ProgramService,
    producer: Producer,
) -> anyhow::Result<()> {
    let settings = OutboxSettings::from_env(&platform.env)?;
    let metrics = OutboxMetrics::new(&platform.metrics)?;
    let sender = ProgramSender::new(service.clone(), &settings, &metrics.registry)?;
    let relay = Relay::with_http_sender(
        platform.pool.clone(),
        Some(producer),
        Arc::new(sender),
        settings,
        metrics,
    )
    // Only this service's rows: the department's exchange shares the database.
    .for_source(crate::service::OUTBOX_SOURCE);
    platform
        .workers
        .register("program-outbox", OnCrash::default(), move |shutdown| {
            let relay = relay.clone();
            async move { relay.run(shutdown).await }
        });
    Ok(())
}

/// The relay's HTTP sender: plain deliveries, except the adapter's synchronous
/// disbursement calls, whose answer is applied as `on-disburse` (module documentation).
pub struct ProgramSender {
    service: ProgramService,
    plain: OutboundSender,
    adapter: HttpClient,
    create_url: String,
    update_url: String,
    max_attempts: u32,
}

impl std::fmt::Debug for ProgramSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramSender")
            .field("create_url", &self.create_url)
            .field("update_url", &self.update_url)
            .finish_non_exhaustive()
    }
}

impl ProgramSender {
    /// A sender with the relay's timeouts, recording into `metrics`.
    pub fn new(
        service: ProgramService,
        settings: &OutboxSettings,
        metrics: &digit_service::Metrics,
    ) -> anyhow::Result<Self> {
        let plain = OutboundSender::new(
            settings.http_timeout,
            settings.http_connect_timeout,
            metrics,
        )?;
        let http = HttpSettings {
            connect_timeout: settings.http_connect_timeout,
            request_timeout: settings.http_timeout,
            // The relay retries with its own backoff and records every attempt in the row.
            retries: 0,
            ..HttpSettings::default()
        };
        let adapter = HttpClient::new("program-adapter", &http, metrics)?;
        let base = service.settings.adapter_base.clone();
        Ok(Self {
            create_url: format!("{base}disburse/_create"),
            update_url: format!("{base}disburse/_update"),
            max_attempts: settings.max_attempts,
            service,
            plain,
            adapter,
        })
    }

    fn adapter_call(&self, url: &str) -> Option<ReplyKind> {
        if url == self.create_url {
            Some(ReplyKind::OnCreate)
        } else if url == self.update_url {
            Some(ReplyKind::OnUpdate)
        } else {
            None
        }
    }

    /// Calls the adapter; its 2xx body, or the failure classified as the relay expects.
    async fn call(
        &self,
        request: &HttpRequest<'_>,
    ) -> Result<Vec<u8>, (DeliveryFailure, &'static str)> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            let m = format!("bad method {}", request.method);
            (DeliveryFailure::permanent(m), EXTERNAL)
        })?;
        let mut call = self
            .adapter
            .request(method, request.url)
            .json_bytes(request.body.to_vec());
        for (name, value) in request.headers {
            if !name.eq_ignore_ascii_case("content-type") {
                call = call.header(name, value);
            }
        }
        match call.send().await {
            Ok(body) => Ok(body.to_vec()),
            Err(HttpError::Status { status, url, .. }) => {
                let message = format!("HTTP {status} from {url}");
                if status >= 500 || matches!(status, 408 | 425 | 429) {
                    Err((DeliveryFailure::transient(message), EXTERNAL))
                } else {
                    let text = axum::http::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or(EXTERNAL);
                    Err((DeliveryFailure::permanent(message), text))
                }
            }
            Err(e @ (HttpError::Config { .. } | HttpError::Encode { .. })) => Err((
                DeliveryFailure::permanent(digit_core::infra::chain(&e)),
                EXTERNAL,
            )),
            Err(e) => Err((
                DeliveryFailure::transient(digit_core::infra::chain(&e)),
                EXTERNAL,
            )),
        }
    }

    /// Whether the relay will give up after this attempt.
    async fn last_attempt(&self, request: &HttpRequest<'_>) -> bool {
        let Some(key) = header(request, HTTP_IDEMPOTENCY_HEADER) else {
            return false;
        };
        let attempts: Result<Option<i32>, _> =
            sqlx::query_scalar("SELECT attempts FROM digit_outbox WHERE idempotency_key = $1")
                .bind(key)
                .fetch_optional(&self.service.pool)
                .await;
        match attempts {
            Ok(Some(n)) => u32::try_from(n).unwrap_or(0).saturating_add(1) >= self.max_attempts,
            _ => false,
        }
    }

    /// Applies the adapter's answer as `on-disburse`.
    async fn apply_answer(
        &self,
        caller: &Caller,
        kind: ReplyKind,
        body: &[u8],
    ) -> Result<(), DeliveryFailure> {
        let (mut env, raw) =
            parse_write::<Disbursement>(Body::Disbursement, body).map_err(|e| {
                let codes: Vec<String> = e.body().errors.into_iter().map(|d| d.code).collect();
                tracing::error!(
                    ?codes,
                    "The adapter's disbursement answer is not a disbursement envelope."
                );
                DeliveryFailure::permanent(format!(
                    "the adapter's answer is not a disbursement envelope: {}",
                    codes.join(", ")
                ))
            })?;
        env.header = self.service.update_uri(&env.header);
        self.apply(caller, env, raw, kind).await
    }

    /// The adapter could not be called: the payment `ERROR`, applied as `on-disburse`.
    async fn apply_failure(
        &self,
        caller: &Caller,
        kind: ReplyKind,
        body: &[u8],
        code: &'static str,
        failure: &DeliveryFailure,
    ) -> Result<(), DeliveryFailure> {
        let (mut env, _) = parse_write::<Disbursement>(Body::Disbursement, body).map_err(|_| {
            DeliveryFailure::permanent("an outbox disbursement message that does not parse")
        })?;
        env.header = self.service.update_uri(&env.header);
        let rule = Rule {
            code,
            message: failure.message.clone(),
        };
        set_error(&mut env.message, &rule);
        let raw = serde_json::to_value(&env.message)
            .map_err(|e| DeliveryFailure::permanent(e.to_string()))?;
        self.apply(caller, env, raw, kind).await
    }

    async fn apply(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: serde_json::Value,
        kind: ReplyKind,
    ) -> Result<(), DeliveryFailure> {
        match self
            .service
            .apply_internal_reply(caller, env, raw, kind)
            .await
        {
            Ok(_) => Ok(()),
            Err(
                e @ (ProgramError::Database(_)
                | ProgramError::Dependency(_)
                | ProgramError::Outbox(_)),
            ) => Err(DeliveryFailure::transient(format!(
                "applying the adapter's answer: {e}"
            ))),
            Err(e) => Err(DeliveryFailure::permanent(format!(
                "applying the adapter's answer: {e}"
            ))),
        }
    }
}

fn header<'a>(request: &'a HttpRequest<'_>, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[async_trait]
impl HttpSender for ProgramSender {
    async fn send(&self, request: HttpRequest<'_>) -> Result<(), DeliveryFailure> {
        let Some(kind) = self.adapter_call(request.url) else {
            return self.plain.send(request).await;
        };
        let caller = Caller {
            user: None,
            path: request.url.to_owned(),
            correlation_id: header(&request, digit_kafka::CORRELATION_ID_HEADER)
                .unwrap_or_default()
                .to_owned(),
        };
        match self.call(&request).await {
            Ok(body) => self.apply_answer(&caller, kind, &body).await,
            Err((failure, code)) => {
                if !failure.permanent && !self.last_attempt(&request).await {
                    return Err(failure);
                }
                tracing::error!(url = request.url, error = %failure.message,
                    "The adapter refused or never answered a disbursement: setting it ERROR.");
                self.apply_failure(&caller, kind, request.body, code, &failure)
                    .await?;
                Err(DeliveryFailure::permanent(failure.message))
            }
        }
    }
}
