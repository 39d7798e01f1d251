//! The pipelines of spec §1.8, one module per aggregate (`program`, `sanction`,
//! `allocation`, `disburse`), on the shared steps here: header checks (§1.7.2), reply
//! validation against MDMS `exchange.ExchangeServers` (§1.7.3), `updateUri` (§1.8),
//! location authorization, the inbox (a redelivered message answers its stored response),
//! and the outbox messages — replies and forwards to the local exchange, calls to the
//! adapter, and the dashboard events — written in the transaction of the change.
//!
//! Every write runs as: parse (api) → header → authorize → `BEGIN` → inbox claim →
//! rules → writes (+ ledger rows, guarded balance updates) → outbox rows → inbox answer →
//! `COMMIT` → answer. A business rule failure answers HTTP 200 with status `ERROR` and,
//! where upstream tells the sender (§1.10), an outbox reply; nothing else is written.

pub mod allocation;
pub mod disburse;
pub mod dispatch;
pub mod intake;
pub mod program;
pub mod sanction;

use crate::domain::codes::{self, Rule};
use crate::domain::identity;
use crate::domain::model::{Action, MessageType, RequestHeader};
use crate::error::ProgramError;
use crate::store::pii::PiiCipher;
use digit_core::UserInfo;
use digit_mdms::MdmsSource;
use digit_outbox::OutboxMessage;
use digit_service::authz::{Authorizer, AuthzError};
use digit_service::config::{Env, EnvVar};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;

/// This installation's identity: the exchange URL in participant ids (upstream
/// `exchange.service.external.url`).
pub const EXTERNAL_URL: EnvVar = EnvVar {
    name: "EXCHANGE_SERVICE_EXTERNAL_URL",
    aliases: &["PROGRAM_EXCHANGE_EXTERNAL_URL"],
    default: "http://127.0.0.1:8084/digit-exchange",
    help: "This installation's exchange URL: replies are sent as <service>@<this>, and a receiver_id with this URL is 'same domain'",
};
/// Local exchange base (upstream `exchange.host` + `exchange.path`).
pub const EXCHANGE_HOST: EnvVar = EnvVar {
    name: "EXCHANGE_HOST",
    aliases: &[],
    default: "http://127.0.0.1:8084/",
    help: "Local digit-exchange host; messages go to {EXCHANGE_HOST}{EXCHANGE_PATH}<message_type>",
};
/// Path of the exchange endpoint.
pub const EXCHANGE_PATH: EnvVar = EnvVar {
    name: "EXCHANGE_PATH",
    aliases: &[],
    default: "digit-exchange/v1/exchange/",
    help: "Path of the local exchange's message endpoint (joined to EXCHANGE_HOST)",
};
/// Local adapter base (upstream `adapter.host` + `adapter.path`).
pub const ADAPTER_HOST: EnvVar = EnvVar {
    name: "ADAPTER_HOST",
    aliases: &[],
    default: "http://127.0.0.1:8085/",
    help: "Local adapter host; same-domain disbursements go to {ADAPTER_HOST}{ADAPTER_PATH}<message_type>/_<action>",
};
/// Path of the adapter endpoints.
pub const ADAPTER_PATH: EnvVar = EnvVar {
    name: "ADAPTER_PATH",
    aliases: &[],
    default: "ifms/v1/",
    help: "Path prefix of the local adapter's endpoints (joined to ADAPTER_HOST)",
};
/// MDMS `exchange.ExchangeServers` code whose `hostUrl` replies must be addressed to.
pub const EXCHANGE_URL_CODE: EnvVar = EnvVar {
    name: "EXCHANGE_URL_CODE",
    aliases: &[],
    default: "MUKTA",
    help: "Code of the MDMS exchange.ExchangeServers row whose hostUrl every reply's receiver_id must match",
};
/// Bearer token sent to the local exchange and adapter (this service's identity there).
pub const OUTBOUND_TOKEN: EnvVar = EnvVar {
    name: "PROGRAM_OUTBOUND_TOKEN",
    aliases: &[],
    default: "",
    help: "JWT sent as Authorization: Bearer to the local exchange and adapter (none when empty)",
};
/// PII keys.
pub const PII_KEYS: EnvVar = EnvVar {
    name: "PROGRAM_PII_KEYS",
    aliases: &[],
    default: "",
    help: "Required. AES-256 keys for disbursement PII at rest: id:base64(32 bytes)[,id:key…]; the first encrypts, all decrypt",
};
/// Default page size.
pub const SEARCH_DEFAULT_LIMIT: EnvVar = EnvVar {
    name: "SEARCH_DEFAULT_LIMIT",
    aliases: &[],
    default: "20",
    help: "Search page size when the request names none",
};
/// Largest page size.
pub const SEARCH_MAX_LIMIT: EnvVar = EnvVar {
    name: "SEARCH_MAX_LIMIT",
    aliases: &[],
    default: "100",
    help: "Largest search page size (larger limits are capped, as upstream)",
};
/// Dashboard events: programs.
pub const PROGRAM_EVENTS_TOPIC: EnvVar = EnvVar {
    name: "PROGRAM_EVENTS_TOPIC",
    aliases: &[],
    default: "ifix-program-events",
    help: "Topic of committed program changes (for the indexer)",
};
/// Dashboard events: sanctions.
pub const SANCTION_EVENTS_TOPIC: EnvVar = EnvVar {
    name: "SANCTION_EVENTS_TOPIC",
    aliases: &[],
    default: "ifix-sanction-events",
    help: "Topic of committed sanction changes, balances included",
};
/// Dashboard events: allocations.
pub const ALLOCATION_EVENTS_TOPIC: EnvVar = EnvVar {
    name: "ALLOCATION_EVENTS_TOPIC",
    aliases: &[],
    default: "ifix-allocation-events",
    help: "Topic of committed allocation changes",
};
/// Dashboard events: disbursements.
pub const DISBURSE_EVENTS_TOPIC: EnvVar = EnvVar {
    name: "DISBURSE_EVENTS_TOPIC",
    aliases: &[],
    default: "ifix-disburse-events",
    help: "Topic of committed disbursement changes (PII removed)",
};

