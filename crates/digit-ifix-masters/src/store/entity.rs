//! `department_hierarchy_level`, `department_entity`, `department_entity_children`.

use super::audit_snake;
use crate::domain::entity::{DepartmentEntity, EntityCriteria, HierarchyCriteria, HierarchyLevel};
use crate::domain::header::Link;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, QueryBuilder, Row};
use std::collections::HashMap;

const LEVEL_COLUMNS: &str = "id, tenant_id, department_id, label, parent, level, created_by, created_time, last_modified_by, last_modified_time";

fn level_from_row(r: &PgRow) -> Result<HierarchyLevel, sqlx::Error> {
    Ok(HierarchyLevel {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        department_id: r.try_get("department_id")?,
        label: r.try_get("label")?,
        parent: r.try_get("parent")?,
        level: r.try_get("level")?,
        audit_details: Some(audit_snake(r)?),
    })
}

/// The tenant's hierarchy level with this id.
pub async fn level(
    db: impl PgExecutor<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<HierarchyLevel>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {LEVEL_COLUMNS} FROM department_hierarchy_level WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(level_from_row)
    .transpose()
}

/// The level of the department directly below `parent` (the root for `None`), if any.
pub async fn child_level(
    db: impl PgExecutor<'_>,
    tenant: &str,
    department: &str,
    parent: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM department_hierarchy_level
         WHERE tenant_id = $1 AND department_id = $2 AND coalesce(parent, '') = coalesce($3, '')",
    )
    .bind(tenant)
    .bind(department)
    .bind(parent)
    .fetch_optional(db)
    .await
}

/// Whether the department has a hierarchy level at depth `level`.
pub async fn level_exists(
    db: impl PgExecutor<'_>,
    tenant: &str,
    department: &str,
    level: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM department_hierarchy_level WHERE tenant_id = $1 AND department_id = $2 AND level = $3)",
    )
    .bind(tenant)
    .bind(department)
    .bind(i32::try_from(level).unwrap_or(i32::MAX))
    .fetch_one(db)
    .await
}

/// Hierarchy level search.
pub async fn levels(
    pool: &PgPool,
    c: &HierarchyCriteria,
    limit: i64,
) -> Result<Vec<HierarchyLevel>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {LEVEL_COLUMNS} FROM department_hierarchy_level WHERE tenant_id = "
    ));
    q.push_bind(c.tenant_id.clone().unwrap_or_default());
    if let Some(d) = &c.department_id {
        q.push(" AND department_id = ").push_bind(d.clone());
    }
    if let Some(l) = &c.label {
        q.push(" AND label = ").push_bind(l.clone());
    }
    if let Some(l) = c.level {
        q.push(" AND level = ").push_bind(l);
    }
    if !c.ids.is_empty() {
        q.push(" AND id = ANY(").push_bind(c.ids.clone()).push(")");
    }
    q.push(" ORDER BY department_id, level, id LIMIT ")
        .push_bind(limit);
    q.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(level_from_row)
        .collect()
}

const ENTITY_COLUMNS: &str = "id, tenant_id, department_id, code, name, hierarchy_level, created_by, created_time, last_modified_by, last_modified_time";

fn entity_from_row(r: &PgRow) -> Result<DepartmentEntity, sqlx::Error> {
    Ok(DepartmentEntity {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        department_id: r.try_get("department_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        hierarchy_level: r
            .try_get::<Option<i32>, _>("hierarchy_level")?
            .map(i64::from),
        audit_details: Some(audit_snake(r)?),
        children: None,
    })
}

/// The tenant's entity with this id (without children).
pub async fn entity(
    db: impl PgExecutor<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<DepartmentEntity>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ENTITY_COLUMNS} FROM department_entity WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(entity_from_row)
    .transpose()
}

/// The id of the department's entity with this code.
pub async fn entity_id_by_code(
    db: impl PgExecutor<'_>,
    tenant: &str,
    department: &str,
    code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM department_entity WHERE tenant_id = $1 AND department_id = $2 AND code = $3",
    )
    .bind(tenant)
    .bind(department)
    .bind(code)
    .fetch_optional(db)
    .await
}

