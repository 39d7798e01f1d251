//! Every per-record rule of spec `upstream-platform.md` §3.2, through the running indexer
//! binary (real broker, osmem as Elasticsearch), each asserted on what Elasticsearch holds:
//!
//! - masking (`XXXXXXXX`, also added when the key is absent but its parent exists; nothing
//!   added when the parent is missing), `@timestamp` (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`) in
//!   `ID_TIMEZONE`, concatenated ids (`$.id, $.tenantId`), records without a (string) id not
//!   written, redelivery of an id overwriting;
//! - `isBulk` with `jsonPath` selecting an array (`$.Items`, `$.Items.*`);
//! - version selection (`RequestInfo.ver` 2.0.0 → the 2.0.0 ServiceMaps; absent or not
//!   semver → 1.0.0; a version without mapping skipped and counted);
//! - each config key (INDEX, REINDEX, LEGACYINDEX topics consumed);
//! - `topic.push.enabled`: `<index>-enriched` receives every document keyed by its id (the
//!   ones without id too, unkeyed);
//! - `customJsonMapping` with external calls (query parameters and `apiRequest` from the
//!   record, host rewrite) and MDMS lookups with `filterMapping`, cached (N records → one
//!   MDMS call per distinct filter);
//! - upstream's own PGR config (`configs/indexer/pgr-services.yml`, topics renamed) on a
//!   `save-pgr-request` message, compared field by field with upstream's sample document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};

const RULES_V1: &str = r#"ServiceMaps:
  serviceName: indexer rules test
  version: 1.0.0
  mappings:
    - topic: rules-plain-TAG
      configKey: INDEX
      indexes:
        - name: rules-plain-TAG
          type: general
          id: $.id, $.tenantId
          timeStampField: $.auditDetails.lastModifiedTime
          fieldsToBeMasked: ["$.citizen.mobileNumber", "$.citizen.emailId", "$.nothing.here"]
    - topic: rules-bulk-TAG
      configKey: INDEX
      indexes:
        - name: rules-bulk-TAG
          id: $.code
          isBulk: true
          jsonPath: $.Items
        - name: rules-bulk-star-TAG
          id: $.code
          isBulk: true
          jsonPath: $.Items.*
    - topic: rules-ver-TAG
      indexes:
        - name: rules-v1-TAG
          id: $.id
          jsonPath: $.Item
    - topic: rules-reindex-TAG
      configKey: REINDEX
      indexes:
        - name: rules-reindexed-TAG
          id: $.id
          isBulk: true
          jsonPath: $.hits
    - topic: rules-legacy-TAG
      configKey: legacyindex
      indexes:
        - name: rules-legacy-TAG
          id: $.id
          isBulk: true
          jsonPath: $.Records.*
"#;

