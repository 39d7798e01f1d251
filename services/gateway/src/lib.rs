//! The gateway: one entry point (port 8080, DIGIT's gateway convention) that serves every
//! context path of the suite by forwarding the request — method, path, query, headers and
//! body, unchanged and streamed — to the service that serves it, as the DIGIT gateway does
//! after its route discovery (spec `upstream-platform.md` §7.1). UIs and upstream's Postman
//! collections use one base URL; the services' own ports stay.
//!
//! Authentication and authorization stay in each service's gate (the same checks the DIGIT
//! gateway makes, §7.2–7.3), so the gateway trusts nothing and adds nothing to the identity.
//! An unknown path is `404 ResourceNotFoundException`, a service that cannot be reached
//! `502`, one that does not answer within `GATEWAY_UPSTREAM_TIMEOUT_MS` `504` — DIGIT envelopes
//! (`ResourceAccessError`), counted in `gateway_upstream_requests_total{context, outcome}`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use digit_core::ErrorDetail;
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_service::{ApiError, Metrics};
use futures::TryStreamExt;
use prometheus::{IntCounterVec, Opts};
use std::sync::Arc;
use std::time::Duration;

/// The route table.
pub const ROUTES: EnvVar = EnvVar {
    name: "GATEWAY_ROUTES",
    aliases: &[],
    default: DEFAULT_ROUTES,
    help: "Comma list of <context path>=<service base URL>; a request is forwarded, path unchanged, to the route of its first path segment",
};
/// Upstream timeout.
pub const UPSTREAM_TIMEOUT: EnvVar = EnvVar {
    name: "GATEWAY_UPSTREAM_TIMEOUT_MS",
    aliases: &[],
    default: "60000",
    help: "How long a forwarded request may take (headers of the answer); then 504",
};
/// Connect timeout.
pub const CONNECT_TIMEOUT: EnvVar = EnvVar {
    name: "GATEWAY_CONNECT_TIMEOUT_MS",
    aliases: &[],
    default: "3000",
    help: "How long connecting to a service may take; then 502",
};

/// The suite's services on their `make up` ports: each context path where its binary
/// serves it (pgr also serves the workflow, MDMS, idgen, boundary, localization, filestore and user APIs; program
/// the iFIX master data).
pub const DEFAULT_ROUTES: &str = concat!(
    "/pgr-services=http://127.0.0.1:8081,",
    "/egov-workflow-v2=http://127.0.0.1:8081,",
    "/egov-mdms-service=http://127.0.0.1:8081,",
    "/mdms-v2=http://127.0.0.1:8081,",
    "/egov-idgen=http://127.0.0.1:8081,",
    "/boundary-service=http://127.0.0.1:8081,",
    "/egov-location=http://127.0.0.1:8081,",
    "/user=http://127.0.0.1:8081,",
    "/user-otp=http://127.0.0.1:8081,",
    "/localization=http://127.0.0.1:8081,",
    "/filestore=http://127.0.0.1:8081,",
    "/sor-rates=http://127.0.0.1:8082,",
    "/program-service=http://127.0.0.1:8083,",
    "/ifix-master-data=http://127.0.0.1:8083,",
    "/adapter-master-data=http://127.0.0.1:8083,",
    "/ifix-department-entity=http://127.0.0.1:8083,",
    "/digit-exchange=http://127.0.0.1:8084,",
    "/ifms=http://127.0.0.1:8085,",
    "/ifms-adapter=http://127.0.0.1:8085,",
    "/common-persist=http://127.0.0.1:8086,",
    "/egov-indexer=http://127.0.0.1:8087"
);

/// Name, port and context path.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "gateway",
    description:
        "The suite's front door: every context path on one port, forwarded to its service.",
    default_port: 8080,
    default_context_path: "",
    env: &[&[ROUTES, UPSTREAM_TIMEOUT, CONNECT_TIMEOUT]],
};

/// A bad route table.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An entry is not `<context>=<url>`.
    #[error("route '{0}': expected <context path>=<http(s) base URL>")]
    Malformed(String),
    /// A context path that is not one path segment.
    #[error("route '{0}': a context path is one segment, like /pgr-services")]
    Context(String),
    /// Two entries for one context path.
    #[error("context path {0} is routed twice")]
    Duplicate(String),
    /// A timeout that is not a number of milliseconds.
    #[error("{0} must be a number of milliseconds")]
    Timeout(&'static str),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
}

/// One route: requests under `context` go to `upstream` (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `/pgr-services`.
    pub context: String,
    /// `http://127.0.0.1:8081`.
    pub upstream: String,
}

