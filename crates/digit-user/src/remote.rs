//! egov-user over HTTP (`POST {host}/user/_search` with `{RequestInfo, uuid: [...]}`).

use crate::{UserDirectory, UserError};
use digit_core::{RequestInfo, UserInfo};
use serde::Deserialize;

/// A remote egov-user.
#[derive(Debug, Clone)]
pub struct RemoteUsers {
    client: reqwest::Client,
    search_url: String,
}

impl RemoteUsers {
    /// `host` like `http://egov-user:8080`, `search_endpoint` like `/user/_search`.
    pub fn new(host: impl AsRef<str>, search_endpoint: impl AsRef<str>) -> Self {
        let host = host.as_ref().trim_end_matches('/');
        let path = search_endpoint.as_ref();
        let sep = if path.starts_with('/') { "" } else { "/" };
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            search_url: format!("{host}{sep}{path}"),
        }
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    user: Vec<UserInfo>,
}

#[async_trait::async_trait]
impl UserDirectory for RemoteUsers {
    async fn search_by_uuids(
        &self,
        request_info: &RequestInfo,
        uuids: &[String],
    ) -> Result<Vec<UserInfo>, UserError> {
        if uuids.is_empty() {
            return Ok(Vec::new());
        }
        let body = serde_json::json!({"RequestInfo": request_info, "uuid": uuids});
        let response = self
            .client
            .post(&self.search_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| UserError::Remote(e.to_string()))?;
        if !response.status().is_success() {
            return Err(UserError::Remote(format!("HTTP {}", response.status())));
        }
        let parsed: SearchResponse = response
            .json()
            .await
            .map_err(|e| UserError::Remote(e.to_string()))?;
        Ok(parsed.user)
    }
}
