//! The calls a custom document needs: `externalUriMapping` (other services) and `mdmsMapping`
//! (MDMS v1 search, answers cached), through the shared HTTP client with its timeouts.
//!
//! Upstream configs name cluster hosts (`http://egov-workflow-v2.egov:8080/…`); the
//! host-rewrite rules ([`HostRewrite`], `INDEXER_HOST_REWRITE`) map them onto this suite's
//! services so the configs stay byte-identical. A failed call leaves the document without
//! that enrichment, as upstream does; it is logged and counted
//! (`indexer_enrichment_failures_total{target}`), never fatal to the record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use digit_http::HttpClient;
use prometheus::IntCounterVec;
use serde_json::Value;

use crate::domain::config::Index;
use crate::domain::transform::{self, ExternalCall, MdmsCall, Prepared};

/// `from=to` URL-prefix rewrites, first match wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRewrite(Vec<(String, String)>);

impl HostRewrite {
    /// Parses `from=to,from=to` (whitespace trimmed; trailing slashes ignored).
    pub fn parse(spec: &str) -> Result<HostRewrite, String> {
        let mut rules = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (from, to) = part
                .split_once('=')
                .ok_or_else(|| format!("host rewrite {part:?} is not from=to"))?;
            let (from, to) = (
                from.trim().trim_end_matches('/'),
                to.trim().trim_end_matches('/'),
            );
            if from.is_empty() || to.is_empty() {
                return Err(format!("host rewrite {part:?} has an empty side"));
            }
            rules.push((from.to_string(), to.to_string()));
        }
        Ok(HostRewrite(rules))
    }

    /// `url` with the first matching prefix replaced.
    pub fn apply(&self, url: &str) -> String {
        for (from, to) in &self.0 {
            if let Some(rest) = url.strip_prefix(from.as_str()) {
                if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
                    return format!("{to}{rest}");
                }
            }
        }
        url.to_string()
    }
}

/// Enrichment settings.
#[derive(Debug, Clone)]
pub struct EnrichSettings {
    /// Host rewrites.
    pub rewrite: HostRewrite,
    /// `egov.statelevel.tenantId`, sent as the `TENANTID` header.
    pub state_tenant: String,
    /// The MDMS search URL for mappings with an empty `path`.
    pub mdms_url: String,
    /// A service token: replaces `RequestInfo.authToken` of external requests and goes as
    /// `Authorization: Bearer` (our services check tokens; upstream sits behind a gateway).
    pub token: Option<String>,
    /// How long an MDMS answer is reused.
    pub mdms_cache_ttl: Duration,
    /// Most cached MDMS answers (the cache is emptied when full).
    pub mdms_cache_max: usize,
}

/// Builds documents for indexes with a `customJsonMapping`.
pub struct Enricher {
    http: HttpClient,
    settings: EnrichSettings,
    cache: Mutex<HashMap<MdmsCall, (Instant, Value)>>,
    /// One MDMS call per key at a time: the records of a batch are enriched concurrently,
    /// and without this each of them would miss the cache and ask MDMS the same question.
    in_flight: Mutex<HashMap<MdmsCall, Arc<tokio::sync::Mutex<()>>>>,
    failures: IntCounterVec,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("settings", &self.settings.rewrite)
            .finish_non_exhaustive()
    }
}

impl Enricher {
    /// An enricher calling through `http`, counting failures in `failures{target}`.
    pub fn new(http: HttpClient, settings: EnrichSettings, failures: IntCounterVec) -> Enricher {
        Enricher {
            http,
            settings,
            cache: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            failures,
        }
    }

    /// The document for one prepared record: the record itself, or the custom document with
    /// its external and MDMS enrichments.
    pub async fn document(
        &self,
        index: &Index,
        prepared: &Prepared,
        correlation_id: Option<&str>,
    ) -> Value {
        let Some(custom) = &index.custom else {
            return prepared.record.clone();
        };
        let record = &prepared.record;
        let mut doc = transform::base_document(custom, record);
        for uri in &custom.external {
            let Some(call) = transform::external_call(uri, record) else {
                continue;
            };
            match self.external(call, correlation_id).await {
                Ok(response) => {
                    transform::apply_response(&mut doc, &uri.response, &response, record, false)
                }
                Err(e) => {
                    self.failures.with_label_values(&["external"]).inc();
                    tracing::warn!(index = %index.name, url = %uri.path, error = %e, "External enrichment failed; indexing without it.");
                }
            }
        }
        for mdms in &custom.mdms {
            let Some(call) = transform::mdms_call(mdms, record) else {
                continue;
            };
            match self.mdms(call, correlation_id).await {
                Ok(response) => {
                    transform::apply_response(&mut doc, &mdms.response, &response, record, true)
                }
                Err(e) => {
                    self.failures.with_label_values(&["mdms"]).inc();
                    tracing::warn!(index = %index.name, module = %mdms.module, master = %mdms.master, error = %e, "MDMS enrichment failed; indexing without it.");
                }
            }
        }
        doc
    }

