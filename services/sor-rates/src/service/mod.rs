//! The SOR and rate pipelines: check the items' tenants and authorize the caller for each →
//! validate every item → take the request's advisory locks → re-read and check under them →
//! publish the whole request as **one** Kafka message → wait for the persister → answer.
//!
//! - **Tenants.** Every write item names its `tenantId` (`INVALID_TENANT` otherwise); every
//!   lookup is by (tenant, id), so another tenant's id is simply not found; and the caller is
//!   authorized (role-action, as the gate does) for each record's tenant, since the gate only
//!   checks that the caller holds the role at *some* `tenantId` of the body.
//! - **All or nothing.** Nothing is published before every item passed every check, and the
//!   request is one message, which the persister applies in one transaction: a failure found
//!   late (the broker refusing the message, the database refusing a row) stores nothing.
//! - **No lost updates.** Creates and updates of the same record take the same transaction-
//!   scoped advisory locks (see [`LockKey`]), re-read under them and hold them until the
//!   persister committed, so the next writer validates against the stored result. A request
//!   takes all its locks up front in one global order, so two requests never deadlock.
//!
//! Closing a rate's predecessor and inserting the new rate are in the same message; the
//! exclusion constraint on `eg_sor_rate` guarantees no overlap even if something bypassed
//! the service.

mod composition;
mod rate;
mod sor;

use crate::domain::model::Pagination;
use crate::domain::rules::{self, Masters};
use crate::error::{codes, SorError};
use digit_core::{ErrorDetail, RequestInfo};
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_service::authz::{Authorizer, AuthzError};
use digit_store::commit::{self, CommitWatcher, Outgoing};
use digit_store::IdGenerator;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Topics and behaviour.
#[derive(Debug, Clone)]
pub struct SorSettings {
    /// New SORs.
    pub save_sor_topic: String,
    /// SOR updates.
    pub update_sor_topic: String,
    /// New rates (with the predecessors they close).
    pub save_rate_topic: String,
    /// Rate updates.
    pub update_rate_topic: String,
    /// New compositions.
    pub save_composition_topic: String,
    /// Labour cess, percent of every other head (`labour.cess.rate`).
    pub labour_cess_percent: rust_decimal::Decimal,
    /// Time zone of `validFrom` days.
    pub time_zone: chrono_tz::Tz,
}

impl Default for SorSettings {
    fn default() -> Self {
        Self {
            save_sor_topic: "save-sor".into(),
            update_sor_topic: "update-sor".into(),
            save_rate_topic: "save-sor-rate".into(),
            update_rate_topic: "update-sor-rate".into(),
            save_composition_topic: "save-sor-composition".into(),
            labour_cess_percent: rust_decimal::Decimal::ONE,
            time_zone: chrono_tz::Asia::Kolkata,
        }
    }
}

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct SorService {
    /// Postgres.
    pub pool: PgPool,
    /// Masters.
    pub mdms: Arc<dyn MdmsSource>,
    /// SOR numbers.
    pub idgen: Arc<IdGenerator>,
    /// Kafka.
    pub producer: Producer,
    /// Persister commits (every write is awaited; the timeout is the watcher's).
    pub commits: CommitWatcher,
    /// Settings.
    pub settings: SorSettings,
    /// Role-action authorization per record tenant (the gate's; `None` where the gate only
    /// authenticates).
    pub authorizer: Option<Arc<Authorizer>>,
}

