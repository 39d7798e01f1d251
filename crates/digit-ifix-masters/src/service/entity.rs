//! Department hierarchy levels and department entities. Every write of a department's
//! levels takes that department's hierarchy lock, every write of its entities its entity
//! lock, so the checks of the tree (one child level per level, children one level deeper,
//! one parent per entity) hold until the persister has stored the change.

use super::{lock, now_ms, Caller, Masters};
use crate::domain::entity::{
    self, codes, AncestryNode, DepartmentEntity, EntityCriteria, HierarchyCriteria, HierarchyLevel,
};
use crate::domain::header::{Link, RequestHeader};
use crate::error::MastersError;
use crate::store::adapter::{self as adapter_repo, Table};
use crate::store::entity as repo;
use digit_core::AuditDetails;
use digit_store::commit::Confirmation;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn hierarchy_lock(tenant: &str, department: &str) -> String {
    format!("ifix-hierarchy:{tenant}:{department}")
}

fn entities_lock(tenant: &str, department: &str) -> String {
    format!("ifix-entities:{tenant}:{department}")
}

fn invalid_children() -> MastersError {
    MastersError::invalid(codes::DEPARTMENT_CHILDREN, "Invalid children id list")
}

fn missing_level(department: &str) -> MastersError {
    MastersError::invalid(
        codes::INVALID_HIERARCHY_LEVEL,
        format!("Given Hierarchy level of this department id : {department} doesn't exist in the system."),
    )
}

fn duplicate_entity() -> MastersError {
    MastersError::invalid(
        codes::DUPLICATE_DEPARTMENT_ENTITY_CODE,
        "A department entity with this code exists in this department",
    )
}

/// An answer of the entity search: plain entities, or their ancestry trees.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum EntitySearchResult {
    /// `getAncestry` false.
    Entities(Vec<DepartmentEntity>),
    /// `getAncestry` true.
    Ancestry(Vec<AncestryNode>),
}

/// An entity as the persister reads it: children as `{childId, status}`.
fn entity_payload(header: &RequestHeader, e: &DepartmentEntity) -> Result<Value, MastersError> {
    let mut v = serde_json::to_value(e).map_err(|err| MastersError::Kafka(err.to_string()))?;
    v["children"] = Value::Array(
        e.children
            .iter()
            .flatten()
            .map(|l| json!({"childId": l.id, "status": l.active}))
            .collect(),
    );
    Ok(json!({"requestHeader": header, "departmentEntity": v}))
}

