//! A DIGIT MDMS reached over HTTP (`egov-mdms-service` or the v1 endpoint of `mdms-v2`).

use std::time::Duration;

use digit_core::{ErrorResponse, RequestInfo};
use serde_json::Value;

use crate::error::MdmsError;
use crate::model::{MdmsCriteria, MdmsCriteriaReq, MdmsRes};
use crate::MdmsSource;

/// Environment variable with the MDMS base URL, e.g. `http://egov-mdms-service:8080/`.
pub const EGOV_MDMS_HOST_ENV: &str = "EGOV_MDMS_HOST";
/// Environment variable with the search path, e.g. `mdms-v2/v1/_search`.
pub const EGOV_MDMS_SEARCH_ENDPOINT_ENV: &str = "EGOV_MDMS_SEARCH_ENDPOINT";
/// Search path used when [`EGOV_MDMS_SEARCH_ENDPOINT_ENV`] is unset.
pub const DEFAULT_SEARCH_ENDPOINT: &str = "egov-mdms-service/v1/_search";
/// Header carrying the correlation id between DIGIT services.
pub const CORRELATION_HEADER: &str = "x-correlation-id";
/// Default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Remote MDMS client.
#[derive(Debug, Clone)]
pub struct RemoteMdms {
    client: reqwest::Client,
    url: String,
}

/// Joins a base URL and a path with exactly one `/` between them; an absolute `endpoint`
/// (`http://…`) is used as is.
pub fn join_url(host: &str, endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint.to_string();
    }
    let host = host.trim().trim_end_matches('/');
    let path = endpoint.trim_start_matches('/');
    if path.is_empty() {
        host.to_string()
    } else {
        format!("{host}/{path}")
    }
}

impl RemoteMdms {
    /// A client for `<host>/<endpoint>` with [`DEFAULT_TIMEOUT`].
    pub fn new(host: &str, endpoint: &str) -> Result<RemoteMdms, MdmsError> {
        let client = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .map_err(|e| MdmsError::Config(format!("cannot build HTTP client: {e}")))?;
        RemoteMdms::with_client(client, host, endpoint)
    }

    /// A client using a caller-configured `reqwest::Client`.
    pub fn with_client(
        client: reqwest::Client,
        host: &str,
        endpoint: &str,
    ) -> Result<RemoteMdms, MdmsError> {
        let url = join_url(host, endpoint);
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| MdmsError::Config(format!("invalid MDMS URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(MdmsError::Config(format!(
                "MDMS URL {url:?} must use http or https"
            )));
        }
        Ok(RemoteMdms { client, url })
    }

    /// From `EGOV_MDMS_HOST` and `EGOV_MDMS_SEARCH_ENDPOINT`; `Ok(None)` when no host is set.
    pub fn from_env() -> Result<Option<RemoteMdms>, MdmsError> {
        let Some(host) = std::env::var(EGOV_MDMS_HOST_ENV)
            .ok()
            .filter(|h| !h.trim().is_empty())
        else {
            return Ok(None);
        };
        let endpoint = std::env::var(EGOV_MDMS_SEARCH_ENDPOINT_ENV)
            .ok()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_SEARCH_ENDPOINT.to_string());
        RemoteMdms::new(&host, &endpoint).map(Some)
    }

    /// The search URL called.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn access_error(&self, reason: impl Into<String>) -> MdmsError {
        MdmsError::ResourceAccess {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }
}

#[async_trait::async_trait]
impl MdmsSource for RemoteMdms {
    async fn search_with(
        &self,
        request_info: &RequestInfo,
        criteria: &MdmsCriteria,
    ) -> Result<MdmsRes, MdmsError> {
        let correlation_id = request_info
            .correlation_id
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let body = MdmsCriteriaReq {
            request_info,
            mdms_criteria: criteria,
        };
        let response = self
            .client
            .post(&self.url)
            .header(CORRELATION_HEADER, &correlation_id)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.access_error(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.access_error(e.to_string()))?;
        if !status.is_success() {
            return match serde_json::from_slice::<ErrorResponse>(&bytes) {
                Ok(err) if !err.errors.is_empty() => Err(MdmsError::Downstream {
                    status: status.as_u16(),
                    errors: err.errors,
                }),
                _ => Err(self.access_error(format!("MDMS answered HTTP {status}"))),
            };
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| self.access_error(format!("invalid MDMS response: {e}")))?;
        match value.get("MdmsRes") {
            Some(Value::Object(res)) => Ok(res.clone()),
            Some(Value::Null) | None => Ok(MdmsRes::new()),
            Some(_) => Err(self.access_error("invalid MDMS response: MdmsRes is not an object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_host_and_endpoint_defensively() {
        let want = "http://mdms:8080/egov-mdms-service/v1/_search";
        for (host, endpoint) in [
            ("http://mdms:8080", "egov-mdms-service/v1/_search"),
            ("http://mdms:8080/", "egov-mdms-service/v1/_search"),
            ("http://mdms:8080/", "/egov-mdms-service/v1/_search"),
            ("http://mdms:8080//", "//egov-mdms-service/v1/_search"),
            (" http://mdms:8080 ", " /egov-mdms-service/v1/_search "),
        ] {
            assert_eq!(join_url(host, endpoint), want, "{host} + {endpoint}");
        }
        assert_eq!(join_url("http://h/", ""), "http://h");
        assert_eq!(
            join_url("http://ignored", "https://mdms/v1/_search"),
            "https://mdms/v1/_search"
        );
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            RemoteMdms::new("not a url", "x"),
            Err(MdmsError::Config(_))
        ));
        assert!(matches!(
            RemoteMdms::new("ftp://host", "x"),
            Err(MdmsError::Config(_))
        ));
        let ok = RemoteMdms::new("http://mdms:8080/", "/mdms-v2/v1/_search").expect("valid");
        assert_eq!(ok.url(), "http://mdms:8080/mdms-v2/v1/_search");
    }
}
