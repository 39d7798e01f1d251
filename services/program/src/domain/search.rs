//! Search criteria (spec §1.5.6), pagination and the search answer
//! `{header, <plural>: [...], pagination}`; re-exported from [`super::model`].

use super::model::{RequestHeader, StatusCode};
use serde::{Deserialize, Serialize};

/// `pagination` of a search (§1.5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pagination {
    /// Page size (default 20, at most the configured maximum).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<i64>,
    /// Filled in answers (upstream never does).
    #[serde(default)]
    pub total_count: Option<i64>,
    /// A whitelisted column name (default `last_modified_time`).
    #[serde(default)]
    pub sort_by: Option<String>,
    /// `ASC` or `DESC` (default `DESC`).
    #[serde(default)]
    pub sort_order: Option<SortOrder>,
}

/// `ASC` / `DESC`, exact case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SortOrder {
    /// Ascending.
    #[serde(rename = "ASC")]
    Asc,
    /// Descending.
    #[serde(rename = "DESC")]
    Desc,
}

/// Program search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgramSearch {
    /// Program ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant (required).
    #[serde(default)]
    pub location_code: Option<String>,
    /// Parent program.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Exact name.
    #[serde(default)]
    pub name: Option<String>,
    /// Program code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Status (upstream filters `ACTIVE` when absent; we do not, §5 item 17).
    #[serde(default)]
    pub status: Option<StatusCode>,
    /// Paging.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// Sanction search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SanctionSearch {
    /// Sanction ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant (required).
    #[serde(default)]
    pub location_code: Option<String>,
    /// Program code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Paging.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// Allocation search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AllocationSearch {
    /// Allocation ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant (required).
    #[serde(default)]
    pub location_code: Option<String>,
    /// Program code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Sanction.
    #[serde(default)]
    pub sanction_id: Option<String>,
    /// Paging.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// Disbursement search criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DisburseSearch {
    /// Disbursement ids (parents or children).
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Tenant (required).
    #[serde(default)]
    pub location_code: Option<String>,
    /// Program code.
    #[serde(default)]
    pub program_code: Option<String>,
    /// Payment number.
    #[serde(default)]
    pub target_id: Option<String>,
    /// Treasury transaction id.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// Paging.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// A search answer: `{header, <plural>: [...]}`. `pagination` is ours (with `total_count`);
/// upstream sends none.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SearchResponse<T: Serialize> {
    /// The request header, unchanged.
    pub header: RequestHeader,
    /// The key (`programs`, `sanctions`, `allocations`, `disbursements`) and the rows.
    #[serde(flatten)]
    pub items: SearchItems<T>,
    /// Effective paging and the total.
    pub pagination: Pagination,
}

/// The list of a search answer under its plural key.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub enum SearchItems<T: Serialize> {
    /// `programs`
    #[serde(rename = "programs")]
    Programs(Vec<T>),
    /// `sanctions`
    #[serde(rename = "sanctions")]
    Sanctions(Vec<T>),
    /// `allocations`
    #[serde(rename = "allocations")]
    Allocations(Vec<T>),
    /// `disbursements`
    #[serde(rename = "disbursements")]
    Disbursements(Vec<T>),
}
