//! Chart of accounts (spec §4.1; upstream `ChartOfAccountValidator` and
//! `COAEnrichmentService`): six head codes of fixed lengths, their names, and the
//! `coaCode` built from them.

use super::{blank, check_len};
use crate::error::{MastersError, Violations};
use digit_core::AuditDetails;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Error codes (upstream's).
pub mod codes {
    /// `requestHeader` missing.
    pub const REQUEST_HEADER: &str = "REQUEST_HEADER";
    /// `chartOfAccount` missing.
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    /// `criteria` missing.
    pub const INVALID_SEARCH_CRITERIA: &str = "INVALID_SEARCH_CRITERIA";
    /// Tenant missing, of a wrong length (create), or not in MDMS.
    pub const TENANT_ID: &str = "TENANT_ID";
    /// Tenant of a wrong length (search).
    pub const TENANT_ID_LENGTH: &str = "TENANT_ID_LENGTH";
    /// The tenant already has this code.
    pub const DUPLICATE_COA_CODE: &str = "DUPLICATE_COA_CODE";
    /// A `coaCodes` criterion of a wrong length.
    pub const COA_CODE_LENGTH: &str = "COA_CODE_LENGTH";
    /// `majorHeadType` of a wrong length.
    pub const MAJOR_HEAD_TYPE: &str = "MAJOR_HEAD_TYPE";
}

/// `ChartOfAccount`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChartOfAccount {
    /// Id (assigned).
    #[serde(default)]
    pub id: Option<String>,
    /// `major-subMajor-minor-sub-group-object` (assigned).
    #[serde(default)]
    pub coa_code: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Major head (4).
    #[serde(default)]
    pub major_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub major_head_name: Option<String>,
    /// Its type (older upstream models spell it `majorHeadtype`; both are read).
    #[serde(default, alias = "majorHeadtype")]
    pub major_head_type: Option<String>,
    /// Sub-major head (2).
    #[serde(default)]
    pub sub_major_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub sub_major_head_name: Option<String>,
    /// Minor head (3).
    #[serde(default)]
    pub minor_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub minor_head_name: Option<String>,
    /// Sub head (2).
    #[serde(default)]
    pub sub_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub sub_head_name: Option<String>,
    /// Group head (2).
    #[serde(default)]
    pub group_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub group_head_name: Option<String>,
    /// Object head (2).
    #[serde(default)]
    pub object_head: Option<String>,
    /// Its name.
    #[serde(default)]
    pub object_head_name: Option<String>,
    /// Audit (assigned).
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// Free-form attributes (left out when none, as upstream's fixtures show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Value>,
}

/// `COASearchCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoaCriteria {
    /// Ids.
    #[serde(default, rename = "Ids")]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Head filters (exact match).
    #[serde(default)]
    pub major_head: Option<String>,
    /// Sub-major head.
    #[serde(default)]
    pub sub_major_head: Option<String>,
    /// Minor head.
    #[serde(default)]
    pub minor_head: Option<String>,
    /// Sub head.
    #[serde(default)]
    pub sub_head: Option<String>,
    /// Group head.
    #[serde(default)]
    pub group_head: Option<String>,
    /// Object head.
    #[serde(default)]
    pub object_head: Option<String>,
    /// COA codes.
    #[serde(default)]
    pub coa_codes: Vec<String>,
}

/// One head: its field, required length, and upstream's codes and messages.
struct Head {
    len: usize,
    code: &'static str,
    missing: &'static str,
    length_code: &'static str,
    length: &'static str,
}

