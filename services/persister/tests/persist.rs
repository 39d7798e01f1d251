//! The persister end to end on the real broker and Postgres, with the shipped configs:
//! every path and type rule, version filtering, the workflow config, poison messages in
//! single and batch mode, the commit signal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn parent(id: &str, ver: Option<&str>) -> Value {
    // Built from text: a Rust float literal would pass through f64 and lose digits.
    let exact: Value =
        serde_json::from_str(r#"{"amount": 1234.50, "lat": 12.971598765432101}"#).unwrap();
    let mut v = json!({
        "RequestInfo": {"apiId": "Rainmaker", "ver": ver},
        "Parent": {
            "id": id, "tenantId": "pg.citya", "name": "Parent one", "count": 3, "amount": 1234.50, "ratio": 0.25,
            "active": true, "details": {"a": [1, null], "b": "x"}, "nothing": null, "startDate": "31/01/2026",
            "epochMs": 1767225600000_i64,
            "auditDetails": {"createdBy": "u1", "lastModifiedBy": "u2", "createdTime": 1, "lastModifiedTime": 2},
            "address": {"city": "Alpha", "geo": {"lat": 12.971598765432101}},
            "children": [
                {"id": format!("{id}-c1"), "code": "A", "roles": ["GRO", "CSR"], "meta": {"k": 1}, "info": {"x": 7, "note": "n1"},
                 "items": [{"id": format!("{id}-i1"), "qty": 2}, {"id": format!("{id}-i2"), "qty": 5}]},
                {"id": format!("{id}-c2"), "code": "B", "roles": [], "meta": null, "info": null,
                 "items": [{"id": format!("{id}-i3"), "qty": 1}]}
            ]
        }
    });
    v["Parent"]["amount"] = exact["amount"].clone();
    v["Parent"]["address"]["geo"]["lat"] = exact["lat"].clone();
    v
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[tokio::test]
async fn shipped_test_config_persists_every_rule() {
    let db = database().await;
    let t = tag();
    let (_, config) = shipped_config("test-persister.yml", &t);
    let save = format!("persister-test-save-{t}");
    let update = format!("persister-test-update-{t}");
    create_topics(&[&save, &update]).await;
    let w = writer(config, db.pool().clone(), settings(&t));
    let producer = w.producer.clone();
    let (shutdown, handle) = spawn(w);

    publish_raw(
        &producer,
        &save,
        &[
            bytes(&parent("p1", None)),
            bytes(&parent("p2", Some("2.1.0"))),
        ],
    )
    .await;
    let pool = db.pool();
    assert_eq!(
        wait_for_count(pool, "SELECT count(*) FROM persister_test_version", 4, WAIT).await,
        4
    );

    let row = sqlx::query(
        "SELECT tenant_id, name, item_count, amount::text AS amount, ratio, active, details_text, details::text AS details,
                jsonb_typeof(nothing_jsonb) AS nothing_kind, nothing_text, start_date::text AS start_date, epoch_ms,
                epoch_day::text AS epoch_day, persisted_at IS NOT NULL AS has_persisted_at, persisted_ms, unused,
                last_modified_by, created_by, created_time, last_modified_time
         FROM persister_test_parent WHERE id = 'p1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("tenant_id"), "pg.citya");
    assert_eq!(row.get::<i32, _>("item_count"), 3);
    assert_eq!(
        row.get::<String, _>("amount"),
        "1234.50",
        "exact decimal, scale kept"
    );
    assert_eq!(row.get::<f64, _>("ratio"), 0.25);
    assert!(row.get::<bool, _>("active"));
    assert_eq!(
        row.get::<String, _>("details_text"),
        r#"{"a":[1,null],"b":"x"}"#
    );
    assert_eq!(
        row.get::<String, _>("details"),
        r#"{"a": [1, null], "b": "x"}"#
    );
    assert_eq!(
        row.get::<String, _>("nothing_kind"),
        "null",
        "JSON null → jsonb 'null', not SQL NULL"
    );
    assert_eq!(row.get::<Option<String>, _>("nothing_text"), None);
    assert_eq!(row.get::<String, _>("start_date"), "2026-01-31 00:00:00");
    assert_eq!(row.get::<i64, _>("epoch_ms"), 1_767_225_600_000);
    assert_eq!(row.get::<String, _>("epoch_day"), "2026-01-01");
    assert!(row.get::<bool, _>("has_persisted_at"));
    assert!(row.get::<i64, _>("persisted_ms") > 1_700_000_000_000);
    assert_eq!(row.get::<Option<String>, _>("unused"), None);
    assert_eq!(row.get::<String, _>("last_modified_by"), "u2");
    assert_eq!(row.get::<String, _>("created_by"), "u1");
    assert_eq!(
        (
            row.get::<i64, _>("created_time"),
            row.get::<i64, _>("last_modified_time")
        ),
        (1, 2)
    );

    let lat: String =
        sqlx::query_scalar("SELECT lat::text FROM persister_test_address WHERE parent_id = 'p1'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(lat, "12.971598765432101");

    type ChildRow = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let children: Vec<ChildRow> = sqlx::query_as(
        "SELECT id, roles, meta::text, info_note, missing FROM persister_test_child WHERE parent_id = 'p1' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        children,
        vec![
            (
                "p1-c1".into(),
                Some("GRO,CSR".into()),
                Some(r#"{"k": 1}"#.into()),
                Some("n1".into()),
                None
            ),
            ("p1-c2".into(), None, Some("null".into()), None, None),
        ]
    );
    let infos: Vec<(String, i32)> = sqlx::query_as(
        "SELECT child_id, x FROM persister_test_child_info WHERE child_id LIKE 'p1-%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        infos,
        vec![("p1-c1".into(), 7)],
        "a null optional child gives no row"
    );
    let items: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT id, child_id, qty FROM persister_test_item WHERE id LIKE 'p1-%' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        items,
        vec![
            ("p1-i1".into(), "p1-c1".into(), 2),
            ("p1-i2".into(), "p1-c1".into(), 5),
            ("p1-i3".into(), "p1-c2".into(), 1)
        ]
    );

    // Version filtering: default 1.0.0 for p1; 2.1.0 for p2 skips the 1.0 mappings.
    let versions: Vec<(String, String)> =
        sqlx::query_as("SELECT id, mapping FROM persister_test_version ORDER BY id, mapping")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec![
            ("p1".into(), "v1-or-v2".into()),
            ("p1".into(), "v1.0 (1.0.x?)".into()),
            ("p2".into(), "v1-or-v2".into()),
            ("p2".into(), "v2".into()),
        ]
    );
    let p2: i64 = sqlx::query_scalar("SELECT count(*) FROM persister_test_parent WHERE id = 'p2'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(p2, 0);

    // An update through the second topic.
    let upd = json!({"RequestInfo": {}, "Parent": {"id": "p1", "name": "Renamed", "details": {"z": true},
        "auditDetails": {"lastModifiedTime": 99}}});
    publish_raw(&producer, &update, &[bytes(&upd)]).await;
    assert_eq!(
        wait_for_count(pool, "SELECT count(*) FROM persister_test_parent WHERE name = 'Renamed' AND last_modified_time = 99", 1, WAIT)
            .await,
        1
    );
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    assert_eq!(topic_size(&format!("persister-deadletter-{t}")), 0);
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn workflow_config_writes_instances_documents_and_assignees() {
    let db = database().await;
    let t = tag();
    let (_, config) = shipped_config("egov-workflow-v2-persister.yml", &t);
    let topic = format!("save-wf-transitions-{t}");
    create_topics(&[&topic]).await;
    let w = writer(config, db.pool().clone(), settings(&t));
    let producer = w.producer.clone();
    let (shutdown, handle) = spawn(w);
    let audit = json!({"createdBy": "u-gro", "lastModifiedBy": "u-gro", "createdTime": 1700000000000_i64, "lastModifiedTime": 1700000000000_i64});
    let message = json!({
        "RequestInfo": {"apiId": "Rainmaker"},
        "ProcessInstances": [{
            "id": "pi-1", "tenantId": "pg.citya", "businessService": "PGR", "businessId": "PG-PGR-1", "action": "ASSIGN",
            "moduleName": "rainmaker-pgr", "state": {"uuid": "st-assigned", "state": "PENDINGATLME"}, "comment": "please fix",
            "documents": [{"id": "doc-1", "tenantId": "pg.citya", "documentType": "PHOTO", "fileStoreId": "fs-1",
                           "documentUid": null, "auditDetails": audit}],
            "assigner": {"uuid": "u-gro"}, "assignes": [{"uuid": "u-lme-1"}, {"uuid": "u-lme-2"}],
            "stateSla": 86400000, "businesssServiceSla": 432000000, "previousStatus": "st-pending",
            "auditDetails": audit, "rating": null, "escalated": false
        }]
    });
    publish_raw(&producer, &topic, &[bytes(&message)]).await;
    let pool = db.pool();
    assert_eq!(
        wait_for_count(pool, "SELECT count(*) FROM eg_wf_assignee_v2", 2, WAIT).await,
        2
    );
    let (status, assigner, sla, escalated, rating): (String, String, i64, bool, Option<i32>) = sqlx::query_as(
        "SELECT status, assigner, businessservicesla, escalated, rating FROM eg_wf_processinstance_v2 WHERE id = 'pi-1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), assigner.as_str(), sla, escalated, rating),
        ("st-assigned", "u-gro", 432_000_000, false, None)
    );
    let doc_parent: String =
        sqlx::query_scalar("SELECT processinstanceid FROM eg_wf_document_v2 WHERE id = 'doc-1'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(doc_parent, "pi-1");
    let assignees: Vec<(String, String)> = sqlx::query_as(
        "SELECT processinstanceid, assignee FROM eg_wf_assignee_v2 ORDER BY assignee",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        assignees,
        vec![
            ("pi-1".into(), "u-lme-1".into()),
            ("pi-1".into(), "u-lme-2".into())
        ]
    );
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_and_the_partition_moves_on() {
    let db = database().await;
    let t = tag();
    let (_, config) = shipped_config("test-persister.yml", &t);
    let save = format!("persister-test-save-{t}");
    let dlq = format!("persister-deadletter-{t}");
    create_topics(&[&save, &dlq]).await;
    let w = writer(config, db.pool().clone(), settings(&t));
    let producer = w.producer.clone();

    // Listen for the commit signal of the last message.
    let mut listener = sqlx::postgres::PgListener::connect_with(db.pool())
        .await
        .unwrap();
    listener.listen("persister_commit").await.unwrap();

    let (shutdown, handle) = spawn(w);
    let mut missing_path = parent("bad-path", None);
    missing_path["Parent"]
        .as_object_mut()
        .unwrap()
        .remove("auditDetails");
    let payloads = vec![
        b"this is not json".to_vec(),
        bytes(&missing_path),
        bytes(&parent("dup", None)),
        bytes(&parent("dup", None)), // primary key violation
        bytes(&parent("good", None)),
    ];
    publish_raw(&producer, &save, &payloads).await;
    let pool = db.pool();
    assert_eq!(
        wait_for_count(
            pool,
            "SELECT count(*) FROM persister_test_parent WHERE id = 'good'",
            1,
            WAIT
        )
        .await,
        1
    );
    let parents: Vec<String> =
        sqlx::query_scalar("SELECT id FROM persister_test_parent ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        parents,
        vec!["dup".to_owned(), "good".to_owned()],
        "nothing of a poison message is kept"
    );

    let letters = read_topic(&dlq, 3);
    assert_eq!(letters.len(), 3, "{letters:?}");
    for letter in &letters {
        let keys: Vec<&str> = letter
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "source",
                "body",
                "ts",
                "errorRes",
                "exception",
                "message",
                "correlationId"
            ]
        );
        assert_eq!(letter["source"], save.as_str());
    }
    assert_eq!(letters[0]["body"], "this is not json");
    assert!(
        letters[1]["message"]
            .as_str()
            .unwrap()
            .contains("auditDetails"),
        "{}",
        letters[1]["message"]
    );
    assert_eq!(letters[2]["body"]["Parent"]["id"], "dup");

    // Every message, good or poison, moved the stored offset; the last commit was signalled.
    let next: i64 =
        sqlx::query_scalar("SELECT next_offset FROM persister_offsets WHERE topic = $1")
            .bind(&save)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(next, 5);
    let mut seen_last = false;
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), listener.recv()).await {
        let v: Value = serde_json::from_str(n.payload()).unwrap();
        if v["topic"] == save.as_str() && v["offset"] == 4 {
            seen_last = true;
            break;
        }
    }
    assert!(seen_last, "commit signal for offset 4");
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_poison_message_in_a_batch_does_not_take_the_good_ones_down() {
    let db = database().await;
    let t = tag();
    let (_, config) = shipped_config("test-persister.yml", &t);
    let batch_topic = format!("persister-test-save-batch-{t}");
    let dlq = format!("persister-deadletter-{t}");
    create_topics(&[&batch_topic, &dlq]).await;
    let w = writer(config, db.pool().clone(), settings(&t));
    let producer = w.producer.clone();
    let item = |id: &str| {
        bytes(
            &json!({"RequestInfo": {}, "Items": [{"id": id, "tenantId": "pg", "payload": {"n": id}}]}),
        )
    };
    // Published before the consumer starts, so they arrive in one poll.
    let payloads = vec![
        item("b1"),
        item("b2"),
        item("b1"),
        b"{".to_vec(),
        item("b3"),
    ];
    publish_raw(&producer, &batch_topic, &payloads).await;
    let (shutdown, handle) = spawn(w);
    let pool = db.pool();
    assert_eq!(
        wait_for_count(pool, "SELECT count(*) FROM persister_test_batch", 3, WAIT).await,
        3
    );
    assert_eq!(
        wait_for_count(pool, "SELECT next_offset FROM persister_offsets", 5, WAIT).await,
        5
    );
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM persister_test_batch ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(ids, ["b1", "b2", "b3"]);
    assert_eq!(read_topic(&dlq, 2).len(), 2);
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    db.cleanup().await.unwrap();
}

#[tokio::test]
async fn already_fetched_messages_of_two_topics_are_group_committed_and_poison_stays_alone() {
    let db = database().await;
    let t = tag();
    let (_, config) = shipped_config("test-persister.yml", &t);
    let save = format!("persister-test-save-{t}");
    let update = format!("persister-test-update-{t}");
    let dlq = format!("persister-deadletter-{t}");
    create_topics(&[&save, &update, &dlq]).await;
    let w = writer(config, db.pool().clone(), settings(&t));
    let producer = w.producer.clone();
    let metrics = w.metrics.clone();
    // Rows the updates find (the two topics are two partitions: no order between them).
    let pool = db.pool();
    sqlx::query("INSERT INTO persister_test_parent (id, name) SELECT 'u' || i, 'before' FROM generate_series(0, 38) i")
        .execute(pool)
        .await
        .unwrap();
    // Published before the consumer starts, so they are fetched together: 40 creates (one
    // of them poison) and 39 updates on the other topic.
    let mut creates: Vec<Vec<u8>> = (0..40)
        .map(|i| bytes(&parent(&format!("c{i}"), None)))
        .collect();
    creates[17] = b"{ not json".to_vec();
    publish_raw(&producer, &save, &creates).await;
    let updates: Vec<Vec<u8>> = (0..39)
        .map(|i| {
            let mut p = parent(&format!("u{i}"), None);
            p["Parent"]["name"] = json!("updated");
            bytes(&p)
        })
        .collect();
    publish_raw(&producer, &update, &updates).await;
    let (shutdown, handle) = spawn(w);
    assert_eq!(
        wait_for_count(
            pool,
            "SELECT count(*) FROM persister_test_parent WHERE name = 'updated'",
            39,
            WAIT
        )
        .await,
        39
    );
    assert_eq!(
        wait_for_count(
            pool,
            "SELECT sum(next_offset)::bigint FROM persister_offsets",
            79,
            WAIT
        )
        .await,
        79,
        "both partitions stored past every message, the poison one too"
    );
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM persister_test_parent WHERE id LIKE 'c%'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(created, 39, "nothing of the poison message is kept");
    let letters = read_topic(&dlq, 1);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["body"], "{ not json");
    // Fewer transactions than messages: they were grouped.
    let transactions = metrics.batch_size.get_sample_count();
    let messages = metrics.batch_size.get_sample_sum();
    assert!(
        transactions < 79 && messages >= 79.0,
        "{transactions} transactions for {messages} messages"
    );
    shutdown.trigger();
    handle.await.unwrap().unwrap();
    db.cleanup().await.unwrap();
}
