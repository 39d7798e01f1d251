#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use std::path::Path;

use serde_json::{json, Value};

use super::config::{message_version, ConfigKey, IndexerConfig};
use super::transform::{self, MASK};

fn config(yaml: &str) -> IndexerConfig {
    IndexerConfig::from_sources([(Path::new("test.yml"), yaml)]).unwrap()
}

const PGR: &str = include_str!("../../../../configs/indexer/pgr-services.yml");
const PI: &str = include_str!("../../../../configs/indexer/ifms-pi-indexer.yml");
const SAMPLES: &str = include_str!("../../tests/data/PgrIndexer.sample-documents.json");

#[test]
fn shipped_upstream_configs_load_with_their_keys_and_versions() {
    let c = config(PGR);
    assert_eq!(c.key_of("save-pgr-request"), Some(ConfigKey::Index));
    assert_eq!(
        c.key_of("pgr-services-legacyIndex"),
        Some(ConfigKey::LegacyIndex)
    );
    assert_eq!(c.key_of("pgr-service-reindex"), Some(ConfigKey::Reindex));
    assert!(c.mapping("1.0.0", "save-pgr-request").is_some());
    assert!(c.mapping("2.0.0", "save-pgr-request").is_none());
    let index = &c.mapping("1.0.0", "save-pgr-request").unwrap().indexes[0];
    assert_eq!(index.name, "pgr-services");
    let custom = index.custom.as_ref().unwrap();
    assert_eq!((custom.external.len(), custom.mdms.len()), (2, 3));
    let pi = config(PI);
    let index = &pi.mapping("1.0.0", "ifms-pi-index-enrich").unwrap().indexes[0];
    assert_eq!(index.id.len(), 2, "`$.id, $.tenantId` is two paths");
}

#[test]
fn invalid_configs_name_the_file_and_mapping() {
    let bad = "ServiceMaps:\n  version: 1.0.0\n  mappings:\n    - topic: t1\n      indexes:\n        - name: i1\n          id: $.[[\n";
    let err = IndexerConfig::from_sources([(Path::new("bad.yml"), bad)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.yml") && err.contains("topic t1") && err.contains("id"),
        "{err}"
    );
    let no_template = "ServiceMaps:\n  mappings:\n    - topic: t1\n      indexes:\n        - name: i1\n          customJsonMapping:\n            fieldMapping: []\n";
    let err = IndexerConfig::from_sources([(Path::new("c.yml"), no_template)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("indexMapping"), "{err}");
    let bad_key = "ServiceMaps:\n  mappings:\n    - topic: t1\n      configKey: SOMETIMES\n      indexes:\n        - name: i1\n";
    assert!(IndexerConfig::from_sources([(Path::new("k.yml"), bad_key)]).is_err());
    let bad_version = "ServiceMaps:\n  version: one\n  mappings: []\n";
    assert!(IndexerConfig::from_sources([(Path::new("v.yml"), bad_version)]).is_err());
    assert!(IndexerConfig::from_sources([(Path::new("y.yml"), ":::")]).is_err());
}

#[test]
fn version_selection_follows_request_info_ver() {
    assert_eq!(
        message_version(&json!({"RequestInfo": {"ver": "2.0.0"}})),
        "2.0.0"
    );
    assert_eq!(
        message_version(&json!({"RequestInfo": {"ver": "1.0"}})),
        "1.0.0"
    );
    assert_eq!(
        message_version(&json!({"RequestInfo": {"ver": ".01"}})),
        "1.0.0"
    );
    assert_eq!(
        message_version(&json!({"RequestInfo": {"ver": 2}})),
        "1.0.0"
    );
    assert_eq!(message_version(&json!({})), "1.0.0");
    let two = "ServiceMaps:\n  version: 2.0.0\n  mappings:\n    - topic: t\n      indexes:\n        - name: v2\n";
    let one = "ServiceMaps:\n  version: 1.0.0\n  mappings:\n    - topic: t\n      indexes:\n        - name: v1\n    - topic: t\n      indexes:\n        - name: v1-second\n";
    let c = IndexerConfig::from_sources([(Path::new("a.yml"), one), (Path::new("b.yml"), two)])
        .unwrap();
    assert_eq!(c.mapping("2.0.0", "t").unwrap().indexes[0].name, "v2");
    assert_eq!(
        c.mapping("1.0.0", "t").unwrap().indexes[0].name,
        "v1",
        "first match wins"
    );
}

fn first_index<'a>(c: &'a IndexerConfig, topic: &str) -> &'a super::config::Index {
    &c.mapping("1.0.0", topic).unwrap().indexes[0]
}