/// Upstream's check order (group, major, minor, sub, object, sub-major).
fn heads(c: &ChartOfAccount) -> [(Option<&str>, Head); 6] {
    [
        (
            c.group_head.as_deref(),
            Head {
                len: 2,
                code: "GROUP_HEAD",
                missing: "Group head Code is mandatory for chart of account",
                length_code: "GROUP_HEAD_CODE_LENGTH",
                length: "Group head Code should be of length 2",
            },
        ),
        (
            c.major_head.as_deref(),
            Head {
                len: 4,
                code: "MAJOR_HEAD",
                missing: "Major head Code is mandatory for chart of account",
                length_code: "MAJOR_HEAD_CODE_LENGTH",
                length: "Major head Code should be of length 4",
            },
        ),
        (
            c.minor_head.as_deref(),
            Head {
                len: 3,
                code: "MINOR_HEAD",
                missing: "Minor head Code is mandatory for chart of account",
                length_code: "MINOR_HEAD_CODE_LENGTH",
                length: "Minor head Code should be of length 3",
            },
        ),
        (
            c.sub_head.as_deref(),
            Head {
                len: 2,
                code: "SUB_HEAD",
                missing: "Sub head Code is mandatory for chart of account",
                length_code: "SUB_HEAD_CODE_LENGTH",
                length: "Sub head Code should be of length 2",
            },
        ),
        (
            c.object_head.as_deref(),
            Head {
                len: 2,
                code: "OBJECT_HEAD",
                missing: "Object head Code is mandatory for chart of account",
                length_code: "OBJECT_HEAD_CODE_LENGTH",
                length: "Object head Code should be of length 2",
            },
        ),
        (
            c.sub_major_head.as_deref(),
            Head {
                len: 2,
                code: "SUB_MAJOR_HEAD",
                missing: "Sub Major Code is mandatory for chart of account",
                length_code: "SUB_MAJOR_HEAD_CODE_LENGTH",
                length: "Sub major head Code should be of length 2",
            },
        ),
    ]
}

fn len_is(s: &str, n: usize) -> bool {
    s.chars().count() == n
}

/// Checks a new chart of account (upstream's order: a missing head stops at once, the
/// other violations are collected). Tenant existence and duplicates need I/O (the service).
pub fn validate_new(c: &ChartOfAccount) -> Result<(), MastersError> {
    let mut v = Violations::default();
    match c.tenant_id.as_deref() {
        t if blank(t) => v.add(codes::TENANT_ID, "Tenant id is mandatory"),
        t => check_len(
            &mut v,
            t,
            (2, 64),
            codes::TENANT_ID,
            "Tenant id's length is invalid",
        ),
    }
    for (value, head) in heads(c) {
        match value {
            s if blank(s) => return Err(MastersError::invalid(head.code, head.missing)),
            Some(s) if !len_is(s, head.len) => v.add(head.length_code, head.length),
            _ => {}
        }
    }
    let names = [
        (
            c.major_head_name.as_deref(),
            "MAJOR_HEAD_NAME",
            "Major head name's length is invalid",
        ),
        (
            c.sub_major_head_name.as_deref(),
            "SUB_MAJOR_HEAD_NAME",
            "Sub Major head name's length is invalid",
        ),
        (
            c.minor_head_name.as_deref(),
            "MINOR_HEAD_NAME",
            "Minor head name's length is invalid",
        ),
        (
            c.sub_head_name.as_deref(),
            "SUB_HEAD_NAME",
            "Sub head name's length is invalid",
        ),
        (
            c.group_head_name.as_deref(),
            "GROUP_HEAD_NAME",
            "Group head name's length is invalid",
        ),
        (
            c.object_head_name.as_deref(),
            "OBJECT_HEAD_NAME",
            "Object head name's length is invalid",
        ),
    ];
    for (value, code, message) in names {
        if !blank(value) {
            check_len(&mut v, value, (2, 64), code, message);
        }
    }
    if !blank(c.major_head_type.as_deref()) {
        check_len(
            &mut v,
            c.major_head_type.as_deref(),
            (2, 32),
            codes::MAJOR_HEAD_TYPE,
            "Major head type's length is invalid",
        );
    }
    v.into_result()
}

/// `majorHead-subMajorHead-minorHead-subHead-groupHead-objectHead` (e.g.
/// `8243-12-373-56-78-90`), of a validated chart of account.
pub fn coa_code(c: &ChartOfAccount) -> String {
    [
        &c.major_head,
        &c.sub_major_head,
        &c.minor_head,
        &c.sub_head,
        &c.group_head,
        &c.object_head,
    ]
    .iter()
    .map(|h| h.as_deref().unwrap_or_default().trim())
    .collect::<Vec<_>>()
    .join("-")
}

