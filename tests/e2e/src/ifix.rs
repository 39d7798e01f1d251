//! Two iFIX domains on one machine, over real HTTP: the department (MUKTA) and the
//! treasury (IFMS), each a program service and an exchange on a database of its own, with
//! topics of their own, signing keys of their own (upstream's two sample keys) and each
//! other's public key in their registry — as `make up` runs them. Each service is built
//! through its production wiring and served on a `127.0.0.1:<port>` listener bound before
//! the settings are made, so participant ids (`program@http://127.0.0.1:<port>/digit-exchange`),
//! MDMS `exchange.ExchangeServers` and the exchanges' receiver maps name the real ports.

use crate::{
    database, kafka, platform_with_mdms, repo_root, shipped_mdms_documents, tag, token, user,
};
use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_mdms::{EmbeddedMdms, MdmsSource};
use digit_runtime::Platform;
use digit_store::TestDb;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One side: its program service and exchange.
pub struct Domain {
    /// `http://127.0.0.1:<port>/digit-exchange`: the domain's identity.
    pub exchange_url: String,
    /// `http://127.0.0.1:<port>/program-service`.
    pub program_url: String,
    /// The program service's platform (pool, workers).
    pub program: Platform,
    /// The exchange's platform.
    pub exchange: Platform,
    /// The program service's database.
    pub program_db: TestDb,
    /// The exchange's database.
    pub exchange_db: TestDb,
    workers: Vec<digit_runtime::RunningWorkers>,
}

impl Domain {
    /// `program@<this domain>`.
    pub fn participant(&self) -> String {
        format!("program@{}", self.exchange_url)
    }

    /// Stops its services' workers.
    pub fn stop(&self) {
        self.program.shutdown.trigger();
        self.exchange.shutdown.trigger();
    }
}

/// The two domains.
pub struct TwoDomains {
    /// The department (MUKTA): creates programs, pays.
    pub department: Domain,
    /// The treasury (IFMS): owns program codes, sanctions and allocates.
    pub treasury: Domain,
    client: reqwest::Client,
    admin: String,
}

impl Drop for TwoDomains {
    fn drop(&mut self) {
        self.department.stop();
        self.treasury.stop();
    }
}

