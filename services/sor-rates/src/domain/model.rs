//! The SOR/Rates v1 contract (upstream-ifms-sor B1.1): `SORRequest {requestInfo, sors}`,
//! `RateRequest {requestInfo, rateDetails}`, searches with `criteria` and `pagination`.
//! Requests accept `requestInfo` and `RequestInfo`; responses use the contract's keys
//! (`responseInfo` for SORs, `ResponseInfo` for rates). Money and quantities are exact
//! decimals (JSON numbers); times are epoch milliseconds.

use digit_core::{AuditDetails, Money, RequestInfo, ResponseInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A schedule-of-rates item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sor {
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant (usually the state, `pg`).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Server-generated number (`LD-00001`, works: `<SUBTYPE>-00001`); immutable.
    #[serde(default)]
    pub sor_number: Option<String>,
    /// `WORKS-SOR.Type` code (M, L, E, W).
    #[serde(default)]
    pub sor_type: Option<String>,
    /// `WORKS-SOR.SubType` code (works only; `NA` otherwise).
    #[serde(default)]
    pub sor_sub_type: Option<String>,
    /// `WORKS-SOR.Variant` code (works only; `NA` otherwise).
    #[serde(default)]
    pub sor_variant: Option<String>,
    /// `common-masters.UOM` code.
    #[serde(default)]
    pub uom: Option<String>,
    /// The quantity rates are defined for.
    #[serde(default)]
    pub uom_value: Option<Money>,
    /// Description (2–2048 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Status.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Composition details (not used by simple SORs).
    #[serde(default)]
    pub details: Option<Vec<Value>>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
}

/// `{requestInfo, sors}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SorRequest {
    /// Envelope (`requestInfo` or `RequestInfo`).
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Items.
    #[serde(default)]
    pub sors: Vec<Sor>,
}

/// `{responseInfo, sors, pagination}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SorResponse {
    /// Envelope (lower case, as the contract).
    #[serde(rename = "responseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Items.
    pub sors: Vec<Sor>,
    /// Paging of a search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// One amount of a rate, by head (`WORKS-SOR.Overhead`, e.g. `LA.1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountDetail {
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// `fixed` (default) or `percentage`.
    #[serde(default, rename = "type")]
    pub amount_type: Option<String>,
    /// Head code.
    #[serde(default)]
    pub heads: Option<String>,
    /// Amount (≥ 0).
    #[serde(default)]
    pub amount: Option<Money>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
}

/// A dated rate of an SOR: valid on `[validFrom, validTo)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateDetails {
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The SOR's id.
    #[serde(default)]
    pub sor_id: Option<String>,
    /// Detail of a complex SOR (empty for simple SORs).
    #[serde(default)]
    pub detail_id: Option<String>,
    /// Start (epoch ms; normalised to the start of the day in the tenant's time zone).
    #[serde(default)]
    pub valid_from: Option<i64>,
    /// End, exclusive (epoch ms); null while the rate is current.
    #[serde(default)]
    pub valid_to: Option<i64>,
    /// Σ amounts (computed by the server).
    #[serde(default)]
    pub rate: Option<Money>,
    /// The amounts by head.
    #[serde(default)]
    pub amount_detail: Vec<AmountDetail>,
    /// Status.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Set when rate analysis produced the rate.
    #[serde(default)]
    pub composition_id: Option<String>,
    /// Free JSON.
    #[serde(default)]
    pub additional_details: Option<Value>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// `{requestInfo, rateDetails}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateRequest {
    /// Envelope.
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Rates.
    #[serde(rename = "rateDetails", default)]
    pub rate_details: Vec<RateDetails>,
}

/// `{ResponseInfo, rateDetails, pagination}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateResponse {
    /// Envelope (capital R, as the contract).
    #[serde(rename = "ResponseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Rates.
    #[serde(rename = "rateDetails")]
    pub rate_details: Vec<RateDetails>,
    /// Paging of a search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// The Kafka payload of a rate creation: the new rates and the predecessors they close.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateMessage {
    /// Envelope (without token).
    #[serde(rename = "RequestInfo")]
    pub request_info: RequestInfo,
    /// New rates.
    #[serde(rename = "rateDetails")]
    pub rate_details: Vec<RateDetails>,
    /// Predecessors: `validTo` set (closed) or `isActive=false` (replaced).
    #[serde(rename = "closedRates")]
    pub closed_rates: Vec<RateDetails>,
}

/// DIGIT pagination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Page size.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Offset (key spelled as the contract).
    #[serde(default, rename = "offSet")]
    pub off_set: Option<i64>,
    /// Matches (output).
    #[serde(default)]
    pub total_count: Option<i64>,
    /// Sort field (whitelisted).
    #[serde(default)]
    pub sort_by: Option<String>,
    /// `ASC` or `DESC`.
    #[serde(default)]
    pub order: Option<String>,
}

/// SOR search criteria.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SorCriteria {
    /// Ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Numbers.
    #[serde(default)]
    pub sor_numbers: Vec<String>,
    /// Type.
    #[serde(default)]
    pub sor_type: Option<String>,
    /// Subtype.
    #[serde(default)]
    pub sor_sub_type: Option<String>,
    /// Variant.
    #[serde(default)]
    pub sor_variant: Option<String>,
    /// Status.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// `{requestInfo, criteria, pagination}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct SorSearchRequest {
    /// Envelope.
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Criteria.
    #[serde(default)]
    pub criteria: SorCriteria,
    /// Paging.
    #[serde(default)]
    pub pagination: Pagination,
}

