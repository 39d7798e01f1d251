//! Fixtures of the `program_disburse*` tests: programs and sanctions written directly
//! (the program/sanction pipelines are tested elsewhere), sanctions funded through the
//! ledger (`Kind::Allocation`, the only way balances change), disbursement envelopes, and
//! balance checks compared as numbers in Postgres.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_core::Money;
use digit_e2e::program::{envelope, other_id, own_id, ProgramStack};
use digit_store::TestDb;
use program::store::ledger::{self, Entry, Kind};
use serde_json::{json, Value};

/// The tenant of the tests.
pub const LOCATION: &str = "pg.citya";

/// Inserts an ACTIVE program `code` at [`LOCATION`].
pub async fn program(db: &TestDb, code: &str) {
    sqlx::query(
        "INSERT INTO eg_program (id, location_code, program_code, name, status, start_date,
                                 created_time, last_modified_time)
         VALUES ($1, $2, $3, $4, 'ACTIVE', 1, 1, 1)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(LOCATION)
    .bind(code)
    .bind(format!("Program {code}"))
    .execute(db.pool())
    .await
    .unwrap();
}

/// Inserts a sanction of `gross` for `program_code` created at `created_time` and funds
/// it with an allocation of `funded` through the ledger. Returns its id.
pub async fn sanction(
    db: &TestDb,
    program_code: &str,
    gross: &str,
    funded: &str,
    created_time: i64,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO eg_program_sanction (id, location_code, program_code, net_amount, gross_amount,
                                          status, created_time, last_modified_time)
         VALUES ($1, $2, $3, $4::numeric, $4::numeric, 'SUCCESSFUL', $5, $5)",
    )
    .bind(&id)
    .bind(LOCATION)
    .bind(program_code)
    .bind(gross)
    .bind(created_time)
    .execute(db.pool())
    .await
    .unwrap();
    if funded != "0" {
        let mut tx = db.pool().begin().await.unwrap();
        let entry = Entry {
            sanction_id: &id,
            location_code: LOCATION,
            program_code,
            kind: Kind::Allocation,
            amount: Money::parse(funded).unwrap().0,
            disburse_id: None,
            allocation_id: None,
            created_by: "test",
            now: created_time,
        };
        assert!(
            ledger::apply(&mut tx, &entry).await.unwrap().is_some(),
            "funding {funded}"
        );
        tx.commit().await.unwrap();
    }
    id
}

/// A program `P1` with one sanction funded with `funded` (gross `gross`).
pub async fn funded(stack: &ProgramStack, gross: &str, funded: &str) -> String {
    program(&stack.db, "P1").await;
    sanction(&stack.db, "P1", gross, funded, 1_000).await
}

/// A JSON number with exactly the digits of `text`.
pub fn amount(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A payee line of `net`/`gross`.
pub fn line(target: &str, net: &str, gross: &str) -> Value {
    json!({
        "location_code": LOCATION,
        "program_code": "P1",
        "target_id": target,
        "account_code": "1234567890@SBIN0003491",
        "currency_code": "INR",
        "net_amount": amount(net),
        "gross_amount": amount(gross),
        "individual": {"name": "Asha Devi", "email": "asha@example.org", "phone": "9999999999",
                       "pin": "751001", "address": "12 Temple Road", "gender": "FEMALE"},
        "additional_details": {"line": target}
    })
}

/// A payment for `target` with `lines` (net, gross); the parent's amounts are given
/// explicitly (the tests of the sum rules change them).
pub fn payment(target: &str, net: &str, gross: &str, lines: &[(&str, &str)]) -> Value {
    let children: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (n, g))| line(&format!("{target}-L{i}"), n, g))
        .collect();
    json!({
        "location_code": LOCATION,
        "program_code": "P1",
        "target_id": target,
        "function_code": "FN-1",
        "currency_code": "INR",
        "net_amount": amount(net),
        "gross_amount": amount(gross),
        "additional_details": {"isRevised": false},
        "children": children
    })
}

/// A payment of one line of `gross`.
pub fn simple(target: &str, gross: &str) -> Value {
    payment(target, gross, gross, &[(gross, gross)])
}

