//! Rates: create (closing or replacing the predecessor), update (amounts, status,
//! additional details; never the validity), search.

use super::{
    check_count, item_tenants, lineage, lock_all, now_ms, paging, required_tenant, strip,
    unique_ids, LockKey, SorService,
};
use crate::domain::model::{AmountDetail, Pagination, RateCriteria, RateDetails, RateMessage};
use crate::domain::rules;
use crate::error::{codes, SorError};
use crate::store::repo;
use digit_core::{AuditDetails, RequestInfo};
use serde_json::json;
use std::collections::BTreeMap;

/// A stored rate, changed by a new one: closed at `valid_to`, or replaced (`None`).
fn closing(
    active: &[RateDetails],
    id: &str,
    valid_to: Option<i64>,
    user: &str,
    now: i64,
) -> RateDetails {
    let base = active
        .iter()
        .find(|r| r.id.as_deref() == Some(id))
        .cloned()
        .unwrap_or_default();
    let mut audit = base.audit_details.clone().unwrap_or_default();
    audit.last_modified_by = Some(user.to_owned());
    audit.last_modified_time = Some(now);
    RateDetails {
        valid_to: valid_to.or(base.valid_to),
        is_active: Some(valid_to.is_some()),
        audit_details: Some(audit),
        amount_detail: Vec::new(),
        ..base
    }
}

/// The comparable content of amounts: (head, normalised amount), sorted.
fn amounts_key(v: &[AmountDetail]) -> Vec<(String, rust_decimal::Decimal)> {
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
}

