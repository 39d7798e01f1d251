//! The SOR and rate pipelines: validate against MDMS masters → serialize per key with a
//! Postgres advisory lock → publish → wait for the persister → answer.
//!
//! Rates of one (tenant, SOR, detail) are serialized: the lock is taken before reading the
//! active rates and held until the persister has committed the new one, so the next
//! creation reads it. Closing the predecessor and inserting the new rate are one Kafka
//! message, applied by the persister in one transaction; the exclusion constraint on
//! `eg_sor_rate` guarantees no overlap even if something bypassed the service.

use crate::domain::analysis::{self, BasicInput};
use crate::domain::model::{
    AmountDetail, AnalysisDetails, Composition, CompositionCriteria, LineItem, Pagination,
    RateAnalysis, RateCriteria, RateDetails, RateMessage, Sor, SorCriteria,
};
use crate::domain::rules::{self, Masters, Predecessor};
use crate::error::{codes, SorError};
use crate::store::repo;
use digit_core::{AuditDetails, ErrorDetail, Money, RequestInfo};
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_store::commit::{self, CommitWatcher, Outgoing};
use digit_store::IdGenerator;
use serde_json::{json, Value};
use sqlx::PgPool;
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

/// Most items one write request may carry (each is validated, locked and persisted in turn).
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
            heads: overheads
                .iter()
                .filter(|e| e.get("active").and_then(Value::as_bool) != Some(false))
                .filter_map(|e| {
                    let code = e.get("code")?.as_str()?;
                    let id = match e.get("id")? {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Some(format!("{code}.{id}"))
                })
                .collect(),
        })
    }

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

    /// `sor/v1/_create`.
    pub async fn create_sors(
        &self,
        ri: &RequestInfo,
        sors: Vec<Sor>,
    ) -> Result<Vec<Sor>, SorError> {
        check_count(sors.len(), "sors")?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let mut out = Vec::with_capacity(sors.len());
        for mut sor in sors {
            let tenant = sor.tenant_id.clone().unwrap_or_default();
            let masters = self.masters(&tenant).await?;
            rules::validate_new_sor(&mut sor, &masters)?;
            // Serialize creations of the same natural key: the duplicate check stays true.
            let mut tx = self.pool.begin().await?;
            let key = format!(
                "sor:{tenant}:{}:{}:{}:{}:{}",
                sor.sor_type.as_deref().unwrap_or_default(),
                sor.sor_sub_type.as_deref().unwrap_or_default(),
                sor.sor_variant.as_deref().unwrap_or_default(),
                sor.uom.as_deref().unwrap_or_default(),
                sor.description
                    .as_deref()
                    .unwrap_or_default()
                    .to_lowercase()
            );
            lock(&mut tx, &key).await?;
            if repo::sor_duplicate(&mut tx, &sor).await? {
                return Err(SorError::invalid(
                    codes::DUPLICATE_SOR,
                    "This SOR already exists",
                ));
            }
            let works = sor.sor_type.as_deref() == Some(rules::WORKS_TYPE);
            let number = if works {
                // Works SORs are numbered per subtype (EW-00001): the format is MDMS
                // `common-masters.IdFormat` `works.sor.number.<subtype>`.
                let sub = sor.sor_sub_type.clone().unwrap_or_default();
                let format = format!("{sub}-[SEQ_SOR_{sub}_NUM]");
                let name = format!("works.sor.number.{}", sub.to_lowercase());
                self.idgen
                    .generate(&tenant, Some(&name), Some(&format), 1)
                    .await
            } else {
                self.idgen
                    .generate(
                        &tenant,
                        Some("works.sor.number"),
                        Some("LD-[SEQ_SOR_NUM]"),
                        1,
                    )
                    .await
            }
            .map_err(|e| {
                tracing::error!(error = %e, "SOR number generation failed.");
                SorError::Dependency(e.to_string())
            })?;
            sor.sor_number = number.into_iter().next();
            sor.id = Some(uuid::Uuid::new_v4().to_string());
            sor.is_active = Some(true);
            sor.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
            let payload = json!({"RequestInfo": strip(ri), "sors": [sor]});
            self.publish(ri, &self.settings.save_sor_topic, &tenant, &payload)
                .await?;
            tx.commit().await?;
            out.push(sor);
        }
        Ok(out)
    }

    /// `sor/v1/_update`: description, status, additional details.
    pub async fn update_sors(
        &self,
        ri: &RequestInfo,
        sors: Vec<Sor>,
    ) -> Result<Vec<Sor>, SorError> {
        check_count(sors.len(), "sors")?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let mut out = Vec::new();
        for update in sors {
            let id = update.id.clone().unwrap_or_default();
            let stored = repo::sor_by_id(&self.pool, &id).await?.ok_or_else(|| {
                SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"))
            })?;
            let mut next = rules::apply_sor_update(&stored, &update)?;
            if stored.is_active != Some(false)
                && next.is_active == Some(false)
                && repo::used_by_composition(&self.pool, &id, now_ms()).await?
            {
                return Err(SorError::invalid(
                    codes::SOR_IN_USE,
                    "This SOR can not be inactivated as there are active SORs exists referencing it",
                ));
            }
            let mut audit = stored.audit_details.clone().unwrap_or_default();
            audit.last_modified_by = Some(user.clone());
            audit.last_modified_time = Some(now_ms());
            next.audit_details = Some(audit);
            let tenant = next.tenant_id.clone().unwrap_or_default();
            let payload = json!({"RequestInfo": strip(ri), "sors": [next]});
            self.publish(ri, &self.settings.update_sor_topic, &tenant, &payload)
                .await?;
            out.push(next);
        }
        Ok(out)
    }

    /// `sor/v1/_search`.
    pub async fn search_sors(
        &self,
        criteria: &SorCriteria,
        pagination: &Pagination,
    ) -> Result<(Vec<Sor>, Pagination), SorError> {
        let tenant = required_tenant(&criteria.tenant_id)?;
        let (column, desc, limit, offset) = paging(
            pagination,
            &[
                ("sorNumber", "sornumber"),
                ("sorType", "sortype"),
                ("createdTime", "createdtime"),
                ("description", "description"),
            ],
            "createdtime",
        )?;
        let (sors, total) =
            repo::search_sors(&self.pool, &tenant, criteria, column, desc, limit, offset).await?;
        Ok((
            sors,
            Pagination {
                total_count: Some(total),
                limit: Some(limit),
                off_set: Some(offset),
                ..pagination.clone()
            },
        ))
    }

    /// `sor/rate/v1/_create` (manual rates; `composition` set when rate analysis creates one).
    pub async fn create_rates(
        &self,
        ri: &RequestInfo,
        rates: Vec<RateDetails>,
        from_analysis: bool,
    ) -> Result<Vec<RateDetails>, SorError> {
        check_count(rates.len(), "rateDetails")?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let mut out = Vec::new();
        for mut rate in rates {
            let sor_id = rate.sor_id.clone().unwrap_or_default();
            let sor = repo::sor_by_id(&self.pool, &sor_id).await?.ok_or_else(|| {
                SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {sor_id}"))
            })?;
            if sor.is_active == Some(false) {
                return Err(SorError::invalid(
                    codes::SOR_INACTIVE,
                    format!("SOR {sor_id} is inactive"),
                ));
            }
            if sor.sor_type.as_deref() == Some(rules::WORKS_TYPE) && !from_analysis {
                return Err(SorError::invalid(
                    codes::WORKS_SOR_RATE,
                    "Rates of works SORs come from rate analysis",
                ));
            }
            let tenant = rate
                .tenant_id
                .clone()
                .filter(|t| !t.is_empty())
                .or(sor.tenant_id.clone())
                .unwrap_or_default();
            let masters = self.masters(&tenant).await?;
            let valid_from = rate.valid_from.ok_or_else(|| {
                SorError::invalid(codes::VALID_FROM_REQUIRED, "validFrom is required")
            })?;
            let valid_from = rules::start_of_day(valid_from, self.settings.time_zone);
            if rate.valid_to.is_some_and(|to| to <= valid_from) {
                return Err(SorError::invalid(
                    codes::INVALID_VALIDITY,
                    "validTo must be after validFrom",
                ));
            }
            let total = rules::validate_amounts(&rate, &masters)?;
            let now = now_ms();
            let detail = rate.detail_id.clone().unwrap_or_default();
            rate.id = Some(uuid::Uuid::new_v4().to_string());
            rate.tenant_id = Some(tenant.clone());
            rate.detail_id = Some(detail.clone());
            rate.valid_from = Some(valid_from);
            rate.rate = Some(total);
            rate.is_active = Some(true);
            rate.audit_details = Some(AuditDetails::for_create(&user, now));
            for a in &mut rate.amount_detail {
                a.id = Some(uuid::Uuid::new_v4().to_string());
                a.amount_type = Some(a.amount_type.clone().unwrap_or_else(|| "fixed".into()));
            }

            // One (tenant, SOR, detail) at a time, from reading the current rate until the
            // persister committed the new one.
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, &format!("rate:{tenant}:{sor_id}:{detail}")).await?;
            let active = repo::active_rates(&mut tx, &tenant, &sor_id, &detail).await?;
            let closed = match rules::predecessor(&active, valid_from)? {
                Predecessor::None => Vec::new(),
                Predecessor::Close(id) => vec![RateDetails {
                    valid_to: Some(valid_from),
                    is_active: Some(true),
                    ..closing(&active, &id, &user, now)
                }],
                Predecessor::Replace(id) => vec![RateDetails {
                    is_active: Some(false),
                    ..closing(&active, &id, &user, now)
                }],
            };
            let message = RateMessage {
                request_info: strip(ri),
                rate_details: vec![rate.clone()],
                closed_rates: closed,
            };
            let payload =
                serde_json::to_value(&message).map_err(|e| SorError::Kafka(e.to_string()))?;
            self.publish(ri, &self.settings.save_rate_topic, &sor_id, &payload)
                .await?;
            tx.commit().await?;
            // Stored as '' (the column is part of the overlap key); shown as absent.
            if rate.detail_id.as_deref() == Some("") {
                rate.detail_id = None;
            }
            out.push(rate);
        }
        Ok(out)
    }

    /// `sor/rate/v1/_update`: amounts, status, additional details; never the validity.
    pub async fn update_rates(
        &self,
        ri: &RequestInfo,
        rates: Vec<RateDetails>,
    ) -> Result<Vec<RateDetails>, SorError> {
        check_count(rates.len(), "rateDetails")?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let mut out = Vec::new();
        for update in rates {
            let id = update.id.clone().unwrap_or_default();
            let stored = repo::rate_by_id(&self.pool, &id).await?.ok_or_else(|| {
                SorError::invalid(codes::RATE_NOT_FOUND, format!("Rate not found: {id}"))
            })?;
            let moved = |a: Option<i64>, b: Option<i64>| a.is_some() && a != b;
            if moved(update.valid_from, stored.valid_from)
                || moved(update.valid_to, stored.valid_to)
            {
                return Err(SorError::invalid(
                    codes::RATE_VALIDITY_IMMUTABLE,
                    "validFrom and validTo cannot be changed; create a new rate instead",
                ));
            }
            let masters = self
                .masters(stored.tenant_id.as_deref().unwrap_or_default())
                .await?;
            let total = rules::validate_amounts(&update, &masters)?;
            let same_amounts = {
                let key = |v: &[AmountDetail]| {
                    let mut k: Vec<(String, rust_decimal::Decimal)> = v
                        .iter()
                        .map(|a| {
                            (
                                a.heads.clone().unwrap_or_default(),
                                a.amount
                                    .map(|m| m.decimal().normalize())
                                    .unwrap_or_default(),
                            )
                        })
                        .collect();
                    k.sort();
                    k
                };
                key(&update.amount_detail) == key(&stored.amount_detail)
            };
            let active = update.is_active.or(stored.is_active);
            if same_amounts
                && active == stored.is_active
                && (update.additional_details.is_none()
                    || update.additional_details == stored.additional_details)
            {
                return Err(SorError::invalid(
                    codes::RATE_UNCHANGED,
                    "The update changes nothing",
                ));
            }
            let mut next = stored.clone();
            next.amount_detail = update
                .amount_detail
                .into_iter()
                .map(|mut a| {
                    a.id = Some(uuid::Uuid::new_v4().to_string());
                    a.amount_type = Some(a.amount_type.unwrap_or_else(|| "fixed".into()));
                    a
                })
                .collect();
            next.rate = Some(total);
            next.is_active = active;
            if update.additional_details.is_some() {
                next.additional_details = update.additional_details;
            }
            let mut audit = stored.audit_details.clone().unwrap_or_default();
            audit.last_modified_by = Some(user.clone());
            audit.last_modified_time = Some(now_ms());
            next.audit_details = Some(audit);
            let payload = json!({"RequestInfo": strip(ri), "rateDetails": [next]});
            self.publish(
                ri,
                &self.settings.update_rate_topic,
                next.sor_id.as_deref().unwrap_or_default(),
                &payload,
            )
            .await?;
            out.push(next);
        }
        Ok(out)
    }

    /// `sor/rate/v1/_search`.
    pub async fn search_rates(
        &self,
        criteria: &RateCriteria,
        pagination: &Pagination,
    ) -> Result<(Vec<RateDetails>, Pagination), SorError> {
        let tenant = required_tenant(&criteria.tenant_id)?;
        let (column, desc, limit, offset) = paging(
            pagination,
            &[
                ("validFrom", "validfrom"),
                ("rate", "rate"),
                ("createdTime", "createdtime"),
            ],
            "validfrom",
        )?;
        let (rates, total) =
            repo::search_rates(&self.pool, &tenant, criteria, column, desc, limit, offset).await?;
        Ok((
            rates,
            Pagination {
                total_count: Some(total),
                limit: Some(limit),
                off_set: Some(offset),
                ..pagination.clone()
            },
        ))
    }
}