impl std::fmt::Debug for SorService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SorService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn codes_of(entries: &[Value], active_only: bool) -> Vec<String> {
    entries
        .iter()
        .filter(|e| !active_only || e.get("active").and_then(Value::as_bool) != Some(false))
        .filter_map(|e| e.get("code").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Most items one write request may carry (all validated, locked and persisted together).
pub const MAX_ITEMS_PER_REQUEST: usize = 100;

fn check_count(n: usize, what: &str) -> Result<(), SorError> {
    if n == 0 {
        return Err(SorError::invalid(
            codes::INVALID_REQUEST,
            format!("{what} must not be empty"),
        ));
    }
    if n > MAX_ITEMS_PER_REQUEST {
        return Err(SorError::invalid(
            codes::INVALID_REQUEST,
            format!("at most {MAX_ITEMS_PER_REQUEST} {what} per request"),
        ));
    }
    Ok(())
}

/// The tenants the items of a write name, one per item; each item must name one.
fn item_tenants<'a>(
    tenants: impl Iterator<Item = &'a Option<String>>,
    what: &str,
) -> Result<Vec<String>, SorError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in tenants.enumerate() {
        match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => out.push(t.to_owned()),
            None => errors.push(ErrorDetail::new(
                codes::INVALID_TENANT,
                format!("{what}[{i}].tenantId is required"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SorError::Invalid(errors))
    }
}

/// Refuses a request naming the same record twice (its items would race each other).
fn unique_ids<'a>(
    ids: impl Iterator<Item = (&'a str, &'a str)>,
    what: &str,
) -> Result<(), SorError> {
    let mut seen = BTreeSet::new();
    for (tenant, id) in ids {
        if !seen.insert((tenant, id)) {
            return Err(SorError::invalid(
                codes::INVALID_REQUEST,
                format!("{what} {id} appears more than once in the request"),
            ));
        }
    }
    Ok(())
}

/// A tenant and its ancestors (`pg.citya`, `pg`): where a record of `tenant` may find the
/// SORs it refers to.
fn lineage(tenant: &str) -> Vec<String> {
    digit_core::tenant::lineage_of(tenant)
        .map(str::to_owned)
        .collect()
}

fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

impl SorService {
    /// The masters of a tenant (MDMS falls back to the state).
    pub async fn masters(&self, tenant: &str) -> Result<Masters, SorError> {
        let m = |module: &'static str, master: &'static str| {
            let mdms = self.mdms.clone();
            let tenant = tenant.to_owned();
            async move { mdms.master(&tenant, module, master, None).await }
        };
        let types = m("WORKS-SOR", "Type").await?;
        let sub_types = m("WORKS-SOR", "SubType").await?;
        let variants = m("WORKS-SOR", "Variant").await?;
        let uoms = m("common-masters", "UOM").await?;
        let overheads = m("WORKS-SOR", "Overhead").await?;
        let overheads: Vec<(String, String, String)> = overheads
            .iter()
            .filter(|e| e.get("active").and_then(Value::as_bool) != Some(false))
            .filter_map(|e| {
                let code = e.get("code")?.as_str()?;
                let id = match e.get("id")? {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let description = e
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some((
                    format!("{code}.{id}"),
                    code.to_owned(),
                    description.to_owned(),
                ))
            })
            .collect();
        Ok(Masters {
            types: codes_of(&types, true).into_iter().collect(),
            sub_types: sub_types
                .iter()
                .filter(|e| e.get("active").and_then(Value::as_bool) != Some(false))
                .filter_map(|e| {
                    Some((
                        e.get("code")?.as_str()?.to_owned(),
                        e.get("type")?.as_str()?.to_owned(),
                    ))
                })
                .collect(),
            variants: codes_of(&variants, true).into_iter().collect(),
            uoms: codes_of(&uoms, true).into_iter().collect(),
            heads: overheads.iter().map(|o| o.0.clone()).collect(),
            overheads,
        })
    }

    /// The masters of each tenant, loaded once per tenant.
    async fn masters_of(&self, tenants: &[String]) -> Result<BTreeMap<String, Masters>, SorError> {
        let mut out = BTreeMap::new();
        for t in tenants {
            if !out.contains_key(t) {
                out.insert(t.clone(), self.masters(t).await?);
            }
        }
        Ok(out)
    }

    /// Checks that the caller may call `uri` for each of `tenants` (the records' tenants), with
    /// the same role-action rules as the gate, one tenant at a time.
    async fn authorize(
        &self,
        ri: &RequestInfo,
        uri: &str,
        tenants: &[String],
    ) -> Result<(), SorError> {
        let Some(authorizer) = &self.authorizer else {
            return Ok(());
        };
        let user = ri
            .user_info
            .as_ref()
            .ok_or_else(|| SorError::Forbidden(uri.to_owned()))?;
        let distinct: BTreeSet<&String> = tenants.iter().collect();
        for tenant in distinct {
            authorizer
                .authorize(user, uri, std::slice::from_ref(tenant))
                .await
                .map_err(|e| match e {
                    AuthzError::Forbidden(_) => SorError::Forbidden(format!("{uri} at {tenant}")),
                    AuthzError::Unavailable(cause) => SorError::Dependency(cause),
                })?;
        }
        Ok(())
    }

    /// Publishes one message and waits until the persister committed it.
    async fn publish(
        &self,
        ri: &RequestInfo,
        topic: &str,
        key: &str,
        payload: &Value,
    ) -> Result<(), SorError> {
        commit::publish_and_await(
            &self.producer,
            Some(&self.commits),
            Outgoing {
                topic,
                key: Some(key),
                payload,
                correlation_id: ri.correlation_id.as_deref(),
            },
        )
        .await
        .map_err(|e| SorError::Kafka(e.to_string()))?;
        Ok(())
    }
}

/// `criteria.tenantId`, which every search needs.
fn required_tenant(tenant: &Option<String>) -> Result<String, SorError> {
    tenant
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SorError::invalid(codes::INVALID_SEARCH, "criteria.tenantId is required"))
}

/// The advisory locks of the pipelines. Exclusive where a request changes what the key
/// names, shared where it only relies on it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LockKey {
    /// One SOR row: exclusive for its update (status!), shared for the rates and the
    /// compositions that rely on it being active.
    Sor(String),
    /// The natural key of a new SOR (duplicate check).
    SorKey(String),
    /// The rates of one (tenant, SOR, detail): creates and updates.
    Rates(String, String, String),
    /// The compositions of one (tenant, works SOR).
    Compositions(String, String),
}

