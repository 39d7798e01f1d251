//! The dashboard: a page at `<ctx>/dashboard` and the JSON API it calls,
//! `POST <ctx>/dashboard/v1/_summary`, whose every figure is an Elasticsearch aggregation
//! over the indexes the indexer writes (`pgr-services`, `ifms-pi-index`,
//! `exchange-events-v1`, `ifix-disbursements`, `ifix-sanctions`; each name a setting).
//!
//! Unauthenticated, like upstream's open indexer endpoints: it answers figures only (no
//! document, no PII). The page is vanilla JS drawing SVG, embedded in the binary, and
//! fetches nothing but this API (its Content-Security-Policy says so). README "Indexer
//! dashboard" documents the API and every rule behind the figures.

mod error;
mod handler;
pub mod queries;

pub use error::{codes, DashboardError};
pub use handler::SummaryRequest;

use digit_core::{ResponseInfo, ResponseStatus};
use digit_runtime::Platform;
use digit_service::config::{ConfigError, Env, EnvVar};
use digit_service::openapi::{document, get_with, post_with, TransformOperation};
use digit_service::{ApiRouter, Documented};
use elasticsearch::{Elasticsearch, SearchParts};
use queries::{ComplaintOptions, Complaints, Exchange, FundsSummary, Interval, Payments, SlaRule};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// `pgr-services` index.
pub const PGR_INDEX: EnvVar = EnvVar {
    name: "DASHBOARD_PGR_INDEX",
    aliases: &[],
    default: "pgr-services",
    help: "Dashboard: index (or alias) of PGR complaints",
};
/// `ifms-pi-index` index.
pub const PI_INDEX: EnvVar = EnvVar {
    name: "DASHBOARD_PI_INDEX",
    aliases: &[],
    default: "ifms-pi-index",
    help: "Dashboard: index of IFMS payment instructions",
};
/// `ifix-disbursements` index.
pub const DISBURSEMENT_INDEX: EnvVar = EnvVar {
    name: "DASHBOARD_DISBURSEMENT_INDEX",
    aliases: &[],
    default: "ifix-disbursements",
    help: "Dashboard: index of the program service's disbursements",
};
/// `ifix-sanctions` index.
pub const SANCTION_INDEX: EnvVar = EnvVar {
    name: "DASHBOARD_SANCTION_INDEX",
    aliases: &[],
    default: "ifix-sanctions",
    help: "Dashboard: index of the program service's sanctions (funds)",
};
/// `exchange-events-v1` index.
pub const EXCHANGE_INDEX: EnvVar = EnvVar {
    name: "DASHBOARD_EXCHANGE_INDEX",
    aliases: &[],
    default: "exchange-events-v1",
    help: "Dashboard: index of the messages through DIGIT Exchange",
};
/// Which exchange code is the head of account.
pub const HEAD_OF_ACCOUNT: EnvVar = EnvVar {
    name: "DASHBOARD_HEAD_OF_ACCOUNT",
    aliases: &[],
    default: "function_code",
    help: "Dashboard: the sanction's exchange code shown as head of account (function_code, administration_code, recipient_segment_code, economic_segment_code, source_of_fund_code, target_segment_code, currency_code or locale_code)",
};
/// Closed complaint statuses.
pub const CLOSED_STATUSES: EnvVar = EnvVar {
    name: "DASHBOARD_PGR_CLOSED_STATUSES",
    aliases: &[],
    default: "RESOLVED,REJECTED,CLOSEDAFTERRESOLUTION,CLOSEDAFTERREJECTION,RESOLVEDBYSUPERVISOR",
    help: "Dashboard: complaint statuses that count as closed (upstream DSS uses RESOLVED,REJECTED,CLOSEDAFTERRESOLUTION)",
};
/// SLA of a complaint without `slaHours`.
pub const DEFAULT_SLA_HOURS: EnvVar = EnvVar {
    name: "DASHBOARD_DEFAULT_SLA_HOURS",
    aliases: &[],
    default: "48",
    help: "Dashboard: SLA in hours of a complaint whose document has no slaHours (upstream DSS's fixed SLA is 48)",
};
/// Buckets per breakdown.
pub const TERMS_SIZE: EnvVar = EnvVar {
    name: "DASHBOARD_TERMS_SIZE",
    aliases: &[],
    default: "50",
    help: "Dashboard: largest buckets shown per breakdown (1..1000); the rest is counted as other",
};
/// Elasticsearch timeout.
pub const ES_TIMEOUT_MS: EnvVar = EnvVar {
    name: "DASHBOARD_ES_TIMEOUT_MS",
    aliases: &[],
    default: "10000",
    help: "Dashboard: time bound of each Elasticsearch query in ms (100..120000)",
};

