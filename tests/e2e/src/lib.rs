//! Harness for cross-service tests: a fresh database, unique topics on the real broker, an
//! in-process persister running the shipped configs (topics renamed per test), and the
//! embedded workflow engine with its HTTP API behind the real auth gate (JWT + MDMS
//! role-actions). Requests go through the router in-process (`tower::ServiceExt::oneshot`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support: fail loudly.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_core::{Role, UserInfo, UserType};
use digit_kafka::{Backoff, KafkaSettings, Producer};
use digit_mdms::{EmbeddedMdms, MdmsRoleActions, MdmsSource};
use digit_service::authz::Authorizer;
use digit_service::config::{Env, ServiceInfo, ServiceSettings};
use digit_service::gate::{self, Gate};
use digit_service::{Metrics, Shutdown};
use digit_store::commit::CommitWatcher;
use digit_store::TestDb;
use digit_workflow::{Workflow, WorkflowSettings};
use persister::domain::PersisterConfig;
use persister::metrics::PersisterMetrics;
use persister::store::consumer::{self, PersisterSettings, Writer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

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
            backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(500)),
        },
        metrics: PersisterMetrics::new(&Metrics::new("e2e-persister")).unwrap(),
    };
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    tokio::spawn(async move { consumer::run(writer, &kafka, stop).await });
    shutdown
}

