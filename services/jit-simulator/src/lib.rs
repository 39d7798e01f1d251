//! The JIT-FS simulator: the one mock the suite ships, standing in for Odisha's treasury
//! ("Just-in-Time" fund services), which the IFMS adapter calls and no developer machine can
//! reach.
//!
//! It speaks the treasury's protocol unchanged (server side of spec A2.4), so the adapter's
//! real client ([`digit_jit::JitClient`]) is what talks to it:
//!
//! * `POST /webservices/jitfs/v1.0/authenticate` — headers `clientId`/`clientSecret` must
//!   match the configured pair (else HTTP 401); body `{"appKey": base64(RSA-OAEP(app key))}`
//!   under the simulator's public key; answers `{"authToken", "sek": base64(AES(app key,
//!   SEK))}`.
//! * `POST /webservices/jitfs/v1.0/get-jit-service-data` — header `authToken`; body
//!   `{"params": base64(AES(SEK, request)), "rek": base64(AES(SEK, REK))}`; answers the bare
//!   base64(AES(REK, response JSON)). An unknown or expired session answers HTTP 400 with
//!   text containing "No valid session encryption key", as JIT does.
//!
//! What each service answers is decided by [`treasury`] from the [`scenario`]: allotments
//! for VA, which IFSCs are wrong, which accounts the SSU rejects, which payments bounce.
//! Everything it received is kept in memory and shown by the admin endpoints:
//!
//! * `GET /simulator/scenario`, `POST /simulator/scenario` (replace; body = scenario JSON)
//! * `POST /simulator/sessions/_expire` (every session; the next call gets the 400)
//! * `GET /simulator/state` (authentications, calls per service id, PIs and CORs received)
//! * `POST /simulator/state/_reset` (forget PIs, CORs and counts; the scenario stays)
//! * `GET /health`
//!
//! Tests start it in-process with [`serve`] on `127.0.0.1:0`.

pub mod scenario;
pub mod settings;
pub mod treasury;

use crate::scenario::Scenario;
use crate::treasury::{StateSnapshot, Treasury};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use digit_jit::wire::{headers, AuthRequest, AuthResponse, ServiceCall};
use digit_jit::{AesKey, JitPrivateKey, JitRequest, JitResponse, NO_VALID_SESSION};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Authenticate path.
pub const AUTHENTICATE_PATH: &str = "/webservices/jitfs/v1.0/authenticate";
/// Service-data path.
pub const SERVICE_PATH: &str = "/webservices/jitfs/v1.0/get-jit-service-data";

/// The dev private key committed in `configs/ifms/` (its public half is the client's default).
pub const DEV_PRIVATE_KEY_PEM: &str =
    include_str!("../../../configs/ifms/jit-simulator-private.pem");
/// The shipped scenario `configs/ifms/jit-scenario.json`.
pub const DEV_SCENARIO_JSON: &str = include_str!("../../../configs/ifms/jit-scenario.json");

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Accepted `clientId`.
    pub client_id: String,
    /// Accepted `clientSecret`.
    pub client_secret: String,
    /// The treasury's private key (the client encrypts app keys under its public half).
    pub private_key: JitPrivateKey,
    /// The initial scenario.
    pub scenario: Scenario,
    /// Session lifetime (a scenario's `sessionTimeoutMs` overrides it).
    pub session_timeout: Duration,
}

impl SimulatorConfig {
    /// The dev setup: credentials `digit-rs-dev` / `digit-rs-dev-secret`, the committed dev
    /// key, the shipped scenario, 30-minute sessions.
    pub fn dev() -> Result<Self, String> {
        Ok(Self {
            client_id: settings::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: settings::DEFAULT_CLIENT_SECRET.to_owned(),
            private_key: JitPrivateKey::from_pem(DEV_PRIVATE_KEY_PEM).map_err(|e| e.to_string())?,
            scenario: Scenario::from_json(DEV_SCENARIO_JSON).map_err(|e| e.to_string())?,
            session_timeout: Duration::from_millis(1_800_000),
        })
    }
}

struct Session {
    sek: AesKey,
    created: Instant,
}

struct Inner {
    treasury: Treasury,
    sessions: HashMap<String, Session>,
}

struct Shared {
    client_id: String,
    client_secret: String,
    private_key: JitPrivateKey,
    session_timeout: Duration,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn timeout(inner: &Inner, default: Duration) -> Duration {
        inner
            .treasury
            .scenario
            .session_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(default)
    }
}

