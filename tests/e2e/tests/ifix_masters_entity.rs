//! Department hierarchy levels and entities on the real stack: the linear chain of levels
//! (one root, one child level per level, levels derived from the parent), entities whose
//! children sit exactly one level deeper and have one parent, getAncestry trees bounded by
//! the configured depth, updates that cannot break the tree (or make a cycle), races.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::masters::*;
use serde_json::{json, Value};
use std::sync::Arc;

const LEVEL: &str = "/ifix-department-entity/departmentEntity/hierarchyLevel/v1";
const ENTITY: &str = "/ifix-department-entity/departmentEntity/v1";

async fn department(stack: &MastersStack, code: &str) -> String {
    let body = json!({"requestHeader": header(), "department": {"tenantId": "pg", "code": code, "name": code}});
    let (status, answer) = stack
        .admin("/adapter-master-data/department/v1/_create", &body)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer["department"][0]["id"].as_str().unwrap().to_owned()
}

fn level_body(department: &str, label: &str, parent: Option<&str>) -> Value {
    json!({"requestHeader": header(), "departmentHierarchyLevel": {"tenantId": "pg", "departmentId": department, "label": label, "parent": parent}})
}

/// A chain of `n` levels; their ids, root first.
async fn chain(stack: &MastersStack, department: &str, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for i in 0..n {
        let body = level_body(department, &format!("L{i}"), ids.last().map(String::as_str));
        let answer = stack.expect_ok(&format!("{LEVEL}/_create"), body).await;
        assert_eq!(answer["departmentHierarchyLevel"][0]["level"], i);
        ids.push(
            answer["departmentHierarchyLevel"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids
}

async fn entity(
    stack: &MastersStack,
    department: &str,
    code: &str,
    level: i64,
    children: Value,
) -> String {
    let body = json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg", "departmentId": department, "code": code, "name": format!("Entity {code}"), "hierarchyLevel": level, "children": children}});
    let answer = stack.expect_ok(&format!("{ENTITY}/_create"), body).await;
    answer["departmentEntity"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn search(stack: &MastersStack, criteria: Value) -> Value {
    stack
        .expect_ok(
            &format!("{ENTITY}/_search"),
            json!({"requestHeader": header(), "criteria": criteria}),
        )
        .await
}

#[tokio::test]
async fn levels_form_one_chain_per_department() {
    let stack = MastersStack::start(&[]).await;
    let dep = department(&stack, "DWSS").await;
    let ids = chain(&stack, &dep, 3).await;
    let create = format!("{LEVEL}/_create");
    // A second root, and a second child of the root: refused.
    let second_root = stack
        .refuse(
            &create,
            level_body(&dep, "Other", None),
            &["INVALID_DEPARTMENT_ID"],
        )
        .await;
    assert!(
        second_root["Errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("root"),
        "{second_root}"
    );
    stack
        .refuse(
            &create,
            level_body(&dep, "Zone 2", Some(&ids[0])),
            &["INVALID_DEPARTMENT_ID"],
        )
        .await;
    stack
        .refuse(
            &create,
            level_body(&dep, "X", Some("no-such-level")),
            &["INVALID_PARENT_ID"],
        )
        .await;
    stack
        .refuse(
            &create,
            level_body("no-such-department", "X", None),
            &["INVALID_DEPARTMENT_ID"],
        )
        .await;
    // A level of another department is not a parent here.
    let other = department(&stack, "PWD").await;
    stack
        .refuse(
            &create,
            level_body(&other, "X", Some(&ids[2])),
            &["INVALID_PARENT_ID"],
        )
        .await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header(), "departmentHierarchyLevel": {"tenantId": "pg"}}),
            &["DEPARTMENT_ID", "DEPARTMENT_LABEL"],
        )
        .await;
    stack.refuse(&create, json!({"requestHeader": header(), "departmentHierarchyLevel": {"departmentId": dep, "label": "x"}}), &["TENANT_ID"]).await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header()}),
            &["INVALID_REQUEST"],
        )
        .await;
    stack
        .refuse(
            &create,
            json!({"departmentHierarchyLevel": {}}),
            &["REQUEST_HEADER"],
        )
        .await;
    // Search.
    let s = format!("{LEVEL}/_search");
    let all = stack
        .expect_ok(
            &s,
            json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "departmentId": dep}}),
        )
        .await;
    let levels: Vec<i64> = all["departmentHierarchyLevel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [0, 1, 2]);
    let root = stack.expect_ok(&s, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "level": 0, "departmentId": dep}})).await;
    assert_eq!(root["departmentHierarchyLevel"][0]["parent"], Value::Null);
    assert_eq!(root["departmentHierarchyLevel"][0]["label"], "L0");
    let by_label = stack.expect_ok(&s, json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "label": "L2", "Ids": [ids[2]]}})).await;
    assert_eq!(
        by_label["departmentHierarchyLevel"][0]["parent"],
        ids[1].as_str()
    );
    stack
        .refuse(
            &s,
            json!({"requestHeader": header(), "criteria": {}}),
            &["TENANT_ID"],
        )
        .await;
    stack
        .refuse(&s, json!({"requestHeader": header()}), &["SEARCH_CRITERIA"])
        .await;
    stack
        .refuse(
            &s,
            json!({"criteria": {"tenantId": "pg"}}),
            &["REQUEST_HEADER"],
        )
        .await;
}

