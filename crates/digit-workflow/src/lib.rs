//! egov-workflow-v2 as a crate: business services (states, actions, roles), process
//! instances, the transition algorithm with upstream's error codes, SLA, inbox searches and
//! auto-escalation — embedded ([`Workflow`], on Postgres + Kafka + the persister) or remote
//! ([`RemoteWorkflow`], an upstream egov-workflow-v2 at `EGOV_WORKFLOW_HOST`), both behind
//! [`WorkflowClient`]. [`api::router`] serves the `/egov-workflow-v2/egov-wf/…` endpoints.
//!
//! Nothing here knows about PGR or any other module: a module is a business service loaded
//! from `configs/workflow/*.json` or created through the API.
//!
//! # No stale state
//!
//! Upstream reads an application's latest instance from `eg_wf_processinstance_v2`, which the
//! persister fills *after* the transition answered, so a second transition right after the
//! first (or concurrent with it) can start from the old state and both are accepted. Here:
//!
//! 1. **A head row per application** (`eg_wf_transition_head_v2`, owned by the engine)
//!    holds a version, the id of the last accepted instance and the Kafka position
//!    (topic, partition, offset) it was published at.
//! 2. **Read**: a transition reads the head. If the head's instance is not in
//!    `eg_wf_processinstance_v2` yet, it waits for the persister's commit of that offset
//!    (`digit_store::commit::CommitWatcher`: `persister_offsets` + `NOTIFY persister_commit`)
//!    and then reads the instance — never an older one. If it does not arrive within
//!    `PERSISTER_AWAIT_TIMEOUT_MS` the request fails with `WORKFLOW_TRANSITION_PENDING`
//!    (HTTP 503) instead of deciding on a stale state.
//! 3. **Compare-and-set**: after validation, in one Postgres transaction, the transition
//!    claims `version + 1` (`UPDATE … WHERE version = <read version>`; `INSERT … ON CONFLICT
//!    DO NOTHING` for a new application), publishes the instance to `save-wf-transitions`
//!    while the row lock is held, records the offset, and commits. A concurrent transition
//!    that read the same version blocks on the row lock, then finds the version moved and
//!    fails with `WORKFLOW_CONCURRENT_TRANSITION` (HTTP 409). One that starts after the
//!    winner committed reads the new state (step 2) and is judged against it — e.g. a second
//!    `ASSIGN` gets `INVALID ACTION`. Either way at most one of two transitions from the same
//!    state is accepted.
//! 4. **Answer after the commit**: the response waits for the persister's commit of the
//!    published offset (`WORKFLOW_AWAIT_PERSISTER=false` restores upstream's
//!    fire-and-forget), so a search right after a transition sees it. Past the timeout the
//!    transition is answered anyway, logged and counted (`digit_store::commit`'s policy).
//!
//! A publish that fails rolls the claim back: nothing was accepted. A database failure
//! after a successful publish (rare) leaves the instance to the persister; the next
//! transition then reads it from the table because the head still points to its predecessor.
//!
//! Instances also get a `lastModifiedTime` strictly greater than their predecessor's, so
//! "latest by lastModifiedTime" (what upstream readers and our searches use) is exact.

pub mod api;
pub mod domain;
pub mod engine;
pub mod error;
pub mod escalation_job;
pub mod model;
pub mod remote;
pub mod settings;
pub mod store;

pub use engine::Workflow;
pub use error::{codes, WorkflowError};
pub use model::{
    Action, BusinessService, Document, ProcessInstance, ProcessInstanceRequest,
    ProcessInstanceResponse, State,
};
pub use remote::RemoteWorkflow;
pub use settings::{WorkflowSettings, WORKFLOW_VARS};

use digit_core::RequestInfo;
use serde::Deserialize;
use sqlx::migrate::Migrator;

/// The workflow tables (`migrations/workflow/`).
pub static WORKFLOW_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/workflow");

/// Largest page for in-process callers ([`SearchCriteria::exact_business_ids`]).
pub const INTERNAL_MAX_LIMIT: i64 = 10_000;

/// `process/_search` criteria (query parameters, upstream names).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchCriteria {
    /// Tenant (mandatory).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// State uuids.
    #[serde(default)]
    pub status: Vec<String>,
    /// Business ids (substring match unless fuzzy search is off).
    #[serde(default)]
    pub business_ids: Vec<String>,
    /// Assigned to this user uuid.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Instance ids.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Whole history instead of the latest instance per application.
    #[serde(default)]
    pub history: Option<bool>,
    /// Accepted and ignored, as upstream.
    #[serde(default)]
    pub from_date: Option<i64>,
    /// Accepted and ignored, as upstream.
    #[serde(default)]
    pub to_date: Option<i64>,
    /// Offset.
    #[serde(default)]
    pub offset: Option<i64>,
    /// Page size (bounded by `EGOV_WF_MAX_LIMIT`).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Business service code.
    #[serde(default)]
    pub business_service: Option<String>,
    /// Module name.
    #[serde(default)]
    pub module_name: Option<String>,
    /// Set by modules calling in-process (PGR), never from the query string: `businessIds`
    /// match exactly even when fuzzy search is on (Postgres uses the index instead of
    /// scanning every instance for `%id%`), and a page may hold up to
    /// [`INTERNAL_MAX_LIMIT`] instances, so every complaint of a 200-row PGR page gets its
    /// workflow.
    #[serde(skip)]
    pub exact_business_ids: bool,
}

impl SearchCriteria {
    /// Inbox mode: none of businessIds, ids, assignee, status given.
    pub fn is_inbox(&self) -> bool {
        self.business_ids.is_empty()
            && self.ids.is_empty()
            && self.status.is_empty()
            && self.assignee.as_deref().is_none_or(str::is_empty)
    }
}

/// What modules (PGR …) need from the workflow, embedded or remote.
#[async_trait::async_trait]
pub trait WorkflowClient: Send + Sync {
    /// `process/_transition`: the enriched instances.
    async fn transition(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<Vec<ProcessInstance>, WorkflowError>;

    /// `process/_transition` without awaiting the persister: the enriched instances and the
    /// commit to await before answering (`None` when there is none to await here — a remote
    /// workflow service has stored them when it answers).
    async fn transition_pending(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<(Vec<ProcessInstance>, Option<digit_store::commit::Pending>), WorkflowError> {
        Ok((self.transition(request).await?, None))
    }

    /// `process/_search`: instances and total count.
    async fn search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError>;

    /// `businessservice/_search` for one code.
    async fn business_service(
        &self,
        request_info: &RequestInfo,
        tenant: &str,
        code: &str,
    ) -> Result<Option<BusinessService>, WorkflowError>;
}
