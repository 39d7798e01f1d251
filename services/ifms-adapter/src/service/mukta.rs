//! MUKTA's services the payment path calls (spec A2.2): expense (bills, payments), bank
//! accounts, individuals, organisations and the audit log — through the suite's one HTTP
//! client (timeouts, correlation id, DIGIT error decoding). Searches may be retried; a
//! payment create or update is a write and is not. Answers are read leniently as JSON (the
//! adapter uses a handful of fields of each model).

use crate::error::IfmsError;
use digit_http::HttpClient;
use digit_service::config::{ConfigError, Env, EnvVar};
use serde_json::{json, Value};

macro_rules! host_var {
    ($name:ident, $env:literal, $what:literal) => {
        /// A MUKTA service host.
        pub const $name: EnvVar = EnvVar {
            name: $env,
            aliases: &[],
            default: "http://127.0.0.1:8096/",
            help: concat!(
                $what,
                " host (the MUKTA services simulator of `make up` by default)"
            ),
        };
    };
}

host_var!(
    BILL_HOST,
    "EGOV_BILL_HOST",
    "Expense service (bills and payments)"
);
host_var!(
    BANK_ACCOUNT_HOST,
    "EGOV_BANK_ACCOUNT_HOST",
    "Bank account service"
);
host_var!(
    INDIVIDUAL_HOST,
    "EGOV_INDIVIDUAL_HOST",
    "Individual service"
);
host_var!(
    ORGANISATION_HOST,
    "EGOV_ORGANISATION_HOST",
    "Organisation service"
);
host_var!(AUDIT_LOG_HOST, "EGOV_AUDIT_LOG_HOST", "Audit log service");

/// Page size of the PA bill search (upstream `egov.bill.search.limit`).
pub const BILL_SEARCH_LIMIT: EnvVar = EnvVar {
    name: "EGOV_BILL_SEARCH_LIMIT",
    aliases: &[],
    default: "100",
    help: "Bills per page when PA looks for approved bills without a payment",
};

/// The hosts.
pub const MUKTA_VARS: &[EnvVar] = &[
    BILL_HOST,
    BANK_ACCOUNT_HOST,
    INDIVIDUAL_HOST,
    ORGANISATION_HOST,
    AUDIT_LOG_HOST,
    BILL_SEARCH_LIMIT,
];

/// The clients.
#[derive(Clone)]
pub struct Mukta {
    http: HttpClient,
    bill: String,
    bank: String,
    individual: String,
    organisation: String,
    audit: String,
    /// PA page size.
    pub bill_search_limit: i64,
}

impl std::fmt::Debug for Mukta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mukta")
            .field("bill", &self.bill)
            .finish_non_exhaustive()
    }
}

fn dependency(e: digit_http::HttpError) -> IfmsError {
    IfmsError::Dependency(digit_core::infra::chain(&e))
}