#[test]
fn masking_timestamp_and_ids() {
    let yaml = r#"ServiceMaps:
  version: 1.0.0
  mappings:
    - topic: t
      indexes:
        - name: i
          id: $.id, $.tenantId
          jsonPath: $.items
          isBulk: true
          timeStampField: $.audit.ts
          fieldsToBeMasked: ["$.citizen.mobileNumber", "$.citizen.emailId", "$.nowhere.x"]
"#;
    let c = config(yaml);
    let index = first_index(&c, "t");
    let msg = json!({"items": [
        {"id": "a", "tenantId": "pg.citya", "audit": {"ts": 1727931561688_i64}, "citizen": {"mobileNumber": "9999999999"}},
        {"id": 7, "tenantId": "pg.citya", "audit": {"ts": "1727931561688"}},
        null,
        {"tenantId": "pg.citya", "audit": {"ts": 1.727931561688e12}}
    ]});
    let records = transform::records(index, &msg).unwrap();
    assert_eq!(records.len(), 3, "null records are skipped");
    let first = transform::prepare(index, records[0].clone(), chrono_tz::UTC);
    assert_eq!(first.id.as_deref(), Some("apg.citya"));
    assert_eq!(first.record["citizen"]["mobileNumber"], MASK);
    assert_eq!(
        first.record["citizen"]["emailId"], MASK,
        "put adds the key to an existing parent"
    );
    assert!(first.record.get("nowhere").is_none());
    assert_eq!(first.record["@timestamp"], "2024-10-03T04:59:21.688Z");
    let kolkata = transform::prepare(index, records[0].clone(), chrono_tz::Asia::Kolkata);
    assert_eq!(
        kolkata.record["@timestamp"], "2024-10-03T10:29:21.688Z",
        "zone applied, literal Z as upstream"
    );
    let second = transform::prepare(index, records[1].clone(), chrono_tz::UTC);
    assert_eq!(second.id, None, "a non-string id part makes no id");
    assert!(
        second.record.get("@timestamp").is_none(),
        "a string epoch gives no timestamp"
    );
    let third = transform::prepare(index, records[2].clone(), chrono_tz::UTC);
    assert_eq!(third.id, None, "a missing id part makes no id");
    assert_eq!(
        third.record["@timestamp"], "2024-10-03T04:59:21.688Z",
        "scientific epoch accepted"
    );
    let not_array = transform::records(index, &json!({"items": {"id": "x"}})).unwrap_err();
    assert!(not_array.to_string().contains("does not select an array"));
}

#[test]
fn filters_query_parameters_and_requests() {
    let yaml = r#"ServiceMaps:
  version: 1.0.0
  mappings:
    - topic: t
      indexes:
        - name: i
          id: $.id
          customJsonMapping:
            indexMapping: {"Data":{"ward":{}, "dept":"dept", "names":[]}}
            fieldMapping:
              - inJsonPath: $.id
                outJsonPath: $.Data.id
              - inJsonPath: $.missing
                outJsonPath: $.Data.dept
            externalUriMapping:
              - path: http://svc.egov:8080/x/$/_search
                pathParam: $.tenantId
                queryParam: codes=$.codes,tenantId=$.tenantId,prefixed=pre-+$.id,fixed=ADMIN,absent=$.nothing
                apiRequest: {"RequestInfo": {"authToken": "t"}, "ids": "$.id"}
                uriResponseMapping:
                  - inJsonPath: $.TenantBoundary[0].boundary[0]
                    outJsonPath: $.Data.ward
                  - inJsonPath: $.absent
                    outJsonPath: $.Data.dept
            mdmsMapping:
              - path: ""
                moduleName: common-masters
                masterName: Department
                tenantId: pg
                filter: "[?(@.code IN [$codes])]"
                filterMapping:
                  - variable: $codes
                    valueJsonpath: $.codes
                uriResponseMapping:
                  - inJsonPath: $.MdmsRes.common-masters.Department.*.name
                    outJsonPath: $.Data.names
"#;
    let c = config(yaml);
    let index = first_index(&c, "t");
    let custom = index.custom.as_ref().unwrap();
    let record = json!({"id": "C1", "tenantId": "pg.citya", "codes": ["A", "B"]});
    let mut doc = transform::base_document(custom, &record);
    assert_eq!(
        doc,
        json!({"Data": {"ward": {}, "dept": "dept", "names": [], "id": "C1"}})
    );
    let call = transform::external_call(&custom.external[0], &record).unwrap();
    assert_eq!(call.url, "http://svc.egov:8080/x/pg.citya/_search");
    let q: Vec<(&str, &str)> = call
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        q,
        [
            ("codes", "A,B"),
            ("tenantId", "pg.citya"),
            ("prefixed", "pre-C1"),
            ("fixed", "ADMIN"),
            ("absent", "$.nothing")
        ]
    );
    assert_eq!(
        call.body,
        json!({"RequestInfo": {"authToken": "t"}, "ids": "C1"})
    );
    let answer = json!({"TenantBoundary": [{"boundary": [{"code": "B1", "name": "Block 1"}]}]});
    transform::apply_response(
        &mut doc,
        &custom.external[0].response,
        &answer,
        &record,
        false,
    );
    assert_eq!(doc["Data"]["ward"]["name"], "Block 1");
    assert_eq!(
        doc["Data"]["dept"],
        Value::Null,
        "a missing answer path puts null"
    );
    let mdms = transform::mdms_call(&custom.mdms[0], &record).unwrap();
    assert_eq!(
        mdms.filter.as_deref(),
        Some(r#"[?(@.code IN ['"A","B"'])]"#),
        "list brackets stripped, as upstream"
    );
    assert_eq!(
        mdms.body()["MdmsCriteria"]["moduleDetails"][0]["masterDetails"][0]["name"],
        "Department"
    );
    let one =
        json!({"MdmsRes": {"common-masters": {"Department": [{"code": "A", "name": "Streets"}]}}});
    transform::apply_response(&mut doc, &custom.mdms[0].response, &one, &record, true);
    assert_eq!(
        doc["Data"]["names"], "Streets",
        "one-element MDMS lists are unwrapped"
    );
    assert!(
        transform::mdms_call(&custom.mdms[0], &json!({"id": "x"})).is_none(),
        "missing filter value skips the call"
    );
}