/// The role-holder calling the program services in the tests.
pub fn ifix_admin() -> UserInfo {
    user(
        "55555555-5555-4555-8555-0000000000ad",
        UserType::Employee,
        &[("IFIX_PROGRAM_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

fn service_token(uuid: &str, role: &str) -> String {
    token(&user(uuid, UserType::System, &[(role, "pg")]))
}

async fn listener() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn serve(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// The shipped master data with `exchange.ExchangeServers` naming these two exchanges.
fn mdms(department: &str, treasury: &str) -> Arc<dyn MdmsSource> {
    let docs = shipped_mdms_documents().into_iter().map(|mut d| {
        if d["moduleName"] == "exchange" {
            d["ExchangeServers"] = json!([
                {"id": "1", "code": "IFMS", "hostUrl": treasury, "contextPath": "/digit-exchange", "active": true},
                {"id": "2", "code": "MUKTA", "hostUrl": department, "contextPath": "/digit-exchange", "active": true}
            ]);
        }
        d
    });
    Arc::new(EmbeddedMdms::from_documents(docs))
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("configs/exchange").join(name)).unwrap()
}

/// A registry seed file for an exchange: the other domain's public key.
fn seed(dir: &std::path::Path, name: &str, host_url: &str, public_pem: &str) -> String {
    let path = dir.join(name);
    let rows = json!({"ExchangeServers": [{
        "id": format!("peer-{name}"),
        "name": "peer",
        "description": "the other iFIX domain of the test",
        "host_url": host_url,
        "public_key": public_pem,
        "is_active": true,
        "seal_required": true
    }]});
    std::fs::write(&path, rows.to_string()).unwrap();
    path.display().to_string()
}

impl TwoDomains {
    /// Starts both domains (workers running) with extra settings for both program
    /// services (`program_settings`) and both exchanges (`exchange_settings`).
    pub async fn start(
        program_settings: &[(&str, &str)],
        exchange_settings: &[(&str, &str)],
    ) -> Self {
        let t = tag();
        let (dp_l, dp) = listener().await;
        let (dx_l, dx) = listener().await;
        let (tp_l, tp) = listener().await;
        let (tx_l, tx) = listener().await;
        let url = |port: u16, ctx: &str| format!("http://127.0.0.1:{port}{ctx}");
        let (d_ex, t_ex) = (url(dx, "/digit-exchange"), url(tx, "/digit-exchange"));
        let mdms = mdms(&d_ex, &t_ex);
        let dir = std::env::temp_dir().join(format!("ifix-{t}"));
        std::fs::create_dir_all(&dir).unwrap();
        let program_token = service_token(
            "66666666-6666-4666-8666-000000000001",
            "IFIX_PROGRAM_SERVICE",
        );
        let exchange_token = service_token("66666666-6666-4666-8666-000000000002", "IFIX_EXCHANGE");
        let sides = [
            (
                "mukta",
                dp,
                dx,
                &d_ex,
                "sample_private_key1.pem",
                &t_ex,
                "sample_public_key-2.pem",
            ),
            (
                "ifms",
                tp,
                tx,
                &t_ex,
                "sample_private_key-2.pem",
                &d_ex,
                "sample_public_key1.pem",
            ),
        ];
        let mut built = Vec::new();
        for (side, p_port, x_port, own, key, peer, peer_key) in sides {
            let program_db = database(&program::NEEDS).await;
            let exchange_db = database(&digit_exchange::NEEDS).await;
            let mut penv: Vec<(String, String)> = [
                ("PROGRAM_PII_KEYS", crate::program::PII_KEYS.to_owned()),
                ("EXCHANGE_SERVICE_EXTERNAL_URL", own.clone()),
                ("EXCHANGE_HOST", format!("http://127.0.0.1:{x_port}/")),
                ("PROGRAM_OUTBOUND_TOKEN", program_token.clone()),
                ("KAFKA_TOPIC_PREFIX", format!("{side}-{t}")),
                ("OUTBOX_POLL_INTERVAL_MS", "50".to_owned()),
                ("OUTBOX_BACKOFF_BASE_MS", "100".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            penv.extend(
                program_settings
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            let mut xenv: Vec<(String, String)> = [
                ("SERVICE_HOST_URL", own.clone()),
                (
                    "APP_RECEIVER_ENDPOINTS",
                    json!({"program": format!("http://127.0.0.1:{p_port}/program-service/v1/")})
                        .to_string(),
                ),
                ("APP_AUTH_PRIVATE_KEY", pem(key)),
                (
                    "EXCHANGE_REGISTRY_SEED",
                    seed(&dir, &format!("{side}.json"), peer, &pem(peer_key)),
                ),
                ("EXCHANGE_OUTBOUND_TOKEN", exchange_token.clone()),
                ("KAFKA_TOPIC_PREFIX", format!("{side}-{t}")),
                ("EXCHANGE_KAFKA_GROUP_ID", format!("exchange-{side}-{t}")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            xenv.extend(
                exchange_settings
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            let _ = kafka();
            let program = platform_with_mdms(
                &program::INFO,
                program::NEEDS,
                &program_db,
                penv,
                mdms.clone(),
            )
            .await;
            let exchange = platform_with_mdms(
                &digit_exchange::INFO,
                digit_exchange::NEEDS,
                &exchange_db,
                xenv,
                mdms.clone(),
            )
            .await;
            let p_app = digit_runtime::app(
                &program,
                &program::NEEDS,
                program::routes(program.clone()).await.unwrap(),
            )
            .await
            .unwrap();
            let x_app = digit_runtime::app(
                &exchange,
                &digit_exchange::NEEDS,
                digit_exchange::routes(exchange.clone()).await.unwrap(),
            )
            .await
            .unwrap();
            let workers = vec![
                program.workers.start(&program.shutdown),
                exchange.workers.start(&exchange.shutdown),
            ];
            built.push((
                own.clone(),
                url(p_port, "/program-service"),
                program,
                exchange,
                program_db,
                exchange_db,
                workers,
                p_app,
                x_app,
            ));
        }
        let mut apps = Vec::new();
        let mut domains = Vec::new();
        for (
            exchange_url,
            program_url,
            program,
            exchange,
            program_db,
            exchange_db,
            workers,
            p_app,
            x_app,
        ) in built
        {
            apps.push((p_app, x_app));
            domains.push(Domain {
                exchange_url,
                program_url,
                program,
                exchange,
                program_db,
                exchange_db,
                workers,
            });
        }
        let mut listeners = vec![(dp_l, dx_l), (tp_l, tx_l)].into_iter();
        for (p_app, x_app) in apps {
            let (pl, xl) = listeners.next().unwrap();
            serve(pl, p_app);
            serve(xl, x_app);
        }
        let treasury = domains.pop().unwrap();
        let department = domains.pop().unwrap();
        Self {
            department,
            treasury,
            client: reqwest::Client::new(),
            admin: token(&ifix_admin()),
        }
    }

    /// POSTs an iFIX envelope to `domain`'s program service `v1{path}` as the admin.
    pub async fn post(&self, domain: &Domain, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/v1{path}", domain.program_url))
            .bearer_auth(&self.admin)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `query` (one text column, one row) on `db` until it returns `want`.
    pub async fn await_value(&self, db: &TestDb, query: &str, bind: &str, want: &str) {
        let started = Instant::now();
        loop {
            let got: Option<Option<String>> = sqlx::query_scalar(query)
                .bind(bind)
                .fetch_optional(db.pool())
                .await
                .unwrap();
            let got = got.flatten();
            if got.as_deref() == Some(want) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "timed out waiting for {query} [{bind}] = {want} (last: {got:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        self.stop();
        let _ = &self.workers;
    }
}