/// Rate search criteria.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateCriteria {
    /// Ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// SOR ids.
    #[serde(default)]
    pub sor_ids: Vec<String>,
    /// Rates having any of these heads.
    #[serde(default)]
    pub head_code_ids: Vec<String>,
    /// The rate valid at this instant (ms): `validFrom ≤ t < validTo`.
    #[serde(default)]
    pub effective_on: Option<i64>,
    /// Include inactive (replaced) rates.
    #[serde(default)]
    pub include_inactive: Option<bool>,
}

/// `{requestInfo, criteria, pagination}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct RateSearchRequest {
    /// Envelope.
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Criteria.
    #[serde(default)]
    pub criteria: RateCriteria,
    /// Paging.
    #[serde(default)]
    pub pagination: Pagination,
}

/// One basic SOR of a composition: `quantity` of it goes into the analysis quantity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasicSorDetail {
    /// The basic (M, L, E) SOR's id.
    #[serde(default)]
    pub sor_id: Option<String>,
    /// How much of it (in its uom).
    #[serde(default)]
    pub quantity: Option<Money>,
}

/// An extra charge of a composition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalCharge {
    /// Text.
    #[serde(default)]
    pub description: Option<String>,
    /// The head it is booked under (e.g. `ADC.4`); for `percentage`, also the head it is a
    /// percentage of.
    #[serde(default)]
    pub applicable_on: Option<String>,
    /// `fixed` (an amount for the analysis quantity) or `percentage`.
    #[serde(default)]
    pub calculation_type: Option<String>,
    /// Amount or percentage.
    #[serde(default)]
    pub figure: Option<Money>,
}

/// How a works SOR is made (rate analysis), valid on `[effectiveFrom, effectiveTo)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Composition {
    /// Server id.
    #[serde(default)]
    pub id: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Human id (`CMP_000001`).
    #[serde(default)]
    pub composition_id: Option<String>,
    /// The works SOR's id.
    #[serde(default)]
    pub sor_id: Option<String>,
    /// Analysis quantity (in the works SOR's uom).
    #[serde(default)]
    pub quantity: Option<Money>,
    /// Start (epoch ms, start of day).
    #[serde(default)]
    pub effective_from: Option<i64>,
    /// End, exclusive.
    #[serde(default)]
    pub effective_to: Option<i64>,
    /// Status.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Basic SORs.
    #[serde(default)]
    pub basic_sor_details: Vec<BasicSorDetail>,
    /// Extra charges.
    #[serde(default)]
    pub additional_charges: Vec<AdditionalCharge>,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<AuditDetails>,
}

/// `{requestInfo, compositions}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CompositionRequest {
    /// Envelope.
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Compositions.
    #[serde(default)]
    pub compositions: Vec<Composition>,
}

/// `{responseInfo, compositions}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CompositionResponse {
    /// Envelope.
    #[serde(rename = "responseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Compositions.
    pub compositions: Vec<Composition>,
}

/// Composition search.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompositionCriteria {
    /// Tenant (required).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Works SOR ids.
    #[serde(default)]
    pub sor_ids: Vec<String>,
    /// The composition valid at this instant.
    #[serde(default)]
    pub effective_on: Option<i64>,
}

/// `{requestInfo, criteria}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct CompositionSearchRequest {
    /// Envelope.
    #[serde(rename = "requestInfo", alias = "RequestInfo", default)]
    pub request_info: RequestInfo,
    /// Criteria.
    #[serde(default)]
    pub criteria: CompositionCriteria,
}

/// `{tenantId, sorIds, effectiveFrom}` of a rate-analysis request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisDetails {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Works SOR ids.
    #[serde(default)]
    pub sor_ids: Vec<String>,
    /// The date the rates are for (epoch ms).
    #[serde(default)]
    pub effective_from: Option<i64>,
}

/// `{RequestInfo, sorDetails}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct AnalysisRequest {
    /// Envelope.
    #[serde(rename = "RequestInfo", alias = "requestInfo", default)]
    pub request_info: RequestInfo,
    /// What to analyse.
    #[serde(rename = "sorDetails", default)]
    pub sor_details: AnalysisDetails,
}

/// One line of an analysis: a basic SOR (or the extra charges) and its amounts by head.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// `SOR` or `EXTRACHARGES`.
    #[serde(rename = "type")]
    pub line_type: String,
    /// The basic SOR id (SOR lines).
    pub target_id: Option<String>,
    /// Quantity used.
    pub quantity: Option<Money>,
    /// Amounts for the analysis quantity, by head (full precision).
    pub amount_details: Vec<AmountDetail>,
}

/// The analysis of one works SOR at a date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateAnalysis {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// The works SOR.
    pub sor_id: Option<String>,
    /// Its number.
    pub sor_number: Option<String>,
    /// The composition used.
    pub composition_id: Option<String>,
    /// Analysis quantity.
    pub analysis_quantity: Option<Money>,
    /// The works SOR's "rate defined for quantity".
    pub uom_value: Option<Money>,
    /// The date.
    pub effective_from: Option<i64>,
    /// Lines.
    pub line_items: Vec<LineItem>,
    /// The resulting rate: amounts by head for `uomValue` units, rounded once to 2 dp.
    pub rate: RateDetails,
}

/// `{responseInfo, rateAnalysis}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnalysisResponse {
    /// Envelope.
    #[serde(rename = "responseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Analyses.
    #[serde(rename = "rateAnalysis")]
    pub rate_analysis: Vec<RateAnalysis>,
}
