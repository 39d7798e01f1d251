//! Upstream's own test fixtures (`tests/e2e/upstream/ifix-masters/`, byte-identical copies of
//! the three services' `src/test/resources/test-data`): every request fixture is posted
//! unchanged and accepted, and every answer has the shape of upstream's response fixture
//! (same keys, types and nesting; `null` on either side matches any type). Where a fixture
//! refers to records (a department, a parent level, children), those records are seeded
//! first, with the ids the fixture names; where a response fixture shows stored records, they
//! are seeded from it and our search must answer them field for field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::http::StatusCode;
use digit_e2e::masters::*;
use serde_json::Value;
use sqlx::PgPool;

fn fixture(service: &str, name: &str) -> Value {
    let path = digit_e2e::repo_root()
        .join("tests/e2e/upstream/ifix-masters")
        .join(service)
        .join("test-data")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

const COA: &str = "ifix-master-data-service";
const ADAPTER: &str = "adapter-master-data-service";
const ENTITY: &str = "ifix-department-entity-service";

/// Same keys, JSON types and nesting; `null` matches anything.
fn assert_shape(ours: &Value, theirs: &Value, at: &str) {
    match (ours, theirs) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<&String> = a.keys().collect();
            let mut kb: Vec<&String> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "keys at {at}");
            for (k, v) in a {
                assert_shape(v, &b[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_shape(x, y, &format!("{at}[0]"));
            }
        }
        (a, b) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "type at {at}: {a} vs {b}"
        ),
    }
}

async fn post(stack: &MastersStack, path: &str, body: &Value, status: StatusCode) -> Value {
    let (got, answer) = stack.admin(path, body).await;
    assert_eq!(got, status, "{path} {body} → {answer}");
    answer
}

fn s(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().map(str::to_owned)
}

fn audit(v: &Value, k: &str) -> Option<i64> {
    v["auditDetails"][k].as_i64()
}

fn audit_s(v: &Value, k: &str) -> Option<String> {
    v["auditDetails"][k].as_str().map(str::to_owned)
}

