//! The PGR pipelines (upstream-pgr §4–§6): create, update, search, count, plain search.
//! HTTP → validate → enrich → workflow transition → Kafka (`save-pgr-request` /
//! `update-pgr-request`) → persister → Postgres; answers after the persister committed.

use crate::domain::model::{
    Citizen, SearchCriteria, Service, ServiceRequest, ServiceWrapper, Workflow,
};
use crate::domain::rules;
use crate::error::{codes, PgrError};
use crate::store::repo::{self, Filter};
use digit_core::{AuditDetails, ErrorDetail, RequestInfo, UserInfo};
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_store::commit::{self, CommitWatcher, Outgoing};
use digit_store::IdGenerator;
use digit_user::UserDirectory;
use digit_workflow::{
    ProcessInstance, ProcessInstanceRequest, SearchCriteria as WfCriteria, WorkflowClient,
};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// PGR's topics and behaviour switches.
#[derive(Debug, Clone)]
pub struct PgrSettings {
    /// `pgr.kafka.create.topic`.
    pub create_topic: String,
    /// `pgr.kafka.update.topic`.
    pub update_topic: String,
    /// Answer only after the persister committed the complaint (the timeout is the
    /// commit watcher's).
    pub await_persister: bool,
    /// The idgen name and fallback format.
    pub id_name: String,
    /// Fallback format when MDMS has none.
    pub id_format: String,
    /// Dot segments of a state-level tenant.
    pub state_level_length: usize,
}

impl Default for PgrSettings {
    fn default() -> Self {
        Self {
            create_topic: "save-pgr-request".into(),
            update_topic: "update-pgr-request".into(),
            await_persister: true,
            id_name: "pgr.servicerequestid".into(),
            id_format: "PG-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]".into(),
            state_level_length: 1,
        }
    }
}

/// The PGR service: everything the handlers need. Cheap to clone.
#[derive(Clone)]
pub struct Pgr {
    /// Postgres (complaint reads).
    pub pool: PgPool,
    /// Master data.
    pub mdms: Arc<dyn MdmsSource>,
    /// Users (citizens).
    pub users: Arc<dyn UserDirectory>,
    /// Workflow (embedded or remote).
    pub workflow: Arc<dyn WorkflowClient>,
    /// idgen.
    pub idgen: Arc<IdGenerator>,
    /// Kafka.
    pub producer: Producer,
    /// Persister commits.
    pub commits: Option<CommitWatcher>,
    /// Settings.
    pub settings: PgrSettings,
    /// Notifications (none: do not notify).
    pub notifier: Option<crate::notify::Notifier>,
    /// The search's dashboard figures, per tenant.
    pub dashboard: crate::dashboard::DashboardCache,
}

impl std::fmt::Debug for Pgr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pgr")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The complaint types of a tenant: the newer `RAINMAKER-PGR.ComplaintHierarchy` (tenant,
/// then state) when the deployment has it, else the seed's `RAINMAKER-PGR.ServiceDefs`
/// (`serviceCode` → `code`), so both kinds of MDMS data work.
pub async fn complaint_types(mdms: &dyn MdmsSource, tenant: &str) -> Result<Vec<Value>, PgrError> {
    for t in [tenant, state_of(tenant)] {
        let hierarchy = mdms
            .master(t, "RAINMAKER-PGR", "ComplaintHierarchy", None)
            .await?;
        if !hierarchy.is_empty() {
            return Ok(hierarchy);
        }
    }
    for t in [tenant, state_of(tenant)] {
        let defs = mdms.master(t, "RAINMAKER-PGR", "ServiceDefs", None).await?;
        if !defs.is_empty() {
            return Ok(defs
                .into_iter()
                .map(|mut d| {
                    if let (Some(code), Value::Object(m)) = (d.get("serviceCode").cloned(), &mut d)
                    {
                        m.entry("code").or_insert(code);
                    }
                    d
                })
                .collect());
        }
    }
    Ok(Vec::new())
}

fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

fn state_of(tenant: &str) -> &str {
    tenant.split('.').next().unwrap_or(tenant)
}

