//! The filestore in S3 mode against an S3-compatible server that checks signatures (moto,
//! started by `scripts/s3-test-server.py` with the interpreter `TEST_S3_PYTHON` names, which
//! `make test` sets): configured from the environment as a deployment is, files go into the
//! bucket and come back byte for byte, a missing key is "not found", and a wrongly signed
//! request is refused by the server and stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_filestore::error::FilestoreError;
use digit_filestore::storage::{S3Bucket, Storage};
use digit_filestore::{Filestore, Upload};
use digit_service::config::Env;
use digit_store::TestDb;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Server {
    endpoint: String,
    access_key: String,
    secret_key: String,
    bucket: String,
    region: String,
}

/// Starts the server; `None` (the test is skipped) only outside CI when no interpreter is
/// configured. The child dies with the test (its stdin closes, `kill_on_drop`).
async fn s3_server() -> Option<(Child, S3Server)> {
    let python = match std::env::var("TEST_S3_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("TEST_S3_PYTHON is not set (make test sets it; scripts/deps.sh s3)")
        }
        _ => {
            eprintln!("skipped: TEST_S3_PYTHON is not set (make test sets it)");
            return None;
        }
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/s3-test-server.py"
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{python} {script}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        // moto may print a banner first: the answer is the JSON line.
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with('{') {
                return line;
            }
        }
        panic!("the S3 test server ended without an address");
    })
    .await
    .expect("the S3 test server did not start within 60 s");
    Some((child, serde_json::from_str(&line).unwrap()))
}

fn env_for(server: &S3Server, secret_key: &str) -> Env {
    Env::from_pairs([
        ("FILESTORE_STORAGE", "s3"),
        ("FILESTORE_S3_ENDPOINT", server.endpoint.as_str()),
        ("FILESTORE_S3_BUCKET", server.bucket.as_str()),
        ("FILESTORE_S3_REGION", server.region.as_str()),
        ("FILESTORE_S3_ACCESS_KEY", server.access_key.as_str()),
        ("FILESTORE_S3_SECRET_KEY", secret_key),
        ("FILESTORE_URL_BASE", "http://gw:8080"),
    ])
}

fn png(n: u8) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend((0..=255u8).cycle().take(70_000).map(|b| b ^ n));
    bytes
}

#[tokio::test]
async fn files_round_trip_through_a_signature_checking_bucket() {
    let Some((_server, s3)) = s3_server().await else {
        return;
    };
    let db = TestDb::migrated(&[&digit_filestore::MIGRATOR])
        .await
        .unwrap();
    let fs = Filestore::from_env(&env_for(&s3, &s3.secret_key), db.pool().clone()).unwrap();

    let files = vec![
        Upload {
            filename: "pothole photo 1.png".into(),
            content_type: Some("image/png".into()),
            bytes: png(1),
        },
        Upload {
            filename: "complaint letter.txt".into(),
            content_type: Some("text/plain".into()),
            bytes: "Streetlight not working near ward office\n".into(),
        },
    ];
    let ids = fs
        .upload("pg.citya", Some("PGR"), Some("photo"), files, Some("u-1"))
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let photo = fs.fetch("pg.citya", &ids[0]).await.unwrap();
    assert_eq!(photo.bytes, png(1));
    assert_eq!(photo.content_type, "image/png");
    assert_eq!(photo.filename, "pothole photo 1.png");
    let letter = fs.fetch("pg.citya", &ids[1]).await.unwrap();
    assert_eq!(
        letter.bytes,
        b"Streetlight not working near ward office\n".to_vec()
    );
    // Another tenant does not see them.
    assert!(matches!(
        fs.fetch("pg.cityb", &ids[0]).await,
        Err(FilestoreError::NotFound(_))
    ));

    // The bucket itself: a key that was never written is "not found", not an error.
    let bucket = S3Bucket {
        endpoint: s3.endpoint.clone(),
        bucket: s3.bucket.clone(),
        region: s3.region.clone(),
        access_key: s3.access_key.clone(),
        secret_key: s3.secret_key.clone(),
        http: reqwest::Client::new(),
    };
    assert_eq!(bucket.get("pg.citya/never-written").await.unwrap(), None);
    assert_eq!(
        bucket.get(&format!("pg.citya/{}", ids[0])).await.unwrap(),
        Some(png(1))
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_bucket_and_stores_nothing() {
    let Some((_server, s3)) = s3_server().await else {
        return;
    };
    let db = TestDb::migrated(&[&digit_filestore::MIGRATOR])
        .await
        .unwrap();
    let fs = Filestore::from_env(&env_for(&s3, "not-the-secret"), db.pool().clone()).unwrap();
    let refused = fs
        .upload(
            "pg.citya",
            None,
            None,
            vec![Upload {
                filename: "a.png".into(),
                content_type: Some("image/png".into()),
                bytes: png(2),
            }],
            None,
        )
        .await;
    match refused {
        Err(FilestoreError::Storage(m)) => assert!(m.contains("403"), "{m}"),
        other => panic!("expected the bucket's refusal, got {other:?}"),
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_filestoremap")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // S3 mode without its settings does not start.
    let missing = Filestore::from_env(
        &Env::from_pairs([("FILESTORE_STORAGE", "s3")]),
        db.pool().clone(),
    );
    assert!(
        format!("{:?}", missing.unwrap_err()).contains("FILESTORE_S3_ENDPOINT"),
        "the missing setting is named"
    );
}
