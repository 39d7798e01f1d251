//! [`HttpClient`] and the calls it makes.

use crate::error::HttpError;
use crate::settings::HttpSettings;
use bytes::Bytes;
use digit_core::{ErrorResponse, RequestInfo};
use digit_service::metrics::OutboundMetrics;
use digit_service::Metrics;
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Header carrying the correlation id between DIGIT services (upstream's tracer).
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// How much of a non-2xx body [`HttpError::Status`] keeps.
const BODY_SNIPPET: usize = 512;

/// Whether a failed call may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A write (the default): retried only when no connection could be opened, i.e. when
    /// nothing was sent. Never after a timeout, a reset or an error status — the other
    /// side may have acted.
    Unsafe,
    /// An idempotent read (MDMS, user, workflow, localization *searches*): also retried
    /// after a timeout, a broken exchange, or HTTP 502/503/504.
    Idempotent,
}

/// The one outbound HTTP client. Cheap to clone; one per called service (`target`), which
/// names its metrics and its errors.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    target: Arc<str>,
    settings: Arc<HttpSettings>,
    metrics: OutboundMetrics,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("target", &self.target)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for `target` (e.g. `mdms`) with these settings, recording into `metrics`.
    /// A client that cannot be built is an error, never a default client without the
    /// configured timeouts.
    pub fn new(
        target: &str,
        settings: &HttpSettings,
        metrics: &Metrics,
    ) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(settings.user_agent.as_str())
            .build()
            .map_err(|e| HttpError::Config {
                target: target.to_owned(),
                reason: "cannot build the HTTP client".into(),
                source: Some(Box::new(e)),
            })?;
        Ok(Self {
            inner,
            target: Arc::from(target),
            settings: Arc::new(settings.clone()),
            metrics: metrics.outbound().clone(),
        })
    }

    /// A client with settings read from `env` ([`crate::HTTP_VARS`]).
    pub fn from_env(
        target: &str,
        env: &digit_service::config::Env,
        metrics: &Metrics,
    ) -> Result<Self, HttpError> {
        let settings = HttpSettings::from_env(env).map_err(|e| HttpError::Config {
            target: target.to_owned(),
            reason: "invalid settings".into(),
            source: Some(Box::new(e)),
        })?;
        Self::new(target, &settings, metrics)
    }

    /// The target name (metric label).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The settings in force.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// `<host>/<path>` ([`join_url`]), checked to be an http(s) URL.
    pub fn endpoint(&self, host: &str, path: &str) -> Result<String, HttpError> {
        let url = join_url(host, path);
        let config = |reason: String, source: Option<crate::error::BoxError>| HttpError::Config {
            target: self.target.to_string(),
            reason,
            source,
        };
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| config(format!("invalid URL {url:?}"), Some(Box::new(e))))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(config(format!("URL {url:?} must use http or https"), None));
        }
        Ok(url)
    }

    /// A `POST` to `url`.
    pub fn post(&self, url: impl Into<String>) -> Call<'_> {
        self.request(Method::POST, url)
    }

    /// A `GET` of `url`.
    pub fn get(&self, url: impl Into<String>) -> Call<'_> {
        self.request(Method::GET, url)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, url: impl Into<String>) -> Call<'_> {
        Call {
            client: self,
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            invalid_header: None,
            body: None,
            correlation_id: None,
            retry: Retry::Unsafe,
            timeout: None,
        }
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        body: Option<&Bytes>,
        correlation_id: &str,
    ) -> Result<(u16, Bytes), HttpError> {
        let url = call.url.as_str();
        let mut builder = self
            .inner
            .request(call.method.clone(), url)
            .header(CORRELATION_HEADER, correlation_id);
        if !call.query.is_empty() {
            builder = builder.query(&call.query);
        }
        for (name, value) in &call.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(timeout) = call.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(body) = body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|e| self.classify(call, e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.classify(call, e))?;
        if !(200..300).contains(&status) {
            let errors = serde_json::from_slice::<ErrorResponse>(&bytes)
                .map(|r| r.errors)
                .unwrap_or_default();
            let end = bytes.len().min(BODY_SNIPPET);
            return Err(HttpError::Status {
                target: self.target.to_string(),
                url: url.to_owned(),
                status,
                errors,
                body: String::from_utf8_lossy(&bytes[..end]).into_owned(),
            });
        }
        Ok((status, bytes))
    }

    fn classify(&self, call: &Call<'_>, e: reqwest::Error) -> HttpError {
        let target = self.target.to_string();
        let url = call.url.clone();
        if e.is_builder() {
            HttpError::Config {
                target,
                reason: format!("cannot build a request to {url:?}"),
                source: Some(Box::new(e)),
            }
        } else if e.is_connect() {
            HttpError::Connect {
                target,
                url,
                source: e,
            }
        } else if e.is_timeout() {
            HttpError::Timeout {
                target,
                url,
                timeout: call.timeout.unwrap_or(self.settings.request_timeout),
                source: e,
            }
        } else {
            HttpError::Transport {
                target,
                url,
                source: e,
            }
        }
    }

    fn retryable(&self, error: &HttpError, retry: Retry) -> bool {
        match error {
            HttpError::Connect { .. } => true,
            HttpError::Timeout { .. } | HttpError::Transport { .. } => retry == Retry::Idempotent,
            HttpError::Status { status, .. } => {
                retry == Retry::Idempotent && matches!(status, 502..=504)
            }
            HttpError::Config { .. } | HttpError::Encode { .. } | HttpError::Decode { .. } => false,
        }
    }

    async fn run<T>(
        &self,
        mut call: Call<'_>,
        decode: impl Fn(&Bytes) -> Result<T, serde_json::Error>,
    ) -> Result<T, HttpError> {
        if let Some(name) = call.invalid_header.take() {
            return Err(HttpError::Config {
                target: self.target.to_string(),
                reason: format!("invalid header {name:?} for {}", call.url),
                source: None,
            });
        }
        let body = match call.body.take() {
            Some(Err(source)) => {
                return Err(HttpError::Encode {
                    target: self.target.to_string(),
                    url: call.url.clone(),
                    source,
                })
            }
            Some(Ok(bytes)) => Some(bytes),
            None => None,
        };
        let correlation_id = call
            .correlation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut retries = 0;
        loop {
            let started = Instant::now();
            let result = self
                .attempt(&call, body.as_ref(), &correlation_id)
                .await
                .and_then(|(status, bytes)| {
                    decode(&bytes).map_err(|source| HttpError::Decode {
                        target: self.target.to_string(),
                        url: call.url.clone(),
                        status,
                        source,
                    })
                });
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) => e.outcome(),
            };
            self.metrics
                .requests
                .with_label_values(&[&*self.target, outcome])
                .inc();
            self.metrics
                .seconds
                .with_label_values(&[&*self.target])
                .observe(started.elapsed().as_secs_f64());
            match result {
                Err(e) if retries < self.settings.retries && self.retryable(&e, call.retry) => {
                    retries += 1;
                    self.metrics
                        .retries
                        .with_label_values(&[&*self.target])
                        .inc();
                    let wait = self.settings.backoff(retries);
                    tracing::warn!(
                        service = %self.target,
                        url = %call.url,
                        retry = retries,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "Outbound call failed; retrying."
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

/// One outbound call being put together; sent with [`Call::send`] or [`Call::send_json`].
#[must_use = "a call does nothing until sent"]
pub struct Call<'a> {
    client: &'a HttpClient,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    invalid_header: Option<String>,
    body: Option<Result<Bytes, serde_json::Error>>,
    correlation_id: Option<String>,
    retry: Retry,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Call<'_> {
    /// Adds query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        self
    }

    /// A JSON body (serialised once; a retry sends the same bytes).
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_vec(body).map(Bytes::from));
        self
    }

    /// An already serialised JSON body (e.g. an outbox row's payload), sent as it is.
    pub fn json_bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(Ok(body.into()));
        self
    }

    /// Adds a header (an invalid name or value makes the call fail with
    /// [`HttpError::Config`] when sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(n), Ok(v)) => self.headers.push((n, v)),
            _ => self.invalid_header = Some(name.to_owned()),
        }
        self
    }

    /// The correlation id to send in `x-correlation-id` (blank: a new one is made).
    pub fn correlation_id(mut self, id: Option<&str>) -> Self {
        self.correlation_id = id
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        self
    }

    /// Propagates the caller's `RequestInfo.correlationId` (when set).
    pub fn request_info(self, request_info: &RequestInfo) -> Self {
        let id = request_info.correlation_id.clone();
        self.correlation_id(id.as_deref())
    }

    /// Marks the call as an idempotent read that may be retried ([`Retry::Idempotent`]).
    pub fn idempotent(mut self) -> Self {
        self.retry = Retry::Idempotent;
        self
    }

    /// Sets the retry class explicitly.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// A bound for this call's attempts instead of the client's request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends; a 2xx answer's body.
    pub async fn send(self) -> Result<Bytes, HttpError> {
        let client = self.client;
        client.run(self, |b| Ok(b.clone())).await
    }

    /// Sends; a 2xx answer decoded as `T` (else [`HttpError::Decode`]).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, HttpError> {
        let client = self.client;
        client.run(self, |b| serde_json::from_slice(b)).await
    }
}

