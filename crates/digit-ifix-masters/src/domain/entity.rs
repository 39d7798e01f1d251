//! Department hierarchy levels and department entities (spec §4.2; upstream
//! ifix-department-entity-service validators).
//!
//! The hierarchy of a department is a chain of levels (root = level 0, each level's child
//! one deeper); its entities form a tree whose every link goes from an entity at level *n*
//! to one at *n + 1*. Levels grow strictly along links, so a cycle cannot be built; the
//! database keeps one active parent per entity, so an ancestry is a path.

use super::header::Link;
use super::{blank, check_len};
use crate::error::{MastersError, Violations};
use digit_core::AuditDetails;
use serde::{Deserialize, Serialize};

/// Error codes (upstream's, plus the duplicate code of our uniqueness rule).
pub mod codes {
    /// `requestHeader` missing.
    pub const REQUEST_HEADER: &str = "REQUEST_HEADER";
    /// The body misses the level.
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    /// The body misses the entity or the header.
    pub const REQUEST_PAYLOAD: &str = "REQUEST_PAYLOAD";
    /// `criteria` missing.
    pub const SEARCH_CRITERIA: &str = "SEARCH_CRITERIA";
    /// Tenant missing or of a wrong length.
    pub const TENANT_ID: &str = "TENANT_ID";
    /// Department id missing.
    pub const DEPARTMENT_ID: &str = "DEPARTMENT_ID";
    /// Level label missing.
    pub const DEPARTMENT_LABEL: &str = "DEPARTMENT_LABEL";
    /// Unknown department, or a parent level that already has its child level (or a second
    /// root).
    pub const INVALID_DEPARTMENT_ID: &str = "INVALID_DEPARTMENT_ID";
    /// The parent level does not exist.
    pub const INVALID_PARENT_ID: &str = "INVALID_PARENT_ID";
    /// Entity code.
    pub const DEPARTMENT_ENTITY_CODE: &str = "DEPARTMENT_ENTITY_CODE";
    /// Entity name.
    pub const DEPARTMENT_ENTITY_NAME: &str = "DEPARTMENT_ENTITY_NAME";
    /// Entity level missing.
    pub const DEPARTMENT_HIERARCHY_ID: &str = "DEPARTMENT_HIERARCHY_ID";
    /// Children missing, or not entities one level deeper (or already someone's child).
    pub const DEPARTMENT_CHILDREN: &str = "DEPARTMENT_CHILDREN";
    /// The department has no such level (or the entity's parent is not one level up).
    pub const INVALID_HIERARCHY_LEVEL: &str = "INVALID_HIERARCHY_LEVEL";
    /// Update without an id (upstream's code is the literal `Id`).
    pub const ID: &str = "Id";
    /// Update of an unknown entity.
    pub const INVALID_DEPARTMENT_ENTITY_ID: &str = "INVALID_DEPARTMENT_ENTITY_ID";
    /// An ancestry deeper than `MAXIMUM_SUPPORTED_DEPARTMENT_HIERARCHY`.
    pub const MAXIMUM_SUPPORTED_HIERARCHY_EXCEEDED: &str = "MAXIMUM_SUPPORTED_HIERARCHY_EXCEEDED";
    /// Ours: the department already has an entity with this code.
    pub const DUPLICATE_DEPARTMENT_ENTITY_CODE: &str = "DUPLICATE_DEPARTMENT_ENTITY_CODE";
}

/// `DepartmentHierarchyLevel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HierarchyLevel {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Department (must exist).
    #[serde(default)]
    pub department_id: Option<String>,
    /// Label (state, zone, city …).
    #[serde(default)]
    pub label: Option<String>,
    /// Parent level id (none: the root).
    #[serde(default)]
    pub parent: Option<String>,
    /// Depth (derived from the parent; a client's value is replaced).
    #[serde(default)]
    pub level: Option<i32>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// `DepartmentHierarchyLevelSearchCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HierarchyCriteria {
    /// Ids.
    #[serde(default, rename = "Ids")]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Department.
    #[serde(default)]
    pub department_id: Option<String>,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// Depth.
    #[serde(default, deserialize_with = "digit_core::lenient::opt_i64")]
    #[schemars(with = "Option<super::LenientI64>")]
    pub level: Option<i64>,
}

/// `DepartmentEntity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentEntity {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Department.
    #[serde(default)]
    pub department_id: Option<String>,
    /// Code (unique per department).
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Depth in the department's hierarchy (a level that exists).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_i64")]
    #[schemars(with = "Option<super::LenientI64>")]
    pub hierarchy_level: Option<i64>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// Children (entities one level deeper); ids or `{childId, status}`.
    #[serde(default)]
    pub children: Option<Vec<Link>>,
}