/// Upstream's own sample documents (default-data-handler's PgrIndexer.json, what the indexer
/// wrote in a CCRS deployment): the shipped PGR config applied to the `save-pgr-request`
/// message behind each, with the boundary, workflow and MDMS answers that document carries,
/// gives the same document field by field. Ours has one key more: `tenantData`, which the
/// current config maps and the older deployment that wrote the samples did not. Only the first
/// sample is untouched indexer output: the other 33 are copies whose `@timestamp` was moved
/// by hand to spread them over months (their `lastModifiedTime` was not), so their
/// `@timestamp` is not compared.
#[test]
fn pgr_documents_match_upstream_samples_field_by_field() {
    let samples: Value = serde_json::from_str(SAMPLES).unwrap();
    let c = config(PGR);
    let index = &c.mapping("1.0.0", "save-pgr-request").unwrap().indexes[0];
    let custom = index.custom.as_ref().unwrap();
    let mut compared = 0;
    for (n, sample) in samples["PGR"].as_array().unwrap().iter().enumerate() {
        let data = &sample["Data"];
        let mut service = data["service"].clone();
        // Unmasked values in, so masking is exercised.
        service["citizen"]["mobileNumber"] = json!("9876543210");
        service["citizen"]["name"] = json!("Citizen Name");
        service["citizen"]["userName"] = json!("9876543210");
        service["citizen"]["emailId"] = Value::Null;
        let message = json!({"RequestInfo": data["RequestInfo"], "service": service, "workflow": data["workflow"]});
        let records = transform::records(index, &message).unwrap();
        let prepared = transform::prepare(index, records[0].clone(), chrono_tz::UTC);
        assert_eq!(
            prepared.id.as_deref(),
            data["service"]["serviceRequestId"].as_str()
        );
        let record = &prepared.record;
        let mut doc = transform::base_document(custom, record);
        let boundary = json!({"TenantBoundary": [{"boundary": [data["ward"]]}]});
        transform::apply_response(
            &mut doc,
            &custom.external[0].response,
            &boundary,
            record,
            false,
        );
        let workflow = json!({"ProcessInstances": data["history"]});
        transform::apply_response(
            &mut doc,
            &custom.external[1].response,
            &workflow,
            record,
            false,
        );
        let department = json!({"MdmsRes": {"common-masters": {"Department": [{"code": "X", "name": data["department"]}]}}});
        transform::apply_response(
            &mut doc,
            &custom.mdms[0].response,
            &department,
            record,
            true,
        );
        let hierarchy = json!({"MdmsRes": {"RAINMAKER-PGR": {"ComplaintHierarchy": [{"slaHours": data["slaHours"]}]}}});
        transform::apply_response(&mut doc, &custom.mdms[1].response, &hierarchy, record, true);
        let tenants =
            json!({"MdmsRes": {"tenant": {"tenants": [{"code": data["service"]["tenantId"]}]}}});
        transform::apply_response(&mut doc, &custom.mdms[2].response, &tenants, record, true);
        let ours = doc["Data"].as_object().unwrap();
        for (key, expected) in data.as_object().unwrap() {
            if n > 0 && key == "@timestamp" {
                continue;
            }
            assert_eq!(
                ours.get(key),
                Some(expected),
                "{} field {key}",
                data["service"]["serviceRequestId"]
            );
        }
        let extra: Vec<&String> = ours
            .keys()
            .filter(|k| !data.as_object().unwrap().contains_key(*k))
            .collect();
        assert_eq!(extra, ["tenantData"]);
        compared += 1;
    }
    assert_eq!(compared, 34);
}
