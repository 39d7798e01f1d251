//! SORs: create (numbered, duplicates refused), update (description, status, additional
//! details), search.

use super::{
    check_count, item_tenants, lock_all, now_ms, paging, required_tenant, strip, unique_ids,
    LockKey, SorService,
};
use crate::domain::model::{Pagination, Sor, SorCriteria};
use crate::domain::rules;
use crate::error::{codes, SorError};
use crate::store::repo;
use digit_core::{AuditDetails, RequestInfo};
use serde_json::json;
use std::collections::BTreeSet;

/// The natural key two SORs of a tenant may not share.
fn natural_key(sor: &Sor) -> String {
    format!(
        "{}:{}:{}:{}:{}:{}",
        sor.tenant_id.as_deref().unwrap_or_default(),
        sor.sor_type.as_deref().unwrap_or_default(),
        sor.sor_sub_type.as_deref().unwrap_or_default(),
        sor.sor_variant.as_deref().unwrap_or_default(),
        sor.uom.as_deref().unwrap_or_default(),
        sor.description
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
    )
}

fn duplicate() -> SorError {
    SorError::invalid(codes::DUPLICATE_SOR, "This SOR already exists")
}

impl SorService {
    /// `sor/v1/_create`: all items or none.
    pub async fn create_sors(
        &self,
        ri: &RequestInfo,
        uri: &str,
        mut sors: Vec<Sor>,
    ) -> Result<Vec<Sor>, SorError> {
        check_count(sors.len(), "sors")?;
        let tenants = item_tenants(sors.iter().map(|s| &s.tenant_id), "sors")?;
        self.authorize(ri, uri, &tenants).await?;
        let masters = self.masters_of(&tenants).await?;
        let mut keys = BTreeSet::new();
        for (sor, tenant) in sors.iter_mut().zip(&tenants) {
            sor.tenant_id = Some(tenant.clone());
            let m = masters.get(tenant).cloned().unwrap_or_default();
            rules::validate_new_sor(sor, &m)?;
            if !keys.insert(natural_key(sor)) {
                return Err(duplicate());
            }
        }
        // Numbers before the locks: the generator takes a pool connection of its own, and a
        // request holding its lock connection while it waits for a second one deadlocks the
        // pool under load (a refused request leaves a gap in the numbering, as a rolled-back
        // sequence does).
        for (sor, tenant) in sors.iter_mut().zip(&tenants) {
            sor.sor_number = self.sor_number(sor, tenant).await?;
        }
        // Serialize creations of the same natural key: the duplicate check stays true until
        // the persister committed.
        let mut tx = self.pool.begin().await?;
        lock_all(
            &mut tx,
            keys.iter().map(|k| (LockKey::SorKey(k.clone()), true)),
        )
        .await?;
        for sor in &sors {
            if repo::sor_duplicate(&mut tx, sor).await? {
                return Err(duplicate());
            }
        }
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        for sor in sors.iter_mut() {
            sor.id = Some(uuid::Uuid::new_v4().to_string());
            sor.is_active = Some(true);
            sor.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        }
        let payload = json!({"RequestInfo": strip(ri), "sors": sors});
        self.publish(ri, &self.settings.save_sor_topic, &tenants[0], &payload)
            .await?;
        tx.commit().await?;
        Ok(sors)
    }

    /// Works SORs are numbered per subtype (EW-00001: MDMS `common-masters.IdFormat`
    /// `works.sor.number.<subtype>`), the others `LD-00001`.
    async fn sor_number(&self, sor: &Sor, tenant: &str) -> Result<Option<String>, SorError> {
        let works = sor.sor_type.as_deref() == Some(rules::WORKS_TYPE);
        let number = if works {
            let sub = sor.sor_sub_type.clone().unwrap_or_default();
            let format = format!("{sub}-[SEQ_SOR_{sub}_NUM]");
            let name = format!("works.sor.number.{}", sub.to_lowercase());
            self.idgen
                .generate(tenant, Some(&name), Some(&format), 1)
                .await
        } else {
            self.idgen
                .generate(
                    tenant,
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
        Ok(number.into_iter().next())
    }

    /// `sor/v1/_update`: description, status, additional details of SORs of the items'
    /// tenants; all items or none.
    pub async fn update_sors(
        &self,
        ri: &RequestInfo,
        uri: &str,
        sors: Vec<Sor>,
    ) -> Result<Vec<Sor>, SorError> {
        check_count(sors.len(), "sors")?;
        let tenants = item_tenants(sors.iter().map(|s| &s.tenant_id), "sors")?;
        let ids: Vec<String> = sors
            .iter()
            .map(|s| s.id.clone().unwrap_or_default())
            .collect();
        unique_ids(
            tenants
                .iter()
                .zip(&ids)
                .map(|(t, i)| (t.as_str(), i.as_str())),
            "SOR",
        )?;
        self.authorize(ri, uri, &tenants).await?;
        // The same lock compositions take (shared) on the SORs they use: a deactivation and
        // a composition using the SOR never both pass their checks.
        let mut tx = self.pool.begin().await?;
        lock_all(
            &mut tx,
            ids.iter().map(|id| (LockKey::Sor(id.clone()), true)),
        )
        .await?;
        let user = ri.user_uuid().unwrap_or_default().to_owned();
        let now = now_ms();
        let mut out = Vec::with_capacity(sors.len());
        for ((update, tenant), id) in sors.iter().zip(&tenants).zip(&ids) {
            let stored = repo::sor_by_id(&mut *tx, std::slice::from_ref(tenant), id)
                .await?
                .ok_or_else(|| {
                    SorError::invalid(codes::SOR_NOT_FOUND, format!("SOR not found: {id}"))
                })?;
            let mut next = rules::apply_sor_update(&stored, update)?;
            if stored.is_active != Some(false)
                && next.is_active == Some(false)
                && repo::used_by_composition(&mut tx, tenant, id, now).await?
            {
                return Err(SorError::invalid(
                    codes::SOR_IN_USE,
                    "This SOR can not be inactivated as there are active SORs exists referencing it",
                ));
            }
            let mut audit = stored.audit_details.clone().unwrap_or_default();
            audit.last_modified_by = Some(user.clone());
            audit.last_modified_time = Some(now);
            next.audit_details = Some(audit);
            out.push(next);
        }
        let payload = json!({"RequestInfo": strip(ri), "sors": out});
        self.publish(ri, &self.settings.update_sor_topic, &tenants[0], &payload)
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// `sor/v1/_search`.
    pub async fn search_sors(
        &self,
        ri: &RequestInfo,
        uri: &str,
        criteria: &SorCriteria,
        pagination: &Pagination,
    ) -> Result<(Vec<Sor>, Pagination), SorError> {
        let tenant = required_tenant(&criteria.tenant_id)?;
        self.authorize(ri, uri, std::slice::from_ref(&tenant))
            .await?;
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
}
