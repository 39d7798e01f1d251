//! Elasticsearch through the `elasticsearch` crate: bulk writes whose items are sorted into
//! acknowledged, retryable (429, 5xx) and permanent (mapping errors and other 4xx), the
//! health probe, index templates, and the paged reads `_reindex` needs.

use std::time::Duration;

use elasticsearch::auth::Credentials;
use elasticsearch::http::request::JsonBody;
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::indices::IndicesPutIndexTemplateParts;
use elasticsearch::{BulkParts, Elasticsearch, SearchParts};
use serde_json::{json, Value};

/// Why Elasticsearch could not take a request as a whole.
#[derive(Debug, thiserror::Error)]
pub enum EsError {
    /// Not reachable, timed out, or answered 429/5xx: try again later.
    #[error("Elasticsearch unavailable: {0}")]
    Unavailable(String),
    /// Refused the request itself (a 4xx other than 429).
    #[error("Elasticsearch refused the request ({status}): {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The answer, shortened.
        body: String,
    },
}

impl EsError {
    /// True when a later retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, EsError::Unavailable(_))
    }
}

/// One document to write.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    /// Target index.
    pub index: String,
    /// Document id (a redelivery overwrites).
    pub id: String,
    /// The document.
    pub source: Value,
}

/// What became of one item of a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Written.
    Ok,
    /// 429 or 5xx for this item: send it again.
    Retry(String),
    /// Refused for good (e.g. `mapper_parsing_exception`): dead-letter its message.
    Permanent(String),
}

/// The client and the settings it was built with.
#[derive(Clone, Debug)]
pub struct Es {
    client: Elasticsearch,
    timeout: Duration,
}

impl Es {
    /// A client for `url` with optional Basic credentials; every call bounded by `timeout`.
    pub fn new(
        url: &str,
        credentials: Option<(String, String)>,
        timeout: Duration,
    ) -> anyhow::Result<Es> {
        let url = elasticsearch::http::Url::parse(url)?;
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .disable_proxy()
            .timeout(timeout);
        if let Some((user, password)) = credentials {
            builder = builder.auth(Credentials::Basic(user, password));
        }
        Ok(Es {
            client: Elasticsearch::new(builder.build()?),
            timeout,
        })
    }

    /// The underlying client (the dashboard's aggregations).
    pub fn client(&self) -> &Elasticsearch {
        &self.client
    }

    /// True when Elasticsearch answers `/_cluster/health` (upstream's probe).
    pub async fn reachable(&self) -> bool {
        match self
            .client
            .cluster()
            .health(elasticsearch::cluster::ClusterHealthParts::None)
            .send()
            .await
        {
            Ok(r) => r.status_code().is_success(),
            Err(e) => {
                tracing::debug!(error = %e, "Elasticsearch health call failed.");
                false
            }
        }
    }

