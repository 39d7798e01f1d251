//! The embedded engine: transitions, searches, business services and escalation on
//! Postgres + Kafka + the persister. See the crate docs for the no-stale-state mechanism.

use crate::domain::{self, Resolved, TransitionContext};
use crate::error::{codes, WorkflowError};
use crate::model::{BusinessService, ProcessInstance, ProcessInstanceRequest, StatusCount};
use crate::settings::WorkflowSettings;
use crate::store::{self, Inbox, InstanceFilter};
use crate::{SearchCriteria, WorkflowClient};
use digit_core::{ErrorDetail, RequestInfo, UserInfo};
use digit_kafka::Producer;
use digit_mdms::MdmsSource;
use digit_store::commit::{self, AwaitError, CommitWatcher, Outgoing};
use digit_user::UserDirectory;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The embedded egov-workflow-v2. Cheap to clone.
#[derive(Clone)]
pub struct Workflow {
    inner: Arc<Inner>,
}

/// (tenant the definition is stored under, code).
type CacheKey = (String, String);

struct Inner {
    pool: PgPool,
    mdms: Arc<dyn MdmsSource>,
    users: Arc<dyn UserDirectory>,
    producer: Producer,
    commits: Option<CommitWatcher>,
    settings: WorkflowSettings,
    cache: Mutex<HashMap<CacheKey, (Instant, Option<BusinessService>)>>,
    state_level: tokio::sync::OnceCell<HashMap<String, bool>>,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The topics the engine publishes to (create them on brokers without auto-creation).
pub fn topics(settings: &WorkflowSettings) -> Vec<String> {
    vec![
        settings.transition_topic.clone(),
        settings.save_business_service_topic.clone(),
        settings.update_business_service_topic.clone(),
    ]
}

fn now_ms() -> i64 {
    digit_core::time::now_ms()
}

/// The RequestInfo that goes to Kafka: the caller's, without the token.
fn kafka_request_info(ri: &RequestInfo) -> RequestInfo {
    RequestInfo {
        auth_token: None,
        ..ri.clone()
    }
}

impl Workflow {
    /// An engine over `pool` (workflow migrations applied) publishing with `producer`.
    /// `commits` watches the persister's commits: transitions wait on it for an accepted but
    /// not yet persisted predecessor, and (with `await_persister`) before answering. Without
    /// it such a transition fails with `WORKFLOW_TRANSITION_PENDING` at once.
    pub fn new(
        pool: PgPool,
        mdms: Arc<dyn MdmsSource>,
        users: Arc<dyn UserDirectory>,
        producer: Producer,
        commits: Option<CommitWatcher>,
        settings: WorkflowSettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                mdms,
                users,
                producer,
                commits,
                settings,
                cache: Mutex::new(HashMap::new()),
                state_level: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &WorkflowSettings {
        &self.inner.settings
    }

    // ---------------------------------------------------------------- business services

    /// MDMS `Workflow.BusinessServiceMasterConfig`: code → state level (missing ⇒ state level).
    async fn is_state_level(&self, code: &str) -> Result<bool, WorkflowError> {
        // Loaded once. A failed load is not cached: the request fails (502) and the next
        // one tries again, instead of every code being taken as state level for good.
        let map = self
            .inner
            .state_level
            .get_or_try_init(|| async {
                let entries = self
                    .inner
                    .mdms
                    .master(
                        &self.inner.settings.state_level_tenant,
                        "Workflow",
                        "BusinessServiceMasterConfig",
                        None,
                    )
                    .await
                    .map_err(|e| {
                        WorkflowError::Dependency(format!("BusinessServiceMasterConfig: {e}"))
                    })?;
                Ok::<_, WorkflowError>(
                    entries
                        .iter()
                        .filter_map(|e| {
                            let code = e.get("businessService")?.as_str()?.to_owned();
                            let flag = match e.get("isStatelevel") {
                                Some(Value::Bool(b)) => *b,
                                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                                _ => true,
                            };
                            Some((code, flag))
                        })
                        .collect(),
                )
            })
            .await?;
        // A code the master does not list is state level, as upstream.
        Ok(map.get(code).copied().unwrap_or(true))
    }

    /// The business service a transition of `tenant` uses (state-level codes are stored
    /// under the state tenant), cached.
    pub async fn business_service(
        &self,
        tenant: &str,
        code: &str,
    ) -> Result<Option<BusinessService>, WorkflowError> {
        let lookup_tenant = if self.is_state_level(code).await? {
            tenant.split('.').next().unwrap_or(tenant).to_owned()
        } else {
            tenant.to_owned()
        };
        let key = (lookup_tenant.clone(), code.to_owned());
        if let Ok(cache) = self.inner.cache.lock() {
            if let Some((at, bs)) = cache.get(&key) {
                if at.elapsed() < self.inner.settings.cache_ttl {
                    return Ok(bs.clone());
                }
            }
        }
        let mut found =
            store::business_services(&self.inner.pool, &lookup_tenant, &[code.to_owned()]).await?;
        let bs = if found.len() == 1 { found.pop() } else { None };
        // Cache hits only: a definition created a moment later must be seen.
        if bs.is_some() {
            if let Ok(mut cache) = self.inner.cache.lock() {
                cache.insert(key, (Instant::now(), bs.clone()));
            }
        }
        Ok(bs)
    }

    fn evict_cache(&self) {
        if let Ok(mut cache) = self.inner.cache.lock() {
            cache.clear();
        }
    }

    /// `businessservice/_search` (v1: MDMS state-level rule; v2: nearest tenant in the
    /// hierarchy that defines the code). Returned objects carry the requested tenant id.
    pub async fn search_business_services(
        &self,
        tenant: &str,
        codes: &[String],
        v2: bool,
    ) -> Result<Vec<BusinessService>, WorkflowError> {
        let mut out = Vec::new();
        if codes.is_empty() {
            // Every definition visible from the tenant: its own, then the state's.
            let mut seen = BTreeSet::new();
            for t in digit_core::tenant::lineage_of(tenant) {
                for bs in store::business_services(&self.inner.pool, t, &[]).await? {
                    if seen.insert(bs.business_service.clone()) {
                        out.push(bs);
                    }
                }
            }
        } else {
            for code in codes {
                let found = if v2 {
                    let mut hit = None;
                    for t in digit_core::tenant::lineage_of(tenant) {
                        let mut rows = store::business_services(
                            &self.inner.pool,
                            t,
                            std::slice::from_ref(code),
                        )
                        .await?;
                        if let Some(bs) = rows.pop() {
                            hit = Some(bs);
                            break;
                        }
                    }
                    hit
                } else {
                    self.business_service(tenant, code).await?
                };
                out.extend(found);
            }
        }
        for bs in &mut out {
            rewrite_tenant(bs, tenant);
        }
        Ok(out)
    }

    /// `businessservice/_create` (`validate`: the v2 checks).
    pub async fn create_business_services(
        &self,
        request_info: &RequestInfo,
        services: Vec<BusinessService>,
        validate: bool,
    ) -> Result<Vec<BusinessService>, WorkflowError> {
        validate_business_services(&services)?;
        let user = request_info.user_uuid().unwrap_or_default().to_owned();
        if validate {
            if user.is_empty() {
                return Err(WorkflowError::invalid(
                    codes::APP_ERROR,
                    "userinfo UUID is mandatory for creating WorkflowService",
                ));
            }
            let mut errors = Vec::new();
            for bs in &services {
                let tenant = bs.tenant_id.as_deref().unwrap_or_default();
                let code = bs.business_service.clone().unwrap_or_default();
                for t in digit_core::tenant::lineage_of(tenant) {
                    if !store::business_services(&self.inner.pool, t, std::slice::from_ref(&code))
                        .await?
                        .is_empty()
                    {
                        errors.push(ErrorDetail::new(
                            codes::INVALID_BUSINESSSERVICE,
                            format!("The businessService: {code} for tenantId: {t} already exists"),
                        ));
                        break;
                    }
                }
            }
            if !errors.is_empty() {
                return Err(WorkflowError::Invalid(errors));
            }
        }
        let now = now_ms();
        let mut new_id = || uuid::Uuid::new_v4().to_string();
        let prepared = services
            .into_iter()
            .map(|bs| domain::prepare_new_business_service(bs, &user, now, &mut new_id))
            .collect::<Result<Vec<_>, _>>()?;
        let topic = self.inner.settings.save_business_service_topic.clone();
        self.publish_business_services(request_info, &topic, &prepared)
            .await?;
        Ok(prepared)
    }

    /// `businessservice/_update` (`validate`: v2, the definitions must exist).
    pub async fn update_business_services(
        &self,
        request_info: &RequestInfo,
        services: Vec<BusinessService>,
        validate: bool,
    ) -> Result<Vec<BusinessService>, WorkflowError> {
        validate_business_services(&services)?;
        let user = request_info.user_uuid().unwrap_or_default().to_owned();
        let now = now_ms();
        let mut new_id = || uuid::Uuid::new_v4().to_string();
        let mut prepared = Vec::new();
        let mut errors = Vec::new();
        for bs in services {
            let tenant = bs.tenant_id.clone().unwrap_or_default();
            let code = bs.business_service.clone().unwrap_or_default();
            let existing =
                store::business_services(&self.inner.pool, &tenant, std::slice::from_ref(&code))
                    .await?;
            match existing.first() {
                Some(old) => prepared.push(domain::prepare_updated_business_service(
                    bs,
                    old,
                    &user,
                    now,
                    &mut new_id,
                )?),
                None if validate => errors.push(ErrorDetail::new(
                    codes::INVALID_BUSINESSSERVICE,
                    format!("The businessService: {code} for tenantId: {tenant} does not exists"),
                )),
                None => prepared.push(domain::prepare_new_business_service(
                    bs,
                    &user,
                    now,
                    &mut new_id,
                )?),
            }
        }
        if !errors.is_empty() {
            return Err(WorkflowError::Invalid(errors));
        }
        let topic = self.inner.settings.update_business_service_topic.clone();
        self.publish_business_services(request_info, &topic, &prepared)
            .await?;
        Ok(prepared)
    }

    async fn publish_business_services(
        &self,
        request_info: &RequestInfo,
        topic: &str,
        services: &[BusinessService],
    ) -> Result<(), WorkflowError> {
        let payload = serde_json::json!({
            "RequestInfo": kafka_request_info(request_info),
            "BusinessServices": services,
        });
        let key = services.first().and_then(|b| b.tenant_id.clone());
        // Always awaited (when watched): the next read of a definition must see it.
        commit::publish_and_await(
            &self.inner.producer,
            self.inner.commits.as_ref(),
            Outgoing {
                topic,
                key: key.as_deref(),
                payload: &payload,
                correlation_id: request_info.correlation_id.as_deref(),
            },
        )
        .await
        .map_err(|e| WorkflowError::Kafka(e.to_string()))?;
        self.evict_cache();
        Ok(())
    }

    /// Creates every business service of `configs/workflow/*.json` that does not exist yet.
    pub async fn seed_from_configs(&self) -> Result<usize, WorkflowError> {
        let dir = self.inner.settings.config_path.clone();
        let unreadable =
            |e: std::io::Error| WorkflowError::Dependency(format!("{}: {e}", dir.display()));
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(path = %dir.display(), "No workflow config folder; nothing to seed.");
                return Ok(0);
            }
            Err(e) => return Err(unreadable(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(unreadable)?.path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
        files.sort();
        let mut created = 0;
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| WorkflowError::Dependency(format!("{}: {e}", file.display())))?;
            let request: crate::model::BusinessServiceRequest = serde_json::from_str(&text)
                .map_err(|e| WorkflowError::Dependency(format!("{}: {e}", file.display())))?;
            for bs in request.business_services {
                let tenant = bs.tenant_id.clone().unwrap_or_default();
                let code = bs.business_service.clone().unwrap_or_default();
                if store::business_services(&self.inner.pool, &tenant, std::slice::from_ref(&code))
                    .await?
                    .is_empty()
                {
                    let system = RequestInfo {
                        user_info: Some(UserInfo {
                            uuid: Some("workflow-config-loader".into()),
                            ..UserInfo::default()
                        }),
                        ..RequestInfo::default()
                    };
                    self.create_business_services(&system, vec![bs], false)
                        .await?;
                    tracing::info!(tenant, code, file = %file.display(), "Business service created from config.");
                    created += 1;
                }
            }
        }
        Ok(created)
    }