impl SorService {
    /// `sor/composition/v1/_create`: a works SOR's recipe from a date; closes (or replaces)
    /// the previous one like a rate.
    pub async fn create_compositions(
        &self,
        ri: &RequestInfo,
        compositions: Vec<Composition>,
    ) -> Result<Vec<Composition>, SorError> {
        check_count(compositions.len(), "compositions")?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let mut out = Vec::new();
        for mut c in compositions {
            let invalid = |m: String| SorError::invalid(codes::INVALID_COMPOSITION, m);
            let sor_id = c.sor_id.clone().unwrap_or_default();
            let works = repo::sor_by_id(&self.pool, &sor_id).await?.ok_or_else(|| {
                SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {sor_id}"))
            })?;
            if works.sor_type.as_deref() != Some(rules::WORKS_TYPE) {
                return Err(invalid(format!("{sor_id} is not a works SOR")));
            }
            let tenant = works.tenant_id.clone().unwrap_or_default();
            if c.basic_sor_details.is_empty() {
                return Err(invalid("basicSorDetails must not be empty".into()));
            }
            if c.quantity
                .is_none_or(|q| q.decimal() <= rust_decimal::Decimal::ZERO)
            {
                return Err(invalid("quantity must be positive".into()));
            }
            for b in &c.basic_sor_details {
                let id = b.sor_id.clone().unwrap_or_default();
                let basic = repo::sor_by_id(&self.pool, &id).await?.ok_or_else(|| {
                    SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"))
                })?;
                if basic.sor_type.as_deref() == Some(rules::WORKS_TYPE)
                    || basic.is_active == Some(false)
                {
                    return Err(invalid(format!(
                        "{id} must be an active basic (M, L, E) SOR"
                    )));
                }
                let q = b.quantity.map(|m| m.decimal()).unwrap_or_default();
                if q <= rust_decimal::Decimal::ZERO || q.scale() > 4 {
                    return Err(invalid(format!(
                        "quantity of {id} must be positive with at most 4 decimals"
                    )));
                }
            }
            let from = c.effective_from.ok_or_else(|| {
                SorError::invalid(codes::VALID_FROM_REQUIRED, "effectiveFrom is required")
            })?;
            let from = rules::start_of_day(from, self.settings.time_zone);
            let number = self
                .idgen
                .generate(
                    &tenant,
                    Some("works.composition.number"),
                    Some("CMP_[SEQ_SOR_COMPOSITION_NUM]"),
                    1,
                )
                .await
                .map_err(|e| SorError::Dependency(e.to_string()))?;
            let now = now_ms();
            c.id = Some(uuid::Uuid::new_v4().to_string());
            c.tenant_id = Some(tenant.clone());
            c.composition_id = number.into_iter().next();
            c.effective_from = Some(from);
            c.is_active = Some(true);
            c.audit_details = Some(AuditDetails::for_create(&user, now));
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, &format!("composition:{tenant}:{sor_id}")).await?;
            let active = repo::active_compositions(&mut tx, &tenant, &sor_id).await?;
            // The same validity rules as rates, on (effectiveFrom, effectiveTo).
            let as_rates: Vec<RateDetails> = active
                .iter()
                .map(|a| RateDetails {
                    id: a.id.clone(),
                    valid_from: a.effective_from,
                    valid_to: a.effective_to,
                    ..RateDetails::default()
                })
                .collect();
            let closed: Vec<Value> = match rules::predecessor(&as_rates, from)? {
                Predecessor::None => Vec::new(),
                Predecessor::Close(id) => {
                    vec![json!({"id": id, "effectiveTo": from, "isActive": true,
                    "auditDetails": {"lastModifiedBy": user, "lastModifiedTime": now}})]
                }
                Predecessor::Replace(id) => vec![
                    json!({"id": id, "effectiveTo": Value::Null, "isActive": false,
                    "auditDetails": {"lastModifiedBy": user, "lastModifiedTime": now}}),
                ],
            };
            // A replaced composition keeps its effectiveTo: only isActive changes.
            let closed: Vec<Value> = closed
                .into_iter()
                .map(|mut v| {
                    if v["isActive"] == false {
                        let id = v["id"].as_str().unwrap_or_default().to_owned();
                        v["effectiveTo"] = json!(active
                            .iter()
                            .find(|a| a.id.as_deref() == Some(id.as_str()))
                            .and_then(|a| a.effective_to));
                    }
                    v
                })
                .collect();
            let payload = json!({"RequestInfo": strip(ri), "compositions": [c], "closedCompositions": closed});
            self.publish(ri, &self.settings.save_composition_topic, &sor_id, &payload)
                .await?;
            tx.commit().await?;
            out.push(c);
        }
        Ok(out)
    }

    /// `sor/composition/v1/_search`.
    pub async fn search_compositions(
        &self,
        c: &CompositionCriteria,
    ) -> Result<Vec<Composition>, SorError> {
        let tenant = required_tenant(&c.tenant_id)?;
        Ok(repo::search_compositions(&self.pool, &tenant, &c.sor_ids, c.effective_on).await?)
    }

    /// `sor/rate-analysis/v1/_calculate` (and the computation behind `_create`).
    pub async fn analyse(&self, details: &AnalysisDetails) -> Result<Vec<RateAnalysis>, SorError> {
        let tenant = details
            .tenant_id
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SorError::invalid(codes::INVALID_TENANT, "sorDetails.tenantId is required")
            })?;
        if details.sor_ids.is_empty() {
            return Err(SorError::invalid(
                codes::INVALID_REQUEST,
                "sorDetails.sorIds must not be empty",
            ));
        }
        let t = details.effective_from.ok_or_else(|| {
            SorError::invalid(
                codes::VALID_FROM_REQUIRED,
                "sorDetails.effectiveFrom is required",
            )
        })?;
        let t = rules::start_of_day(t, self.settings.time_zone);
        let mut out = Vec::new();
        for sor_id in &details.sor_ids {
            let works = repo::sor_by_id(&self.pool, sor_id).await?.ok_or_else(|| {
                SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {sor_id}"))
            })?;
            let composition = repo::search_compositions(
                &self.pool,
                &tenant,
                std::slice::from_ref(sor_id),
                Some(t),
            )
            .await?
            .pop()
            .ok_or_else(|| {
                SorError::invalid(
                    codes::SOR_COMPOSITION_NOT_FOUND,
                    format!("No composition of {sor_id} at {t}"),
                )
            })?;
            let mut basics = Vec::new();
            for b in &composition.basic_sor_details {
                let id = b.sor_id.clone().unwrap_or_default();
                let basic = repo::sor_by_id(&self.pool, &id).await?.ok_or_else(|| {
                    SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"))
                })?;
                basics.push(BasicInput {
                    sor_id: id.clone(),
                    uom_value: basic.uom_value.map(|m| m.decimal()).unwrap_or_default(),
                    rate: repo::rate_at(&self.pool, &tenant, &id, t).await?,
                });
            }
            let uom_value = works.uom_value.map(|m| m.decimal()).unwrap_or_default();
            let computed = analysis::compute(
                &composition,
                uom_value,
                &basics,
                self.settings.labour_cess_percent,
            )?;
            let rate = RateDetails {
                tenant_id: Some(tenant.clone()),
                sor_id: Some(sor_id.clone()),
                valid_from: Some(t),
                rate: Some(Money(computed.rate)),
                composition_id: composition.composition_id.clone(),
                amount_detail: computed
                    .heads
                    .iter()
                    .map(|(h, v)| AmountDetail {
                        heads: Some(h.clone()),
                        amount_type: Some(
                            if h == analysis::LABOUR_CESS_HEAD {
                                "percentage"
                            } else {
                                "fixed"
                            }
                            .into(),
                        ),
                        amount: Some(Money(*v)),
                        ..AmountDetail::default()
                    })
                    .collect(),
                ..RateDetails::default()
            };
            out.push(RateAnalysis {
                tenant_id: Some(tenant.clone()),
                sor_id: Some(sor_id.clone()),
                sor_number: works.sor_number.clone(),
                composition_id: composition.composition_id.clone(),
                analysis_quantity: composition.quantity,
                uom_value: works.uom_value,
                effective_from: Some(t),
                line_items: computed.lines.into_iter().collect::<Vec<LineItem>>(),
                rate,
            });
        }
        Ok(out)
    }

    /// `sor/rate-analysis/v1/_create`: stores the analysed rates through the same rules as
    /// manual rates; a rate equal to the current one is skipped, not failed.
    pub async fn create_analysed_rates(
        &self,
        ri: &RequestInfo,
        details: &AnalysisDetails,
    ) -> Result<Vec<RateDetails>, SorError> {
        let today = rules::start_of_day(now_ms(), self.settings.time_zone);
        if details
            .effective_from
            .is_some_and(|t| rules::start_of_day(t, self.settings.time_zone) < today)
        {
            return Err(SorError::invalid(
                codes::EFFECTIVE_FROM_ERROR,
                "effectiveFrom must not be before today",
            ));
        }
        let analyses = self.analyse(details).await?;
        let mut to_create = Vec::new();
        for a in analyses {
            let tenant = a.tenant_id.clone().unwrap_or_default();
            let sor = a.sor_id.clone().unwrap_or_default();
            let current = repo::rate_at(
                &self.pool,
                &tenant,
                &sor,
                a.effective_from.unwrap_or_default(),
            )
            .await?;
            let same = current
                .as_ref()
                .and_then(|c| c.rate)
                .zip(a.rate.rate)
                .is_some_and(|(x, y)| x.decimal() == y.decimal());
            if same {
                tracing::info!(sor, "Analysed rate equals the current rate; skipped.");
                continue;
            }
            to_create.push(a.rate);
        }
        if to_create.is_empty() {
            return Ok(Vec::new());
        }
        self.create_rates(ri, to_create, true).await
    }
}

/// `criteria.tenantId`, which every search needs.
fn required_tenant(tenant: &Option<String>) -> Result<String, SorError> {
    tenant
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SorError::invalid(codes::INVALID_SEARCH, "criteria.tenantId is required"))
}

/// Takes a transaction-scoped advisory lock on `key`: released at commit or rollback, also
/// when the request is dropped mid-way.
async fn lock(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, key: &str) -> Result<(), SorError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn closing(active: &[RateDetails], id: &str, user: &str, now: i64) -> RateDetails {
    let base = active
        .iter()
        .find(|r| r.id.as_deref() == Some(id))
        .cloned()
        .unwrap_or_default();
    let mut audit = base.audit_details.clone().unwrap_or_default();
    audit.last_modified_by = Some(user.to_owned());
    audit.last_modified_time = Some(now);
    RateDetails {
        audit_details: Some(audit),
        amount_detail: Vec::new(),
        ..base
    }
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
