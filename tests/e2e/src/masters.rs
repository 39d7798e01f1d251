//! The iFIX master data as `make up` serves it: `program::routes` (which mounts
//! `/ifix-master-data`, `/adapter-master-data` and `/ifix-department-entity` behind the gate)
//! with a persister running the shipped master data configs, on a fresh database and fresh
//! topics. MDMS is the shipped data plus upstream's tenant `pb` (its fixtures' tenant), with
//! `pg`'s role-actions copied to it.

use crate::program::PII_KEYS;
use crate::{
    database, kafka, persister_config, platform_with_mdms, send, shipped_mdms_documents,
    spawn_persister, tag, token, user, vars,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_mdms::EmbeddedMdms;
use digit_service::Shutdown;
use digit_store::TestDb;
use serde_json::{json, Value};
use std::sync::Arc;

/// The master data topics and their settings.
const TOPICS: &[(&str, &str)] = &[
    ("PERSISTER_KAFKA_COA_TOPIC", "save-coa"),
    (
        "PERSISTER_KAFKA_DEPARTMENT_CREATE_TOPIC",
        "save-department-application",
    ),
    (
        "PERSISTER_KAFKA_EXPENDITURE_CREATE_TOPIC",
        "save-expenditure-application",
    ),
    (
        "PERSISTER_KAFKA_PROJECT_CREATE_TOPIC",
        "save-project-application",
    ),
    (
        "PERSISTER_KAFKA_PROJECT_UPDATE_TOPIC",
        "update-project-application",
    ),
    (
        "PERSISTER_KAFKA_DEPARTMENT_HIERARCHY_CREATE_TOPIC",
        "save-dept-entity-hierarchy-application",
    ),
    (
        "PERSISTER_KAFKA_DEPARTMENT_ENTITY_CREATE_TOPIC",
        "save-dept-entity-application",
    ),
    (
        "PERSISTER_KAFKA_DEPARTMENT_ENTITY_UPDATE_TOPIC",
        "update-dept-entity-application",
    ),
];

/// The shipped persister configs of the master data.
pub const PERSISTER_CONFIGS: &[&str] = &[
    "ifix-master-data-persister.yml",
    "adapter-master-data-persister.yml",
    "ifix-department-entity-persister.yml",
];

/// The shipped master data plus tenants `pb` and `PB` with `pg`'s role-actions.
pub fn mdms_with_pb() -> EmbeddedMdms {
    let mut docs = shipped_mdms_documents();
    let copies: Vec<Value> = docs
        .iter()
        .filter(|d| {
            d["tenantId"] == "pg"
                && d["moduleName"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("ACCESSCONTROL"))
        })
        .flat_map(|d| {
            // Upstream's fixtures use `pb`, and one of them `PB`.
            ["pb", "PB"].map(|t| {
                let mut d = d.clone();
                d["tenantId"] = json!(t);
                d
            })
        })
        .collect();
    docs.extend(copies);
    docs.push(json!({"tenantId": "pb", "moduleName": "tenant", "tenants": [{"code": "pb", "name": "Punjab"}]}));
    docs.push(json!({"tenantId": "PB", "moduleName": "tenant", "tenants": [{"code": "PB", "name": "Punjab"}]}));
    EmbeddedMdms::from_documents(docs)
}

/// The master data administrator of `pg`, `pb` and `PB`.
pub fn master_admin() -> UserInfo {
    user(
        "55555555-5555-4555-8555-000000000001",
        UserType::Employee,
        &[
            ("IFIX_MASTER_ADMIN", "pg"),
            ("IFIX_MASTER_ADMIN", "pb"),
            ("IFIX_MASTER_ADMIN", "PB"),
        ],
    )
}

/// A viewer of `pg` (searches only).
pub fn master_viewer() -> UserInfo {
    user(
        "55555555-5555-4555-8555-000000000002",
        UserType::Employee,
        &[("IFIX_VIEWER", "pg")],
    )
}

/// The program binary's routes with the master data, and a persister.
pub struct MastersStack {
    /// The API behind the gate.
    pub app: Router,
    /// Topic tag.
    pub tag: String,
    /// The platform the routes were built on.
    pub platform: digit_runtime::Platform,
    persister: Shutdown,
    /// The database (declared last: dropped after the service that uses it).
    pub db: TestDb,
}

impl Drop for MastersStack {
    fn drop(&mut self) {
        self.persister.trigger();
    }
}

impl MastersStack {
    /// Starts it (`extra` settings added, e.g. `MAXIMUM_SUPPORTED_DEPARTMENT_HIERARCHY`).
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let needs = program::NEEDS;
        let db = database(&needs).await;
        let tag = tag();
        let group = format!("e2e-masters-{tag}");
        let mut env = vars(&[
            ("PROGRAM_PII_KEYS", PII_KEYS.to_owned()),
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
            ("PERSISTER_GROUP_ID", group.clone()),
        ]);
        env.extend(
            TOPICS
                .iter()
                .map(|(k, t)| ((*k).to_owned(), format!("{t}-{tag}"))),
        );
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut topics: Vec<String> = TOPICS.iter().map(|(_, t)| format!("{t}-{tag}")).collect();
        topics.push(format!("e2e-deadletter-{tag}"));
        let list: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
        digit_kafka::create_topics(&kafka(), &list).await.unwrap();
        // The persister is another process in production: its own connections, so requests
        // holding locks while they await it cannot starve it.
        let persister_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(db.connect_options())
            .await
            .unwrap();
        let persister = spawn_persister(
            &persister_pool,
            persister_config(PERSISTER_CONFIGS, &tag),
            &group,
            &tag,
        );
        let platform =
            platform_with_mdms(&program::INFO, needs, &db, env, Arc::new(mdms_with_pb())).await;
        let routes = program::routes(platform.clone()).await.unwrap();
        let app = digit_runtime::app(&platform, &needs, routes).await.unwrap();
        Self {
            app,
            tag,
            platform,
            persister,
            db,
        }
    }

    /// The master data service itself (to call the pipelines without the gate).
    pub async fn masters(&self) -> digit_ifix_masters::Masters {
        let producer = self.platform.producer.clone().unwrap();
        program::masters(&self.platform, producer)
            .await
            .unwrap()
            .unwrap()
    }

    /// POSTs `body` to `path` (full, e.g. `/ifix-master-data/chartOfAccount/v1/_create`)
    /// with `as_user`'s token as `Authorization: Bearer`.
    pub async fn post(
        &self,
        path: &str,
        as_user: Option<&UserInfo>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut req = Request::post(path).header("content-type", "application/json");
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

    /// POSTs as the master data administrator.
    pub async fn admin(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post(path, Some(&master_admin()), body).await
    }

    /// POSTs as the administrator, expecting `status`; the answer.
    pub async fn expect(&self, path: &str, body: Value, status: StatusCode) -> Value {
        let (got, answer) = self.admin(path, &body).await;
        assert_eq!(got, status, "{path} {body} → {answer}");
        answer
    }

    /// [`Self::expect`] HTTP 200.
    pub async fn expect_ok(&self, path: &str, body: Value) -> Value {
        self.expect(path, body, StatusCode::OK).await
    }

    /// POSTs as the administrator, expecting HTTP 400 with exactly `codes`; the answer.
    pub async fn refuse(&self, path: &str, body: Value, codes: &[&str]) -> Value {
        let (got, answer) = self.admin(path, &body).await;
        assert_eq!(got, StatusCode::BAD_REQUEST, "{path} {body} → {answer}");
        assert_eq!(error_codes(&answer), codes, "{path} {body}");
        answer
    }
}

/// A request header as upstream's fixtures send it.
pub fn header() -> Value {
    json!({"ts": 1627193067, "version": "V1", "msgId": "Unknown", "signature": "NON",
           "userInfo": {"uuid": "e4fd96e8-3b6b-4e36-9503-0f14a01af39d"}})
}

/// The error codes of an error answer.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["Errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