const RULES_V2: &str = r#"ServiceMaps:
  serviceName: indexer rules test, version 2
  version: 2.0.0
  mappings:
    - topic: rules-ver-TAG
      configKey: INDEX
      indexes:
        - name: rules-v2-TAG
          id: $.id
          jsonPath: $.Item
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_rules_config_keys_versions_and_enriched_topic() {
    let t = tag();
    let indexer = IndexerBuilder::new(&t)
        .config("rules-v1.yml", &RULES_V1.replace("TAG", &t))
        .config("rules-v2.yml", &RULES_V2.replace("TAG", &t))
        .env("ID_TIMEZONE", "Asia/Kolkata")
        .env("TOPIC_PUSH_ENABLED", "true")
        .start()
        .await;
    let es = Es::default();
    let p = producer();
    let name = |n: &str| format!("rules-{n}-{t}");

    // Masking, @timestamp, ids. 1727931561688 ms is 2024-10-03T04:59:21.688Z, 10:29:21.688
    // in Asia/Kolkata; upstream writes the literal `Z` whatever the zone.
    let no_id = json!({"tenantId": "pb.amritsar", "citizen": {"name": "NoId"},
        "auditDetails": {"lastModifiedTime": 0}});
    let numeric_id = json!({"id": 42, "tenantId": "pb.amritsar"});
    let first = json!({"RequestInfo": {"apiId": "Rainmaker"}, "id": "A1", "tenantId": "pb.amritsar",
        "citizen": {"name": "Ravi", "mobileNumber": "9999999999"},
        "auditDetails": {"lastModifiedTime": 1_727_931_561_688_i64}});
    let plain = json!({"id": "A2", "tenantId": "pb.jalandhar", "note": "no citizen, no time"});
    let mut again = first.clone();
    again["citizen"]["name"] = json!("Ravi again");
    produce(
        &p,
        &name("plain"),
        &[
            no_id.clone(),
            numeric_id.clone(),
            first.clone(),
            plain.clone(),
            again.clone(),
        ],
    )
    .await;

    // isBulk + jsonPath, as an array path and as a wildcard path; an empty array is nothing.
    let items =
        json!({"Items": [{"code": "B1", "n": 1}, {"code": "B2", "n": 2}, {"code": "B3", "n": 3}]});
    produce(&p, &name("bulk"), &[json!({"Items": []}), items.clone()]).await;

    // Version selection.
    produce(
        &p,
        &name("ver"),
        &[
            json!({"RequestInfo": {"ver": "2.0.0"}, "Item": {"id": "V2"}}),
            json!({"RequestInfo": {}, "Item": {"id": "V1"}}),
            json!({"Item": {"id": "V1-no-request-info"}}),
            json!({"RequestInfo": {"ver": ".01"}, "Item": {"id": "V1-not-semver"}}),
            json!({"RequestInfo": {"ver": "3.0.0"}, "Item": {"id": "V3"}}),
            json!({"RequestInfo": {"ver": "2.0.0-beta"}, "Item": {"id": "V2-pre-release"}}),
        ],
    )
    .await;

    // REINDEX and LEGACYINDEX topics are consumed too.
    produce(
        &p,
        &name("reindex"),
        &[json!({"hits": [{"id": "R1", "x": 1}, {"id": "R2", "x": 2}]})],
    )
    .await;
    produce(
        &p,
        &name("legacy"),
        &[json!({"Records": [{"id": "L1"}, {"id": "L2"}, {"id": "L3"}]})],
    )
    .await;

    // Exactly three writes to rules-plain: A1, A2 and A1 again; the records without a
    // string id are not written.
    let docs = "indexer_documents_total";
    let idx = |n: &str| format!("index=\"{}\"", name(n));
    assert_eq!(
        wait_for_metric(&indexer, docs, &idx("plain"), 3.0).await,
        3.0
    );
    assert_eq!(
        wait_for_metric(&indexer, docs, &idx("bulk"), 3.0).await,
        3.0
    );
    assert_eq!(
        wait_for_metric(&indexer, docs, &idx("bulk-star"), 3.0).await,
        3.0
    );
    assert_eq!(wait_for_metric(&indexer, docs, &idx("v1"), 3.0).await, 3.0);
    assert_eq!(wait_for_metric(&indexer, docs, &idx("v2"), 2.0).await, 2.0);
    assert_eq!(
        wait_for_metric(&indexer, docs, &idx("reindexed"), 2.0).await,
        2.0
    );
    assert_eq!(
        wait_for_metric(&indexer, docs, &idx("legacy"), 3.0).await,
        3.0
    );
    let unmapped = format!("topic=\"{}\"", name("ver"));
    assert_eq!(
        wait_for_metric(&indexer, "indexer_unmapped_messages_total", &unmapped, 1.0).await,
        1.0
    );

    let masked_first = |m: &Value| {
        let mut m = m.clone();
        m["citizen"]["mobileNumber"] = json!("XXXXXXXX");
        m["citizen"]["emailId"] = json!("XXXXXXXX");
        m["@timestamp"] = json!("2024-10-03T10:29:21.688Z");
        m
    };
    let plain_docs = es.docs(&name("plain")).await;
    assert_eq!(
        plain_docs,
        BTreeMap::from([
            ("A1pb.amritsar".to_owned(), masked_first(&again)),
            ("A2pb.jalandhar".to_owned(), plain.clone()),
        ])
    );

    let bulk_expected: BTreeMap<String, Value> = items["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap().to_owned(), i.clone()))
        .collect();
    assert_eq!(es.docs(&name("bulk")).await, bulk_expected);
    assert_eq!(es.docs(&name("bulk-star")).await, bulk_expected);

    let ids = |docs: BTreeMap<String, Value>| docs.into_keys().collect::<Vec<_>>();
    assert_eq!(
        ids(es.docs(&name("v1")).await),
        ["V1", "V1-no-request-info", "V1-not-semver"]
    );
    assert_eq!(ids(es.docs(&name("v2")).await), ["V2", "V2-pre-release"]);
    assert_eq!(
        es.docs(&name("reindexed")).await,
        BTreeMap::from([
            ("R1".to_owned(), json!({"id": "R1", "x": 1})),
            ("R2".to_owned(), json!({"id": "R2", "x": 2})),
        ])
    );
    assert_eq!(ids(es.docs(&name("legacy")).await), ["L1", "L2", "L3"]);

    // topic.push.enabled: every document, keyed by its id; those without an id unkeyed.
    let enriched = read_topic(&format!("{}-enriched", name("plain")), 5).await;
    let keys: Vec<Option<&str>> = enriched.iter().map(|r| r.key.as_deref()).collect();
    assert_eq!(
        keys,
        [
            None,
            None,
            Some("A1pb.amritsar"),
            Some("A2pb.jalandhar"),
            Some("A1pb.amritsar")
        ]
    );
    let mut no_id_doc = no_id.clone();
    no_id_doc["citizen"]["mobileNumber"] = json!("XXXXXXXX");
    no_id_doc["citizen"]["emailId"] = json!("XXXXXXXX");
    no_id_doc["@timestamp"] = json!("1970-01-01T05:30:00.000Z");
    let values: Vec<Value> = enriched.into_iter().map(|r| r.value).collect();
    assert_eq!(
        values,
        [
            no_id_doc,
            numeric_id,
            masked_first(&first),
            plain,
            masked_first(&again)
        ]
    );
    let bulk_enriched = read_topic(&format!("{}-enriched", name("bulk")), 3).await;
    assert_eq!(
        bulk_enriched
            .iter()
            .map(|r| r.key.clone().unwrap())
            .collect::<Vec<_>>(),
        ["B1", "B2", "B3"]
    );

    assert_eq!(
        indexer.metric("indexer_dead_lettered_total", "").await,
        0.0,
        "{}",
        indexer.log()
    );
    let indexes: Vec<String> = [
        "plain",
        "bulk",
        "bulk-star",
        "v1",
        "v2",
        "reindexed",
        "legacy",
    ]
    .iter()
    .map(|n| name(n))
    .collect();
    es.delete_indexes(&indexes.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    indexer.stop().await;
}

const CUSTOM: &str = r#"ServiceMaps:
  serviceName: custom mapping test
  version: 1.0.0
  mappings:
    - topic: custom-TAG
      configKey: INDEX
      indexes:
        - name: custom-TAG
          type: general
          id: $.complaint.id
          jsonPath: $
          timeStampField: $.complaint.createdTime
          fieldsToBeMasked: ["$.complaint.citizen.mobileNumber"]
          customJsonMapping:
            indexMapping: {"Data":{"ward":{}, "history":{}, "department":"department", "complaint":{}}}
            fieldMapping:
              - inJsonPath: $.complaint
                outJsonPath: $.Data.complaint
              - inJsonPath: $.complaint.department
                outJsonPath: $.Data.departmentCode
              - inJsonPath: $.@timestamp
                outJsonPath: $.Data.at
            externalUriMapping:
              - path: http://boundary-service.egov:8080/boundary-service/boundary-relationships/_search
                queryParam: hierarchyTypeCode=ADMIN,codes=$.complaint.locality,tenantId=$.complaint.tenantId,ref=C-+$.complaint.id
                apiRequest: {"RequestInfo":{"apiId":"indexer","authToken":"from-the-config"},"tenant":"$.complaint.tenantId","fixed":7}
                uriResponseMapping:
                  - inJsonPath: $.TenantBoundary[0].boundary[0]
                    outJsonPath: $.Data.ward
              - path: http://egov-workflow-v2.egov:8080/egov-workflow-v2/egov-wf/process/_search
                queryParam: businessIds=$.complaint.id,history=true,tenantId=$.complaint.tenantId
                apiRequest: {"RequestInfo":{"apiId":"indexer"}}
                uriResponseMapping:
                  - inJsonPath: $.ProcessInstances
                    outJsonPath: $.Data.history
            mdmsMapping:
              - path: http://mdms-v2.egov:8080/mdms-v2/v1/_search
                moduleName: common-masters
                masterName: Department
                tenantId: pb
                filter: "[?(@.code == $department)]"
                filterMapping:
                  - variable: $department
                    valueJsonpath: $.complaint.department
                uriResponseMapping:
                  - inJsonPath: $.MdmsRes.common-masters.Department.*.name
                    outJsonPath: $.Data.department
"#;

/// Answers of the boundary, workflow and MDMS stand-ins: the ward and process instance of
/// the record the query names, departments by the filter's code.
fn enrichment_answer(call: &Call) -> (u16, Value) {
    match call.path.as_str() {
        "/boundary-service/boundary-relationships/_search" => {
            let code = call.param("codes").unwrap_or_default().to_owned();
            if code == "BROKEN" {
                return (500, json!({"Errors": [{"code": "BOUNDARY_DOWN"}]}));
            }
            (
                200,
                json!({"TenantBoundary": [{"hierarchyType": {"code": "ADMIN"},
                    "boundary": [{"code": code, "name": format!("Ward of {code}")}]}]}),
            )
        }
        "/egov-workflow-v2/egov-wf/process/_search" => (
            200,
            json!({"ProcessInstances": [{"businessId": call.param("businessIds"), "action": "APPLY",
                "state": {"applicationStatus": "PENDINGFORASSIGNMENT"}}]}),
        ),
        "/mdms-v2/v1/_search" => {
            let filter = call.body["MdmsCriteria"]["moduleDetails"][0]["masterDetails"][0]
                ["filter"]
                .as_str()
                .unwrap_or_default();
            let department = if filter.contains("'DEPT_1'") {
                json!([{"code": "DEPT_1", "name": "Street Lights"}])
            } else if filter.contains("'DEPT_2'") {
                json!([{"code": "DEPT_2", "name": "Sanitation"}])
            } else {
                json!([])
            };
            (
                200,
                json!({"ResponseInfo": null, "MdmsRes": {"common-masters": {"Department": department}}}),
            )
        }
        other => (404, json!({"unexpected": other})),
    }
}

fn rewrite_to(stub: &Stub) -> String {
    [
        "http://boundary-service.egov:8080",
        "http://egov-workflow-v2.egov:8080",
        "http://mdms-v2.egov:8080",
    ]
    .iter()
    .map(|from| format!("{from}={}", stub.url))
    .collect::<Vec<_>>()
    .join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_mapping_enriches_from_external_api_and_cached_mdms() {
    let t = tag();
    let stub = Stub::start(enrichment_answer).await;
    let indexer = IndexerBuilder::new(&t)
        .config("custom.yml", &CUSTOM.replace("TAG", &t))
        .env("INDEXER_HOST_REWRITE", &rewrite_to(&stub))
        .env("EGOV_STATELEVEL_TENANTID", "pb")
        .env("INDEXER_OUTBOUND_TOKEN", "service-token")
        .start()
        .await;
    let es = Es::default();
    let index = format!("custom-{t}");

    // 20 complaints of DEPT_1, one of DEPT_2, one without department (lookup skipped), one
    // whose boundary lookup fails (indexed without the ward).
    let complaint = |i: usize, department: Option<&str>, locality: &str| {
        let mut c = json!({"id": format!("C{i:02}"), "tenantId": "pb.amritsar", "locality": locality,
            "createdTime": 1_700_000_000_000_i64 + i64::try_from(i).unwrap(),
            "citizen": {"name": "Asha", "mobileNumber": "9876543210"}});
        if let Some(d) = department {
            c["department"] = json!(d);
        }
        json!({"RequestInfo": {"apiId": "Rainmaker"}, "complaint": c})
    };
    let mut messages: Vec<Value> = (1..=20)
        .map(|i| complaint(i, Some("DEPT_1"), &format!("LOC{i}")))
        .collect();
    messages.push(complaint(21, Some("DEPT_2"), "LOC21"));
    messages.push(complaint(22, None, "LOC22"));
    messages.push(complaint(23, Some("DEPT_1"), "BROKEN"));
    produce(&producer(), &index, &messages).await;

    assert_eq!(es.wait_for_count(&index, 23).await, 23, "{}", indexer.log());
    let docs = es.docs(&index).await;
    assert_eq!(docs.len(), 23);

    let c01 = &docs["C01"];
    assert_eq!(
        c01,
        &json!({"Data": {
            "ward": {"code": "LOC1", "name": "Ward of LOC1"},
            "history": [{"businessId": "C01", "action": "APPLY",
                "state": {"applicationStatus": "PENDINGFORASSIGNMENT"}}],
            "department": "Street Lights",
            "departmentCode": "DEPT_1",
            "at": "2023-11-14T22:13:20.001Z",
            "complaint": {"id": "C01", "tenantId": "pb.amritsar", "locality": "LOC1",
                "createdTime": 1_700_000_000_001_i64, "department": "DEPT_1",
                "citizen": {"name": "Asha", "mobileNumber": "XXXXXXXX"}}
        }})
    );
    assert_eq!(docs["C21"]["Data"]["department"], json!("Sanitation"));
    // No department: no lookup, the template's value stays; no departmentCode either.
    assert_eq!(docs["C22"]["Data"]["department"], json!("department"));
    assert_eq!(docs["C22"]["Data"].get("departmentCode"), None);
    // The failed boundary call leaves the template's empty ward; the rest is enriched.
    assert_eq!(docs["C23"]["Data"]["ward"], json!({}));
    assert_eq!(docs["C23"]["Data"]["department"], json!("Street Lights"));
    assert_eq!(
        docs["C23"]["Data"]["history"][0]["businessId"],
        json!("C23")
    );
    assert!(
        indexer
            .metric("indexer_enrichment_failures_total", "target=\"external\"")
            .await
            >= 1.0
    );

    // The external calls: query parameters from the record (a literal, paths, a prefix),
    // the apiRequest filled from the record with the service token in place of the
    // config's, the state tenant header.
    let boundary = stub.calls_to("/boundary-service/boundary-relationships/_search");
    let c01_call = boundary
        .iter()
        .find(|c| c.param("codes") == Some("LOC1"))
        .expect("a boundary call for LOC1");
    assert_eq!(
        c01_call.query,
        [
            ("hierarchyTypeCode".to_owned(), "ADMIN".to_owned()),
            ("codes".to_owned(), "LOC1".to_owned()),
            ("tenantId".to_owned(), "pb.amritsar".to_owned()),
            ("ref".to_owned(), "C-C01".to_owned()),
        ]
    );
    assert_eq!(
        c01_call.body,
        json!({"RequestInfo": {"apiId": "indexer", "authToken": "service-token"},
            "tenant": "pb.amritsar", "fixed": 7})
    );
    assert_eq!(c01_call.headers["tenantid"], "pb");
    assert_eq!(c01_call.headers["authorization"], "Bearer service-token");
    let workflow = stub.calls_to("/egov-workflow-v2/egov-wf/process/_search");
    assert_eq!(workflow.len(), 23);
    assert!(workflow.iter().any(|c| c.query
        == [
            ("businessIds".to_owned(), "C05".to_owned()),
            ("history".to_owned(), "true".to_owned()),
            ("tenantId".to_owned(), "pb.amritsar".to_owned()),
        ]));

    // MDMS: one call per distinct filter (21 records of DEPT_1 → 1 call), body as upstream.
    let mdms = stub.calls_to("/mdms-v2/v1/_search");
    let mut filters: Vec<&str> = mdms
        .iter()
        .map(|c| {
            c.body["MdmsCriteria"]["moduleDetails"][0]["masterDetails"][0]["filter"]
                .as_str()
                .unwrap()
        })
        .collect();
    filters.sort_unstable();
    assert_eq!(
        filters,
        ["[?(@.code == 'DEPT_1')]", "[?(@.code == 'DEPT_2')]"],
        "MDMS answers are cached"
    );
    let dept1 = mdms
        .iter()
        .find(|c| c.body.to_string().contains("DEPT_1"))
        .unwrap();
    assert_eq!(
        dept1.body,
        json!({"RequestInfo": {}, "MdmsCriteria": {"tenantId": "pb", "moduleDetails": [
            {"moduleName": "common-masters", "masterDetails": [
                {"name": "Department", "filter": "[?(@.code == 'DEPT_1')]"}]}]}})
    );

    es.delete_indexes(&[&index]).await;
    indexer.stop().await;
}

/// Upstream's sample PGR document: the first document of CCRS's
/// `PgrIndexer.sample-documents.json` (`../shared/upstream/indexer/ccrs/`), kept as a fixture.
fn sample_data() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pgr-sample-document.json"),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["Data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_pgr_config_indexes_save_pgr_request_like_upstream() {
    let t = tag();
    let sample = sample_data();
    // The save-pgr-request message behind the sample: the sample's complaint with the
    // citizen's data in clear (the indexer masks it) and the department code the MDMS
    // lookup turns into the department's name.
    let mut message = json!({
        "RequestInfo": sample["RequestInfo"],
        "service": sample["service"],
        "workflow": sample["workflow"],
        "department": "DEPT_25",
    });
    for (field, clear) in [
        ("userName", "9812345678"),
        ("name", "Asha Devi"),
        ("mobileNumber", "9812345678"),
        ("emailId", "asha@example.com"),
    ] {
        message["service"]["citizen"][field] = json!(clear);
    }
    let ward = sample["ward"].clone();
    let history = sample["history"].clone();
    let mdms_calls = Arc::new(AtomicUsize::new(0));
    let counted = mdms_calls.clone();
    let stub = Stub::start(move |call| match call.path.as_str() {
        "/boundary-service/boundary-relationships/_search" => (
            200,
            json!({"TenantBoundary": [{"hierarchyType": {"code": "ADMIN"}, "boundary": [ward]}]}),
        ),
        "/egov-workflow-v2/egov-wf/process/_search" => {
            (200, json!({"ProcessInstances": history}))
        }
        "/mdms-v2/v1/_search" => {
            counted.fetch_add(1, Ordering::SeqCst);
            let module = &call.body["MdmsCriteria"]["moduleDetails"][0];
            let answer = match module["moduleName"].as_str().unwrap_or_default() {
                "common-masters" => {
                    json!({"common-masters": {"Department": [{"code": "DEPT_25", "name": "Street Lights"}]}})
                }
                "RAINMAKER-PGR" => {
                    json!({"RAINMAKER-PGR": {"ComplaintHierarchy": [{"code": "NoStreetlight", "slaHours": 336, "active": true}]}})
                }
                "tenant" => {
                    json!({"tenant": {"tenants": [{"code": "CHECKINGDSSWORKING", "name": "Checking DSS"}]}})
                }
                _ => json!({}),
            };
            (200, json!({"ResponseInfo": null, "MdmsRes": answer}))
        }
        other => (404, json!({"unexpected": other})),
    })
    .await;
    let config =
        std::fs::read_to_string(repo_root().join("configs/indexer/pgr-services.yml")).unwrap();
    let indexer = IndexerBuilder::new(&t)
        .config("pgr-services.yml", &rename_config(&config, &t))
        .env("INDEXER_HOST_REWRITE", &rewrite_to(&stub))
        .start()
        .await;
    let es = Es::default();
    let index = format!("pgr-services-{t}");
    produce(&producer(), &format!("save-pgr-request-{t}"), &[message]).await;

    assert_eq!(es.wait_for_count(&index, 1).await, 1, "{}", indexer.log());
    let doc = es
        .doc(&index, "PB-PGR-2024-10-03-000206")
        .await
        .expect("the complaint under its serviceRequestId");
    let data = doc["Data"].as_object().unwrap();

    // Field by field against upstream's document. `tenantData` is not in the sample (its
    // MDMS had no tenant master); ours holds what the stand-in answered. `department` is
    // the top-level code of the message, turned into the name by the MDMS lookup.
    for (field, expected) in sample.as_object().unwrap() {
        assert_eq!(data.get(field), Some(expected), "Data.{field}");
    }
    let mut extra: Vec<&str> = data
        .keys()
        .filter(|k| !sample.as_object().unwrap().contains_key(*k))
        .map(String::as_str)
        .collect();
    extra.sort_unstable();
    assert_eq!(extra, ["tenantData"]);
    assert_eq!(
        data["tenantData"],
        json!({"code": "CHECKINGDSSWORKING", "name": "Checking DSS"})
    );

    // Boundary lookup with the config's query; one MDMS call per master.
    let boundary = stub.calls_to("/boundary-service/boundary-relationships/_search");
    assert_eq!(boundary.len(), 1);
    assert_eq!(
        boundary[0].query,
        [
            ("hierarchyTypeCode".to_owned(), "ADMIN".to_owned()),
            ("boundaryType".to_owned(), "Locality".to_owned()),
            ("codes".to_owned(), "JLC476".to_owned()),
            ("tenantId".to_owned(), "CHECKINGDSSWORKING".to_owned()),
        ]
    );
    assert_eq!(mdms_calls.load(Ordering::SeqCst), 3);

    es.delete_indexes(&[&index]).await;
    indexer.stop().await;
}