    /// Writes `items` with one `_bulk` call; the outcome of each item, in order.
    pub async fn bulk(&self, items: &[BulkItem]) -> Result<Vec<ItemOutcome>, EsError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut body: Vec<JsonBody<Value>> = Vec::with_capacity(items.len() * 2);
        for item in items {
            body.push(json!({"index": {"_index": item.index, "_id": item.id}}).into());
            body.push(item.source.clone().into());
        }
        let response = self
            .client
            .bulk(BulkParts::None)
            .body(body)
            .send()
            .await
            .map_err(|e| EsError::Unavailable(e.to_string()))?;
        let answer = read(response).await?;
        Ok(item_outcomes(&answer, items.len()))
    }

    /// Installs an index template (`PUT _index_template/<name>`).
    pub async fn put_template(&self, name: &str, template: &Value) -> Result<(), EsError> {
        let response = self
            .client
            .indices()
            .put_index_template(IndicesPutIndexTemplateParts::Name(name))
            .body(template.clone())
            .send()
            .await
            .map_err(|e| EsError::Unavailable(e.to_string()))?;
        read(response).await.map(|_| ())
    }

    /// `POST <index>/_search` with `body` (missing indexes read as empty).
    pub async fn search(&self, indexes: &[&str], body: Value) -> Result<Value, EsError> {
        let response = self
            .client
            .search(SearchParts::Index(indexes))
            .ignore_unavailable(true)
            .allow_no_indices(true)
            .body(body)
            .request_timeout(self.timeout)
            .send()
            .await
            .map_err(|e| EsError::Unavailable(e.to_string()))?;
        read(response).await
    }

    /// Makes recent writes to `index` visible to searches (tests and the reindex end).
    pub async fn refresh(&self, index: &str) -> Result<(), EsError> {
        let response = self
            .client
            .indices()
            .refresh(elasticsearch::indices::IndicesRefreshParts::Index(&[index]))
            .send()
            .await
            .map_err(|e| EsError::Unavailable(e.to_string()))?;
        read(response).await.map(|_| ())
    }

    /// One page of `index` in `_id` order after `after` (search_after paging: no
    /// `max_result_window` to raise, unlike upstream): `(sort key, _source)` pairs.
    pub async fn page_after(
        &self,
        index: &str,
        size: usize,
        after: Option<&Value>,
    ) -> Result<Vec<(Value, Value)>, EsError> {
        let mut body = json!({
            "size": size,
            "sort": [{"_id": "asc"}],
            "query": {"match_all": {}}
        });
        if let Some(after) = after {
            body["search_after"] = after.clone();
        }
        let answer = self.search(&[index], body).await?;
        Ok(answer["hits"]["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .map(|h| (h["sort"].clone(), h["_source"].clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Number of documents in `index` (0 when it does not exist).
    pub async fn count(&self, index: &str) -> Result<u64, EsError> {
        let answer = self
            .search(&[index], json!({"size": 0, "track_total_hits": true}))
            .await?;
        Ok(answer["hits"]["total"]["value"]
            .as_u64()
            .or_else(|| answer["hits"]["total"].as_u64())
            .unwrap_or(0))
    }
}

async fn read(response: elasticsearch::http::response::Response) -> Result<Value, EsError> {
    let status = response.status_code().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| EsError::Unavailable(e.to_string()))?;
    if status == 429 || status >= 500 {
        return Err(EsError::Unavailable(format!(
            "HTTP {status}: {}",
            shorten(&text)
        )));
    }
    if !(200..300).contains(&status) {
        return Err(EsError::Refused {
            status,
            body: shorten(&text),
        });
    }
    serde_json::from_str(&text).map_err(|e| EsError::Unavailable(format!("unreadable answer: {e}")))
}

fn shorten(text: &str) -> String {
    text.chars().take(500).collect()
}

/// Sorts a `_bulk` answer's items (an item the answer does not list counts as retryable).
pub fn item_outcomes(answer: &Value, expected: usize) -> Vec<ItemOutcome> {
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    (0..expected)
        .map(|i| {
            let Some(item) = items.get(i) else {
                return ItemOutcome::Retry("missing from the bulk answer".into());
            };
            let result = item
                .as_object()
                .and_then(|o| o.values().next())
                .cloned()
                .unwrap_or(Value::Null);
            let status = result["status"].as_u64().unwrap_or(0);
            let error = || {
                let e = &result["error"];
                match (e["type"].as_str(), e["reason"].as_str()) {
                    (Some(t), Some(r)) => format!("{t}: {r}"),
                    _ => e.to_string(),
                }
            };
            match status {
                200..=299 => ItemOutcome::Ok,
                429 | 500..=599 | 0 => ItemOutcome::Retry(format!("HTTP {status}: {}", error())),
                _ => ItemOutcome::Permanent(format!("HTTP {status}: {}", error())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_items_are_sorted_by_status() {
        let answer = json!({"errors": true, "items": [
            {"index": {"_id": "1", "status": 201}},
            {"index": {"_id": "2", "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}},
            {"index": {"_id": "3", "status": 400, "error": {"type": "mapper_parsing_exception", "reason": "failed to parse field [Data.amt]"}}},
            {"index": {"_id": "4", "status": 503, "error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}}},
        ]});
        let outcomes = item_outcomes(&answer, 5);
        assert_eq!(outcomes[0], ItemOutcome::Ok);
        assert!(matches!(&outcomes[1], ItemOutcome::Retry(r) if r.contains("queue full")));
        assert!(
            matches!(&outcomes[2], ItemOutcome::Permanent(r) if r.starts_with("HTTP 400: mapper_parsing_exception"))
        );
        assert!(matches!(&outcomes[3], ItemOutcome::Retry(_)));
        assert!(matches!(&outcomes[4], ItemOutcome::Retry(_)));
    }
}
