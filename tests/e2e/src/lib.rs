//! Harness for cross-service tests: a fresh database, unique topics on the real broker, an
//! in-process persister running the shipped configs (topics renamed per test), and each
//! service built through its production wiring — a `digit_runtime::Platform` from an `Env`
//! of the test's own (database, topics, JWT secret, embedded MDMS), the service's `routes()`
//! and the layers `digit_runtime::run` serves with — so the tests run what `make up` runs.
//! Requests go through the router in-process (`tower::ServiceExt::oneshot`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support: fail loudly.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_core::{Role, UserInfo, UserType};
use digit_kafka::{Backoff, KafkaSettings, Producer};
use digit_mdms::{EmbeddedMdms, MdmsSource};
use digit_runtime::{Needs, Platform, PlatformBuilder};
use digit_service::config::{Env, ServiceInfo};
use digit_service::{Metrics, Shutdown};
use digit_store::TestDb;
use digit_workflow::Workflow;
use persister::domain::PersisterConfig;
use persister::metrics::PersisterMetrics;
use persister::store::consumer::{self, PersisterSettings, Writer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

pub mod exchange;
pub mod ifix;
pub mod ifms;
pub mod masters;
pub mod program;

/// JWT secret of the test gate.
pub const SECRET: &str = "e2e-test-secret";

/// Seeded users (`configs/users/pg.json`).
pub mod users {
    /// GRO of City A.
    pub const GRO: &str = "11111111-1111-4111-8111-000000000001";
    /// Field officer (PGR_LME) of City A.
    pub const LME: &str = "11111111-1111-4111-8111-000000000002";
    /// CSR of City A.
    pub const CSR: &str = "11111111-1111-4111-8111-000000000003";
    /// Supervisor of City A.
    pub const SUPERVISOR: &str = "11111111-1111-4111-8111-000000000005";
    /// Field officer of City B.
    pub const LME_CITYB: &str = "11111111-1111-4111-8111-000000000011";
    /// The auto-escalation system user.
    pub const AUTO_ESCALATION: &str = "11111111-1111-4111-8111-000000000099";
    /// A citizen.
    pub const CITIZEN: &str = "22222222-2222-4222-8222-000000000001";
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shipped master data files (`configs/mdms/**/*.json`) as v1 documents, in path
/// order, for tests that change some of them ([`EmbeddedMdms::from_documents`]).
pub fn shipped_mdms_documents() -> Vec<Value> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("configs/mdms"), &mut files);
    files.sort();
    files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect()
}

