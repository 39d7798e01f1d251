//! Bootstrap: the `--help` CLI, the HTTP server with `<ctx>/health` (liveness),
//! `<ctx>/health/ready` (readiness, see [`crate::readiness`]) and `<ctx>/metrics`,
//! correlation-id spans, body and time limits, DIGIT-shaped 404/500, and graceful
//! shutdown on SIGTERM/SIGINT that drains in-flight requests, then runs the service's
//! shutdown hooks (e.g. flushing the Kafka producer).

use crate::config::{help_text, ServiceInfo, ServiceSettings};
use crate::error::ApiError;
use crate::gate::CORRELATION_HEADER;
use crate::metrics::{self, Metrics};
use crate::readiness::{self, Readiness};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use digit_core::ErrorDetail;
use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Handles `--help`/`--version`. `Some(code)` means: exit now with it.
pub fn handle_cli(info: &ServiceInfo) -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.first().map(String::as_str) {
        None => return None,
        Some("--help" | "-h" | "help") => help_text(info),
        Some("--version" | "-V") => format!("{} {}\n", info.name, env!("CARGO_PKG_VERSION")),
        Some(other) => {
            eprintln!("unknown argument '{other}'; see --help");
            return Some(ExitCode::from(2));
        }
    };
    use std::io::Write;
    let _ = std::io::stdout().write_all(out.as_bytes());
    Some(ExitCode::SUCCESS)
}

/// A shutdown signal that many tasks can wait on (SIGTERM, SIGINT, or [`Shutdown::trigger`]).
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    /// Triggers it on SIGTERM or SIGINT (spawns a listener task).
    pub fn on_os_signals(self) -> Self {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_os_signal().await;
            tracing::info!("Shutdown signal received.");
            this.trigger();
        });
        self
    }

    /// Triggers shutdown.
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }

    /// True once triggered.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Completes when shutdown is triggered.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

async fn wait_for_os_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Adds `<ctx>/health`, `<ctx>/metrics` and the cross-cutting layers to `routes`.
///
/// `routes` carry their full paths (a service nests its own under its context path; shared
/// routers such as idgen's mount at their upstream context).
/// The readiness endpoint has no checks here; [`app_with_readiness`] adds them.
pub fn app(settings: &ServiceSettings, metrics: &Metrics, routes: Router) -> Router {
    app_with_readiness(settings, metrics, Readiness::default(), routes)
}

/// [`app`] with the checks `<ctx>/health/ready` runs (Postgres, broker, workers …).
pub fn app_with_readiness(
    settings: &ServiceSettings,
    metrics: &Metrics,
    readiness: Readiness,
    routes: Router,
) -> Router {
    let ctx = &settings.context_path;
    let ops = Router::new()
        .route(&format!("{ctx}/health"), get(health))
        .route(&format!("{ctx}/metrics"), get(metrics::endpoint))
        .with_state(metrics.clone());
    let ready = Router::new()
        .route(&format!("{ctx}/health/ready"), get(readiness::endpoint))
        .with_state(readiness);
    ops.merge(ready)
        .merge(routes)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::track))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, settings.request_timeout))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| panic_response()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let correlation = req.headers().get(CORRELATION_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), correlation_id = %correlation)
            }),
        )
        .layer(axum::middleware::from_fn(correlation))
        .layer(axum::middleware::from_fn(crate::unread::close_if_unread))
}

/// Gives every request a correlation id header (kept if the client sent one) and echoes it.
async fn correlation(mut request: Request, next: axum::middleware::Next) -> Response {
    let id = request
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let id = match id {
        Some(id) => id,
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            if let Ok(v) = HeaderValue::from_str(&id) {
                request.headers_mut().insert(CORRELATION_HEADER, v);
            }
            id
        }
    };
    let mut response = next.run(request).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .entry(CORRELATION_HEADER)
            .or_insert(v);
    }
    response
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "UP"}))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        vec![ErrorDetail::new(
            "ResourceNotFoundException",
            format!("No route for {} {}", request.method(), request.uri().path()),
        )],
    )
}

fn panic_response() -> Response {
    tracing::error!("Handler panicked.");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        vec![ErrorDetail::new(
            digit_core::error::codes::INTERNAL,
            "An unhandled exception occurred on the server",
        )],
    )
    .into_response()
}

/// Serves `app` until `shutdown` fires, then drains in-flight requests for at most
/// `settings.shutdown_timeout`, then awaits `on_shutdown` (bounded by the same timeout).
pub async fn serve<F>(
    settings: &ServiceSettings,
    app: Router,
    shutdown: Shutdown,
    on_shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let addr: SocketAddr = format!("{}:{}", settings.address, settings.port)
        .parse()
        .map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad bind address: {e}"),
            )
        })?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(service = settings.name, %addr, context_path = %settings.context_path, "Listening.");
    serve_on(listener, settings, app, shutdown, on_shutdown).await
}

/// [`serve`] on an already bound listener (tests bind port 0).
pub async fn serve_on<F>(
    listener: tokio::net::TcpListener,
    settings: &ServiceSettings,
    app: Router,
    shutdown: Shutdown,
    on_shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let grace = settings.shutdown_timeout;
    let drain_signal = shutdown.clone();
    let server =
        axum::serve(listener, app).with_graceful_shutdown(async move { drain_signal.wait().await });
    let deadline = async {
        shutdown.wait().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result?,
        _ = deadline => tracing::warn!("In-flight requests did not finish within the shutdown timeout."),
    }
    if tokio::time::timeout(grace, on_shutdown).await.is_err() {
        tracing::warn!("Shutdown hooks did not finish within the shutdown timeout.");
    }
    tracing::info!(service = settings.name, "Stopped.");
    Ok(())
}
