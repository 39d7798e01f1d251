//! Departments, expenditures and projects on the real stack: every rule and error code,
//! upstream's status codes (202 on department create, expenditure and project search),
//! per-tenant codes, project links added and removed, read-your-writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::masters::*;
use serde_json::{json, Value};

const DEPARTMENT: &str = "/adapter-master-data/department/v1";
const EXPENDITURE: &str = "/adapter-master-data/expenditure/v1";
const PROJECT: &str = "/adapter-master-data/project/v1";
const LEVEL: &str = "/ifix-department-entity/departmentEntity/hierarchyLevel/v1/_create";
const ENTITY: &str = "/ifix-department-entity/departmentEntity/v1/_create";

fn long_tenant() -> String {
    format!("pg.{}", "x".repeat(62))
}

async fn department(stack: &MastersStack, code: &str) -> String {
    let body = json!({"requestHeader": header(), "department": {"tenantId": "pg", "code": code, "name": format!("Department {code}"), "parent": "parent1"}});
    let answer = stack
        .expect(&format!("{DEPARTMENT}/_create"), body, StatusCode::ACCEPTED)
        .await;
    answer["department"][0]["id"].as_str().unwrap().to_owned()
}

async fn expenditure(stack: &MastersStack, code: &str, department: &str) -> String {
    let body = json!({"requestHeader": header(), "expenditure": {"tenantId": "pg", "code": code, "name": "Jal Jeevan Mission", "type": "Scheme", "departmentId": department}});
    let answer = stack
        .expect(&format!("{EXPENDITURE}/_create"), body, StatusCode::OK)
        .await;
    answer["expenditure"][0]["id"].as_str().unwrap().to_owned()
}

