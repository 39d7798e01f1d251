//! Rate-analysis compositions (create, search) and rate analysis (calculate, create).

use super::{check_count, item_tenants, lineage, lock_all, now_ms, strip, LockKey, SorService};
use crate::domain::analysis::{self, BasicInput};
use crate::domain::model::{
    AmountDetail, AnalysisDetails, Composition, CompositionCriteria, LineItem, RateAnalysis,
    RateDetails,
};
use crate::domain::rules;
use crate::error::{codes, SorError};
use crate::store::repo;
use digit_core::{AuditDetails, Money, RequestInfo};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A composition's validity as a rate's, for [`rules::chain`].
fn as_rate(c: &Composition) -> RateDetails {
    RateDetails {
        id: c.id.clone(),
        valid_from: c.effective_from,
        valid_to: c.effective_to,
        ..RateDetails::default()
    }
}

/// The checks of a composition that need no database.
fn check_shape(c: &Composition) -> Result<(), SorError> {
    let invalid = |m: String| SorError::invalid(codes::INVALID_COMPOSITION, m);
    if c.basic_sor_details.is_empty() {
        return Err(invalid("basicSorDetails must not be empty".into()));
    }
    if c.quantity.is_none_or(|q| q.decimal() <= Decimal::ZERO) {
        return Err(invalid("quantity must be positive".into()));
    }
    for b in &c.basic_sor_details {
        let q = b.quantity.map(|m| m.decimal()).unwrap_or_default();
        if q <= Decimal::ZERO || q.scale() > 4 {
            return Err(invalid(format!(
                "quantity of {} must be positive with at most 4 decimals",
                b.sor_id.as_deref().unwrap_or_default()
            )));
        }
    }
    if c.effective_from.is_none() {
        return Err(SorError::invalid(
            codes::VALID_FROM_REQUIRED,
            "effectiveFrom is required",
        ));
    }
    Ok(())
}

