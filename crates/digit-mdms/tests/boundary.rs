//! The boundary searches (boundary-service and egov-location paths) and the mdms-v2 search
//! alias over the seed data, driven through the router.

mod common;

use axum::http::StatusCode;
use common::{call, post_json, seed};
use digit_mdms::{
    codes, router, BOUNDARY_SEARCH_PATH, LOCATION_BOUNDARY_SEARCH_PATH, MAX_BOUNDARY_CODES,
    MDMS_V2_SEARCH_PATH, SEARCH_PATH,
};
use serde_json::{json, Value};

fn request_info() -> Value {
    json!({"RequestInfo": {"apiId": "Rainmaker", "ver": "1.0", "ts": 7, "msgId": "m1|en_IN"}})
}

fn codes_of(boundary: &Value) -> Vec<String> {
    boundary
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| n["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn mdms_v2_v1_search_answers_as_egov_mdms_service() {
    let app = router(seed()).into_router();
    let body = json!({
        "RequestInfo": {"apiId": "Rainmaker"},
        "MdmsCriteria": {"tenantId": "pg.citya", "moduleDetails": [
            {"moduleName": "common-masters", "masterDetails": [
                {"name": "GenderType", "filter": "[?(@.active==true)].code"}]},
            {"moduleName": "egov-location", "masterDetails": [{"name": "TenantBoundary"}]}
        ]}
    });
    let (status, v2) = post_json(&app, MDMS_V2_SEARCH_PATH, &body).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    let (_, v1) = post_json(&app, SEARCH_PATH, &body).await;
    assert_eq!(v2, v1);
    assert_eq!(v2["ResponseInfo"], Value::Null);
    assert_eq!(
        v2["MdmsRes"]["common-masters"]["GenderType"],
        json!(["MALE", "FEMALE", "TRANSGENDER"])
    );
    // Validation is the same too.
    let (status, err) = post_json(
        &app,
        MDMS_V2_SEARCH_PATH,
        &json!({"RequestInfo": {}, "MdmsCriteria": {"moduleDetails": []}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["Errors"][0]["code"], codes::NOT_NULL_TENANT_ID);
}

#[tokio::test]
async fn boundary_relationships_answers_the_indexer_lookup() {
    let app = router(seed()).into_router();
    // The query egov-indexer's PGR config sends (`$.TenantBoundary[0].boundary[0]` is the ward).
    let uri = format!(
        "{BOUNDARY_SEARCH_PATH}?hierarchyTypeCode=ADMIN&boundaryType=Locality&codes=ALOC1&tenantId=pg.citya"
    );
    let (status, body) = post_json(&app, &uri, &request_info()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ResponseInfo"]["apiId"], "Rainmaker");
    assert_eq!(body["ResponseInfo"]["ts"], 7);
    assert_eq!(body["ResponseInfo"]["status"], "successful");
    let tb = body["TenantBoundary"].as_array().expect("TenantBoundary");
    assert_eq!(tb.len(), 1);
    assert_eq!(tb[0]["tenantId"], "pg.citya");
    assert_eq!(tb[0]["hierarchyType"], "ADMIN");
    assert_eq!(
        tb[0]["boundary"],
        json!([{
            "id": 4, "boundaryNum": 1, "name": "Alakapuri", "localname": "Alakapuri",
            "longitude": null, "latitude": null, "label": "Locality", "code": "ALOC1",
            "area": "Area1", "children": [], "boundaryType": "Locality"
        }])
    );

    // Lower-case type and hierarchy (the indexer's other configs), several codes, tree order.
    let uri = format!(
        "{BOUNDARY_SEARCH_PATH}?hierarchyTypeCode=admin&boundaryType=locality&codes=ALOC2,ALOC1&tenantId=pg.citya&_=1700000000"
    );
    let (status, body) = post_json(&app, &uri, &request_info()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        codes_of(&body["TenantBoundary"][0]["boundary"]),
        ["ALOC1", "ALOC2"]
    );
}

#[tokio::test]
async fn boundary_relationships_types_children_and_parents() {
    let app = router(seed()).into_router();
    // Every node of a type.
    let (_, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&boundaryType=LOCALITY"),
        &request_info(),
    )
    .await;
    assert_eq!(
        codes_of(&body["TenantBoundary"][0]["boundary"]),
        ["ALOC1", "ALOC2", "JLC477"]
    );
    // No type, no codes: the root, without children unless asked.
    let (_, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&hierarchyTypeCode=ADMIN"),
        &request_info(),
    )
    .await;
    assert_eq!(
        codes_of(&body["TenantBoundary"][0]["boundary"]),
        ["pg.citya"]
    );
    assert_eq!(
        body["TenantBoundary"][0]["boundary"][0]["children"],
        json!([])
    );
    // includeChildren: the block with its localities.
    let (_, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&boundaryType=Block&codes=B1&includeChildren=true"),
        &request_info(),
    )
    .await;
    let block = &body["TenantBoundary"][0]["boundary"][0];
    assert_eq!(block["code"], "B1");
    assert_eq!(codes_of(&block["children"]), ["ALOC1", "ALOC2", "JLC477"]);
    assert_eq!(block["children"][0]["boundaryType"], "Locality");
    // includeParents: the path city → zone → block → locality.
    let (_, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&boundaryType=Locality&codes=ALOC2&includeParents=true"),
        &request_info(),
    )
    .await;
    let city = &body["TenantBoundary"][0]["boundary"][0];
    assert_eq!(city["code"], "pg.citya");
    assert_eq!(
        codes_of(&city["children"][0]["children"][0]["children"]),
        ["ALOC2"]
    );
    // hierarchyType (boundary-service's own name) is read like hierarchyTypeCode.
    let (_, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&hierarchyType=REVENUE"),
        &request_info(),
    )
    .await;
    assert_eq!(body["TenantBoundary"], json!([]));
}

#[tokio::test]
async fn boundary_tenants_fall_back_like_mdms_and_unknown_ones_find_nothing() {
    let app = router(seed()).into_router();
    let search = |tenant: &str, code: &str| {
        format!("{BOUNDARY_SEARCH_PATH}?tenantId={tenant}&boundaryType=Locality&codes={code}")
    };
    // Each city has its own tree.
    let (_, body) = post_json(&app, &search("pg.cityb", "BLOC1"), &request_info()).await;
    assert_eq!(
        body["TenantBoundary"][0]["boundary"][0]["name"],
        "Cantonment"
    );
    let (_, body) = post_json(&app, &search("pg.cityb", "ALOC1"), &request_info()).await;
    assert_eq!(body["TenantBoundary"], json!([]));
    // Below a city, the city's tree answers; the tenant answered is the one asked.
    let (_, body) = post_json(&app, &search("pg.citya.ward1", "ALOC1"), &request_info()).await;
    assert_eq!(body["TenantBoundary"][0]["tenantId"], "pg.citya.ward1");
    assert_eq!(body["TenantBoundary"][0]["boundary"][0]["code"], "ALOC1");
    // The state has no boundaries; an unknown tenant or code finds nothing: 200, [].
    for uri in [
        search("pg", "ALOC1"),
        search("xx.nowhere", "ALOC1"),
        search("pg.citya", "NOPE"),
    ] {
        let (status, body) = post_json(&app, &uri, &request_info()).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(body["TenantBoundary"], json!([]), "{uri}");
    }
}

#[tokio::test]
async fn boundary_bodies_are_optional() {
    let app = router(seed()).into_router();
    let uri = format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&codes=ALOC1");
    for (content_type, body) in [
        (None, ""),
        (Some("application/json"), ""),
        (Some("application/json"), "{}"),
        (Some("application/json"), r#"{"apiId": "bare"}"#),
        (Some("text/plain"), "hello"),
        (
            Some("application/json"),
            r#"{"RequestInfo": {"ts": "not a number"}}"#,
        ),
    ] {
        let (status, answer) = call(&app, &uri, content_type, body, &[]).await;
        assert_eq!(status, StatusCode::OK, "{content_type:?} {body}: {answer}");
        assert_eq!(
            answer["TenantBoundary"][0]["boundary"][0]["code"], "ALOC1",
            "{body}"
        );
    }
    let (_, answer) = call(
        &app,
        &uri,
        Some("application/json"),
        r#"{"apiId": "bare"}"#,
        &[],
    )
    .await;
    assert_eq!(answer["ResponseInfo"]["apiId"], "bare");
}

#[tokio::test]
async fn a_missing_tenant_is_a_digit_400_on_both_paths() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?hierarchyTypeCode=ADMIN&boundaryType=Locality&codes=ALOC1&tenantId="),
        &request_info(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["ResponseInfo"], Value::Null);
    assert_eq!(
        body["Errors"][0]["code"],
        codes::NOT_NULL_BOUNDARY_TENANT_ID
    );
    assert_eq!(body["Errors"][0]["message"], "tenantId must not be null");

    let (status, body) = post_json(
        &app,
        &format!("{LOCATION_BOUNDARY_SEARCH_PATH}?boundaryType=Locality"),
        &request_info(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], codes::MISSING_REQUEST_PARAMETER);
    assert_eq!(body["Errors"][0]["params"], json!(["tenantId"]));
}

#[tokio::test]
async fn boundary_criteria_are_bounded_and_typed() {
    let app = router(seed()).into_router();
    let many = (0..=MAX_BOUNDARY_CODES)
        .map(|i| format!("C{i}"))
        .collect::<Vec<_>>()
        .join(",");
    for path in [BOUNDARY_SEARCH_PATH, LOCATION_BOUNDARY_SEARCH_PATH] {
        let (status, body) = post_json(
            &app,
            &format!("{path}?tenantId=pg.citya&codes={many}"),
            &request_info(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["Errors"][0]["code"], codes::CRITERIA_TOO_LARGE);
    }
    let (status, body) = post_json(
        &app,
        &format!("{BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&includeChildren=maybe"),
        &request_info(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["Errors"][0]["code"], "INVALID_SEARCH_CRITERIA");
}

#[tokio::test]
async fn egov_location_search_answers_its_own_shape() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        &format!("{LOCATION_BOUNDARY_SEARCH_PATH}?tenantId=pg.citya&hierarchyTypeCode=ADMIN&boundaryType=Locality&codes=ALOC2"),
        &request_info(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ResponseInfo"]["msgId"], "m1|en_IN");
    let tb = &body["TenantBoundary"];
    assert_eq!(tb.as_array().map(Vec::len), Some(1));
    assert_eq!(
        tb[0]["hierarchyType"],
        json!({"code": "ADMIN", "name": "ADMIN"})
    );
    assert!(tb[0].get("tenantId").is_none(), "{tb}");
    // Nodes exactly as stored (no boundaryType added here).
    assert_eq!(
        tb[0]["boundary"],
        json!([{
            "id": 5, "boundaryNum": 2, "name": "Bharat Nagar", "localname": "Bharat Nagar",
            "longitude": null, "latitude": null, "label": "Locality", "code": "ALOC2",
            "area": "Area1", "children": []
        }])
    );
    let (status, body) = post_json(
        &app,
        &format!("{LOCATION_BOUNDARY_SEARCH_PATH}?tenantId=pg&boundaryType=Locality"),
        &request_info(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["TenantBoundary"], json!([]));
}

#[tokio::test]
async fn hierarchy_definition_is_the_level_chain() {
    let app = router(seed()).into_router();
    let body = json!({"RequestInfo": {"apiId": "digit"}, "BoundaryTypeHierarchySearchCriteria": {"tenantId": "pg.citya"}});
    let (status, answer) = post_json(&app, digit_mdms::HIERARCHY_SEARCH_PATH, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["totalCount"], 1);
    let h = &answer["BoundaryHierarchy"][0];
    assert_eq!(h["tenantId"], "pg.citya");
    assert_eq!(h["hierarchyType"], "ADMIN");
    assert_eq!(
        h["boundaryHierarchy"],
        json!([
            {"boundaryType": "City", "parentBoundaryType": null, "active": true},
            {"boundaryType": "Zone", "parentBoundaryType": "City", "active": true},
            {"boundaryType": "Block", "parentBoundaryType": "Zone", "active": true},
            {"boundaryType": "Locality", "parentBoundaryType": "Block", "active": true}
        ])
    );
    let other = json!({"BoundaryTypeHierarchySearchCriteria": {"tenantId": "pg.citya", "hierarchyType": "REVENUE"}});
    let (_, none) = post_json(&app, digit_mdms::HIERARCHY_SEARCH_PATH, &other).await;
    assert_eq!(none["BoundaryHierarchy"], json!([]));
    let (status, refused) = post_json(
        &app,
        digit_mdms::HIERARCHY_SEARCH_PATH,
        &json!({"BoundaryTypeHierarchySearchCriteria": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}
