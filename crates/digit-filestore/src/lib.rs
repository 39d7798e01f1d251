//! egov-filestore for the standalone suite (served by the `pgr` binary): attachments — a
//! complaint's photos, a bill's PDF — uploaded as multipart, kept on local disk or in an
//! S3-compatible bucket (`FILESTORE_STORAGE`), their metadata in `eg_filestoremap`, fetched by
//! id or listed as URLs. Uploads are checked as upstream's `StorageValidator` checks them
//! ([`rules`]: extension, declared type, magic number, size); a request is stored whole or not
//! at all.

pub mod api;
pub mod error;
pub mod rules;
pub mod storage;

use digit_service::config::{ConfigError, Env, EnvVar};
use error::FilestoreError;
use sqlx::migrate::Migrator;
use sqlx::{PgPool, Row};
use std::sync::Arc;
use storage::{LocalDisk, S3Bucket, Storage};

/// The metadata table (`migrations/filestore/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/filestore");

macro_rules! var {
    ($const:ident, $name:literal, $default:literal, $help:literal) => {
        #[doc = $help]
        pub const $const: EnvVar = EnvVar {
            name: $name,
            aliases: &[],
            default: $default,
            help: $help,
        };
    };
}
var!(
    STORAGE,
    "FILESTORE_STORAGE",
    "local",
    "Where files are kept: local (FILESTORE_PATH) or s3 (FILESTORE_S3_*)"
);
var!(
    PATH,
    "FILESTORE_PATH",
    "filestore-data",
    "Directory of stored files (FILESTORE_STORAGE=local)"
);
var!(
    MAX_BYTES,
    "FILESTORE_MAX_BYTES",
    "5242880",
    "Largest file accepted, in bytes (upstream: 5 MB)"
);
var!(
    MAX_FILES,
    "FILESTORE_MAX_FILES",
    "10",
    "Most files in one upload"
);
var!(
    URL_BASE,
    "FILESTORE_URL_BASE",
    "http://localhost:8080",
    "Base of the URLs /filestore/v1/files/url answers (the gateway's address)"
);
var!(S3_ENDPOINT, "FILESTORE_S3_ENDPOINT", "", "S3-compatible endpoint, e.g. https://s3.ap-south-1.amazonaws.com or http://minio:9000 (path-style)");
var!(
    S3_BUCKET,
    "FILESTORE_S3_BUCKET",
    "",
    "Bucket of stored files"
);
var!(
    S3_REGION,
    "FILESTORE_S3_REGION",
    "us-east-1",
    "Signing region"
);
var!(
    S3_ACCESS_KEY,
    "FILESTORE_S3_ACCESS_KEY",
    "",
    "Access key id"
);
var!(
    S3_SECRET_KEY,
    "FILESTORE_S3_SECRET_KEY",
    "",
    "Secret access key (never logged)"
);

/// The settings (for `--help`).
pub const VARS: &[EnvVar] = &[
    STORAGE,
    PATH,
    MAX_BYTES,
    MAX_FILES,
    URL_BASE,
    S3_ENDPOINT,
    S3_BUCKET,
    S3_REGION,
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
];

/// Limits and addresses.
#[derive(Debug, Clone)]
pub struct FilestoreSettings {
    /// Largest file.
    pub max_bytes: usize,
    /// Most files per upload.
    pub max_files: usize,
    /// Base of answered URLs.
    pub url_base: String,
}

/// The filestore: metadata in Postgres, bytes in the storage.
#[derive(Clone, Debug)]
pub struct Filestore {
    /// Metadata.
    pub pool: PgPool,
    /// Bytes.
    pub storage: Arc<dyn Storage>,
    /// Limits.
    pub settings: Arc<FilestoreSettings>,
}

/// A file to store.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Original name.
    pub filename: String,
    /// Declared content type.
    pub content_type: Option<String>,
    /// Content.
    pub bytes: Vec<u8>,
}

/// A stored file.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Original name.
    pub filename: String,
    /// Content type.
    pub content_type: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// A tenant id as part of a storage key: DIGIT's characters only.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 256
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        && !t.starts_with('.')
}

