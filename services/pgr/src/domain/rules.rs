//! PGR's rules (upstream-pgr §3–§5): validation, additionalDetail merging, search criteria
//! checks. Pure functions over the request, the caller and master data; no I/O.

use crate::domain::model::{SearchCriteria, Service};
use crate::error::{codes, PgrError};
use digit_core::{ErrorDetail, UserInfo};
use serde_json::{Map, Value};

/// `allowed.source` (exact, case-sensitive).
/// The application status of a closed complaint (the dashboard figures count these).
pub const CLOSED_AFTER_RESOLUTION: &str = "CLOSEDAFTERRESOLUTION";
/// Sources a complaint may come from.
pub const ALLOWED_SOURCES: &[&str] = &["whatsapp", "web", "mobile", "RB Bot"];
/// Reopen window when MDMS has none (`pgr.complain.idle.time`, 72 h).
pub const DEFAULT_REOPEN_WINDOW_MS: i64 = 259_200_000;
/// Search defaults (`pgr.default.limit`, `pgr.search.max.limit`).
pub const DEFAULT_LIMIT: i64 = 100;
/// Largest page.
pub const MAX_LIMIT: i64 = 200;

fn is_type(user: &UserInfo, t: &str) -> bool {
    user.user_type
        .is_some_and(|u| u.as_str().eq_ignore_ascii_case(t))
}

/// Employees filing for a citizen must say who (§3.1 step 2). Collected, reported last.
pub fn user_data_errors(caller: &UserInfo, service: &Service) -> Vec<ErrorDetail> {
    if !is_type(caller, "EMPLOYEE") {
        return Vec::new();
    }
    match &service.citizen {
        None => vec![ErrorDetail::new(
            codes::INVALID_REQUEST,
            "Citizen object cannot be null",
        )],
        Some(c) if c.mobile_number.is_none() || c.name.is_none() => vec![ErrorDetail::new(
            codes::INVALID_REQUEST,
            "Name and Mobile Number is mandatory in citizen object",
        )],
        Some(_) => Vec::new(),
    }
}

/// `INVALID_SOURCE`.
pub fn validate_source(service: &Service) -> Result<(), PgrError> {
    let source = service.source.as_deref().unwrap_or("null");
    if ALLOWED_SOURCES.contains(&source) {
        Ok(())
    } else {
        Err(PgrError::invalid(
            codes::INVALID_SOURCE,
            format!("The source: {source} is not valid"),
        ))
    }
}

/// The locality code the address names, or `INVALID_BOUNDARY`.
pub fn locality_code(service: &Service) -> Result<&str, PgrError> {
    service
        .address
        .as_ref()
        .and_then(|a| a.locality.as_ref())
        .and_then(|l| l.code.as_deref())
        .ok_or_else(|| PgrError::invalid(codes::INVALID_BOUNDARY, "Boundary is required"))
}

/// True when `code` appears anywhere in the `egov-location.TenantBoundary` trees.
pub fn boundary_has(trees: &[Value], code: &str) -> bool {
    fn walk(node: &Value, code: &str) -> bool {
        node.get("code").and_then(Value::as_str) == Some(code)
            || node
                .get("children")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|n| walk(n, code)))
    }
    trees
        .iter()
        .filter_map(|t| t.get("boundary"))
        .any(|b| walk(b, code))
}

/// The active `ComplaintHierarchy` entry of `code`, or `INVALID_SERVICECODE`.
pub fn complaint_type<'a>(
    hierarchy: &'a [Value],
    code: Option<&str>,
) -> Result<&'a Value, PgrError> {
    let code = code.unwrap_or("null");
    hierarchy
        .iter()
        .filter(|e| e.get("active").and_then(Value::as_bool) != Some(false))
        .find(|e| e.get("code").and_then(Value::as_str) == Some(code))
        .ok_or_else(|| {
            PgrError::invalid(
                codes::INVALID_SERVICECODE,
                format!("The service code: {code} is not present in MDMS"),
            )
        })
}

/// Rating 1–5 (upstream declares it and never enforces it; we do).
pub fn validate_rating(service: &Service) -> Result<(), PgrError> {
    match service.rating {
        Some(r) if !(1..=5).contains(&r) => Err(PgrError::invalid(
            codes::INVALID_RATING,
            "Rating must be between 1 and 5",
        )),
        _ => Ok(()),
    }
}

/// REOPEN (§3.2): only the filing citizen (employees are not owner-checked) and only within
/// `window_ms` of the persisted last modification.
pub fn validate_reopen(
    caller: &UserInfo,
    persisted: &Service,
    now: i64,
    window_ms: i64,
) -> Result<(), PgrError> {
    if is_type(caller, "CITIZEN") {
        let owner = persisted.account_id.as_deref().unwrap_or_default();
        let me = caller.uuid.as_deref().unwrap_or_default();
        if !owner.eq_ignore_ascii_case(me) {
            return Err(PgrError::invalid(
                codes::INVALID_ACTION,
                "Not authorized to re-open the complain",
            ));
        }
    }
    let last = persisted
        .audit_details
        .as_ref()
        .and_then(|a| a.last_modified_time);
    match last {
        Some(t) if now - t <= window_ms => Ok(()),
        _ => Err(PgrError::invalid(
            codes::INVALID_ACTION,
            "Complaint is closed",
        )),
    }
}

