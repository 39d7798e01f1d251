//! Unit tests of PGR's rules.

use super::*;
use crate::domain::model::{Address, Boundary, Citizen};
use digit_core::{DigitError, Role, UserType};
use serde_json::json;

fn user(t: UserType, roles: &[(&str, &str)]) -> UserInfo {
    UserInfo {
        uuid: Some("u1".into()),
        user_type: Some(t),
        tenant_id: Some("pg.citya".into()),
        roles: roles
            .iter()
            .map(|(c, tn)| Role {
                code: (*c).into(),
                tenant_id: Some((*tn).into()),
                ..Role::default()
            })
            .collect(),
        ..UserInfo::default()
    }
}

#[test]
fn employees_must_name_the_citizen() {
    let emp = user(UserType::Employee, &[("CSR", "pg.citya")]);
    let mut s = Service::default();
    assert_eq!(
        user_data_errors(&emp, &s)[0].message,
        "Citizen object cannot be null"
    );
    s.citizen = Some(Citizen {
        name: Some("A".into()),
        ..Citizen::default()
    });
    assert_eq!(
        user_data_errors(&emp, &s)[0].message,
        "Name and Mobile Number is mandatory in citizen object"
    );
    assert!(user_data_errors(&user(UserType::Citizen, &[]), &Service::default()).is_empty());
}

#[test]
fn sources_are_exact() {
    let mut s = Service {
        source: Some("RB Bot".into()),
        ..Service::default()
    };
    assert!(validate_source(&s).is_ok());
    s.source = Some("Web".into());
    let e = validate_source(&s).unwrap_err();
    assert_eq!(e.code(), "INVALID_SOURCE");
    assert_eq!(e.errors()[0].message, "The source: Web is not valid");
}

#[test]
fn boundary_tree_and_codes() {
    let trees = vec![
        json!({"boundary": {"code": "pg.citya", "children": [{"code": "Z1", "children": [{"code": "ALOC1"}]}]}}),
    ];
    assert!(boundary_has(&trees, "ALOC1"));
    assert!(!boundary_has(&trees, "BLOC1"));
    let s = Service {
        address: Some(Address {
            locality: Some(Boundary::default()),
            ..Address::default()
        }),
        ..Service::default()
    };
    assert_eq!(locality_code(&s).unwrap_err().code(), "INVALID_BOUNDARY");
}

#[test]
fn complaint_types_must_be_active() {
    let h = vec![
        json!({"code": "A", "active": true, "name": "Alpha", "department": "DEPT_1"}),
        json!({"code": "B", "active": false}),
    ];
    assert!(complaint_type(&h, Some("A")).is_ok());
    let e = complaint_type(&h, Some("B")).unwrap_err();
    assert_eq!(
        e.errors()[0].message,
        "The service code: B is not present in MDMS"
    );
}

#[test]
fn rating_range() {
    for (r, ok) in [(0, false), (1, true), (5, true), (6, false)] {
        let s = Service {
            rating: Some(r),
            ..Service::default()
        };
        assert_eq!(validate_rating(&s).is_ok(), ok, "{r}");
    }
}

#[test]
fn reopen_owner_and_window() {
    let citizen = user(UserType::Citizen, &[("CITIZEN", "pg")]);
    let mut persisted = Service {
        account_id: Some("U1".into()),
        audit_details: Some(digit_core::AuditDetails {
            last_modified_time: Some(1_000),
            ..Default::default()
        }),
        ..Service::default()
    };
    assert!(
        validate_reopen(&citizen, &persisted, 1_000 + 10, 100).is_ok(),
        "uuid match is case-insensitive"
    );
    let e = validate_reopen(&citizen, &persisted, 1_000 + 101, 100).unwrap_err();
    assert_eq!(e.errors()[0].message, "Complaint is closed");
    persisted.account_id = Some("other".into());
    let e = validate_reopen(&citizen, &persisted, 1_010, 100).unwrap_err();
    assert_eq!(
        e.errors()[0].message,
        "Not authorized to re-open the complain"
    );
    let csr = user(UserType::Employee, &[("CSR", "pg.citya")]);
    assert!(validate_reopen(&csr, &persisted, 1_010, 100).is_ok());
}