impl Pgr {
    async fn validate_boundary(&self, service: &Service) -> Result<(), PgrError> {
        let code = rules::locality_code(service)?;
        let trees = self
            .mdms
            .master(service.tenant(), "egov-location", "TenantBoundary", None)
            .await
            .map_err(|e| {
                PgrError::invalid(
                    "BOUNDARY_SERVICE_SEARCH_ERROR",
                    format!("Error while fetching boundaries from Boundary Service : {e}"),
                )
            })?;
        if rules::boundary_has(&trees, code) {
            Ok(())
        } else {
            Err(PgrError::invalid(
                codes::INVALID_BOUNDARY_CODE,
                format!("Invalid locality code: {code}"),
            ))
        }
    }

    /// `RAINMAKER-PGR.UIConstants[0].REOPENSLA` of the tenant, else of its state, else the
    /// default (§3.2). An MDMS failure is an error (upstream serves a stale cache or the
    /// default; we have no cache and do not guess); a REOPENSLA that is not a positive
    /// number is logged and counted (`degraded_total{what="pgr_reopen_window"}`) and the
    /// default applies, as upstream.
    async fn reopen_window(&self, tenant: &str) -> Result<i64, PgrError> {
        for t in [tenant, state_of(tenant)] {
            let entries = self
                .mdms
                .master(t, "RAINMAKER-PGR", "UIConstants", None)
                .await?;
            match entries.first().and_then(|e| e.get("REOPENSLA")) {
                None | Some(Value::Null) => continue,
                Some(v) => match v.as_i64().filter(|ms| *ms > 0) {
                    Some(ms) => return Ok(ms),
                    None => {
                        digit_service::metrics::degraded(
                            "pgr_reopen_window",
                            &format!("RAINMAKER-PGR.UIConstants REOPENSLA of {t} is not a positive number: {v}"),
                        );
                        return Ok(rules::DEFAULT_REOPEN_WINDOW_MS);
                    }
                },
            }
        }
        Ok(rules::DEFAULT_REOPEN_WINDOW_MS)
    }

    /// The citizen of the complaint: by accountId (must be a citizen), else find-or-create
    /// by the mobile number an employee gave (§4.3).
    async fn enrich_citizen(
        &self,
        ri: &RequestInfo,
        service: &mut Service,
    ) -> Result<(), PgrError> {
        let state = state_of(service.tenant()).to_owned();
        if let Some(account) = service.account_id.clone().filter(|a| !a.is_empty()) {
            let found = self.users.search_by_uuids(ri, &[account]).await?;
            let citizen = found
                .into_iter()
                .find(|u| u.user_type.is_some_and(|t| t.as_str() == "CITIZEN"))
                .ok_or_else(|| {
                    PgrError::invalid(
                        codes::INVALID_ACCOUNTID,
                        "No user exist for the given accountId",
                    )
                })?;
            service.citizen = Some(Citizen::from(citizen));
        } else if let Some(c) = service.citizen.clone() {
            let mobile = c.mobile_number.clone().unwrap_or_default();
            let name = c.name.clone().unwrap_or_default();
            let user = self
                .users
                .upsert_citizen(ri, &state, &mobile, &name, c.email_id.as_deref())
                .await?;
            service.account_id = user.uuid.clone();
            service.citizen = Some(Citizen {
                uuid: user.uuid.clone(),
                id: user.id,
                user_name: user.user_name.clone(),
                user_type: Some("CITIZEN".into()),
                tenant_id: Some(state),
                active: Some(true),
                roles: Some(user.roles.clone()),
                ..c
            });
        }
        Ok(())
    }