impl SorService {
    /// `sor/composition/v1/_create`: a works SOR's recipe from a date; closes (or replaces)
    /// the previous one like a rate. All items or none. The works and basic SORs are of the
    /// composition's own tenant (a composition of another tenant could block their
    /// deactivation), and are held (shared lock) until the persister committed, so none of
    /// them is deactivated meanwhile.
    pub async fn create_compositions(
        &self,
        ri: &RequestInfo,
        uri: &str,
        mut compositions: Vec<Composition>,
    ) -> Result<Vec<Composition>, SorError> {
        check_count(compositions.len(), "compositions")?;
        let tenants = item_tenants(compositions.iter().map(|c| &c.tenant_id), "compositions")?;
        self.authorize(ri, uri, &tenants).await?;
        for c in &compositions {
            check_shape(c)?;
        }
        // Numbers before the locks: the generator takes a pool connection of its own, and a
        // request holding its lock connection while it waits for a second one deadlocks the
        // pool under load (a refused request leaves a gap, as a rolled-back sequence does).
        for (c, tenant) in compositions.iter_mut().zip(&tenants) {
            let number = self
                .idgen
                .generate(
                    tenant,
                    Some("works.composition.number"),
                    Some("CMP_[SEQ_SOR_COMPOSITION_NUM]"),
                    1,
                )
                .await
                .map_err(|e| SorError::Dependency(e.to_string()))?;
            c.composition_id = number.into_iter().next();
        }
        let sor_of = |c: &Composition| c.sor_id.clone().unwrap_or_default();
        let mut tx = self.pool.begin().await?;
        lock_all(
            &mut tx,
            compositions.iter().zip(&tenants).flat_map(|(c, t)| {
                let works = sor_of(c);
                let mut keys = vec![
                    (LockKey::Compositions(t.clone(), works.clone()), true),
                    (LockKey::Sor(works), false),
                ];
                keys.extend(
                    c.basic_sor_details
                        .iter()
                        .map(|b| (LockKey::Sor(b.sor_id.clone().unwrap_or_default()), false)),
                );
                keys
            }),
        )
        .await?;
        let invalid = |m: String| SorError::invalid(codes::INVALID_COMPOSITION, m);
        let not_found =
            |id: &str| SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"));
        for (c, tenant) in compositions.iter().zip(&tenants) {
            let scope = std::slice::from_ref(tenant);
            let sor_id = sor_of(c);
            let works = repo::sor_by_id(&mut *tx, scope, &sor_id)
                .await?
                .ok_or_else(|| not_found(&sor_id))?;
            if works.sor_type.as_deref() != Some(rules::WORKS_TYPE) {
                return Err(invalid(format!("{sor_id} is not a works SOR")));
            }
            for b in &c.basic_sor_details {
                let id = b.sor_id.clone().unwrap_or_default();
                let basic = repo::sor_by_id(&mut *tx, scope, &id)
                    .await?
                    .ok_or_else(|| not_found(&id))?;
                if basic.sor_type.as_deref() == Some(rules::WORKS_TYPE)
                    || basic.is_active == Some(false)
                {
                    return Err(invalid(format!(
                        "{id} must be an active basic (M, L, E) SOR"
                    )));
                }
            }
        }
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let now = now_ms();
        for (c, tenant) in compositions.iter_mut().zip(&tenants) {
            let from = rules::start_of_day(
                c.effective_from.unwrap_or_default(),
                self.settings.time_zone,
            );
            c.id = Some(uuid::Uuid::new_v4().to_string());
            c.tenant_id = Some(tenant.clone());
            c.effective_from = Some(from);
            c.is_active = Some(true);
            c.audit_details = Some(AuditDetails::for_create(&user, now));
        }
        // The same validity rules as rates, on (effectiveFrom, effectiveTo), per works SOR.
        let mut by_key: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, c) in compositions.iter().enumerate() {
            by_key
                .entry((c.tenant_id.clone().unwrap_or_default(), sor_of(c)))
                .or_default()
                .push(i);
        }
        let mut closed: Vec<Value> = Vec::new();
        for ((tenant, sor_id), items) in &by_key {
            let active = repo::active_compositions(&mut tx, tenant, sor_id).await?;
            let stored: Vec<RateDetails> = active.iter().map(as_rate).collect();
            let new: Vec<RateDetails> = items.iter().map(|&i| as_rate(&compositions[i])).collect();
            let chain = rules::chain(&stored, &new)?;
            for (id, effective_to) in chain.stored {
                // A replaced composition keeps its effectiveTo: only isActive changes.
                let kept = active
                    .iter()
                    .find(|a| a.id.as_deref() == Some(id.as_str()))
                    .and_then(|a| a.effective_to);
                closed.push(json!({"id": id, "tenantId": tenant,
                    "effectiveTo": effective_to.or(kept), "isActive": effective_to.is_some(),
                    "auditDetails": {"lastModifiedBy": user, "lastModifiedTime": now}}));
            }
            for (&i, (effective_to, is_active)) in items.iter().zip(chain.new) {
                compositions[i].effective_to = effective_to;
                compositions[i].is_active = Some(is_active);
            }
        }
        let payload = json!({"RequestInfo": strip(ri), "compositions": compositions,
            "closedCompositions": closed});
        let partition_key = sor_of(&compositions[0]);
        self.publish(
            ri,
            &self.settings.save_composition_topic,
            &partition_key,
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(compositions)
    }

    /// `sor/composition/v1/_search`.
    pub async fn search_compositions(
        &self,
        ri: &RequestInfo,
        uri: &str,
        c: &CompositionCriteria,
    ) -> Result<Vec<Composition>, SorError> {
        let tenant = super::required_tenant(&c.tenant_id)?;
        self.authorize(ri, uri, std::slice::from_ref(&tenant))
            .await?;
        Ok(repo::search_compositions(&self.pool, &tenant, &c.sor_ids, c.effective_on).await?)
    }

    /// `sor/rate-analysis/v1/_calculate` (and the computation behind `_create`).
    pub async fn analyse(
        &self,
        ri: &RequestInfo,
        uri: &str,
        details: &AnalysisDetails,
    ) -> Result<Vec<RateAnalysis>, SorError> {
        let tenant = details
            .tenant_id
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SorError::invalid(codes::INVALID_TENANT, "sorDetails.tenantId is required")
            })?;
        self.authorize(ri, uri, std::slice::from_ref(&tenant))
            .await?;
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
        let scope = lineage(&tenant);
        let not_found =
            |id: &str| SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"));
        let mut out = Vec::new();
        for sor_id in &details.sor_ids {
            let works = repo::sor_by_id(&self.pool, &scope, sor_id)
                .await?
                .ok_or_else(|| not_found(sor_id))?;
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
                let basic = repo::sor_by_id(&self.pool, &scope, &id)
                    .await?
                    .ok_or_else(|| not_found(&id))?;
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
    /// manual rates; a rate equal to the current one is skipped, not failed (B1.6 "skip, not
    /// fail"), which is why there is no `RATE_SAME` error.
    pub async fn create_analysed_rates(
        &self,
        ri: &RequestInfo,
        uri: &str,
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
        let analyses = self.analyse(ri, uri, details).await?;
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
        self.create_rates(ri, uri, to_create, true).await
    }
}
