//! Records Elasticsearch refuses for good go to the dead-letter topic
//! (`INDEXER_DEADLETTER_TOPIC`) in upstream's ErrorQueueContract shape while every other
//! record of the same batch is indexed; so do messages that are not JSON and messages whose
//! `isBulk` selection is not an array.
//!
//! The refusal is a mapping conflict the index template of this test sets up: `Item.details`
//! is mapped as an object and a record carries a string there. Like the shipped templates,
//! this one sets `index.mapping.ignore_malformed`, which covers a malformed number (that
//! record is indexed, the bad value ignored) but not a concrete value where an object is
//! mapped: Elasticsearch answers that item 400 `mapper_parsing_exception`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use serde_json::{json, Value};

const CONFIG: &str = r#"ServiceMaps:
  serviceName: indexer poison test
  version: 1.0.0
  mappings:
    - topic: poison-TAG
      configKey: INDEX
      indexes:
        - name: poison-TAG
          type: general
          id: $.Item.id
          jsonPath: $
    - topic: poison-bulk-TAG
      configKey: INDEX
      indexes:
        - name: poison-TAG-bulk
          type: general
          id: $.id
          isBulk: true
          jsonPath: $.Items
"#;

fn template(t: &str) -> Value {
    json!({
        "index_patterns": [format!("poison-{t}*")],
        "priority": 900,
        "template": {
            "settings": {"index.mapping.ignore_malformed": true},
            "mappings": {"properties": {
                "details": {"type": "object", "properties": {"note": {"type": "keyword"}}},
                "amount": {"type": "long"},
                "Item": {"properties": {
                    "details": {"type": "object", "properties": {"note": {"type": "keyword"}}},
                    "amount": {"type": "long"}
                }}
            }}
        }
    })
}

fn by_source<'a>(dead: &'a [Record], source: &str) -> Vec<&'a Value> {
    dead.iter()
        .map(|r| &r.value)
        .filter(|v| v["source"] == json!(source))
        .collect()
}

