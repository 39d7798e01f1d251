//! Departments, expenditures and projects (spec §4.3; upstream adapter-master-data-service
//! validators). Upstream's codes and messages are kept; its bugs are not: the department
//! name is checked as a name (upstream checks the code twice), messages say "Department"
//! (a rename left "DepartmentConst" in upstream's), and codes are unique per tenant.

use super::header::Link;
use super::{blank, check_len};
use crate::error::{MastersError, Violations};
use digit_core::AuditDetails;
use serde::{Deserialize, Serialize};

/// Error codes (upstream's, plus the duplicate codes of our uniqueness rules).
pub mod codes {
    /// `requestHeader` missing.
    pub const REQUEST_HEADER: &str = "REQUEST_HEADER";
    /// The body misses its record or header.
    pub const REQUEST_PAYLOAD: &str = "REQUEST_PAYLOAD";
    /// `criteria` missing.
    pub const INVALID_SEARCH_CRITERIA: &str = "INVALID_SEARCH_CRITERIA";
    /// Tenant missing or of a wrong length.
    pub const TENANT_ID: &str = "TENANT_ID";
    /// Tenant of a wrong length (department search).
    pub const TENANT_ID_LENGTH: &str = "TENANT_ID_LENGTH";
    /// Department code.
    pub const DEPARTMENT_CODE: &str = "DEPARTMENT_CODE";
    /// Department name.
    pub const DEPARTMENT_NAME: &str = "DEPARTMENT_NAME";
    /// Department parent.
    pub const DEPARTMENT_PARENT: &str = "DEPARTMENT_PARENT";
    /// A department id that does not exist.
    pub const DEPARTMENT_ID: &str = "DEPARTMENT_ID";
    /// Expenditure code.
    pub const EXPENDITURE_CODE: &str = "EXPENDITURE_CODE";
    /// Expenditure name.
    pub const EXPENDITURE_NAME: &str = "EXPENDITURE_NAME";
    /// Expenditure type (`Scheme` / `Non-Scheme`).
    pub const EXPENDITURE_TYPE: &str = "EXPENDITURE_TYPE";
    /// An expenditure id of a wrong length or that does not exist.
    pub const EXPENDITURE_ID: &str = "EXPENDITURE_ID";
    /// Project code.
    pub const PROJECT_CODE: &str = "PROJECT_CODE";
    /// Project name.
    pub const PROJECT_NAME: &str = "PROJECT_NAME";
    /// Department entity ids of a project.
    pub const DEPARTMENT_ENTITY_ID: &str = "DEPARTMENT_ENTITY_ID";
    /// Location id criterion.
    pub const LOCATION_ID: &str = "LOCATION_ID";
    /// Project update without an id.
    pub const ID: &str = "ID";
    /// Project update of an unknown project.
    pub const INVALID_ID: &str = "INVALID_ID";
    /// Ours: the tenant already has a department with this code.
    pub const DUPLICATE_DEPARTMENT_CODE: &str = "DUPLICATE_DEPARTMENT_CODE";
    /// Ours: the tenant already has an expenditure with this code.
    pub const DUPLICATE_EXPENDITURE_CODE: &str = "DUPLICATE_EXPENDITURE_CODE";
    /// Ours: the tenant already has a project with this code.
    pub const DUPLICATE_PROJECT_CODE: &str = "DUPLICATE_PROJECT_CODE";
}

/// `Department`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Department {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Code (unique per tenant).
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Nodal department.
    #[serde(default)]
    pub is_nodal: Option<bool>,
    /// Parent (free text, as upstream).
    #[serde(default)]
    pub parent: Option<String>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// `Expenditure`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Expenditure {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Code (unique per tenant).
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `Scheme` or `Non-Scheme` (anything else is upstream's "missing").
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Department (must exist when given).
    #[serde(default)]
    pub department_id: Option<String>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// The expenditure types.
pub const EXPENDITURE_TYPES: [&str; 2] = ["Scheme", "Non-Scheme"];

/// `Project`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Code (unique per tenant).
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Expenditure (must exist when given).
    #[serde(default)]
    pub expenditure_id: Option<String>,
    /// Department entities (must exist); ids or `{departmentEntityId, status}`.
    #[serde(default)]
    pub department_entity_ids: Option<Vec<Link>>,
    /// Locations; ids or `{locationId, status}`.
    #[serde(default)]
    pub location_ids: Option<Vec<Link>>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// Department/expenditure search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeCriteria {
    /// Ids.
    #[serde(default, rename = "Ids")]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Name (exact).
    #[serde(default)]
    pub name: Option<String>,
    /// Code (exact).
    #[serde(default)]
    pub code: Option<String>,
}