#[tokio::test]
async fn racing_roots_and_racing_parents_leave_one() {
    let stack = Arc::new(MastersStack::start(&[]).await);
    let dep = department(&stack, "DWSS").await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (stack, dep) = (stack.clone(), dep.clone());
        tasks.push(tokio::spawn(async move {
            stack
                .admin(
                    &format!("{LEVEL}/_create"),
                    &level_body(&dep, &format!("Root {i}"), None),
                )
                .await
        }));
    }
    let mut roots = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => roots += 1,
            StatusCode::BAD_REQUEST => assert_eq!(error_codes(&body), ["INVALID_DEPARTMENT_ID"]),
            other => panic!("{other} {body}"),
        }
    }
    assert_eq!(roots, 1);
    let root: String = sqlx::query_scalar("SELECT id FROM department_hierarchy_level")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    let body = level_body(&dep, "Zone", Some(&root));
    stack.expect_ok(&format!("{LEVEL}/_create"), body).await;
    // Five entities at the root level race to adopt one child: one wins.
    let child = entity(&stack, &dep, "CHILD", 1, json!([])).await;
    let mut tasks = Vec::new();
    for i in 0..5 {
        let (stack, dep, child) = (stack.clone(), dep.clone(), child.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg", "departmentId": dep, "code": format!("P{i}"), "name": "p", "hierarchyLevel": 0, "children": [child]}});
            stack.admin(&format!("{ENTITY}/_create"), &body).await
        }));
    }
    let mut parents = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => parents += 1,
            StatusCode::BAD_REQUEST => assert_eq!(error_codes(&body), ["DEPARTMENT_CHILDREN"]),
            other => panic!("{other} {body}"),
        }
    }
    assert_eq!(parents, 1);
}

