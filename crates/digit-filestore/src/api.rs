//! egov-filestore's paths: `POST /filestore/v1/files` (multipart: `file` once or more,
//! `tenantId`, `module`, `tag`; also as query parameters) → 201 `{"files": [{fileStoreId,
//! tenantId}]}`; `GET /filestore/v1/files/url?tenantId=&fileStoreIds=a,b` →
//! `{"fileStoreIds": [{id, url, tenantId}], "<id>": "<url>"}`; `GET
//! /filestore/v1/files/id?tenantId=&fileStoreId=` → the bytes with their content type.

use crate::error::FilestoreError;
use crate::{rules, Filestore, Upload};
use aide::openapi::{
    Header, MediaType, ParameterSchemaOrContent, ReferenceOr, RequestBody, Response as Doc,
    SchemaObject, SecurityRequirement,
};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use digit_service::gate::RequestContext;
use digit_service::openapi::{document, get_with, post_with, TransformOperation, BEARER};
use digit_service::{ApiError, ApiRouter, Documented, QueryCriteria};
use indexmap::IndexMap;
use schemars::json_schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Upload path (mixed-mode: a token is optional, as upstream's gateway lists it).
pub const UPLOAD_PATH: &str = "/filestore/v1/files";
/// URL listing (open).
pub const URL_PATH: &str = "/filestore/v1/files/url";
/// Fetch by id (open).
pub const FILE_PATH: &str = "/filestore/v1/files/id";

/// Query parameters of the three paths.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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

/// `201` answer of an upload.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UploadResponse {
    /// The stored files, in the order uploaded.
    pub files: Vec<UploadedFile>,
}

/// One stored file.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadedFile {
    /// Its id.
    pub file_store_id: String,
    /// Its tenant.
    pub tenant_id: String,
}

/// The `files/url` answer: the known ids as a list and, as upstream, each id as a key whose
/// value is its URL.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FileUrls {
    /// `"<fileStoreId>": "<url>"` for every known id.
    #[serde(flatten)]
    pub by_id: BTreeMap<String, String>,
    /// The known ids with their URLs (unknown ids are left out).
    #[serde(rename = "fileStoreIds")]
    pub file_store_ids: Vec<FileUrl>,
}

/// One known file's URL.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileUrl {
    /// Its id.
    pub id: String,
    /// Where it is fetched (`/filestore/v1/files/id?tenantId=&fileStoreId=`).
    pub url: String,
    /// Its tenant.
    pub tenant_id: String,
}

/// Keeps only the query parameters named `names` (the three paths share [`FileQuery`]).
fn only_params<'a>(mut op: TransformOperation<'a>, names: &[&str]) -> TransformOperation<'a> {
    op.inner_mut().parameters.retain(|p| {
        p.as_item()
            .is_none_or(|p| names.contains(&p.parameter_data_ref().name.as_str()))
    });
    op
}

