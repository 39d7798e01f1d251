//! The index-operations behind the API (§3.3): `_index` (a body onto a configured topic),
//! `_reindex` (an index read in `search_after` pages onto a REINDEX topic) and `_legacyindex`
//! (a service's search API paged onto a LEGACYINDEX topic), with their jobs in
//! `eg_indexer_job`. Jobs run in the background; their progress is in the job row and in
//! `indexer_job_records{job,state}`.

use std::sync::Arc;
use std::time::Instant;

use digit_core::time::now_ms;
use digit_jsonpath::JsonPath;
use digit_kafka::Producer;
use digit_service::Shutdown;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::domain::config::{ConfigKey, IndexerConfig};
use crate::error::IndexerError;
use crate::metrics::IndexerMetrics;
use crate::store::enrich::Enricher;
use crate::store::es::Es;
use crate::store::jobs::{self, JobKind, NewJob};

/// Most records per page of a job.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Job settings.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `reindex.pagination.size.default`.
    pub reindex_page_size: usize,
    /// `legacyindex.pagination.size.default`.
    pub legacy_page_size: usize,
    /// `egov.service.host`: prefix of relative legacy-index URIs.
    pub service_host: String,
    /// The Elasticsearch URL shown in job answers.
    pub es_url: String,
}

/// What the API needs.
#[derive(Clone)]
pub struct IndexOperations {
    /// Configs.
    pub config: Arc<IndexerConfig>,
    /// Elasticsearch.
    pub es: Es,
    /// Producer (topics verbatim).
    pub producer: Producer,
    /// Job rows.
    pub pool: PgPool,
    /// HTTP calls of legacy indexing.
    pub enricher: Arc<Enricher>,
    /// Settings.
    pub settings: JobSettings,
    /// Instruments.
    pub metrics: IndexerMetrics,
    /// Jobs stop at shutdown (and stay INPROGRESS, with their progress recorded).
    pub shutdown: Shutdown,
}

/// `ReindexRequest`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReindexRequest {
    /// Source index.
    pub index: Option<String>,
    /// Legacy type (ignored: typeless search).
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Where pages go; must have a REINDEX mapping.
    pub reindex_topic: Option<String>,
    /// Tenant (bookkeeping).
    pub tenant_id: Option<String>,
    /// Page size.
    pub batch_size: Option<usize>,
}

/// `LegacyIndexRequest`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyIndexRequest {
    /// The API to page through.
    pub api_details: Option<ApiDetails>,
    /// Where pages go; must have a LEGACYINDEX mapping.
    pub legacy_index_topic: Option<String>,
    /// Tenant (bookkeeping).
    pub tenant_id: Option<String>,
}

/// `APIDetails`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiDetails {
    /// Absolute, or relative to `egov.service.host`.
    pub uri: Option<String>,
    /// Body (default `{RequestInfo}`).
    pub request: Option<Value>,
    /// `tenantId` query parameter.
    pub tenant_id_for_open_search: Option<String>,
    /// Appended to the query as written.
    pub custom_query_param: Option<String>,
    /// Paging.
    #[serde(default)]
    pub pagination_details: PaginationDetails,
    /// Where the records of a page are (an empty selection ends the job).
    pub response_json_path: Option<String>,
}

/// `PaginationDetails`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaginationDetails {
    /// Offset parameter name (default `offset`).
    pub offset_key: Option<String>,
    /// Size parameter name (default `size`).
    pub size_key: Option<String>,
    /// Page size.
    pub max_page_size: Option<usize>,
    /// First offset.
    pub starting_offset: Option<u64>,
    /// Stop after this many records.
    pub max_records: Option<u64>,
}

/// Job answers share these fields.
#[derive(Debug, Clone)]
pub struct Started {
    /// Job id.
    pub job_id: String,
    /// `<es>/<index>/_search` of the target index.
    pub url: String,
    /// Records to go (reindex).
    pub total: Option<u64>,
}

impl IndexOperations {
    /// `_index`: produces `body` to `topic`, which a config must map.
    pub async fn index(
        &self,
        topic: &str,
        body: &Value,
        correlation: Option<&str>,
    ) -> Result<(), IndexerError> {
        if self.config.key_of(topic).is_none() {
            return Err(IndexerError::TopicNotConfigured(topic.to_string()));
        }
        self.producer
            .send_json(topic, None, body, correlation)
            .await
            .map_err(|e| IndexerError::Kafka(e.to_string()))?;
        Ok(())
    }

