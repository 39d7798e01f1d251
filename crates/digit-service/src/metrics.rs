//! Prometheus metrics: one registry per service, HTTP latency by route, the instruments of
//! outbound HTTP calls (recorded by `digit-http`), the process-wide degradation counter
//! ([`degraded`]), and a text endpoint at `<ctx>/metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;
use std::time::Instant;

/// `degraded_total{what}`: operations that went on without something they should have had
/// (a notification not sent, a config entry skipped, …). Process-wide, so shared crates
/// can count without holding a registry; every [`Metrics`] registry exposes it.
static DEGRADED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    match IntCounterVec::new(
        Opts::new(
            "degraded_total",
            "Operations that went on without something they should have had, by what was missing",
        ),
        &["what"],
    ) {
        Ok(c) => c,
        // The options above are constants; failure would be a programming error.
        Err(_) => unreachable_counter(),
    }
});

/// Records a degradation: logs `error` at WARN with `what` and counts it in
/// `degraded_total{what}`. For failures that must not fail the caller but must not go
/// unseen either. `what` names the degradation (a constant; it is a metric label).
pub fn degraded(what: &'static str, error: &dyn std::fmt::Display) {
    tracing::warn!(what, error = %error, "Degraded: carrying on without it.");
    DEGRADED.with_label_values(&[what]).inc();
}

/// How many times `what` was recorded by [`degraded`] in this process (tests, health).
pub fn degraded_count(what: &str) -> u64 {
    DEGRADED.with_label_values(&[what]).get()
}

/// The service's metric registry and its HTTP instruments. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_seconds: HistogramVec,
    http_requests: IntCounterVec,
    outbound: OutboundMetrics,
}

/// Instruments of outbound HTTP calls, one series per called `target` (e.g. `mdms`).
/// `digit-http` records them; they live here so every client of a service shares the
/// service's registry. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OutboundMetrics {
    /// `http_client_requests_total{target, outcome}`: one per attempt; outcome is `ok`,
    /// `client_error` (4xx), `server_error` (5xx), `timeout`, `connect`, `transport` or
    /// `decode`.
    pub requests: IntCounterVec,
    /// `http_client_request_duration_seconds{target}`: latency of each attempt.
    pub seconds: HistogramVec,
    /// `http_client_retries_total{target}`: attempts repeated after a retryable failure.
    pub retries: IntCounterVec,
}

impl OutboundMetrics {
    fn new() -> prometheus::Result<Self> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new("http_client_requests_total", "Outbound HTTP attempts"),
                &["target", "outcome"],
            )?,
            seconds: HistogramVec::new(
                HistogramOpts::new(
                    "http_client_request_duration_seconds",
                    "Outbound HTTP attempt latency",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["target"],
            )?,
            retries: IntCounterVec::new(
                Opts::new(
                    "http_client_retries_total",
                    "Outbound HTTP attempts retried",
                ),
                &["target"],
            )?,
        })
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A registry whose metrics carry the label `service=<name>`.
    pub fn new(service: &str) -> Self {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry = Registry::new_custom(None, Some(labels)).unwrap_or_default();
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            ),
            &["method", "route", "status"],
        );
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served"),
            &["method", "route", "status"],
        );
        let m = match (http_seconds, http_requests, OutboundMetrics::new()) {
            (Ok(h), Ok(c), Ok(outbound)) => Self {
                registry,
                http_seconds: h,
                http_requests: c,
                outbound,
            },
            // The options above are constants; failure would be a programming error.
            _ => unreachable_metrics(),
        };
        m.register(Box::new(m.http_seconds.clone()));
        m.register(Box::new(m.http_requests.clone()));
        m.register(Box::new(DEGRADED.clone()));
        m.register(Box::new(m.outbound.requests.clone()));
        m.register(Box::new(m.outbound.seconds.clone()));
        m.register(Box::new(m.outbound.retries.clone()));
        m
    }

    /// The outbound HTTP instruments (used by `digit-http`).
    pub fn outbound(&self) -> &OutboundMetrics {
        &self.outbound
    }

    /// Registers a collector (a duplicate registration is logged and ignored).
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) {
        if let Err(e) = self.registry.register(collector) {
            tracing::warn!(error = %e, "Metric not registered.");
        }
    }

    /// The registry, for services that add their own instruments.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let families = self.registry.gather();
        if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
            tracing::warn!(error = %e, "Metrics encoding failed.");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[allow(clippy::panic)] // Reached only if the constant metric definitions above are invalid.
fn unreachable_metrics() -> Metrics {
    panic!("constant HTTP metric definitions are invalid")
}

#[allow(clippy::panic)] // Reached only if the constant counter definition above is invalid.
fn unreachable_counter() -> IntCounterVec {
    panic!("constant degradation counter definition is invalid")
}

/// Middleware that times every request by its route template.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [method.as_str(), route.as_str(), status.as_str()];
    metrics
        .http_seconds
        .with_label_values(&labels)
        .observe(started.elapsed().as_secs_f64());
    metrics.http_requests.with_label_values(&labels).inc();
    response
}

/// `GET <ctx>/metrics`.
pub async fn endpoint(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degradations_are_counted_and_exposed_by_every_registry() {
        let before = degraded_count("metrics_test");
        degraded("metrics_test", &"it broke");
        assert_eq!(degraded_count("metrics_test"), before + 1);
        let text = Metrics::new("svc").render();
        assert!(
            text.lines().any(|l| l.starts_with("degraded_total{")
                && l.contains(r#"what="metrics_test""#)
                && l.contains(r#"service="svc""#)),
            "{text}"
        );
    }
}
