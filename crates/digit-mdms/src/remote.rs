//! A DIGIT MDMS reached over HTTP (`egov-mdms-service` or the v1 endpoint of `mdms-v2`),
//! through the shared [`digit_http::HttpClient`].

use digit_core::RequestInfo;
use digit_http::HttpClient;
use digit_service::config::{Env, EnvVar};
use digit_service::Metrics;
use serde_json::Value;

use crate::error::MdmsError;
use crate::model::{MdmsCriteria, MdmsCriteriaReq, MdmsRes};
use crate::MdmsSource;

pub use digit_http::{join_url, CORRELATION_HEADER};

/// The MDMS base URL, e.g. `http://egov-mdms-service:8080/`; set, it switches off the
/// embedded data.
pub const MDMS_HOST: EnvVar = EnvVar {
    name: "EGOV_MDMS_HOST",
    aliases: &[],
    default: "",
    help: "Remote DIGIT MDMS base URL (switches off embedded data)",
};
/// The search path, e.g. `mdms-v2/v1/_search`.
pub const MDMS_SEARCH_ENDPOINT: EnvVar = EnvVar {
    name: "EGOV_MDMS_SEARCH_ENDPOINT",
    aliases: &[],
    default: DEFAULT_SEARCH_ENDPOINT,
    help: "Remote MDMS search path",
};
/// Search path used when [`MDMS_SEARCH_ENDPOINT`] is unset.
pub const DEFAULT_SEARCH_ENDPOINT: &str = "egov-mdms-service/v1/_search";

/// Remote MDMS client.
#[derive(Debug, Clone)]
pub struct RemoteMdms {
    http: HttpClient,
    url: String,
}

impl RemoteMdms {
    /// A client for `<host>/<endpoint>` (an http(s) URL, else [`MdmsError::Config`]).
    pub fn new(http: HttpClient, host: &str, endpoint: &str) -> Result<RemoteMdms, MdmsError> {
        let url = http.endpoint(host, endpoint).map_err(MdmsError::Config)?;
        Ok(RemoteMdms { http, url })
    }

    /// From [`MDMS_HOST`] and [`MDMS_SEARCH_ENDPOINT`], with the HTTP settings of `env`;
    /// `Ok(None)` when no host is set.
    pub fn from_env(env: &Env, metrics: &Metrics) -> Result<Option<RemoteMdms>, MdmsError> {
        let Some(host) = env.get(&MDMS_HOST) else {
            return Ok(None);
        };
        let http = HttpClient::from_env("mdms", env, metrics).map_err(MdmsError::Config)?;
        RemoteMdms::new(http, &host, &env.get_or_default(&MDMS_SEARCH_ENDPOINT)).map(Some)
    }

    /// The search URL called.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait::async_trait]
impl MdmsSource for RemoteMdms {
    async fn search_with(
        &self,
        request_info: &RequestInfo,
        criteria: &MdmsCriteria,
    ) -> Result<MdmsRes, MdmsError> {
        let body = MdmsCriteriaReq {
            request_info,
            mdms_criteria: criteria,
        };
        let value: Value = self
            .http
            .post(&self.url)
            .request_info(request_info)
            .json(&body)
            .idempotent()
            .send_json()
            .await?;
        match value.get("MdmsRes") {
            Some(Value::Object(res)) => Ok(res.clone()),
            Some(Value::Null) | None => Ok(MdmsRes::new()),
            Some(_) => Err(MdmsError::ResourceAccess {
                url: self.url.clone(),
                reason: "invalid MDMS response: MdmsRes is not an object".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    fn http() -> HttpClient {
        HttpClient::new(
            "mdms",
            &digit_http::HttpSettings::default(),
            &Metrics::new("test"),
        )
        .expect("client")
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            RemoteMdms::new(http(), "not a url", "x"),
            Err(MdmsError::Config(_))
        ));
        assert!(matches!(
            RemoteMdms::new(http(), "ftp://host", "x"),
            Err(MdmsError::Config(_))
        ));
        let ok =
            RemoteMdms::new(http(), "http://mdms:8080/", "/mdms-v2/v1/_search").expect("valid");
        assert_eq!(ok.url(), "http://mdms:8080/mdms-v2/v1/_search");
    }

    #[test]
    fn settings_come_from_the_env_table() {
        let metrics = Metrics::new("test");
        let none = Env::from_pairs([("EGOV_MDMS_SEARCH_ENDPOINT", "x")]);
        assert!(RemoteMdms::from_env(&none, &metrics)
            .expect("no host")
            .is_none());
        let env = Env::from_pairs([
            ("EGOV_MDMS_HOST", "http://mdms:8080/"),
            ("HTTP_CLIENT_TIMEOUT_MS", "1234"),
        ]);
        let remote = RemoteMdms::from_env(&env, &metrics)
            .expect("valid")
            .expect("host set");
        assert_eq!(
            remote.url(),
            "http://mdms:8080/egov-mdms-service/v1/_search"
        );
        assert_eq!(
            remote.http.settings().request_timeout,
            std::time::Duration::from_millis(1234)
        );
        let bad = Env::from_pairs([
            ("EGOV_MDMS_HOST", "http://mdms"),
            ("HTTP_CLIENT_TIMEOUT_MS", "x"),
        ]);
        assert!(matches!(
            RemoteMdms::from_env(&bad, &metrics),
            Err(MdmsError::Config(_))
        ));
    }
}