fn good(id: &str) -> Value {
    json!({"RequestInfo": {}, "Item": {"id": id, "details": {"note": "fine"}, "amount": 5}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_are_dead_lettered_and_the_rest_of_the_batch_indexed() {
    let t = tag();
    let topic = format!("poison-{t}");
    let bulk_topic = format!("poison-bulk-{t}");
    let index = format!("poison-{t}");
    let bulk_index = format!("poison-{t}-bulk");

    // Everything is on the topics before the indexer starts, so its first poll takes the
    // whole topic as one batch.
    create_topics(&[&topic, &bulk_topic]).await;
    let p = producer();
    let conflict = json!({"RequestInfo": {}, "Item": {"id": "P06", "details": "a string where an object is mapped", "amount": 5}});
    let malformed_number = json!({"RequestInfo": {}, "Item": {"id": "P07", "details": {"note": "fine"}, "amount": "not a number"}});
    let not_json = b"{\"Item\": {\"id\": \"P99\"".to_vec();
    let mut payloads: Vec<Vec<u8>> = ["P01", "P02", "P03", "P04", "P05"]
        .iter()
        .map(|id| serde_json::to_vec(&good(id)).unwrap())
        .collect();
    payloads.push(serde_json::to_vec(&conflict).unwrap());
    payloads.push(serde_json::to_vec(&malformed_number).unwrap());
    payloads.push(not_json.clone());
    payloads.extend(
        ["P08", "P09", "P10"]
            .iter()
            .map(|id| serde_json::to_vec(&good(id)).unwrap()),
    );
    produce_raw(&p, &topic, &payloads).await;
    let mixed_bulk = json!({"Items": [
        {"id": "B1", "details": {"note": "fine"}},
        {"id": "B2", "details": "refused"},
        {"id": "B3", "details": {"note": "fine"}}
    ]});
    let not_an_array = json!({"Items": {"id": "B9"}});
    produce(&p, &bulk_topic, &[not_an_array.clone(), mixed_bulk.clone()]).await;

    let indexer = IndexerBuilder::new(&t)
        .config("poison.yml", &CONFIG.replace("TAG", &t))
        .templates(vec![(format!("poison-{t}"), template(&t))])
        .start()
        .await;
    let es = Es::default();

    let dead = read_topic(&indexer.deadletter_topic, 4).await;
    assert_eq!(
        dead.len(),
        4,
        "dead letters: {dead:?}\nlog:\n{}",
        indexer.log()
    );

    // Every other record is indexed, the malformed number included.
    assert_eq!(es.wait_for_count(&index, 9).await, 9);
    let ids: Vec<String> = es.docs(&index).await.into_keys().collect();
    assert_eq!(
        ids,
        ["P01", "P02", "P03", "P04", "P05", "P07", "P08", "P09", "P10"]
    );
    assert_eq!(
        es.doc(&index, "P07").await.unwrap()["Item"]["amount"],
        json!("not a number"),
        "kept in _source, ignored by the mapping"
    );
    assert_eq!(es.wait_for_count(&bulk_index, 2).await, 2);
    let bulk_ids: Vec<String> = es.docs(&bulk_index).await.into_keys().collect();
    assert_eq!(bulk_ids, ["B1", "B3"]);

    // The dead letters, in the ErrorQueueContract shape.
    let main = by_source(&dead, &topic);
    assert_eq!(main.len(), 2, "{main:?}");
    let refused = main.iter().find(|v| v["body"] == conflict).expect("P06");
    let reason = refused["message"].as_str().unwrap();
    assert!(
        reason.contains(&format!("index {index} id P06"))
            && reason.contains("mapper_parsing_exception"),
        "{reason}"
    );
    let unreadable = main
        .iter()
        .find(|v| v["body"] == json!(String::from_utf8(not_json.clone()).unwrap()))
        .expect("the message that is not JSON, as a string");
    assert!(
        unreadable["message"]
            .as_str()
            .unwrap()
            .starts_with("not JSON"),
        "{unreadable}"
    );
    for contract in dead.iter().map(|r| &r.value) {
        assert!(uuid::Uuid::parse_str(contract["id"].as_str().unwrap()).is_ok());
        assert!(contract["ts"].as_i64().unwrap() > 1_600_000_000_000);
        assert_eq!(contract["errorRes"], Value::Null);
        assert_eq!(contract["exception"][0]["className"], json!("indexer"));
        let keys: Vec<&str> = contract
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys.len(),
            8,
            "id, source, body, ts, errorRes, exception, message, correlationId: {keys:?}"
        );
        assert!(contract.get("correlationId").is_some());
    }

    let bulk = by_source(&dead, &bulk_topic);
    assert_eq!(bulk.len(), 2, "{bulk:?}");
    let selection = bulk.iter().find(|v| v["body"] == not_an_array).unwrap();
    assert!(
        selection["message"]
            .as_str()
            .unwrap()
            .contains("does not select an array"),
        "{selection}"
    );
    let partly = bulk.iter().find(|v| v["body"] == mixed_bulk).unwrap();
    let reason = partly["message"].as_str().unwrap();
    assert!(
        reason.contains(&format!("index {bulk_index} id B2")) && !reason.contains("id B1"),
        "{reason}"
    );

    let dead_lettered = |topic: &str| format!("topic=\"{topic}\"");
    assert_eq!(
        indexer
            .metric("indexer_dead_lettered_total", &dead_lettered(&topic))
            .await,
        2.0
    );
    assert_eq!(
        indexer
            .metric("indexer_dead_lettered_total", &dead_lettered(&bulk_topic))
            .await,
        2.0
    );

    // One batch per topic: the refused records shared their bulk with the good ones.
    assert_eq!(indexer.metric("indexer_batch_seconds_count", "").await, 2.0);
    es.delete_indexes(&[&index, &bulk_index]).await;
    es.delete_template(&format!("poison-{t}")).await;
    indexer.stop().await;
}