/// The JWT gate with the shipped MDMS role-actions.
pub fn gate(mdms: Arc<dyn MdmsSource>) -> Gate {
    let env = Env::from_pairs([("JWT_SECRET", SECRET)]);
    let service_settings = ServiceSettings::from_env(&INFO, &env).unwrap();
    let authorizer = Arc::new(Authorizer::new(
        Arc::new(MdmsRoleActions::new(mdms)),
        Duration::from_secs(60),
        1,
    ));
    Gate::new(&service_settings, Some(authorizer)).unwrap()
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
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// sor-rates with a persister on a fresh database and topics.
pub struct SorStack {
    /// The database.
    pub db: TestDb,
    /// The API behind the gate.
    pub app: Router,
    /// Topic tag.
    pub tag: String,
    persister: Shutdown,
}

impl Drop for SorStack {
    fn drop(&mut self) {
        self.persister.trigger();
    }
}

impl SorStack {
    /// Starts it.
    pub async fn start() -> Self {
        let db = TestDb::migrated(&[
            &persister::MIGRATOR,
            &sor_rates::MIGRATOR,
            &digit_store::IDGEN_MIGRATOR,
        ])
        .await
        .unwrap();
        let tag = tag();
        let kafka = kafka();
        let settings = sor_rates::service::SorSettings {
            save_sor_topic: format!("save-sor-{tag}"),
            update_sor_topic: format!("update-sor-{tag}"),
            save_rate_topic: format!("save-sor-rate-{tag}"),
            update_rate_topic: format!("update-sor-rate-{tag}"),
            save_composition_topic: format!("save-sor-composition-{tag}"),
            ..sor_rates::service::SorSettings::default()
        };
        let topics = [
            settings.save_sor_topic.clone(),
            settings.update_sor_topic.clone(),
            settings.save_rate_topic.clone(),
            settings.update_rate_topic.clone(),
            settings.save_composition_topic.clone(),
            format!("e2e-deadletter-{tag}"),
        ];
        let list: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
        digit_kafka::create_topics(&kafka, &list).await.unwrap();
        let group = format!("e2e-sor-{tag}");
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
            &group,
            &tag,
        );
        let mdms: Arc<dyn MdmsSource> =
            Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap());
        let watcher_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(db.connect_options())
            .await
            .unwrap();
        let sor_gate = gate(mdms.clone());
        let service = sor_rates::service::SorService {
            pool: db.pool().clone(),
            mdms: mdms.clone(),
            idgen: Arc::new(digit_store::IdGenerator::new(
                db.pool().clone(),
                digit_store::mdms_masters(mdms.clone()),
                digit_store::IdgenSettings::from_lookup(|_| None).unwrap(),
            )),
            producer: Producer::new(&kafka).unwrap(),
            commits: CommitWatcher::start(watcher_pool, group).await.unwrap(),
            settings,
            authorizer: sor_gate.authorizer(),
        };
        let app = sor_rates::api::router("/sor-rates", service).layer(
            axum::middleware::from_fn_with_state(sor_gate, gate::authenticate),
        );
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

const INFO: ServiceInfo = ServiceInfo {
    name: "pgr",
    description: "e2e",
    default_port: 0,
    default_context_path: "/pgr-services",
    env: &[],
};

/// The workflow engine, its API and a persister, on a fresh database and fresh topics.
pub struct WorkflowStack {
    /// The database (dropped with the stack).
    pub db: TestDb,
    /// The engine.
    pub workflow: Workflow,
    /// The API behind the auth gate.
    pub app: Router,
    /// This stack's topic/group tag.
    pub tag: String,
    persister: Shutdown,
}

impl Drop for WorkflowStack {
    fn drop(&mut self) {
        self.persister.trigger();
    }
}

impl WorkflowStack {
    /// Starts everything; `await_persister = false` is upstream's fire-and-forget mode.
    pub async fn start(await_persister: bool) -> Self {
        let mdms: Arc<dyn MdmsSource> =
            Arc::new(EmbeddedMdms::load(repo_root().join("configs/mdms")).unwrap());
        Self::start_with_mdms(await_persister, mdms).await
    }

    /// [`WorkflowStack::start`] with other master data (the gate, PGR and the engine all
    /// read `mdms`; it must hold the role-actions and the PGR business service's tenants).
    pub async fn start_with_mdms(await_persister: bool, mdms: Arc<dyn MdmsSource>) -> Self {
        if std::env::var_os("RUST_LOG").is_some() {
            digit_service::telemetry::init("e2e", digit_service::config::LogFormat::Pretty);
        }
        let db = TestDb::migrated(&[
            &persister::MIGRATOR,
            &digit_workflow::WORKFLOW_MIGRATOR,
            &digit_user::USER_MIGRATOR,
            &pgr::MIGRATOR,
            &digit_store::IDGEN_MIGRATOR,
        ])
        .await
        .unwrap();
        let tag = tag();
        let kafka = kafka();
        let settings = WorkflowSettings {
            transition_topic: format!("save-wf-transitions-{tag}"),
            save_business_service_topic: format!("save-wf-businessservice-{tag}"),
            update_business_service_topic: format!("update-wf-businessservice-{tag}"),
            config_path: repo_root().join("configs/workflow"),
            await_persister,
            persister_group: format!("e2e-persister-{tag}"),
            ..WorkflowSettings::default()
        };
        let mut topics: Vec<(String, i32)> = digit_workflow::engine::topics(&settings)
            .into_iter()
            .map(|t| (t, 1))
            .collect();
        topics.push(("pgr-auto-escalation".into(), 1));
        topics.push((format!("pgr-auto-escalation-{tag}"), 1));
        topics.push((format!("save-pgr-request-{tag}"), 1));
        topics.push((format!("sms-{tag}"), 1));
        topics.push((format!("user-events-{tag}"), 1));
        topics.push((format!("update-pgr-request-{tag}"), 1));
        topics.push((format!("e2e-deadletter-{tag}"), 1));
        let list: Vec<(&str, i32)> = topics.iter().map(|(t, p)| (t.as_str(), *p)).collect();
        digit_kafka::create_topics(&kafka, &list).await.unwrap();

        // The persister, with the shipped workflow configs.
        let config = persister_config(
            &[
                "egov-workflow-v2-persister.yml",
                "egov-workflow-businessservice-persister.yml",
                "pgr-services-persister.yml",
            ],
            &tag,
        );
        let persister = spawn_persister(db.pool(), config, &settings.persister_group, &tag);

        let mdms_for_pgr = mdms.clone();
        let mdms_idgen = mdms.clone();
        let users = digit_user::EmbeddedUsers::new(db.pool().clone());
        users
            .seed_from_dir(&repo_root().join("configs/users"))
            .await
            .unwrap();
        let users: Arc<dyn digit_user::UserDirectory> = Arc::new(users);
        let users_for_pgr = users.clone();
        let commits = CommitWatcher::start(db.pool().clone(), settings.persister_group.clone())
            .await
            .unwrap();
        let workflow = Workflow::new(
            db.pool().clone(),
            mdms.clone(),
            users.clone(),
            Producer::new(&kafka).unwrap(),
            Some(commits.clone()),
            settings,
        );
        let created = workflow.seed_from_configs().await.unwrap();
        assert_eq!(
            created, 1,
            "the PGR business service is created from configs/workflow"
        );
        // The seed is awaited through the persister; it must be readable now.
        assert!(workflow
            .business_service("pg.citya", "PGR")
            .await
            .unwrap()
            .is_some());

        let env = Env::from_pairs([("JWT_SECRET", SECRET)]);
        let service_settings = ServiceSettings::from_env(&INFO, &env).unwrap();
        let authorizer = Arc::new(Authorizer::new(
            Arc::new(MdmsRoleActions::new(mdms)),
            Duration::from_secs(60),
            1,
        ));
        let gate = Gate::new(&service_settings, Some(authorizer)).unwrap();
        let pgr = pgr::service::Pgr {
            pool: db.pool().clone(),
            mdms: mdms_for_pgr,
            users,
            workflow: Arc::new(workflow.clone()),
            idgen: Arc::new(digit_store::IdGenerator::new(
                db.pool().clone(),
                digit_store::mdms_masters(mdms_idgen),
                digit_store::IdgenSettings::from_lookup(|_| None).unwrap(),
            )),
            producer: Producer::new(&kafka).unwrap(),
            commits: Some(commits),
            settings: pgr::service::PgrSettings {
                create_topic: format!("save-pgr-request-{tag}"),
                update_topic: format!("update-pgr-request-{tag}"),
                ..pgr::service::PgrSettings::default()
            },
            notifier: Some(pgr::notify::Notifier {
                localization: Arc::new(
                    digit_localization::EmbeddedLocalization::load(
                        &repo_root().join("configs/localization"),
                    )
                    .unwrap(),
                ),
                users: users_for_pgr,
                workflow: Arc::new(workflow.clone()),
                producer: Producer::new(&kafka).unwrap(),
                settings: pgr::notify::NotifySettings {
                    sms_topic: format!("sms-{tag}"),
                    events_topic: format!("user-events-{tag}"),
                    ..pgr::notify::NotifySettings::default()
                },
            }),
        };
        let app = digit_workflow::api::router(workflow.clone())
            .merge(pgr::api::router("/pgr-services", pgr))
            .layer(axum::middleware::from_fn_with_state(
                gate,
                gate::authenticate,
            ));
        Self {
            db,
            workflow,
            app,
            tag,
            persister,
        }
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
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
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