    /// The index a job topic's mapping writes.
    fn target_index(&self, topic: &str, key: ConfigKey) -> Result<String, IndexerError> {
        self.config
            .mappings_of(topic)
            .find(|m| m.config_key == key)
            .and_then(|m| m.indexes.first())
            .map(|i| i.name.clone())
            .ok_or_else(|| IndexerError::JobTopicNotConfigured {
                topic: topic.to_string(),
                key: key.as_str(),
            })
    }

    /// `_reindex`: checks, counts, records the job and starts it.
    pub async fn reindex(
        &self,
        request: ReindexRequest,
        caller: Option<&str>,
    ) -> Result<Started, IndexerError> {
        let index = required(request.index, "index")?;
        let topic = required(request.reindex_topic, "reindexTopic")?;
        let size = page_size(request.batch_size, self.settings.reindex_page_size)?;
        let target = self.target_index(&topic, ConfigKey::Reindex)?;
        let total = self
            .es
            .count(&index)
            .await
            .map_err(|e| IndexerError::Elasticsearch(e.to_string()))?;
        let job_id = uuid::Uuid::new_v4().to_string();
        jobs::insert(
            &self.pool,
            &NewJob {
                id: &job_id,
                kind: JobKind::Reindex,
                old_index: Some(&index),
                new_index: Some(&target),
                topic: &topic,
                tenant_id: request.tenant_id.as_deref(),
                records: Some(i64::try_from(total).unwrap_or(i64::MAX)),
                created_by: caller,
                now: now_ms(),
            },
        )
        .await?;
        let ops = self.clone();
        let id = job_id.clone();
        tokio::spawn(async move { ops.run_reindex(id, index, topic, size).await });
        Ok(Started {
            job_id,
            url: format!(
                "{}/{target}/_search",
                self.settings.es_url.trim_end_matches('/')
            ),
            total: Some(total),
        })
    }

    async fn run_reindex(self, job: String, index: String, topic: String, size: usize) {
        let started = Instant::now();
        let mut after: Option<Value> = None;
        let mut produced: i64 = 0;
        let outcome: Result<(), String> = loop {
            if self.shutdown.is_triggered() {
                break Err("stopped by shutdown".into());
            }
            let page = match self.es.page_after(&index, size, after.as_ref()).await {
                Ok(page) => page,
                Err(e) => break Err(format!("reading {index}: {e}")),
            };
            if page.is_empty() {
                break Ok(());
            }
            after = page.last().map(|(sort, _)| sort.clone());
            let hits: Vec<Value> = page.into_iter().map(|(_, source)| source).collect();
            let count = hits.len() as i64;
            if let Err(e) = self
                .producer
                .send_json(&topic, None, &json!({"hits": hits}), None)
                .await
            {
                break Err(format!("producing to {topic}: {e}"));
            }
            produced += count;
            self.record_progress(&job, "reindex", produced, started)
                .await;
        };
        self.finish(&job, "reindex", produced, started, outcome.err())
            .await;
    }

    /// `_legacyindex`: checks, records the job and starts it.
    pub async fn legacy_index(
        &self,
        request: LegacyIndexRequest,
        caller: Option<&str>,
    ) -> Result<Started, IndexerError> {
        let details = request
            .api_details
            .ok_or_else(|| IndexerError::Invalid("apiDetails is required".into()))?;
        let uri = required(details.uri.clone(), "apiDetails.uri")?;
        let path = required(
            details.response_json_path.clone(),
            "apiDetails.responseJsonPath",
        )?;
        let path = JsonPath::parse(&path)
            .map_err(|e| IndexerError::Invalid(format!("apiDetails.responseJsonPath: {e}")))?;
        let topic = required(request.legacy_index_topic, "legacyIndexTopic")?;
        let size = page_size(
            details.pagination_details.max_page_size,
            self.settings.legacy_page_size,
        )?;
        let target = self.target_index(&topic, ConfigKey::LegacyIndex)?;
        let job_id = uuid::Uuid::new_v4().to_string();
        jobs::insert(
            &self.pool,
            &NewJob {
                id: &job_id,
                kind: JobKind::LegacyIndex,
                old_index: None,
                new_index: Some(&target),
                topic: &topic,
                tenant_id: request.tenant_id.as_deref(),
                records: None,
                created_by: caller,
                now: now_ms(),
            },
        )
        .await?;
        let url = if uri.starts_with("http://") || uri.starts_with("https://") {
            uri
        } else {
            format!(
                "{}/{}",
                self.settings.service_host.trim_end_matches('/'),
                uri.trim_start_matches('/')
            )
        };
        let ops = self.clone();
        let id = job_id.clone();
        tokio::spawn(async move { ops.run_legacy(id, url, details, path, topic, size).await });
        Ok(Started {
            job_id,
            url: format!(
                "{}/{target}/_search",
                self.settings.es_url.trim_end_matches('/')
            ),
            total: None,
        })
    }