/// The tenant's entities among `ids` (without children).
pub async fn entities_by_ids(
    db: impl PgExecutor<'_>,
    tenant: &str,
    ids: &[String],
) -> Result<Vec<DepartmentEntity>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {ENTITY_COLUMNS} FROM department_entity WHERE tenant_id = $1 AND id = ANY($2)"
    ))
    .bind(tenant)
    .bind(ids)
    .fetch_all(db)
    .await?
    .iter()
    .map(entity_from_row)
    .collect()
}

/// Active parent of each of `ids` that has one: child id → parent id.
pub async fn active_parents(
    db: impl PgExecutor<'_>,
    ids: &[String],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT child_id, parent_id FROM department_entity_children WHERE child_id = ANY($1) AND status",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("child_id")?, r.try_get("parent_id")?)))
        .collect()
}

/// Active children of each of `ids` (parent id → child ids, sorted).
pub async fn active_children(
    db: impl PgExecutor<'_>,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT parent_id, child_id FROM department_entity_children WHERE parent_id = ANY($1) AND status ORDER BY child_id",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in &rows {
        out.entry(r.try_get("parent_id")?)
            .or_default()
            .push(r.try_get("child_id")?);
    }
    Ok(out)
}

/// Entity search, each with its active children.
pub async fn entities(
    conn: &mut PgConnection,
    c: &EntityCriteria,
    limit: i64,
) -> Result<Vec<DepartmentEntity>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {ENTITY_COLUMNS} FROM department_entity WHERE tenant_id = "
    ));
    q.push_bind(c.tenant_id.clone().unwrap_or_default());
    if let Some(d) = &c.department_id {
        q.push(" AND department_id = ").push_bind(d.clone());
    }
    if let Some(code) = &c.code {
        q.push(" AND code = ").push_bind(code.clone());
    }
    if let Some(name) = &c.name {
        q.push(" AND name = ").push_bind(name.clone());
    }
    if let Some(l) = c.hierarchy_level {
        q.push(" AND hierarchy_level = ").push_bind(l);
    }
    if !c.ids.is_empty() {
        q.push(" AND id = ANY(").push_bind(c.ids.clone()).push(")");
    }
    q.push(" ORDER BY hierarchy_level, created_time, id LIMIT ")
        .push_bind(limit);
    let mut out: Vec<DepartmentEntity> = q
        .build()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(entity_from_row)
        .collect::<Result<_, _>>()?;
    let ids: Vec<String> = out.iter().filter_map(|e| e.id.clone()).collect();
    let mut children = active_children(&mut *conn, &ids).await?;
    for e in &mut out {
        let kids = children
            .remove(e.id.as_deref().unwrap_or_default())
            .unwrap_or_default();
        e.children = Some(kids.into_iter().map(Link::active).collect());
    }
    Ok(out)
}

/// The ancestors of `id`, nearest first, following active links — at most `max + 1` of
/// them (one more than allowed, so the caller can tell "too deep" from "exactly deep
/// enough"). One recursive query; the depth bound also ends it on corrupt data.
pub async fn ancestors(
    pool: &PgPool,
    tenant: &str,
    id: &str,
    max: usize,
) -> Result<Vec<DepartmentEntity>, sqlx::Error> {
    let bound = i32::try_from(max).unwrap_or(i32::MAX - 1) + 1;
    let rows = sqlx::query(&format!(
        "WITH RECURSIVE up(id, depth) AS (
             SELECT $2::varchar, 0
             UNION ALL
             SELECT c.parent_id, up.depth + 1
             FROM department_entity_children c JOIN up ON c.child_id = up.id
             WHERE c.status AND up.depth < $3
         )
         SELECT {cols}, up.depth FROM up JOIN department_entity e ON e.id = up.id
         WHERE up.depth > 0 AND e.tenant_id = $1 ORDER BY up.depth",
        cols = ENTITY_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(tenant)
    .bind(id)
    .bind(bound)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entity_from_row).collect()
}
