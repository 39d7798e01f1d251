//! A client for an upstream egov-workflow-v2 (`EGOV_WORKFLOW_HOST`), for deployments that
//! run the real service: the same [`WorkflowClient`] contract over HTTP. Upstream's error
//! envelope is passed through (codes and messages unchanged).

use crate::error::WorkflowError;
use crate::model::{
    BusinessService, BusinessServiceResponse, ProcessInstance, ProcessInstanceRequest,
    ProcessInstanceResponse,
};
use crate::{SearchCriteria, WorkflowClient};
use digit_core::{ErrorResponse, RequestInfo};
use serde::de::DeserializeOwned;

/// Remote egov-workflow-v2.
#[derive(Debug, Clone)]
pub struct RemoteWorkflow {
    client: reqwest::Client,
    base: String,
}

impl RemoteWorkflow {
    /// `host` like `http://egov-workflow-v2:8080` (the context path is added here).
    pub fn new(host: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            base: format!("{}/egov-workflow-v2/egov-wf", host.trim_end_matches('/')),
        }
    }

    /// `EGOV_WORKFLOW_HOST` when set.
    pub fn from_env() -> Option<Self> {
        std::env::var("EGOV_WORKFLOW_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .map(|h| Self::new(&h))
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
        body: &serde_json::Value,
    ) -> Result<T, WorkflowError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .query(query)
            .json(body)
            .send()
            .await
            .map_err(|e| WorkflowError::Dependency(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| WorkflowError::Dependency(e.to_string()))?;
        if status.is_client_error() {
            if let Ok(err) = serde_json::from_slice::<ErrorResponse>(&bytes) {
                return Err(WorkflowError::Invalid(err.errors));
            }
        }
        if !status.is_success() {
            return Err(WorkflowError::Dependency(format!(
                "egov-workflow-v2 answered HTTP {status}"
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| WorkflowError::Dependency(e.to_string()))
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
        let response: ProcessInstanceResponse =
            self.post("/process/_transition", &[], &body).await?;
        Ok(response.process_instances)
    }

    async fn search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError> {
        let body = serde_json::json!({"RequestInfo": request_info});
        let response: ProcessInstanceResponse = self
            .post("/process/_search", &criteria_query(criteria), &body)
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
        let response: BusinessServiceResponse =
            self.post("/businessservice/_search", &query, &body).await?;
        Ok(response.business_services.into_iter().next())
    }
}
