//! `department`, `expenditure`, `project` and the project's links.

use super::audit_snake;
use crate::domain::adapter::{CodeCriteria, Department, Expenditure, Project, ProjectCriteria};
use crate::domain::header::Link;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;

/// The three tables with a per-tenant code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `department`.
    Department,
    /// `expenditure`.
    Expenditure,
    /// `project`.
    Project,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Department => "department",
            Self::Expenditure => "expenditure",
            Self::Project => "project",
        }
    }
}

/// The id of the tenant's record with this code.
pub async fn id_by_code(
    db: impl PgExecutor<'_>,
    table: Table,
    tenant: &str,
    code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM {} WHERE tenant_id = $1 AND code = $2",
        table.name()
    ))
    .bind(tenant)
    .bind(code)
    .fetch_optional(db)
    .await
}

/// Whether the tenant has a record with this id.
pub async fn exists(
    db: impl PgExecutor<'_>,
    table: Table,
    tenant: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = $1 AND id = $2)",
        table.name()
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(db)
    .await
}

fn push_code_criteria(q: &mut QueryBuilder<'_, Postgres>, c: &CodeCriteria) {
    q.push(" WHERE tenant_id = ")
        .push_bind(c.tenant_id.clone().unwrap_or_default());
    if let Some(code) = &c.code {
        q.push(" AND code = ").push_bind(code.clone());
    }
    if let Some(name) = &c.name {
        q.push(" AND name = ").push_bind(name.clone());
    }
    if !c.ids.is_empty() {
        q.push(" AND id = ANY(").push_bind(c.ids.clone()).push(")");
    }
}

fn department_from_row(r: &PgRow) -> Result<Department, sqlx::Error> {
    Ok(Department {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        is_nodal: Some(r.try_get::<Option<bool>, _>("is_nodal")?.unwrap_or(false)),
        parent: r.try_get("parent")?,
        audit_details: Some(audit_snake(r)?),
    })
}

/// Department search.
pub async fn departments(
    pool: &PgPool,
    c: &CodeCriteria,
    limit: i64,
) -> Result<Vec<Department>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, tenant_id, code, name, is_nodal, parent, created_by, created_time, last_modified_by, last_modified_time FROM department",
    );
    push_code_criteria(&mut q, c);
    q.push(" ORDER BY created_time, id LIMIT ").push_bind(limit);
    q.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(department_from_row)
        .collect()
}

fn expenditure_from_row(r: &PgRow) -> Result<Expenditure, sqlx::Error> {
    Ok(Expenditure {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("type")?,
        department_id: r.try_get("department_id")?,
        audit_details: Some(audit_snake(r)?),
    })
}

/// Expenditure search.
pub async fn expenditures(
    pool: &PgPool,
    c: &CodeCriteria,
    limit: i64,
) -> Result<Vec<Expenditure>, sqlx::Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, tenant_id, code, name, type, department_id, created_by, created_time, last_modified_by, last_modified_time FROM expenditure",
    );
    push_code_criteria(&mut q, c);
    q.push(" ORDER BY created_time, id LIMIT ").push_bind(limit);
    q.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(expenditure_from_row)
        .collect()
}

const PROJECT_COLUMNS: &str = "p.id, p.tenant_id, p.code, p.name, p.expenditure_id, p.created_by, p.created_time, p.last_modified_by, p.last_modified_time";

fn project_from_row(r: &PgRow) -> Result<Project, sqlx::Error> {
    Ok(Project {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        expenditure_id: r.try_get("expenditure_id")?,
        department_entity_ids: Some(Vec::new()),
        location_ids: Some(Vec::new()),
        audit_details: Some(audit_snake(r)?),
    })
}

/// Project search (links filtered with `EXISTS` on active links), with each project's
/// active links.
pub async fn projects(
    conn: &mut PgConnection,
    c: &ProjectCriteria,
    limit: i64,
) -> Result<Vec<Project>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {PROJECT_COLUMNS} FROM project p WHERE p.tenant_id = "
    ));
    q.push_bind(c.tenant_id.clone().unwrap_or_default());
    if let Some(code) = &c.code {
        q.push(" AND p.code = ").push_bind(code.clone());
    }
    if let Some(name) = &c.name {
        q.push(" AND p.name = ").push_bind(name.clone());
    }
    if let Some(e) = &c.expenditure_id {
        q.push(" AND p.expenditure_id = ").push_bind(e.clone());
    }
    if !c.ids.is_empty() {
        q.push(" AND p.id = ANY(")
            .push_bind(c.ids.clone())
            .push(")");
    }
    if let Some(de) = &c.department_entity_id {
        q.push(" AND EXISTS (SELECT 1 FROM project_department_entity_relationship r WHERE r.project_id = p.id AND r.status AND r.department_entity_id = ")
            .push_bind(de.clone())
            .push(")");
    }
    if let Some(l) = &c.location_id {
        q.push(" AND EXISTS (SELECT 1 FROM project_location_relationship r WHERE r.project_id = p.id AND r.status AND r.location_id = ")
            .push_bind(l.clone())
            .push(")");
    }
    q.push(" ORDER BY p.created_time, p.id LIMIT ")
        .push_bind(limit);
    let mut out: Vec<Project> = q
        .build()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(project_from_row)
        .collect::<Result<_, _>>()?;
    attach_links(conn, &mut out).await?;
    Ok(out)
}

/// The tenant's project with this id (with its active links).
pub async fn project(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
) -> Result<Option<Project>, sqlx::Error> {
    let c = ProjectCriteria {
        ids: vec![id.to_owned()],
        tenant_id: Some(tenant.to_owned()),
        ..ProjectCriteria::default()
    };
    Ok(projects(conn, &c, 1).await?.pop())
}

async fn attach_links(
    conn: &mut PgConnection,
    projects: &mut [Project],
) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = projects.iter().filter_map(|p| p.id.clone()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut entities: HashMap<String, Vec<Link>> = HashMap::new();
    for r in sqlx::query(
        "SELECT project_id, department_entity_id FROM project_department_entity_relationship
         WHERE project_id = ANY($1) AND status ORDER BY department_entity_id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    {
        entities
            .entry(r.try_get("project_id")?)
            .or_default()
            .push(Link::active(
                r.try_get::<String, _>("department_entity_id")?,
            ));
    }
    let mut locations: HashMap<String, Vec<Link>> = HashMap::new();
    for r in sqlx::query(
        "SELECT project_id, location_id FROM project_location_relationship
         WHERE project_id = ANY($1) AND status ORDER BY location_id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    {
        locations
            .entry(r.try_get("project_id")?)
            .or_default()
            .push(Link::active(r.try_get::<String, _>("location_id")?));
    }
    for p in projects {
        let id = p.id.clone().unwrap_or_default();
        p.department_entity_ids = Some(entities.remove(&id).unwrap_or_default());
        p.location_ids = Some(locations.remove(&id).unwrap_or_default());
    }
    Ok(())
}