/// Project search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCriteria {
    /// Ids.
    #[serde(default, rename = "Ids")]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Name (exact).
    #[serde(default)]
    pub name: Option<String>,
    /// Code (exact).
    #[serde(default)]
    pub code: Option<String>,
    /// Expenditure.
    #[serde(default)]
    pub expenditure_id: Option<String>,
    /// Linked (actively) to this department entity.
    #[serde(default)]
    pub department_entity_id: Option<String>,
    /// Linked (actively) to this location.
    #[serde(default)]
    pub location_id: Option<String>,
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

fn required_len(
    v: &mut Violations,
    value: Option<&str>,
    range: (usize, usize),
    code: &str,
    missing: &str,
    length: &str,
) {
    if blank(value) {
        v.add(code, missing);
    } else {
        check_len(v, value, range, code, length);
    }
}

/// Checks a new department.
pub fn validate_department(d: &Department) -> Result<(), MastersError> {
    let mut v = Violations::default();
    tenant(&mut v, d.tenant_id.as_deref());
    required_len(
        &mut v,
        d.code.as_deref(),
        (1, 64),
        codes::DEPARTMENT_CODE,
        "Department code is missing in request data",
        "Department code length is invalid. Length range [1-64]",
    );
    required_len(
        &mut v,
        d.name.as_deref(),
        (1, 64),
        codes::DEPARTMENT_NAME,
        "Department name is missing in request data",
        "Department name length is invalid. Length range [1-64]",
    );
    if !blank(d.parent.as_deref()) {
        check_len(
            &mut v,
            d.parent.as_deref(),
            (1, 64),
            codes::DEPARTMENT_PARENT,
            "Department parent length is invalid. Length range [1-64]",
        );
    }
    v.into_result()
}

/// Checks department search criteria.
pub fn validate_department_criteria(c: &CodeCriteria) -> Result<(), MastersError> {
    if blank(c.tenant_id.as_deref()) {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Tenant id is mandatory",
        ));
    }
    let mut v = Violations::default();
    check_len(
        &mut v,
        c.tenant_id.as_deref(),
        (2, 64),
        codes::TENANT_ID_LENGTH,
        "Tenant id's length is invalid",
    );
    check_len(
        &mut v,
        c.name.as_deref(),
        (2, 256),
        codes::DEPARTMENT_NAME,
        "Department name's length is invalid",
    );
    check_len(
        &mut v,
        c.code.as_deref(),
        (2, 64),
        codes::DEPARTMENT_CODE,
        "Department code's length is invalid",
    );
    v.into_result()
}

/// Checks a new expenditure (department existence needs I/O: the service).
pub fn validate_expenditure(e: &Expenditure) -> Result<(), MastersError> {
    let mut v = Violations::default();
    if blank(e.tenant_id.as_deref()) {
        v.add(codes::TENANT_ID, "Tenant id is mandatory");
    } else if e
        .tenant_id
        .as_deref()
        .is_some_and(|t| !(2..=64).contains(&t.chars().count()))
    {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Tenant id length is invalid. Length range [2-64]",
        ));
    }
    required_len(
        &mut v,
        e.code.as_deref(),
        (2, 64),
        codes::EXPENDITURE_CODE,
        "Expenditure code is missing in request data",
        "Expenditure code length is invalid. Length range [2-64]",
    );
    required_len(
        &mut v,
        e.name.as_deref(),
        (2, 256),
        codes::EXPENDITURE_NAME,
        "Expenditure name is missing in request data",
        "Expenditure name length is invalid. Length range [2-256]",
    );
    if !e
        .kind
        .as_deref()
        .is_some_and(|k| EXPENDITURE_TYPES.contains(&k))
    {
        v.add(
            codes::EXPENDITURE_TYPE,
            "Expenditure type is missing in request data",
        );
    }
    v.into_result()
}

