//! The HTTP handlers: upstream's paths and envelopes, plus the admin endpoints.

use crate::error::{codes, SimError};
use crate::fixtures::Fixtures;
use crate::model::{Bill, Payment};
use crate::store::{
    page, BankAccountChange, BillCriteria, DisburseCallback, PaymentCriteria, Published, Store,
};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use digit_core::{RequestInfo, ResponseInfo, ResponseStatus};
use digit_kafka::{KafkaSettings, Producer};
use digit_service::error::ApiError;
use digit_service::extract::DigitJson;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bill search page size when the request gives none (`expense.billing.default.limit`).
pub const BILL_DEFAULT_LIMIT: usize = 100;
/// Largest bill search page (`expense.billing.search.max.limit`).
pub const BILL_MAX_LIMIT: usize = 200;
/// Default page of the other searches.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest page of the other searches.
pub const MAX_LIMIT: usize = 1000;

/// Where payments are published.
pub(crate) struct Publisher {
    pub(crate) producer: Producer,
    pub(crate) settings: KafkaSettings,
    pub(crate) topic: String,
    pub(crate) topic_ready: AtomicBool,
}

impl Publisher {
    async fn publish(
        &self,
        key: &str,
        payload: &Value,
        correlation: Option<&str>,
    ) -> Result<Published, String> {
        if !self.topic_ready.load(Ordering::Acquire) {
            digit_kafka::create_topics(&self.settings, &[(self.topic.as_str(), 1)])
                .await
                .map_err(|e| e.to_string())?;
            self.topic_ready.store(true, Ordering::Release);
        }
        let delivery = self
            .producer
            .send_json(&self.topic, Some(key), payload, correlation)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Published {
            topic: self.settings.topic(&self.topic),
            key: key.to_owned(),
            partition: delivery.partition,
            offset: delivery.offset,
        })
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    /// Serialises payment creates and updates across the validate → publish → store
    /// sequence, so two creates for one bill cannot both pass the duplicate check.
    pub(crate) payment_lock: tokio::sync::Mutex<()>,
    pub(crate) publisher: Option<Publisher>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn response_info(request_info: &Value) -> ResponseInfo {
    let parsed = serde_json::from_value::<RequestInfo>(request_info.clone()).ok();
    ResponseInfo::from_request(parsed.as_ref(), ResponseStatus::Successful)
}

/// A page request as the Java services take it: numbers may come as `10`, `10.0` or `"10"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PageIn {
    /// Page size.
    pub limit: Option<Value>,
    /// Rows to skip (upstream's spelling).
    #[serde(rename = "offSet", alias = "offset")]
    pub off_set: Option<Value>,
    /// Echoed.
    #[serde(rename = "sortBy")]
    pub sort_by: Option<Value>,
    /// Echoed.
    pub order: Option<Value>,
}

fn as_count(v: Option<&Value>) -> Option<usize> {
    let n = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if n.is_finite() && n >= 0.0 {
        // Safety of the cast: a finite, non-negative page number, saturating above usize.
        #[allow(clippy::as_conversions)]
        let n = n.trunc() as usize;
        Some(n)
    } else {
        None
    }
}

fn query_count(q: &HashMap<String, String>, key: &str) -> Option<usize> {
    q.get(key).and_then(|v| v.trim().parse().ok())
}

impl PageIn {
    fn bounds(&self, default_limit: usize, max_limit: usize) -> (usize, usize) {
        let limit = as_count(self.limit.as_ref())
            .filter(|l| *l > 0)
            .unwrap_or(default_limit)
            .min(max_limit);
        (as_count(self.off_set.as_ref()).unwrap_or(0), limit)
    }

    fn echo(&self, offset: usize, limit: usize, total: usize) -> Value {
        json!({"limit": limit, "offSet": offset, "totalCount": total,
               "sortBy": self.sort_by, "order": self.order})
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/expense/bill/v1/_search", post(bill_search))
        .route("/expense/payment/v1/_create", post(payment_create))
        .route("/expense/payment/v1/_search", post(payment_search))
        .route("/expense/payment/v1/_update", post(payment_update))
        .route(
            "/bankaccount-service/bankaccount/v1/_search",
            post(bank_account_search),
        )
        .route("/individual/v1/_search", post(individual_search))
        .route(
            "/org-services/organisation/v1/_search",
            post(organisation_search),
        )
        .route("/audit-service/log/v1/_search", post(audit_search))
        .route(
            "/mukta-ifix-adapter/v1/on-disburse/_create",
            post(|s, body| on_disburse(s, body, "create")),
        )
        .route(
            "/mukta-ifix-adapter/v1/on-disburse/_update",
            post(|s, body| on_disburse(s, body, "update")),
        )
        .route(
            "/simulator/fixtures",
            get(get_fixtures).post(replace_fixtures),
        )
        .route("/simulator/fixtures/_add", post(add_fixtures))
        .route("/simulator/bills", post(add_bills))
        .route("/simulator/bankaccounts/_change", post(change_bank_account))
        .route("/simulator/state", get(state))
        .route("/simulator/state/_reset", post(reset))
        .route("/health", get(|| async { Json(json!({"status": "UP"})) }))
        .with_state(shared)
}

// ---- expense ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct BillSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(rename = "billCriteria", default)]
    bill_criteria: Option<BillCriteria>,
    #[serde(default)]
    pagination: Option<PageIn>,
}

