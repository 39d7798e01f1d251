//! egov-user over HTTP (`POST {host}/user/_search` with `{RequestInfo, uuid: [...]}`),
//! through the shared [`digit_http::HttpClient`].

use crate::{UserDirectory, UserError};
use digit_core::{RequestInfo, UserInfo};
use digit_http::{HttpClient, Retry};
use serde::Deserialize;

/// A remote egov-user.
#[derive(Debug, Clone)]
pub struct RemoteUsers {
    http: HttpClient,
    search_url: String,
    create_url: String,
    update_url: String,
}

impl RemoteUsers {
    /// `host` like `http://egov-user:8080`, `search_endpoint` like `/user/_search`.
    pub fn new(http: HttpClient, host: &str, search_endpoint: &str) -> Result<Self, UserError> {
        let url = |path: &str| http.endpoint(host, path).map_err(UserError::Config);
        Ok(Self {
            search_url: url(search_endpoint)?,
            create_url: url("/user/users/_createnovalidate")?,
            update_url: url("/user/users/_updatenovalidate")?,
            http,
        })
    }

    async fn post(
        &self,
        url: &str,
        request_info: &RequestInfo,
        body: &serde_json::Value,
        retry: Retry,
    ) -> Result<Vec<UserInfo>, UserError> {
        let parsed: SearchResponse = self
            .http
            .post(url)
            .request_info(request_info)
            .json(body)
            .retry(retry)
            .send_json()
            .await?;
        Ok(parsed.user)
    }

    async fn search(
        &self,
        request_info: &RequestInfo,
        body: &serde_json::Value,
    ) -> Result<Vec<UserInfo>, UserError> {
        self.post(&self.search_url, request_info, body, Retry::Idempotent)
            .await
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
        self.search(request_info, &body).await
    }

    async fn citizens_by_mobile(
        &self,
        request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
    ) -> Result<Vec<UserInfo>, UserError> {
        let body = serde_json::json!({"RequestInfo": request_info, "mobileNumber": mobile,
            "userType": "CITIZEN", "active": true, "tenantId": state_tenant});
        self.search(request_info, &body).await
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
        let found = self.search(request_info, &body).await?.into_iter().next();
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
                let body = serde_json::json!({"requestInfo": request_info, "user": u});
                self.post(&self.update_url, request_info, &body, Retry::Unsafe)
                    .await?
                    .into_iter()
                    .next()
            }
            None => {
                let user = serde_json::json!({"userName": mobile, "name": name, "mobileNumber": mobile,
                    "emailId": email, "type": "CITIZEN", "active": true, "tenantId": state_tenant,
                    "roles": [{"code": "CITIZEN", "name": "Citizen", "tenantId": state_tenant}]});
                let body = serde_json::json!({"requestInfo": request_info, "user": user});
                self.post(&self.create_url, request_info, &body, Retry::Unsafe)
                    .await?
                    .into_iter()
                    .next()
            }
        };
        user.ok_or(UserError::NoUserReturned)
    }
}