/// Deep merge (§4.5): maps merge recursively, lists append, otherwise `incoming` wins.
pub fn deep_merge(base: &mut Value, incoming: Value) {
    match (base, incoming) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b),
        (slot, v) => *slot = v,
    }
}

fn department_of(entry: &Value) -> String {
    entry
        .get("department")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("NA"))
        .unwrap_or("NA")
        .to_owned()
}

/// `additionalDetail` after create (backend keys always overwrite) or update (`department`
/// only when the client's is absent, blank or `NA`; `serviceName` always).
pub fn merge_additional_detail(
    client: Option<&Value>,
    entry: &Value,
    service_code: &str,
    update: bool,
) -> Value {
    let mut detail = match client {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(service_code)
        .to_owned();
    let client_dept = detail
        .get("department")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("NA"))
        .map(str::to_owned);
    if let Value::Object(m) = &mut detail {
        if !update || client_dept.is_none() {
            m.insert("department".into(), Value::String(department_of(entry)));
        }
        m.insert("serviceName".into(), Value::String(name));
    }
    detail
}

/// Parameters each user type may search by (§3.3).
const CITIZEN_PARAMS: &[&str] = &[
    "serviceRequestId",
    "ids",
    "mobileNumber",
    "applicationStatus",
    "tenantId",
];
const EMPLOYEE_PARAMS: &[&str] = &[
    "serviceRequestId",
    "ids",
    "mobileNumber",
    "serviceCode",
    "applicationStatus",
    "tenantId",
];

/// Search/count validation (§3.3), in upstream's order.
pub fn validate_search(caller: Option<&UserInfo>, c: &SearchCriteria) -> Result<(), PgrError> {
    if (c.mobile_number.is_some()
        || c.service_request_id.is_some()
        || !c.ids.is_empty()
        || !c.service_code.is_empty())
        && c.tenant_id.is_none()
    {
        return Err(PgrError::invalid(
            codes::INVALID_SEARCH,
            "TenantId is mandatory search param",
        ));
    }
    let Some(user) = caller.filter(|u| u.user_type.is_some()) else {
        return Err(PgrError::invalid(
            codes::INVALID_REQUESTINFO,
            "RequestInfo.userInfo is required to search complaints",
        ));
    };
    let employee = is_type(user, "EMPLOYEE") || is_type(user, "SYSTEM");
    if is_type(user, "EMPLOYEE") && c.is_empty() {
        return Err(PgrError::invalid(
            codes::INVALID_SEARCH,
            "Search without params is not allowed",
        ));
    }
    let allowed = if employee {
        EMPLOYEE_PARAMS
    } else if is_type(user, "CITIZEN") {
        CITIZEN_PARAMS
    } else {
        return Err(PgrError::invalid(
            codes::INVALID_SEARCH_PARAM,
            format!(
                "The userType: {} does not have any search config",
                user.user_type.map(|t| t.as_str()).unwrap_or_default()
            ),
        ));
    };
    let used = [
        ("serviceCode", !c.service_code.is_empty()),
        ("serviceRequestId", c.service_request_id.is_some()),
        ("applicationStatus", !c.application_status.is_empty()),
        ("mobileNumber", c.mobile_number.is_some()),
        ("ids", !c.ids.is_empty()),
    ];
    for (param, present) in used {
        if present && !allowed.contains(&param) {
            return Err(PgrError::invalid(
                codes::INVALID_SEARCH_PARAM,
                format!("Search on {param} is not allowed"),
            ));
        }
    }
    if c.to_date.is_some() && c.from_date.is_none() {
        return Err(PgrError::invalid(
            codes::INVALID_SEARCH,
            "Cannot specify to-Date without a from-Date",
        ));
    }
    Ok(())
}

/// A pure citizen (role CITIZEN and no employee role; type CITIZEN without roles) sees only
/// their own complaints.
pub fn is_pure_citizen(user: &UserInfo) -> bool {
    let has = |c: &str| user.roles.iter().any(|r| r.code == c);
    if user.roles.is_empty() {
        return is_type(user, "CITIZEN");
    }
    has("CITIZEN") && !has("EMPLOYEE") && !has("COMMON_EMPLOYEE")
}

/// The caller may search `tenant` when it is their tenant (or one of their roles' tenants)
/// or below it; otherwise the search sees nothing (upstream's deny-all scope).
pub fn caller_covers_tenant(user: &UserInfo, tenant: &str) -> bool {
    let covers = |t: &str| !t.is_empty() && (tenant == t || tenant.starts_with(&format!("{t}.")));
    user.tenant_id.as_deref().is_some_and(covers)
        || user
            .roles
            .iter()
            .filter_map(|r| r.tenant_id.as_deref())
            .any(covers)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