    async fn transition(
        &self,
        ri: &RequestInfo,
        service: &Service,
        workflow: &Workflow,
    ) -> Result<(ProcessInstance, Option<commit::Pending>), PgrError> {
        let tenant = service.tenant();
        if self
            .workflow
            .business_service(ri, tenant, "PGR")
            .await?
            .is_none()
        {
            return Err(PgrError::invalid(
                codes::BUSINESSSERVICE_NOT_FOUND,
                "The businessService PGR is not found",
            ));
        }
        let instance = ProcessInstance {
            business_id: service.service_request_id.clone(),
            action: workflow.action.clone(),
            module_name: Some("PGR".into()),
            tenant_id: service.tenant_id.clone(),
            business_service: Some("PGR".into()),
            documents: workflow.verification_documents.clone(),
            comment: workflow.comments.clone(),
            assignes: workflow
                .assignes
                .as_ref()
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.iter()
                        .map(|uuid| UserInfo {
                            uuid: Some(uuid.clone()),
                            ..UserInfo::default()
                        })
                        .collect()
                }),
            ..ProcessInstance::default()
        };
        let (mut out, pending) = self
            .workflow
            .transition_pending(ProcessInstanceRequest {
                request_info: ri.clone(),
                process_instances: vec![instance],
            })
            .await?;
        let instance = out
            .pop()
            .ok_or_else(|| PgrError::Dependency("the workflow returned no instance".into()))?;
        Ok((instance, pending))
    }

    /// Publishes the complaint; the persister's commit is the caller's to await.
    async fn publish(
        &self,
        topic: &str,
        request: &ServiceRequest,
    ) -> Result<commit::Pending, PgrError> {
        let mut payload = request.clone();
        // The token never goes to Kafka.
        payload.request_info.auth_token = None;
        let key = request.service.service_request_id.clone();
        let commits = self
            .commits
            .as_ref()
            .filter(|_| self.settings.await_persister);
        commit::publish(
            &self.producer,
            commits,
            Outgoing {
                topic,
                key: key.as_deref(),
                payload: &payload,
                correlation_id: request.request_info.correlation_id.as_deref(),
            },
        )
        .await
        .map_err(|e| PgrError::Kafka(e.to_string()))
    }

    /// Notifies in the background: a failed notification never fails the request.
    fn notify(&self, ri: &RequestInfo, service: &Service, workflow: &Workflow) {
        let Some(notifier) = self.notifier.clone() else {
            return;
        };
        let (ri, service, workflow) = (ri.clone(), service.clone(), workflow.clone());
        let actor = ri.user_info.clone().unwrap_or_default();
        tokio::spawn(async move {
            let sent = notifier.notify(&ri, &service, &workflow, &actor).await;
            tracing::debug!(sent, "Notifications sent.");
        });
    }

    /// The common end of create and update: workflow transition → status and process
    /// instance → additionalDetail merge → Kafka → notifications. The workflow instance and
    /// the complaint are both published before either commit is awaited, and then awaited
    /// together: the answer still comes after both are stored (read-your-writes), one
    /// persister round trip after the last publish instead of two in a row.
    async fn transition_and_publish(
        &self,
        mut request: ServiceRequest,
        workflow: Workflow,
        complaint_type: &Value,
        update: bool,
        topic: &str,
    ) -> Result<ServiceWrapper, PgrError> {
        let ri = request.request_info.clone();
        let service = &mut request.service;
        let (instance, instance_commit) = self.transition(&ri, service, &workflow).await?;
        service.application_status = instance
            .state
            .as_ref()
            .and_then(|s| s.application_status.clone());
        service.process_instance = Some(instance);
        let code = service.service_code.clone().unwrap_or_default();
        service.additional_detail = Some(rules::merge_additional_detail(
            service.additional_detail.as_ref(),
            complaint_type,
            &code,
            update,
        ));
        request.workflow = Some(workflow.clone());
        let complaint_commit = self.publish(topic, &request).await?;
        match instance_commit {
            Some(instance_commit) => {
                tokio::join!(instance_commit.confirm(), complaint_commit.confirm());
            }
            None => {
                complaint_commit.confirm().await;
            }
        }
        if request.service.application_status.as_deref() == Some(rules::CLOSED_AFTER_RESOLUTION) {
            self.dashboard.closed(request.service.tenant());
        }
        self.notify(&ri, &request.service, &workflow);
        Ok(ServiceWrapper {
            service: request.service,
            workflow: Some(workflow),
        })
    }

    /// `_create` (§4.1).
    pub async fn create(&self, mut request: ServiceRequest) -> Result<ServiceWrapper, PgrError> {
        let ri = request.request_info.clone();
        let caller = ri.user_info.clone().unwrap_or_default();
        let workflow = request.workflow.clone().unwrap_or_default();
        let service = &mut request.service;
        // Validation in upstream's order; user-data errors are reported after the others.
        let user_errors = rules::user_data_errors(&caller, service);
        rules::validate_source(service)?;
        self.validate_boundary(service).await?;
        let types = complaint_types(self.mdms.as_ref(), service.tenant()).await?;
        let entry = rules::complaint_type(&types, service.service_code.as_deref())?.clone();
        if !user_errors.is_empty() {
            return Err(PgrError::Invalid(user_errors));
        }
        rules::validate_rating(service)?;

        // Enrichment.
        if caller.user_type.is_some_and(|t| t.as_str() == "CITIZEN") {
            service.account_id = caller.uuid.clone();
        }
        self.enrich_citizen(&ri, service).await?;
        let now = now_ms();
        let me = caller.uuid.clone().unwrap_or_default();
        service.audit_details = Some(AuditDetails::for_create(&me, now));
        service.id = Some(uuid::Uuid::new_v4().to_string());
        service.active = true;
        let tenant = service.tenant_id.clone();
        if let Some(address) = service.address.as_mut() {
            address.id = Some(uuid::Uuid::new_v4().to_string());
            address.tenant_id = tenant.clone();
            // The persister's definite `$.service.address.geoLocation.latitude` path fails
            // the whole message when the key is absent (upstream loses such a complaint);
            // explicit nulls store NULL coordinates instead.
            address.geo_location.get_or_insert_with(Default::default);
        }
        for doc in service.documents.iter_mut().flatten() {
            doc.id = Some(uuid::Uuid::new_v4().to_string());
        }
        let mut workflow = workflow;
        for doc in workflow.verification_documents.iter_mut().flatten() {
            doc.id = Some(uuid::Uuid::new_v4().to_string());
        }
        let ids = self
            .idgen
            .generate(
                service.tenant(),
                Some(&self.settings.id_name),
                Some(&self.settings.id_format),
                1,
            )
            .await
            .map_err(|e| PgrError::Dependency(e.to_string()))?;
        // The generator returns exactly the ids asked for, or an error (upstream's
        // `IDGEN ERROR` for an empty answer of a remote idgen cannot happen here).
        service.service_request_id =
            Some(ids.into_iter().next().ok_or_else(|| {
                PgrError::Dependency("No ids returned from idgen Service".into())
            })?);

        // Workflow, then the merged additionalDetail.
        let topic = self.settings.create_topic.clone();
        self.transition_and_publish(request, workflow, &entry, false, &topic)
            .await
    }

    /// `_update` (§6.2).
    pub async fn update(&self, mut request: ServiceRequest) -> Result<ServiceWrapper, PgrError> {
        let ri = request.request_info.clone();
        let caller = ri.user_info.clone().unwrap_or_default();
        let workflow = request.workflow.clone().unwrap_or_default();
        let service = &mut request.service;
        rules::validate_source(service)?;
        let types = complaint_types(self.mdms.as_ref(), service.tenant()).await?;
        let entry = rules::complaint_type(&types, service.service_code.as_deref())?.clone();
        let persisted = match service.id.as_deref() {
            Some(id) => repo::by_id(&self.pool, service.tenant(), id).await?,
            None => None,
        }
        .ok_or_else(|| {
            PgrError::invalid(
                codes::INVALID_UPDATE,
                "The record that you are trying to update does not exists",
            )
        })?;
        // A citizen may only act on their own complaint.
        if rules::is_pure_citizen(&caller)
            && persisted.account_id.as_deref() != caller.uuid.as_deref()
        {
            return Err(PgrError::invalid(
                codes::INVALID_UPDATE,
                "The record that you are trying to update does not exists",
            ));
        }
        if workflow
            .action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("REOPEN"))
        {
            let window = self.reopen_window(service.tenant()).await?;
            rules::validate_reopen(&caller, &persisted, now_ms(), window)?;
        }
        rules::validate_rating(service)?;

        // Enrichment: identity fields come from the stored row, not the client.
        let now = now_ms();
        let stored_audit = persisted.audit_details.clone().unwrap_or_default();
        service.audit_details = Some(AuditDetails {
            created_by: stored_audit.created_by,
            created_time: stored_audit.created_time,
            last_modified_by: caller.uuid.clone(),
            last_modified_time: Some(now),
        });
        service.service_request_id = persisted.service_request_id.clone();
        service.account_id = persisted.account_id.clone();
        if let Some(address) = service.address.as_mut() {
            address.id = persisted.address.as_ref().and_then(|a| a.id.clone());
            address.tenant_id = persisted.tenant_id.clone();
            address.geo_location.get_or_insert_with(Default::default);
        } else {
            service.address = persisted.address.clone();
        }
        for doc in service.documents.iter_mut().flatten() {
            if doc.id.is_none() {
                doc.id = Some(uuid::Uuid::new_v4().to_string());
            }
        }
        self.enrich_citizen(&ri, service).await?;

        let topic = self.settings.update_topic.clone();
        self.transition_and_publish(request, workflow, &entry, true, &topic)
            .await
    }

    /// Scopes the criteria to the caller; `None` means "nothing to find".
    async fn scope(
        &self,
        ri: &RequestInfo,
        criteria: SearchCriteria,
        paged: bool,
    ) -> Result<Option<Filter>, PgrError> {
        let caller = ri.user_info.clone();
        rules::validate_search(caller.as_ref(), &criteria)?;
        let caller = caller.unwrap_or_default();
        let mut filter = Filter {
            state_level: criteria
                .tenant_id
                .as_deref()
                .is_some_and(|t| t.split('.').count() == self.settings.state_level_length),
            now: now_ms(),
            limit: if paged {
                criteria
                    .limit
                    .unwrap_or(rules::DEFAULT_LIMIT)
                    .min(rules::MAX_LIMIT)
            } else {
                i64::MAX
            },
            offset: criteria.offset.unwrap_or(0),
            ..Filter::default()
        };
        let mut criteria = criteria;
        if criteria.is_empty() {
            return Ok(None);
        }
        if let Some(t) = criteria.tenant_id.as_deref() {
            if !rules::caller_covers_tenant(&caller, t) {
                return Ok(None);
            }
        }
        if rules::is_pure_citizen(&caller) {
            filter.user_ids = Some(vec![caller.uuid.clone().unwrap_or_default()]);
            criteria.mobile_number = None;
        } else if let Some(mobile) = criteria.mobile_number.clone() {
            let tenant = criteria
                .tenant_id
                .clone()
                .or(caller.tenant_id.clone())
                .unwrap_or_default();
            let users = self
                .users
                .citizens_by_mobile(ri, state_of(&tenant), &mobile)
                .await?;
            if users.is_empty() {
                return Ok(None);
            }
            filter.user_ids = Some(users.into_iter().filter_map(|u| u.uuid).collect());
        }
        if let Some(assignee) = criteria.assignee.clone() {
            let wf = WfCriteria {
                tenant_id: criteria.tenant_id.clone().or(caller.tenant_id.clone()),
                business_service: Some("PGR".into()),
                assignee: Some(assignee),
                exact_business_ids: true,
                limit: Some(digit_workflow::INTERNAL_MAX_LIMIT),
                ..WfCriteria::default()
            };
            let (instances, _) = self.workflow.search(ri, &wf).await?;
            let ids: Vec<String> = instances
                .into_iter()
                .filter_map(|p| p.business_id)
                .collect();
            if ids.is_empty() {
                return Ok(None);
            }
            filter.service_request_ids = Some(ids);
        }
        filter.criteria = criteria;
        Ok(Some(filter))
    }

    /// Attaches the citizen and the latest workflow to each complaint (§5.1 steps 10–11).
    async fn wrap(
        &self,
        ri: &RequestInfo,
        services: Vec<Service>,
    ) -> Result<Vec<ServiceWrapper>, PgrError> {
        let accounts: Vec<String> = services
            .iter()
            .filter_map(|s| s.account_id.clone())
            .collect();
        let citizens: HashMap<String, UserInfo> = self
            .users
            .search_by_uuids(ri, &accounts)
            .await?
            .into_iter()
            .filter_map(|u| Some((u.uuid.clone()?, u)))
            .collect();
        let mut by_tenant: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &services {
            if let Some(id) = &s.service_request_id {
                by_tenant
                    .entry(s.tenant().to_owned())
                    .or_default()
                    .push(id.clone());
            }
        }
        let mut latest: HashMap<String, ProcessInstance> = HashMap::new();
        for (tenant, ids) in by_tenant {
            let criteria = WfCriteria {
                tenant_id: Some(tenant),
                business_ids: ids,
                exact_business_ids: true,
                limit: Some(digit_workflow::INTERNAL_MAX_LIMIT),
                ..WfCriteria::default()
            };
            let (instances, _) = self.workflow.search(ri, &criteria).await?;
            for pi in instances {
                if let Some(id) = pi.business_id.clone() {
                    latest.insert(id, pi);
                }
            }
        }
        Ok(services
            .into_iter()
            .map(|mut service| {
                service.citizen = service
                    .account_id
                    .as_ref()
                    .and_then(|a| citizens.get(a))
                    .cloned()
                    .map(Citizen::from);
                let workflow = service
                    .service_request_id
                    .as_ref()
                    .and_then(|id| latest.get(id))
                    .map(|pi| Workflow {
                        action: pi.action.clone(),
                        assignes: pi
                            .assignes
                            .as_ref()
                            .map(|a| a.iter().filter_map(|u| u.uuid.clone()).collect()),
                        comments: pi.comment.clone(),
                        verification_documents: pi.documents.clone(),
                    });
                ServiceWrapper { service, workflow }
            })
            .collect())
    }

    /// `_search`: results and the dashboard numbers.
    pub async fn search(
        &self,
        ri: &RequestInfo,
        criteria: SearchCriteria,
    ) -> Result<(Vec<ServiceWrapper>, (i64, i64)), PgrError> {
        let tenant = criteria.tenant_id.clone();
        let Some(filter) = self.scope(ri, criteria, true).await? else {
            return Ok((Vec::new(), (0, 0)));
        };
        let services = repo::search(&self.pool, &filter).await?;
        let wrappers = self.wrap(ri, services).await?;
        let dashboard = match tenant {
            Some(t) => match self.dashboard.get(&t) {
                Some(figures) => figures,
                None => {
                    let read = std::time::Instant::now();
                    let figures = repo::dashboard(&self.pool, &t, now_ms()).await?;
                    self.dashboard.put(&t, read, figures);
                    figures
                }
            },
            None => (0, 0),
        };
        Ok((wrappers, dashboard))
    }

    /// `_count`.
    pub async fn count(&self, ri: &RequestInfo, criteria: SearchCriteria) -> Result<i64, PgrError> {
        match self.scope(ri, criteria, false).await? {
            Some(filter) => Ok(repo::count(&self.pool, &filter).await?),
            None => Ok(0),
        }
    }

    /// `_plainsearch`: by tenant list, no user scoping (§5.10).
    pub async fn plain_search(
        &self,
        ri: &RequestInfo,
        criteria: SearchCriteria,
    ) -> Result<Vec<ServiceWrapper>, PgrError> {
        if criteria.tenant_ids.is_empty() {
            return Err(PgrError::Invalid(vec![ErrorDetail::new(
                codes::TENANT_ID_LIST_EMPTY,
                "Tenant ids not provided for searching.",
            )]));
        }
        let filter = Filter {
            tenant_ids: criteria.tenant_ids.clone(),
            now: now_ms(),
            limit: criteria
                .limit
                .unwrap_or(rules::DEFAULT_LIMIT)
                .min(rules::MAX_LIMIT),
            offset: criteria.offset.unwrap_or(0),
            criteria: SearchCriteria {
                tenant_id: None,
                ..criteria
            },
            ..Filter::default()
        };
        let mut services = repo::search(&self.pool, &filter).await?;
        services.sort_by_key(|s| {
            std::cmp::Reverse(s.audit_details.as_ref().and_then(|a| a.created_time))
        });
        self.wrap(ri, services).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use digit_mdms::EmbeddedMdms;
    use serde_json::json;

    #[tokio::test]
    async fn service_defs_when_there_is_no_complaint_hierarchy() {
        let defs = EmbeddedMdms::from_documents([
            json!({"tenantId": "xx", "moduleName": "RAINMAKER-PGR",
            "ServiceDefs": [{"serviceCode": "NoStreetLight", "name": "No street light", "department": "DEPT_1", "active": true}]}),
        ]);
        let types = complaint_types(&defs, "xx.city").await.unwrap();
        assert_eq!(types[0]["code"], "NoStreetLight");
        assert!(rules::complaint_type(&types, Some("NoStreetLight")).is_ok());
        let both = EmbeddedMdms::from_documents([
            json!({"tenantId": "xx", "moduleName": "RAINMAKER-PGR", "ServiceDefs": [{"serviceCode": "Old", "active": true}]}),
            json!({"tenantId": "xx", "moduleName": "RAINMAKER-PGR", "ComplaintHierarchy": [{"code": "New", "active": true}]}),
        ]);
        let types = complaint_types(&both, "xx.city").await.unwrap();
        assert_eq!(types.len(), 1);
        assert_eq!(types[0]["code"], "New");
    }
}