/// The list under `key` of an answer.
fn list(answer: Value, key: &str) -> Vec<Value> {
    match answer {
        Value::Object(mut o) => match o.remove(key) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

impl Mukta {
    /// From the settings, calling through `http`.
    pub fn from_env(env: &Env, http: HttpClient) -> Result<Self, ConfigError> {
        Ok(Self {
            http,
            bill: env.get_or_default(&BILL_HOST),
            bank: env.get_or_default(&BANK_ACCOUNT_HOST),
            individual: env.get_or_default(&INDIVIDUAL_HOST),
            organisation: env.get_or_default(&ORGANISATION_HOST),
            audit: env.get_or_default(&AUDIT_LOG_HOST),
            bill_search_limit: env.parse::<i64>(&BILL_SEARCH_LIMIT)?.clamp(1, 1000),
        })
    }

    async fn search(
        &self,
        host: &str,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Result<Vec<Value>, IfmsError> {
        let url = digit_http::join_url(host, path);
        let answer: Value = self
            .http
            .post(url)
            .json(body)
            .idempotent()
            .send_json()
            .await
            .map_err(dependency)?;
        Ok(list(answer, key))
    }

    /// The expense URL of `path` (outbox messages to expense are built with it).
    pub fn expense_url(&self, path: &str) -> String {
        digit_http::join_url(&self.bill, path)
    }

    /// A payment by number.
    pub async fn payment(&self, tenant: &str, number: &str) -> Result<Option<Value>, IfmsError> {
        let body = json!({"RequestInfo": {}, "paymentCriteria": {"tenantId": tenant, "paymentNumbers": [number]},
            "pagination": {"limit": 10, "offSet": 0}});
        Ok(self
            .search(&self.bill, "expense/payment/v1/_search", &body, "payments")
            .await?
            .into_iter()
            .find(|p| p.get("paymentNumber").and_then(Value::as_str) == Some(number)))
    }

    /// Bills by id.
    pub async fn bills(&self, tenant: &str, ids: &[String]) -> Result<Vec<Value>, IfmsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({"RequestInfo": {}, "billCriteria": {"tenantId": tenant, "ids": ids},
            "pagination": {"limit": ids.len(), "offSet": 0}});
        self.search(&self.bill, "expense/bill/v1/_search", &body, "bills")
            .await
    }

    /// A page of the tenant's bills without a payment status.
    pub async fn unpaid_bills(&self, tenant: &str, offset: i64) -> Result<Vec<Value>, IfmsError> {
        let body = json!({"RequestInfo": {}, "billCriteria": {"tenantId": tenant, "isPaymentStatusNull": true},
            "pagination": {"limit": self.bill_search_limit, "offSet": offset}});
        self.search(&self.bill, "expense/bill/v1/_search", &body, "bills")
            .await
    }

    /// Creates a payment (expense publishes `expense-payment-create`).
    pub async fn create_payment(&self, payment: &Value) -> Result<Value, IfmsError> {
        let url = digit_http::join_url(&self.bill, "expense/payment/v1/_create");
        let answer: Value = self
            .http
            .post(url)
            .json(&json!({"RequestInfo": {}, "payment": payment}))
            .send_json()
            .await
            .map_err(dependency)?;
        Ok(list(answer, "payments")
            .into_iter()
            .next()
            .unwrap_or(Value::Null))
    }

    /// Bank accounts of payees (by reference id).
    pub async fn bank_accounts(
        &self,
        tenant: &str,
        references: &[String],
    ) -> Result<Vec<Value>, IfmsError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({"RequestInfo": {}, "bankAccountDetails": {"tenantId": tenant, "referenceId": references},
            "pagination": {"limit": references.len(), "offSet": 0, "order": "ASC"}});
        self.search(
            &self.bank,
            "bankaccount-service/bankaccount/v1/_search",
            &body,
            "bankAccounts",
        )
        .await
    }

    /// Individuals by id.
    pub async fn individuals(&self, tenant: &str, ids: &[String]) -> Result<Vec<Value>, IfmsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let path = format!(
            "individual/v1/_search?tenantId={tenant}&offset=0&limit={}",
            ids.len()
        );
        let body = json!({"RequestInfo": {}, "Individual": {"id": ids}});
        self.search(&self.individual, &path, &body, "Individual")
            .await
    }

    /// Organisations by id.
    pub async fn organisations(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<Value>, IfmsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({"RequestInfo": {}, "SearchCriteria": {"tenantId": tenant, "id": ids},
            "Pagination": {"limit": ids.len(), "offSet": 0}});
        self.search(
            &self.organisation,
            "org-services/organisation/v1/_search",
            &body,
            "organisations",
        )
        .await
    }

    /// The audit log of an object (a bank account), any order.
    pub async fn audit_logs(&self, tenant: &str, object_id: &str) -> Result<Vec<Value>, IfmsError> {
        let path = format!(
            "audit-service/log/v1/_search?tenantId={tenant}&offset=0&limit=1000&objectId={object_id}"
        );
        self.search(&self.audit, &path, &json!({"RequestInfo": {}}), "AuditLogs")
            .await
    }
}
