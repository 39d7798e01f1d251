//! The MDMS v1 wire models (`MdmsCriteriaReq`, `MdmsCriteria`, `ModuleDetail`,
//! `MasterDetail`, `MdmsResponse`), with upstream's key spellings (upstream-platform §6.1).

use digit_core::{ErrorDetail, RequestInfo, ResponseInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{codes, MdmsError};

/// Most `moduleDetails` one request may carry.
pub const MAX_MODULES: usize = 100;
/// Most `masterDetails` one request may carry in total.
pub const MAX_MASTERS: usize = 500;
/// Longest accepted `filter` expression, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;

/// `MdmsRes`: module name → master name → JSON array of master entries.
pub type MdmsRes = Map<String, Value>;

/// `MdmsCriteria`: which masters of which modules to read for a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MdmsCriteria {
    /// Tenant to read for; data falls back to its ancestors (`pg.citya` → `pg`).
    pub tenant_id: String,
    /// Modules and their masters.
    pub module_details: Vec<ModuleDetail>,
}

/// `ModuleDetail`: one module and the masters wanted from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleDetail {
    /// Module name, e.g. `common-masters`.
    pub module_name: String,
    /// Masters wanted from the module.
    pub master_details: Vec<MasterDetail>,
}

/// `MasterDetail`: one master and an optional JSONPath filter applied to its array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MasterDetail {
    /// Master name, e.g. `IdFormat`.
    pub name: String,
    /// Jayway JSONPath evaluated with the master's array as root, e.g.
    /// `[?(@.active==true)]`; its result replaces the master list.
    #[serde(default)]
    pub filter: Option<String>,
}

impl MdmsCriteria {
    /// Criteria for one master of one module.
    pub fn single(tenant_id: &str, module: &str, master: &str, filter: Option<&str>) -> Self {
        MdmsCriteria {
            tenant_id: tenant_id.to_string(),
            module_details: vec![ModuleDetail {
                module_name: module.to_string(),
                master_details: vec![MasterDetail {
                    name: master.to_string(),
                    filter: filter.map(str::to_string),
                }],
            }],
        }
    }