/// Every dashboard setting (for `--help`).
pub const VARS: &[EnvVar] = &[
    PGR_INDEX,
    PI_INDEX,
    DISBURSEMENT_INDEX,
    SANCTION_INDEX,
    EXCHANGE_INDEX,
    HEAD_OF_ACCOUNT,
    CLOSED_STATUSES,
    DEFAULT_SLA_HOURS,
    TERMS_SIZE,
    ES_TIMEOUT_MS,
];

/// The indexes the figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexes {
    /// Complaints.
    pub pgr: String,
    /// Payment instructions.
    pub payment_instructions: String,
    /// Disbursements.
    pub disbursements: String,
    /// Sanctions.
    pub sanctions: String,
    /// Exchange messages.
    pub exchange: String,
}

/// The dashboard's settings (README "Indexer dashboard").
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardSettings {
    /// Index names.
    pub indexes: Indexes,
    /// The exchange code shown as head of account (one of [`queries::EXCHANGE_CODES`]).
    pub head_of_account: String,
    /// Complaint statuses that count as closed.
    pub closed_statuses: Vec<String>,
    /// SLA of a complaint without `slaHours`.
    pub default_sla_hours: f64,
    /// Buckets per breakdown.
    pub terms_size: u32,
    /// Time bound of each Elasticsearch query.
    pub es_timeout: Duration,
}

impl Default for DashboardSettings {
    // The declared defaults are valid (`the_declared_defaults_are_valid`).
    #[allow(clippy::expect_used)]
    fn default() -> Self {
        Self::from_env(&Env::from_pairs(Vec::<(String, String)>::new()))
            .expect("the declared defaults are valid")
    }
}

/// Lower-case letters, digits, `-`, `_`, `.`, starting with a letter or digit: one
/// concrete index or alias (no list, no wildcard).
fn valid_index(name: &str) -> bool {
    name.len() <= 255
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

impl DashboardSettings {
    /// Reads and checks the settings.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let invalid = |var: &EnvVar| ConfigError::Invalid {
            name: var.name,
            value: env.get_or_default(var),
        };
        let index = |var: &EnvVar| {
            let name = env.get_or_default(var).trim().to_owned();
            if valid_index(&name) {
                Ok(name)
            } else {
                Err(invalid(var))
            }
        };
        let indexes = Indexes {
            pgr: index(&PGR_INDEX)?,
            payment_instructions: index(&PI_INDEX)?,
            disbursements: index(&DISBURSEMENT_INDEX)?,
            sanctions: index(&SANCTION_INDEX)?,
            exchange: index(&EXCHANGE_INDEX)?,
        };
        let head_of_account = env.get_or_default(&HEAD_OF_ACCOUNT).trim().to_owned();
        if !queries::EXCHANGE_CODES.contains(&head_of_account.as_str()) {
            return Err(invalid(&HEAD_OF_ACCOUNT));
        }
        let closed_statuses = env.list(&CLOSED_STATUSES);
        if closed_statuses.is_empty() || closed_statuses.len() > 64 {
            return Err(invalid(&CLOSED_STATUSES));
        }
        let default_sla_hours: f64 = env.parse(&DEFAULT_SLA_HOURS)?;
        if !valid_sla_hours(default_sla_hours) {
            return Err(invalid(&DEFAULT_SLA_HOURS));
        }
        let terms_size: u32 = env.parse(&TERMS_SIZE)?;
        if !(1..=1000).contains(&terms_size) {
            return Err(invalid(&TERMS_SIZE));
        }
        let timeout_ms: u64 = env.parse(&ES_TIMEOUT_MS)?;
        if !(100..=120_000).contains(&timeout_ms) {
            return Err(invalid(&ES_TIMEOUT_MS));
        }
        Ok(Self {
            indexes,
            head_of_account,
            closed_statuses,
            default_sla_hours,
            terms_size,
            es_timeout: Duration::from_millis(timeout_ms),
        })
    }
}

/// An SLA is more than zero and at most ten years.
pub fn valid_sla_hours(hours: f64) -> bool {
    hours.is_finite() && hours > 0.0 && hours <= 87_600.0
}

/// The answer of `_summary`: every figure of the page.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Upstream's envelope, echoing the request's `RequestInfo` when it sent one.
    #[serde(rename = "ResponseInfo")]
    pub response_info: ResponseInfo,
    /// The tenant asked for (`null`: all).
    pub tenant_id: Option<String>,
    /// From (epoch ms, inclusive).
    pub from_date: Option<i64>,
    /// To (epoch ms, inclusive).
    pub to_date: Option<i64>,
    /// When the figures were computed (open complaints are overdue relative to it).
    pub as_of: i64,
    /// PGR complaints.
    pub complaints: Complaints,
    /// IFMS payment instructions.
    pub payment_instructions: Payments,
    /// Program-service disbursements.
    pub disbursements: Payments,
    /// Funds per program and head of account.
    pub funds: FundsSummary,
    /// Messages through the exchange.
    pub exchange: Exchange,
}