/// A running simulator. Dropping it shuts the server down.
pub struct SimulatorHandle {
    base_url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for SimulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SimulatorHandle {
    /// `http://127.0.0.1:<port>` (no trailing slash): the client's `IFMS_JIT_HOSTNAME`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Replaces the scenario (what was received is kept).
    pub fn set_scenario(&self, scenario: Scenario) {
        self.shared.lock().treasury.scenario = scenario;
    }

    /// The scenario in force.
    pub fn scenario(&self) -> Scenario {
        self.shared.lock().treasury.scenario.clone()
    }

    /// Ends every session; returns how many there were.
    pub fn expire_sessions(&self) -> usize {
        let mut inner = self.shared.lock();
        let n = inner.sessions.len();
        inner.sessions.clear();
        n
    }

    /// What was received so far.
    pub fn state(&self) -> StateSnapshot {
        let inner = self.shared.lock();
        inner.treasury.snapshot(inner.sessions.len())
    }

    /// Forgets PIs, CORs and counts.
    pub fn reset(&self) {
        self.shared.lock().treasury.reset();
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves the simulator on `listener` until the handle is dropped or shut down.
pub async fn serve(listener: TcpListener, config: SimulatorConfig) -> SimulatorHandle {
    let base_url = match listener.local_addr() {
        Ok(addr) if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        Ok(addr) => format!("http://{addr}"),
        Err(_) => "http://127.0.0.1".to_owned(),
    };
    let shared = Arc::new(Shared {
        client_id: config.client_id,
        client_secret: config.client_secret,
        private_key: config.private_key,
        session_timeout: config.session_timeout,
        inner: Mutex::new(Inner {
            treasury: Treasury::new(config.scenario),
            sessions: HashMap::new(),
        }),
    });
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(shared.clone());
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "JIT simulator server failed.");
        }
    });
    SimulatorHandle {
        base_url,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(AUTHENTICATE_PATH, post(authenticate))
        .route(SERVICE_PATH, post(service))
        .route("/simulator/scenario", get(get_scenario).post(set_scenario))
        .route("/simulator/sessions/_expire", post(expire_sessions))
        .route("/simulator/state", get(state))
        .route("/simulator/state/_reset", post(reset))
        .route("/health", get(|| async { Json(json!({"status": "UP"})) }))
        .with_state(shared)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, body.into()).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn authenticate(State(s): State<Arc<Shared>>, hdrs: HeaderMap, body: Bytes) -> Response {
    let id = header(&hdrs, headers::CLIENT_ID).unwrap_or_default();
    let secret = header(&hdrs, headers::CLIENT_SECRET).unwrap_or_default();
    if id != s.client_id || secret != s.client_secret {
        tracing::info!("JIT simulator: authentication refused (client credentials).");
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errorMsg": "Invalid clientId or clientSecret"})),
        )
            .into_response();
    }
    let Ok(request) = serde_json::from_slice::<AuthRequest>(&body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Body must be {\"appKey\": \"...\"}",
        );
    };
    let app_key = match s.private_key.decrypt_app_key(&request.app_key) {
        Ok(key) => key,
        Err(_) => return text(StatusCode::BAD_REQUEST, "appKey cannot be decrypted"),
    };
    let sek = AesKey::random();
    let auth_token = AesKey::random().to_base64();
    let answer = AuthResponse {
        auth_token: auth_token.clone(),
        sek: app_key.wrap(&sek),
    };
    let mut inner = s.lock();
    let timeout = Shared::timeout(&inner, s.session_timeout);
    inner.sessions.retain(|_, v| v.created.elapsed() < timeout);
    inner.sessions.insert(
        auth_token,
        Session {
            sek,
            created: Instant::now(),
        },
    );
    inner.treasury.authentications += 1;
    drop(inner);
    Json(answer).into_response()
}

async fn service(State(s): State<Arc<Shared>>, hdrs: HeaderMap, body: Bytes) -> Response {
    let token = header(&hdrs, headers::AUTH_TOKEN)
        .unwrap_or_default()
        .to_owned();
    let (sek, delay) = {
        let inner = s.lock();
        let timeout = Shared::timeout(&inner, s.session_timeout);
        let sek = inner
            .sessions
            .get(&token)
            .filter(|session| session.created.elapsed() < timeout)
            .map(|session| session.sek.clone());
        (sek, inner.treasury.scenario.delay_ms)
    };
    let Some(sek) = sek else {
        return text(
            StatusCode::BAD_REQUEST,
            format!("{NO_VALID_SESSION} found for the authToken; authenticate again"),
        );
    };
    let Ok(call) = serde_json::from_slice::<ServiceCall>(&body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Body must be {\"params\": \"...\", \"rek\": \"...\"}",
        );
    };
    let Ok(rek) = sek.unwrap_key(&call.rek) else {
        return text(
            StatusCode::BAD_REQUEST,
            "rek cannot be decrypted with the session key",
        );
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let response = match sek.decrypt_base64(&call.params) {
        Err(_) => JitResponse::error(None, "params cannot be decrypted with the session key"),
        Ok(plain) => match serde_json::from_slice::<JitRequest>(&plain) {
            Err(e) => JitResponse::error(None, format!("Invalid request: {e}")),
            Ok(request) => {
                let answer = s
                    .lock()
                    .treasury
                    .handle(request.service_id, &request.params);
                tracing::info!(
                    service_id = %request.service_id,
                    success = answer.succeeded(),
                    "JIT simulator answered."
                );
                answer
            }
        },
    };
    match serde_json::to_vec(&response) {
        Ok(json) => text(StatusCode::OK, rek.encrypt_base64(&json)),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot serialise the answer",
        ),
    }
}

async fn get_scenario(State(s): State<Arc<Shared>>) -> Response {
    Json(s.lock().treasury.scenario.clone()).into_response()
}

async fn set_scenario(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|t| Scenario::from_json(t).map_err(|e| e.to_string()));
    match parsed {
        Ok(scenario) => {
            s.lock().treasury.scenario = scenario;
            Json(json!({"status": "replaced"})).into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response(),
    }
}

async fn expire_sessions(State(s): State<Arc<Shared>>) -> Response {
    let mut inner = s.lock();
    let n = inner.sessions.len();
    inner.sessions.clear();
    Json(json!({"expired": n})).into_response()
}

async fn state(State(s): State<Arc<Shared>>) -> Response {
    let inner = s.lock();
    Json(inner.treasury.snapshot(inner.sessions.len())).into_response()
}

async fn reset(State(s): State<Arc<Shared>>) -> Response {
    s.lock().treasury.reset();
    Json(json!({"status": "reset"})).into_response()
}