    /// Checks the request bounds ([`MAX_MODULES`], [`MAX_MASTERS`], [`MAX_FILTER_LEN`]).
    pub fn check_limits(&self) -> Result<(), MdmsError> {
        if self.module_details.len() > MAX_MODULES {
            return Err(MdmsError::TooLarge(format!(
                "At most {MAX_MODULES} moduleDetails are allowed per request"
            )));
        }
        let masters: usize = self
            .module_details
            .iter()
            .map(|m| m.master_details.len())
            .sum();
        if masters > MAX_MASTERS {
            return Err(MdmsError::TooLarge(format!(
                "At most {MAX_MASTERS} masterDetails are allowed per request"
            )));
        }
        for module in &self.module_details {
            for master in &module.master_details {
                if master
                    .filter
                    .as_ref()
                    .is_some_and(|f| f.len() > MAX_FILTER_LEN)
                {
                    return Err(MdmsError::InvalidFilter {
                        module: module.module_name.clone(),
                        master: master.name.clone(),
                        reason: format!("filter longer than {MAX_FILTER_LEN} characters"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `MdmsCriteriaReq` as sent to a remote MDMS.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MdmsCriteriaReq<'a> {
    /// The caller's envelope.
    #[serde(rename = "RequestInfo")]
    pub request_info: &'a RequestInfo,
    /// The criteria.
    #[serde(rename = "MdmsCriteria")]
    pub mdms_criteria: &'a MdmsCriteria,
}

/// `MdmsResponse`: `{"ResponseInfo": null, "MdmsRes": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MdmsResponse {
    /// Always `null` from MDMS v1.
    #[serde(rename = "ResponseInfo", default)]
    pub response_info: Option<ResponseInfo>,
    /// Module → master → entries.
    #[serde(rename = "MdmsRes", default)]
    pub mdms_res: MdmsRes,
}

/// Takes one master's entries out of an [`MdmsRes`] (empty when absent).
pub fn take_master(res: &mut MdmsRes, module: &str, master: &str) -> Vec<Value> {
    match res.get_mut(module) {
        Some(Value::Object(masters)) => match masters.remove(master) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// One master's entries in an [`MdmsRes`], if present.
pub fn master_entries<'r>(res: &'r MdmsRes, module: &str, master: &str) -> Option<&'r [Value]> {
    res.get(module)?.get(master)?.as_array().map(Vec::as_slice)
}

// ----------------------------------------------------------------------------- request parsing

/// The body of `_search` as received: every field optional so that a missing one becomes a
/// DIGIT validation error rather than a mapping error.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub(crate) struct SearchBody {
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub(crate) request_info: Option<RequestInfo>,
    #[serde(rename = "MdmsCriteria", alias = "mdmsCriteria", default)]
    pub(crate) mdms_criteria: Option<RawCriteria>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawCriteria {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    module_details: Option<Vec<RawModuleDetail>>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RawModuleDetail {
    #[serde(default)]
    module_name: Option<String>,
    #[serde(default)]
    master_details: Option<Vec<RawMasterDetail>>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
struct RawMasterDetail {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    filter: Option<String>,
}

fn not_null(code: String, field: &str) -> ErrorDetail {
    ErrorDetail::new(code, format!("{field} must not be null"))
}

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Validates a received `MdmsCriteria` like upstream's bean validation: one error per
/// missing field, codes `NotNull.mdmsCriteriaReq.mdmsCriteria.<path>`.
pub(crate) fn validate(raw: Option<RawCriteria>) -> Result<MdmsCriteria, MdmsError> {
    let Some(raw) = raw else {
        return Err(MdmsError::InvalidCriteria(vec![not_null(
            codes::NOT_NULL_CRITERIA.to_string(),
            "MdmsCriteria",
        )]));
    };
    let mut errors = Vec::new();
    let tenant_id = present(&raw.tenant_id).map(str::to_string);
    if tenant_id.is_none() {
        errors.push(not_null(
            codes::NOT_NULL_TENANT_ID.to_string(),
            "MdmsCriteria.tenantId",
        ));
    }
    let mut modules = Vec::new();
    match raw.module_details {
        None => errors.push(not_null(
            codes::NOT_NULL_MODULE_DETAILS.to_string(),
            "MdmsCriteria.moduleDetails",
        )),
        Some(list) => {
            for (i, m) in list.into_iter().enumerate() {
                let module_name = present(&m.module_name).map(str::to_string);
                if module_name.is_none() {
                    let field = format!("moduleDetails[{i}].moduleName");
                    errors.push(not_null(
                        format!("{}.{field}", codes::NOT_NULL_CRITERIA),
                        &format!("MdmsCriteria.{field}"),
                    ));
                }
                let mut masters = Vec::new();
                match m.master_details {
                    None => {
                        let field = format!("moduleDetails[{i}].masterDetails");
                        errors.push(not_null(
                            format!("{}.{field}", codes::NOT_NULL_CRITERIA),
                            &format!("MdmsCriteria.{field}"),
                        ));
                    }
                    Some(details) => {
                        for (j, d) in details.into_iter().enumerate() {
                            match present(&d.name) {
                                Some(name) => masters.push(MasterDetail {
                                    name: name.to_string(),
                                    filter: d.filter,
                                }),
                                None => {
                                    let field =
                                        format!("moduleDetails[{i}].masterDetails[{j}].name");
                                    errors.push(not_null(
                                        format!("{}.{field}", codes::NOT_NULL_CRITERIA),
                                        &format!("MdmsCriteria.{field}"),
                                    ));
                                }
                            }
                        }
                    }
                }
                if let Some(module_name) = module_name {
                    modules.push(ModuleDetail {
                        module_name,
                        master_details: masters,
                    });
                }
            }
        }
    }
    match tenant_id {
        Some(tenant_id) if errors.is_empty() => {
            let criteria = MdmsCriteria {
                tenant_id,
                module_details: modules,
            };
            criteria.check_limits()?;
            Ok(criteria)
        }
        _ => Err(MdmsError::InvalidCriteria(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn criteria_uses_upstream_keys() {
        let c = MdmsCriteria::single("pg", "common-masters", "IdFormat", Some("[?(@.a)]"));
        assert_eq!(
            serde_json::to_value(&c).expect("serializes"),
            json!({"tenantId": "pg", "moduleDetails": [{"moduleName": "common-masters",
                "masterDetails": [{"name": "IdFormat", "filter": "[?(@.a)]"}]}]})
        );
        let back: MdmsCriteria = serde_json::from_value(json!({"tenantId": "pg",
            "moduleDetails": [{"moduleName": "m", "masterDetails": [{"name": "x"}]}]}))
        .expect("deserializes");
        assert_eq!(back.module_details[0].master_details[0].filter, None);
    }

    #[test]
    fn response_has_null_response_info() {
        let r = MdmsResponse::default();
        assert_eq!(
            serde_json::to_value(&r).expect("serializes"),
            json!({"ResponseInfo": null, "MdmsRes": {}})
        );
    }

    #[test]
    fn take_and_peek_master() {
        let mut res: MdmsRes =
            serde_json::from_value(json!({"m": {"a": [1, 2], "b": {}}})).expect("object");
        assert_eq!(master_entries(&res, "m", "a").map(<[Value]>::len), Some(2));
        assert!(master_entries(&res, "m", "b").is_none());
        assert_eq!(take_master(&mut res, "m", "a"), vec![json!(1), json!(2)]);
        assert!(take_master(&mut res, "m", "a").is_empty());
        assert!(take_master(&mut res, "x", "a").is_empty());
    }

    #[test]
    fn validation_reports_every_missing_field() {
        let raw: RawCriteria = serde_json::from_value(json!({
            "moduleDetails": [{"masterDetails": [{"name": "a"}, {}]}, {"moduleName": "m"}]
        }))
        .expect("raw");
        let Err(MdmsError::InvalidCriteria(errors)) = validate(Some(raw)) else {
            panic!("expected validation errors");
        };
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "NotNull.mdmsCriteriaReq.mdmsCriteria.tenantId",
                "NotNull.mdmsCriteriaReq.mdmsCriteria.moduleDetails[0].moduleName",
                "NotNull.mdmsCriteriaReq.mdmsCriteria.moduleDetails[0].masterDetails[1].name",
                "NotNull.mdmsCriteriaReq.mdmsCriteria.moduleDetails[1].masterDetails",
            ]
        );
    }

    #[test]
    fn limits_are_enforced() {
        let mut c = MdmsCriteria::single("pg", "m", "x", Some(&"a".repeat(MAX_FILTER_LEN + 1)));
        assert!(matches!(
            c.check_limits(),
            Err(MdmsError::InvalidFilter { .. })
        ));
        c.module_details = vec![ModuleDetail::default(); MAX_MODULES + 1];
        assert!(matches!(c.check_limits(), Err(MdmsError::TooLarge(_))));
        c.module_details = vec![ModuleDetail {
            module_name: "m".into(),
            master_details: vec![MasterDetail::default(); MAX_MASTERS + 1],
        }];
        assert!(matches!(c.check_limits(), Err(MdmsError::TooLarge(_))));
    }
}