/// `POST /expense/bill/v1/_search` → `{ResponseInfo, bills, pagination}`.
async fn bill_search(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<BillSearchRequest>,
) -> Result<Response, ApiError> {
    let criteria = req.bill_criteria.ok_or_else(|| {
        SimError::invalid(codes::INVALID_SEARCH_CRITERIA, "billCriteria is mandatory")
    })?;
    let bills = s.lock().search_bills(&criteria)?;
    let pagination = req.pagination.unwrap_or_default();
    let (offset, limit) = pagination.bounds(BILL_DEFAULT_LIMIT, BILL_MAX_LIMIT);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "bills": page(&bills, offset, limit),
        "pagination": pagination.echo(offset, limit, bills.len()),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct PaymentRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(default)]
    payment: Option<Payment>,
}

/// `POST /expense/payment/v1/_create` → `{ResponseInfo, payments: [payment]}`; publishes
/// `{RequestInfo, payment}` keyed by the payment number before storing anything.
async fn payment_create(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    let _serial = s.payment_lock.lock().await;
    let now = now_ms();
    let prepared = s
        .lock()
        .prepare_payment(req.payment, &req.request_info, now)?;
    let number = prepared.payment.payment_number.clone().unwrap_or_default();
    let published = match &s.publisher {
        Some(publisher) => {
            let payload = json!({"RequestInfo": req.request_info, "payment": prepared.payment});
            let correlation = req
                .request_info
                .get("correlationId")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let sent = publisher
                .publish(&number, &payload, correlation.as_deref())
                .await
                .map_err(SimError::Publish)?;
            Some(sent)
        }
        None => None,
    };
    let payment = {
        let mut store = s.lock();
        if let Some(p) = published {
            store.published.push(p);
        }
        store.commit_payment(prepared, now)
    };
    tracing::info!(payment_number = %number, "MUKTA simulator created a payment.");
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "payments": [payment],
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct PaymentSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(rename = "paymentCriteria", default)]
    payment_criteria: Option<PaymentCriteria>,
    #[serde(default)]
    pagination: Option<PageIn>,
}

/// `POST /expense/payment/v1/_search` → `{ResponseInfo, payments, pagination}`.
async fn payment_search(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<PaymentSearchRequest>,
) -> Result<Response, ApiError> {
    let criteria = req.payment_criteria.ok_or_else(|| {
        SimError::invalid(
            codes::INVALID_SEARCH_CRITERIA,
            "paymentCriteria is mandatory",
        )
    })?;
    let payments = s.lock().search_payments(&criteria)?;
    let pagination = req.pagination.unwrap_or_default();
    let (offset, limit) = pagination.bounds(BILL_DEFAULT_LIMIT, BILL_MAX_LIMIT);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "payments": page(&payments, offset, limit),
        "pagination": pagination.echo(offset, limit, payments.len()),
    }))
    .into_response())
}

/// `POST /expense/payment/v1/_update` → `{ResponseInfo, payments: [stored payment]}`.
async fn payment_update(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    let _serial = s.payment_lock.lock().await;
    let payment = s
        .lock()
        .update_payment(req.payment, &req.request_info, now_ms())?;
    tracing::info!(
        payment_number = payment.payment_number.as_deref().unwrap_or_default(),
        status = payment.status.as_deref().unwrap_or_default(),
        "MUKTA simulator updated a payment."
    );
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "payments": [payment],
    }))
    .into_response())
}

// ---- mukta-ifix-adapter's callbacks ---------------------------------------------------

