//! digit-exchange on a fresh database and topics of its own, as `make up` runs it, for the
//! `exchange_*` tests: `digit_exchange::routes` on a `digit_runtime::Platform` built from
//! the test's `Env`, the layers `digit_runtime::run` serves with, **served on a real port**
//! (another exchange delivers to it over HTTP) and its workers (the delivery consumer)
//! running. Its identity `SERVICE_HOST_URL` is `http://127.0.0.1:<port>/digit-exchange`.
//!
//! [`LocalService`] stands in for the program service (or any local service): an axum
//! server on `127.0.0.1:0` recording what it receives and answering with a status the test
//! sets.

use crate::{database, platform, repo_root, send, tag, token, user, vars};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_runtime::{Platform, RunningWorkers};
use digit_store::TestDb;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The sample key pair of upstream's tests (`configs/exchange`), number 1 or 2.
pub fn sample_key(n: u8) -> (String, String) {
    let name = |kind: &str| match n {
        1 => format!("sample_{kind}_key1.pem"),
        _ => format!("sample_{kind}_key-2.pem"),
    };
    let read =
        |f: String| std::fs::read_to_string(repo_root().join("configs/exchange").join(f)).unwrap();
    (read(name("private")), read(name("public")))
}

/// A local service's identity at its exchange (role `IFIX_PROGRAM_SERVICE`).
pub fn program_service() -> UserInfo {
    user(
        "66666666-6666-4666-8666-000000000001",
        UserType::System,
        &[("IFIX_PROGRAM_SERVICE", "pg")],
    )
}

/// The exchange's identity at its local services (role `IFIX_EXCHANGE`).
pub fn exchange_identity() -> UserInfo {
    user(
        "66666666-6666-4666-8666-000000000002",
        UserType::System,
        &[("IFIX_EXCHANGE", "pg")],
    )
}

