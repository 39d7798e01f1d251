//! DIGIT master data (MDMS v1) for the services: read from files embedded at start-up or from
//! a remote DIGIT MDMS, behind one trait, plus the `/egov-mdms-service/v1/_search` and `_get`
//! endpoints (search also at mdms-v2's `/mdms-v2/v1/_search`) and read-only boundary searches
//! over `egov-location.TenantBoundary` (boundary-service and egov-location paths).
//!
//! * [`EmbeddedMdms`] loads DIGIT v1 master files from `MDMS_CONFIG_PATH` (default
//!   `configs/mdms`) and answers with upstream's tenant fallback and JSONPath filters.
//! * [`RemoteMdms`] calls a DIGIT MDMS at `EGOV_MDMS_HOST` + `EGOV_MDMS_SEARCH_ENDPOINT`.
//! * [`source_from_env`] picks one of them the way the services are configured.
//! * [`router`] serves the MDMS v1 API and the boundary searches over any [`MdmsSource`].
//! * [`search_boundaries`] is the boundary tree walk behind them (pure).
//! * [`load_role_actions`] / [`MdmsRoleActions`] feed role-action authorization.
//!
//! Reference: `spec/upstream-platform.md` §6.1, §7.3, Appendix B.

mod api;
mod boundary;
mod embedded;
mod error;
mod model;
mod remote;
mod roles;

use std::sync::Arc;

use digit_core::RequestInfo;
use serde_json::Value;

pub use api::{
    router, BOUNDARY_SEARCH_PATH, GET_PATH, HIERARCHY_SEARCH_PATH, LOCATION_BOUNDARY_SEARCH_PATH,
    MDMS_V2_SEARCH_PATH, SEARCH_PATH,
};
pub use boundary::{
    add_boundary_type, search_boundaries, BoundaryQuery, BoundaryRelationshipResponse,
    HierarchyBoundaries, HierarchyRelation, LocationBoundaryResponse, LocationTenantBoundary,
    BOUNDARY_MASTER, BOUNDARY_MODULE, MAX_BOUNDARY_CODES,
};
pub use embedded::{EmbeddedMdms, DEFAULT_MDMS_CONFIG_PATH, MDMS_CONFIG_PATH};
pub use error::{codes, MdmsError};
pub use model::{
    master_entries, take_master, MasterDetail, MdmsCriteria, MdmsCriteriaReq, MdmsRes,
    MdmsResponse, ModuleDetail, MAX_FILTER_LEN, MAX_MASTERS, MAX_MODULES,
};
pub use remote::{
    join_url, RemoteMdms, CORRELATION_HEADER, DEFAULT_SEARCH_ENDPOINT, MDMS_HOST,
    MDMS_SEARCH_ENDPOINT,
};

/// The variables this crate reads, for `--help` (HTTP client settings are in
/// [`digit_http::HTTP_VARS`]).
pub const MDMS_ENV: &[digit_service::config::EnvVar] =
    &[MDMS_CONFIG_PATH, MDMS_HOST, MDMS_SEARCH_ENDPOINT];
pub use roles::{
    load_role_actions, MdmsRoleActions, ACTIONS_FILTER, ACTIONS_MASTER, ACTIONS_MODULE,
    ROLEACTIONS_MASTER, ROLEACTIONS_MODULE,
};

/// Where master data comes from. Object-safe: services hold an `Arc<dyn MdmsSource>`.
///
/// Search semantics (upstream MDMS v1, §6.1): starting at `criteria.tenantId`, walk up by
/// dropping the last `.segment` to the first tenant that has any data; then, per master, use
/// the nearest ancestor (itself included) that defines it. Masters found nowhere are
/// omitted; every requested module appears (possibly `{}`) when such a tenant exists; an
/// unknown tenant root yields an empty `MdmsRes`. A master's `filter` is a Jayway JSONPath
/// evaluated with the master's array as root; its result replaces the list.
#[async_trait::async_trait]
pub trait MdmsSource: Send + Sync {
    /// Searches on behalf of a caller; `request_info` (and its `correlationId`) is passed on
    /// to a remote MDMS.
    async fn search_with(
        &self,
        request_info: &RequestInfo,
        criteria: &MdmsCriteria,
    ) -> Result<MdmsRes, MdmsError>;

    /// Searches with an empty `RequestInfo`.
    async fn search(&self, criteria: &MdmsCriteria) -> Result<MdmsRes, MdmsError> {
        self.search_with(&RequestInfo::default(), criteria).await
    }

    /// The entries of one master (empty when the master is not found), after `filter`.
    async fn master(
        &self,
        tenant_id: &str,
        module: &str,
        master: &str,
        filter: Option<&str>,
    ) -> Result<Vec<Value>, MdmsError> {
        let criteria = MdmsCriteria::single(tenant_id, module, master, filter);
        let mut res = self.search(&criteria).await?;
        Ok(take_master(&mut res, module, master))
    }
}

/// The configured source: [`RemoteMdms`] when `EGOV_MDMS_HOST` is set (its calls counted
/// in `metrics`), otherwise [`EmbeddedMdms`] loaded from `MDMS_CONFIG_PATH` (default
/// `configs/mdms`).
pub fn source_from_env(
    env: &digit_service::config::Env,
    metrics: &digit_service::Metrics,
) -> Result<Arc<dyn MdmsSource>, MdmsError> {
    match RemoteMdms::from_env(env, metrics)? {
        Some(remote) => {
            tracing::info!(url = remote.url(), "Using remote MDMS.");
            Ok(Arc::new(remote))
        }
        None => Ok(Arc::new(EmbeddedMdms::from_env(env)?)),
    }
}
