//! HTTP delivery behind a small trait, so the relay does not care which client sends.

use std::time::Duration;

use async_trait::async_trait;

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

/// [`HttpSender`] on `reqwest` with explicit connect and request timeouts.
///
/// 2xx is delivered. 408, 425, 429 and 5xx, timeouts and connection errors are retried;
/// any other status (400, 401, 404, 422 …) is permanent.
#[derive(Debug, Clone)]
pub struct ReqwestSender {
    client: reqwest::Client,
}

impl ReqwestSender {
    /// A client with the given timeouts (no redirects are followed).
    pub fn new(timeout: Duration, connect_timeout: Duration) -> Result<Self, OutboxError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(OutboxError::HttpClient)?;
        Ok(Self { client })
    }
}

#[async_trait]
impl HttpSender for ReqwestSender {
    async fn send(&self, request: HttpRequest<'_>) -> Result<(), DeliveryFailure> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| DeliveryFailure::permanent(format!("bad method {}", request.method)))?;
        let mut builder = self
            .client
            .request(method, request.url)
            .body(request.body.to_vec());
        for (name, value) in request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| DeliveryFailure::transient(format!("{e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
        let message = format!("HTTP {status} from {}", request.url);
        if retry {
            Err(DeliveryFailure::transient(message))
        } else {
            Err(DeliveryFailure::permanent(message))
        }
    }
}
