//! egov-user over HTTP (`POST {host}/user/_search` with `{RequestInfo, uuid: [...]}`).

use crate::{UserDirectory, UserError};
use digit_core::{RequestInfo, UserInfo};
use serde::Deserialize;

/// A remote egov-user.
#[derive(Debug, Clone)]
pub struct RemoteUsers {
    client: reqwest::Client,
    search_url: String,
    host: String,
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
            host: host.to_owned(),
        }
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<Vec<UserInfo>, UserError> {
        let response = self
            .client
            .post(url)
            .json(body)
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
        self.post(&self.search_url, &body).await
    }

    async fn citizens_by_mobile(
        &self,
        request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
    ) -> Result<Vec<UserInfo>, UserError> {
        let body = serde_json::json!({"RequestInfo": request_info, "mobileNumber": mobile,
            "userType": "CITIZEN", "active": true, "tenantId": state_tenant});
        self.post(&self.search_url, &body).await
    }

    async fn upsert_citizen(
        &self,
        request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
        name: &str,
        email: Option<&str>,
    ) -> Result<UserInfo, UserError> {
        let body = serde_json::json!({"RequestInfo": request_info, "userName": mobile,
            "userType": "CITIZEN", "active": true, "tenantId": state_tenant});
        let found = self.post(&self.search_url, &body).await?.into_iter().next();
        let user = match found {
            Some(u)
                if u.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name)) =>
            {
                return Ok(u)
            }
            Some(mut u) => {
                u.name = Some(name.to_owned());
                let url = format!("{}/user/users/_updatenovalidate", self.host);
                let body = serde_json::json!({"requestInfo": request_info, "user": u});
                self.post(&url, &body).await?.into_iter().next()
            }
            None => {
                let user = serde_json::json!({"userName": mobile, "name": name, "mobileNumber": mobile,
                    "emailId": email, "type": "CITIZEN", "active": true, "tenantId": state_tenant,
                    "roles": [{"code": "CITIZEN", "name": "Citizen", "tenantId": state_tenant}]});
                let url = format!("{}/user/users/_createnovalidate", self.host);
                let body = serde_json::json!({"requestInfo": request_info, "user": user});
                self.post(&url, &body).await?.into_iter().next()
            }
        };
        user.ok_or_else(|| UserError::Remote("egov-user returned no user".into()))
    }
}