/// The `source` of this service's outbox rows.
pub const OUTBOX_SOURCE: &str = "program";

/// The service's own settings.
pub const VARS: &[EnvVar] = &[
    EXTERNAL_URL,
    EXCHANGE_HOST,
    EXCHANGE_PATH,
    ADAPTER_HOST,
    ADAPTER_PATH,
    EXCHANGE_URL_CODE,
    OUTBOUND_TOKEN,
    PII_KEYS,
    SEARCH_DEFAULT_LIMIT,
    SEARCH_MAX_LIMIT,
    PROGRAM_EVENTS_TOPIC,
    SANCTION_EVENTS_TOPIC,
    ALLOCATION_EVENTS_TOPIC,
    DISBURSE_EVENTS_TOPIC,
];

/// Settings read once at start.
#[derive(Debug, Clone)]
pub struct ProgramSettings {
    /// This installation's exchange URL (identity).
    pub external_url: String,
    /// `{EXCHANGE_HOST}{EXCHANGE_PATH}`: append the message type.
    pub exchange_base: String,
    /// `{ADAPTER_HOST}{ADAPTER_PATH}`: append `<type>/_<action>`.
    pub adapter_base: String,
    /// MDMS ExchangeServers code for reply validation.
    pub exchange_url_code: String,
    /// Bearer token for outbound calls.
    pub outbound_token: Option<String>,
    /// Default page size.
    pub default_limit: i64,
    /// Largest page size.
    pub max_limit: i64,
    /// Event topics.
    pub topics: EventTopics,
}

/// Topics of the dashboard events.
#[derive(Debug, Clone)]
pub struct EventTopics {
    /// Programs.
    pub program: String,
    /// Sanctions.
    pub sanction: String,
    /// Allocations.
    pub allocation: String,
    /// Disbursements.
    pub disburse: String,
}

