//! The MDMS v1 endpoints over the seed data, driven through the router.

mod common;

use axum::http::StatusCode;
use common::{call, post_json, seed};
use digit_mdms::{codes, router, GET_PATH, SEARCH_PATH};
use serde_json::{json, Value};

fn search_body(tenant: &str, modules: Value) -> Value {
    json!({
        "RequestInfo": {"apiId": "Rainmaker", "msgId": "1|en_IN"},
        "MdmsCriteria": {"tenantId": tenant, "moduleDetails": modules}
    })
}

fn error_codes(body: &Value) -> Vec<String> {
    body["Errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn search_returns_the_v1_envelope_with_city_fallback() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "pg.citya",
            json!([
                {"moduleName": "common-masters", "masterDetails": [
                    {"name": "IdFormat", "filter": "[?(@.idname == 'pgr.servicerequestid')]"},
                    {"name": "GenderType", "filter": "[?(@.active==true)].code"}
                ]},
                {"moduleName": "tenant", "masterDetails": [{"name": "tenants", "filter": "$.*.code"}]},
                {"moduleName": "egov-location", "masterDetails": [{"name": "TenantBoundary"}]}
            ]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ResponseInfo"], Value::Null);
    let res = &body["MdmsRes"];
    assert_eq!(
        res["common-masters"]["IdFormat"],
        json!([{"idname": "pgr.servicerequestid", "format": "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]"}])
    );
    // City A overrides GenderType; every entry is active there.
    assert_eq!(
        res["common-masters"]["GenderType"],
        json!(["MALE", "FEMALE", "TRANSGENDER"])
    );
    assert_eq!(
        res["tenant"]["tenants"],
        json!(["pg", "pg.citya", "pg.cityb"])
    );
    assert_eq!(
        res["egov-location"]["TenantBoundary"][0]["boundary"]["code"],
        json!("pg.citya")
    );
}

#[tokio::test]
async fn search_state_and_other_city_use_state_masters() {
    let app = router(seed()).into_router();
    for tenant in ["pg", "pg.cityb"] {
        let (status, body) = post_json(
            &app,
            SEARCH_PATH,
            &search_body(
                tenant,
                json!([{"moduleName": "common-masters", "masterDetails": [
                    {"name": "GenderType", "filter": "[?(@.active==true)].code"}
                ]}]),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["MdmsRes"]["common-masters"]["GenderType"],
            json!(["MALE", "FEMALE"]),
            "{tenant}"
        );
    }
    // State has no boundary data: the master is omitted, the module kept.
    let (_, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "pg",
            json!([{"moduleName": "egov-location", "masterDetails": [{"name": "TenantBoundary"}]}]),
        ),
    )
    .await;
    assert_eq!(body["MdmsRes"], json!({"egov-location": {}}));
}

#[tokio::test]
async fn search_unknown_tenant_is_empty() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "zz.city",
            json!([{"moduleName": "common-masters", "masterDetails": [{"name": "IdFormat"}]}]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"ResponseInfo": null, "MdmsRes": {}}));
}

#[tokio::test]
async fn search_projection_of_actions() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "pg",
            json!([{"moduleName": "ACCESSCONTROL-ACTIONS-TEST", "masterDetails": [
                {"name": "actions-test", "filter": "[*]['id','url']"}
            ]}]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let actions = &body["MdmsRes"]["ACCESSCONTROL-ACTIONS-TEST"]["actions-test"];
    // Files merge in path order (actions-pgr.json before actions-test.json): find by id.
    let first = actions
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == 1))
        .cloned();
    assert_eq!(
        first,
        Some(json!({"id": 1, "url": "/egov-mdms-service/v1/_search"}))
    );
    assert!(actions.as_array().is_some_and(|a| a
        .iter()
        .all(|x| x.as_object().is_some_and(|o| o.len() == 2))));
}

#[tokio::test]
async fn search_in_filter_with_upper_case_in() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "pg",
            json!([{"moduleName": "ACCESSCONTROL-ROLES", "masterDetails": [
                {"name": "roles", "filter": "[?(@.code IN ['GRO','CSR'])].code"}
            ]}]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["MdmsRes"]["ACCESSCONTROL-ROLES"]["roles"],
        json!(["CSR", "GRO"])
    );
}