/// The broker tests use.
pub fn kafka() -> KafkaSettings {
    let mut k = KafkaSettings::new(
        std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    k.session_timeout_ms = 6000;
    k.client_id = "e2e-test".into();
    k
}

/// A short unique tag for topic and group names.
pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Topics whose name comes from MDMS (shared by every test; their consumers only touch
/// rows of their own database, so sharing is harmless).
pub const SHARED_TOPICS: &[&str] = &["pgr-auto-escalation"];

/// Renames every `fromTopic: x` to `fromTopic: x-<tag>` (except [`SHARED_TOPICS`]).
pub fn rename_topics(text: &str, tag: &str) -> String {
    text.lines()
        .map(|line| match line.split_once("fromTopic:") {
            Some((indent, topic)) if !SHARED_TOPICS.contains(&topic.trim()) => {
                format!("{indent}fromTopic: {}-{tag}", topic.trim())
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The shipped persister configs `files`, topics renamed.
pub fn persister_config(files: &[&str], tag: &str) -> PersisterConfig {
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            let path = repo_root().join("configs/persister").join(f);
            let text = std::fs::read_to_string(&path).unwrap();
            (path, rename_topics(&text, tag))
        })
        .collect();
    PersisterConfig::from_sources(texts.iter().map(|(p, t)| (p.as_path(), t.as_str()))).unwrap()
}

/// A user with roles `CODE@tenant`.
pub fn user(uuid: &str, user_type: UserType, roles: &[(&str, &str)]) -> UserInfo {
    UserInfo {
        uuid: Some(uuid.into()),
        user_name: Some(uuid.into()),
        user_type: Some(user_type),
        tenant_id: roles.first().map(|(_, t)| (*t).to_owned()),
        roles: roles
            .iter()
            .map(|(c, t)| Role {
                code: (*c).into(),
                tenant_id: Some((*t).into()),
                ..Role::default()
            })
            .collect(),
        ..UserInfo::default()
    }
}

/// A signed token for `user`.
pub fn token(user: &UserInfo) -> String {
    digit_service::jwt::mint_hs256(user, SECRET.as_bytes(), 600, None).unwrap()
}

/// The personas of the PGR workflow.
pub fn gro() -> UserInfo {
    user(
        users::GRO,
        UserType::Employee,
        &[("GRO", "pg.citya"), ("EMPLOYEE", "pg.citya")],
    )
}
/// Field officer of City A.
pub fn lme() -> UserInfo {
    user(
        users::LME,
        UserType::Employee,
        &[("PGR_LME", "pg.citya"), ("EMPLOYEE", "pg.citya")],
    )
}
/// The seeded citizen.
pub fn citizen() -> UserInfo {
    user(users::CITIZEN, UserType::Citizen, &[("CITIZEN", "pg")])
}
/// A superuser (business service management).
pub fn superuser() -> UserInfo {
    user(
        "33333333-3333-4333-8333-000000000001",
        UserType::Employee,
        &[("SUPERUSER", "pg"), ("EMPLOYEE", "pg")],
    )
}
/// The auto-escalation system user.
pub fn auto_escalation() -> UserInfo {
    user(
        users::AUTO_ESCALATION,
        UserType::System,
        &[("AUTO_ESCALATE", "pg")],
    )
}

/// Runs the persister in-process with `config` until the returned shutdown is triggered.
pub fn spawn_persister(
    pool: &sqlx::PgPool,
    config: PersisterConfig,
    group: &str,
    tag: &str,
) -> Shutdown {
    let kafka = kafka();
    let writer = Writer {
        config: Arc::new(config),
        pool: pool.clone(),
        producer: Producer::new(&kafka).unwrap(),
        settings: PersisterSettings {
            group_id: group.to_owned(),
            dead_letter_topic: format!("e2e-deadletter-{tag}"),
            bulk_enabled: true,
            batch_size: 100,
            group_commit: 100,
            backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(500)),
        },
        metrics: PersisterMetrics::new(&Metrics::new("e2e-persister")).unwrap(),
    };
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    tokio::spawn(async move { consumer::run(writer, &kafka, stop).await });
    shutdown
}

/// The services read their files at the default relative paths (`configs/users`,
/// `configs/localization`) as `make up` runs them: from the repository root.
fn enter_repo_root() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_current_dir(repo_root()).unwrap());
}

/// The platform of service `info` on `db`, as `digit_runtime::run` builds it, from an `Env`
/// of the test's own: `vars` plus the database, the broker, the JWT secret and the shipped
/// configs; MDMS is the embedded `configs/mdms`.
pub async fn platform(
    info: &'static ServiceInfo,
    needs: Needs,
    db: &TestDb,
    vars: Vec<(String, String)>,
) -> Platform {
    platform_with_mdms(info, needs, db, vars, shipped_mdms()).await
}

/// The shipped master data (`configs/mdms`).
pub fn shipped_mdms() -> Arc<dyn MdmsSource> {
    Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap())
}