#[test]
fn additional_detail_merge() {
    let entry = json!({"code": "X", "name": "Streetlight", "department": " DEPT_1 "});
    let merged = merge_additional_detail(
        Some(&json!({"department": "DEPT_9", "a": 1})),
        &entry,
        "X",
        false,
    );
    assert_eq!(
        merged,
        json!({"department": "DEPT_1", "a": 1, "serviceName": "Streetlight"})
    );
    let kept = merge_additional_detail(Some(&json!({"department": "DEPT_9"})), &entry, "X", true);
    assert_eq!(kept["department"], "DEPT_9");
    let na = merge_additional_detail(
        Some(&json!("not an object")),
        &json!({"department": "NA"}),
        "Y",
        false,
    );
    assert_eq!(na, json!({"department": "NA", "serviceName": "Y"}));
    let mut base = json!({"a": {"b": [1]}, "c": 1});
    deep_merge(&mut base, json!({"a": {"b": [2], "d": true}, "c": 2}));
    assert_eq!(base, json!({"a": {"b": [1, 2], "d": true}, "c": 2}));
}

#[test]
fn search_validation_order_and_messages() {
    let emp = user(UserType::Employee, &[("GRO", "pg.citya")]);
    let citizen = user(UserType::Citizen, &[("CITIZEN", "pg")]);
    let c = |f: &dyn Fn(&mut SearchCriteria)| {
        let mut c = SearchCriteria::default();
        f(&mut c);
        c
    };
    let cases: Vec<(Option<&UserInfo>, SearchCriteria, &str, &str)> = vec![
        (
            Some(&emp),
            c(&|c| c.service_request_id = Some("x".into())),
            "INVALID_SEARCH",
            "TenantId is mandatory search param",
        ),
        (
            None,
            c(&|c| c.tenant_id = Some("pg".into())),
            "INVALID_REQUESTINFO",
            "RequestInfo.userInfo is required to search complaints",
        ),
        (
            Some(&emp),
            c(&|_| {}),
            "INVALID_SEARCH",
            "Search without params is not allowed",
        ),
        (
            Some(&citizen),
            c(&|c| {
                c.tenant_id = Some("pg".into());
                c.service_code = vec!["A".into()];
            }),
            "INVALID SEARCH",
            "Search on serviceCode is not allowed",
        ),
        (
            Some(&emp),
            c(&|c| {
                c.tenant_id = Some("pg".into());
                c.to_date = Some(5);
            }),
            "INVALID_SEARCH",
            "Cannot specify to-Date without a from-Date",
        ),
    ];
    for (who, criteria, code, message) in cases {
        let e = validate_search(who, &criteria).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.errors()[0].message.as_str()),
            (code, message)
        );
    }
    assert!(validate_search(Some(&citizen), &c(&|c| c.tenant_id = Some("pg".into()))).is_ok());
}

#[test]
fn scoping_helpers() {
    assert!(is_pure_citizen(&user(
        UserType::Citizen,
        &[("CITIZEN", "pg")]
    )));
    assert!(!is_pure_citizen(&user(
        UserType::Employee,
        &[("CITIZEN", "pg"), ("EMPLOYEE", "pg")]
    )));
    let emp = user(UserType::Employee, &[("GRO", "pg.citya")]);
    assert!(caller_covers_tenant(&emp, "pg.citya"));
    assert!(!caller_covers_tenant(&emp, "pg"));
    assert!(!caller_covers_tenant(&emp, "pg.cityb"));
    let state = UserInfo {
        tenant_id: Some("pg".into()),
        ..UserInfo::default()
    };
    assert!(caller_covers_tenant(&state, "pg.cityb"));
    assert!(!caller_covers_tenant(&state, "pgx.city"));
}