#[tokio::test]
async fn search_missing_criteria_is_a_digit_400() {
    let app = router(seed()).into_router();
    let cases = [
        (json!({"RequestInfo": {}}), vec![codes::NOT_NULL_CRITERIA]),
        (
            json!({"RequestInfo": {}, "MdmsCriteria": {"moduleDetails": []}}),
            vec![codes::NOT_NULL_TENANT_ID],
        ),
        (
            json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": "pg"}}),
            vec![codes::NOT_NULL_MODULE_DETAILS],
        ),
        (
            json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": " "}}),
            vec![codes::NOT_NULL_TENANT_ID, codes::NOT_NULL_MODULE_DETAILS],
        ),
    ];
    for (body, want) in cases {
        let (status, resp) = post_json(&app, SEARCH_PATH, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(resp["ResponseInfo"], Value::Null);
        assert_eq!(error_codes(&resp), want, "{body}");
        assert!(resp["Errors"][0]["message"].is_string());
    }
}

#[tokio::test]
async fn search_malformed_bodies_are_digit_400s() {
    let app = router(seed()).into_router();
    let (status, body) = call(&app, SEARCH_PATH, Some("application/json"), "{", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["JsonParseException"]);
    let (status, body) = call(&app, SEARCH_PATH, Some("text/plain"), "{}", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["UnsupportedMediaType"]);
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": 5, "moduleDetails": []}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["JsonMappingException"]);
}

#[tokio::test]
async fn search_invalid_filter_is_a_400() {
    let app = router(seed()).into_router();
    let (status, body) = post_json(
        &app,
        SEARCH_PATH,
        &search_body(
            "pg",
            json!([{"moduleName": "common-masters", "masterDetails": [
                {"name": "IdFormat", "filter": "[?(@.idname =="}
            ]}]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), [codes::INVALID_FILTER]);
}

#[tokio::test]
async fn search_too_many_modules_is_a_400() {
    let app = router(seed()).into_router();
    let modules: Vec<Value> = (0..=digit_mdms::MAX_MODULES)
        .map(|i| json!({"moduleName": format!("m{i}"), "masterDetails": []}))
        .collect();
    let (status, body) = post_json(&app, SEARCH_PATH, &search_body("pg", json!(modules))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), [codes::CRITERIA_TOO_LARGE]);
}

#[tokio::test]
async fn get_reads_one_master_with_bare_or_wrapped_request_info() {
    let app = router(seed()).into_router();
    let uri = format!(
        "{GET_PATH}?moduleName=common-masters&masterName=GenderType&tenantId=pg.citya&filter=%5B%3F(%40.code%20in%20%5B'MALE'%2C'TRANSGENDER'%5D)%5D&_=1700000000"
    );
    for body in [
        json!({"apiId": "Rainmaker"}),
        json!({"RequestInfo": {"apiId": "Rainmaker"}}),
    ] {
        let (status, resp) = post_json(&app, &uri, &body).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert_eq!(
            resp,
            json!({"ResponseInfo": null, "MdmsRes": {"common-masters": {"GenderType": [
                {"code": "MALE", "active": true}, {"code": "TRANSGENDER", "active": true}
            ]}}})
        );
    }
}

#[tokio::test]
async fn get_missing_parameters_are_400s() {
    let app = router(seed()).into_router();
    for (query, missing) in [
        ("masterName=IdFormat&tenantId=pg", "moduleName"),
        ("moduleName=common-masters&tenantId=pg", "masterName"),
        ("moduleName=common-masters&masterName=IdFormat", "tenantId"),
        (
            "moduleName=common-masters&masterName=IdFormat&tenantId=",
            "tenantId",
        ),
    ] {
        let (status, body) = post_json(
            &app,
            &format!("{GET_PATH}?{query}"),
            &json!({"RequestInfo": {}}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_codes(&body), [codes::MISSING_REQUEST_PARAMETER]);
        assert_eq!(body["Errors"][0]["params"], json!([missing]));
    }
    let uri = format!("{GET_PATH}?moduleName=common-masters&masterName=IdFormat&tenantId=pg");
    let (status, body) = call(&app, &uri, Some("application/json"), "", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MissingJsonException"]);
    let (status, body) = call(&app, &uri, Some("application/json"), "[1]", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MissingJsonException"]);
    let (status, body) = call(&app, &uri, None, "{}", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["UnsupportedMediaType"]);
}
