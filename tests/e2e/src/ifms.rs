//! The IFMS adapter on a fresh database with the JIT simulator served in-process (the one
//! mock the suite ships: the treasury's JIT-FS), as `make up` runs them, for the `ifms_*`
//! tests. The program service is not running here unless a test starts one: callbacks stay
//! in the outbox (pending, unreachable host) where the tests read them.

use crate::{
    database, kafka, platform_with_mdms, repo_root, send, shipped_mdms_documents, tag, token, user,
    vars,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_mdms::EmbeddedMdms;
use digit_runtime::Platform;
use digit_store::TestDb;
use ifms_adapter::service::AdapterService;
use jit_simulator::{SimulatorConfig, SimulatorHandle};
use serde_json::{json, Value};
use std::sync::Arc;

/// PII key of the adapter in the tests.
pub const PII_KEYS: &str = "i1:HxwdHhkaGxwVFhcYERITFA0ODxAJCgsMBQYHCAECAwQ=";
/// The General head of account of the shipped MDMS (sequence 1).
pub const GENERAL_HOA: &str = "221705800358641045908";
/// The SSU's DDO (shipped `pg.citya` SSUDetails).
pub const DDO: &str = "OLSHUD001";
/// The tenant.
pub const TENANT: &str = "pg.citya";
/// The program code the tests' MDMS gives the SSU.
pub const PROGRAM: &str = "PG/2026-27/000358";
/// The department's participant id (the sender of disbursements in the tests).
pub const DEPARTMENT: &str = "program@http://127.0.0.1:8084/digit-exchange";
/// The treasury's (the receiver).
pub const TREASURY: &str = "program@http://127.0.0.1:8094/digit-exchange";

/// A running adapter and simulator.
pub struct IfmsStack {
    /// The API behind the gate (as served).
    pub app: Router,
    /// The pipelines.
    pub service: AdapterService,
    /// The pollers' runners.
    pub scheduler: ifms_adapter::service::jobs::Scheduler,
    /// The platform.
    pub platform: Platform,
    /// The JIT simulator.
    pub jit: SimulatorHandle,
    /// Topic tag.
    pub tag: String,
    /// The database.
    pub db: TestDb,
}

/// One VA item of the SSU.
pub fn va_item(
    kind: &str,
    master: &str,
    serial: u32,
    id: &str,
    amount: &str,
    balance: &str,
    date: &str,
) -> Value {
    json!({"ddoCode": DDO, "schemeCode": "13145", "schemeName": "MUKTA", "granteeAgCode": "GOHUDULBMPL0036",
        "granteeName": "ANGUL MUNICIPALITY", "ssuId": "1621", "ssuOffice": "angul_op",
        "allotmentDate": date, "allotmentTxnSlNo": serial.to_string(), "allotmentAmount": amount,
        "availableBalance": balance, "allotmentTxnType": kind, "mstAllotmentDistId": master,
        "ssuAllotmentId": id})
}

/// A scenario with `items` on the General head.
pub fn scenario(items: Vec<Value>) -> Value {
    json!({"allotments": [{"hoa": GENERAL_HOA, "ddoCode": DDO, "items": items}]})
}

/// The program service's identity calling the adapter.
pub fn program_service() -> UserInfo {
    user(
        "66666666-6666-4666-8666-000000000001",
        UserType::System,
        &[("IFIX_PROGRAM_SERVICE", "pg")],
    )
}

/// A bill accountant (searches).
pub fn accountant() -> UserInfo {
    user(
        "77777777-7777-4777-8777-000000000001",
        UserType::Employee,
        &[("BILL_ACCOUNTANT", "pg"), ("EMPLOYEE", "pg")],
    )
}

/// The cron user (`/_scheduler`).
pub fn scheduler_user() -> UserInfo {
    user(
        "77777777-7777-4777-8777-000000000002",
        UserType::System,
        &[("IFMS_SCHEDULER", "pg")],
    )
}

/// One disbursement line: `(line id, account@IFSC, amount)`.
pub fn line(id: &str, account: &str, amount: &str) -> Value {
    let amount: Value = serde_json::from_str(amount).unwrap();
    json!({"id": id, "target_id": format!("LI-{id}"), "location_code": TENANT, "program_code": PROGRAM,
        "account_code": account, "net_amount": amount, "gross_amount": amount,
        "status": {"status_code": "INITIATED", "status_message": null},
        "individual": {"name": "Asha Devi", "phone": "9999999999", "address": "12 Temple Road", "pin": "751001"},
        "additional_details": {"beneficiaryId": format!("IND-{id}"), "beneficiaryType": "IND", "accountType": "SAVINGS"}})
}

/// A `disburse/_create` envelope from the department to the treasury.
pub fn disbursement(id: &str, payment: &str, sanction: &str, lines: Vec<Value>) -> Value {
    let total: rust_decimal::Decimal = lines
        .iter()
        .map(|l| {
            l["net_amount"]
                .to_string()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    let total: Value = serde_json::from_str(&total.to_string()).unwrap();
    json!({"signature": "sig", "header": {"message_id": uuid::Uuid::new_v4().to_string(), "message_ts": 1,
        "message_type": "disburse", "action": "create", "sender_id": DEPARTMENT, "sender_uri": null,
        "receiver_id": TREASURY, "is_msg_encrypted": false},
        "message": {"id": id, "target_id": payment, "location_code": TENANT, "program_code": PROGRAM,
            "sanction_id": sanction, "net_amount": total, "gross_amount": total,
            "status": {"status_code": "INITIATED", "status_message": null}, "children": lines,
            "audit_details": {"createdBy": "x", "lastModifiedBy": "x", "createdTime": 1, "lastModifiedTime": 1}}})
}

impl IfmsStack {
    /// Starts the simulator with `scenario` and the adapter with extra `settings` (the
    /// SSU's program is [`PROGRAM`]).
    pub async fn start(scenario: Value, settings: &[(&str, &str)]) -> Self {
        Self::start_in(scenario, settings, Some(PROGRAM), None).await
    }

    /// [`IfmsStack::start`] with the SSU's `programCode` (`None`: looked up in the program
    /// service) and, for two real domains, `exchanges` = (department, treasury) exchange
    /// URLs for MDMS `exchange.ExchangeServers`.
    pub async fn start_in(
        scenario: Value,
        settings: &[(&str, &str)],
        program_code: Option<&str>,
        exchanges: Option<(&str, &str)>,
    ) -> Self {
        Self::start_full(scenario, settings, program_code, exchanges, Vec::new()).await
    }

    /// [`IfmsStack::start_in`] with extra MDMS documents (e.g. `ifms.JitMockResponse`).
    pub async fn start_full(
        scenario: Value,
        settings: &[(&str, &str)],
        program_code: Option<&str>,
        exchanges: Option<(&str, &str)>,
        extra_docs: Vec<Value>,
    ) -> Self {
        let needs = ifms_adapter::NEEDS;
        let db = database(&needs).await;
        let mut config = SimulatorConfig::dev().unwrap();
        config.scenario = serde_json::from_value(scenario).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jit = jit_simulator::serve(listener, config).await;
        let tag = tag();
        let root = repo_root();
        let mut env = vars(&[
            ("IFMS_PII_KEYS", PII_KEYS.to_owned()),
            ("IFMS_JIT_HOSTNAME", jit.base_url().to_owned()),
            ("IFMS_JIT_CLIENT_ID", "digit-rs-dev".to_owned()),
            ("IFMS_JIT_CLIENT_SECRET", "digit-rs-dev-secret".to_owned()),
            (
                "IFMS_JIT_PUBLIC_KEY_PATH",
                root.join("configs/ifms/jit-simulator-public.pem")
                    .display()
                    .to_string(),
            ),
            (
                "EGOV_PROGRAM_SERVICE_HOST",
                "http://127.0.0.1:9/".to_owned(),
            ),
            (
                "IFMS_PI_INDEX_ENRICH_TOPIC",
                format!("ifms-pi-index-enrich-{tag}"),
            ),
            ("OUTBOX_POLL_INTERVAL_MS", "50".to_owned()),
            (
                "PAYMENT_CREATE_TOPIC",
                format!("expense-payment-create-{tag}"),
            ),
            ("IFMS_CONSUMER_GROUP_ID", format!("ifms-adapter-{tag}")),
            (
                "IFIX_ADAPTER_ERROR_QUEUE_TOPIC",
                format!("ifms-adapter-error-queue-{tag}"),
            ),
        ]);
        for var in ifms_adapter::service::jobs::JOB_VARS {
            env.push((var.name.to_owned(), "off".to_owned()));
        }
        env.extend(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let _ = kafka();
        let docs = shipped_mdms_documents().into_iter().map(|mut d| {
            if d["moduleName"] == "ifms" && d["tenantId"] == TENANT {
                if let Some(code) = program_code {
                    d["SSUDetails"][0]["programCode"] = json!(code);
                }
            }
            if let (Some((department, treasury)), true) = (exchanges, d["moduleName"] == "exchange") {
                d["ExchangeServers"] = json!([
                    {"id": "1", "code": "IFMS", "hostUrl": treasury, "contextPath": "/digit-exchange", "active": true},
                    {"id": "2", "code": "MUKTA", "hostUrl": department, "contextPath": "/digit-exchange", "active": true}
                ]);
            }
            d
        });
        let mut docs: Vec<Value> = docs.collect();
        docs.extend(extra_docs);
        let mdms = Arc::new(EmbeddedMdms::from_documents(docs));
        let platform = platform_with_mdms(&ifms_adapter::INFO, needs, &db, env, mdms).await;
        let treasury = ifms_adapter::treasury(&platform).unwrap();
        let built = ifms_adapter::assemble(&platform, treasury).await.unwrap();
        let app = digit_runtime::app(&platform, &needs, built.routes)
            .await
            .unwrap();
        Self {
            app,
            service: built.service,
            scheduler: built.scheduler,
            platform,
            jit,
            tag,
            db,
        }
    }

    /// Starts the registered workers (the outbox relay).
    pub fn start_workers(&self) -> digit_runtime::RunningWorkers {
        self.platform.workers.start(&self.platform.shutdown)
    }

    /// POSTs `body` to `/ifms{path}` with `as_user`'s bearer token.
    pub async fn post(&self, path: &str, as_user: &UserInfo, body: &Value) -> (StatusCode, Value) {
        let req = Request::post(format!("/ifms{path}"))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", token(as_user)))
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, bytes) = send(&self.app, req).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `disburse/_create` as the program service.
    pub async fn disburse(&self, body: &Value) -> (StatusCode, Value) {
        self.post("/v1/disburse/_create", &program_service(), body)
            .await
    }

    /// Runs VA and returns the one sanction of the General head (its id).
    pub async fn funded_sanction(&self) -> String {
        self.service.run_va().await.unwrap();
        self.sanction_of("5001").await
    }

    /// The sanction id of a master allotment.
    pub async fn sanction_of(&self, master: &str) -> String {
        sqlx::query_scalar("SELECT id FROM jit_sanction_details WHERE masterallotmentid = $1")
            .bind(master)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// `allotted/available` of a sanction, scale trimmed.
    pub async fn funds(&self, sanction: &str) -> String {
        sqlx::query_scalar(
            "SELECT trim_scale(allottedamount)::text || '/' || trim_scale(availableamount)::text
               FROM jit_funds_summary WHERE sanctionid = $1",
        )
        .bind(sanction)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// Allotted − Σ debits + Σ reversals from the ledger rows (must equal `available`).
    pub async fn ledger_available(&self, sanction: &str) -> String {
        sqlx::query_scalar(
            "SELECT trim_scale(f.allottedamount - COALESCE((SELECT SUM(CASE t.transactiontype
                    WHEN 'DEBIT' THEN t.transactionamount ELSE -t.transactionamount END)
                    FROM jit_transaction_details t WHERE t.sanctionid = f.sanctionid), 0))::text
               FROM jit_funds_summary f WHERE f.sanctionid = $1",
        )
        .bind(sanction)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// Status code of a PI.
    pub async fn pi_status(&self, id: &str) -> String {
        sqlx::query_scalar("SELECT pistatus FROM jit_payment_inst_details WHERE id = $1")
            .bind(id)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Payloads of the outbox rows whose URL or topic contains `part`, in order.
    pub async fn outbox(&self, part: &str) -> Vec<Value> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM digit_outbox WHERE COALESCE(http_url, topic) LIKE '%' || $1 || '%' ORDER BY id",
        )
        .bind(part)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.iter()
            .map(|p| serde_json::from_slice(p).unwrap())
            .collect()
    }

    /// Waits until the PI of disbursement `id` exists and its post was answered (posted,
    /// or no longer INITIATED): the pollers skip a PI whose post is still in flight.
    pub async fn await_pi(&self, id: &str) {
        let started = std::time::Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM jit_payment_inst_details WHERE id = $1
                   AND (jitposted OR pistatus <> 'INITIATED')",
            )
            .bind(id)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
            if n == 1 {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(40),
                "no PI for {id}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The outbox rows as `(destination, status, last_error)` (for failure messages).
    pub async fn outbox_state(&self) -> Vec<(String, String, Option<String>)> {
        sqlx::query_as(
            "SELECT COALESCE(http_url, topic), status, last_error FROM digit_outbox ORDER BY id",
        )
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    /// A count.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}