/// `host` + `path` with exactly one `/` between them (upstream concatenates literally and
/// gets `//`, §5 item 21).
fn join(host: &str, path: &str) -> String {
    let mut s = format!(
        "{}/{}",
        host.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

impl ProgramSettings {
    /// Reads the settings.
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let default_limit: i64 = env
            .parse(&SEARCH_DEFAULT_LIMIT)
            .context("SEARCH_DEFAULT_LIMIT")?;
        let max_limit: i64 = env.parse(&SEARCH_MAX_LIMIT).context("SEARCH_MAX_LIMIT")?;
        anyhow::ensure!(
            default_limit >= 1 && max_limit >= default_limit,
            "SEARCH_DEFAULT_LIMIT must be ≥ 1 and ≤ SEARCH_MAX_LIMIT"
        );
        let external_url = env.get_or_default(&EXTERNAL_URL);
        anyhow::ensure!(
            identity::host_url(&external_url).is_some(),
            "EXCHANGE_SERVICE_EXTERNAL_URL must be an http(s) URL"
        );
        Ok(Self {
            external_url,
            exchange_base: join(
                &env.get_or_default(&EXCHANGE_HOST),
                &env.get_or_default(&EXCHANGE_PATH),
            ),
            adapter_base: join(
                &env.get_or_default(&ADAPTER_HOST),
                &env.get_or_default(&ADAPTER_PATH),
            ),
            exchange_url_code: env.get_or_default(&EXCHANGE_URL_CODE),
            outbound_token: env.get(&OUTBOUND_TOKEN),
            default_limit,
            max_limit,
            topics: EventTopics {
                program: env.get_or_default(&PROGRAM_EVENTS_TOPIC),
                sanction: env.get_or_default(&SANCTION_EVENTS_TOPIC),
                allocation: env.get_or_default(&ALLOCATION_EVENTS_TOPIC),
                disburse: env.get_or_default(&DISBURSE_EVENTS_TOPIC),
            },
        })
    }
}

/// The program service: everything the pipelines need. Cheap to clone.
#[derive(Clone)]
pub struct ProgramService {
    /// Postgres (all entity tables, the ledger, the inbox and the outbox).
    pub pool: PgPool,
    /// Master data (reply validation).
    pub mdms: Arc<dyn MdmsSource>,
    /// Program codes (`ifix.program.number`).
    pub idgen: Arc<digit_store::IdGenerator>,
    /// PII at rest.
    pub pii: PiiCipher,
    /// Settings.
    pub settings: Arc<ProgramSettings>,
    /// Role-action authorization at a record's location (none in open mode).
    pub authorizer: Option<Arc<Authorizer>>,
    /// Which aggregates take the asynchronous intake, and its topics.
    pub intake: intake::IntakeSettings,
    /// The platform producer (async intake).
    pub producer: Option<digit_kafka::Producer>,
}

impl std::fmt::Debug for ProgramService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Which entity a dashboard event is about (its topic and `entity_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventEntity {
    /// `program`
    Program,
    /// `sanction`
    Sanction,
    /// `allocation`
    Allocation,
    /// `disburse`
    Disburse,
}

impl EventEntity {
    /// The `entity_type` value (and the key of the entity in the event).
    pub fn name(self) -> &'static str {
        match self {
            Self::Program => "program",
            Self::Sanction => "sanction",
            Self::Allocation => "allocation",
            Self::Disburse => "disburse",
        }
    }
}

/// Who is calling, as the gate established it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The authenticated user or service identity (`None` in open mode).
    pub user: Option<UserInfo>,
    /// The request path (role-actions are per path).
    pub path: String,
    /// Correlation id, passed on in outbox messages.
    pub correlation_id: String,
}

/// Now, epoch milliseconds.
pub fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

/// A new entity id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ProgramService {
    /// Header checks of §1.7.2 for an endpoint of `url_type` / `url_action`, in upstream's
    /// order. Searches may have sender = receiver.
    pub fn validate_header(
        &self,
        header: &RequestHeader,
        url_type: MessageType,
        url_action: Action,
    ) -> Result<(), ProgramError> {
        if url_action != Action::Search && header.receiver_id == header.sender_id {
            return Err(ProgramError::header(codes::RECEIVER_ID_SENDER_ID_ERROR));
        }
        if !header.receiver_id.contains('@') {
            return Err(ProgramError::header(codes::RECEIVER_ID_ERROR));
        }
        if !header.sender_id.contains('@') {
            return Err(ProgramError::header(codes::SENDER_ID_ERROR));
        }
        if header.action != url_action {
            return Err(ProgramError::header(codes::ACTION_ERROR));
        }
        if header.message_type != url_type {
            return Err(ProgramError::header(codes::MESSAGE_TYPE_ERROR));
        }
        Ok(())
    }

    /// Whether `participant` (a `receiver_id`, say) is this installation.
    pub fn is_same_domain(&self, participant: &str) -> bool {
        identity::same_domain(participant, &self.settings.external_url)
    }

    /// Reply validation (§1.7.3): the `receiver_id` must be the `hostUrl` of the MDMS
    /// `exchange.ExchangeServers` row coded `EXCHANGE_URL_CODE` at `location`. A missing
    /// row fails the rule (upstream throws an unhandled exception).
    pub async fn validate_reply(
        &self,
        location: &str,
        header: &RequestHeader,
    ) -> Result<(), ProgramError> {
        let filter = format!("[?(@.code=='{}')]", self.settings.exchange_url_code);
        let rows = self
            .mdms
            .master(location, "exchange", "ExchangeServers", Some(&filter))
            .await?;
        let host = rows
            .first()
            .and_then(|r| r.get("hostUrl"))
            .and_then(Value::as_str);
        match host {
            Some(h) if identity::same_domain(h, &header.receiver_id) => Ok(()),
            _ => Err(codes::receiver_id_client_host_url().into()),
        }
    }

    /// upstream `updateUri`: the header of the reply to `header` — receiver := old sender,
    /// sender := `<old sender's service>@<this installation>`, type := `on-<type>`. A reply
    /// header (`on-…`) is returned unchanged.
    pub fn update_uri(&self, header: &RequestHeader) -> RequestHeader {
        if header.message_type.is_reply() {
            return header.clone();
        }
        let mut reply = header.clone();
        reply.receiver_id = header.sender_id.clone();
        reply.sender_id = format!(
            "{}@{}",
            identity::service_name(&header.sender_id),
            self.settings.external_url
        );
        reply.message_type = header.message_type.reply();
        reply
    }

    /// The caller may act at every `location` (role-action at that tenant). Open mode
    /// (no authorizer, or no user on an open endpoint) allows everything.
    pub async fn authorize(&self, caller: &Caller, locations: &[&str]) -> Result<(), ProgramError> {
        let (Some(authorizer), Some(user)) = (&self.authorizer, &caller.user) else {
            return Ok(());
        };
        for location in locations {
            authorizer
                .authorize(user, &caller.path, &[(*location).to_owned()])
                .await
                .map_err(|e| match e {
                    AuthzError::Forbidden(_) => ProgramError::Forbidden((*location).to_owned()),
                    AuthzError::Unavailable(cause) => ProgramError::Dependency(cause),
                })?;
        }
        Ok(())
    }

    /// The message to the local exchange (§1.12): `POST {exchange}<message_type>` with
    /// `{signature, header, message: "<entity JSON as a string>"}`.
    pub fn exchange_message<T: Serialize>(
        &self,
        caller: &Caller,
        signature: Option<&str>,
        header: &RequestHeader,
        message: &T,
    ) -> Result<OutboxMessage, ProgramError> {
        let message =
            serde_json::to_string(message).map_err(|e| ProgramError::Corrupt(e.to_string()))?;
        let body = serde_json::json!({
            "signature": signature,
            "header": header,
            "message": message,
        });
        let url = format!(
            "{}{}",
            self.settings.exchange_base,
            header.message_type.as_str()
        );
        self.outbound(caller, OutboxMessage::http_json("POST", url, &body)?)
    }

    /// The call to the local adapter (§1.12): `POST {adapter}<message_type>/_<action>` with
    /// the envelope, `message` as an object.
    pub fn adapter_message<T: Serialize>(
        &self,
        caller: &Caller,
        signature: Option<&str>,
        header: &RequestHeader,
        message: &T,
    ) -> Result<OutboxMessage, ProgramError> {
        let body = serde_json::json!({
            "signature": signature,
            "header": header,
            "message": message,
        });
        let url = format!(
            "{}{}/_{}",
            self.settings.adapter_base,
            header.message_type.as_str(),
            header.action.as_str()
        );
        self.outbound(caller, OutboxMessage::http_json("POST", url, &body)?)
    }

    fn outbound(
        &self,
        caller: &Caller,
        mut m: OutboxMessage,
    ) -> Result<OutboxMessage, ProgramError> {
        if let Some(token) = &self.settings.outbound_token {
            m = m.with_header("Authorization", format!("Bearer {token}"));
        }
        if !caller.correlation_id.is_empty() {
            m = m.with_correlation_id(&caller.correlation_id);
        }
        Ok(m)
    }

    /// A dashboard event (README "Program service", Events): `{event_type, entity_type,
    /// event_time, message_id, sender_id, receiver_id, <entity_type>: entity}` on the
    /// entity's topic, keyed by the entity id.
    pub fn event<T: Serialize>(
        &self,
        caller: &Caller,
        entity_type: EventEntity,
        event_type: &str,
        header: &RequestHeader,
        id: &str,
        entity: &T,
    ) -> Result<OutboxMessage, ProgramError> {
        let name = entity_type.name();
        let topics = &self.settings.topics;
        let topic = match entity_type {
            EventEntity::Program => &topics.program,
            EventEntity::Sanction => &topics.sanction,
            EventEntity::Allocation => &topics.allocation,
            EventEntity::Disburse => &topics.disburse,
        };
        let mut body = serde_json::json!({
            "event_type": event_type,
            "entity_type": name,
            "event_time": now_ms(),
            "message_id": header.message_id,
            "sender_id": header.sender_id,
            "receiver_id": header.receiver_id,
        });
        body[name] =
            serde_json::to_value(entity).map_err(|e| ProgramError::Corrupt(e.to_string()))?;
        let mut m = OutboxMessage::kafka_json(topic, Some(id), &body)?;
        if !caller.correlation_id.is_empty() {
            m = m.with_correlation_id(&caller.correlation_id);
        }
        Ok(m)
    }

    /// Writes `messages` into the outbox in `tx`, marked as this service's
    /// ([`OUTBOX_SOURCE`]: the relay of another service sharing the database leaves them).
    pub async fn enqueue(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        messages: &[OutboxMessage],
    ) -> Result<(), ProgramError> {
        for m in messages {
            digit_outbox::enqueue(tx, &m.clone().with_source(OUTBOX_SOURCE)).await?;
        }
        Ok(())
    }
}

/// A rule failure as the entity status upstream writes (`ERROR`, `"<CODE> <message>"`).
pub fn error_status(rule: &Rule) -> crate::domain::model::Status {
    crate::domain::model::Status::error(rule.code, &rule.message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn joins_without_double_slashes() {
        assert_eq!(
            join(
                "https://unified-dev.digit.org/",
                "/mukta/digit-exchange/v1/exchange/"
            ),
            "https://unified-dev.digit.org/mukta/digit-exchange/v1/exchange/"
        );
        assert_eq!(join("http://a:1", "ifms/v1"), "http://a:1/ifms/v1/");
    }
}