/// Joins a base URL and a path with exactly one `/` between them; an absolute `endpoint`
/// (`http://…`) is used as is.
pub fn join_url(host: &str, endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint.to_string();
    }
    let host = host.trim().trim_end_matches('/');
    let path = endpoint.trim_start_matches('/');
    if path.is_empty() {
        host.to_string()
    } else {
        format!("{host}/{path}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn joins_host_and_endpoint_defensively() {
        let want = "http://mdms:8080/egov-mdms-service/v1/_search";
        for (host, endpoint) in [
            ("http://mdms:8080", "egov-mdms-service/v1/_search"),
            ("http://mdms:8080/", "egov-mdms-service/v1/_search"),
            ("http://mdms:8080/", "/egov-mdms-service/v1/_search"),
            ("http://mdms:8080//", "//egov-mdms-service/v1/_search"),
            (" http://mdms:8080 ", " /egov-mdms-service/v1/_search "),
        ] {
            assert_eq!(join_url(host, endpoint), want, "{host} + {endpoint}");
        }
        assert_eq!(join_url("http://h/", ""), "http://h");
        assert_eq!(
            join_url("http://ignored", "https://mdms/v1/_search"),
            "https://mdms/v1/_search"
        );
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        let client = HttpClient::new("t", &HttpSettings::default(), &Metrics::new("test")).unwrap();
        assert!(matches!(
            client.endpoint("not a url", "x"),
            Err(HttpError::Config { .. })
        ));
        assert!(matches!(
            client.endpoint("ftp://host", "x"),
            Err(HttpError::Config { .. })
        ));
        assert_eq!(
            client.endpoint("http://h:1/", "/a/b").unwrap(),
            "http://h:1/a/b"
        );
    }

    #[tokio::test]
    async fn bad_headers_and_bodies_fail_before_anything_is_sent() {
        let metrics = Metrics::new("test");
        let client = HttpClient::new("t", &HttpSettings::default(), &metrics).unwrap();
        // Port 9 (discard) is never contacted: the call fails before sending.
        let err = client
            .post("http://127.0.0.1:9/x")
            .header("x-bad", "a\nb")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::Config { .. }), "{err:?}");
        let mut not_json = std::collections::HashMap::new();
        not_json.insert(vec![1u8], 1); // map keys must be strings in JSON
        let err = client
            .post("http://127.0.0.1:9/x")
            .json(&not_json)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::Encode { .. }), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        let attempts = metrics
            .outbound()
            .requests
            .with_label_values(&["t", "connect"])
            .get();
        assert_eq!(attempts, 0);
    }

    #[test]
    fn a_client_that_cannot_be_built_is_an_error_not_a_default() {
        let settings = HttpSettings {
            user_agent: "bad\nagent".into(),
            ..HttpSettings::default()
        };
        let err = HttpClient::new("t", &settings, &Metrics::new("test")).unwrap_err();
        assert!(matches!(err, HttpError::Config { .. }), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