/// Parses a route table (`/a=http://host:1,/b=http://host:2`).
pub fn parse_routes(raw: &str) -> Result<Vec<Route>, RouteError> {
    let mut routes: Vec<Route> = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (context, upstream) = entry
            .split_once('=')
            .ok_or_else(|| RouteError::Malformed(entry.to_owned()))?;
        let context = context.trim().trim_end_matches('/');
        let upstream = upstream.trim().trim_end_matches('/');
        if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
            return Err(RouteError::Malformed(entry.to_owned()));
        }
        let segment = context.strip_prefix('/').unwrap_or("");
        if segment.is_empty()
            || !segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(RouteError::Context(entry.to_owned()));
        }
        if routes.iter().any(|r| r.context == context) {
            return Err(RouteError::Duplicate(context.to_owned()));
        }
        routes.push(Route {
            context: context.to_owned(),
            upstream: upstream.to_owned(),
        });
    }
    Ok(routes)
}

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Routes.
    pub routes: Vec<Route>,
    /// Answer timeout.
    pub upstream_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl GatewaySettings {
    /// From the environment.
    pub fn from_env(env: &Env) -> Result<Self, RouteError> {
        let ms = |var: &EnvVar| -> Result<Duration, RouteError> {
            env.get_or_default(var)
                .trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| RouteError::Timeout(var.name))
        };
        Ok(Self {
            routes: parse_routes(&env.get_or_default(&ROUTES))?,
            upstream_timeout: ms(&UPSTREAM_TIMEOUT)?,
            connect_timeout: ms(&CONNECT_TIMEOUT)?,
        })
    }
}

#[derive(Clone)]
struct Forwarder {
    client: reqwest::Client,
    requests: IntCounterVec,
}

/// The routes of the table, each forwarding to its service.
pub fn router(settings: &GatewaySettings, metrics: &Metrics) -> Result<Router, RouteError> {
    let client = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.upstream_timeout)
        // A redirect is the client's to follow, as through any proxy.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| RouteError::Client(e.to_string()))?;
    let requests = IntCounterVec::new(
        Opts::new(
            "gateway_upstream_requests_total",
            "Requests forwarded, by context path and outcome (answered, unreachable, timeout)",
        ),
        &["context", "outcome"],
    )
    .map_err(|e| RouteError::Client(e.to_string()))?;
    metrics.register(Box::new(requests.clone()));
    let forwarder = Forwarder { client, requests };
    let mut router = Router::new();
    for route in &settings.routes {
        let handler = {
            let (forwarder, route) = (forwarder.clone(), Arc::new(route.clone()));
            move |request: Request| {
                let (forwarder, route) = (forwarder.clone(), route.clone());
                async move { forwarder.forward(&route, request).await }
            }
        };
        router = router
            .route(&route.context, any(handler.clone()))
            .route(&format!("{}/{{*rest}}", route.context), any(handler));
    }
    Ok(router)
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and `host`.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if !hop_by_hop(name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

fn unreachable(status: StatusCode, message: String) -> Response {
    ApiError::new(
        status,
        vec![ErrorDetail::new(
            digit_core::error::codes::RESOURCE_ACCESS,
            message,
        )],
    )
    .into_response()
}

impl Forwarder {
    async fn forward(&self, route: &Route, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let url = format!("{}{path}", route.upstream);
        let mut headers = end_to_end(&parts.headers);
        if let Some(host) = parts.headers.get(header::HOST) {
            headers.insert("x-forwarded-host", host.clone());
        }
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        let outgoing = self
            .client
            .request(parts.method.clone(), &url)
            .headers(headers)
            .body(reqwest::Body::wrap_stream(body.into_data_stream()));
        match outgoing.send().await {
            Ok(answer) => {
                self.count(route, "answered");
                let status = answer.status();
                let headers = end_to_end(answer.headers());
                let stream = answer.bytes_stream().map_err(std::io::Error::other);
                let mut response = Response::new(Body::from_stream(stream));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                response
            }
            Err(e) if e.is_timeout() => {
                self.count(route, "timeout");
                tracing::warn!(context = %route.context, error = %e, "Service did not answer in time.");
                unreachable(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("{} did not answer in time", route.context),
                )
            }
            Err(e) => {
                self.count(route, "unreachable");
                tracing::warn!(context = %route.context, upstream = %route.upstream, error = %e, "Service unreachable.");
                unreachable(
                    StatusCode::BAD_GATEWAY,
                    format!("The service of {} cannot be reached", route.context),
                )
            }
        }
    }

    fn count(&self, route: &Route, outcome: &str) {
        self.requests
            .with_label_values(&[route.context.as_str(), outcome])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_parses() {
        let routes = parse_routes(DEFAULT_ROUTES).unwrap();
        assert!(routes
            .iter()
            .any(|r| r.context == "/ifix-master-data" && r.upstream == "http://127.0.0.1:8083"));
        assert_eq!(routes.len(), DEFAULT_ROUTES.split(',').count());
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(matches!(parse_routes("/a"), Err(RouteError::Malformed(_))));
        assert!(matches!(
            parse_routes("/a=ftp://x"),
            Err(RouteError::Malformed(_))
        ));
        assert!(matches!(
            parse_routes("/a/b=http://x"),
            Err(RouteError::Context(_))
        ));
        assert!(matches!(
            parse_routes("/=http://x"),
            Err(RouteError::Context(_))
        ));
        assert!(matches!(
            parse_routes("/a=http://x,/a/=http://y"),
            Err(RouteError::Duplicate(_))
        ));
        assert_eq!(
            parse_routes(" /a/ = http://x/ ").unwrap(),
            vec![Route {
                context: "/a".into(),
                upstream: "http://x".into()
            }]
        );
    }
}