/// `POST /mukta-ifix-adapter/v1/on-disburse/_create|_update`: the department's program
/// service passes the treasury's answer on to its local adapter (spec `upstream-ifix.md`
/// §1.8 on-disburse step 6), `{signature, header, message: disbursement}`. Upstream's
/// adapter updates its payment; the simulator records the status (`/simulator/state`
/// `disburseCallbacks`) and answers 200 (the program service ignores the body).
async fn on_disburse(
    State(s): State<Arc<Shared>>,
    body: Bytes,
    action: &'static str,
) -> Result<Response, ApiError> {
    // iFIX envelope `{signature, header, message}`: no RequestInfo, so not `DigitJson`.
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::from(SimError::invalid(
            codes::INVALID_DISBURSEMENT,
            format!("Failed to parse JSON body: {e}"),
        ))
    })?;
    let message = &body["message"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let Some(id) = text(&message["id"]) else {
        return Err(SimError::invalid(
            codes::INVALID_DISBURSEMENT,
            "message.id (the disbursement id) is required",
        )
        .into());
    };
    let callback = DisburseCallback {
        action: action.to_owned(),
        id: Some(id),
        target_id: text(&message["target_id"]),
        status_code: text(&message["status"]["status_code"]),
        received_time: now_ms(),
    };
    tracing::info!(
        id = callback.id.as_deref().unwrap_or_default(),
        status = callback.status_code.as_deref().unwrap_or_default(),
        action,
        "MUKTA simulator received an on-disburse callback."
    );
    s.lock().record_callback(callback);
    Ok(Json(json!({"status": "received"})).into_response())
}

// ---- registries ---------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BankAccountCriteria {
    tenant_id: Option<String>,
    ids: Option<Vec<String>>,
    reference_id: Option<Vec<String>>,
    service_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BankAccountSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(rename = "bankAccountDetails", default)]
    criteria: Option<BankAccountCriteria>,
    #[serde(default)]
    pagination: Option<PageIn>,
}

fn required_tenant(tenant: Option<String>, what: &str) -> Result<String, SimError> {
    tenant.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        SimError::invalid(
            codes::INVALID_SEARCH_CRITERIA,
            format!("{what} is mandatory"),
        )
    })
}

/// `POST /bankaccount-service/bankaccount/v1/_search` → `{ResponseInfo, bankAccounts, pagination}`.
async fn bank_account_search(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<BankAccountSearchRequest>,
) -> Result<Response, ApiError> {
    let criteria = req.criteria.unwrap_or_default();
    let tenant = required_tenant(criteria.tenant_id, "bankAccountDetails.tenantId")?;
    let accounts = s.lock().search_bank_accounts(
        &tenant,
        criteria.ids.as_ref(),
        criteria.reference_id.as_ref(),
        criteria.service_code.as_deref(),
    );
    let pagination = req.pagination.unwrap_or_default();
    let (offset, limit) = pagination.bounds(DEFAULT_LIMIT, MAX_LIMIT);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "bankAccounts": page(&accounts, offset, limit),
        "pagination": pagination.echo(offset, limit, accounts.len()),
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct IndividualCriteria {
    id: Option<Vec<String>>,
    individual_id: Option<Vec<String>>,
    tenant_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IndividualSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(rename = "Individual", default)]
    individual: Option<IndividualCriteria>,
}

