//! The program service (iFIX) on a fresh database, as `make up` runs it, for the
//! `program_*` tests: its routes and the layers `digit_runtime::run` serves with, the
//! outbox relay registered but **not** running unless the test starts the workers
//! ([`ProgramStack::start_workers`]), and helpers to build iFIX envelopes.

use crate::{database, kafka, platform, send, tag, token, user, vars};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_runtime::Platform;
use digit_store::TestDb;
use serde_json::{json, Value};

/// PII key of the tests (32 zero-to-31 bytes).
pub const PII_KEYS: &str = "t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// This installation's exchange URL in the tests (the MUKTA row of `exchange.ExchangeServers`).
pub const OWN_EXCHANGE: &str = "http://127.0.0.1:8084/digit-exchange";
/// The other installation's (the IFMS row).
pub const OTHER_EXCHANGE: &str = "http://127.0.0.1:8094/digit-exchange";
/// `program@<this installation>`.
pub fn own_id() -> String {
    format!("program@{OWN_EXCHANGE}")
}
/// `program@<the other installation>`.
pub fn other_id() -> String {
    format!("program@{OTHER_EXCHANGE}")
}

/// A running program service.
pub struct ProgramStack {
    /// The API (behind the gate unless started open).
    pub app: Router,
    /// Its platform (pool, workers, metrics).
    pub platform: Platform,
    /// Topic tag (event topics are `<name>-<tag>`).
    pub tag: String,
    /// The database (declared last: dropped after the service that uses it).
    pub db: TestDb,
}

impl ProgramStack {
    /// Starts it with the default settings (gate on).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts it with extra settings (e.g. `("ADAPTER_HOST", url)`).
    pub async fn start_with(settings: &[(&str, &str)]) -> Self {
        let needs = program::NEEDS;
        let db = database(&needs).await;
        Self::start_on(db, settings).await
    }

    /// Starts it on an existing database (a restart after a crash).
    pub async fn start_on(db: TestDb, settings: &[(&str, &str)]) -> Self {
        let needs = program::NEEDS;
        let tag = tag();
        let mut env = vars(&[
            ("PROGRAM_PII_KEYS", PII_KEYS.to_owned()),
            ("EXCHANGE_SERVICE_EXTERNAL_URL", OWN_EXCHANGE.to_owned()),
            ("PROGRAM_EVENTS_TOPIC", format!("ifix-program-events-{tag}")),
            (
                "SANCTION_EVENTS_TOPIC",
                format!("ifix-sanction-events-{tag}"),
            ),
            (
                "ALLOCATION_EVENTS_TOPIC",
                format!("ifix-allocation-events-{tag}"),
            ),
            (
                "DISBURSE_EVENTS_TOPIC",
                format!("ifix-disburse-events-{tag}"),
            ),
            ("OUTBOX_POLL_INTERVAL_MS", "50".to_owned()),
        ]);
        env.extend(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let _ = kafka();
        let platform = platform(&program::INFO, needs, &db, env).await;
        let routes = program::routes(platform.clone()).await.unwrap();
        let app = digit_runtime::app(&platform, &needs, routes).await.unwrap();
        Self {
            app,
            platform,
            tag,
            db,
        }
    }

    /// Starts the registered workers (the outbox relay); they stop with the platform's
    /// shutdown signal ([`ProgramStack::stop`]).
    pub fn start_workers(&self) -> digit_runtime::RunningWorkers {
        self.platform.workers.start(&self.platform.shutdown)
    }

    /// Triggers the shutdown signal (workers return).
    pub fn stop(&self) {
        self.platform.shutdown.trigger();
    }

    /// POSTs `body` to `/program-service/v1{path}` with `as_user`'s token as
    /// `Authorization: Bearer` (iFIX envelopes have no RequestInfo).
    pub async fn post(
        &self,
        path: &str,
        as_user: Option<&UserInfo>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = Request::post(format!("/program-service/v1{path}"))
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

    /// [`ProgramStack::post`] as the program administrator.
    pub async fn admin(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post(path, Some(&program_admin()), body).await
    }
}

/// The department's program administrator (all program endpoints at `pg`).
pub fn program_admin() -> UserInfo {
    user(
        "55555555-5555-4555-8555-000000000001",
        UserType::Employee,
        &[("IFIX_PROGRAM_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

/// The local exchange's service identity.
pub fn exchange_identity() -> UserInfo {
    user(
        "55555555-5555-4555-8555-000000000002",
        UserType::System,
        &[("IFIX_EXCHANGE", "pg")],
    )
}

/// A read-only user.
pub fn viewer() -> UserInfo {
    user(
        "55555555-5555-4555-8555-000000000003",
        UserType::Employee,
        &[("IFIX_VIEWER", "pg")],
    )
}

/// An iFIX envelope: `{signature, header, message}`.
pub fn envelope(
    message_type: &str,
    action: &str,
    sender: &str,
    receiver: &str,
    message: Value,
) -> Value {
    json!({
        "signature": "sig",
        "header": {
            "message_id": uuid::Uuid::new_v4().to_string(),
            "message_ts": 1708428280,
            "message_type": message_type,
            "action": action,
            "sender_id": sender,
            "sender_uri": null,
            "receiver_id": receiver,
            "is_msg_encrypted": false
        },
        "message": message
    })
}

/// Sums of the ledger rows of `sanction_id`: (Σ allocated_delta, Σ available_delta).
pub async fn ledger_sums(db: &TestDb, sanction_id: &str) -> (String, String) {
    let row: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT SUM(allocated_delta)::text, SUM(available_delta)::text
           FROM eg_program_transaction_logs WHERE sanction_id = $1",
    )
    .bind(sanction_id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    (
        row.0.unwrap_or_else(|| "0".into()),
        row.1.unwrap_or_else(|| "0".into()),
    )
}
