//! pgr-services wire models (upstream-pgr §2), field order and key spellings as upstream:
//! `additionalDetail` on the service, `additionDetails` on the address, `assignes` on the
//! workflow, `responseInfo` (lower case) on `ServiceResponse` but `ResponseInfo` on
//! `CountResponse`. Every field is serialized, nulls included (Kafka payloads and responses).

use digit_core::{AuditDetails, RequestInfo, ResponseInfo, Role, UserInfo, UserType};
use digit_workflow::ProcessInstance;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{RequestInfo, service, workflow}` — create/update body and the Kafka payload.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceRequest {
    /// Envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub request_info: RequestInfo,
    /// The complaint.
    #[serde(alias = "Service")]
    pub service: Service,
    /// The workflow step.
    #[serde(default, alias = "Workflow")]
    pub workflow: Option<Workflow>,
}

/// A complaint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Always true (not editable).
    #[serde(default = "yes")]
    pub active: bool,
    /// The complainant.
    #[serde(default)]
    pub citizen: Option<Citizen>,
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// City tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Complaint type (`RAINMAKER-PGR.ComplaintHierarchy` code).
    #[serde(default)]
    pub service_code: Option<String>,
    /// Human id from idgen.
    #[serde(default)]
    pub service_request_id: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Complainant's user uuid.
    #[serde(default)]
    pub account_id: Option<String>,
    /// 1–5, given with RATE.
    #[serde(default)]
    pub rating: Option<i64>,
    /// Free JSON; the server merges `department` and `serviceName` into it.
    #[serde(default)]
    pub additional_detail: Option<Value>,
    /// Status from the workflow.
    #[serde(default)]
    pub application_status: Option<String>,
    /// Channel (`web`, `mobile`, `whatsapp`, `RB Bot`).
    #[serde(default)]
    pub source: Option<String>,
    /// Where.
    #[serde(default)]
    pub address: Option<Address>,
    /// Attachments.
    #[serde(default)]
    pub documents: Option<Vec<Document>>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// The transition result (create/update responses and Kafka only).
    #[serde(default)]
    pub process_instance: Option<ProcessInstance>,
    /// Category-specific fields.
    #[serde(default)]
    pub extended_attributes: Option<Value>,
}

fn yes() -> bool {
    true
}

impl Service {
    /// The tenant ("" when missing).
    pub fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or_default()
    }
}

/// The complainant as PGR shows it (upstream's PGR `User`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Citizen {
    /// Numeric id.
    #[serde(default)]
    pub id: Option<i64>,
    /// User name (the mobile number for citizens).
    #[serde(default)]
    pub user_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `CITIZEN`.
    #[serde(default, rename = "type")]
    pub user_type: Option<String>,
    /// Mobile number.
    #[serde(default)]
    pub mobile_number: Option<String>,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email_id: Option<String>,
    /// Address.
    #[serde(default)]
    pub correspondence_address: Option<String>,
    /// Roles.
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// Tenant (state).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Active.
    #[serde(default)]
    pub active: Option<bool>,
}

impl From<UserInfo> for Citizen {
    fn from(u: UserInfo) -> Self {
        Self {
            id: u.id,
            user_name: u.user_name,
            name: u.name,
            user_type: u.user_type.map(|t: UserType| t.as_str().to_owned()),
            mobile_number: u.mobile_number,
            country_code: None,
            email_id: u.email_id,
            correspondence_address: None,
            roles: Some(u.roles),
            tenant_id: u.tenant_id,
            uuid: u.uuid,
            active: Some(true),
        }
    }
}

/// Where the problem is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Forced to the service's tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Server id (must be echoed on update).
    #[serde(default)]
    pub id: Option<String>,
    /// Door number.
    #[serde(default)]
    pub door_no: Option<String>,
    /// Plot number.
    #[serde(default)]
    pub plot_no: Option<String>,
    /// Building.
    #[serde(default)]
    pub building_name: Option<String>,
    /// Street.
    #[serde(default)]
    pub street: Option<String>,
    /// Landmark.
    #[serde(default)]
    pub landmark: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// District.
    #[serde(default)]
    pub district: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// PIN code.
    #[serde(default)]
    pub pincode: Option<String>,
    /// Free JSON (key spelled as upstream).
    #[serde(default)]
    pub addition_details: Option<Value>,
    /// The locality (`code` required).
    #[serde(default)]
    pub locality: Option<Boundary>,
    /// Coordinates.
    #[serde(default)]
    pub geo_location: Option<GeoLocation>,
}

/// A boundary (only `code` is stored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Boundary {
    /// Code (required).
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// Latitude (text, as upstream).
    #[serde(default)]
    pub latitude: Option<String>,
    /// Longitude.
    #[serde(default)]
    pub longitude: Option<String>,
    /// Children.
    #[serde(default)]
    pub children: Option<Vec<Boundary>>,
    /// Path.
    #[serde(default)]
    pub materialized_path: Option<String>,
}

/// Coordinates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeoLocation {
    /// Latitude.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Not persisted.
    #[serde(default)]
    pub additional_details: Option<Value>,
}

/// An attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// E.g. `PHOTO`.
    #[serde(default)]
    pub document_type: Option<String>,
    /// File store id.
    #[serde(default)]
    pub file_store_id: Option<String>,
    /// Client id.
    #[serde(default)]
    pub document_uid: Option<String>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
}

/// The workflow step of a request, and the workflow view attached to search results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    /// Action.
    #[serde(default)]
    pub action: Option<String>,
    /// Employee uuids (spelling as upstream).
    #[serde(default)]
    pub assignes: Option<Vec<String>>,
    /// Comment.
    #[serde(default)]
    pub comments: Option<String>,
    /// Documents for the transition.
    #[serde(default)]
    pub verification_documents: Option<Vec<digit_workflow::Document>>,
}

/// `{service, workflow}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceWrapper {
    /// The complaint.
    pub service: Service,
    /// Its workflow.
    pub workflow: Option<Workflow>,
}