/// `POST /individual/v1/_search?tenantId=&offset=&limit=` → `{ResponseInfo, Individual, TotalCount}`.
async fn individual_search(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    DigitJson(req): DigitJson<IndividualSearchRequest>,
) -> Result<Response, ApiError> {
    let criteria = req.individual.unwrap_or_default();
    let tenant = required_tenant(
        q.get("tenantId").cloned().or(criteria.tenant_id),
        "tenantId (query parameter)",
    )?;
    let found = s.lock().search_individuals(
        &tenant,
        criteria.id.as_ref(),
        criteria.individual_id.as_ref(),
    );
    let limit = query_count(&q, "limit")
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let offset = query_count(&q, "offset").unwrap_or(0);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "Individual": page(&found, offset, limit),
        "TotalCount": found.len(),
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OrgCriteria {
    tenant_id: Option<String>,
    id: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct OrgSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
    #[serde(rename = "SearchCriteria", default)]
    criteria: Option<OrgCriteria>,
    #[serde(rename = "Pagination", alias = "pagination", default)]
    pagination: Option<PageIn>,
}

/// `POST /org-services/organisation/v1/_search` → `{ResponseInfo, organisations, TotalCount}`.
async fn organisation_search(
    State(s): State<Arc<Shared>>,
    DigitJson(req): DigitJson<OrgSearchRequest>,
) -> Result<Response, ApiError> {
    let criteria = req.criteria.unwrap_or_default();
    let tenant = required_tenant(criteria.tenant_id, "SearchCriteria.tenantId")?;
    let found = s.lock().search_organisations(&tenant, criteria.id.as_ref());
    let (offset, limit) = req
        .pagination
        .unwrap_or_default()
        .bounds(DEFAULT_LIMIT, MAX_LIMIT);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "organisations": page(&found, offset, limit),
        "TotalCount": found.len(),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct AuditSearchRequest {
    #[serde(rename = "RequestInfo", alias = "requestInfo")]
    request_info: Value,
}

/// `POST /audit-service/log/v1/_search?tenantId=&offset=&limit=&objectId=&entityName=`
/// → `{ResponseInfo, AuditLogs}` (oldest first).
async fn audit_search(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    DigitJson(req): DigitJson<AuditSearchRequest>,
) -> Result<Response, ApiError> {
    let tenant = required_tenant(q.get("tenantId").cloned(), "tenantId (query parameter)")?;
    let logs = s.lock().search_audit_logs(
        Some(&tenant),
        q.get("objectId").map(String::as_str),
        q.get("entityName").map(String::as_str),
    );
    let limit = query_count(&q, "limit")
        .filter(|l| *l > 0)
        .unwrap_or(MAX_LIMIT)
        .min(MAX_LIMIT);
    let offset = query_count(&q, "offset").unwrap_or(0);
    Ok(Json(json!({
        "ResponseInfo": response_info(&req.request_info),
        "AuditLogs": page(&logs, offset, limit),
    }))
    .into_response())
}

// ---- admin --------------------------------------------------------------------------

fn admin_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::from(SimError::invalid(
            codes::INVALID_ADMIN_REQUEST,
            e.to_string(),
        ))
    })
}

async fn get_fixtures(State(s): State<Arc<Shared>>) -> Response {
    Json(s.lock().data.clone()).into_response()
}

/// `POST /simulator/fixtures`: replaces every fixture and forgets payments.
async fn replace_fixtures(State(s): State<Arc<Shared>>, body: Bytes) -> Result<Response, ApiError> {
    let fixtures: Fixtures = admin_body(&body)?;
    s.lock().replace_fixtures(fixtures);
    Ok(Json(json!({"status": "replaced"})).into_response())
}

/// `POST /simulator/fixtures/_add`: adds or replaces (by id) records; payments stay.
async fn add_fixtures(State(s): State<Arc<Shared>>, body: Bytes) -> Result<Response, ApiError> {
    let fixtures: Fixtures = admin_body(&body)?;
    s.lock().add_fixtures(fixtures);
    Ok(Json(json!({"status": "added"})).into_response())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BillsBody {
    Wrapped { bills: Vec<Bill> },
    List(Vec<Bill>),
    One(Box<Bill>),
}

/// `POST /simulator/bills` (`{bills: [...]}`, a list or one bill): approved bills without
/// payment, ids and numbers filled in → `{bills}`.
async fn add_bills(State(s): State<Arc<Shared>>, body: Bytes) -> Result<Response, ApiError> {
    let bills = match admin_body::<BillsBody>(&body)? {
        BillsBody::Wrapped { bills } | BillsBody::List(bills) => bills,
        BillsBody::One(bill) => vec![*bill],
    };
    let added = s.lock().add_bills(bills, now_ms());
    Ok(Json(json!({"bills": added})).into_response())
}

/// `POST /simulator/bankaccounts/_change` `{referenceId, accountNumber?, ifsc?,
/// accountHolderName?, tenantId?}` → `{bankAccount, auditLogs}` (the entries appended).
async fn change_bank_account(
    State(s): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let change: BankAccountChange = admin_body(&body)?;
    let (account, logs) = s.lock().change_bank_account(&change, now_ms())?;
    Ok(Json(json!({"bankAccount": account, "auditLogs": logs})).into_response())
}

/// `GET /simulator/state`.
async fn state(State(s): State<Arc<Shared>>) -> Response {
    let store = s.lock();
    Json(json!({
        "bills": store.data.bills,
        "individuals": store.data.individuals,
        "organisations": store.data.organisations,
        "bankAccounts": store.data.bank_accounts,
        "auditLogs": store.data.audit_logs,
        "payments": store.payments,
        "paymentHistory": store.history,
        "published": store.published,
        "disburseCallbacks": store.callbacks,
        "disburseCallbacksReceived": store.callbacks_received,
    }))
    .into_response()
}

/// `POST /simulator/state/_reset`: back to the fixtures last loaded.
async fn reset(State(s): State<Arc<Shared>>) -> Response {
    s.lock().reset();
    Json(json!({"status": "reset"})).into_response()
}
