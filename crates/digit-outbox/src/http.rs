//! HTTP delivery behind a small trait, so the relay does not care which client sends.

use std::time::Duration;

use async_trait::async_trait;
use digit_http::{HttpClient, HttpError, HttpSettings, Method};
use digit_service::Metrics;

use crate::OutboxError;

/// One HTTP delivery.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// Method, e.g. `POST`.
    pub method: &'a str,
    /// Absolute URL.
    pub url: &'a str,
    /// Headers, the idempotency header included.
    pub headers: &'a [(String, String)],
    /// Body.
    pub body: &'a [u8],
}

/// Why a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// `true` when retrying cannot help (e.g. HTTP 400): the row goes straight to `dead`.
    pub permanent: bool,
    /// What happened, stored in `last_error`.
    pub message: String,
}

impl DeliveryFailure {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }

    /// A failure no retry will fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// Sends one HTTP request; `Ok` means the receiver answered 2xx.
#[async_trait]
pub trait HttpSender: Send + Sync {
    /// Sends `request`, bounded by the implementation's timeouts.
    async fn send(&self, request: HttpRequest<'_>) -> Result<(), DeliveryFailure>;
}

/// [`HttpSender`] on the suite's one outbound client (`digit-http`): its connect and
/// request timeouts, correlation ids and `http_client_*` metrics (target `outbox`).
///
/// 2xx is delivered. 408, 425, 429 and 5xx, timeouts and connection errors are retried by
/// the relay (with its backoff; the client itself re-sends only when no connection could be
/// opened); any other status (400, 401, 404, 422 …) is permanent.
#[derive(Debug, Clone)]
pub struct OutboundSender {
    client: HttpClient,
}

impl OutboundSender {
    /// A sender with these timeouts, recording into the service's `metrics`.
    pub fn new(
        timeout: Duration,
        connect_timeout: Duration,
        metrics: &Metrics,
    ) -> Result<Self, OutboxError> {
        let settings = HttpSettings {
            connect_timeout,
            request_timeout: timeout,
            // The relay retries with its own backoff and records every attempt in the row.
            retries: 0,
            ..HttpSettings::default()
        };
        let client =
            HttpClient::new("outbox", &settings, metrics).map_err(OutboxError::HttpClient)?;
        Ok(Self { client })
    }
}

#[async_trait]
impl HttpSender for OutboundSender {
    async fn send(&self, request: HttpRequest<'_>) -> Result<(), DeliveryFailure> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| DeliveryFailure::permanent(format!("bad method {}", request.method)))?;
        let mut call = self
            .client
            .request(method, request.url)
            .json_bytes(request.body.to_vec());
        for (name, value) in request.headers {
            // The client sets the JSON content type of the body itself.
            if !name.eq_ignore_ascii_case("content-type") {
                call = call.header(name, value);
            }
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(HttpError::Status { status, url, .. }) => {
                let message = format!("HTTP {status} from {url}");
                if status >= 500 || matches!(status, 408 | 425 | 429) {
                    Err(DeliveryFailure::transient(message))
                } else {
                    Err(DeliveryFailure::permanent(message))
                }
            }
            Err(e @ (HttpError::Config { .. } | HttpError::Encode { .. })) => {
                Err(DeliveryFailure::permanent(digit_core::infra::chain(&e)))
            }
            Err(e) => Err(DeliveryFailure::transient(digit_core::infra::chain(&e))),
        }
    }
}
