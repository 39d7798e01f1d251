//! The adapter's pipelines: VA (allotments → sanctions and funds), the disbursement path
//! (an iFIX disbursement → a PI posted to JIT), the pollers that follow a PI to its end, and
//! the searches. Every state change is one Postgres transaction with its ledger rows, its
//! status log and its outbound messages — the program service's callbacks and the index
//! topic — written to the transactional outbox, so a crash neither loses nor repeats a
//! rupee or a message.

pub mod callbacks;
pub mod disburse;
pub mod jobs;
pub mod mukta;
pub mod payment;
pub mod pollers;
pub mod search;
pub mod treasury;
pub mod va;

use crate::domain::calendar::CorWindow;
use crate::error::IfmsError;
use digit_core::UserInfo;
use digit_mdms::MdmsSource;
use digit_service::authz::{Authorizer, AuthzError};
use digit_service::config::{ConfigError, Env, EnvVar};
use digit_store::IdGenerator;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;
use treasury::Treasury;

/// Program service host (upstream `egov.program.service.host`).
pub const PROGRAM_SERVICE_HOST: EnvVar = EnvVar {
    name: "EGOV_PROGRAM_SERVICE_HOST",
    aliases: &["IFMS_PROGRAM_SERVICE_HOST"],
    default: "http://127.0.0.1:8093/",
    help: "The treasury-side program service host: callbacks go to {host}{IFMS_PROGRAM_SERVICE_PATH}on-sanction/_create, on-allocation/_create, on-disburse/_update",
};
/// Program service path (upstream `ifms/program-service/v1/`).
pub const PROGRAM_SERVICE_PATH: EnvVar = EnvVar {
    name: "IFMS_PROGRAM_SERVICE_PATH",
    aliases: &[],
    default: "program-service/v1/",
    help: "Path of the program service's v1 endpoints (joined to EGOV_PROGRAM_SERVICE_HOST; upstream deploys it as ifms/program-service/v1/)",
};
/// Bearer token for the program service.
pub const PROGRAM_SERVICE_TOKEN: EnvVar = EnvVar {
    name: "IFMS_OUTBOUND_TOKEN",
    aliases: &[],
    default: "",
    help: "JWT sent as Authorization: Bearer to the program service (role IFIX_ADAPTER) and with the expense payment updates (none when empty)",
};
/// The index topic.
pub const PI_INDEX_TOPIC: EnvVar = EnvVar {
    name: "IFMS_PI_INDEX_ENRICH_TOPIC",
    aliases: &[],
    default: "ifms-pi-index-enrich",
    help: "Topic of the PI index copies (upstream ifms.pi.index.enrich.topic)",
};
/// Upstream's mock mode switch.
pub const MOCK_ENABLED: EnvVar = EnvVar {
    name: "IFMS_JIT_MOCK_ENABLED",
    aliases: &[],
    default: "false",
    help: "true: answer the tenants of IFMS_JIT_MOCK_ENABLED_TENANTS from MDMS ifms.JitMockResponse instead of JIT (upstream's mock mode; off by default)",
};
/// Tenants answered by mock mode.
pub const MOCK_TENANTS: EnvVar = EnvVar {
    name: "IFMS_JIT_MOCK_ENABLED_TENANTS",
    aliases: &[],
    default: "",
    help: "Comma-separated tenants answered from MDMS in mock mode",
};
/// COR window: days.
pub const PI_EXPIRE_DAYS: EnvVar = EnvVar {
    name: "ORIGINAL_PI_EXPIRE_DAYS",
    aliases: &[],
    default: "90",
    help: "A correction PI is allowed within this many days of the original PI",
};
/// COR window: month of the grace after a financial-year change.
pub const PI_EXPIRE_FY_MONTH: EnvVar = EnvVar {
    name: "ORIGINAL_PI_EXPIRE_FINANCIAL_YEAR_MONTH",
    aliases: &[],
    default: "4",
    help: "After a change of financial year a correction PI is allowed until this month …",
};
/// COR window: day of that month.
pub const PI_EXPIRE_FY_DATE: EnvVar = EnvVar {
    name: "ORIGINAL_PI_EXPIRE_FINANCIAL_YEAR_DATE",
    aliases: &[],
    default: "30",
    help: "… and this day, 23:59:59 India time",
};
/// FD window.
pub const FD_WINDOW_DAYS: EnvVar = EnvVar {
    name: "IFMS_FD_WINDOW_DAYS",
    aliases: &[],
    default: "7",
    help: "FD asks JIT for the failures of each voucher date of the last N days (upstream: one date, 5 days ago)",
};
/// VA overlap.
pub const VA_OVERLAP_DAYS: EnvVar = EnvVar {
    name: "IFMS_VA_OVERLAP_DAYS",
    aliases: &[],
    default: "7",
    help: "VA asks JIT from the watermark less this many days (allotments are applied once, so the overlap only catches late postings)",
};
/// Re-push delay.
pub const REPUSH_AFTER_MS: EnvVar = EnvVar {
    name: "IFMS_REPUSH_AFTER_MS",
    aliases: &[],
    default: "300000",
    help: "A PI whose post had no answer is posted again by the PIS job once it is this old (same bill number)",
};
/// Poll batch.
pub const POLL_BATCH: EnvVar = EnvVar {
    name: "IFMS_POLL_BATCH",
    aliases: &[],
    default: "500",
    help: "At most this many PIs per poller run",
};
/// PII keys.
pub const PII_KEYS: EnvVar = EnvVar {
    name: "IFMS_PII_KEYS",
    aliases: &[],
    default: "",
    help: "Required. AES-256 keys for beneficiary accounts and JIT requests at rest: id:base64(32 bytes)[,id:key…]; the first encrypts, all decrypt",
};
/// Search page.
pub const SEARCH_DEFAULT_LIMIT: EnvVar = EnvVar {
    name: "IFMS_SEARCH_DEFAULT_LIMIT",
    aliases: &[],
    default: "100",
    help: "Page size of /pi/v1/_search and /funds/v1/_search without a limit",
};
/// Search page bound.
pub const SEARCH_MAX_LIMIT: EnvVar = EnvVar {
    name: "IFMS_SEARCH_MAX_LIMIT",
    aliases: &[],
    default: "1000",
    help: "Largest page a search may ask for",
};