/// A department's root level and two entities at it.
async fn entities(stack: &MastersStack, department: &str) -> (String, String) {
    let level = json!({"requestHeader": header(), "departmentHierarchyLevel": {"tenantId": "pg", "departmentId": department, "label": "State"}});
    stack.expect(LEVEL, level, StatusCode::OK).await;
    let mut ids = Vec::new();
    for code in ["E1", "E2"] {
        let e = json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg", "departmentId": department, "code": code, "name": code, "hierarchyLevel": 0, "children": []}});
        let answer = stack.expect(ENTITY, e, StatusCode::OK).await;
        ids.push(
            answer["departmentEntity"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn departments_create_202_search_and_rules() {
    let stack = MastersStack::start(&[]).await;
    let id = department(&stack, "DWSS").await;
    let search = |criteria: Value| json!({"requestHeader": header(), "criteria": criteria});
    let found = stack
        .expect(
            &format!("{DEPARTMENT}/_search"),
            search(json!({"tenantId": "pg", "code": "DWSS"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(found["department"][0]["id"], id.as_str());
    assert_eq!(found["department"][0]["isNodal"], false);
    assert_eq!(found["department"][0]["parent"], "parent1");
    let by_ids = stack
        .expect(
            &format!("{DEPARTMENT}/_search"),
            search(json!({"tenantId": "pg", "Ids": [id], "name": "Department DWSS"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(by_ids["department"].as_array().unwrap().len(), 1);
    let none = stack
        .expect(
            &format!("{DEPARTMENT}/_search"),
            search(json!({"tenantId": "pg", "name": "Other"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(none["department"], json!([]));

    let create = format!("{DEPARTMENT}/_create");
    stack.refuse(&create, json!({"requestHeader": header(), "department": {"tenantId": "pg", "code": "DWSS", "name": "again"}}), &["DUPLICATE_DEPARTMENT_CODE"]).await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header()}),
            &["REQUEST_PAYLOAD"],
        )
        .await;
    stack
        .refuse(
            &create,
            json!({"department": {"tenantId": "pg"}}),
            &["REQUEST_HEADER"],
        )
        .await;
    stack.refuse(&create, json!({"requestHeader": header(), "department": {"tenantId": long_tenant(), "code": "c".repeat(65), "parent": "p".repeat(65)}}),
        &["TENANT_ID", "DEPARTMENT_CODE", "DEPARTMENT_NAME", "DEPARTMENT_PARENT"]).await;
    let s = format!("{DEPARTMENT}/_search");
    stack
        .refuse(
            &s,
            json!({"criteria": {"tenantId": "pg"}}),
            &["REQUEST_HEADER"],
        )
        .await;
    stack
        .refuse(
            &s,
            json!({"requestHeader": header()}),
            &["INVALID_SEARCH_CRITERIA"],
        )
        .await;
    stack.refuse(&s, search(json!({})), &["TENANT_ID"]).await;
    stack
        .refuse(
            &s,
            search(json!({"tenantId": long_tenant(), "name": "n", "code": "c"})),
            &["TENANT_ID_LENGTH", "DEPARTMENT_NAME", "DEPARTMENT_CODE"],
        )
        .await;
}

#[tokio::test]
async fn expenditures_create_200_search_202_and_rules() {
    let stack = MastersStack::start(&[]).await;
    let dep = department(&stack, "DWSS").await;
    let id = expenditure(&stack, "JJM", &dep).await;
    let s = format!("{EXPENDITURE}/_search");
    // Upstream answers its expenditure search with 202 and does not require the header.
    let found = stack
        .expect(
            &s,
            json!({"criteria": {"tenantId": "pg", "Ids": [id]}}),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(found["expenditure"][0]["type"], "Scheme");
    assert_eq!(found["expenditure"][0]["departmentId"], dep.as_str());
    let create = format!("{EXPENDITURE}/_create");
    stack.refuse(&create, json!({"requestHeader": header(), "expenditure": {"tenantId": "pg", "code": "JJM", "name": "again", "type": "Non-Scheme"}}), &["DUPLICATE_EXPENDITURE_CODE"]).await;
    stack.refuse(&create, json!({"requestHeader": header(), "expenditure": {"tenantId": "pg", "code": "X1", "name": "x1", "type": "Scheme", "departmentId": "nope"}}), &["DEPARTMENT_ID"]).await;
    stack.refuse(&create, json!({"requestHeader": header(), "expenditure": {"tenantId": "pg", "code": "X", "name": "x", "type": "Other"}}), &["EXPENDITURE_CODE", "EXPENDITURE_NAME", "EXPENDITURE_TYPE"]).await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header(), "expenditure": {"tenantId": long_tenant()}}),
            &["TENANT_ID"],
        )
        .await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header()}),
            &["REQUEST_PAYLOAD"],
        )
        .await;
    stack
        .refuse(&s, json!({"criteria": {}}), &["TENANT_ID"])
        .await;
    stack
        .refuse(&s, json!({}), &["INVALID_SEARCH_CRITERIA"])
        .await;
    stack
        .refuse(
            &s,
            json!({"criteria": {"tenantId": "pg", "name": "n"}}),
            &["EXPENDITURE_NAME"],
        )
        .await;
    stack
        .refuse(
            &s,
            json!({"criteria": {"tenantId": "pg", "code": "c"}}),
            &["EXPENDITURE_CODE"],
        )
        .await;
    stack
        .refuse(
            &s,
            json!({"criteria": {"tenantId": long_tenant()}}),
            &["TENANT_ID"],
        )
        .await;
}

#[tokio::test]
async fn projects_link_entities_and_locations() {
    let stack = MastersStack::start(&[]).await;
    let dep = department(&stack, "DWSS").await;
    let exp = expenditure(&stack, "JJM", &dep).await;
    let (e1, e2) = entities(&stack, &dep).await;
    let create = format!("{PROJECT}/_create");
    let update = format!("{PROJECT}/_update");
    let search = format!("{PROJECT}/_search");
    // Links as plain ids (upstream's fixtures) and as objects (upstream's code).
    let body = json!({"requestHeader": header(), "project": {"tenantId": "pg", "code": "7378", "name": "MAJHER", "expenditureId": exp,
        "departmentEntityIds": [e1, {"departmentEntityId": e2, "status": true}], "locationIds": [{"locationId": "LOC1"}]}});
    let created = stack.expect(&create, body, StatusCode::OK).await;
    let p = &created["project"][0];
    let id = p["id"].as_str().unwrap().to_owned();
    let mut linked = vec![e1.clone(), e2.clone()];
    linked.sort();
    assert_eq!(p["departmentEntityIds"], json!(linked));
    assert_eq!(p["locationIds"], json!(["LOC1"]));
    // Search (upstream: 202) by entity and by location.
    let by_entity = stack.expect(&search, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "departmentEntityId": e2}}), StatusCode::ACCEPTED).await;
    assert_eq!(by_entity["project"][0]["id"], id.as_str());
    assert_eq!(
        by_entity["project"][0]["departmentEntityIds"],
        json!(linked)
    );
    let by_location = stack.expect(&search, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "locationId": "LOC1", "expenditureId": exp}}), StatusCode::ACCEPTED).await;
    assert_eq!(by_location["project"].as_array().unwrap().len(), 1);
    // Update: rename, unlink e2 (status false), link a location.
    let body = json!({"requestHeader": header(), "project": {"id": id, "tenantId": "pg", "name": "MAJHER 2",
        "departmentEntityIds": [{"departmentEntityId": e2, "status": false}], "locationIds": ["LOC2"]}});
    let updated = stack.expect(&update, body, StatusCode::OK).await;
    assert_eq!(updated["project"][0]["name"], "MAJHER 2");
    assert_eq!(updated["project"][0]["code"], "7378");
    assert_eq!(updated["project"][0]["departmentEntityIds"], json!([e1]));
    assert_eq!(
        updated["project"][0]["locationIds"],
        json!(["LOC1", "LOC2"])
    );
    let after = stack
        .expect(
            &search,
            json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "Ids": [id]}}),
            StatusCode::ACCEPTED,
        )
        .await;
    assert_eq!(after["project"][0]["name"], "MAJHER 2");
    assert_eq!(after["project"][0]["departmentEntityIds"], json!([e1]));
    assert_eq!(after["project"][0]["locationIds"], json!(["LOC1", "LOC2"]));
    let unlinked = stack.expect(&search, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "departmentEntityId": e2}}), StatusCode::ACCEPTED).await;
    assert_eq!(unlinked["project"], json!([]));

    // Rules.
    let second = json!({"requestHeader": header(), "project": {"tenantId": "pg", "code": "P2", "name": "P2"}});
    let p2 = stack.expect(&create, second, StatusCode::OK).await["project"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    stack.refuse(&create, json!({"requestHeader": header(), "project": {"tenantId": "pg", "code": "7378", "name": "again"}}), &["DUPLICATE_PROJECT_CODE"]).await;
    stack.refuse(&update,
        json!({"requestHeader": header(), "project": {"id": p2, "tenantId": "pg", "code": "7378"}}),
        &["DUPLICATE_PROJECT_CODE"],
    )
    .await;
    stack.refuse(&create, json!({"requestHeader": header(), "project": {"tenantId": "pg", "code": "P3", "name": "P3", "expenditureId": "nope-nope"}}), &["EXPENDITURE_ID"]).await;
    stack.refuse(&create, json!({"requestHeader": header(), "project": {"tenantId": "pg", "code": "P3", "name": "P3", "departmentEntityIds": [e1, "missing-entity"]}}), &["DEPARTMENT_ENTITY_ID"]).await;
    stack.refuse(&create, json!({"requestHeader": header(), "project": {"tenantId": "pg", "expenditureId": "x", "departmentEntityIds": ["y"]}}),
        &["PROJECT_CODE", "PROJECT_NAME", "EXPENDITURE_ID", "DEPARTMENT_ENTITY_ID"]).await;
    stack
        .refuse(
            &create,
            json!({"project": {"tenantId": "pg"}}),
            &["REQUEST_PAYLOAD"],
        )
        .await;
    stack
        .refuse(
            &update,
            json!({"requestHeader": header(), "project": {"tenantId": "pg"}}),
            &["ID"],
        )
        .await;
    stack
        .refuse(
            &update,
            json!({"requestHeader": header(), "project": {"id": "unknown", "tenantId": "pg"}}),
            &["INVALID_ID"],
        )
        .await;
    stack
        .refuse(
            &search,
            json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "locationId": "l"}}),
            &["LOCATION_ID"],
        )
        .await;
    stack
        .refuse(
            &search,
            json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "name": "n"}}),
            &["PROJECT_NAME"],
        )
        .await;
    stack
        .refuse(
            &search,
            json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "code": "c"}}),
            &["PROJECT_CODE"],
        )
        .await;
    stack.refuse(&search, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "departmentEntityId": "d"}}), &["DEPARTMENT_ENTITY_ID"]).await;
    stack.refuse(&search,
        json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "expenditureId": "e"}}),
        &["EXPENDITURE_ID"],
    )
    .await;
    stack
        .refuse(
            &search,
            json!({"requestHeader": header(), "criteria": {}}),
            &["TENANT_ID"],
        )
        .await;
    stack
        .refuse(
            &search,
            json!({"requestHeader": header()}),
            &["INVALID_SEARCH_CRITERIA"],
        )
        .await;
}