/// `disburse/_create` as this installation's adapter sends it (to the treasury).
pub fn create(message: Value) -> Value {
    envelope("disburse", "create", &own_id(), &other_id(), message)
}

/// `disburse/_update` from this installation.
pub fn update(message: Value) -> Value {
    envelope("disburse", "update", &own_id(), &other_id(), message)
}

/// `on-disburse/_<action>` as the treasury sends it.
pub fn reply(action: &str, message: Value) -> Value {
    envelope("on-disburse", action, &other_id(), &own_id(), message)
}

/// Creates `message`, asserts it was accepted (INITIATED) and returns the answer.
pub async fn created(stack: &ProgramStack, message: Value) -> Value {
    let (status, out) = stack.admin("/disburse/_create", &create(message)).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["message"]["status"]["status_code"], "INITIATED",
        "{out}"
    );
    out
}

/// The answer's message with every status set to `code`, each line and the payment with
/// a transaction id.
pub fn with_status(answer: &Value, parent: &str, lines: &[&str]) -> Value {
    let mut m = answer["message"].clone();
    m["status"] = json!({"status_code": parent, "status_message": null});
    m["transaction_id"] = json!("PI-0001");
    for (i, child) in m["children"].as_array_mut().unwrap().iter_mut().enumerate() {
        child["status"] = json!({"status_code": lines[i % lines.len()], "status_message": null});
        child["transaction_id"] = json!(format!("BEN-{i}"));
    }
    m
}