impl Masters {
    /// `departmentEntity/hierarchyLevel/v1/_create`.
    pub async fn create_level(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut l: HierarchyLevel,
    ) -> Result<HierarchyLevel, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        entity::validate_level(&l)?;
        let tenant = l.tenant_id.clone().unwrap_or_default();
        let department = l.department_id.clone().unwrap_or_default();
        if !adapter_repo::exists(&self.pool, Table::Department, &tenant, &department).await? {
            return Err(MastersError::invalid(
                codes::INVALID_DEPARTMENT_ID,
                format!("Department id : {department} doesn't exist in the system"),
            ));
        }
        let mut tx = lock(&self.pool, vec![hierarchy_lock(&tenant, &department)]).await?;
        let parent = l.parent.clone().filter(|p| !p.trim().is_empty());
        l.level = Some(match &parent {
            None => 0,
            Some(p) => {
                let parent_level = repo::level(&mut *tx, &tenant, p)
                    .await?
                    .filter(|pl| pl.department_id.as_deref() == Some(&department))
                    .ok_or_else(|| {
                        MastersError::invalid(
                            codes::INVALID_PARENT_ID,
                            "Given parent doesn't exist in the system",
                        )
                    })?;
                parent_level.level.unwrap_or_default() + 1
            }
        });
        if repo::child_level(&mut *tx, &tenant, &department, parent.as_deref())
            .await?
            .is_some()
        {
            let message = match parent {
                Some(_) => format!("Department id : {department} is not valid for given parent"),
                None => format!("Department id : {department} already has a root hierarchy level"),
            };
            return Err(MastersError::invalid(codes::INVALID_DEPARTMENT_ID, message));
        }
        let id = uuid::Uuid::new_v4().to_string();
        l.id = Some(id.clone());
        l.parent = parent.clone();
        l.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        let payload =
            json!({"requestHeader": caller.trusted_header(header), "departmentHierarchyLevel": l});
        let confirmation = self
            .publish(
                caller,
                &self.settings.topics.hierarchy,
                &format!("{tenant}:{department}"),
                &payload,
            )
            .await?;
        tx.commit().await?;
        if confirmation == Confirmation::Persisted
            && repo::level(&self.pool, &tenant, &id).await?.is_none()
        {
            // Another level took this place in the chain (the unique index), or not stored.
            return Err(
                match repo::child_level(&self.pool, &tenant, &department, parent.as_deref()).await?
                {
                    Some(_) => MastersError::invalid(
                        codes::INVALID_DEPARTMENT_ID,
                        format!("Department id : {department} is not valid for given parent"),
                    ),
                    None => MastersError::NotStored(format!("hierarchy level {id}")),
                },
            );
        }
        Ok(l)
    }

    /// `departmentEntity/hierarchyLevel/v1/_search`.
    pub async fn search_levels(
        &self,
        criteria: &HierarchyCriteria,
    ) -> Result<Vec<HierarchyLevel>, MastersError> {
        entity::validate_level_criteria(criteria)?;
        Ok(repo::levels(&self.pool, criteria, self.settings.search_limit).await?)
    }

    /// Checks links to children of an entity at `level` in `department` (the entity `own`
    /// is the one being written): each active child exists there one level deeper, and
    /// has no other active parent.
    async fn check_children(
        conn: &mut sqlx::PgConnection,
        tenant: &str,
        department: &str,
        level: i64,
        own: &str,
        links: &[Link],
    ) -> Result<(), MastersError> {
        let mut seen = BTreeSet::new();
        if links.iter().any(|l| !seen.insert(l.id.as_str())) {
            return Err(invalid_children());
        }
        let active: Vec<String> = links
            .iter()
            .filter(|l| l.active)
            .map(|l| l.id.clone())
            .collect();
        if active.is_empty() {
            return Ok(());
        }
        let found = repo::entities_by_ids(&mut *conn, tenant, &active).await?;
        let fits = |e: &DepartmentEntity| {
            e.department_id.as_deref() == Some(department) && e.hierarchy_level == Some(level + 1)
        };
        if found.len() != active.len() || !found.iter().all(fits) {
            return Err(invalid_children());
        }
        let parents = repo::active_parents(&mut *conn, &active).await?;
        if let Some((child, _)) = parents.iter().find(|(_, p)| p.as_str() != own) {
            return Err(MastersError::invalid(
                codes::DEPARTMENT_CHILDREN,
                format!("Department entity {child} already has a parent"),
            ));
        }
        Ok(())
    }

    /// `departmentEntity/v1/_create`.
    pub async fn create_entity(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut e: DepartmentEntity,
    ) -> Result<DepartmentEntity, MastersError> {
        entity::validate_entity(&e)?;
        let tenant = e.tenant_id.clone().unwrap_or_default();
        let department = e.department_id.clone().unwrap_or_default();
        let level = e.hierarchy_level.unwrap_or_default();
        let code = e.code.clone().unwrap_or_default();
        let mut tx = lock(&self.pool, vec![entities_lock(&tenant, &department)]).await?;
        if !repo::level_exists(&mut *tx, &tenant, &department, level).await? {
            return Err(missing_level(&department));
        }
        if repo::entity_id_by_code(&mut *tx, &tenant, &department, &code)
            .await?
            .is_some()
        {
            return Err(duplicate_entity());
        }
        let id = uuid::Uuid::new_v4().to_string();
        let links = e.children.clone().unwrap_or_default();
        Self::check_children(&mut tx, &tenant, &department, level, &id, &links).await?;
        e.id = Some(id.clone());
        e.audit_details = Some(AuditDetails::for_create(
            caller.uuid().unwrap_or_default(),
            now_ms(),
        ));
        let payload = entity_payload(&caller.trusted_header(header), &e)?;
        let confirmation = self
            .publish(
                caller,
                &self.settings.topics.entity_create,
                &format!("{tenant}:{department}"),
                &payload,
            )
            .await?;
        tx.commit().await?;
        if confirmation == Confirmation::Persisted
            && repo::entity(&self.pool, &tenant, &id).await?.is_none()
        {
            return Err(
                match repo::entity_id_by_code(&self.pool, &tenant, &department, &code).await? {
                    Some(_) => duplicate_entity(),
                    None => MastersError::NotStored(format!("department entity {id}")),
                },
            );
        }
        e.children = Some(links.into_iter().filter(|l| l.active).collect());
        Ok(e)
    }

    /// `departmentEntity/v1/_update`: department, code, name and level when given; children
    /// added (plain id or `status: true`) or removed (`status: false`). The tree stays
    /// consistent: the entity's children stay one level below it and its parent one above.
    pub async fn update_entity(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        update: DepartmentEntity,
    ) -> Result<DepartmentEntity, MastersError> {
        entity::validate_entity_update(&update)?;
        let tenant = update.tenant_id.clone().unwrap_or_default();
        let id = update.id.clone().unwrap_or_default();
        let not_found = || {
            MastersError::invalid(
                codes::INVALID_DEPARTMENT_ENTITY_ID,
                "Unable to find department entity by given id",
            )
        };
        let first = repo::entity(&self.pool, &tenant, &id)
            .await?
            .ok_or_else(not_found)?;
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let old_department = first.department_id.clone().unwrap_or_default();
        let department = given(&update.department_id).unwrap_or_else(|| old_department.clone());
        let mut tx = lock(
            &self.pool,
            vec![
                entities_lock(&tenant, &old_department),
                entities_lock(&tenant, &department),
            ],
        )
        .await?;
        // Read again under the lock (a concurrent update may have moved it).
        let stored = repo::entity(&mut *tx, &tenant, &id)
            .await?
            .ok_or_else(not_found)?;
        if stored.department_id.as_deref() != Some(&old_department) {
            return Err(MastersError::invalid(
                codes::INVALID_DEPARTMENT_ENTITY_ID,
                "The department entity changed while it was being updated; send the update again",
            ));
        }
        let level = update
            .hierarchy_level
            .or(stored.hierarchy_level)
            .unwrap_or_default();
        let code = given(&update.code)
            .or(stored.code.clone())
            .unwrap_or_default();
        let moved = department != old_department || Some(level) != stored.hierarchy_level;
        if moved && !repo::level_exists(&mut *tx, &tenant, &department, level).await? {
            return Err(missing_level(&department));
        }
        if (department != old_department || Some(&code) != stored.code.as_ref())
            && repo::entity_id_by_code(&mut *tx, &tenant, &department, &code)
                .await?
                .is_some_and(|other| other != id)
        {
            return Err(duplicate_entity());
        }
        let links = update.children.clone().unwrap_or_default();
        Self::check_children(&mut tx, &tenant, &department, level, &id, &links).await?;
        let ids = vec![id.clone()];
        let current: Vec<String> = repo::active_children(&mut *tx, &ids)
            .await?
            .remove(&id)
            .unwrap_or_default();
        let removed: BTreeSet<&str> = links
            .iter()
            .filter(|l| !l.active)
            .map(|l| l.id.as_str())
            .collect();
        let kept: Vec<String> = current
            .iter()
            .filter(|c| !removed.contains(c.as_str()))
            .cloned()
            .collect();
        if moved {
            let kept_links: Vec<Link> = kept.iter().map(|c| Link::active(c.as_str())).collect();
            Self::check_children(&mut tx, &tenant, &department, level, &id, &kept_links).await?;
            if let Some(parent) = repo::active_parents(&mut *tx, &ids).await?.remove(&id) {
                let p = repo::entity(&mut *tx, &tenant, &parent).await?;
                let fits = p.is_some_and(|p| {
                    p.department_id.as_deref() == Some(&department)
                        && p.hierarchy_level == Some(level - 1)
                });
                if !fits {
                    return Err(MastersError::invalid(
                        codes::INVALID_HIERARCHY_LEVEL,
                        format!("The parent of department entity {id} is not one level above level {level} of department {department}"),
                    ));
                }
            }
        }
        let audit = stored
            .audit_details
            .clone()
            .unwrap_or_default()
            .for_update(caller.uuid().unwrap_or_default(), now_ms());
        let next = DepartmentEntity {
            id: Some(id.clone()),
            tenant_id: Some(tenant.clone()),
            department_id: Some(department.clone()),
            code: Some(code),
            name: given(&update.name).or(stored.name.clone()),
            hierarchy_level: Some(level),
            audit_details: Some(audit),
            children: Some(links.clone()),
        };
        let payload = entity_payload(&caller.trusted_header(header), &next)?;
        self.publish(
            caller,
            &self.settings.topics.entity_update,
            &format!("{tenant}:{department}"),
            &payload,
        )
        .await?;
        tx.commit().await?;
        let mut children: BTreeSet<String> = kept.into_iter().collect();
        children.extend(links.iter().filter(|l| l.active).map(|l| l.id.clone()));
        Ok(DepartmentEntity {
            children: Some(children.into_iter().map(Link::active).collect()),
            ..next
        })
    }

    /// `departmentEntity/v1/_search`.
    pub async fn search_entities(
        &self,
        criteria: &EntityCriteria,
    ) -> Result<EntitySearchResult, MastersError> {
        entity::validate_entity_criteria(criteria)?;
        let mut conn = self.pool.acquire().await?;
        let found = repo::entities(&mut conn, criteria, self.settings.search_limit).await?;
        drop(conn);
        if !criteria.get_ancestry {
            return Ok(EntitySearchResult::Entities(found));
        }
        let tenant = criteria.tenant_id.clone().unwrap_or_default();
        let max = self.settings.max_hierarchy;
        let mut trees = Vec::with_capacity(found.len());
        for e in found {
            let id = e.id.clone().unwrap_or_default();
            let mut chain = repo::ancestors(&self.pool, &tenant, &id, max).await?;
            if chain.len() > max {
                return Err(MastersError::invalid(
                    codes::MAXIMUM_SUPPORTED_HIERARCHY_EXCEEDED,
                    "Loop to find ancestors exceeded the maximum supported hierarchy. The data might be corrupted.",
                ));
            }
            chain.reverse();
            chain.push(e);
            trees.extend(entity::ancestry(chain));
        }
        Ok(EntitySearchResult::Ancestry(trees))
    }
}