/// `DepartmentEntitySearchCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityCriteria {
    /// Ids.
    #[serde(default, rename = "Ids")]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Department.
    #[serde(default)]
    pub department_id: Option<String>,
    /// Code.
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Depth (a number or, as upstream binds it, a string).
    #[serde(default, deserialize_with = "digit_core::lenient::opt_i64")]
    #[schemars(with = "Option<super::LenientI64>")]
    pub hierarchy_level: Option<i64>,
    /// Answer each match as the chain from its root down to it.
    #[serde(default)]
    pub get_ancestry: bool,
}

/// One node of a `getAncestry` answer: the entity and the one child on the path down.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestryNode {
    /// Id.
    pub id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Department.
    pub department_id: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Depth.
    pub hierarchy_level: Option<i64>,
    /// Audit.
    pub audit_details: Option<AuditDetails>,
    /// The next node down (none at the searched entity).
    pub children: Vec<AncestryNode>,
}

/// The chain `root … entity` (root first) as upstream's nested tree.
pub fn ancestry(chain: Vec<DepartmentEntity>) -> Option<AncestryNode> {
    let mut node: Option<AncestryNode> = None;
    for e in chain.into_iter().rev() {
        node = Some(AncestryNode {
            id: e.id,
            tenant_id: e.tenant_id,
            department_id: e.department_id,
            code: e.code,
            name: e.name,
            hierarchy_level: e.hierarchy_level,
            audit_details: e.audit_details,
            children: node.into_iter().collect(),
        });
    }
    node
}

/// Checks a new hierarchy level (department and parent existence need I/O: the service).
pub fn validate_level(l: &HierarchyLevel) -> Result<(), MastersError> {
    let mut v = Violations::default();
    if blank(l.tenant_id.as_deref()) {
        v.add(codes::TENANT_ID, "Tenant id is missing");
    } else {
        check_len(
            &mut v,
            l.tenant_id.as_deref(),
            (2, 64),
            codes::TENANT_ID,
            "Tenant id length is invalid. Length range [2-64]",
        );
    }
    if blank(l.department_id.as_deref()) {
        v.add(codes::DEPARTMENT_ID, "Department id is missing");
    }
    if blank(l.label.as_deref()) {
        v.add(codes::DEPARTMENT_LABEL, "Department label is missing");
    } else {
        // Ours: upstream stores any length into a varchar(255).
        check_len(
            &mut v,
            l.label.as_deref(),
            (1, 255),
            codes::DEPARTMENT_LABEL,
            "Department label length is invalid. Length range [1-255]",
        );
    }
    v.into_result()
}

/// Checks hierarchy level search criteria.
pub fn validate_level_criteria(c: &HierarchyCriteria) -> Result<(), MastersError> {
    if blank(c.tenant_id.as_deref()) {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Government Id (Tenant id) is missing",
        ));
    }
    Ok(())
}

fn tenant(v: &mut Violations, t: Option<&str>) {
    if blank(t) {
        v.add(codes::TENANT_ID, "Tenant id is missing in request data");
    } else {
        check_len(
            v,
            t,
            (2, 64),
            codes::TENANT_ID,
            "Tenant id length is invalid. Length range [2-64]",
        );
    }
}

fn code_and_name(v: &mut Violations, e: &DepartmentEntity, required: bool) {
    let fields = [
        (
            e.code.as_deref(),
            codes::DEPARTMENT_ENTITY_CODE,
            "Department entity code is missing in request data",
            "Department entity code length is invalid. Length range [1-256]",
        ),
        (
            e.name.as_deref(),
            codes::DEPARTMENT_ENTITY_NAME,
            "Department entity name is missing in request data",
            "Department entity name length is invalid. Length range [1-256]",
        ),
    ];
    for (value, code, missing, length) in fields {
        if blank(value) {
            if required {
                v.add(code, missing);
            }
        } else {
            check_len(v, value, (1, 256), code, length);
        }
    }
}

/// Checks a new entity (levels and children need I/O: the service).
pub fn validate_entity(e: &DepartmentEntity) -> Result<(), MastersError> {
    let mut v = Violations::default();
    tenant(&mut v, e.tenant_id.as_deref());
    if blank(e.department_id.as_deref()) {
        v.add(
            codes::DEPARTMENT_ID,
            "Department id is missing in request data",
        );
    }
    code_and_name(&mut v, e, true);
    match e.hierarchy_level {
        None => v.add(
            codes::DEPARTMENT_HIERARCHY_ID,
            "Department hierarchy id is missing in request data",
        ),
        Some(l) if l < 0 => v.add(
            codes::INVALID_HIERARCHY_LEVEL,
            "Hierarchy level is not negative",
        ),
        Some(_) => {}
    }
    if e.children.is_none() {
        v.add(
            codes::DEPARTMENT_CHILDREN,
            "Department children information is missing",
        );
    }
    v.into_result()
}