/// Who may call: anyone (`open`) or anyone with an optional token (`mixed`).
fn anonymous(mut op: TransformOperation<'_>, mixed: bool) -> TransformOperation<'_> {
    let mut security = Vec::new();
    if mixed {
        let mut bearer = SecurityRequirement::new();
        bearer.insert(BEARER.to_owned(), Vec::new());
        security.push(bearer);
    }
    security.push(SecurityRequirement::new());
    op.inner_mut().security = security;
    op
}

fn media(json_schema: schemars::Schema) -> MediaType {
    MediaType {
        schema: Some(SchemaObject {
            json_schema,
            example: None,
            external_docs: None,
        }),
        ..Default::default()
    }
}

fn document_upload(op: TransformOperation<'_>) -> TransformOperation<'_> {
    let mut op = anonymous(only_params(op, &["tenantId", "module", "tag"]), true)
        .tag("Files")
        .summary("Upload files (multipart; a token is optional)")
        .description(
            "`multipart/form-data` with one `file` part per file (at most the configured \
             count, each within the size limit, of an allowed type) and `tenantId`, \
             `module`, `tag` as parts or query parameters (parts win). Nothing is stored \
             when one file is refused.",
        )
        .response_with::<201, Json<UploadResponse>, _>(|r| r.description("The stored files"));
    op.inner_mut().request_body = Some(ReferenceOr::Item(RequestBody {
        description: Some("The files and their tenant, module and tag".into()),
        content: IndexMap::from_iter([(
            "multipart/form-data".into(),
            media(json_schema!({
                "type": "object",
                "properties": {
                    "file": {
                        "description": "A file (repeat the part for several files)",
                        "type": "array",
                        "items": {"type": "string", "format": "binary"}
                    },
                    "tenantId": {"description": "Tenant (mandatory here or in the query)", "type": "string"},
                    "module": {"description": "Module, e.g. `PGR`", "type": "string"},
                    "tag": {"description": "Free tag", "type": "string"}
                },
                "required": ["file"]
            })),
        )]),
        required: true,
        extensions: IndexMap::default(),
    }));
    op
}

fn document_fetch(op: TransformOperation<'_>) -> TransformOperation<'_> {
    let mut op = anonymous(only_params(op, &["tenantId", "fileStoreId"]), false)
        .tag("Files")
        .summary("Fetch a file's bytes (open)");
    let bytes = Doc {
        description: "The file's bytes, with the content type it was stored with and an \
                      attachment disposition naming the original file"
            .into(),
        headers: IndexMap::from_iter([(
            "Content-Disposition".to_owned(),
            ReferenceOr::Item(Header {
                description: Some("`attachment; filename=\"<original name>\"`".into()),
                style: aide::openapi::HeaderStyle::Simple,
                required: true,
                deprecated: None,
                format: ParameterSchemaOrContent::Schema(SchemaObject {
                    json_schema: json_schema!({"type": "string"}),
                    example: None,
                    external_docs: None,
                }),
                example: None,
                examples: IndexMap::default(),
                extensions: IndexMap::default(),
            }),
        )]),
        content: IndexMap::from_iter([(
            "*/*".into(),
            media(json_schema!({"type": "string", "format": "binary"})),
        )]),
        ..Default::default()
    };
    op.inner_mut()
        .responses
        .get_or_insert_with(Default::default)
        .responses
        .insert(
            aide::openapi::StatusCode::Code(200),
            ReferenceOr::Item(bytes),
        );
    op
}

/// The routes and their OpenAPI document (served at `/filestore/openapi.json`).
pub fn router(filestore: Filestore) -> Documented {
    // Multipart overhead on top of the files themselves.
    let limit = filestore
        .settings
        .max_bytes
        .saturating_mul(filestore.settings.max_files)
        .saturating_add(1 << 20);
    let routes = ApiRouter::new()
        .api_route(
            UPLOAD_PATH,
            post_with(upload, document_upload).layer(DefaultBodyLimit::max(limit)),
        )
        .api_route(
            URL_PATH,
            get_with(urls, |o| {
                anonymous(only_params(o, &["tenantId", "fileStoreIds"]), false)
                    .tag("Files")
                    .summary("URLs of files by id (open; unknown ids are left out)")
            }),
        )
        .api_route(FILE_PATH, get_with(fetch, document_fetch))
        .with_state(filestore);
    document(
        "Filestore",
        "egov-filestore: upload of attachments (local disk or an S3-compatible bucket, with \
         size and type limits), their URLs and their bytes.",
        &["/filestore"],
        routes,
    )
}

async fn upload(
    State(fs): State<Filestore>,
    ctx: Option<Extension<RequestContext>>,
    QueryCriteria(q): QueryCriteria<FileQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    // Not multipart, or no boundary: a DIGIT 400 like every other bad body (axum's own
    // rejection is plain text).
    let mut multipart = multipart.map_err(|e| {
        FilestoreError::Invalid(
            rules::INVALID_INPUT,
            format!("Invalid multipart body: {}", e.body_text()),
        )
    })?;
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
    let files = ids
        .into_iter()
        .map(|file_store_id| UploadedFile {
            file_store_id,
            tenant_id: tenant.clone(),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(UploadResponse { files })).into_response())
}

async fn urls(
    State(fs): State<Filestore>,
    QueryCriteria(q): QueryCriteria<FileQuery>,
) -> Result<Json<FileUrls>, ApiError> {
    let tenant = required(q.tenant_id, "tenantId")?;
    let ids: Vec<String> = required(q.file_store_ids, "fileStoreIds")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(100)
        .map(str::to_owned)
        .collect();
    let known = fs.known(&tenant, &ids).await?;
    let mut by_id = BTreeMap::new();
    let file_store_ids = known
        .into_iter()
        .map(|id| {
            let url = fs.url(&tenant, &id);
            by_id.insert(id.clone(), url.clone());
            FileUrl {
                id,
                url,
                tenant_id: tenant.clone(),
            }
        })
        .collect();
    Ok(Json(FileUrls {
        by_id,
        file_store_ids,
    }))
}

async fn fetch(
    State(fs): State<Filestore>,
    QueryCriteria(q): QueryCriteria<FileQuery>,
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
