//! The MUKTA services simulator: the stand-in for the MUKTA (DIGIT-Works) services the
//! IFMS adapter calls and no developer machine runs — expense (bills and payments),
//! bankaccount-service, individual, org-services and audit-service. The sibling of the JIT
//! simulator; the only other mock the suite ships.
//!
//! Upstream's paths and JSON (spec `upstream-ifms-sor.md` A1.6, A1.8, A1.9 PA, A2.2):
//!
//! * `POST /expense/bill/v1/_search` — `{RequestInfo, billCriteria, pagination}` →
//!   `{ResponseInfo, bills, pagination}`
//! * `POST /expense/payment/v1/_create` — `{RequestInfo, payment}` → `{ResponseInfo,
//!   payments}`; publishes `{RequestInfo, payment}` to `expense-payment-create` (key = payment
//!   number) and marks the bills `paymentStatus: INITIATED`
//! * `POST /expense/payment/v1/_search`, `POST /expense/payment/v1/_update`
//! * `POST /bankaccount-service/bankaccount/v1/_search`
//! * `POST /individual/v1/_search?tenantId=&offset=&limit=`
//! * `POST /org-services/organisation/v1/_search`
//! * `POST /audit-service/log/v1/_search?tenantId=&offset=&limit=&objectId=`
//!
//! * `POST /mukta-ifix-adapter/v1/on-disburse/_create|_update` — the department program
//!   service's callbacks to its local adapter (`upstream-ifix.md` §1.8), recorded in
//!   `/simulator/state` as `disburseCallbacks` (the newest 1,000) and answered 200
//!
//! Admin: `GET|POST /simulator/fixtures`, `POST /simulator/fixtures/_add`,
//! `POST /simulator/bills`, `POST /simulator/bankaccounts/_change`, `GET /simulator/state`,
//! `POST /simulator/state/_reset`, `GET /health`. `configs/mukta/README.md` has the shapes.
//!
//! State is in memory, seeded from fixture files ([`fixtures`]). Tests start it in-process
//! with [`serve`] on `127.0.0.1:0`.

pub mod error;
pub mod fixtures;
pub mod model;
mod routes;
pub mod settings;
pub mod store;

use crate::fixtures::Fixtures;
use crate::routes::{Publisher, Shared};
use crate::store::Store;
use digit_kafka::{KafkaSettings, Producer};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Upstream's payment-create topic (`expense.billing.payment.create`).
pub const DEFAULT_PAYMENT_CREATE_TOPIC: &str = "expense-payment-create";

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// What it serves at start (and after `_reset`).
    pub fixtures: Fixtures,
    /// Where payments are published; `None` publishes nothing (the payment is still
    /// created).
    pub kafka: Option<KafkaSettings>,
    /// Logical topic of payment creates (the settings' prefix applies).
    pub payment_create_topic: String,
    /// First payment sequence number; `None` derives one from the time of day (see
    /// [`store::time_based_seq_start`]).
    pub payment_seq_start: Option<u64>,
}

impl SimulatorConfig {
    /// The shipped fixtures, publishing to `brokers` (or nowhere).
    pub fn dev(brokers: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            fixtures: Fixtures::dev().map_err(|e| e.to_string())?,
            kafka: brokers.map(|b| {
                let mut s = KafkaSettings::new(b);
                s.client_id = "mukta-simulator".to_owned();
                s
            }),
            payment_create_topic: DEFAULT_PAYMENT_CREATE_TOPIC.to_owned(),
            payment_seq_start: None,
        })
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
    /// `http://127.0.0.1:<port>` (no trailing slash): the adapter's `EGOV_BILL_HOST`,
    /// bank-account, individual, organisation and audit hosts.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A copy of the current state.
    pub fn store(&self) -> Store {
        self.shared.lock().clone()
    }

    /// Back to the fixtures last loaded.
    pub fn reset(&self) {
        self.shared.lock().reset();
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
///
/// Fails only when the Kafka producer cannot be created; the topic is created on the first
/// publish, so a broker that is down shows up as a failed payment create, not here.
pub async fn serve(
    listener: TcpListener,
    config: SimulatorConfig,
) -> Result<SimulatorHandle, String> {
    let base_url = match listener.local_addr() {
        Ok(addr) if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        Ok(addr) => format!("http://{addr}"),
        Err(_) => "http://127.0.0.1".to_owned(),
    };
    let publisher = match config.kafka {
        Some(settings) => Some(Publisher {
            producer: Producer::new(&settings).map_err(|e| e.to_string())?,
            settings,
            topic: config.payment_create_topic,
            topic_ready: AtomicBool::new(false),
        }),
        None => None,
    };
    let seq = config
        .payment_seq_start
        .unwrap_or_else(|| store::time_based_seq_start(chrono::Utc::now().timestamp_millis()));
    let shared = Arc::new(Shared {
        store: Mutex::new(Store::new(config.fixtures, seq)),
        payment_lock: tokio::sync::Mutex::new(()),
        publisher,
    });
    let (tx, rx) = oneshot::channel::<()>();
    let app = routes::router(shared.clone());
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "MUKTA simulator server failed.");
        }
    });
    Ok(SimulatorHandle {
        base_url,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}