impl LockKey {
    fn text(&self) -> String {
        match self {
            Self::Sor(id) => format!("sor:{id}"),
            Self::SorKey(k) => format!("sor-key:{k}"),
            Self::Rates(t, s, d) => format!("rate:{t}:{s}:{d}"),
            Self::Compositions(t, s) => format!("composition:{t}:{s}"),
        }
    }
}

/// Takes the pipelines' advisory locks at once (`digit_store::lock::lock_all`: ascending
/// id order, so overlapping requests queue instead of deadlocking).
async fn lock_all(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    keys: impl IntoIterator<Item = (LockKey, bool)>,
) -> Result<(), SorError> {
    let keys: Vec<(String, bool)> = keys.into_iter().map(|(k, e)| (k.text(), e)).collect();
    digit_store::lock::lock_all(tx, keys).await?;
    Ok(())
}

fn strip(ri: &RequestInfo) -> RequestInfo {
    RequestInfo {
        auth_token: None,
        ..ri.clone()
    }
}

/// Validated paging: (column, descending, limit, offset).
fn paging<'a>(
    p: &Pagination,
    allowed: &[(&str, &'a str)],
    default_column: &'a str,
) -> Result<(&'a str, bool, i64, i64), SorError> {
    let mut errors = Vec::new();
    let limit = p.limit.unwrap_or(rules::DEFAULT_LIMIT);
    if !(1..=rules::MAX_LIMIT).contains(&limit) {
        errors.push(ErrorDetail::new(
            codes::INVALID_SEARCH,
            format!("limit must be between 1 and {}", rules::MAX_LIMIT),
        ));
    }
    let offset = p.off_set.unwrap_or(0);
    if offset < 0 {
        errors.push(ErrorDetail::new(
            codes::INVALID_SEARCH,
            "offSet must not be negative",
        ));
    }
    let column = match p.sort_by.as_deref() {
        None => default_column,
        Some(s) => match allowed.iter().find(|(name, _)| *name == s) {
            Some((_, col)) => col,
            None => {
                errors.push(ErrorDetail::new(
                    codes::INVALID_SEARCH,
                    format!("sortBy {s} is not allowed"),
                ));
                default_column
            }
        },
    };
    let desc = match p.order.as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => {
            errors.push(ErrorDetail::new(
                codes::INVALID_SEARCH,
                format!("order must be ASC or DESC, got {other}"),
            ));
            true
        }
    };
    if errors.is_empty() {
        Ok((column, desc, limit, offset))
    } else {
        Err(SorError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ids_are_stable_and_distinct() {
        // FNV-1a of "sor:a": a fixed value, the same in every process and release.
        let id = |k: LockKey| digit_store::lock::lock_id(&k.text());
        assert_eq!(id(LockKey::Sor("a".into())), -9_202_141_151_712_761_446);
        assert_ne!(
            id(LockKey::Sor("a".into())),
            id(LockKey::Compositions("a".into(), String::new()))
        );
        assert_eq!(
            LockKey::Rates("pg".into(), "s".into(), String::new()).text(),
            "rate:pg:s:"
        );
    }

    #[test]
    fn every_write_item_names_its_tenant() {
        let items = [Some("pg".to_owned()), None, Some(" ".to_owned())];
        let e = item_tenants(items.iter(), "sors").unwrap_err();
        let SorError::Invalid(details) = e else {
            panic!("{e}")
        };
        let messages: Vec<&str> = details.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "sors[1].tenantId is required",
                "sors[2].tenantId is required"
            ]
        );
        assert!(details.iter().all(|d| d.code == codes::INVALID_TENANT));
    }
}