/// Create/update/search response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceResponse {
    /// Lower-case key, as upstream.
    #[serde(rename = "responseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Results.
    #[serde(rename = "ServiceWrappers")]
    pub service_wrappers: Vec<ServiceWrapper>,
    /// Closed-after-resolution complaints of the tenant in the last 30 days (search only).
    #[serde(rename = "complaintsResolved")]
    pub complaints_resolved: i64,
    /// Their average resolution time in days (search only).
    #[serde(rename = "averageResolutionTime")]
    pub average_resolution_time: i64,
    /// Constant 13 on search (upstream's `egov.complaints.category`), 0 otherwise.
    #[serde(rename = "complaintTypes")]
    pub complaint_types: i64,
}

/// `_count` response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CountResponse {
    /// Capital R here, as upstream.
    #[serde(rename = "ResponseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Matches.
    pub count: i64,
}

/// Search criteria (query string; upstream-pgr §2.13).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchCriteria {
    /// Tenant (state level → prefix match).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Plain search tenants.
    #[serde(default)]
    pub tenant_ids: Vec<String>,
    /// Complaint types.
    #[serde(default)]
    pub service_code: Vec<String>,
    /// Statuses.
    #[serde(default)]
    pub application_status: Vec<String>,
    /// Complainant's mobile number (employees).
    #[serde(default)]
    pub mobile_number: Option<String>,
    /// Exact id.
    #[serde(default)]
    pub service_request_id: Option<String>,
    /// Service ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Locality codes.
    #[serde(default)]
    pub locality: Vec<String>,
    /// Created from (ms).
    #[serde(default)]
    pub from_date: Option<i64>,
    /// Created until (ms).
    #[serde(default)]
    pub to_date: Option<i64>,
    /// Age filters (ms).
    #[serde(default)]
    pub sla_delta_max_limit: Option<i64>,
    /// Age filters (ms).
    #[serde(default)]
    pub sla_delta_min_limit: Option<i64>,
    /// Sort field.
    #[serde(default)]
    pub sort_by: Option<SortBy>,
    /// Sort order.
    #[serde(default)]
    pub sort_order: Option<SortOrder>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// Assigned to this employee uuid.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Accepted and ignored, as upstream.
    #[serde(default)]
    pub account_id: Option<String>,
}

impl SearchCriteria {
    /// Upstream's `isEmpty()` (dates, sort and paging do not count).
    pub fn is_empty(&self) -> bool {
        self.tenant_id.is_none()
            && self.service_code.is_empty()
            && self.mobile_number.is_none()
            && self.service_request_id.is_none()
            && self.application_status.is_empty()
            && self.ids.is_empty()
            && self.locality.is_empty()
            && self.assignee.is_none()
    }
}

/// `sortBy` (case-sensitive, as upstream's enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum SortBy {
    /// Locality code.
    #[serde(rename = "locality")]
    Locality,
    /// Status.
    #[serde(rename = "applicationStatus")]
    ApplicationStatus,
    /// Request id.
    #[serde(rename = "serviceRequestId")]
    ServiceRequestId,
    /// Creation time.
    #[serde(rename = "createdTime")]
    CreatedTime,
    /// Remaining SLA.
    #[serde(rename = "sla")]
    Sla,
}

/// `sortOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum SortOrder {
    /// Ascending.
    #[serde(rename = "ASC")]
    Asc,
    /// Descending (default).
    #[serde(rename = "DESC")]
    Desc,
}
