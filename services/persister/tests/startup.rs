//! The persister starts with upstream's environment alone: database, broker, persister
//! configs and port under egov-persister's own variable names, in an empty working
//! directory — no JWT secret, no `AUTH_MODE`, no `configs/mdms` — and answers
//! `/common-persist/health` UP, then persists a message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

mod common;

use common::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `GET path` on 127.0.0.1:`port`; the response text, or `None` while nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_with_upstream_environment_in_an_empty_directory() {
    let db = database().await;
    let t = tag();
    let topic = format!("persister-load-{t}");
    let config = load_config_file(&topic);
    let workdir = std::env::temp_dir().join(format!("persister-empty-{t}"));
    std::fs::create_dir_all(&workdir).unwrap();
    let port = free_port();
    let log = config.with_file_name("persister.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_persister"))
        .current_dir(&workdir)
        .env_clear()
        .env("SPRING_DATASOURCE_URL", db.url())
        .env("SPRING_KAFKA_BOOTSTRAP_SERVERS", kafka().brokers)
        .env("EGOV_PERSIST_YML_REPO_PATH", &config)
        .env(
            "SPRING_KAFKA_CONSUMER_GROUP_ID",
            format!("persister-startup-{t}"),
        )
        .env("TRACER_ERRORSTOPIC", format!("persister-deadletter-{t}"))
        .env("SERVER_PORT", port.to_string())
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let health = loop {
        if let Some(response) = get(port, "/common-persist/health") {
            break response;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "persister exited ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no answer on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("UP"), "{health}");
    // The actuator path and its OpenAPI document, open like the health paths.
    let actuator = get(port, "/common-persist/actuator/health").unwrap();
    assert!(actuator.starts_with("HTTP/1.1 200"), "{actuator}");
    assert!(actuator.contains(r#"{"status":"UP"}"#), "{actuator}");
    let document = get(port, "/common-persist/openapi.json").unwrap();
    assert!(document.starts_with("HTTP/1.1 200"), "{document}");
    assert!(
        document.contains(r#""/common-persist/actuator/health""#),
        "{document}"
    );

    let producer = digit_kafka::Producer::new(&kafka()).unwrap();
    publish_raw(&producer, &topic, &load_messages(2)).await;
    let n = wait_for_count(
        db.pool(),
        "SELECT count(*) FROM persister_load",
        2,
        Duration::from_secs(60),
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        n,
        2,
        "log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    db.cleanup().await.unwrap();
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
    let _ = std::fs::remove_dir_all(workdir);
}