    async fn run_legacy(
        self,
        job: String,
        url: String,
        details: ApiDetails,
        path: JsonPath,
        topic: String,
        size: usize,
    ) {
        let started = Instant::now();
        let paging = &details.pagination_details;
        let offset_key = paging.offset_key.clone().unwrap_or_else(|| "offset".into());
        let size_key = paging.size_key.clone().unwrap_or_else(|| "size".into());
        let mut offset = paging.starting_offset.unwrap_or(0);
        let max = paging.max_records;
        let body = details
            .request
            .clone()
            .unwrap_or_else(|| json!({"RequestInfo": {}}));
        let mut produced: i64 = 0;
        let outcome: Result<(), String> = loop {
            if self.shutdown.is_triggered() {
                break Err("stopped by shutdown".into());
            }
            let mut query = Vec::new();
            if let Some(t) = details
                .tenant_id_for_open_search
                .as_deref()
                .filter(|t| !t.is_empty())
            {
                query.push(("tenantId".to_string(), t.to_string()));
            }
            query.push((offset_key.clone(), offset.to_string()));
            query.push((size_key.clone(), size.to_string()));
            if let Some(custom) = details.custom_query_param.as_deref() {
                for pair in custom.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    query.push((k.to_string(), v.to_string()));
                }
            }
            let page = match self.enricher.post(&url, &query, body.clone(), None).await {
                Ok(page) => page,
                Err(e) => break Err(format!("calling {url}: {e}")),
            };
            let records = match path.read_value(&page) {
                Ok(Value::Array(items)) => items.len(),
                Ok(Value::Null) | Err(_) => 0,
                Ok(_) => 1,
            };
            if records == 0 {
                break Ok(());
            }
            if let Err(e) = self.producer.send_json(&topic, None, &page, None).await {
                break Err(format!("producing to {topic}: {e}"));
            }
            produced += records as i64;
            offset += records as u64;
            self.record_progress(&job, "legacyindex", produced, started)
                .await;
            if records < size || max.is_some_and(|m| produced as u64 >= m) {
                break Ok(());
            }
        };
        self.finish(&job, "legacyindex", produced, started, outcome.err())
            .await;
    }

    async fn record_progress(&self, job: &str, kind: &str, produced: i64, started: Instant) {
        self.metrics
            .job_records
            .with_label_values(&[kind, "produced"])
            .set(produced);
        let elapsed = started.elapsed().as_millis() as i64;
        if let Err(e) = jobs::progress(&self.pool, job, produced, elapsed, now_ms()).await {
            tracing::warn!(job, error = %e, "Could not record job progress.");
        }
    }

    async fn finish(
        &self,
        job: &str,
        kind: &str,
        produced: i64,
        started: Instant,
        failure: Option<String>,
    ) {
        let elapsed = started.elapsed().as_millis() as i64;
        match &failure {
            None => tracing::info!(
                job,
                kind,
                records = produced,
                elapsed_ms = elapsed,
                "Index job completed."
            ),
            Some(reason) => {
                tracing::error!(job, kind, records = produced, %reason, "Index job failed.")
            }
        }
        if let Err(e) = jobs::finish(
            &self.pool,
            job,
            produced,
            elapsed,
            now_ms(),
            failure.as_deref(),
        )
        .await
        {
            tracing::error!(job, error = %e, "Could not record the end of an index job.");
        }
    }
}

fn required(value: Option<String>, name: &str) -> Result<String, IndexerError> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| IndexerError::Invalid(format!("{name} is required")))
}

fn page_size(requested: Option<usize>, default: usize) -> Result<usize, IndexerError> {
    match requested {
        None | Some(0) => Ok(default),
        Some(n) if n <= MAX_PAGE_SIZE => Ok(n),
        Some(n) => Err(IndexerError::Invalid(format!(
            "page size {n} is above the maximum of {MAX_PAGE_SIZE}"
        ))),
    }
}
