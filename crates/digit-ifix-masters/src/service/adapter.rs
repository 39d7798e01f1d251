//! Departments, expenditures and projects: create (code unique per tenant), project update,
//! searches.

use super::{lock, now_ms, Caller, Masters};
use crate::domain::adapter::{
    self, codes, CodeCriteria, Department, Expenditure, Project, ProjectCriteria,
};
use crate::domain::header::{Link, RequestHeader};
use crate::error::MastersError;
use crate::store::adapter::{self as repo, Table};
use digit_core::AuditDetails;
use digit_store::commit::Confirmation;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn duplicate(table: Table) -> MastersError {
    match table {
        Table::Department => MastersError::invalid(
            codes::DUPLICATE_DEPARTMENT_CODE,
            "A department with this code exists for this tenant",
        ),
        Table::Expenditure => MastersError::invalid(
            codes::DUPLICATE_EXPENDITURE_CODE,
            "An expenditure with this code exists for this tenant",
        ),
        Table::Project => MastersError::invalid(
            codes::DUPLICATE_PROJECT_CODE,
            "A project with this code exists for this tenant",
        ),
    }
}

fn code_lock(table: Table, tenant: &str, code: &str) -> String {
    format!("ifix-{table:?}-code:{tenant}:{code}")
}

/// A project as the persister reads it: links as `{departmentEntityId|locationId, status}`.
fn project_payload(header: &RequestHeader, p: &Project) -> Result<Value, MastersError> {
    let mut v = serde_json::to_value(p).map_err(|e| MastersError::Kafka(e.to_string()))?;
    let links = |links: &Option<Vec<Link>>, key: &str| -> Value {
        Value::Array(
            links
                .iter()
                .flatten()
                .map(|l| json!({key: l.id, "status": l.active}))
                .collect(),
        )
    };
    v["departmentEntityIds"] = links(&p.department_entity_ids, "departmentEntityId");
    v["locationIds"] = links(&p.location_ids, "locationId");
    Ok(json!({"requestHeader": header, "project": v}))
}

/// The links after applying `changes` (in order) to the `current` active ones.
fn merge_links(current: &[Link], changes: &[Link]) -> Vec<Link> {
    let mut ids: BTreeSet<String> = current.iter().map(|l| l.id.clone()).collect();
    for c in changes {
        if c.active {
            ids.insert(c.id.clone());
        } else {
            ids.remove(&c.id);
        }
    }
    ids.into_iter().map(Link::active).collect()
}

/// Only the last mention of each id counts (a list that names an id twice).
fn last_per_id(links: &[Link]) -> Vec<Link> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<Link> = links
        .iter()
        .rev()
        .filter(|l| seen.insert(l.id.clone()))
        .cloned()
        .collect();
    out.reverse();
    out
}

/// A new record of a per-tenant-code table.
struct NewRecord<'a> {
    table: Table,
    tenant: &'a str,
    code: &'a str,
    id: &'a str,
    topic: &'a str,
}

impl Masters {
    /// Creates one record of a per-tenant-code table: lock the code, refuse a duplicate,
    /// publish, and read back after the persister's commit.
    async fn create_coded(
        &self,
        caller: &Caller,
        record: NewRecord<'_>,
        payload: &Value,
    ) -> Result<(), MastersError> {
        let NewRecord {
            table,
            tenant,
            code,
            id,
            topic,
        } = record;
        let mut tx = lock(&self.pool, vec![code_lock(table, tenant, code)]).await?;
        if repo::id_by_code(&mut *tx, table, tenant, code)
            .await?
            .is_some()
        {
            return Err(duplicate(table));
        }
        let confirmation = self
            .publish(caller, topic, &format!("{tenant}:{code}"), payload)
            .await?;
        tx.commit().await?;
        if confirmation == Confirmation::Persisted {
            match repo::id_by_code(&self.pool, table, tenant, code).await? {
                Some(stored) if stored == id => {}
                Some(_) => return Err(duplicate(table)),
                None => return Err(MastersError::NotStored(format!("{table:?} {id}"))),
            }
        }
        Ok(())
    }

