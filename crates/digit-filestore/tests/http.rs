//! The filestore's HTTP contract on real Postgres and local disk: multipart uploads of one and
//! several files, every refusal (type, declared type, content, size, count, tenant), the URL
//! listing, fetching the exact bytes back, tenant scoping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use digit_filestore::storage::LocalDisk;
use digit_filestore::{api, Filestore, FilestoreSettings};
use digit_store::TestDb;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// One multipart part: name, file name, content type, bytes.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

async fn filestore(db: &TestDb, max_bytes: usize) -> (Filestore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("filestore-http-{}", uuid::Uuid::new_v4()));
    let fs = Filestore {
        pool: db.pool().clone(),
        storage: Arc::new(LocalDisk::new(&dir)),
        settings: Arc::new(FilestoreSettings {
            max_bytes,
            max_files: 3,
            url_base: "http://gw:8080".into(),
        }),
    };
    (fs, dir)
}

/// A multipart body of `parts`: (name, filename, content type, bytes).
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "XyZ-boundary-42";
    let mut body = Vec::new();
    for (name, filename, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        if let Some(t) = content_type {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

async fn upload(app: &axum::Router, query: &str, parts: &[Part<'_>]) -> (StatusCode, Value) {
    let (content_type, body) = multipart(parts);
    let req = Request::post(format!("{}{query}", api::UPLOAD_PATH))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let (status, _, bytes) = send(app, req).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn upload_list_and_fetch() {
    let db = TestDb::migrated(&[&digit_filestore::MIGRATOR])
        .await
        .unwrap();
    let (fs, dir) = filestore(&db, 1024).await;
    let app = api::router(fs).routes;
    let (status, body) = upload(
        &app,
        "",
        &[
            ("tenantId", None, None, b"pg.citya"),
            ("module", None, None, b"pgr-upload"),
            ("file", Some("photo.png"), Some("image/png"), PNG),
            (
                "file",
                Some("note.txt"),
                Some("text/plain"),
                b"street light out",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ids: Vec<String> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileStoreId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(body["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["tenantId"] == "pg.citya"));
    // URLs: the known ids only, as a list and a map.
    let req = Request::get(format!(
        "{}?tenantId=pg.citya&fileStoreIds={},{},unknown",
        api::URL_PATH,
        ids[0],
        ids[1]
    ))
    .body(Body::empty())
    .unwrap();
    let (status, _, bytes) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    let urls: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(urls["fileStoreIds"].as_array().unwrap().len(), 2);
    let url = urls[&ids[0]].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "http://gw:8080/filestore/v1/files/id?tenantId=pg.citya&fileStoreId={}",
            ids[0]
        )
    );
    // The exact bytes back, with their type.
    let path = url.trim_start_matches("http://gw:8080");
    let (status, headers, bytes) =
        send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"photo.png\""
    );
    // Another tenant does not see it.
    let other = format!(
        "{}?tenantId=pg.cityb&fileStoreId={}",
        api::FILE_PATH,
        ids[0]
    );
    let (status, _, bytes) = send(&app, Request::get(other).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let err: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(err["Errors"][0]["code"], "EG_FILESTORE_NOT_FOUND");
    // Tenant and module from the query string (as the DIGIT UI sends them).
    let (status, body) = upload(
        &app,
        "?tenantId=pg.citya&module=PGR",
        &[(
            "file",
            Some("a.pdf"),
            Some("application/pdf"),
            b"%PDF-1.4 x",
        )],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_filestoremap")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn every_limit_refuses_the_whole_upload() {
    let db = TestDb::migrated(&[&digit_filestore::MIGRATOR])
        .await
        .unwrap();
    let (fs, dir) = filestore(&db, 64).await;
    let app = api::router(fs).routes;
    let big = vec![b'x'; 65];
    let cases: Vec<Vec<Part<'_>>> = vec![
        vec![("file", Some("a.png"), Some("image/png"), PNG)],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("a.exe"), None, b"MZ"),
        ],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("a.png"), Some("application/pdf"), PNG),
        ],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("a.png"), Some("image/png"), b"GIF89a"),
        ],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("ok.png"), Some("image/png"), PNG),
            ("file", Some("big.txt"), Some("text/plain"), &big),
        ],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("x.tar.gz"), None, b""),
        ],
        vec![("tenantId", None, None, b"pg.citya")],
        vec![
            ("tenantId", None, None, b"../etc"),
            ("file", Some("a.txt"), None, b"x"),
        ],
        vec![
            ("tenantId", None, None, b"pg.citya"),
            ("file", Some("1.txt"), None, b"1"),
            ("file", Some("2.txt"), None, b"2"),
            ("file", Some("3.txt"), None, b"3"),
            ("file", Some("4.txt"), None, b"4"),
        ],
    ];
    for parts in &cases {
        let (status, body) = upload(&app, "", parts).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            body["Errors"][0]["code"], "EG_FILESTORE_INVALID_INPUT",
            "{body}"
        );
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_filestoremap")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing of a refused upload is recorded");
    // Not multipart at all, or multipart without a boundary: the DIGIT envelope, not text.
    for content_type in ["multipart/form-data", "application/json"] {
        let req = Request::post(format!("{}?tenantId=pg.citya", api::UPLOAD_PATH))
            .header("content-type", content_type)
            .body(Body::from("{}"))
            .unwrap();
        let (status, headers, bytes) = send(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}");
        assert_eq!(
            headers["content-type"], "application/json",
            "{content_type}"
        );
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body["Errors"][0]["code"], "EG_FILESTORE_INVALID_INPUT",
            "{body}"
        );
    }
    // A repeated parameter (axum's plain-text 400 before; the fuzzer found it): joined with
    // commas, as Spring binds it; unknown ids answer an empty list.
    let repeated = Request::get(format!(
        "{}?tenantId=pg.citya&fileStoreIds=a&fileStoreIds=b",
        api::URL_PATH
    ))
    .body(Body::empty())
    .unwrap();
    let (status, headers, _) = send(&app, repeated).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let missing = Request::get(format!("{}?fileStoreIds=a", api::URL_PATH))
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, missing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let _ = std::fs::remove_dir_all(dir);
}