/// Whether two decimal texts are equal numbers (Postgres compares).
pub async fn same_number(db: &TestDb, a: &str, b: &str) -> bool {
    sqlx::query_scalar("SELECT $1::numeric = $2::numeric")
        .bind(a)
        .bind(b)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A sanction's (allocated, available) as text.
pub async fn balances(db: &TestDb, sanction_id: &str) -> (String, String) {
    sqlx::query_as(
        "SELECT allocated_amount::text, available_amount::text FROM eg_program_sanction WHERE id = $1",
    )
    .bind(sanction_id)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// Asserts the sanction's available balance is `expected` and both balances equal what its
/// ledger rows sum to.
pub async fn assert_available(db: &TestDb, sanction_id: &str, expected: &str) {
    let (allocated, available) = balances(db, sanction_id).await;
    assert!(
        same_number(db, &available, expected).await,
        "available {available}, expected {expected}"
    );
    let (sum_allocated, sum_available) = digit_e2e::program::ledger_sums(db, sanction_id).await;
    assert!(
        same_number(db, &allocated, &sum_allocated).await,
        "allocated {allocated} ≠ ledger {sum_allocated}"
    );
    assert!(
        same_number(db, &available, &sum_available).await,
        "available {available} ≠ ledger {sum_available}"
    );
}

/// Ledger rows of `kind` for payment `disburse_id`.
pub async fn ledger_rows(db: &TestDb, disburse_id: &str, kind: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM eg_program_transaction_logs WHERE disburse_id = $1 AND kind = $2",
    )
    .bind(disburse_id)
    .bind(kind)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// The stored (status, debited, refunded) of a payment.
pub async fn stored(db: &TestDb, id: &str) -> (Option<String>, String, String) {
    sqlx::query_as(
        "SELECT status, debited_amount::text, refunded_amount::text FROM eg_program_disburse WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

type RawOutboxRow = (String, Option<String>, Option<String>, Vec<u8>);

/// The outbox rows (kind, url or topic, payload JSON) in order.
pub async fn outbox(db: &TestDb) -> Vec<(String, String, Value)> {
    let rows: Vec<RawOutboxRow> =
        sqlx::query_as("SELECT kind, http_url, topic, payload FROM digit_outbox ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(kind, url, topic, payload)| {
            (
                kind,
                url.or(topic).unwrap_or_default(),
                serde_json::from_slice(&payload).unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// Asserts `answer` is a refusal with `code` on the payment and every line.
pub fn assert_refused(answer: &Value, code: &str) {
    let m = &answer["message"];
    assert_eq!(m["status"]["status_code"], "ERROR", "{answer}");
    let message = m["status"]["status_message"].as_str().unwrap_or_default();
    assert!(message.starts_with(&format!("{code} ")), "{code}: {answer}");
    for child in m["children"].as_array().into_iter().flatten() {
        assert_eq!(
            child["status"]["status_message"], m["status"]["status_message"],
            "{answer}"
        );
    }
}

/// What the stand-in adapter answers to `disburse/_create|_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterMode {
    /// The reply envelope: statuses INITIATED, transaction ids `PI-…` / `BEN-<i>`.
    Reply,
    /// This HTTP status, no reply.
    Status(u16),
}

/// One request a [`Remote`] received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path.
    pub path: String,
    /// `Idempotency-Key` header.
    pub key: Option<String>,
    /// Body.
    pub body: Value,
}

#[derive(Debug)]
struct RemoteState {
    seen: std::sync::Mutex<Vec<Seen>>,
    adapter: std::sync::Mutex<AdapterMode>,
    hang: std::sync::atomic::AtomicBool,
}

/// A tiny HTTP server on 127.0.0.1:0 standing in for the local adapter (JIT side) and the
/// local exchange: it records every request and answers as configured.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    state: std::sync::Arc<RemoteState>,
}

impl Remote {
    /// Starts it.
    pub async fn start() -> Self {
        use axum::http::{HeaderMap, Uri};
        let state = std::sync::Arc::new(RemoteState {
            seen: std::sync::Mutex::default(),
            adapter: std::sync::Mutex::new(AdapterMode::Reply),
            hang: std::sync::atomic::AtomicBool::new(false),
        });
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let state = shared.clone();
                async move {
                    use axum::response::IntoResponse;
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let path = uri.path().to_owned();
                    state.seen.lock().unwrap().push(Seen {
                        path: path.clone(),
                        key,
                        body: body.clone(),
                    });
                    if path.ends_with("/disburse/_create") || path.ends_with("/disburse/_update") {
                        let mode = *state.adapter.lock().unwrap();
                        return match mode {
                            AdapterMode::Reply => axum::Json(adapter_reply(&body)).into_response(),
                            AdapterMode::Status(s) => {
                                axum::http::StatusCode::from_u16(s).unwrap().into_response()
                            }
                        };
                    }
                    if state.hang.load(std::sync::atomic::Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    }
                    axum::Json(json!({})).into_response()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    /// Sets the adapter's answer.
    pub fn adapter(&self, mode: AdapterMode) {
        *self.state.adapter.lock().unwrap() = mode;
    }

    /// Whether the non-adapter paths never answer (a receiver that hangs).
    pub fn hang(&self, on: bool) {
        self.state
            .hang
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Requests received on paths ending with `suffix`.
    pub fn seen(&self, suffix: &str) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path.ends_with(suffix))
            .cloned()
            .collect()
    }

    /// Waits until `n` requests on `suffix` arrived (at most 20 s).
    pub async fn wait_for(&self, suffix: &str, n: usize) -> Vec<Seen> {
        let started = std::time::Instant::now();
        loop {
            let seen = self.seen(suffix);
            if seen.len() >= n || started.elapsed() > std::time::Duration::from_secs(20) {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The IFMS adapter's synchronous answer: the same envelope, the payment INITIATED with a
/// PI number and each line with a beneficiary number.
fn adapter_reply(request: &Value) -> Value {
    let mut reply = request.clone();
    let m = &mut reply["message"];
    m["status"] = json!({"status_code": "INITIATED", "status_message": "accepted by JIT"});
    m["transaction_id"] = json!(format!(
        "PI-{}",
        m["target_id"].as_str().unwrap_or_default()
    ));
    for (i, child) in m["children"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        child["status"] = json!({"status_code": "INITIATED", "status_message": null});
        child["transaction_id"] = json!(format!("BEN-{i}"));
    }
    reply
}

/// Waits until `check` holds (at most 20 s) and returns whether it did.
pub async fn eventually<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}

/// (kind, url, status, attempts, last_error) of an outbox row.
pub type OutboxState = (String, Option<String>, String, i32, Option<String>);

/// Outbox rows by status: (kind, url, status, attempts, last_error).
pub async fn outbox_states(db: &TestDb) -> Vec<OutboxState> {
    sqlx::query_as(
        "SELECT kind, http_url, status, attempts, last_error FROM digit_outbox ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}