impl SorService {
    /// `sor/rate/v1/_create` (manual rates; `from_analysis` when rate analysis creates
    /// them): all items or none. A rate's SOR is one of its tenant or of a tenant above it.
    pub async fn create_rates(
        &self,
        ri: &RequestInfo,
        uri: &str,
        mut rates: Vec<RateDetails>,
        from_analysis: bool,
    ) -> Result<Vec<RateDetails>, SorError> {
        check_count(rates.len(), "rateDetails")?;
        let tenants = item_tenants(rates.iter().map(|r| &r.tenant_id), "rateDetails")?;
        self.authorize(ri, uri, &tenants).await?;
        let masters = self.masters_of(&tenants).await?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let now = now_ms();
        // Every item is checked before anything is locked or published.
        for (rate, tenant) in rates.iter_mut().zip(&tenants) {
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
            let m = masters.get(tenant).cloned().unwrap_or_default();
            rules::resolve_heads(&mut rate.amount_detail, &m);
            let total = rules::validate_amounts(rate, &m)?;
            rate.id = Some(uuid::Uuid::new_v4().to_string());
            rate.tenant_id = Some(tenant.clone());
            rate.sor_id = Some(rate.sor_id.clone().unwrap_or_default());
            rate.detail_id = Some(rate.detail_id.clone().unwrap_or_default());
            rate.valid_from = Some(valid_from);
            rate.rate = Some(total);
            rate.is_active = Some(true);
            rate.audit_details = Some(AuditDetails::for_create(&user, now));
            for a in &mut rate.amount_detail {
                a.id = Some(uuid::Uuid::new_v4().to_string());
                a.amount_type = Some(a.amount_type.clone().unwrap_or_else(|| "fixed".into()));
            }
        }

        // Each (tenant, SOR, detail) is serialized from reading its current rates until the
        // persister committed; the SOR itself is held (shared) so it is not deactivated
        // meanwhile.
        let key = |r: &RateDetails| {
            (
                r.tenant_id.clone().unwrap_or_default(),
                r.sor_id.clone().unwrap_or_default(),
                r.detail_id.clone().unwrap_or_default(),
            )
        };
        let mut tx = self.pool.begin().await?;
        lock_all(
            &mut tx,
            rates.iter().flat_map(|r| {
                let (t, s, d) = key(r);
                [
                    (LockKey::Sor(s.clone()), false),
                    (LockKey::Rates(t, s, d), true),
                ]
            }),
        )
        .await?;
        for rate in &rates {
            let (tenant, sor_id, _) = key(rate);
            let sor = repo::sor_by_id(&mut *tx, &lineage(&tenant), &sor_id)
                .await?
                .ok_or_else(|| {
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
        }
        // The items of one key, in request order, as if each were its own request.
        let mut by_key: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rates.iter().enumerate() {
            by_key.entry(key(r)).or_default().push(i);
        }
        let mut closed = Vec::new();
        for ((tenant, sor_id, detail), items) in &by_key {
            let active = repo::active_rates(&mut tx, tenant, sor_id, detail).await?;
            let new: Vec<RateDetails> = items.iter().map(|&i| rates[i].clone()).collect();
            let chain = rules::chain(&active, &new)?;
            for (id, valid_to) in chain.stored {
                closed.push(closing(&active, &id, valid_to, &user, now));
            }
            for (&i, (valid_to, is_active)) in items.iter().zip(chain.new) {
                rates[i].valid_to = valid_to;
                rates[i].is_active = Some(is_active);
            }
        }
        let message = RateMessage {
            request_info: strip(ri),
            rate_details: rates.clone(),
            closed_rates: closed,
        };
        let payload = serde_json::to_value(&message).map_err(|e| SorError::Kafka(e.to_string()))?;
        let partition_key = rates[0].sor_id.clone().unwrap_or_default();
        self.publish(ri, &self.settings.save_rate_topic, &partition_key, &payload)
            .await?;
        tx.commit().await?;
        for rate in &mut rates {
            // Stored as '' (the column is part of the overlap key); shown as absent.
            if rate.detail_id.as_deref() == Some("") {
                rate.detail_id = None;
            }
        }
        Ok(rates)
    }

    /// `sor/rate/v1/_update`: amounts, status, additional details of rates of the items'
    /// tenants; never the validity. All items or none.
    pub async fn update_rates(
        &self,
        ri: &RequestInfo,
        uri: &str,
        rates: Vec<RateDetails>,
    ) -> Result<Vec<RateDetails>, SorError> {
        check_count(rates.len(), "rateDetails")?;
        let tenants = item_tenants(rates.iter().map(|r| &r.tenant_id), "rateDetails")?;
        let ids: Vec<String> = rates
            .iter()
            .map(|r| r.id.clone().unwrap_or_default())
            .collect();
        unique_ids(
            tenants
                .iter()
                .zip(&ids)
                .map(|(t, i)| (t.as_str(), i.as_str())),
            "Rate",
        )?;
        self.authorize(ri, uri, &tenants).await?;
        let not_found =
            |id: &str| SorError::invalid(codes::RATE_NOT_FOUND, format!("Rate not found: {id}"));
        // The lock creates take: found from the rate's (immutable) tenant, SOR and detail.
        let mut lock_keys = Vec::new();
        {
            let mut conn = self.pool.acquire().await?;
            for (tenant, id) in tenants.iter().zip(&ids) {
                let r = repo::rate_by_id(&mut conn, tenant, id)
                    .await?
                    .ok_or_else(|| not_found(id))?;
                lock_keys.push((
                    LockKey::Rates(
                        tenant.clone(),
                        r.sor_id.unwrap_or_default(),
                        r.detail_id.unwrap_or_default(),
                    ),
                    true,
                ));
            }
        }
        let masters = self.masters_of(&tenants).await?;
        let mut tx = self.pool.begin().await?;
        lock_all(&mut tx, lock_keys).await?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let now = now_ms();
        let mut out = Vec::with_capacity(rates.len());
        for ((mut update, tenant), id) in rates.into_iter().zip(&tenants).zip(&ids) {
            // Re-read under the lock: the state every check below sees is the stored one.
            let stored = repo::rate_by_id(&mut tx, tenant, id)
                .await?
                .ok_or_else(|| not_found(id))?;
            let moved = |a: Option<i64>, b: Option<i64>| a.is_some() && a != b;
            if moved(update.valid_from, stored.valid_from)
                || moved(update.valid_to, stored.valid_to)
            {
                return Err(SorError::invalid(
                    codes::RATE_VALIDITY_IMMUTABLE,
                    "validFrom and validTo cannot be changed; create a new rate instead",
                ));
            }
            let m = masters.get(tenant).cloned().unwrap_or_default();
            rules::resolve_heads(&mut update.amount_detail, &m);
            let total = rules::validate_amounts(&update, &m)?;
            let same_amounts =
                amounts_key(&update.amount_detail) == amounts_key(&stored.amount_detail);
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
            if active == Some(true) && stored.is_active != Some(true) {
                // Reactivation: the exclusion constraint would refuse the row in the
                // persister, after the answer; refuse it here instead.
                let end = |to: Option<i64>| to.unwrap_or(i64::MAX);
                let (from, to) = (stored.valid_from.unwrap_or_default(), end(stored.valid_to));
                let others = repo::active_rates(
                    &mut tx,
                    tenant,
                    stored.sor_id.as_deref().unwrap_or_default(),
                    stored.detail_id.as_deref().unwrap_or_default(),
                )
                .await?;
                if let Some(o) = others.iter().find(|o| {
                    o.id != stored.id
                        && o.valid_from.unwrap_or_default() < to
                        && from < end(o.valid_to)
                }) {
                    return Err(SorError::invalid(
                        codes::RATE_OVERLAP,
                        format!(
                            "Rate {id} cannot be reactivated: active rate {} overlaps it",
                            o.id.as_deref().unwrap_or_default()
                        ),
                    ));
                }
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
            audit.last_modified_time = Some(now);
            next.audit_details = Some(audit);
            out.push(next);
        }
        let payload = json!({"RequestInfo": strip(ri), "rateDetails": out});
        let partition_key = out[0].sor_id.clone().unwrap_or_default();
        self.publish(
            ri,
            &self.settings.update_rate_topic,
            &partition_key,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// `sor/rate/v1/_search`.
    pub async fn search_rates(
        &self,
        ri: &RequestInfo,
        uri: &str,
        criteria: &RateCriteria,
        pagination: &Pagination,
    ) -> Result<(Vec<RateDetails>, Pagination), SorError> {
        let tenant = required_tenant(&criteria.tenant_id)?;
        self.authorize(ri, uri, std::slice::from_ref(&tenant))
            .await?;
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