/// [`platform`] on other master data (the gate and the service both read `mdms`).
pub async fn platform_with_mdms(
    info: &'static ServiceInfo,
    needs: Needs,
    db: &TestDb,
    vars: Vec<(String, String)>,
    mdms: Arc<dyn MdmsSource>,
) -> Platform {
    enter_repo_root();
    let root = repo_root();
    let path = |p: &str| root.join(p).display().to_string();
    let mut pairs: Vec<(String, String)> = vec![
        ("JWT_SECRET".into(), SECRET.into()),
        ("DB_URL".into(), db.url().into()),
        ("KAFKA_BOOTSTRAP_SERVERS".into(), kafka().brokers),
        ("MDMS_CONFIG_PATH".into(), path("configs/mdms")),
        ("USER_CONFIG_PATH".into(), path("configs/users")),
        (
            "LOCALIZATION_CONFIG_PATH".into(),
            path("configs/localization"),
        ),
        ("WORKFLOW_CONFIG_PATH".into(), path("configs/workflow")),
    ];
    pairs.extend(vars);
    PlatformBuilder::new(info, needs, Env::from_pairs(pairs))
        .mdms(mdms)
        .build()
        .await
        .unwrap()
}

/// A fresh database with the persister's tables and the service's.
pub(crate) async fn database(needs: &Needs) -> TestDb {
    let mut migrators = vec![&persister::MIGRATOR];
    migrators.extend(needs.migrators.iter().copied());
    TestDb::migrated(&migrators).await.unwrap()
}

pub(crate) fn vars(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// POSTs `body` to `path` through `app` (RequestInfo/requestInfo gets the token of `as_user`).
pub async fn post_as(
    app: &Router,
    path: &str,
    as_user: Option<&UserInfo>,
    mut body: Value,
) -> (StatusCode, Value) {
    if let Some(u) = as_user {
        let obj = body.as_object_mut().unwrap();
        let key = if obj.contains_key("requestInfo") {
            "requestInfo"
        } else {
            "RequestInfo"
        };
        let ri = obj
            .entry(key)
            .or_insert_with(|| serde_json::json!({"apiId": "Rainmaker"}));
        ri["authToken"] = Value::String(token(u));
    }
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, bytes) = send(app, req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends `req` through `app`; the status and the whole body.
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, bytes)
}

/// sor-rates with a persister on a fresh database and topics.
pub struct SorStack {
    /// The API behind the gate.
    pub app: Router,
    /// Topic tag.
    pub tag: String,
    persister: Shutdown,
    /// The database (declared last: dropped after the service that uses it).
    pub db: TestDb,
}

impl Drop for SorStack {
    fn drop(&mut self) {
        self.persister.trigger();
    }
}

impl SorStack {
    /// Starts it: `sor_rates::routes` on a platform of its own.
    pub async fn start() -> Self {
        let needs = sor_rates::NEEDS;
        let db = database(&needs).await;
        let tag = tag();
        let kafka = kafka();
        let env = vars(&[
            ("SOR_KAFKA_SAVE_SOR_TOPIC", format!("save-sor-{tag}")),
            ("SOR_KAFKA_UPDATE_SOR_TOPIC", format!("update-sor-{tag}")),
            ("SOR_KAFKA_SAVE_RATE_TOPIC", format!("save-sor-rate-{tag}")),
            (
                "SOR_KAFKA_UPDATE_RATE_TOPIC",
                format!("update-sor-rate-{tag}"),
            ),
            (
                "SOR_KAFKA_SAVE_COMPOSITION_TOPIC",
                format!("save-sor-composition-{tag}"),
            ),
            ("PERSISTER_GROUP_ID", format!("e2e-sor-{tag}")),
        ]);
        let mut topics: Vec<String> = env[..5].iter().map(|(_, t)| t.clone()).collect();
        topics.push(format!("e2e-deadletter-{tag}"));
        let list: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
        digit_kafka::create_topics(&kafka, &list).await.unwrap();
        // The persister is another process in production: give it its own connections, so
        // requests waiting on a rate lock cannot starve it.
        let persister_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(db.connect_options())
            .await
            .unwrap();
        let persister = spawn_persister(
            &persister_pool,
            persister_config(&["sor-rates-persister.yml"], &tag),
            &format!("e2e-sor-{tag}"),
            &tag,
        );
        let platform = platform(&sor_rates::INFO, needs, &db, env).await;
        let routes = sor_rates::routes(platform.clone()).await.unwrap();
        let app = digit_runtime::app(&platform, &needs, routes).await.unwrap();
        Self {
            db,
            app,
            tag,
            persister,
        }
    }