impl Filestore {
    /// From the environment.
    pub fn from_env(env: &Env, pool: PgPool) -> Result<Self, ConfigError> {
        let parse = |var: &EnvVar| -> Result<usize, ConfigError> {
            env.get_or_default(var)
                .trim()
                .parse()
                .map_err(|_| ConfigError::Invalid {
                    name: var.name,
                    value: env.get_or_default(var),
                })
        };
        let storage: Arc<dyn Storage> = match env.get_or_default(&STORAGE).as_str() {
            "local" => Arc::new(LocalDisk::new(env.get_or_default(&PATH))),
            "s3" => {
                let need = |var: &EnvVar| {
                    env.get(var)
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| {
                            ConfigError::Missing(format!(
                                "{} is required with FILESTORE_STORAGE=s3",
                                var.name
                            ))
                        })
                };
                Arc::new(S3Bucket {
                    endpoint: need(&S3_ENDPOINT)?,
                    bucket: need(&S3_BUCKET)?,
                    region: env.get_or_default(&S3_REGION),
                    access_key: need(&S3_ACCESS_KEY)?,
                    secret_key: need(&S3_SECRET_KEY)?,
                    http: reqwest::Client::builder()
                        .timeout(std::time::Duration::from_secs(30))
                        .build()
                        .map_err(|e| ConfigError::Missing(format!("filestore http client: {e}")))?,
                })
            }
            other => {
                return Err(ConfigError::Invalid {
                    name: STORAGE.name,
                    value: other.to_owned(),
                })
            }
        };
        Ok(Self {
            pool,
            storage,
            settings: Arc::new(FilestoreSettings {
                max_bytes: parse(&MAX_BYTES)?,
                max_files: parse(&MAX_FILES)?,
                url_base: env
                    .get_or_default(&URL_BASE)
                    .trim_end_matches('/')
                    .to_owned(),
            }),
        })
    }

    /// Stores every file (all checked first: none is stored when one is refused); their ids.
    pub async fn upload(
        &self,
        tenant: &str,
        module: Option<&str>,
        tag: Option<&str>,
        files: Vec<Upload>,
        user: Option<&str>,
    ) -> Result<Vec<String>, FilestoreError> {
        if !valid_tenant(tenant) {
            return Err(FilestoreError::Invalid(
                rules::INVALID_INPUT,
                "tenantId is mandatory".into(),
            ));
        }
        if files.is_empty() {
            return Err(FilestoreError::Invalid(
                rules::INVALID_INPUT,
                "No file to upload".into(),
            ));
        }
        if files.len() > self.settings.max_files {
            return Err(FilestoreError::Invalid(
                rules::INVALID_INPUT,
                format!("At most {} files per upload", self.settings.max_files),
            ));
        }
        let mut types = Vec::with_capacity(files.len());
        for f in &files {
            types.push(rules::check(
                &f.filename,
                f.content_type.as_deref(),
                &f.bytes,
                self.settings.max_bytes,
            )?);
        }
        let mut ids = Vec::with_capacity(files.len());
        let mut tx = self.pool.begin().await?;
        for (f, content_type) in files.iter().zip(types) {
            let id = uuid::Uuid::new_v4().to_string();
            let key = format!("{tenant}/{id}");
            self.storage.put(&key, &f.bytes, &content_type).await?;
            sqlx::query(
                "INSERT INTO eg_filestoremap (filestoreid, tenantid, filename, contenttype, module, tag, size, storage_key, createdby, createdtime)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(tenant)
            .bind(f.filename.trim())
            .bind(&content_type)
            .bind(module)
            .bind(tag)
            .bind(i64::try_from(f.bytes.len()).unwrap_or(i64::MAX))
            .bind(&key)
            .bind(user)
            .bind(digit_core::time::now_ms())
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        // The rows commit together; bytes of a failed request stay unreferenced (harmless).
        tx.commit().await?;
        Ok(ids)
    }

    /// The stored file `id` of `tenant`.
    pub async fn fetch(&self, tenant: &str, id: &str) -> Result<StoredFile, FilestoreError> {
        let row = sqlx::query(
            "SELECT filename, contenttype, storage_key FROM eg_filestoremap WHERE tenantid = $1 AND filestoreid = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| FilestoreError::NotFound(id.to_owned()))?;
        let key: String = row.try_get("storage_key")?;
        let bytes = self
            .storage
            .get(&key)
            .await?
            .ok_or_else(|| FilestoreError::Storage(format!("metadata without bytes: {id}")))?;
        Ok(StoredFile {
            filename: row.try_get("filename")?,
            content_type: row.try_get("contenttype")?,
            bytes,
        })
    }

    /// Which of `ids` the tenant has.
    pub async fn known(&self, tenant: &str, ids: &[String]) -> Result<Vec<String>, FilestoreError> {
        Ok(sqlx::query_scalar(
            "SELECT filestoreid FROM eg_filestoremap WHERE tenantid = $1 AND filestoreid = ANY($2) ORDER BY filestoreid",
        )
        .bind(tenant)
        .bind(ids)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The URL a file is fetched at.
    pub fn url(&self, tenant: &str, id: &str) -> String {
        format!(
            "{}{}?tenantId={tenant}&fileStoreId={id}",
            self.settings.url_base,
            api::FILE_PATH
        )
    }
}