/// Checks an entity update (the stored entity and the tree need I/O: the service).
pub fn validate_entity_update(e: &DepartmentEntity) -> Result<(), MastersError> {
    let mut v = Violations::default();
    if blank(e.id.as_deref()) {
        v.add(codes::ID, "Department Entity id is missing in request data");
    }
    tenant(&mut v, e.tenant_id.as_deref());
    code_and_name(&mut v, e, false);
    if e.hierarchy_level.is_none() {
        if !blank(e.department_id.as_deref()) {
            v.add(
                codes::DEPARTMENT_HIERARCHY_ID,
                "Hierarchy level value is required while updating department id",
            );
        } else if e.children.as_ref().is_some_and(|c| !c.is_empty()) {
            v.add(
                codes::DEPARTMENT_HIERARCHY_ID,
                "Hierarchy level value is required while child exist",
            );
        }
    }
    if e.hierarchy_level.is_some_and(|l| l < 0) {
        v.add(
            codes::INVALID_HIERARCHY_LEVEL,
            "Hierarchy level is not negative",
        );
    }
    v.into_result()
}

/// Checks entity search criteria.
pub fn validate_entity_criteria(c: &EntityCriteria) -> Result<(), MastersError> {
    if blank(c.tenant_id.as_deref()) {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Tenant id is missing in request data",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes_of(r: Result<(), MastersError>) -> Vec<String> {
        match r {
            Ok(()) => vec![],
            Err(MastersError::Invalid(errors)) => errors.into_iter().map(|e| e.code).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    fn entity(id: &str, level: i64) -> DepartmentEntity {
        DepartmentEntity {
            id: Some(id.into()),
            hierarchy_level: Some(level),
            ..DepartmentEntity::default()
        }
    }

    #[test]
    fn ancestry_nests_root_first_with_one_child_each() {
        let tree = ancestry(vec![
            entity("root", 0),
            entity("zone", 1),
            entity("city", 2),
        ])
        .unwrap();
        let v = serde_json::to_value(&tree).unwrap();
        assert_eq!(v["id"], "root");
        assert_eq!(v["children"][0]["id"], "zone");
        assert_eq!(v["children"][0]["children"][0]["id"], "city");
        assert_eq!(v["children"][0]["children"][0]["children"], json!([]));
        assert!(ancestry(vec![]).is_none());
    }

    #[test]
    fn level_rules() {
        let l: HierarchyLevel = serde_json::from_value(
            json!({"tenantId": "pb", "departmentId": "d", "label": "Zone", "parent": "p"}),
        )
        .unwrap();
        assert!(codes_of(validate_level(&l)).is_empty());
        assert_eq!(
            codes_of(validate_level(&HierarchyLevel::default())),
            ["TENANT_ID", "DEPARTMENT_ID", "DEPARTMENT_LABEL"]
        );
        assert_eq!(
            codes_of(validate_level_criteria(&HierarchyCriteria::default())),
            ["TENANT_ID"]
        );
    }

    #[test]
    fn entity_rules() {
        let ok: DepartmentEntity = serde_json::from_value(json!({"tenantId": "pb", "departmentId": "d", "code": "DWSS", "name": "Department", "hierarchyLevel": 1, "children": ["c"]})).unwrap();
        assert!(codes_of(validate_entity(&ok)).is_empty());
        let bad: DepartmentEntity =
            serde_json::from_value(json!({"tenantId": "p", "code": "x".repeat(257)})).unwrap();
        assert_eq!(
            codes_of(validate_entity(&bad)),
            [
                "TENANT_ID",
                "DEPARTMENT_ID",
                "DEPARTMENT_ENTITY_CODE",
                "DEPARTMENT_ENTITY_NAME",
                "DEPARTMENT_HIERARCHY_ID",
                "DEPARTMENT_CHILDREN"
            ]
        );
        let upd: DepartmentEntity =
            serde_json::from_value(json!({"tenantId": "pb", "children": ["c"]})).unwrap();
        assert_eq!(
            codes_of(validate_entity_update(&upd)),
            ["Id", "DEPARTMENT_HIERARCHY_ID"]
        );
        let c: EntityCriteria = serde_json::from_value(
            json!({"tenantId": "PB", "hierarchyLevel": "3", "getAncestry": false}),
        )
        .unwrap();
        assert_eq!(c.hierarchy_level, Some(3));
        assert_eq!(
            codes_of(validate_entity_criteria(&EntityCriteria::default())),
            ["TENANT_ID"]
        );
    }
}
