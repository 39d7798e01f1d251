//! Where the bytes live: a directory on local disk, or an S3-compatible bucket (AWS S3,
//! MinIO, …) over its REST API with Signature Version 4 (path-style URLs,
//! `<endpoint>/<bucket>/<key>`). Keys are built by the service from a validated tenant id
//! and a generated uuid, never from client input.

use crate::error::FilestoreError;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A place to keep files.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key` (whole or not at all).
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), FilestoreError>;
    /// The bytes under `key`; `None` when there are none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilestoreError>;
}

/// Files under a directory (`FILESTORE_PATH`).
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Files under `root` (created when missing).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, FilestoreError> {
        // Defence in depth: keys are ours, but never leave the root.
        if key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(FilestoreError::Storage(format!("bad key {key}")));
        }
        Ok(self.root.join(key))
    }
}

fn io(e: std::io::Error) -> FilestoreError {
    FilestoreError::Storage(e.to_string())
}

#[async_trait::async_trait]
impl Storage for LocalDisk {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        _content_type: &str,
    ) -> Result<(), FilestoreError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        // Written aside, then renamed: a crash never leaves half a file under the key.
        let tmp = path.with_extension("part");
        tokio::fs::write(&tmp, bytes).await.map_err(io)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilestoreError> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

/// An S3-compatible bucket.
#[derive(Clone)]
pub struct S3Bucket {
    /// `https://s3.ap-south-1.amazonaws.com`, `http://minio:9000`.
    pub endpoint: String,
    /// Bucket.
    pub bucket: String,
    /// Signing region (`us-east-1` for MinIO).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret key (never logged).
    pub secret_key: String,
    /// The client.
    pub http: reqwest::Client,
}

impl std::fmt::Debug for S3Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Bucket")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// One request to sign.
pub struct SigningInput<'a> {
    /// `GET`, `PUT`.
    pub method: &'a str,
    /// The URI path, already URI-encoded (`/bucket/key`).
    pub path: &'a str,
    /// Headers to sign (lowercase names), `host` and `x-amz-*` included.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the payload.
    pub payload_hash: &'a str,
    /// `20130524T000000Z`.
    pub amz_date: &'a str,
    /// Region.
    pub region: &'a str,
}

/// The string to sign and the signature of Signature Version 4 for S3 (no query string).
pub fn sign(input: &SigningInput<'_>, secret_key: &str) -> (String, String) {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{}\n{}\n\n{canonical_headers}\n{signed}\n{}",
        input.method, input.path, input.payload_hash
    );
    let date = &input.amz_date[..8.min(input.amz_date.len())];
    let scope = format!("{date}/{}/s3/aws4_request", input.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, input.region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    (string_to_sign, signature)
}

/// RFC 3986 encoding of one path segment (S3's rule: everything but unreserved characters).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl S3Bucket {
    async fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        body: Option<(&[u8], &str)>,
    ) -> Result<reqwest::Response, FilestoreError> {
        let url = reqwest::Url::parse(&self.endpoint)
            .map_err(|e| FilestoreError::Storage(format!("FILESTORE_S3_ENDPOINT: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => {
                return Err(FilestoreError::Storage(
                    "FILESTORE_S3_ENDPOINT has no host".into(),
                ))
            }
        };
        let path = format!(
            "{}/{}/{}",
            url.path().trim_end_matches('/'),
            encode_segment(&self.bucket),
            key.split('/')
                .map(encode_segment)
                .collect::<Vec<_>>()
                .join("/")
        );
        let payload = body.map_or(&[][..], |(b, _)| b);
        let payload_hash = sha256_hex(payload);
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers = vec![
            ("host", host.as_str()),
            ("x-amz-content-sha256", payload_hash.as_str()),
            ("x-amz-date", amz_date.as_str()),
        ];
        if let Some((_, content_type)) = body {
            headers.push(("content-type", content_type));
        }
        let (_, signature) = sign(
            &SigningInput {
                method: method.as_str(),
                path: &path,
                headers: &headers,
                payload_hash: &payload_hash,
                amz_date: &amz_date,
                region: &self.region,
            },
            &self.secret_key,
        );
        let mut names: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/s3/aws4_request, SignedHeaders={}, Signature={signature}",
            self.access_key,
            &amz_date[..8],
            self.region,
            names.join(";")
        );
        let origin = format!("{}://{host}", url.scheme());
        let mut request = self
            .http
            .request(method, format!("{origin}{path}"))
            .header("authorization", authorization)
            .header("x-amz-content-sha256", &payload_hash)
            .header("x-amz-date", &amz_date);
        if let Some((bytes, content_type)) = body {
            request = request
                .header("content-type", content_type)
                .body(bytes.to_vec());
        }
        request
            .send()
            .await
            .map_err(|e| FilestoreError::Storage(format!("bucket: {e}")))
    }
}

#[async_trait::async_trait]
impl Storage for S3Bucket {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), FilestoreError> {
        let answer = self
            .send(reqwest::Method::PUT, key, Some((bytes, content_type)))
            .await?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(FilestoreError::Storage(format!(
                "bucket answered {} to a PUT",
                answer.status()
            )))
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilestoreError> {
        let answer = self.send(reqwest::Method::GET, key, None).await?;
        match answer.status() {
            s if s.is_success() => Ok(Some(
                answer
                    .bytes()
                    .await
                    .map_err(|e| FilestoreError::Storage(format!("bucket: {e}")))?
                    .to_vec(),
            )),
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s => Err(FilestoreError::Storage(format!(
                "bucket answered {s} to a GET"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_v4_matches_the_s3_reference_example() {
        // AWS S3 API reference, "Signature Calculations for the Authorization Header:
        // Transferring Payload in a Single Chunk", example GET Object.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let (string_to_sign, signature) = sign(
            &SigningInput {
                method: "GET",
                path: "/test.txt",
                headers: &[
                    ("Host", "examplebucket.s3.amazonaws.com"),
                    ("Range", "bytes=0-9"),
                    ("x-amz-content-sha256", empty),
                    ("x-amz-date", "20130524T000000Z"),
                ],
                payload_hash: empty,
                amz_date: "20130524T000000Z",
                region: "us-east-1",
            },
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        assert!(string_to_sign
            .ends_with("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
        assert_eq!(
            signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_segment("pg.citya"), "pg.citya");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }

    #[tokio::test]
    async fn local_disk_round_trip_and_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("filestore-test-{}", uuid::Uuid::new_v4()));
        let disk = LocalDisk::new(&dir);
        disk.put("pg.citya/abc", b"hello", "text/plain")
            .await
            .unwrap();
        assert_eq!(
            disk.get("pg.citya/abc").await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(disk.get("pg.citya/none").await.unwrap(), None);
        assert!(disk.get("../etc/passwd").await.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