    // ---------------------------------------------------------------------- transitions

    /// Waits (with the watcher's timeout) until the persister committed the accepted but
    /// unpersisted predecessor at `(topic, partition, offset)`. A timeout is not an error
    /// here: the caller re-reads the table and answers `WORKFLOW_TRANSITION_PENDING`.
    async fn await_predecessor(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), WorkflowError> {
        let Some(commits) = &self.inner.commits else {
            return Ok(());
        };
        let broker_topic = self.inner.producer.settings().topic(topic);
        let timeout = commits.settings().timeout;
        match commits
            .wait_for(&broker_topic, partition, offset, timeout)
            .await
        {
            Ok(()) | Err(AwaitError::Timeout { .. }) => Ok(()),
            Err(AwaitError::Database(e)) => Err(WorkflowError::Database(e)),
        }
    }

    /// The latest instance of an application as the next transition must see it.
    async fn current_instance(
        &self,
        tenant: &str,
        business_id: &str,
    ) -> Result<(Option<i64>, Option<ProcessInstance>), WorkflowError> {
        let pool = &self.inner.pool;
        let head = store::head(pool, tenant, business_id).await?;
        let latest_id = match &head {
            Some(h) => {
                if !store::instance_exists(pool, &h.instance_id).await? {
                    // Accepted but not persisted yet: wait for the persister.
                    self.await_predecessor(&h.topic, h.partition, h.offset)
                        .await?;
                    if !store::instance_exists(pool, &h.instance_id).await? {
                        return Err(WorkflowError::Pending {
                            message: format!(
                                "The previous transition of businessId {business_id} is not persisted yet; retry"
                            ),
                        });
                    }
                }
                Some(h.instance_id.clone())
            }
            None => store::latest_instance_id(pool, tenant, business_id).await?,
        };
        let instance = match latest_id {
            Some(id) => store::instances_by_ids(pool, &[id]).await?.pop(),
            None => None,
        };
        Ok((head.map(|h| h.version), instance))
    }

