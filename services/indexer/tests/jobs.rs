//! The index-operations API (spec `upstream-platform.md` §3.3) against the running binary:
//!
//! - `_reindex` of 3,000 documents: pages onto a REINDEX topic (`isBulk`, `jsonPath: $.hits`)
//!   → the target index holds all 3,000, the job row reaches COMPLETED with
//!   `totalRecordsIndexed` 3,000, visible through `jobs/_search`;
//! - `_legacyindex` of 2,500 records served by a stand-in search API with offset/size paging;
//! - `_index` producing any JSON body (as upstream, no RequestInfo needed) to a configured
//!   topic, and the document indexed from there;
//! - every error code of `src/error.rs` through HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

const CONFIG: &str = r#"ServiceMaps:
  serviceName: indexer jobs test
  version: 1.0.0
  mappings:
    - topic: jobs-live-TAG
      configKey: INDEX
      indexes:
        - name: jobs-live-TAG
          type: general
          id: $.id
          jsonPath: $.Item
    - topic: jobs-reindex-TAG
      configKey: REINDEX
      indexes:
        - name: jobs-reindexed-TAG
          type: general
          id: $.id
          isBulk: true
          jsonPath: $.hits
    - topic: jobs-legacy-TAG
      configKey: LEGACYINDEX
      indexes:
        - name: jobs-legacy-TAG
          type: general
          id: $.id
          isBulk: true
          jsonPath: $.Records.*
"#;