async fn seed_department(pool: &PgPool, d: &Value) {
    sqlx::query("INSERT INTO department(id, tenant_id, code, name, is_nodal, parent, created_by, created_time, last_modified_by, last_modified_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
        .bind(s(d, "id")).bind(s(d, "tenantId")).bind(s(d, "code").unwrap_or_else(|| "SEEDED".into())).bind(s(d, "name"))
        .bind(d["isNodal"].as_bool()).bind(s(d, "parent"))
        .bind(audit_s(d, "createdBy")).bind(audit(d, "createdTime")).bind(audit_s(d, "lastModifiedBy")).bind(audit(d, "lastModifiedTime"))
        .execute(pool).await.unwrap();
}

async fn seed_level(
    pool: &PgPool,
    id: &str,
    tenant: &str,
    department: &str,
    level: i32,
    parent: Option<&str>,
) {
    sqlx::query("INSERT INTO department_hierarchy_level(id, tenant_id, department_id, label, parent, level) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id).bind(tenant).bind(department).bind(format!("Level {level}")).bind(parent).bind(level)
        .execute(pool).await.unwrap();
}

async fn seed_entity(pool: &PgPool, e: &Value) {
    sqlx::query("INSERT INTO department_entity(id, tenant_id, department_id, code, name, hierarchy_level, created_by, created_time, last_modified_by, last_modified_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
        .bind(s(e, "id")).bind(s(e, "tenantId")).bind(s(e, "departmentId")).bind(s(e, "code")).bind(s(e, "name"))
        .bind(e["hierarchyLevel"].as_i64().map(|l| l as i32))
        .bind(audit_s(e, "createdBy")).bind(audit(e, "createdTime")).bind(audit_s(e, "lastModifiedBy")).bind(audit(e, "lastModifiedTime"))
        .execute(pool).await.unwrap();
}

async fn link(pool: &PgPool, parent: &str, child: &str) {
    sqlx::query(
        "INSERT INTO department_entity_children(parent_id, child_id, status) VALUES ($1, $2, true)",
    )
    .bind(parent)
    .bind(child)
    .execute(pool)
    .await
    .unwrap();
}

fn bare_entity(id: &str, tenant: &str, department: &str, level: i64) -> Value {
    serde_json::json!({"id": id, "tenantId": tenant, "departmentId": department, "code": format!("SEED-{id}"), "name": "seeded", "hierarchyLevel": level})
}

#[tokio::test]
async fn chart_of_account_fixtures() {
    let stack = MastersStack::start(&[]).await;
    let path = "/ifix-master-data/chartOfAccount/v1";
    let answer = post(
        &stack,
        &format!("{path}/_create"),
        &fixture(COA, "coa_create_request.json"),
        StatusCode::ACCEPTED,
    )
    .await;
    assert_shape(&answer, &fixture(COA, "coa_create_response.json"), "$");
    assert_eq!(
        answer["chartOfAccounts"][0]["coaCode"],
        "8983-12-347-56-78-90"
    );
    let (status, headless) = stack
        .admin(
            &format!("{path}/_create"),
            &fixture(COA, "coa_create_request_headless.json"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&headless), ["REQUEST_HEADER"]);
    // The search fixture finds the record of the response fixture, field for field.
    let expected = fixture(COA, "coa_search_response.json");
    let c = &expected["chartOfAccounts"][0];
    sqlx::query("INSERT INTO eg_ifix_chartofaccount(id, tenantid, coacode, majorhead, majorheadname, majorheadtype, submajorhead, submajorheadname, minorhead, minorheadname, subhead, subheadname, grouphead, groupheadname, objecthead, objectheadname, createdby, createdtime, lastmodifiedby, lastmodifiedtime) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)")
        .bind(s(c, "id")).bind(s(c, "tenantId")).bind(s(c, "coaCode")).bind(s(c, "majorHead")).bind(s(c, "majorHeadName")).bind(s(c, "majorHeadType"))
        .bind(s(c, "subMajorHead")).bind(s(c, "subMajorHeadName")).bind(s(c, "minorHead")).bind(s(c, "minorHeadName")).bind(s(c, "subHead")).bind(s(c, "subHeadName"))
        .bind(s(c, "groupHead")).bind(s(c, "groupHeadName")).bind(s(c, "objectHead")).bind(s(c, "objectHeadName"))
        .bind(audit_s(c, "createdBy")).bind(audit(c, "createdTime")).bind(audit_s(c, "lastModifiedBy")).bind(audit(c, "lastModifiedTime"))
        .execute(stack.db.pool()).await.unwrap();
    let found = post(
        &stack,
        &format!("{path}/_search"),
        &fixture(COA, "coa_search_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_shape(&found, &expected, "$");
    assert_eq!(found["chartOfAccounts"], expected["chartOfAccounts"]);
    assert_eq!(
        found["responseHeader"]["msgId"],
        expected["responseHeader"]["msgId"]
    );
}

#[tokio::test]
async fn adapter_fixtures() {
    let stack = MastersStack::start(&[]).await;
    let pool = stack.db.pool();
    let base = "/adapter-master-data";
    // Department create (202) and search.
    let created = post(
        &stack,
        &format!("{base}/department/v1/_create"),
        &fixture(ADAPTER, "department_create_request.json"),
        StatusCode::ACCEPTED,
    )
    .await;
    assert_shape(
        &created,
        &fixture(ADAPTER, "department_create_response.json"),
        "$",
    );
    let expected = fixture(ADAPTER, "department_search_response.json");
    seed_department(pool, &expected["department"][0]).await;
    let found = post(
        &stack,
        &format!("{base}/department/v1/_search"),
        &fixture(ADAPTER, "department_search_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["department"], expected["department"]);
    // Expenditure create: its department (3d9ef18a-…-1ad2) exists.
    let dep: Value = serde_json::json!({"id": "3d9ef18a-361a-40cf-b142-dd6f998e1ad2", "tenantId": "pb", "code": "DWSS-2", "name": "Water"});
    seed_department(pool, &dep).await;
    let created = post(
        &stack,
        &format!("{base}/expenditure/v1/_create"),
        &fixture(ADAPTER, "expenditure_create_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_shape(
        &created,
        &fixture(ADAPTER, "expenditure_create_response.json"),
        "$",
    );
    let expected = fixture(ADAPTER, "expenditure_search_response.json");
    let e = &expected["expenditure"][0];
    sqlx::query("INSERT INTO expenditure(id, tenant_id, code, name, type, department_id, created_by, created_time, last_modified_by, last_modified_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
        .bind(s(e, "id")).bind(s(e, "tenantId")).bind(s(e, "code")).bind(s(e, "name")).bind(s(e, "type")).bind(s(e, "departmentId"))
        .bind(audit_s(e, "createdBy")).bind(audit(e, "createdTime")).bind(audit_s(e, "lastModifiedBy")).bind(audit(e, "lastModifiedTime"))
        .execute(pool).await.unwrap();
    let found = post(
        &stack,
        &format!("{base}/expenditure/v1/_search"),
        &fixture(ADAPTER, "expenditure_search_request.json"),
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(found["expenditure"], expected["expenditure"]);
    // Project create: its expenditure (910f4d23) and entity (e75e4840) exist.
    seed_entity(
        pool,
        &bare_entity(
            "e75e4840-2586-42f8-b8bd-841b8637da06",
            "pb",
            "3d9ef18a-361a-40cf-b142-dd6f998e1ad2",
            6,
        ),
    )
    .await;
    let expected = fixture(ADAPTER, "project_search_response.json");
    let created = post(
        &stack,
        &format!("{base}/project/v1/_create"),
        &fixture(ADAPTER, "project_create_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_shape(&created, &expected, "$");
    // The search fixture finds the stored project of the response fixture.
    let p = &expected["project"][0];
    sqlx::query("INSERT INTO project(id, tenant_id, code, name, expenditure_id, created_by, created_time, last_modified_by, last_modified_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)")
        .bind(s(p, "id")).bind(s(p, "tenantId")).bind(s(p, "code")).bind(s(p, "name")).bind(s(p, "expenditureId"))
        .bind(audit_s(p, "createdBy")).bind(audit(p, "createdTime")).bind(audit_s(p, "lastModifiedBy")).bind(audit(p, "lastModifiedTime"))
        .execute(pool).await.unwrap();
    sqlx::query("INSERT INTO project_department_entity_relationship(project_id, department_entity_id, status) VALUES ($1, $2, true)")
        .bind(s(p, "id")).bind(p["departmentEntityIds"][0].as_str()).execute(pool).await.unwrap();
    let found = post(
        &stack,
        &format!("{base}/project/v1/_search"),
        &fixture(ADAPTER, "project_search_request.json"),
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(found["project"], expected["project"]);
    // Project update of 205180a0 (seeded; a stack of its own, as its code is the created
    // project's, and codes are unique per tenant here).
    {
        let stack = MastersStack::start(&[]).await;
        let pool = stack.db.pool();
        sqlx::query("INSERT INTO project(id, tenant_id, code, name) VALUES ('205180a0-4d60-4805-a77f-92143bd115b4', 'pb', 'OLD', 'old')")
            .execute(pool).await.unwrap();
        sqlx::query("INSERT INTO expenditure(id, tenant_id, code, name, type) VALUES ('910f4d23-fc63-48fb-a8fb-f0ad567b788a', 'pb', 'JJM', 'Jal Jeevan Mission', 'Scheme')")
            .execute(pool).await.unwrap();
        seed_entity(
            pool,
            &bare_entity(
                "e75e4840-2586-42f8-b8bd-841b8637da06",
                "pb",
                "3d9ef18a-361a-40cf-b142-dd6f998e1ad2",
                6,
            ),
        )
        .await;
        let updated = post(
            &stack,
            &format!("{base}/project/v1/_update"),
            &fixture(ADAPTER, "project_update_request.json"),
            StatusCode::OK,
        )
        .await;
        assert_shape(
            &updated,
            &fixture(ADAPTER, "project_search_response.json"),
            "$",
        );
        assert_eq!(updated["project"][0]["code"], "7378");
        assert_eq!(
            updated["project"][0]["departmentEntityIds"],
            serde_json::json!(["e75e4840-2586-42f8-b8bd-841b8637da06"])
        );
    }
    // The adapter's department-entity fixtures (posted to the entity service it calls).
    for name in [
        "department_entity_search_response.json",
        "department_entity_search_response_without_children.json",
    ] {
        let stack = MastersStack::start(&[]).await;
        let expected = fixture(ADAPTER, name);
        let e = &expected["departmentEntity"][0];
        seed_entity(stack.db.pool(), e).await;
        for child in e["children"].as_array().unwrap() {
            let child = child.as_str().unwrap();
            seed_entity(
                stack.db.pool(),
                &bare_entity(child, "pb", "b32f0cc1-f4b1-4503-95d6-fdf04d0ea2d4", 4),
            )
            .await;
            link(stack.db.pool(), e["id"].as_str().unwrap(), child).await;
        }
        let found = post(
            &stack,
            "/ifix-department-entity/departmentEntity/v1/_search",
            &fixture(ADAPTER, "department_entity_search_request.json"),
            StatusCode::OK,
        )
        .await;
        assert_shape(&found, &expected, "$");
        assert_eq!(
            found["departmentEntity"], expected["departmentEntity"],
            "{name}"
        );
    }
}

#[tokio::test]
async fn department_entity_fixtures() {
    let base = "/ifix-department-entity/departmentEntity";
    // Hierarchy level create: department 5fe2fecb and its root level ac12996f exist.
    let stack = MastersStack::start(&[]).await;
    let pool = stack.db.pool();
    seed_department(
        pool,
        &fixture(ENTITY, "department_search_response.json")["department"][0],
    )
    .await;
    seed_level(
        pool,
        "ac12996f-c832-4bdd-8cb1-c3d84fc693d1",
        "pb",
        "5fe2fecb-4f36-4259-b769-23263b4e11f0",
        0,
        None,
    )
    .await;
    let created = post(
        &stack,
        &format!("{base}/hierarchyLevel/v1/_create"),
        &fixture(ENTITY, "dept_hierarchy_create_request.json"),
        StatusCode::OK,
    )
    .await;
    let expected = fixture(ENTITY, "dept_hierarchy_create_response.json");
    assert_shape(&created, &expected, "$");
    assert_eq!(created["departmentHierarchyLevel"][0]["level"], 1);
    // Hierarchy level search finds the response fixture's level.
    let expected = fixture(ENTITY, "dept_hierarchy_search_response.json");
    let l = &expected["departmentHierarchyLevel"][0];
    sqlx::query("INSERT INTO department_hierarchy_level(id, tenant_id, department_id, label, parent, level, created_by, created_time, last_modified_by, last_modified_time) VALUES ($1,$2,$3,$4,NULL,0,$5,$6,$7,$8)")
        .bind(s(l, "id")).bind(s(l, "tenantId")).bind(s(l, "departmentId")).bind(s(l, "label"))
        .bind(audit_s(l, "createdBy")).bind(audit(l, "createdTime")).bind(audit_s(l, "lastModifiedBy")).bind(audit(l, "lastModifiedTime"))
        .execute(pool).await.unwrap();
    let found = post(
        &stack,
        &format!("{base}/hierarchyLevel/v1/_search"),
        &fixture(ENTITY, "dept_hierarchy_search_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_shape(&found, &expected, "$");
    let ours: Vec<&Value> = found["departmentHierarchyLevel"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["id"] == l["id"])
        .collect();
    assert_eq!(ours, [l]);

    // Entity create and update: department 2acf41fb has levels 0..2, child 1f51f25b at level 2.
    let dep = "2acf41fb-047d-4074-a8b9-cc49dc93fa15";
    let child = "1f51f25b-7eeb-4848-9bec-baefcdca3590";
    for request in [
        "dept_entity_create_request.json",
        "dept_entity_update_request.json",
    ] {
        let stack = MastersStack::start(&[]).await;
        let pool = stack.db.pool();
        seed_level(pool, "L0", "pb", dep, 0, None).await;
        seed_level(pool, "L1", "pb", dep, 1, Some("L0")).await;
        seed_level(pool, "L2", "pb", dep, 2, Some("L1")).await;
        seed_entity(pool, &bare_entity(child, "pb", dep, 2)).await;
        let path = if request.contains("update") {
            seed_entity(
                pool,
                &bare_entity("47ad8e10-602c-4228-9d29-75143eb4a3fd", "pb", dep, 1),
            )
            .await;
            format!("{base}/v1/_update")
        } else {
            format!("{base}/v1/_create")
        };
        let answer = post(&stack, &path, &fixture(ENTITY, request), StatusCode::OK).await;
        assert_shape(
            &answer,
            &fixture(ENTITY, "dept_entity_create_response.json"),
            "$",
        );
        assert_eq!(
            answer["departmentEntity"][0]["children"],
            serde_json::json!([child]),
            "{request}"
        );
    }

    // Entity search (tenant `PB`, as the fixture has it).
    let stack = MastersStack::start(&[]).await;
    let expected = fixture(ENTITY, "dept_entity_search_response.json");
    let e = &expected["departmentEntity"][0];
    seed_entity(stack.db.pool(), e).await;
    let kid = e["children"][0].as_str().unwrap();
    seed_entity(
        stack.db.pool(),
        &bare_entity(kid, "PB", "3d9ef18a-361a-40cf-b142-dd6f998e1ad2", 6),
    )
    .await;
    link(stack.db.pool(), e["id"].as_str().unwrap(), kid).await;
    let found = post(
        &stack,
        &format!("{base}/v1/_search"),
        &fixture(ENTITY, "dept_entity_search_request.json"),
        StatusCode::OK,
    )
    .await;
    assert_shape(&found, &expected, "$");
    assert_eq!(
        found["departmentEntity"][0],
        expected["departmentEntity"][0]
    );
}