    async fn lookup_users(
        &self,
        request_info: &RequestInfo,
        uuids: &[String],
    ) -> Result<HashMap<String, UserInfo>, WorkflowError> {
        let unique: Vec<String> = uuids
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let users = self
            .inner
            .users
            .search_by_uuids(request_info, &unique)
            .await?;
        Ok(users
            .into_iter()
            .filter_map(|u| Some((u.uuid.clone()?, u)))
            .collect())
    }

    /// `process/_transition`: answers once the persister stored the instances.
    pub async fn transition(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<Vec<ProcessInstance>, WorkflowError> {
        let (accepted, pending) = self.transition_pending(request).await?;
        if let Some(pending) = pending {
            pending.confirm().await;
        }
        Ok(accepted)
    }

    /// `process/_transition` up to the broker's acknowledgement: the accepted instances and,
    /// when read-your-writes is on, the persister's commit still to await — so a caller
    /// that publishes a message of its own (PGR's complaint) awaits both at once.
    pub async fn transition_pending(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<(Vec<ProcessInstance>, Option<commit::Pending>), WorkflowError> {
        let ProcessInstanceRequest {
            request_info,
            process_instances,
        } = request;
        validate_instances(&process_instances)?;
        let first = &process_instances[0];
        let (tenant, code) = (
            first.tenant().to_owned(),
            first.business_service.clone().unwrap_or_default(),
        );
        let service = self.business_service(&tenant, &code).await?.ok_or_else(|| {
            WorkflowError::invalid(
                codes::BUSINESSSERVICE_ERROR,
                format!("No bussinessService object found for businessSerice: {code} and tenantId: {tenant}"),
            )
        })?;
        let requester = request_info.user_info.clone().unwrap_or_default();

        // Current instances (waiting for any accepted-but-unpersisted predecessor).
        let mut current = Vec::with_capacity(process_instances.len());
        for pi in &process_instances {
            current.push(self.current_instance(pi.tenant(), pi.business_id()).await?);
        }

        // Users: request assignees, the requester, and the assignees of the current instances.
        let mut uuids: Vec<String> = process_instances
            .iter()
            .flat_map(|p| p.assignes.iter().flatten())
            .filter_map(|u| u.uuid.clone())
            .collect();
        uuids.extend(requester.uuid.clone());
        uuids.extend(
            current
                .iter()
                .filter_map(|(_, db)| db.as_ref())
                .flat_map(|db| db.assignes.iter().flatten())
                .filter_map(|u| u.uuid.clone()),
        );
        let users = self.lookup_users(&request_info, &uuids).await?;
        let mut missing = Vec::new();
        for uuid in process_instances
            .iter()
            .flat_map(|p| p.assignes.iter().flatten())
            .filter_map(|u| u.uuid.as_deref())
        {
            if !users.contains_key(uuid) {
                missing.push(uuid.to_owned());
            }
        }
        if let Some(last) = missing.last() {
            return Err(WorkflowError::invalid(
                codes::INVALID_UUID,
                format!("User not found for uuid: {last}"),
            ));
        }
        // The requester as the user service knows them (roles from the token stay in force).
        let assigner = match requester.uuid.as_deref().and_then(|u| users.get(u)) {
            Some(known) => UserInfo {
                roles: requester.roles.clone(),
                ..known.clone()
            },
            None => requester.clone(),
        };

        // Resolve, enrich and validate every instance.
        let mut accepted = Vec::with_capacity(process_instances.len());
        let mut versions = Vec::with_capacity(process_instances.len());
        let mut new_id = || uuid::Uuid::new_v4().to_string();
        for (pi, (version, db)) in process_instances.into_iter().zip(current) {
            let db = db.map(|mut d| {
                fill_state(&mut d, &service);
                enrich_users(&mut d, &users);
                d
            });
            let resolved: Resolved<'_> = domain::resolve(&service, db.as_ref(), &pi)?;
            let assignees: Vec<UserInfo> = pi
                .assignes
                .iter()
                .flatten()
                .filter_map(|u| u.uuid.as_deref().and_then(|id| users.get(id)).cloned())
                .collect();
            let last_time = db
                .as_ref()
                .and_then(|d| d.audit_details.as_ref())
                .and_then(|a| a.last_modified_time)
                .unwrap_or(0);
            // Strictly increasing per application, so "latest by lastModifiedTime" is exact.
            let now = now_ms().max(last_time + 1);
            let ctx = TransitionContext {
                service: &service,
                db: db.as_ref(),
                user: &assigner,
                assignees,
                now,
            };
            let enriched = domain::transition(&ctx, &resolved, pi, &mut new_id)?;
            versions.push(version);
            accepted.push(enriched);
        }

        let pending = self
            .commit_transitions(&request_info, &accepted, &versions)
            .await?;
        Ok((accepted, pending))
    }

    /// Claims the next version of every application, publishes the instances while the
    /// claims are held, records where they went, and commits. Returns the persister's
    /// commit to await (read-your-writes on and watched).
    async fn commit_transitions(
        &self,
        request_info: &RequestInfo,
        accepted: &[ProcessInstance],
        versions: &[Option<i64>],
    ) -> Result<Option<commit::Pending>, WorkflowError> {
        let mut order: Vec<usize> = (0..accepted.len()).collect();
        // One lock order for every request: no deadlock between multi-instance requests.
        order.sort_by(|a, b| {
            (accepted[*a].tenant(), accepted[*a].business_id())
                .cmp(&(accepted[*b].tenant(), accepted[*b].business_id()))
        });
        let now = now_ms();
        let mut tx = self.inner.pool.begin().await?;
        for &i in &order {
            let pi = &accepted[i];
            let claimed = store::claim(
                &mut tx,
                pi.tenant(),
                pi.business_id(),
                versions[i],
                pi.id.as_deref().unwrap_or_default(),
                now,
            )
            .await?;
            if !claimed {
                return Err(WorkflowError::Conflict {
                    message: format!(
                        "Another transition of businessId {} was accepted after this request read its state; reload and retry",
                        pi.business_id()
                    ),
                });
            }
        }
        let topic = self.inner.settings.transition_topic.clone();
        let payload = ProcessInstanceRequest {
            request_info: kafka_request_info(request_info),
            process_instances: accepted.to_vec(),
        };
        let key = accepted.first().map(ProcessInstance::tenant);
        let delivery = self
            .inner
            .producer
            .send_json(
                &topic,
                key,
                &payload,
                request_info.correlation_id.as_deref(),
            )
            .await
            .map_err(|e| WorkflowError::Kafka(e.to_string()))?;
        let broker_topic = self.inner.producer.settings().topic(&topic);
        for pi in accepted {
            store::record_delivery(
                &mut tx,
                pi.tenant(),
                pi.business_id(),
                &topic,
                delivery.partition,
                delivery.offset,
            )
            .await?;
        }
        if let Err(e) = tx.commit().await {
            // Published but not recorded: the persister will still write the instance and
            // the next transition reads it from the table (no head version to compare).
            tracing::error!(error = %e, topic = broker_topic, offset = delivery.offset, "Head update failed after publishing.");
            return Err(WorkflowError::Database(e));
        }
        // Published and recorded above; the read-your-writes wait is the caller's.
        Ok(
            match (self.inner.settings.await_persister, &self.inner.commits) {
                (true, Some(commits)) => Some(commit::Pending::new(
                    Some(commits.clone()),
                    broker_topic,
                    delivery,
                )),
                _ => None,
            },
        )
    }

    // --------------------------------------------------------------------------- search

    /// The search filter for `criteria` as `user` (inbox mode when no id/status/assignee).
    async fn filter(
        &self,
        user: &UserInfo,
        criteria: &SearchCriteria,
        mandatory_message: &str,
    ) -> Result<InstanceFilter, WorkflowError> {
        let tenant = criteria.tenant_id.clone().unwrap_or_default();
        if tenant.trim().is_empty() {
            return Err(WorkflowError::invalid(
                codes::CRITERIA_ERROR,
                mandatory_message,
            ));
        }
        let max = if criteria.exact_business_ids {
            crate::INTERNAL_MAX_LIMIT
        } else {
            self.inner.settings.max_limit
        };
        let limit = criteria
            .limit
            .unwrap_or(self.inner.settings.default_limit)
            .clamp(1, max);
        let mut filter = InstanceFilter {
            tenant_id: tenant.clone(),
            ids: criteria.ids.clone(),
            business_ids: criteria.business_ids.clone(),
            fuzzy: self.inner.settings.fuzzy && !criteria.exact_business_ids,
            status: criteria.status.clone(),
            assignee: criteria.assignee.clone().filter(|a| !a.is_empty()),
            history: criteria.history.unwrap_or(false),
            business_service: criteria.business_service.clone().filter(|s| !s.is_empty()),
            module_name: criteria.module_name.clone().filter(|s| !s.is_empty()),
            inbox: None,
            max_age_ms: None,
            offset: criteria.offset.unwrap_or(0).max(0),
            limit,
        };
        if criteria.is_inbox() {
            filter.history = false;
            filter.assignee = user.uuid.clone();
            filter.inbox = Some(self.inbox(user, &tenant).await?);
        }
        Ok(filter)
    }

    /// States the user can act on: per tenant for tenant roles, any tenant for state roles.
    async fn inbox(&self, user: &UserInfo, tenant: &str) -> Result<Inbox, WorkflowError> {
        let mut inbox = Inbox::default();
        let services = self.search_business_services(tenant, &[], false).await?;
        for role in &user.roles {
            let role_tenant = role.tenant_id.as_deref().unwrap_or_default();
            let state_level = !role_tenant.contains('.');
            for bs in &services {
                for state in &bs.states {
                    let acts = state.actions().iter().any(|a| {
                        a.active != Some(false)
                            && a.roles.iter().any(|r| r == &role.code || r == "*")
                    });
                    let Some(uuid) = state.uuid.clone() else {
                        continue;
                    };
                    if !acts {
                        continue;
                    }
                    if state_level {
                        inbox.statuses.push(uuid);
                    } else {
                        inbox.tenant_statuses.push(format!("{role_tenant}:{uuid}"));
                    }
                }
            }
        }
        Ok(inbox)
    }

    async fn load_and_enrich(
        &self,
        request_info: &RequestInfo,
        ids: &[String],
    ) -> Result<Vec<ProcessInstance>, WorkflowError> {
        let mut instances = store::instances_by_ids(&self.inner.pool, ids).await?;
        if instances.is_empty() {
            return Ok(instances);
        }
        let uuids: Vec<String> = instances
            .iter()
            .flat_map(|p| p.assignes.iter().flatten().chain(p.assigner.iter()))
            .filter_map(|u| u.uuid.clone())
            .collect();
        let users = self.lookup_users(request_info, &uuids).await?;
        let requester = request_info.user_info.clone().unwrap_or_default();
        let now = now_ms();
        let mut services: HashMap<(String, String), Option<BusinessService>> = HashMap::new();
        for pi in &mut instances {
            let key = (
                pi.tenant().to_owned(),
                pi.business_service.clone().unwrap_or_default(),
            );
            if !services.contains_key(&key) {
                let bs = self.business_service(&key.0, &key.1).await?;
                services.insert(key.clone(), bs);
            }
            if let Some(Some(bs)) = services.get(&key) {
                fill_state(pi, bs);
                let tenant = pi.tenant().to_owned();
                pi.next_actions = pi
                    .state
                    .as_ref()
                    .map(|s| domain::next_actions(s, bs, &requester, &tenant));
            }
            enrich_users(pi, &users);
            domain::remaining_sla(pi, now);
        }
        Ok(instances)
    }

    /// `process/_search`: instances and the total number matching.
    pub async fn search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError> {
        let user = request_info.user_info.clone().unwrap_or_default();
        let filter = self
            .filter(
                &user,
                criteria,
                "TenantId is mandatory for searching workflow",
            )
            .await?;
        let ids = store::search_ids(&self.inner.pool, &filter).await?;
        let total = match page_total(&filter, ids.len()) {
            Some(total) => total,
            None => store::count(&self.inner.pool, &filter).await?,
        };
        let instances = self.load_and_enrich(request_info, &ids).await?;
        Ok((instances, total))
    }

    /// `process/_count`.
    pub async fn count(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<i64, WorkflowError> {
        let user = request_info.user_info.clone().unwrap_or_default();
        let filter = self
            .filter(
                &user,
                criteria,
                "TenantId is mandatory for count workflow call",
            )
            .await?;
        Ok(store::count(&self.inner.pool, &filter).await?)
    }

    /// `process/_statuscount`.
    pub async fn status_count(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<Vec<StatusCount>, WorkflowError> {
        let user = request_info.user_info.clone().unwrap_or_default();
        let filter = self
            .filter(
                &user,
                criteria,
                "TenantId is mandatory for count workflow call",
            )
            .await?;
        Ok(store::status_count(&self.inner.pool, &filter).await?)
    }

    /// `process/_nearingslacount`.
    pub async fn nearing_sla_count(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<i64, WorkflowError> {
        let user = request_info.user_info.clone().unwrap_or_default();
        let mut filter = self
            .filter(
                &user,
                criteria,
                "TenantId is mandatory for count workflow call",
            )
            .await?;
        let Some(code) = filter.business_service.clone() else {
            return Err(WorkflowError::invalid(
                codes::NEARING_SLA_CRITERIA,
                "Providing business service is mandatory for nearing escalation count",
            ));
        };
        let state = filter
            .tenant_id
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let slot = self
            .inner
            .mdms
            .master(&state, "common-masters", "wfSlaConfig", None)
            .await
            .map_err(|e| WorkflowError::Dependency(e.to_string()))?
            .first()
            .and_then(|c| c.get("slotPercentage"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let services = self
            .search_business_services(&filter.tenant_id, &[code], true)
            .await?;
        let max_sla = services
            .first()
            .and_then(|b| b.business_service_sla)
            .unwrap_or(0);
        filter.max_age_ms = Some((now_ms(), domain::nearing_sla_limit(max_sla, slot)));
        Ok(store::count(&self.inner.pool, &filter).await?)
    }

    /// `escalate/_search`: applications escalated away from the requester.
    pub async fn escalated_search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError> {
        let tenant = criteria.tenant_id.clone().unwrap_or_default();
        if tenant.trim().is_empty() {
            return Err(WorkflowError::invalid(
                codes::CRITERIA_ERROR,
                "TenantId is mandatory for searching workflow",
            ));
        }
        let user = request_info.user_uuid().unwrap_or_default();
        let business_ids = store::escalated_business_ids(
            &self.inner.pool,
            &tenant,
            &criteria.business_ids,
            criteria.business_service.as_deref(),
            user,
        )
        .await?;
        let total = i64::try_from(business_ids.len()).unwrap_or(i64::MAX);
        if business_ids.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let limit = criteria
            .limit
            .unwrap_or(self.inner.settings.default_limit)
            .clamp(1, self.inner.settings.max_limit);
        let filter = InstanceFilter {
            tenant_id: tenant,
            business_ids,
            fuzzy: false,
            business_service: criteria.business_service.clone(),
            offset: criteria.offset.unwrap_or(0).max(0),
            limit,
            ..InstanceFilter::default()
        };
        let ids = store::search_ids(&self.inner.pool, &filter).await?;
        Ok((self.load_and_enrich(request_info, &ids).await?, total))
    }

    // ---------------------------------------------------------------------- escalation

    /// `auto/{businessService}/_escalate` (§4.6): moves every application that overstayed
    /// its configured SLA with the configured action (`escalated = true`), then publishes
    /// the batch to the config's topic. Returns the number of applications escalated.
    ///
    /// Configuration errors fail the call (HTTP 400): an `AutoEscalation` entry of this
    /// business service that does not parse or has no SLA (`INVALID_CONFIG`), a business
    /// service or state it names that does not exist (`BUSINESSSERVICE_NOT_FOUND`,
    /// `STATUS_NOT_FOUND`). An unparsable entry of another business service is logged and
    /// counted (`degraded_total{what="workflow_escalation_config"}`) and skipped; so is a
    /// tenant that fails for another reason (`workflow_escalation_tenant`: the others are
    /// still escalated) and an application whose transition fails on its own
    /// (`workflow_escalation_application`).
    pub async fn auto_escalate(
        &self,
        request_info: &RequestInfo,
        business_service: &str,
    ) -> Result<usize, WorkflowError> {
        let state_tenant = self.inner.settings.state_level_tenant.clone();
        let configs = self
            .inner
            .mdms
            .master(&state_tenant, "Workflow", "AutoEscalation", None)
            .await
            .map_err(|e| WorkflowError::Dependency(e.to_string()))?;
        let mut errors = Vec::new();
        let configs = escalation_configs(configs, business_service, &mut errors);
        for c in &configs {
            if c.state_sla.is_none() && c.business_sla.is_none() {
                errors.push(ErrorDetail::new(
                    codes::INVALID_CONFIG,
                    format!(
                        "Both stateSLA and businessSLA are null for config with state: {} and action: {}",
                        c.state, c.action
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(WorkflowError::Invalid(errors));
        }
        let tenants: Vec<String> = self
            .inner
            .mdms
            .master(&state_tenant, "tenant", "tenants", None)
            .await
            .map_err(|e| WorkflowError::Dependency(e.to_string()))?
            .iter()
            .filter_map(|t| t.get("code").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut escalated = 0;
        for config in &configs {
            for tenant in &tenants {
                match self.escalate_tenant(request_info, config, tenant).await {
                    Ok(n) => escalated += n,
                    Err(e @ WorkflowError::Invalid(_)) => return Err(e),
                    Err(e) => digit_service::metrics::degraded(
                        "workflow_escalation_tenant",
                        &format!(
                            "auto-escalation of {} failed for tenant {tenant}: {e}",
                            config.business_service
                        ),
                    ),
                }
            }
        }
        Ok(escalated)
    }

    async fn escalate_tenant(
        &self,
        request_info: &RequestInfo,
        config: &EscalationConfig,
        tenant: &str,
    ) -> Result<usize, WorkflowError> {
        let Some(service) = self
            .business_service(tenant, &config.business_service)
            .await?
        else {
            return Err(WorkflowError::invalid(
                codes::BUSINESSSERVICE_NOT_FOUND,
                format!(
                    "No BusinessService found for tenantId: {tenant} and code: {}",
                    config.business_service
                ),
            ));
        };
        let Some(state_uuid) = service
            .states
            .iter()
            .find(|s| {
                s.state
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&config.state))
            })
            .and_then(|s| s.uuid.clone())
        else {
            return Err(WorkflowError::invalid(
                codes::STATUS_NOT_FOUND,
                format!(
                    "No uuid found for tenantId: {tenant} and status: {}",
                    config.state
                ),
            ));
        };
        let days_ms = |d: f64| (d * 24.0 * 60.0 * 60.0 * 1000.0) as i64;
        let ids = store::overdue_business_ids(
            &self.inner.pool,
            tenant,
            &config.business_service,
            &state_uuid,
            now_ms(),
            config.state_sla.map(days_ms),
            config.business_sla.map(days_ms),
        )
        .await?;
        let mut moved = 0;
        for batch in ids.chunks(self.inner.settings.escalation_batch) {
            let instances = |ids: &[String]| -> Vec<ProcessInstance> {
                ids.iter()
                    .map(|id| ProcessInstance {
                        business_id: Some(id.clone()),
                        action: Some(config.action.clone()),
                        business_service: Some(config.business_service.clone()),
                        module_name: Some(config.module.clone()),
                        tenant_id: Some(tenant.to_owned()),
                        escalated: Some(true),
                        ..ProcessInstance::default()
                    })
                    .collect()
            };
            let mut done = Vec::new();
            match self
                .transition(ProcessInstanceRequest {
                    request_info: request_info.clone(),
                    process_instances: instances(batch),
                })
                .await
            {
                Ok(out) => done.extend(out),
                Err(e) => {
                    tracing::warn!(error = %e, "Escalation batch failed; retrying one by one.");
                    for id in batch {
                        match self
                            .transition(ProcessInstanceRequest {
                                request_info: request_info.clone(),
                                process_instances: instances(std::slice::from_ref(id)),
                            })
                            .await
                        {
                            Ok(out) => done.extend(out),
                            Err(e) => digit_service::metrics::degraded(
                                "workflow_escalation_application",
                                &format!("escalation of {id} skipped: {e}"),
                            ),
                        }
                    }
                }
            }
            if done.is_empty() {
                continue;
            }
            moved += done.len();
            let payload = ProcessInstanceRequest {
                request_info: kafka_request_info(request_info),
                process_instances: done,
            };
            // The topic comes from MDMS; brokers without auto-creation need it made first.
            if let Err(e) = digit_kafka::create_topics(
                self.inner.producer.settings(),
                &[(config.topic.as_str(), 1)],
            )
            .await
            {
                tracing::warn!(topic = config.topic, error = %e, "Could not create the escalation topic.");
            }
            self.inner
                .producer
                .send_json(
                    &config.topic,
                    Some(tenant),
                    &payload,
                    request_info.correlation_id.as_deref(),
                )
                .await
                .map_err(|e| WorkflowError::Kafka(e.to_string()))?;
        }
        Ok(moved)
    }
}

/// The `Workflow.AutoEscalation` entries of `business_service` (case-insensitive). An entry
/// of it that does not parse adds an `INVALID_CONFIG` error; an unparsable entry of any
/// other (or no) business service is logged, counted and skipped.
fn escalation_configs(
    entries: Vec<Value>,
    business_service: &str,
    errors: &mut Vec<ErrorDetail>,
) -> Vec<EscalationConfig> {
    let mut out = Vec::new();
    for entry in entries {
        let named = entry
            .get("businessService")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let ours = named
            .as_deref()
            .is_some_and(|b| b.eq_ignore_ascii_case(business_service));
        match serde_json::from_value::<EscalationConfig>(entry) {
            Ok(c) if ours => out.push(c),
            Ok(_) => {}
            Err(e) if ours => errors.push(ErrorDetail::new(
                codes::INVALID_CONFIG,
                format!(
                    "Invalid AutoEscalation config for businessService {business_service}: {e}"
                ),
            )),
            Err(e) => digit_service::metrics::degraded(
                "workflow_escalation_config",
                &format!(
                    "AutoEscalation entry of businessService {} skipped: {e}",
                    named.as_deref().unwrap_or("(none)")
                ),
            ),
        }
    }
    out
}

/// One MDMS `Workflow.AutoEscalation` entry (SLAs in days).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EscalationConfig {
    business_service: String,
    state: String,
    action: String,
    #[serde(default)]
    module: String,
    topic: String,
    #[serde(rename = "stateSLA", default)]
    state_sla: Option<f64>,
    #[serde(rename = "businessSLA", default)]
    business_sla: Option<f64>,
}

/// Replaces the uuid-only `state` of a stored instance with the full State.
fn fill_state(pi: &mut ProcessInstance, bs: &BusinessService) {
    let uuid = pi.state.as_ref().and_then(|s| s.uuid.clone());
    if let Some(full) = uuid.and_then(|u| domain::state_by_uuid(bs, &u).cloned()) {
        pi.state = Some(full);
    }
}

/// Replaces uuid-only users with what the user service knows.
fn enrich_users(pi: &mut ProcessInstance, users: &HashMap<String, UserInfo>) {
    let known = |u: &UserInfo| -> UserInfo {
        u.uuid
            .as_deref()
            .and_then(|id| users.get(id))
            .cloned()
            .unwrap_or_else(|| u.clone())
    };
    if let Some(a) = pi.assigner.as_ref() {
        pi.assigner = Some(known(a));
    }
    if let Some(list) = pi.assignes.as_mut() {
        for u in list.iter_mut() {
            *u = known(u);
        }
    }
}

fn rewrite_tenant(bs: &mut BusinessService, tenant: &str) {
    bs.tenant_id = Some(tenant.to_owned());
    for state in &mut bs.states {
        state.tenant_id = Some(tenant.to_owned());
        for action in state.actions.iter_mut().flatten() {
            action.tenant_id = Some(tenant.to_owned());
        }
    }
}

fn not_null(errors: &mut Vec<ErrorDetail>, present: bool, path: String) {
    if !present {
        errors.push(
            ErrorDetail::new(codes::NOT_NULL, format!("{path} must not be null"))
                .with_params(vec![path]),
        );
    }
}

fn max_size(errors: &mut Vec<ErrorDetail>, value: Option<&str>, max: usize, path: String) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(
            ErrorDetail::new(
                codes::SIZE,
                format!("{path} size must be between 0 and {max}"),
            )
            .with_params(vec![path]),
        );
    }
}

/// Bean validation of a transition request (upstream's `@NotNull`/`@Size`).
fn validate_instances(instances: &[ProcessInstance]) -> Result<(), WorkflowError> {
    if instances.is_empty() {
        return Err(WorkflowError::invalid(
            codes::NOT_NULL,
            "ProcessInstances must not be empty",
        ));
    }
    let mut errors = Vec::new();
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    for (i, pi) in instances.iter().enumerate() {
        let path = |f: &str| format!("ProcessInstances[{i}].{f}");
        not_null(&mut errors, present(&pi.tenant_id), path("tenantId"));
        not_null(
            &mut errors,
            present(&pi.business_service),
            path("businessService"),
        );
        not_null(&mut errors, present(&pi.business_id), path("businessId"));
        not_null(&mut errors, present(&pi.action), path("action"));
        not_null(&mut errors, present(&pi.module_name), path("moduleName"));
        max_size(&mut errors, pi.tenant_id.as_deref(), 128, path("tenantId"));
        max_size(
            &mut errors,
            pi.business_id.as_deref(),
            128,
            path("businessId"),
        );
        max_size(&mut errors, pi.action.as_deref(), 128, path("action"));
        max_size(
            &mut errors,
            pi.comment.as_deref(),
            domain::MAX_COMMENT_CHARS,
            path("comment"),
        );
    }
    if instances.len() > 1000 {
        errors.push(ErrorDetail::new(
            codes::SIZE,
            "At most 1000 ProcessInstances per request",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::Invalid(errors))
    }
}

/// Bean validation and duplicate checks of business services (v1 and v2).
fn validate_business_services(services: &[BusinessService]) -> Result<(), WorkflowError> {
    let mut errors = Vec::new();
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let mut seen = BTreeSet::new();
    for (i, bs) in services.iter().enumerate() {
        let path = |f: &str| format!("BusinessServices[{i}].{f}");
        not_null(&mut errors, present(&bs.tenant_id), path("tenantId"));
        not_null(
            &mut errors,
            present(&bs.business_service),
            path("businessService"),
        );
        not_null(&mut errors, present(&bs.business), path("business"));
        if !seen.insert((bs.tenant_id.clone(), bs.business_service.clone())) {
            errors.push(ErrorDetail::new(
                codes::INVALID_BUSINESSSERVICE,
                format!(
                    "BusinessService: {} is duplicate",
                    bs.business_service.as_deref().unwrap_or_default()
                ),
            ));
        }
        let mut states = BTreeSet::new();
        for state in &bs.states {
            if !states.insert(state.state.clone()) {
                errors.push(ErrorDetail::new(
                    codes::INVALID_STATE,
                    format!(
                        "State: {} is duplicate",
                        state.state.as_deref().unwrap_or("null")
                    ),
                ));
            }
            let mut actions = BTreeSet::new();
            for action in state.actions() {
                if !actions.insert(action.name().to_owned()) {
                    errors.push(ErrorDetail::new(
                        codes::INVALID_ACTION,
                        format!("Action: {} is duplicate", action.name()),
                    ));
                }
                if action.action.is_none() || action.next_state.is_none() {
                    errors.push(ErrorDetail::new(
                        codes::NOT_NULL,
                        "action and nextState of every action must not be null",
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::Invalid(errors))
    }
}

/// The total of a search when its page tells it: a page shorter than the limit that is
/// not empty past the first is the end of the results, so no count query is needed (most
/// searches, PGR's every one). `None` when only a count can tell.
fn page_total(filter: &InstanceFilter, found: usize) -> Option<i64> {
    let found = i64::try_from(found).ok()?;
    (found < filter.limit && (found > 0 || filter.offset == 0)).then_some(filter.offset + found)
}

#[async_trait::async_trait]
impl WorkflowClient for Workflow {
    async fn transition(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<Vec<ProcessInstance>, WorkflowError> {
        Workflow::transition(self, request).await
    }

    async fn transition_pending(
        &self,
        request: ProcessInstanceRequest,
    ) -> Result<(Vec<ProcessInstance>, Option<commit::Pending>), WorkflowError> {
        Workflow::transition_pending(self, request).await
    }

    async fn search(
        &self,
        request_info: &RequestInfo,
        criteria: &SearchCriteria,
    ) -> Result<(Vec<ProcessInstance>, i64), WorkflowError> {
        Workflow::search(self, request_info, criteria).await
    }

    async fn business_service(
        &self,
        _request_info: &RequestInfo,
        tenant: &str,
        code: &str,
    ) -> Result<Option<BusinessService>, WorkflowError> {
        let mut found = self
            .search_business_services(tenant, &[code.to_owned()], false)
            .await?;
        Ok(found.pop())
    }
}

/// Builds the embedded engine from the environment for a service that runs it standalone:
/// settings, the topics, and — in the background, so start-up does not wait for the
/// persister — the business services of `WORKFLOW_CONFIG_PATH`. `commits` is the process's
/// one commit watcher (shared with the service that embeds the engine).
pub async fn embedded_from_env(
    env: &digit_service::config::Env,
    pool: PgPool,
    mdms: Arc<dyn MdmsSource>,
    users: Arc<dyn UserDirectory>,
    producer: Producer,
    commits: CommitWatcher,
) -> Result<Workflow, WorkflowError> {
    let settings =
        WorkflowSettings::from_env(env).map_err(|e| WorkflowError::Dependency(e.to_string()))?;
    // Always watched: even in fire-and-forget mode a transition must wait for its
    // predecessor to be persisted before deciding on the application's state.
    let commits = Some(commits);
    let names = topics(&settings);
    let list: Vec<(&str, i32)> = names.iter().map(|t| (t.as_str(), 1)).collect();
    // A cluster may forbid topic creation (its topics then exist already): go on, seen.
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &list).await {
        digit_service::metrics::degraded("workflow_topics_create", &e);
    }
    let workflow = Workflow::new(pool, mdms, users, producer, commits, settings);
    let seeding = workflow.clone();
    tokio::spawn(async move {
        match seeding.seed_from_configs().await {
            Ok(n) => tracing::info!(created = n, "Workflow configs loaded."),
            Err(e) => digit_service::metrics::degraded("workflow_config_seed", &e),
        }
    });
    Ok(workflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_short_page_tells_the_total_and_a_full_or_empty_later_page_does_not() {
        let page = |offset, limit| InstanceFilter {
            offset,
            limit,
            ..InstanceFilter::default()
        };
        assert_eq!(page_total(&page(0, 10), 3), Some(3));
        assert_eq!(page_total(&page(0, 10), 0), Some(0));
        assert_eq!(page_total(&page(20, 10), 4), Some(24));
        assert_eq!(
            page_total(&page(0, 10), 10),
            None,
            "a full page may have more behind it"
        );
        assert_eq!(
            page_total(&page(20, 10), 0),
            None,
            "past the end: the total may be below the offset"
        );
    }

    #[test]
    fn malformed_escalation_configs_are_errors_for_their_business_service_and_counted_otherwise() {
        let good = json!({"businessService": "PGR", "state": "PENDINGATLME", "action": "ESCALATE",
            "module": "PGR", "topic": "pgr-auto-escalation", "stateSLA": 1.5});
        let ours_broken = json!({"businessService": "pgr", "state": "PENDINGATLME", "topic": "t"});
        let other_broken = json!({"businessService": "TL", "stateSLA": "soon"});
        let nameless = json!({"state": "X"});
        let what = "workflow_escalation_config";
        let before = digit_service::metrics::degraded_count(what);

        let mut errors = Vec::new();
        let configs = escalation_configs(
            vec![good.clone(), other_broken.clone(), nameless.clone()],
            "PGR",
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].state_sla, Some(1.5));
        assert_eq!(digit_service::metrics::degraded_count(what), before + 2);

        let configs = escalation_configs(vec![good, ours_broken], "PGR", &mut errors);
        assert_eq!(configs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, codes::INVALID_CONFIG);
        assert!(
            errors[0].message.contains("action"),
            "{}",
            errors[0].message
        );
    }
}
