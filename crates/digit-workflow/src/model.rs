//! Wire models of egov-workflow-v2 (upstream-platform §4.1–§4.3), with upstream's key
//! spellings: `assignes`, `businesssServiceSla` (three s's), `ProcessInstances`.
//!
//! Business services, states and actions omit null fields on output (upstream's
//! `@JsonInclude(NON_NULL)`); process instances serialize every field, nulls included, which
//! is what the persister config and Kafka consumers read.

use digit_core::{AuditDetails, RequestInfo, ResponseInfo, UserInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A workflow definition: the states of one kind of application and the actions between them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessService {
    /// Tenant the definition belongs to (the state tenant for state-level definitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Code, e.g. `PGR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_service: Option<String>,
    /// Module, e.g. `pgr-services`; copied into every instance's `moduleName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    /// Module endpoint for reads (unused by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_uri: Option<String>,
    /// Module endpoint for writes (unused by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_uri: Option<String>,
    /// Whole-application SLA in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_service_sla: Option<i64>,
    /// The states, the start pseudo-state (no name) among them.
    #[serde(default)]
    pub states: Vec<State>,
    /// Audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

/// One state of a business service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Server-generated id; process instances refer to states by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The owning business service's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_service_id: Option<String>,
    /// Time allowed in this state, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<i64>,
    /// Name; null or empty for the start pseudo-state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The status modules show (e.g. `PENDINGFORASSIGNMENT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_status: Option<String>,
    /// Entering this state requires documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_upload_required: Option<bool>,
    /// Start state flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_start_state: Option<bool>,
    /// Terminal state flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_terminate_state: Option<bool>,
    /// Modules may edit the application in this state (not enforced by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_state_updatable: Option<bool>,
    /// Actions leaving this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<Action>>,
    /// Audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

impl State {
    /// True for the start pseudo-state (no name).
    pub fn is_start(&self) -> bool {
        self.state.as_deref().is_none_or(|s| s.trim().is_empty())
    }

    /// The actions (empty when none).
    pub fn actions(&self) -> &[Action] {
        self.actions.as_deref().unwrap_or_default()
    }
}

/// An action from one state to another, allowed to some roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Uuid of the state the action leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// Name, e.g. `ASSIGN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Uuid of the state the action enters (a state name on create, resolved by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    /// Role codes allowed to take the action; `"*"` means every role of the business service.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Inactive actions are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
}

impl Action {
    /// The action's name ("" when missing).
    pub fn name(&self) -> &str {
        self.action.as_deref().unwrap_or_default()
    }

    /// True when the action leaves its state for another one.
    pub fn changes_state(&self) -> bool {
        !self
            .current_state
            .as_deref()
            .unwrap_or_default()
            .eq_ignore_ascii_case(self.next_state.as_deref().unwrap_or_default())
    }
}

/// A document attached to a transition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "WorkflowDocument")]
pub struct Document {
    /// Server-generated id.
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Type, e.g. `PHOTO`.
    #[serde(default)]
    pub document_type: Option<String>,
    /// File store id.
    #[serde(default)]
    pub file_store_id: Option<String>,
    /// Client-side id.
    #[serde(default)]
    pub document_uid: Option<String>,
    /// Free-form details.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// One transition of one application (one row of `eg_wf_processinstance_v2`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstance {
    /// Server-generated id.
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant of the application.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Business service code.
    #[serde(default)]
    pub business_service: Option<String>,
    /// Application id (e.g. a complaint's `serviceRequestId`).
    #[serde(default)]
    pub business_id: Option<String>,
    /// Action taken.
    #[serde(default)]
    pub action: Option<String>,
    /// Module (overwritten with the business service's `business`).
    #[serde(default)]
    pub module_name: Option<String>,
    /// The state after the action.
    #[serde(default)]
    pub state: Option<State>,
    /// Free-text comment (≤ 1024 characters).
    #[serde(default)]
    pub comment: Option<String>,
    /// Documents.
    #[serde(default)]
    pub documents: Option<Vec<Document>>,
    /// The acting user (server-set).
    #[serde(default)]
    pub assigner: Option<UserInfo>,
    /// Users the application is assigned to (spelling as upstream).
    #[serde(default)]
    pub assignes: Option<Vec<UserInfo>>,
    /// Actions the requester may take next (server-set).
    #[serde(default)]
    pub next_actions: Option<Vec<Action>>,
    /// Milliseconds left in the state.
    #[serde(default)]
    pub state_sla: Option<i64>,
    /// Milliseconds left for the whole application (three s's, as upstream).
    #[serde(default, rename = "businesssServiceSla")]
    pub businesss_service_sla: Option<i64>,
    /// Uuid of the state before the action.
    #[serde(default)]
    pub previous_status: Option<String>,
    /// Unused by the engine; passed through.
    #[serde(default)]
    pub entity: Option<Value>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// Rating (only with the RATE action).
    #[serde(default)]
    pub rating: Option<i32>,
    /// Set by auto-escalation.
    #[serde(default)]
    pub escalated: Option<bool>,
}

impl ProcessInstance {
    /// The business id ("" when missing).
    pub fn business_id(&self) -> &str {
        self.business_id.as_deref().unwrap_or_default()
    }

    /// The tenant ("" when missing).
    pub fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or_default()
    }
}

/// `{RequestInfo, ProcessInstances}` — the transition request and the Kafka payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessInstanceRequest {
    /// Envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub request_info: RequestInfo,
    /// Instances to move.
    #[serde(rename = "ProcessInstances", default)]
    pub process_instances: Vec<ProcessInstance>,
}

/// `{ResponseInfo, ProcessInstances, totalCount}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessInstanceResponse {
    /// Response envelope (null on search, as upstream).
    #[serde(rename = "ResponseInfo", default)]
    pub response_info: Option<ResponseInfo>,
    /// Instances.
    #[serde(rename = "ProcessInstances", default)]
    pub process_instances: Vec<ProcessInstance>,
    /// Total matching (search) or returned (transition).
    #[serde(rename = "totalCount", default)]
    pub total_count: Option<i64>,
}

/// `{RequestInfo, BusinessServices}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BusinessServiceRequest {
    /// Envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub request_info: RequestInfo,
    /// Definitions.
    #[serde(rename = "BusinessServices", default)]
    pub business_services: Vec<BusinessService>,
}

/// `{ResponseInfo, BusinessServices}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BusinessServiceResponse {
    /// Envelope.
    #[serde(rename = "ResponseInfo", default)]
    pub response_info: Option<ResponseInfo>,
    /// Definitions.
    #[serde(rename = "BusinessServices", default)]
    pub business_services: Vec<BusinessService>,
}

/// One row of `_statuscount`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusCount {
    /// Applications in the status.
    pub count: i64,
    /// The state's application status.
    pub applicationstatus: Option<String>,
    /// Business service code.
    pub businessservice: Option<String>,
    /// The state's uuid.
    pub statusid: Option<String>,
}
