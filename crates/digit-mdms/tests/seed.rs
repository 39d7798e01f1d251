//! The repository's seed master data loads and carries what the platform needs.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::seed;
use digit_mdms::{load_role_actions, MdmsRoleActions};
use digit_service::authz::RoleActionProvider;
use serde_json::json;

#[tokio::test]
async fn seed_has_tenants_and_id_formats() {
    let mdms = seed();
    let tenants = mdms
        .master("pg", "tenant", "tenants", Some("$.*.code"))
        .await
        .expect("tenants");
    assert_eq!(
        tenants,
        vec![json!("pg"), json!("pg.citya"), json!("pg.cityb")]
    );
    let city = mdms
        .master(
            "pg.citya",
            "tenant",
            "tenants",
            Some("[?(@.code == 'pg.citya')]"),
        )
        .await
        .expect("tenant");
    assert_eq!(city[0]["city"]["code"], json!("CITYA"));
    let formats = mdms
        .master(
            "pg.citya",
            "common-masters",
            "IdFormat",
            Some("[?(@.idname=='pgr.servicerequestid')]"),
        )
        .await
        .expect("formats");
    assert_eq!(
        formats[0]["format"],
        json!("PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]")
    );
    let roles = mdms
        .master("pg", "ACCESSCONTROL-ROLES", "roles", Some("$.*.code"))
        .await
        .expect("roles");
    for code in [
        "EMPLOYEE",
        "CITIZEN",
        "SUPERUSER",
        "CSR",
        "GRO",
        "DGRO",
        "PGR_LME",
        "CFC",
        "AUTO_ESCALATE",
    ] {
        assert!(roles.contains(&json!(code)), "{code}");
    }
}

#[tokio::test]
async fn seed_grants_platform_urls_to_base_roles() {
    let mdms = seed();
    let grants: HashSet<(String, String)> = load_role_actions(mdms.as_ref(), "pg")
        .await
        .expect("grants")
        .into_iter()
        .collect();
    for url in [
        "/egov-mdms-service/v1/_search",
        "/egov-mdms-service/v1/_get",
        "/egov-idgen/id/_generate",
    ] {
        for role in ["EMPLOYEE", "CITIZEN", "SUPERUSER"] {
            assert!(
                grants.contains(&(role.to_string(), url.to_string())),
                "{role} {url}"
            );
        }
    }
    // City tenants fall back to the state's grants.
    let provider = MdmsRoleActions::new(Arc::clone(&mdms));
    let city = provider.role_actions("pg.citya").await.expect("grants");
    assert_eq!(city.len(), grants.len());
    assert!(provider
        .role_actions("zz")
        .await
        .expect("no data is no grants")
        .is_empty());
}