#[tokio::test]
async fn entities_children_and_rules() {
    let stack = MastersStack::start(&[]).await;
    let dep = department(&stack, "DWSS").await;
    chain(&stack, &dep, 3).await;
    let city = entity(&stack, &dep, "C05", 2, json!([])).await;
    let zone = entity(&stack, &dep, "Z02", 1, json!([city])).await;
    let state = entity(
        &stack,
        &dep,
        "DWSS",
        0,
        json!([{"childId": zone, "status": true}]),
    )
    .await;
    let found = search(&stack, json!({"tenantId": "pg", "departmentId": dep})).await;
    let rows = found["departmentEntity"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], state.as_str());
    assert_eq!(rows[0]["children"], json!([zone]));
    assert_eq!(rows[2]["children"], json!([]));
    let by_level = search(
        &stack,
        json!({"tenantId": "pg", "hierarchyLevel": "1", "code": "Z02", "name": "Entity Z02"}),
    )
    .await;
    assert_eq!(by_level["departmentEntity"][0]["id"], zone.as_str());

    let create = format!("{ENTITY}/_create");
    let e = |code: &str, level: Value, children: Value| json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg", "departmentId": dep, "code": code, "name": code, "hierarchyLevel": level, "children": children}});
    // Children must be one level deeper, in this department, and parentless.
    stack
        .refuse(
            &create,
            e("X1", json!(0), json!([city])),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    stack
        .refuse(
            &create,
            e("X2", json!(0), json!(["no-such-entity"])),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    stack
        .refuse(
            &create,
            e("X3", json!(1), json!([city, city])),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    let taken = stack
        .refuse(
            &create,
            e("X4", json!(1), json!([city])),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    assert!(
        taken["Errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already has a parent"),
        "{taken}"
    );
    stack
        .refuse(
            &create,
            e("X5", json!(3), json!([])),
            &["INVALID_HIERARCHY_LEVEL"],
        )
        .await;
    stack
        .refuse(
            &create,
            e("C05", json!(2), json!([])),
            &["DUPLICATE_DEPARTMENT_ENTITY_CODE"],
        )
        .await;
    stack
        .refuse(
            &create,
            json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg"}}),
            &[
                "DEPARTMENT_ID",
                "DEPARTMENT_ENTITY_CODE",
                "DEPARTMENT_ENTITY_NAME",
                "DEPARTMENT_HIERARCHY_ID",
                "DEPARTMENT_CHILDREN",
            ],
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
        .refuse(
            &create,
            json!({"departmentEntity": {}}),
            &["REQUEST_PAYLOAD"],
        )
        .await;
    let s = format!("{ENTITY}/_search");
    stack
        .refuse(
            &s,
            json!({"requestHeader": header(), "criteria": {}}),
            &["TENANT_ID"],
        )
        .await;
    stack
        .refuse(&s, json!({"requestHeader": header()}), &["SEARCH_CRITERIA"])
        .await;
}

#[tokio::test]
async fn ancestry_is_the_path_from_the_root_and_bounded() {
    let stack = MastersStack::start(&[("MAXIMUM_SUPPORTED_DEPARTMENT_HIERARCHY", "2")]).await;
    let dep = department(&stack, "DWSS").await;
    chain(&stack, &dep, 4).await;
    let l3 = entity(&stack, &dep, "L3", 3, json!([])).await;
    let l2 = entity(&stack, &dep, "L2", 2, json!([l3])).await;
    let sibling = entity(&stack, &dep, "L2B", 2, json!([])).await;
    let l1 = entity(&stack, &dep, "L1", 1, json!([l2, sibling])).await;
    let tree = search(
        &stack,
        json!({"tenantId": "pg", "Ids": [l2], "getAncestry": true}),
    )
    .await;
    let root = &tree["departmentEntity"][0];
    assert_eq!(root["id"], l1.as_str());
    // One chain: the sibling is not in it, the searched entity has no children.
    assert_eq!(root["children"].as_array().unwrap().len(), 1);
    assert_eq!(root["children"][0]["id"], l2.as_str());
    assert_eq!(root["children"][0]["children"], json!([]));
    assert_eq!(root["children"][0]["hierarchyLevel"], 2);
    // Two ancestors are allowed (the setting), three are not.
    entity(&stack, &dep, "L0", 0, json!([l1])).await;
    let two = search(
        &stack,
        json!({"tenantId": "pg", "Ids": [l2], "getAncestry": true}),
    )
    .await;
    assert_eq!(two["departmentEntity"][0]["code"], "L0");
    let (status, deep) = stack
        .admin(&format!("{ENTITY}/_search"), &json!({"requestHeader": header(), "criteria": {"tenantId": "pg", "Ids": [l3], "getAncestry": true}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&deep), ["MAXIMUM_SUPPORTED_HIERARCHY_EXCEEDED"]);
}

#[tokio::test]
async fn updates_keep_the_tree() {
    let stack = MastersStack::start(&[]).await;
    let dep = department(&stack, "DWSS").await;
    chain(&stack, &dep, 3).await;
    let c1 = entity(&stack, &dep, "C1", 2, json!([])).await;
    let c2 = entity(&stack, &dep, "C2", 2, json!([])).await;
    let zone = entity(&stack, &dep, "Z", 1, json!([c1])).await;
    let root = entity(&stack, &dep, "R", 0, json!([zone])).await;
    let update = format!("{ENTITY}/_update");
    let u = |fields: Value| {
        let mut e = json!({"id": zone, "tenantId": "pg"});
        for (k, v) in fields.as_object().unwrap() {
            e[k] = v.clone();
        }
        json!({"requestHeader": header(), "departmentEntity": e})
    };
    // Rename, swap c1 for c2.
    let answer = stack
        .expect_ok(
            &update,
            u(json!({"name": "Zone North", "hierarchyLevel": 1,
        "children": [{"childId": c1, "status": false}, c2]})),
        )
        .await;
    assert_eq!(answer["departmentEntity"][0]["name"], "Zone North");
    assert_eq!(answer["departmentEntity"][0]["code"], "Z");
    assert_eq!(answer["departmentEntity"][0]["children"], json!([c2]));
    let found = search(&stack, json!({"tenantId": "pg", "Ids": [zone]})).await;
    assert_eq!(found["departmentEntity"][0]["children"], json!([c2]));
    assert_eq!(found["departmentEntity"][0]["name"], "Zone North");
    // c1 is free again: another parent may take it.
    entity(&stack, &dep, "Z2", 1, json!([c1])).await;
    // A cycle cannot be built: the root is not one level below the zone.
    stack
        .refuse(
            &update,
            u(json!({"hierarchyLevel": 1, "children": [root]})),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    // Moving the zone down a level would leave its parent two levels up and its child level with it.
    stack
        .refuse(
            &update,
            u(json!({"hierarchyLevel": 2, "children": [{"childId": c2, "status": false}]})),
            &["INVALID_HIERARCHY_LEVEL"],
        )
        .await;
    stack
        .refuse(
            &update,
            u(json!({"hierarchyLevel": 0})),
            &["DEPARTMENT_CHILDREN"],
        )
        .await;
    stack
        .refuse(
            &update,
            u(json!({"hierarchyLevel": 7})),
            &["INVALID_HIERARCHY_LEVEL"],
        )
        .await;
    stack
        .refuse(
            &update,
            u(json!({"code": "C2", "hierarchyLevel": 1})),
            &["DUPLICATE_DEPARTMENT_ENTITY_CODE"],
        )
        .await;
    stack
        .refuse(
            &update,
            u(json!({"departmentId": dep})),
            &["DEPARTMENT_HIERARCHY_ID"],
        )
        .await;
    stack
        .refuse(
            &update,
            u(json!({"children": [c1]})),
            &["DEPARTMENT_HIERARCHY_ID"],
        )
        .await;
    stack
        .refuse(
            &update,
            json!({"requestHeader": header(), "departmentEntity": {"tenantId": "pg", "name": "x"}}),
            &["Id"],
        )
        .await;
    stack.refuse(&update,
        json!({"requestHeader": header(), "departmentEntity": {"id": "nope", "tenantId": "pg"}}),
        &["INVALID_DEPARTMENT_ENTITY_ID"],
    )
    .await;
    stack.refuse(&update, json!({"requestHeader": header(), "departmentEntity": {"id": zone, "tenantId": "pg", "code": "x".repeat(257)}}), &["DEPARTMENT_ENTITY_CODE"]).await;
    stack
        .refuse(
            &update,
            json!({"requestHeader": header()}),
            &["REQUEST_PAYLOAD"],
        )
        .await;
}
