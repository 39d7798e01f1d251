//! egov-filestore's paths: `POST /filestore/v1/files` (multipart: `file` once or more,
//! `tenantId`, `module`, `tag`; also as query parameters) → 201 `{"files": [{fileStoreId,
//! tenantId}]}`; `GET /filestore/v1/files/url?tenantId=&fileStoreIds=a,b` →
//! `{"fileStoreIds": [{id, url, tenantId}], "<id>": "<url>"}`; `GET
//! /filestore/v1/files/id?tenantId=&fileStoreId=` → the bytes with their content type.

use crate::error::FilestoreError;
use crate::{rules, Filestore, Upload};
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Upload path (mixed-mode: a token is optional, as upstream's gateway lists it).
pub const UPLOAD_PATH: &str = "/filestore/v1/files";
/// URL listing (open).
pub const URL_PATH: &str = "/filestore/v1/files/url";
/// Fetch by id (open).
pub const FILE_PATH: &str = "/filestore/v1/files/id";

/// Query parameters of the three paths.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileQuery {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Module (upload).
    pub module: Option<String>,
    /// Tag (upload).
    pub tag: Option<String>,
    /// Ids, comma-separated (url).
    pub file_store_ids: Option<String>,
    /// Id (fetch).
    pub file_store_id: Option<String>,
}

fn required(v: Option<String>, name: &str) -> Result<String, FilestoreError> {
    v.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            FilestoreError::Invalid(rules::INVALID_INPUT, format!("{name} is mandatory"))
        })
}

/// The routes.
pub fn router(filestore: Filestore) -> Router {
    // Multipart overhead on top of the files themselves.
    let limit = filestore
        .settings
        .max_bytes
        .saturating_mul(filestore.settings.max_files)
        .saturating_add(1 << 20);
    Router::new()
        .route(
            UPLOAD_PATH,
            post(upload).layer(DefaultBodyLimit::max(limit)),
        )
        .route(URL_PATH, get(urls))
        .route(FILE_PATH, get(fetch))
        .with_state(filestore)
}

async fn upload(
    State(fs): State<Filestore>,
    ctx: Option<Extension<RequestContext>>,
    Query(q): Query<FileQuery>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        FilestoreError::Invalid(
            rules::INVALID_INPUT,
            format!("Invalid multipart body: {}", e.body_text()),
        )
    };
    let (mut tenant, mut module, mut tag) = (q.tenant_id, q.module, q.tag);
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let filename = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().map(str::to_owned);
                if files.len() >= fs.settings.max_files {
                    return Err(FilestoreError::Invalid(
                        rules::INVALID_INPUT,
                        format!("At most {} files per upload", fs.settings.max_files),
                    )
                    .into());
                }
                let bytes = field.bytes().await.map_err(bad)?.to_vec();
                files.push(Upload {
                    filename,
                    content_type,
                    bytes,
                });
            }
            "tenantId" => tenant = Some(field.text().await.map_err(bad)?),
            "module" => module = Some(field.text().await.map_err(bad)?),
            "tag" => tag = Some(field.text().await.map_err(bad)?),
            _ => {}
        }
    }
    let tenant = required(tenant, "tenantId")?;
    let user = ctx
        .as_ref()
        .and_then(|c| c.0.user.as_ref())
        .and_then(|u| u.uuid.clone());
    let ids = fs
        .upload(
            &tenant,
            module.as_deref(),
            tag.as_deref(),
            files,
            user.as_deref(),
        )
        .await?;
    let files: Vec<Value> = ids
        .iter()
        .map(|id| json!({"fileStoreId": id, "tenantId": tenant}))
        .collect();
    Ok((StatusCode::CREATED, Json(json!({"files": files}))).into_response())
}

async fn urls(
    State(fs): State<Filestore>,
    Query(q): Query<FileQuery>,
) -> Result<Json<Value>, ApiError> {
    let tenant = required(q.tenant_id, "tenantId")?;
    let ids: Vec<String> = required(q.file_store_ids, "fileStoreIds")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(100)
        .map(str::to_owned)
        .collect();
    let known = fs.known(&tenant, &ids).await?;
    let mut out = Map::new();
    let list: Vec<Value> = known
        .iter()
        .map(|id| {
            let url = fs.url(&tenant, id);
            out.insert(id.clone(), Value::String(url.clone()));
            json!({"id": id, "url": url, "tenantId": tenant})
        })
        .collect();
    out.insert("fileStoreIds".into(), Value::Array(list));
    Ok(Json(Value::Object(out)))
}

async fn fetch(
    State(fs): State<Filestore>,
    Query(q): Query<FileQuery>,
) -> Result<Response, ApiError> {
    let tenant = required(q.tenant_id, "tenantId")?;
    let id = required(q.file_store_id, "fileStoreId")?;
    let file = fs.fetch(&tenant, &id).await?;
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let safe: String = file
        .filename
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