/// Checks expenditure search criteria (upstream: the first violation only).
pub fn validate_expenditure_criteria(c: &CodeCriteria) -> Result<(), MastersError> {
    let t = c.tenant_id.as_deref();
    if blank(t) {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Tenant id is missing in request data",
        ));
    }
    let first =
        |value: Option<&str>, (min, max): (usize, usize), code: &str, message: &str| match value
            .map(|s| s.chars().count())
        {
            Some(n) if n < min || n > max => Err(MastersError::invalid(code, message)),
            _ => Ok(()),
        };
    first(
        t,
        (2, 64),
        codes::TENANT_ID,
        "Tenant id length is invalid. Length range [2-64]",
    )?;
    first(
        c.name.as_deref(),
        (2, 256),
        codes::EXPENDITURE_NAME,
        "Expenditure name length is invalid. Length range [2-256]",
    )?;
    first(
        c.code.as_deref(),
        (2, 64),
        codes::EXPENDITURE_CODE,
        "Expenditure code length is invalid. Length range [2-64]",
    )
}

fn entity_ids(v: &mut Violations, links: Option<&[Link]>) {
    for link in links.unwrap_or_default() {
        check_len(
            v,
            Some(&link.id),
            (2, 64),
            codes::DEPARTMENT_ENTITY_ID,
            "Department Entity id length is invalid. Length range [2-64]",
        );
    }
}

/// Ours: upstream never stores location links; we do, so their ids are bounded like the
/// search criterion.
fn location_ids(v: &mut Violations, links: Option<&[Link]>) {
    for link in links.unwrap_or_default() {
        check_len(
            v,
            Some(&link.id),
            (2, 64),
            codes::LOCATION_ID,
            "Location id length is invalid. Length range [2-64]",
        );
    }
}

/// Checks a new project (expenditure and entity existence need I/O: the service).
pub fn validate_project(p: &Project) -> Result<(), MastersError> {
    let mut v = Violations::default();
    tenant(&mut v, p.tenant_id.as_deref());
    required_len(
        &mut v,
        p.code.as_deref(),
        (1, 64),
        codes::PROJECT_CODE,
        "Project code is missing in request data",
        "Project code length is invalid. Length range [1-64]",
    );
    required_len(
        &mut v,
        p.name.as_deref(),
        (1, 64),
        codes::PROJECT_NAME,
        "Project name is missing in request data",
        "Project name length is invalid. Length range [1-64]",
    );
    if !blank(p.expenditure_id.as_deref()) {
        check_len(
            &mut v,
            p.expenditure_id.as_deref(),
            (2, 64),
            codes::EXPENDITURE_ID,
            "Expenditure id length is invalid. Length range [2-64]",
        );
    }
    entity_ids(&mut v, p.department_entity_ids.as_deref());
    location_ids(&mut v, p.location_ids.as_deref());
    v.into_result()
}

/// Checks a project update (id and tenant required; present code and name of valid lengths).
pub fn validate_project_update(p: &Project) -> Result<(), MastersError> {
    let mut v = Violations::default();
    tenant(&mut v, p.tenant_id.as_deref());
    if blank(p.id.as_deref()) {
        v.add(codes::ID, "Project id is missing in request data");
    }
    if !blank(p.code.as_deref()) {
        check_len(
            &mut v,
            p.code.as_deref(),
            (1, 64),
            codes::PROJECT_CODE,
            "Project code length is invalid. Length range [1-64]",
        );
    }
    if !blank(p.name.as_deref()) {
        check_len(
            &mut v,
            p.name.as_deref(),
            (1, 64),
            codes::PROJECT_NAME,
            "Project name length is invalid. Length range [1-64]",
        );
    }
    if !blank(p.expenditure_id.as_deref()) {
        check_len(
            &mut v,
            p.expenditure_id.as_deref(),
            (2, 64),
            codes::EXPENDITURE_ID,
            "Expenditure id length is invalid. Length range [2-64]",
        );
    }
    entity_ids(&mut v, p.department_entity_ids.as_deref());
    location_ids(&mut v, p.location_ids.as_deref());
    v.into_result()
}

