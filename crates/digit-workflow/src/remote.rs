//! A client for an upstream egov-workflow-v2 (`EGOV_WORKFLOW_HOST`), for deployments that
//! run the real service: the same [`WorkflowClient`] contract over HTTP, through the shared
//! [`digit_http::HttpClient`]. Upstream's error envelope is passed through (codes and
//! messages unchanged).

use crate::error::WorkflowError;
use crate::model::{
    BusinessService, BusinessServiceResponse, ProcessInstance, ProcessInstanceRequest,
    ProcessInstanceResponse,
};
use crate::settings::WORKFLOW_HOST;
use crate::{SearchCriteria, WorkflowClient};
use digit_core::RequestInfo;
use digit_http::{HttpClient, Retry};
use digit_service::config::Env;
use digit_service::Metrics;
use serde::de::DeserializeOwned;

/// Remote egov-workflow-v2.
#[derive(Debug, Clone)]
pub struct RemoteWorkflow {
    http: HttpClient,
    base: String,
}

impl RemoteWorkflow {
    /// `host` like `http://egov-workflow-v2:8080` (the context path is added here).
    pub fn new(http: HttpClient, host: &str) -> Result<Self, WorkflowError> {
        let base = http
            .endpoint(host, "/egov-workflow-v2/egov-wf")
            .map_err(WorkflowError::Remote)?;
        Ok(Self { http, base })
    }

    /// [`WORKFLOW_HOST`] when set, with the HTTP settings of `env`.
    pub fn from_env(env: &Env, metrics: &Metrics) -> Result<Option<Self>, WorkflowError> {
        let Some(host) = env.get(&WORKFLOW_HOST) else {
            return Ok(None);
        };
        let http = HttpClient::from_env("workflow", env, metrics).map_err(WorkflowError::Remote)?;
        Self::new(http, &host).map(Some)
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        request_info: &RequestInfo,
        query: &[(String, String)],
        body: &serde_json::Value,
        retry: Retry,
    ) -> Result<T, WorkflowError> {
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .request_info(request_info)
            .query(query)
            .json(body)
            .retry(retry)
            .send_json()
            .await?)
    }
}

/// Criteria as query pairs (lists comma-joined, as the UI sends them).
pub fn criteria_query(c: &SearchCriteria) -> Vec<(String, String)> {
    let mut q = Vec::new();
    let mut one = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            q.push((k.to_owned(), v));
        }
    };
    one("tenantId", c.tenant_id.clone());
    one("businessIds", Some(c.business_ids.join(",")));
    one("ids", Some(c.ids.join(",")));
    one("status", Some(c.status.join(",")));
    one("assignee", c.assignee.clone());
    one("history", c.history.map(|b| b.to_string()));
    one("offset", c.offset.map(|n| n.to_string()));
    one("limit", c.limit.map(|n| n.to_string()));
    one("businessService", c.business_service.clone());
    one("moduleName", c.module_name.clone());
    q
}

#[async_trait::async_trait]
impl WorkflowClient for RemoteWorkflow {
    async fn transition(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<Vec<ProcessInstance>, WorkflowError> {
        let body =
            serde_json::to_value(&request).map_err(|e| WorkflowError::Dependency(e.to_string()))?;
        // A transition is a write: never resent once it may have reached the engine.
        let response: ProcessInstanceResponse = self
            .post(
                "/process/_transition",
                &request.request_info,
                &[],
                &body,
                Retry::Unsafe,
            )
            .await?;
        Ok(response.process_instances)
    }

    async fn search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError> {
        let body = serde_json::json!({"RequestInfo": request_info});
        let response: ProcessInstanceResponse = self
            .post(
                "/process/_search",
                request_info,
                &criteria_query(criteria),
                &body,
                Retry::Idempotent,
            )
            .await?;
        let total = response
            .total_count
            .unwrap_or(i64::try_from(response.process_instances.len()).unwrap_or(0));
        Ok((response.process_instances, total))
    }

    async fn business_service(
        &self,
        request_info: &RequestInfo,
        tenant: &str,
        code: &str,
    ) -> Result<Option<BusinessService>, WorkflowError> {
        let body = serde_json::json!({"RequestInfo": request_info});
        let query = vec![
            ("tenantId".to_owned(), tenant.to_owned()),
            ("businessServices".to_owned(), code.to_owned()),
        ];
        let response: BusinessServiceResponse = self
            .post(
                "/businessservice/_search",
                request_info,
                &query,
                &body,
                Retry::Idempotent,
            )
            .await?;
        Ok(response.business_services.into_iter().next())
    }
}