/// The pipelines' settings.
pub const VARS: &[EnvVar] = &[
    PROGRAM_SERVICE_HOST,
    PROGRAM_SERVICE_PATH,
    PROGRAM_SERVICE_TOKEN,
    PI_INDEX_TOPIC,
    MOCK_ENABLED,
    MOCK_TENANTS,
    PI_EXPIRE_DAYS,
    PI_EXPIRE_FY_MONTH,
    PI_EXPIRE_FY_DATE,
    FD_WINDOW_DAYS,
    VA_OVERLAP_DAYS,
    REPUSH_AFTER_MS,
    POLL_BATCH,
    PII_KEYS,
    SEARCH_DEFAULT_LIMIT,
    SEARCH_MAX_LIMIT,
];

/// Settings of the pipelines.
#[derive(Debug, Clone)]
pub struct AdapterSettings {
    /// State tenant (MDMS `tenant.tenants`, `ifms.HeadOfAccounts`, `exchange.ExchangeServers`).
    pub state_tenant: String,
    /// `{host}{path}` of the program service.
    pub program_base: String,
    /// Bearer token for it.
    pub program_token: Option<String>,
    /// Index topic.
    pub index_topic: String,
    /// Mock-mode tenants (empty: off).
    pub mock_tenants: Vec<String>,
    /// COR eligibility.
    pub cor_window: CorWindow,
    /// FD window in days.
    pub fd_window_days: i64,
    /// VA overlap in days.
    pub va_overlap_days: i64,
    /// Re-push delay.
    pub repush_after_ms: i64,
    /// Poll batch.
    pub poll_batch: i64,
    /// Default page.
    pub search_default_limit: i64,
    /// Largest page.
    pub search_max_limit: i64,
}

impl AdapterSettings {
    /// Reads [`VARS`].
    pub fn from_env(env: &Env, state_tenant: &str) -> Result<Self, ConfigError> {
        let token = env.get_or_default(&PROGRAM_SERVICE_TOKEN);
        let mock: bool = env.parse(&MOCK_ENABLED)?;
        let mock_tenants = if mock {
            env.get_or_default(&MOCK_TENANTS)
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            state_tenant: state_tenant.to_owned(),
            program_base: digit_http::join_url(
                &env.get_or_default(&PROGRAM_SERVICE_HOST),
                &env.get_or_default(&PROGRAM_SERVICE_PATH),
            ),
            program_token: (!token.trim().is_empty()).then(|| token.trim().to_owned()),
            index_topic: env.get_or_default(&PI_INDEX_TOPIC),
            mock_tenants,
            cor_window: CorWindow {
                days: env.parse(&PI_EXPIRE_DAYS)?,
                fy_month: env.parse(&PI_EXPIRE_FY_MONTH)?,
                fy_day: env.parse(&PI_EXPIRE_FY_DATE)?,
            },
            fd_window_days: env.parse::<i64>(&FD_WINDOW_DAYS)?.clamp(1, 60),
            va_overlap_days: env.parse::<i64>(&VA_OVERLAP_DAYS)?.clamp(0, 366),
            repush_after_ms: env.parse(&REPUSH_AFTER_MS)?,
            poll_batch: env.parse::<i64>(&POLL_BATCH)?.clamp(1, 10_000),
            search_default_limit: env.parse::<i64>(&SEARCH_DEFAULT_LIMIT)?.max(1),
            search_max_limit: env.parse::<i64>(&SEARCH_MAX_LIMIT)?.max(1),
        })
    }
}

/// Who is calling.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The authenticated user (`None` for jobs).
    pub user: Option<UserInfo>,
    /// The request path (role-actions are per path).
    pub path: String,
    /// Correlation id.
    pub correlation_id: String,
}