/// Checks search criteria (tenant required; present heads of their exact lengths; codes of
/// 1..64).
pub fn validate_criteria(c: &CoaCriteria) -> Result<(), MastersError> {
    let mut v = Violations::default();
    match c.tenant_id.as_deref() {
        t if blank(t) => v.add(codes::TENANT_ID, "Tenant id is mandatory"),
        t => check_len(
            &mut v,
            t,
            (2, 64),
            codes::TENANT_ID_LENGTH,
            "Tenant id's length is invalid",
        ),
    }
    let as_coa = ChartOfAccount {
        major_head: c.major_head.clone(),
        sub_major_head: c.sub_major_head.clone(),
        minor_head: c.minor_head.clone(),
        sub_head: c.sub_head.clone(),
        group_head: c.group_head.clone(),
        object_head: c.object_head.clone(),
        ..ChartOfAccount::default()
    };
    for (value, head) in heads(&as_coa) {
        if let Some(s) = value.filter(|s| !s.trim().is_empty()) {
            if !len_is(s, head.len) {
                v.add(head.length_code, head.length);
            }
        }
    }
    if c.coa_codes
        .iter()
        .any(|code| code.is_empty() || code.chars().count() > 64)
    {
        v.add(
            codes::COA_CODE_LENGTH,
            "COA Code should be of length from 1 to 64",
        );
    }
    v.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture() -> ChartOfAccount {
        let req: Value = serde_json::from_str(include_str!(
            "../../../../tests/e2e/upstream/ifix-masters/ifix-master-data-service/test-data/coa_create_request.json"
        ))
        .unwrap();
        serde_json::from_value(req["chartOfAccount"].clone()).unwrap()
    }

    fn codes_of(e: MastersError) -> Vec<String> {
        match e {
            MastersError::Invalid(errors) => errors.into_iter().map(|e| e.code).collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn upstream_fixture_is_valid_and_coded_major_first() {
        let c = fixture();
        validate_new(&c).unwrap();
        assert_eq!(coa_code(&c), "8983-12-347-56-78-90");
        assert_eq!(c.major_head_type.as_deref(), Some("majorHeadtype"));
    }

    #[test]
    fn a_missing_head_stops_at_once() {
        let mut c = fixture();
        c.minor_head = Some(" ".into());
        c.major_head = Some("12345".into());
        // Major's wrong length is collected first, but the blank minor head throws.
        assert_eq!(codes_of(validate_new(&c).unwrap_err()), ["MINOR_HEAD"]);
    }

    #[test]
    fn every_length_rule_is_collected() {
        let c: ChartOfAccount = serde_json::from_value(json!({
            "tenantId": "p", "majorHead": "824", "subMajorHead": "123", "minorHead": "37",
            "subHead": "5", "groupHead": "789", "objectHead": "9", "majorHeadName": "m",
            "subMajorHeadName": "x".repeat(65), "minorHeadName": "ok", "subHeadName": "s",
            "groupHeadName": "g", "objectHeadName": "o", "majorHeadtype": "t"
        }))
        .unwrap();
        assert_eq!(
            codes_of(validate_new(&c).unwrap_err()),
            [
                "TENANT_ID",
                "GROUP_HEAD_CODE_LENGTH",
                "MAJOR_HEAD_CODE_LENGTH",
                "MINOR_HEAD_CODE_LENGTH",
                "SUB_HEAD_CODE_LENGTH",
                "OBJECT_HEAD_CODE_LENGTH",
                "SUB_MAJOR_HEAD_CODE_LENGTH",
                "MAJOR_HEAD_NAME",
                "SUB_MAJOR_HEAD_NAME",
                "SUB_HEAD_NAME",
                "GROUP_HEAD_NAME",
                "OBJECT_HEAD_NAME",
                "MAJOR_HEAD_TYPE"
            ]
        );
    }

    #[test]
    fn tenant_is_required() {
        let mut c = fixture();
        c.tenant_id = None;
        assert_eq!(codes_of(validate_new(&c).unwrap_err()), ["TENANT_ID"]);
    }

    #[test]
    fn criteria_rules() {
        let ok: CoaCriteria =
            serde_json::from_value(json!({"Ids": ["a"], "tenantId": "pb", "subHead": "56"}))
                .unwrap();
        validate_criteria(&ok).unwrap();
        let bad: CoaCriteria =
            serde_json::from_value(json!({"tenantId": "p", "majorHead": "1", "coaCodes": [""]}))
                .unwrap();
        assert_eq!(
            codes_of(validate_criteria(&bad).unwrap_err()),
            [
                "TENANT_ID_LENGTH",
                "MAJOR_HEAD_CODE_LENGTH",
                "COA_CODE_LENGTH"
            ]
        );
        let none: CoaCriteria = serde_json::from_value(json!({})).unwrap();
        assert_eq!(
            codes_of(validate_criteria(&none).unwrap_err()),
            ["TENANT_ID"]
        );
    }
}