/// The dashboard's state: the client, the settings, the rendered page.
pub struct Dashboard {
    client: Elasticsearch,
    settings: DashboardSettings,
    page: String,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// A dashboard served under `context_path` (e.g. `/egov-indexer`).
    pub fn new(client: Elasticsearch, settings: DashboardSettings, context_path: &str) -> Self {
        Self {
            client,
            settings,
            page: handler::render_page(context_path),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &DashboardSettings {
        &self.settings
    }

    /// Every figure for `request`, with open complaints judged at `now` (epoch ms): one
    /// aggregation search per index, run concurrently.
    pub async fn summary(
        &self,
        request: &SummaryRequest,
        now: i64,
    ) -> Result<Summary, DashboardError> {
        let s = &self.settings;
        let filter = &request.filter;
        let sla = match request.sla_hours {
            Some(hours) => SlaRule::Fixed { hours },
            None => SlaRule::PerComplaint {
                default_hours: s.default_sla_hours,
            },
        };
        let opts = ComplaintOptions {
            closed_statuses: &s.closed_statuses,
            sla,
            now,
            terms_size: s.terms_size,
            interval: Interval::for_range(filter.from, filter.to),
        };
        let (pgr, pis, disbursements, sanctions, exchange) = tokio::try_join!(
            self.search(&s.indexes.pgr, queries::complaints_query(filter, &opts)),
            self.search(
                &s.indexes.payment_instructions,
                queries::amounts_query(filter, &queries::PAYMENT_INSTRUCTION, s.terms_size)
            ),
            self.search(
                &s.indexes.disbursements,
                queries::amounts_query(filter, &queries::DISBURSEMENT, s.terms_size)
            ),
            self.search(
                &s.indexes.sanctions,
                queries::funds_query(filter, &s.head_of_account, s.terms_size)
            ),
            self.search(
                &s.indexes.exchange,
                queries::exchange_query(filter, s.terms_size)
            ),
        )?;
        Ok(Summary {
            response_info: ResponseInfo::from_request(
                request.request_info.as_ref(),
                ResponseStatus::Successful,
            ),
            tenant_id: filter.tenant_id.clone(),
            from_date: filter.from,
            to_date: filter.to,
            as_of: now,
            complaints: queries::parse_complaints(&pgr, &opts),
            payment_instructions: queries::parse_amounts(&pis),
            disbursements: queries::parse_amounts(&disbursements),
            funds: queries::parse_funds(&sanctions, &s.head_of_account),
            exchange: queries::parse_exchange(&exchange),
        })
    }

    /// One aggregation search; a missing index answers empty (`ignore_unavailable`,
    /// `allow_no_indices`), which reads as zeros.
    async fn search(&self, index: &str, body: Value) -> Result<Value, DashboardError> {
        let failed = |e: DashboardError| {
            tracing::warn!(index, error = %e, "Dashboard query failed.");
            e
        };
        let response = self
            .client
            .search(SearchParts::Index(&[index]))
            .ignore_unavailable(true)
            .allow_no_indices(true)
            .request_timeout(self.settings.es_timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| failed(DashboardError::Unavailable(e.to_string())))?;
        let status = response.status_code().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| failed(DashboardError::Unavailable(e.to_string())))?;
        if status == 429 || status >= 500 {
            return Err(failed(DashboardError::Unavailable(format!(
                "HTTP {status}: {}",
                es_reason(&text)
            ))));
        }
        if !(200..300).contains(&status) {
            return Err(failed(DashboardError::Query(format!(
                "HTTP {status}: {}",
                es_reason(&text)
            ))));
        }
        serde_json::from_str(&text)
            .map_err(|e| failed(DashboardError::Query(format!("not JSON: {e}"))))
    }
}

/// The root cause Elasticsearch gives (for the log), or the start of the body.
fn es_reason(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    parsed
        .as_ref()
        .and_then(|v| {
            v["error"]["root_cause"][0]["reason"]
                .as_str()
                .or_else(|| v["error"]["reason"].as_str())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// The dashboard's routes under `context_path` (the page, its two assets, the API),
/// documented but not finished: [`crate::router`] finishes them with the index operations'
/// into the one document of the context.
pub fn routes(dashboard: Arc<Dashboard>, context_path: &str) -> ApiRouter {
    let base = format!("{}/dashboard", context_path.trim_end_matches('/'));
    ApiRouter::new()
        .api_route(
            &base,
            get_with(handler::page, |o| {
                text(
                    o.tag("Dashboard").summary("The dashboard page"),
                    "text/html",
                    "The page (vanilla JS drawing SVG; it calls `v1/_summary` only)",
                )
            }),
        )
        .api_route(
            &format!("{base}/assets/dashboard.js"),
            get_with(handler::script, |o| {
                text(
                    o.tag("Dashboard").summary("The page's script"),
                    "text/javascript",
                    "The script",
                )
            }),
        )
        .api_route(
            &format!("{base}/assets/dashboard.css"),
            get_with(handler::style, |o| {
                text(
                    o.tag("Dashboard").summary("The page's style sheet"),
                    "text/css",
                    "The style sheet",
                )
            }),
        )
        .api_route(
            &format!("{base}/v1/_summary"),
            post_with(handler::summary, |o| {
                crate::api::json_body::<handler::SummaryBody>(
                    o.tag("Dashboard").summary(
                        "Every figure of the dashboard (Elasticsearch aggregations), \
                         for a tenant and date range",
                    ),
                    "Optional filters; an empty body asks for every tenant and date",
                    false,
                )
            }),
        )
        .with_state(dashboard)
}

/// A `200` whose body is text of `media_type` (assets embedded in the binary).
fn text<'a>(
    op: TransformOperation<'a>,
    media_type: &str,
    description: &str,
) -> TransformOperation<'a> {
    op.response_with::<200, String, _>(|r| {
        let mut r = r.description(description);
        let content = std::mem::take(&mut r.inner().content);
        r.inner().content = content
            .into_iter()
            .map(|(_, media)| (media_type.to_owned(), media))
            .collect();
        r
    })
}

/// The dashboard alone, with its own document at `<context_path>/openapi.json` (a dashboard
/// served without the index operations, e.g. in tests).
pub fn router(dashboard: Arc<Dashboard>, context_path: &str) -> Documented {
    let routes = routes(dashboard, context_path);
    document(
        "Indexer dashboard",
        "Figures of complaints, payments, funds and exchange messages from the indexes the \
         indexer writes.",
        &[context_path.trim_end_matches('/')],
        routes,
    )
}

/// The dashboard of the running indexer: settings and the Elasticsearch URL from the
/// platform's environment.
pub fn from_platform(platform: &Platform) -> anyhow::Result<Arc<Dashboard>> {
    let settings = DashboardSettings::from_env(&platform.env)?;
    let client = crate::elasticsearch(&platform.env)?.client().clone();
    let context_path = &platform.settings.context_path;
    Ok(Arc::new(Dashboard::new(client, settings, context_path)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_declared_defaults_are_valid() {
        let s = DashboardSettings::default();
        assert_eq!(s.indexes.pgr, "pgr-services");
        assert_eq!(s.indexes.payment_instructions, "ifms-pi-index");
        assert_eq!(s.indexes.exchange, "exchange-events-v1");
        assert_eq!(s.indexes.sanctions, "ifix-sanctions");
        assert_eq!(s.indexes.disbursements, "ifix-disbursements");
        assert_eq!(s.head_of_account, "function_code");
        assert_eq!(s.closed_statuses.len(), 5);
        assert_eq!(s.default_sla_hours, 48.0);
    }

    #[test]
    fn unusable_settings_are_refused_by_name() {
        for (name, value) in [
            ("DASHBOARD_PGR_INDEX", "pgr-*"),
            ("DASHBOARD_PI_INDEX", "a,b"),
            ("DASHBOARD_EXCHANGE_INDEX", "Upper"),
            ("DASHBOARD_HEAD_OF_ACCOUNT", "hoa"),
            ("DASHBOARD_PGR_CLOSED_STATUSES", " , "),
            ("DASHBOARD_DEFAULT_SLA_HOURS", "0"),
            ("DASHBOARD_DEFAULT_SLA_HOURS", "x"),
            ("DASHBOARD_TERMS_SIZE", "0"),
            ("DASHBOARD_ES_TIMEOUT_MS", "5"),
        ] {
            let e = DashboardSettings::from_env(&Env::from_pairs([(name, value)])).unwrap_err();
            assert!(e.to_string().contains(name), "{name}={value}: {e}");
        }
        let s = DashboardSettings::from_env(&Env::from_pairs([
            ("DASHBOARD_HEAD_OF_ACCOUNT", "economic_segment_code"),
            ("DASHBOARD_PGR_CLOSED_STATUSES", "RESOLVED, REJECTED"),
        ]))
        .unwrap();
        assert_eq!(s.head_of_account, "economic_segment_code");
        assert_eq!(s.closed_statuses, ["RESOLVED", "REJECTED"]);
    }

    #[test]
    fn elasticsearch_reasons_are_read_from_its_error_body() {
        assert_eq!(
            es_reason(r#"{"error":{"root_cause":[{"reason":"boom"}],"reason":"outer"}}"#),
            "boom"
        );
        assert_eq!(es_reason("<html>"), "<html>");
    }
}
