//! The indexer starts with upstream's environment alone — database, broker, port,
//! Elasticsearch and config path under upstream's names, in an empty working directory, with
//! no JWT secret, no `AUTH_MODE` and no `configs/mdms` — and answers `/egov-indexer/health` UP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_store::TestDb;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn starts_with_upstream_environment_in_an_empty_directory() {
    let db = TestDb::migrated(&[&indexer::MIGRATOR]).await.unwrap();
    let workdir = std::env::temp_dir().join(format!("indexer-empty-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let brokers = std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .current_dir(&workdir)
        .env_clear()
        .env("SPRING_DATASOURCE_URL", db.url())
        .env("SPRING_KAFKA_BOOTSTRAP_SERVERS", brokers)
        .env("SERVER_PORT", port.to_string())
        .env(
            "EGOV_INDEXER_YML_REPO_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/indexer"),
        )
        .env(
            "EGOV_INFRA_INDEXER_HOST",
            std::env::var("TEST_ELASTICSEARCH_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:9200".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/egov-indexer/health");
    let started = Instant::now();
    let body = loop {
        if let Ok(response) = reqwest::get(&url).await {
            assert!(response.status().is_success());
            break response.text().await.unwrap();
        }
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "indexer exited: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // One open OpenAPI document for the index operations and the dashboard.
    let document: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/egov-indexer/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(body.contains("UP"), "{body}");
    let mut operations: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .collect();
    operations.sort();
    assert_eq!(
        operations,
        [
            "get /egov-indexer/dashboard",
            "get /egov-indexer/dashboard/assets/dashboard.css",
            "get /egov-indexer/dashboard/assets/dashboard.js",
            "post /egov-indexer/dashboard/v1/_summary",
            "post /egov-indexer/index-operations/_legacyindex",
            "post /egov-indexer/index-operations/_reindex",
            "post /egov-indexer/index-operations/jobs/_search",
            "post /egov-indexer/index-operations/{key}/_index",
        ]
    );
    db.cleanup().await.unwrap();
    let _ = std::fs::remove_dir_all(workdir);
}