    /// POSTs to `/sor-rates{path}`.
    pub async fn post(&self, path: &str, as_user: &UserInfo, body: Value) -> (StatusCode, Value) {
        post_as(&self.app, &format!("/sor-rates{path}"), Some(as_user), body).await
    }
}

/// The SOR administrator persona.
pub fn sor_admin() -> UserInfo {
    user(
        "44444444-4444-4444-8444-000000000001",
        UserType::Employee,
        &[("STATE_MUKTA_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

/// PGR with its embedded workflow engine (`pgr::routes`) and a persister, on a fresh
/// database and fresh topics.
pub struct WorkflowStack {
    /// The engine behind the routes.
    pub workflow: Workflow,
    /// The PGR and workflow APIs behind the auth gate.
    pub app: Router,
    /// This stack's topic/group tag.
    pub tag: String,
    persister: Shutdown,
    /// The database (declared last: dropped after the service that uses it).
    pub db: TestDb,
}

impl Drop for WorkflowStack {
    fn drop(&mut self) {
        self.persister.trigger();
    }
}

impl WorkflowStack {
    /// Starts everything; `await_persister = false` is upstream's fire-and-forget mode
    /// (`WORKFLOW_AWAIT_PERSISTER=false`).
    pub async fn start(await_persister: bool) -> Self {
        Self::start_with_settings_and_mdms(await_persister, &[], shipped_mdms()).await
    }

    /// [`WorkflowStack::start`] with more service settings (they win over the harness's).
    pub async fn start_with(await_persister: bool, settings: &[(&str, &str)]) -> Self {
        Self::start_with_settings_and_mdms(await_persister, settings, shipped_mdms()).await
    }

    /// [`WorkflowStack::start`] with other master data (the gate, PGR and the engine all
    /// read `mdms`; it must hold the role-actions and the PGR business service's tenants).
    pub async fn start_with_mdms(await_persister: bool, mdms: Arc<dyn MdmsSource>) -> Self {
        Self::start_with_settings_and_mdms(await_persister, &[], mdms).await
    }

    async fn start_with_settings_and_mdms(
        await_persister: bool,
        settings: &[(&str, &str)],
        mdms: Arc<dyn MdmsSource>,
    ) -> Self {
        if std::env::var_os("RUST_LOG").is_some() {
            digit_service::telemetry::init("e2e", digit_service::config::LogFormat::Pretty);
        }
        let needs = pgr::NEEDS;
        let db = database(&needs).await;
        let tag = tag();
        let kafka = kafka();
        let group = format!("e2e-persister-{tag}");
        let env = vars(&[
            (
                "PERSISTER_SAVE_WF_TOPIC",
                format!("save-wf-transitions-{tag}"),
            ),
            (
                "PERSISTER_SAVE_BUSINESSSERVICE_WF_TOPIC",
                format!("save-wf-businessservice-{tag}"),
            ),
            (
                "PERSISTER_UPDATE_BUSINESSSERVICE_WF_TOPIC",
                format!("update-wf-businessservice-{tag}"),
            ),
            ("PGR_KAFKA_CREATE_TOPIC", format!("save-pgr-request-{tag}")),
            (
                "PGR_KAFKA_UPDATE_TOPIC",
                format!("update-pgr-request-{tag}"),
            ),
            ("KAFKA_TOPICS_NOTIFICATION_SMS", format!("sms-{tag}")),
            ("EGOV_USR_EVENTS_CREATE_TOPIC", format!("user-events-{tag}")),
            ("WORKFLOW_AWAIT_PERSISTER", await_persister.to_string()),
            ("PERSISTER_GROUP_ID", group.clone()),
        ]);
        let extra = settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let mut topics: Vec<String> = env[..7].iter().map(|(_, t)| t.clone()).collect();
        topics.push("pgr-auto-escalation".into());
        topics.push(format!("pgr-auto-escalation-{tag}"));
        topics.push(format!("e2e-deadletter-{tag}"));
        let list: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
        digit_kafka::create_topics(&kafka, &list).await.unwrap();

        // The persister, with the shipped workflow and PGR configs.
        let config = persister_config(
            &[
                "egov-workflow-v2-persister.yml",
                "egov-workflow-businessservice-persister.yml",
                "pgr-services-persister.yml",
            ],
            &tag,
        );
        let persister = spawn_persister(db.pool(), config, &group, &tag);

        let platform = platform_with_mdms(
            &pgr::INFO,
            needs,
            &db,
            env.into_iter().chain(extra).collect(),
            mdms,
        )
        .await;
        let assembled = pgr::assemble(platform.clone()).await.unwrap();
        let workflow = assembled
            .workflow
            .expect("the embedded workflow (no EGOV_WORKFLOW_HOST)");
        let app = digit_runtime::app(&platform, &needs, assembled.routes)
            .await
            .unwrap();
        // Start-up loads configs/workflow in the background (through the persister); wait
        // until the PGR business service is readable.
        let deadline = Instant::now() + Duration::from_secs(30);
        while workflow
            .business_service("pg.citya", "PGR")
            .await
            .unwrap()
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "the PGR business service is created from configs/workflow"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            db,
            workflow,
            app,
            tag,
            persister,
        }
    }

    /// GETs a full path (e.g. `/pgr-services/metrics`) and returns the body as text.
    pub async fn get_text(&self, full_path: &str) -> (StatusCode, String) {
        let req = Request::get(full_path).body(Body::empty()).unwrap();
        let (status, bytes) = send(&self.app, req).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// POSTs `body` (its RequestInfo gets `authToken` for `as_user`, when given).
    pub async fn post(
        &self,
        path_and_query: &str,
        as_user: Option<&UserInfo>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(
            &format!("/egov-workflow-v2/egov-wf{path_and_query}"),
            as_user,
            body,
        )
        .await
    }

    /// POSTs `body` to a full path; its RequestInfo gets `authToken` for `as_user`.
    pub async fn call(
        &self,
        full_path: &str,
        as_user: Option<&UserInfo>,
        mut body: Value,
    ) -> (StatusCode, Value) {
        if let Some(u) = as_user {
            let ri = body
                .as_object_mut()
                .unwrap()
                .entry("RequestInfo")
                .or_insert_with(|| serde_json::json!({"apiId": "Rainmaker", "ts": 1}));
            ri["authToken"] = Value::String(token(u));
        }
        let req = Request::post(full_path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, bytes) = send(&self.app, req).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A transition over HTTP: `{RequestInfo, ProcessInstances: [pi]}`.
    pub async fn transition(&self, as_user: &UserInfo, pi: Value) -> (StatusCode, Value) {
        self.post(
            "/process/_transition",
            Some(as_user),
            serde_json::json!({"RequestInfo": {"apiId": "Rainmaker", "ts": 42}, "ProcessInstances": [pi]}),
        )
        .await
    }

    /// Rows in `eg_wf_processinstance_v2` for a business id.
    pub async fn history_rows(&self, business_id: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM eg_wf_processinstance_v2 WHERE businessid = $1")
            .bind(business_id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

/// A PGR process instance for a transition request.
pub fn pgr_instance(business_id: &str, action: &str) -> Value {
    serde_json::json!({
        "tenantId": "pg.citya",
        "businessService": "PGR",
        "businessId": business_id,
        "moduleName": "PGR",
        "action": action,
    })
}

/// A fresh business id.
pub fn business_id() -> String {
    format!("PG-PGR-{}", &tag()[..8])
}

/// Reads the messages of partition 0 of `topic` whose JSON satisfies `pred` (bounded wait).
pub fn read_topic_until(
    topic: &str,
    pred: impl Fn(&Value) -> bool,
    timeout: Duration,
) -> Vec<Value> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka().brokers)
        .set("group.id", format!("reader-{}", tag()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    while out.is_empty() && started.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let v: Value =
                serde_json::from_slice(m.payload().unwrap_or_default()).unwrap_or(Value::Null);
            if pred(&v) {
                out.push(v);
            }
        }
    }
    out
}