#[tokio::test]
async fn without_the_gate_user_info_is_required() {
    // Behind the gate the caller is always known; the pipelines still refuse an anonymous
    // write (upstream's USER_INFO), as a direct caller of the crate would meet it.
    let stack = MastersStack::start(&[]).await;
    let masters = stack.masters().await;
    let coa = serde_json::from_value(
        json!({"tenantId": "pg", "majorHead": "0215", "subMajorHead": "01", "minorHead": "102",
        "subHead": "00", "groupHead": "00", "objectHead": "01"}),
    )
    .unwrap();
    let err = masters
        .create_coa(
            &digit_ifix_masters::service::Caller::default(),
            &Default::default(),
            coa,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, digit_ifix_masters::MastersError::Invalid(e) if e[0].code == "USER_INFO"),
        "{err}"
    );
}

#[tokio::test]
async fn a_write_the_persister_refuses_is_not_answered_as_stored() {
    // A constraint only the database has (standing in for any reason the persister
    // dead-letters a message): the answer is an error, not a record that does not exist.
    let stack = MastersStack::start(&[]).await;
    sqlx::query("ALTER TABLE department ADD CONSTRAINT no_poison CHECK (name <> 'poison')")
        .execute(stack.db.pool())
        .await
        .unwrap();
    let (status, body) = stack
        .admin(&format!("{DEPARTMENT}/_create"), &json!({"requestHeader": header(), "department": {"tenantId": "pg", "code": "P", "name": "poison"}}))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(error_codes(&body), ["INTERNAL_SERVER_ERROR"]);
    let (_, found) = stack
        .admin(
            &format!("{DEPARTMENT}/_search"),
            &json!({"requestHeader": header(), "criteria": {"tenantId": "pg"}}),
        )
        .await;
    assert_eq!(found["department"], json!([]));
}