fn error_code(answer: &Value) -> &str {
    answer["Errors"][0]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_copies_three_thousand_documents_and_completes_its_job() {
    let t = tag();
    let indexer = IndexerBuilder::new(&t)
        .config("jobs.yml", &CONFIG.replace("TAG", &t))
        .start()
        .await;
    let es = Es::default();
    let source = format!("jobs-source-{t}");
    let target = format!("jobs-reindexed-{t}");
    let docs: Vec<(String, Value)> = (0..3_000)
        .map(|i| {
            let id = format!("S{i:04}");
            let doc = json!({"id": id, "n": i, "tenantId": "pb.amritsar", "nested": {"even": i % 2 == 0}});
            (id, doc)
        })
        .collect();
    es.bulk_index(&source, &docs).await;
    assert_eq!(es.count(&source).await, 3_000);

    let (status, answer) = indexer
        .post(
            "/index-operations/_reindex",
            &json!({"RequestInfo": {"userInfo": {"uuid": "admin-1"}}, "index": source, "type": "general",
                "reindexTopic": format!("jobs-reindex-{t}"), "tenantId": "pb", "batchSize": 400}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["totalRecordsToBeIndexed"], json!(3_000));
    assert_eq!(
        answer["url"],
        json!(format!("{}/{target}/_search", es_url()))
    );
    assert!(
        answer.get("responseInfo").is_some(),
        "camelCase keys: {answer}"
    );
    let job_id = answer["jobId"].as_str().unwrap().to_owned();

    let job = wait_for_job(&indexer, &job_id).await;
    assert_eq!(job["jobStatus"], json!("COMPLETED"), "{job}");
    assert_eq!(job["typeOfJob"], json!("REINDEX"));
    assert_eq!(job["oldIndex"], json!(source));
    assert_eq!(job["newIndex"], json!(target));
    assert_eq!(job["topic"], json!(format!("jobs-reindex-{t}")));
    assert_eq!(job["tenantId"], json!("pb"));
    assert_eq!(job["createdBy"], json!("admin-1"));
    assert_eq!(job["recordsToBeIndexed"], json!(3_000));
    assert_eq!(job["totalRecordsIndexed"], json!(3_000));
    assert_eq!(job["reason"], Value::Null);

    assert_eq!(
        es.wait_for_count(&target, 3_000).await,
        3_000,
        "{}",
        indexer.log()
    );
    let copied = es.docs(&target).await;
    let original: BTreeMap<String, Value> = docs.into_iter().collect();
    assert_eq!(copied, original);

    // The job is found by tenant too.
    let (status, found) = indexer
        .post(
            "/index-operations/jobs/_search",
            &json!({"RequestInfo": {}, "tenantId": "pb", "limit": 10}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["IndexJobs"].as_array().unwrap().len(), 1);
    assert_eq!(found["IndexJobs"][0]["jobId"], json!(job_id));

    es.delete_indexes(&[&source, &target]).await;
    indexer.stop().await;
}

const LEGACY_RECORDS: usize = 2_500;
const LEGACY_PATH: &str = "/legacy-service/v1/records/_plainsearch";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_index_pages_through_a_search_api() {
    let t = tag();
    // A search API holding 2,500 records, paged by offset and limit.
    let stub = Stub::start(|call| {
        if call.path != LEGACY_PATH {
            return (404, json!({}));
        }
        let offset: usize = call.param("offset").unwrap().parse().unwrap();
        let limit: usize = call.param("limit").unwrap().parse().unwrap();
        let records: Vec<Value> = (offset..(offset + limit).min(LEGACY_RECORDS))
            .map(|i| json!({"id": format!("L{i:04}"), "n": i, "tenantId": call.param("tenantId")}))
            .collect();
        (200, json!({"ResponseInfo": null, "Records": records}))
    })
    .await;
    let indexer = IndexerBuilder::new(&t)
        .config("jobs.yml", &CONFIG.replace("TAG", &t))
        .env("EGOV_SERVICE_HOST", &format!("{}/", stub.url))
        .start()
        .await;
    let es = Es::default();
    let target = format!("jobs-legacy-{t}");

    let (status, answer) = indexer
        .post(
            "/index-operations/_legacyindex",
            &json!({"RequestInfo": {"userInfo": {"uuid": "admin-2"}},
                "apiDetails": {
                    "uri": LEGACY_PATH.trim_start_matches('/'),
                    "request": {"RequestInfo": {"apiId": "legacy-index"}},
                    "tenantIdForOpenSearch": "pb.amritsar",
                    "customQueryParam": "status=ACTIVE",
                    "paginationDetails": {"offsetKey": "offset", "sizeKey": "limit", "maxPageSize": 300, "startingOffset": 0},
                    "responseJsonPath": "$.Records"
                },
                "legacyIndexTopic": format!("jobs-legacy-{t}"),
                "tenantId": "pb"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["url"],
        json!(format!("{}/{target}/_search", es_url()))
    );
    let job = wait_for_job(&indexer, answer["jobId"].as_str().unwrap()).await;
    assert_eq!(job["jobStatus"], json!("COMPLETED"), "{job}");
    assert_eq!(job["typeOfJob"], json!("LEGACY_INDEX"));
    assert_eq!(job["totalRecordsIndexed"], json!(2_500));
    assert_eq!(job["newIndex"], json!(target));

    let total = u64::try_from(LEGACY_RECORDS).unwrap();
    assert_eq!(
        es.wait_for_count(&target, total).await,
        total,
        "{}",
        indexer.log()
    );
    let docs = es.docs(&target).await;
    assert_eq!(
        docs["L1234"],
        json!({"id": "L1234", "n": 1234, "tenantId": "pb.amritsar"})
    );

    // Nine pages: 8 × 300 and a last one of 100, which ends the job.
    let calls = stub.calls_to(LEGACY_PATH);
    let offsets: Vec<&str> = calls.iter().map(|c| c.param("offset").unwrap()).collect();
    assert_eq!(
        offsets,
        ["0", "300", "600", "900", "1200", "1500", "1800", "2100", "2400"]
    );
    assert_eq!(
        calls[1].query,
        [
            ("tenantId".to_owned(), "pb.amritsar".to_owned()),
            ("offset".to_owned(), "300".to_owned()),
            ("limit".to_owned(), "300".to_owned()),
            ("status".to_owned(), "ACTIVE".to_owned()),
        ]
    );
    assert_eq!(
        calls[0].body,
        json!({"RequestInfo": {"apiId": "legacy-index"}})
    );

    es.delete_indexes(&[&target]).await;
    indexer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_api_produces_to_the_topic_and_errors_have_their_codes() {
    let t = tag();
    let indexer = IndexerBuilder::new(&t)
        .config("jobs.yml", &CONFIG.replace("TAG", &t))
        .start()
        .await;
    let es = Es::default();
    let live = format!("jobs-live-{t}");

    // _index: the body onto the topic, echoed; the INDEX consumer indexes it.
    let body =
        json!({"RequestInfo": {"apiId": "indexer-api"}, "Item": {"id": "I1", "status": "ACTIVE"}});
    let (status, answer) = indexer
        .post(&format!("/index-operations/{live}/_index"), &body)
        .await;
    assert_eq!((status, &answer), (200, &body));
    assert_eq!(es.wait_for_count(&live, 1).await, 1, "{}", indexer.log());
    assert_eq!(
        es.doc(&live, "I1").await,
        Some(json!({"id": "I1", "status": "ACTIVE"}))
    );
    // Upstream takes any JSON here (`@RequestBody Object`): no RequestInfo needed.
    let bare = json!({"Item": {"id": "I2", "status": "INACTIVE"}});
    let (status, answer) = indexer
        .post(&format!("/index-operations/{live}/_index"), &bare)
        .await;
    assert_eq!((status, &answer), (200, &bare));
    assert_eq!(es.wait_for_count(&live, 2).await, 2, "{}", indexer.log());
    assert_eq!(
        es.doc(&live, "I2").await,
        Some(json!({"id": "I2", "status": "INACTIVE"}))
    );

    // A body that is not JSON is answered in the DIGIT error shape.
    let path = format!("/index-operations/{live}/_index");
    let (status, answer) = indexer
        .post_raw(&path, "application/json", "{\"Item\": ")
        .await;
    assert_eq!((status, error_code(&answer)), (400, "JsonParseException"));
    let (status, answer) = indexer.post_raw(&path, "text/plain", "{}").await;
    assert_eq!((status, error_code(&answer)), (400, "UnsupportedMediaType"));

    // INDEXER_TOPIC_NOT_CONFIGURED
    let (status, answer) = indexer
        .post(&format!("/index-operations/unmapped-{t}/_index"), &body)
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "INDEXER_TOPIC_NOT_CONFIGURED")
    );
    assert_eq!(answer["ResponseInfo"], Value::Null);

    // INDEXER_JOB_TOPIC_NOT_CONFIGURED: an INDEX topic is no REINDEX / LEGACYINDEX topic.
    let (status, answer) = indexer
        .post(
            "/index-operations/_reindex",
            &json!({"RequestInfo": {}, "index": live, "reindexTopic": live}),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "INDEXER_JOB_TOPIC_NOT_CONFIGURED")
    );
    let legacy = json!({"RequestInfo": {}, "legacyIndexTopic": format!("jobs-reindex-{t}"),
        "apiDetails": {"uri": "http://127.0.0.1:1/x", "responseJsonPath": "$.Records"}});
    let (status, answer) = indexer
        .post("/index-operations/_legacyindex", &legacy)
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "INDEXER_JOB_TOPIC_NOT_CONFIGURED")
    );

    // INDEXER_INVALID_REQUEST: missing fields, a page above the maximum, a bad limit, a
    // body of the wrong shape.
    let reindex_topic = format!("jobs-reindex-{t}");
    for request in [
        json!({"RequestInfo": {}, "reindexTopic": reindex_topic}),
        json!({"RequestInfo": {}, "index": live}),
        json!({"RequestInfo": {}, "index": live, "reindexTopic": reindex_topic, "batchSize": 20_000}),
        json!({"RequestInfo": {}, "index": live, "reindexTopic": reindex_topic, "batchSize": "many"}),
    ] {
        let (status, answer) = indexer.post("/index-operations/_reindex", &request).await;
        assert_eq!(
            (status, error_code(&answer)),
            (400, "INDEXER_INVALID_REQUEST"),
            "{request} → {answer}"
        );
    }
    for request in [
        json!({"RequestInfo": {}, "legacyIndexTopic": format!("jobs-legacy-{t}")}),
        json!({"RequestInfo": {}, "legacyIndexTopic": format!("jobs-legacy-{t}"),
            "apiDetails": {"uri": "http://127.0.0.1:1/x", "responseJsonPath": "$.[unclosed"}}),
    ] {
        let (status, answer) = indexer
            .post("/index-operations/_legacyindex", &request)
            .await;
        assert_eq!(
            (status, error_code(&answer)),
            (400, "INDEXER_INVALID_REQUEST"),
            "{request} → {answer}"
        );
    }
    let (status, answer) = indexer
        .post(
            "/index-operations/jobs/_search",
            &json!({"RequestInfo": {}, "limit": 0}),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, "INDEXER_INVALID_REQUEST")
    );

    // INDEXER_ES_UNAVAILABLE: an indexer whose Elasticsearch is a closed port.
    // INDEXER_KAFKA_UNAVAILABLE: a configured topic the broker refuses to take messages
    // for (its name is not a legal topic name, so the refusal is immediate rather than
    // the producer's 30 s timeout for a missing topic).
    let t2 = tag();
    let bad_topic = format!("jobs-bad!topic-{t2}");
    let refused = format!(
        "ServiceMaps:\n  serviceName: refused topic\n  version: 1.0.0\n  mappings:\n    - topic: {bad_topic}\n      configKey: INDEX\n      indexes:\n        - name: jobs-refused-{t2}\n          id: $.id\n"
    );
    let blind = IndexerBuilder::new(&t2)
        .config("jobs.yml", &CONFIG.replace("TAG", &t2))
        .config("refused.yml", &refused)
        .env(
            "ELASTICSEARCH_URL",
            &format!("http://127.0.0.1:{}", free_port()),
        )
        .env("INDEXER_TEMPLATES_PATH", "")
        .start()
        .await;
    let (status, answer) = blind
        .post(
            "/index-operations/_reindex",
            &json!({"RequestInfo": {}, "index": format!("jobs-source-{t2}"),
                "reindexTopic": format!("jobs-reindex-{t2}")}),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (503, "INDEXER_ES_UNAVAILABLE"),
        "{answer}"
    );
    let (status, answer) = blind
        .post(
            &format!("/index-operations/{bad_topic}/_index"),
            &json!({"RequestInfo": {}, "id": "K1"}),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (503, "INDEXER_KAFKA_UNAVAILABLE"),
        "{answer}"
    );
    blind.stop().await;

    // INDEXER_DATABASE_ERROR: the job table is gone.
    sqlx::query("DROP TABLE eg_indexer_job")
        .execute(indexer.pool())
        .await
        .unwrap();
    let (status, answer) = indexer
        .post(
            "/index-operations/jobs/_search",
            &json!({"RequestInfo": {}}),
        )
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (500, "INDEXER_DATABASE_ERROR")
    );
    assert!(
        !answer.to_string().contains("eg_indexer_job"),
        "no SQL details in the answer: {answer}"
    );

    es.delete_indexes(&[&live]).await;
    indexer.stop().await;
}