impl Caller {
    /// A job's identity.
    pub fn job(name: &str) -> Self {
        Self {
            user: None,
            path: format!("job:{name}"),
            correlation_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The audit name (`createdby`).
    pub fn uuid(&self) -> String {
        self.user
            .as_ref()
            .and_then(|u| u.uuid.clone())
            .unwrap_or_else(|| "ifms-adapter".to_owned())
    }
}

/// The adapter: its dependencies.
#[derive(Clone)]
pub struct AdapterService {
    /// Database.
    pub pool: PgPool,
    /// Master data.
    pub mdms: Arc<dyn MdmsSource>,
    /// PI and beneficiary numbers.
    pub idgen: Arc<IdGenerator>,
    /// JIT.
    pub treasury: Arc<dyn Treasury>,
    /// Beneficiary accounts and JIT requests at rest.
    pub pii: digit_store::PiiCipher,
    /// Settings.
    pub settings: Arc<AdapterSettings>,
    /// Role-action authorization per tenant (`None`: open).
    pub authorizer: Option<Arc<Authorizer>>,
    /// The program service (program lookups).
    pub http: digit_http::HttpClient,
    /// MUKTA's expense, bank account, individual, organisation and audit log services.
    pub mukta: mukta::Mukta,
}

impl std::fmt::Debug for AdapterService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Now, epoch milliseconds.
pub fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

/// A new id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl AdapterService {
    /// The caller may act at `tenant` (role-action at that tenant).
    pub async fn authorize(&self, caller: &Caller, tenant: &str) -> Result<(), IfmsError> {
        let (Some(authorizer), Some(user)) = (&self.authorizer, &caller.user) else {
            return Ok(());
        };
        authorizer
            .authorize(user, &caller.path, &[tenant.to_owned()])
            .await
            .map_err(|e| match e {
                AuthzError::Forbidden(_) => IfmsError::Forbidden(tenant.to_owned()),
                AuthzError::Unavailable(cause) => IfmsError::Dependency(cause),
            })
    }

    /// The SSUs of a tenant (MDMS `ifms.SSUDetails`), `active` ones only when asked.
    pub async fn ssus(&self, tenant: &str, active_only: bool) -> Result<Vec<Value>, IfmsError> {
        let all = self.mdms.master(tenant, "ifms", "SSUDetails", None).await?;
        Ok(all
            .into_iter()
            .filter(|s| !active_only || s.get("active").and_then(Value::as_bool) != Some(false))
            .collect())
    }

    /// The ULB tenants of the state (MDMS `tenant.tenants` without the state itself).
    pub async fn tenants(&self) -> Result<Vec<String>, IfmsError> {
        let state = &self.settings.state_tenant;
        Ok(self
            .mdms
            .master(state, "tenant", "tenants", None)
            .await?
            .iter()
            .filter_map(|t| field(t, "code"))
            .filter(|c| c != state)
            .collect())
    }

    /// The active heads of account of the state, by `sequence`.
    pub async fn heads_of_account(&self) -> Result<Vec<Value>, IfmsError> {
        let mut hoas = self
            .mdms
            .master(
                &self.settings.state_tenant,
                "ifms",
                "HeadOfAccounts",
                Some("$.[?(@.active==true)]"),
            )
            .await?;
        hoas.sort_by_key(|h| {
            h.get("sequence")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX)
        });
        Ok(hoas)
    }
}

impl AdapterService {
    /// The program of a tenant: its SSU's `programCode` in MDMS, else (a standalone suite,
    /// where program codes are assigned when a program is created) the newest program of
    /// the tenant in the program service.
    pub async fn program_code(&self, tenant: &str) -> Result<Option<String>, IfmsError> {
        if let Some(code) = self
            .ssus(tenant, true)
            .await?
            .first()
            .and_then(|s| field(s, "programCode"))
            .filter(|c| !c.trim().is_empty())
        {
            return Ok(Some(code));
        }
        let (own, own_uri, _) = self.participants().await?;
        let body = serde_json::json!({"signature": null,
            "header": {"message_id": new_id(), "message_ts": now_ms(), "message_type": "program",
                "action": "search", "sender_id": own, "sender_uri": own_uri, "receiver_id": own,
                "is_msg_encrypted": false},
            "message": {"location_code": tenant,
                "pagination": {"limit": 20, "offset": 0, "sort_by": "created_time", "sort_order": "DESC"}}});
        let mut call = self
            .http
            .post(format!("{}program/_search", self.settings.program_base))
            .json(&body)
            .idempotent();
        if let Some(token) = &self.settings.program_token {
            call = call.header("Authorization", &format!("Bearer {token}"));
        }
        let found: Value = call
            .send_json()
            .await
            .map_err(|e| IfmsError::Dependency(digit_core::infra::chain(&e)))?;
        Ok(found
            .get("programs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| field(p, "program_code"))
            .find(|c| !c.trim().is_empty()))
    }
}

/// A string field of an MDMS record (numbers rendered as text: `schemeCode` is a number).
pub fn field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