    async fn external(
        &self,
        call: ExternalCall,
        correlation_id: Option<&str>,
    ) -> Result<Value, digit_http::HttpError> {
        self.post(&call.url, &call.query, call.body, correlation_id)
            .await
    }

    /// POSTs `body` to `url` (host rewritten) with `query`, the `TENANTID` header and the
    /// service token (which also replaces the body's `RequestInfo.authToken`).
    pub async fn post(
        &self,
        url: &str,
        query: &[(String, String)],
        mut body: Value,
        correlation_id: Option<&str>,
    ) -> Result<Value, digit_http::HttpError> {
        if let (Some(token), Some(ri)) = (&self.settings.token, body.get_mut("RequestInfo")) {
            if let Some(ri) = ri.as_object_mut() {
                ri.insert("authToken".into(), Value::String(token.clone()));
            }
        }
        let mut request = self
            .http
            .post(self.settings.rewrite.apply(url))
            .query(query)
            .json(&body)
            .header("TENANTID", &self.settings.state_tenant)
            .correlation_id(correlation_id);
        if let Some(token) = &self.settings.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request.send_json().await
    }

    async fn mdms(
        &self,
        call: MdmsCall,
        correlation_id: Option<&str>,
    ) -> Result<Value, digit_http::HttpError> {
        if let Some(hit) = self.cached(&call) {
            return Ok(hit);
        }
        let gate = self
            .in_flight
            .lock()
            .ok()
            .map(|mut calls| calls.entry(call.clone()).or_default().clone());
        let _turn = match &gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        // The call ahead of this one may have answered it.
        if let Some(hit) = self.cached(&call) {
            return Ok(hit);
        }
        let answer = self.fetch_mdms(&call, correlation_id).await;
        if let Ok(mut calls) = self.in_flight.lock() {
            calls.remove(&call);
        }
        answer
    }

    async fn fetch_mdms(
        &self,
        call: &MdmsCall,
        correlation_id: Option<&str>,
    ) -> Result<Value, digit_http::HttpError> {
        let url = if call.url.is_empty() {
            self.settings.mdms_url.clone()
        } else {
            self.settings.rewrite.apply(&call.url)
        };
        let answer: Value = self
            .http
            .post(url)
            .json(&call.body())
            .header("TENANTID", &call.tenant_id)
            .correlation_id(correlation_id)
            .idempotent()
            .send_json()
            .await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= self.settings.mdms_cache_max {
                cache.clear();
            }
            cache.insert(call.clone(), (Instant::now(), answer.clone()));
        }
        Ok(answer)
    }

    fn cached(&self, call: &MdmsCall) -> Option<Value> {
        let cache = self.cache.lock().ok()?;
        let (at, value) = cache.get(call)?;
        (at.elapsed() < self.settings.mdms_cache_ttl).then(|| value.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn host_rewrite_maps_prefixes_only_at_boundaries() {
        let r = HostRewrite::parse(
            "http://egov-workflow-v2.egov:8080=http://127.0.0.1:8081/, http://mdms-v2.egov:8080 = http://127.0.0.1:8081",
        )
        .unwrap();
        assert_eq!(
            r.apply("http://egov-workflow-v2.egov:8080/egov-workflow-v2/egov-wf/process/_search"),
            "http://127.0.0.1:8081/egov-workflow-v2/egov-wf/process/_search"
        );
        assert_eq!(
            r.apply("http://mdms-v2.egov:8080/mdms-v2/v1/_search"),
            "http://127.0.0.1:8081/mdms-v2/v1/_search"
        );
        assert_eq!(
            r.apply("http://mdms-v2.egov:80801/x"),
            "http://mdms-v2.egov:80801/x"
        );
        assert_eq!(r.apply("http://other/x"), "http://other/x");
        assert!(HostRewrite::parse("nonsense").is_err());
        assert!(HostRewrite::parse("a=").is_err());
        assert_eq!(HostRewrite::parse("").unwrap(), HostRewrite::default());
    }
}