/// Checks project search criteria (upstream: the first violation only).
pub fn validate_project_criteria(c: &ProjectCriteria) -> Result<(), MastersError> {
    let t = c.tenant_id.as_deref();
    if blank(t) {
        return Err(MastersError::invalid(
            codes::TENANT_ID,
            "Tenant id is missing in request data",
        ));
    }
    let checks = [
        (
            t,
            (2, 64),
            codes::TENANT_ID,
            "Tenant id length is invalid. Length range [2-64]",
        ),
        (
            c.name.as_deref(),
            (2, 256),
            codes::PROJECT_NAME,
            "Project name length is invalid. Length range [2-256]",
        ),
        (
            c.code.as_deref(),
            (2, 64),
            codes::PROJECT_CODE,
            "Project code length is invalid. Length range [2-64]",
        ),
        (
            c.expenditure_id.as_deref(),
            (2, 64),
            codes::EXPENDITURE_ID,
            "Expenditure id length is invalid. Length range [2-64]",
        ),
        (
            c.department_entity_id.as_deref(),
            (2, 64),
            codes::DEPARTMENT_ENTITY_ID,
            "Department Entity id length is invalid. Length range [2-64]",
        ),
        (
            c.location_id.as_deref(),
            (2, 64),
            codes::LOCATION_ID,
            "Location id length is invalid. Length range [2-64]",
        ),
    ];
    for (value, (min, max), code, message) in checks {
        if let Some(n) = value.map(|s| s.chars().count()) {
            if n < min || n > max {
                return Err(MastersError::invalid(code, message));
            }
        }
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

    #[test]
    fn department_rules() {
        let ok: Department = serde_json::from_value(json!({"tenantId": "pb", "code": "DEP-100", "name": "department-100", "isNodal": false, "parent": "parent1"})).unwrap();
        assert!(codes_of(validate_department(&ok)).is_empty());
        let bad: Department = serde_json::from_value(
            json!({"tenantId": "p", "code": "", "name": "n".repeat(65), "parent": "p".repeat(65)}),
        )
        .unwrap();
        assert_eq!(
            codes_of(validate_department(&bad)),
            [
                "TENANT_ID",
                "DEPARTMENT_CODE",
                "DEPARTMENT_NAME",
                "DEPARTMENT_PARENT"
            ]
        );
        let c: CodeCriteria =
            serde_json::from_value(json!({"tenantId": "p", "name": "n", "code": "c"})).unwrap();
        assert_eq!(
            codes_of(validate_department_criteria(&c)),
            ["TENANT_ID_LENGTH", "DEPARTMENT_NAME", "DEPARTMENT_CODE"]
        );
        assert_eq!(
            codes_of(validate_department_criteria(&CodeCriteria::default())),
            ["TENANT_ID"]
        );
    }

    #[test]
    fn expenditure_rules() {
        let ok: Expenditure = serde_json::from_value(json!({"tenantId": "pb", "code": "exp-01", "name": "expenditure one", "type": "Scheme"})).unwrap();
        assert!(codes_of(validate_expenditure(&ok)).is_empty());
        let bad: Expenditure =
            serde_json::from_value(json!({"code": "e", "type": "Other"})).unwrap();
        assert_eq!(
            codes_of(validate_expenditure(&bad)),
            [
                "TENANT_ID",
                "EXPENDITURE_CODE",
                "EXPENDITURE_NAME",
                "EXPENDITURE_TYPE"
            ]
        );
        let long_tenant: Expenditure =
            serde_json::from_value(json!({"tenantId": "x".repeat(65)})).unwrap();
        assert_eq!(codes_of(validate_expenditure(&long_tenant)), ["TENANT_ID"]);
        let c: CodeCriteria =
            serde_json::from_value(json!({"tenantId": "pb", "name": "n", "code": "c"})).unwrap();
        assert_eq!(
            codes_of(validate_expenditure_criteria(&c)),
            ["EXPENDITURE_NAME"]
        );
    }

    #[test]
    fn project_rules() {
        let ok: Project = serde_json::from_value(json!({"tenantId": "pb", "code": "7378", "name": "MAJHER", "expenditureId": "910f4d23", "departmentEntityIds": ["e75e4840"]})).unwrap();
        assert!(codes_of(validate_project(&ok)).is_empty());
        let bad: Project = serde_json::from_value(json!({"tenantId": "pb", "expenditureId": "x", "departmentEntityIds": [{"departmentEntityId": "y", "status": true}]})).unwrap();
        assert_eq!(
            codes_of(validate_project(&bad)),
            [
                "PROJECT_CODE",
                "PROJECT_NAME",
                "EXPENDITURE_ID",
                "DEPARTMENT_ENTITY_ID"
            ]
        );
        let update: Project = serde_json::from_value(json!({"tenantId": "pb"})).unwrap();
        assert_eq!(codes_of(validate_project_update(&update)), ["ID"]);
        let c: ProjectCriteria =
            serde_json::from_value(json!({"tenantId": "pb", "locationId": "l"})).unwrap();
        assert_eq!(codes_of(validate_project_criteria(&c)), ["LOCATION_ID"]);
    }
}