    /// `department/v1/_create`.
    pub async fn create_department(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut d: Department,
    ) -> Result<Department, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        adapter::validate_department(&d)?;
        let id = uuid::Uuid::new_v4().to_string();
        d.id = Some(id.clone());
        d.is_nodal = Some(d.is_nodal.unwrap_or(false));
        d.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        let payload = json!({"requestHeader": caller.trusted_header(header), "department": d});
        let (tenant, code) = (
            d.tenant_id.clone().unwrap_or_default(),
            d.code.clone().unwrap_or_default(),
        );
        self.create_coded(
            caller,
            NewRecord {
                table: Table::Department,
                tenant: &tenant,
                code: &code,
                id: &id,
                topic: &self.settings.topics.department,
            },
            &payload,
        )
        .await?;
        Ok(d)
    }

    /// `department/v1/_search`.
    pub async fn search_departments(
        &self,
        criteria: &CodeCriteria,
    ) -> Result<Vec<Department>, MastersError> {
        adapter::validate_department_criteria(criteria)?;
        Ok(repo::departments(&self.pool, criteria, self.settings.search_limit).await?)
    }

    /// `expenditure/v1/_create`.
    pub async fn create_expenditure(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut e: Expenditure,
    ) -> Result<Expenditure, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        adapter::validate_expenditure(&e)?;
        let tenant = e.tenant_id.clone().unwrap_or_default();
        if let Some(department) = e.department_id.as_deref().filter(|d| !d.trim().is_empty()) {
            if !repo::exists(&self.pool, Table::Department, &tenant, department).await? {
                return Err(MastersError::invalid(
                    codes::DEPARTMENT_ID,
                    "Department id doesn't exist in the system",
                ));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        e.id = Some(id.clone());
        e.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        let payload = json!({"requestHeader": caller.trusted_header(header), "expenditure": e});
        let code = e.code.clone().unwrap_or_default();
        self.create_coded(
            caller,
            NewRecord {
                table: Table::Expenditure,
                tenant: &tenant,
                code: &code,
                id: &id,
                topic: &self.settings.topics.expenditure,
            },
            &payload,
        )
        .await?;
        Ok(e)
    }

    /// `expenditure/v1/_search`.
    pub async fn search_expenditures(
        &self,
        criteria: &CodeCriteria,
    ) -> Result<Vec<Expenditure>, MastersError> {
        adapter::validate_expenditure_criteria(criteria)?;
        Ok(repo::expenditures(&self.pool, criteria, self.settings.search_limit).await?)
    }

    /// The expenditure and department entities a project refers to exist in its tenant.
    async fn check_project_refs(
        conn: &mut sqlx::PgConnection,
        tenant: &str,
        p: &Project,
    ) -> Result<(), MastersError> {
        if let Some(e) = p.expenditure_id.as_deref().filter(|e| !e.trim().is_empty()) {
            if !repo::exists(&mut *conn, Table::Expenditure, tenant, e).await? {
                return Err(MastersError::invalid(
                    codes::EXPENDITURE_ID,
                    format!("Expenditure id : {e} doesn't exist in the system"),
                ));
            }
        }
        let wanted: Vec<String> = p
            .department_entity_ids
            .iter()
            .flatten()
            .filter(|l| l.active)
            .map(|l| l.id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !wanted.is_empty() {
            let found: BTreeSet<String> =
                crate::store::entity::entities_by_ids(&mut *conn, tenant, &wanted)
                    .await?
                    .into_iter()
                    .filter_map(|e| e.id)
                    .collect();
            let missing: Vec<&String> = wanted.iter().filter(|w| !found.contains(*w)).collect();
            if !missing.is_empty() {
                return Err(MastersError::invalid(
                    codes::DEPARTMENT_ENTITY_ID,
                    format!("Some of the Department Entity ids : {missing:?} doesn't exist in the system"),
                ));
            }
        }
        Ok(())
    }

    /// `project/v1/_create`.
    pub async fn create_project(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        mut p: Project,
    ) -> Result<Project, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        adapter::validate_project(&p)?;
        let tenant = p.tenant_id.clone().unwrap_or_default();
        p.department_entity_ids = p.department_entity_ids.as_deref().map(last_per_id);
        p.location_ids = p.location_ids.as_deref().map(last_per_id);
        Self::check_project_refs(&mut *self.pool.acquire().await?, &tenant, &p).await?;
        let id = uuid::Uuid::new_v4().to_string();
        p.id = Some(id.clone());
        p.audit_details = Some(AuditDetails::for_create(&user, now_ms()));
        let payload = project_payload(&caller.trusted_header(header), &p)?;
        let code = p.code.clone().unwrap_or_default();
        self.create_coded(
            caller,
            NewRecord {
                table: Table::Project,
                tenant: &tenant,
                code: &code,
                id: &id,
                topic: &self.settings.topics.project_create,
            },
            &payload,
        )
        .await?;
        p.department_entity_ids = Some(merge_links(
            &[],
            p.department_entity_ids.as_deref().unwrap_or_default(),
        ));
        p.location_ids = Some(merge_links(
            &[],
            p.location_ids.as_deref().unwrap_or_default(),
        ));
        Ok(p)
    }

    /// `project/v1/_update`: code, name and expenditure when given; links added
    /// (`status` true or a plain id) or removed (`status: false`).
    pub async fn update_project(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        update: Project,
    ) -> Result<Project, MastersError> {
        let user = self.require_user(caller)?.to_owned();
        adapter::validate_project_update(&update)?;
        let tenant = update.tenant_id.clone().unwrap_or_default();
        let id = update.id.clone().unwrap_or_default();
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let mut keys = vec![format!("ifix-project:{tenant}:{id}")];
        if let Some(code) = given(&update.code) {
            keys.push(code_lock(Table::Project, &tenant, &code));
        }
        let mut tx = lock(&self.pool, keys).await?;
        let stored = repo::project(&mut tx, &tenant, &id)
            .await?
            .ok_or_else(|| MastersError::invalid(codes::INVALID_ID, "Invalid project id"))?;
        let changes = Project {
            department_entity_ids: update.department_entity_ids.as_deref().map(last_per_id),
            location_ids: update.location_ids.as_deref().map(last_per_id),
            expenditure_id: given(&update.expenditure_id),
            ..Project::default()
        };
        Self::check_project_refs(&mut tx, &tenant, &changes).await?;
        if let Some(code) = given(&update.code).filter(|c| Some(c) != stored.code.as_ref()) {
            if repo::id_by_code(&mut *tx, Table::Project, &tenant, &code)
                .await?
                .is_some()
            {
                return Err(duplicate(Table::Project));
            }
        }
        let audit = stored
            .audit_details
            .clone()
            .unwrap_or_default()
            .for_update(&user, now_ms());
        let next = Project {
            id: Some(id.clone()),
            tenant_id: Some(tenant.clone()),
            code: given(&update.code).or(stored.code.clone()),
            name: given(&update.name).or(stored.name.clone()),
            expenditure_id: changes
                .expenditure_id
                .clone()
                .or(stored.expenditure_id.clone()),
            department_entity_ids: changes.department_entity_ids.clone(),
            location_ids: changes.location_ids.clone(),
            audit_details: Some(audit),
        };
        let payload = project_payload(&caller.trusted_header(header), &next)?;
        self.publish(
            caller,
            &self.settings.topics.project_update,
            &format!("{tenant}:{id}"),
            &payload,
        )
        .await?;
        tx.commit().await?;
        Ok(Project {
            department_entity_ids: Some(merge_links(
                stored.department_entity_ids.as_deref().unwrap_or_default(),
                next.department_entity_ids.as_deref().unwrap_or_default(),
            )),
            location_ids: Some(merge_links(
                stored.location_ids.as_deref().unwrap_or_default(),
                next.location_ids.as_deref().unwrap_or_default(),
            )),
            ..next
        })
    }

    /// `project/v1/_search`.
    pub async fn search_projects(
        &self,
        criteria: &ProjectCriteria,
    ) -> Result<Vec<Project>, MastersError> {
        adapter::validate_project_criteria(criteria)?;
        let mut conn = self.pool.acquire().await?;
        Ok(repo::projects(&mut conn, criteria, self.settings.search_limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_merge_in_order_and_dedupe() {
        let current = vec![Link::active("a"), Link::active("b")];
        let changes = last_per_id(&[
            Link::active("c"),
            Link {
                id: "a".into(),
                active: false,
            },
            Link {
                id: "c".into(),
                active: false,
            },
            Link::active("c"),
        ]);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            merge_links(&current, &changes),
            vec![Link::active("b"), Link::active("c")]
        );
    }
}