/// The registry administrator.
pub fn exchange_admin() -> UserInfo {
    user(
        "66666666-6666-4666-8666-000000000003",
        UserType::Employee,
        &[("EXCHANGE_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

/// One request a [`LocalService`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path (e.g. `/program-service/v1/program/_create`).
    pub path: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

/// A stand-in local service on a real port.
#[derive(Clone)]
pub struct LocalService {
    /// `http://127.0.0.1:<port>/program-service/v1/` (the endpoints map value).
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl LocalService {
    /// Starts one answering 200 (the request echoed).
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (r, s) = (received.clone(), status.clone());
        let app = Router::new().fallback(move |headers: HeaderMap, req: Request<Body>| {
            let (r, s) = (r.clone(), s.clone());
            async move {
                let path = req.uri().path().to_owned();
                let bytes = http_body_util::BodyExt::collect(req.into_body())
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                r.lock().unwrap().push(Received {
                    path,
                    authorization: headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    body: body.clone(),
                });
                let code = StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                (code, axum::Json(body))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://127.0.0.1:{port}/program-service/v1/"),
            received,
            status,
        }
    }

    /// Answers every further request with `status`.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A URL where nothing listens (a remote exchange that is down).
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/digit-exchange")
}

/// A running exchange.
pub struct ExchangeStack {
    /// The API (in process; the same app is served on [`ExchangeStack::host_url`]).
    pub app: Router,
    /// Its platform (pool, workers, shutdown).
    pub platform: Platform,
    /// `http://127.0.0.1:<port><context>` — its identity and address.
    pub host_url: String,
    /// Its context path (`SERVER_CONTEXT_PATH`, default `/digit-exchange`).
    pub context: String,
    /// Its signing key pair (PEM).
    pub private_pem: String,
    /// Public key PEM (what its peers register).
    pub public_pem: String,
    /// The bearer token it sends to its local services.
    pub outbound_token: String,
    /// Topic tag: topics are `exchange-topic-<tag>`, `exchange-error-queue-<tag>`,
    /// `exchange-event-log-queue-<tag>`.
    pub tag: String,
    _workers: RunningWorkers,
    /// The database (declared last: dropped after the service that uses it).
    pub db: TestDb,
}

impl Drop for ExchangeStack {
    fn drop(&mut self) {
        self.platform.shutdown.trigger();
    }
}

impl ExchangeStack {
    /// Starts an exchange signing with sample key `key` (1 or 2), its local `program`
    /// service at `local` (a base URL), with extra `settings` (`SERVER_CONTEXT_PATH`
    /// moves its routes and its identity).
    pub async fn start(key: u8, local: &str, settings: &[(&str, &str)]) -> Self {
        if std::env::var_os("RUST_LOG").is_some() {
            digit_service::telemetry::init("e2e", digit_service::config::LogFormat::Pretty);
        }
        let needs = digit_exchange::NEEDS;
        let db = database(&needs).await;
        let tag = tag();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let context = settings
            .iter()
            .find(|(k, _)| *k == "SERVER_CONTEXT_PATH")
            .map_or("/digit-exchange", |(_, v)| *v)
            .to_owned();
        let host_url = format!("http://127.0.0.1:{port}{context}");
        let (private_pem, public_pem) = sample_key(key);
        let outbound_token = token(&exchange_identity());
        let mut env = vars(&[
            ("SERVER_PORT", port.to_string()),
            ("SERVICE_HOST_URL", host_url.clone()),
            (
                "APP_RECEIVER_ENDPOINTS",
                json!({ "program": local }).to_string(),
            ),
            ("APP_EXCHANGE_TOPIC_NAME", format!("exchange-topic-{tag}")),
            (
                "APP_ERROR_TOPIC_NAME",
                format!("exchange-error-queue-{tag}"),
            ),
            (
                "APP_EVENTS_LOG_TOPIC_NAME",
                format!("exchange-event-log-queue-{tag}"),
            ),
            ("EXCHANGE_KAFKA_GROUP_ID", format!("e2e-exchange-{tag}")),
            ("APP_AUTH_PRIVATE_KEY", private_pem.clone()),
            ("EXCHANGE_OUTBOUND_TOKEN", outbound_token.clone()),
            ("EXCHANGE_DELIVERY_BACKOFF_MS", "20".to_owned()),
            ("EXCHANGE_DELIVERY_TIMEOUT_MS", "3000".to_owned()),
            ("SHUTDOWN_TIMEOUT_SECONDS", "2".to_owned()),
            ("KAFKA_SESSION_TIMEOUT_MS", "6000".to_owned()),
        ]);
        env.extend(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let platform = platform(&digit_exchange::INFO, needs, &db, env).await;
        let routes = digit_exchange::routes(platform.clone()).await.unwrap();
        let app = digit_runtime::app(&platform, &needs, routes).await.unwrap();
        let workers = platform.workers.start(&platform.shutdown);
        {
            let (app, settings, shutdown) = (
                app.clone(),
                platform.settings.clone(),
                platform.shutdown.clone(),
            );
            tokio::spawn(async move {
                digit_service::server::serve_on(listener, &settings, app, shutdown, async {}).await
            });
        }
        Self {
            app,
            platform,
            host_url,
            context,
            private_pem,
            public_pem,
            outbound_token,
            tag,
            _workers: workers,
            db,
        }
    }

    /// `program@<this exchange>`.
    pub fn program_id(&self) -> String {
        format!("program@{}", self.host_url)
    }

    /// Topic names.
    pub fn topic(&self, name: &str) -> String {
        format!("{name}-{}", self.tag)
    }

    /// Registers a peer exchange's key: through the registry API as the administrator on
    /// the default context path (the shipped role-actions name `/digit-exchange/…`
    /// paths), through the registry store on another one (before any message is handled,
    /// so the service's cache holds nothing yet).
    pub async fn register(&self, host_url: &str, public_pem: &str, seal_required: bool) -> Value {
        let row = json!({
            "name": "peer", "description": "peer exchange", "host_url": host_url,
            "public_key": public_pem, "seal_required": seal_required,
        });
        if self.context != "/digit-exchange" {
            let registry =
                digit_exchange::registry::Registry::new(self.db.pool().clone(), Duration::ZERO);
            let rows = registry
                .create(vec![serde_json::from_value(row).unwrap()], "e2e")
                .await
                .unwrap();
            return serde_json::to_value(rows).unwrap();
        }
        let body = json!({
            "RequestInfo": {"apiId": "digit-exchange", "authToken": token(&exchange_admin())},
            "ExchangeServers": [row]
        });
        let req = Request::post(format!("{}/v1/registry/_create", self.context))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, bytes) = send(&self.app, req).await;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "registry _create: {answer}");
        answer
    }

    /// Registers `peer` here (and nothing there).
    pub async fn trust(&self, peer: &ExchangeStack, seal_required: bool) {
        self.register(&peer.host_url, &peer.public_pem, seal_required)
            .await;
    }

    /// POSTs `body` to `/digit-exchange/v1/exchange/<path_type>` (in process), with
    /// `as_user`'s token as `Authorization: Bearer` when given.
    pub async fn post(
        &self,
        path_type: &str,
        as_user: Option<&UserInfo>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = Request::post(format!("{}/v1/exchange/{path_type}", self.context))
            .header("content-type", "application/json");
        if let Some(u) = as_user {
            req = req.header("authorization", format!("Bearer {}", token(u)));
        }
        let (status, bytes) =
            send(&self.app, req.body(Body::from(body.to_string())).unwrap()).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `GET <context>/metrics` as text.
    pub async fn metrics(&self) -> String {
        let req = Request::get(format!("{}/metrics", self.context))
            .body(Body::empty())
            .unwrap();
        let (_, bytes) = send(&self.app, req).await;
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// POSTs over real HTTP to this exchange's URL (as another exchange does).
    pub async fn post_http(&self, path_type: &str, body: &Value) -> (StatusCode, Value) {
        http_post(&format!("{}/v1/exchange/{path_type}", self.host_url), body).await
    }
}

/// POSTs `body` as JSON over HTTP; the status and the JSON answer.
pub async fn http_post(url: &str, body: &Value) -> (StatusCode, Value) {
    let client = digit_http::HttpClient::new(
        "e2e",
        &digit_http::HttpSettings {
            retries: 0,
            ..digit_http::HttpSettings::default()
        },
        &digit_service::Metrics::new("e2e"),
    )
    .unwrap();
    match client.post(url).json(body).send().await {
        Ok(bytes) => (
            StatusCode::OK,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ),
        Err(digit_http::HttpError::Status { status, body, .. }) => (
            StatusCode::from_u16(status).unwrap(),
            serde_json::from_str(&body).unwrap_or(Value::Null),
        ),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

/// An exchange envelope `{signature, header, message: "<JSON string>"}`.
pub fn envelope(
    message_type: &str,
    action: &str,
    sender: &str,
    receiver: &str,
    message: &Value,
) -> Value {
    json!({
        "signature": null,
        "header": {
            "message_id": uuid::Uuid::new_v4().to_string(),
            "message_ts": digit_core::time::now_ms(),
            "message_type": message_type,
            "action": action,
            "sender_id": sender,
            "sender_uri": null,
            "receiver_id": receiver,
            "is_msg_encrypted": false
        },
        "message": message.to_string()
    })
}

/// A program as the program service sends it.
pub fn program_message(name: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "location_code": "pg.citya",
        "name": name,
        "start_date": 1708428280000_i64,
        "end_date": 0,
        "status": {"status_code": "ACTIVE", "status_message": null},
        "children": [{"id": "c1", "name": "child", "status": {"status_code": "ACTIVE"}}]
    })
}

/// A Kafka record read back.
#[derive(Debug, Clone)]
pub struct Record {
    /// The JSON value.
    pub value: Value,
    /// The key.
    pub key: Option<String>,
    /// The headers (lossy UTF-8).
    pub headers: Vec<(String, String)>,
}

impl Record {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Waits (bounded) for the records of `topic` that satisfy `pred`, at least `n` of them.
pub async fn topic_records(
    topic: &str,
    n: usize,
    pred: impl Fn(&Value) -> bool + Send + 'static,
    timeout: Duration,
) -> Vec<Record> {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || read_records(&topic, n, &pred, timeout))
        .await
        .unwrap()
}

fn read_records(
    topic: &str,
    n: usize,
    pred: &dyn Fn(&Value) -> bool,
    timeout: Duration,
) -> Vec<Record> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", crate::kafka().brokers)
        .set("group.id", format!("reader-{}", tag()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    while out.len() < n && started.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let v: Value =
                serde_json::from_slice(m.payload().unwrap_or_default()).unwrap_or(Value::Null);
            if pred(&v) {
                let headers = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| {
                                (
                                    h.key.to_owned(),
                                    String::from_utf8_lossy(h.value.unwrap_or_default())
                                        .into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
                out.push(Record {
                    value: v,
                    key,
                    headers,
                });
            }
        }
    }
    out
}

/// `body` (an envelope) signed — and sealed when `seal` — with `private_pem`, as an
/// exchange of ours sends it.
pub fn signed(body: &Value, private_pem: &str, seal: bool) -> Value {
    let signer = digit_exchange::security::Signer::from_pem(private_pem).unwrap();
    let mut msg = digit_exchange::api::envelope::parse_message(body).unwrap();
    msg.signature = Some(signer.sign(&msg.message));
    if seal {
        let input = digit_exchange::service::intake::seal_input(&msg);
        msg.seal = Some(digit_exchange::security::seal::seal(&signer, &input).unwrap());
    }
    msg.wire_json()
}
