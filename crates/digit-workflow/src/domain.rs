//! The transition rules (upstream-platform §4.4, §4.5): pure functions over a business
//! service, the application's current instance and the request — no I/O, so every rule is
//! unit-tested table by table.

use crate::error::{codes, WorkflowError};
use crate::model::{Action, BusinessService, Document, ProcessInstance, State};
use digit_core::{AuditDetails, ErrorDetail, UserInfo};
use std::collections::BTreeSet;

/// The action name that allows a rating.
pub const RATE_ACTION: &str = "RATE";
/// Only the citizen an application was sent back to may act on it.
pub const SENDBACKTOCITIZEN: &str = "SENDBACKTOCITIZEN";
/// User type of citizens.
pub const CITIZEN_TYPE: &str = "CITIZEN";
/// Upstream's `@Size(max = 1024)` on `comment`.
pub const MAX_COMMENT_CHARS: usize = 1024;

/// The state an application is in, the action requested from it and where it leads.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    /// Current state (the start pseudo-state for a new application).
    pub current: &'a State,
    /// The matching active action, roles with `"*"` expanded.
    pub action: Action,
    /// The state the action leads to.
    pub resultant: &'a State,
}

impl Resolved<'_> {
    /// True when the action moves the application to another state.
    pub fn changes_state(&self) -> bool {
        self.action.changes_state()
    }
}

/// Every role named by any action of the business service (`"*"` excluded).
pub fn roles_in_service(service: &BusinessService) -> BTreeSet<String> {
    service
        .states
        .iter()
        .flat_map(State::actions)
        .flat_map(|a| a.roles.iter())
        .filter(|r| r.as_str() != "*")
        .cloned()
        .collect()
}

/// `"*"` in an action's roles stands for every role used in the business service.
pub fn expand_roles(action: &Action, service: &BusinessService) -> Action {
    let mut action = action.clone();
    if action.roles.iter().any(|r| r == "*") {
        action.roles = roles_in_service(service).into_iter().collect();
    }
    action
}

/// The state with this uuid.
pub fn state_by_uuid<'a>(service: &'a BusinessService, uuid: &str) -> Option<&'a State> {
    service
        .states
        .iter()
        .find(|s| s.uuid.as_deref() == Some(uuid))
}

/// The start pseudo-state (no name).
pub fn start_state(service: &BusinessService) -> Option<&State> {
    service.states.iter().find(|s| s.is_start())
}

/// Step 2–3 of §4.4: current state, action (case-insensitive, active only), resultant state.
pub fn resolve<'a>(
    service: &'a BusinessService,
    db: Option<&ProcessInstance>,
    request: &ProcessInstance,
) -> Result<Resolved<'a>, WorkflowError> {
    let requested = request.action.as_deref().unwrap_or_default();
    let not_found = || {
        WorkflowError::invalid(
            codes::INVALID_ACTION,
            format!(
                "Action {requested} not found in config for the businessId: {}",
                request.business_id()
            ),
        )
    };
    let current = match db {
        Some(instance) => instance
            .state
            .as_ref()
            .and_then(|s| s.uuid.as_deref())
            .and_then(|uuid| state_by_uuid(service, uuid)),
        None => start_state(service),
    }
    .ok_or_else(not_found)?;
    let action = current
        .actions()
        .iter()
        .filter(|a| a.active != Some(false))
        .find(|a| a.name().eq_ignore_ascii_case(requested))
        .ok_or_else(not_found)?;
    let resultant = action
        .next_state
        .as_deref()
        .and_then(|uuid| state_by_uuid(service, uuid))
        .ok_or_else(not_found)?;
    Ok(Resolved {
        current,
        action: expand_roles(action, service),
        resultant,
    })
}

/// The requester's role codes valid for `tenant`: roles of that tenant plus roles of its
/// state-level tenant (`tenant` up to the first dot), as upstream.
pub fn tenant_roles(user: &UserInfo, tenant: &str) -> BTreeSet<String> {
    let state = tenant.split('.').next().unwrap_or(tenant);
    user.roles
        .iter()
        .filter(|r| {
            let t = r.tenant_id.as_deref().unwrap_or_default();
            t == tenant || t == state
        })
        .map(|r| r.code.clone())
        .collect()
}

/// Roles of the actions of `state` that change state (upstream `getRolesFromState`).
pub fn transition_roles(state: &State, service: &BusinessService) -> BTreeSet<String> {
    state
        .actions()
        .iter()
        .filter(|a| a.changes_state())
        .flat_map(|a| expand_roles(a, service).roles)
        .collect()
}

/// Actions of `state` the requester may take, sorted by name (upstream `nextActions`).
pub fn next_actions(
    state: &State,
    service: &BusinessService,
    user: &UserInfo,
    tenant: &str,
) -> Vec<Action> {
    let roles = tenant_roles(user, tenant);
    let mut actions: Vec<Action> = state
        .actions()
        .iter()
        .filter(|a| a.active != Some(false))
        .map(|a| expand_roles(a, service))
        .filter(|a| a.roles.iter().any(|r| roles.contains(r)))
        .collect();
    actions.sort_by(|a, b| a.name().cmp(b.name()));
    actions
}

/// Everything a transition needs besides the request.
#[derive(Debug)]
pub struct TransitionContext<'a> {
    /// The business service (tenant-resolved).
    pub service: &'a BusinessService,
    /// The application's latest instance, assignees enriched with type and roles.
    pub db: Option<&'a ProcessInstance>,
    /// The requester.
    pub user: &'a UserInfo,
    /// The request's assignees as the user service knows them (same order as requested).
    pub assignees: Vec<UserInfo>,
    /// Now, epoch ms (already made later than the previous instance).
    pub now: i64,
}

/// Steps 4–7 of §4.4 for one instance: enrich, then validate in upstream's order.
/// `new_id` supplies uuids (instance, documents).
pub fn transition(
    ctx: &TransitionContext<'_>,
    resolved: &Resolved<'_>,
    request: ProcessInstance,
    new_id: &mut dyn FnMut() -> String,
) -> Result<ProcessInstance, WorkflowError> {
    let enriched = enrich(ctx, resolved, request, new_id);
    validate_action(ctx, resolved, &enriched)?;
    validate_documents(resolved, &enriched)?;
    validate_citizen_assignees(ctx, &enriched)?;
    Ok(enriched)
}

fn enrich(
    ctx: &TransitionContext<'_>,
    resolved: &Resolved<'_>,
    mut pi: ProcessInstance,
    new_id: &mut dyn FnMut() -> String,
) -> ProcessInstance {
    let requester = ctx.user.uuid.clone().unwrap_or_default();
    let tenant = pi.tenant().to_owned();
    pi.id = Some(new_id());
    pi.module_name = ctx.service.business.clone();
    let mut audit = AuditDetails::for_create(&requester, ctx.now);
    if !resolved.changes_state() {
        if let Some(db_audit) = ctx.db.and_then(|d| d.audit_details.as_ref()) {
            audit.created_by = db_audit.created_by.clone();
            audit.created_time = db_audit.created_time;
        }
    }
    if let Some(docs) = pi.documents.as_mut() {
        for doc in docs.iter_mut() {
            *doc = Document {
                id: Some(new_id()),
                tenant_id: Some(tenant.clone()),
                audit_details: Some(AuditDetails::for_create(&requester, ctx.now)),
                ..doc.clone()
            };
        }
    }
    pi.assigner = Some(ctx.user.clone());
    if pi.assignes.as_ref().is_some_and(|a| !a.is_empty()) {
        pi.assignes = Some(ctx.assignees.clone());
    }
    // SLA (§4.5).
    match ctx.db {
        None => {
            pi.businesss_service_sla = ctx.service.business_service_sla;
            pi.state_sla = if resolved.changes_state() {
                resolved.resultant.sla
            } else {
                None
            };
        }
        Some(db) => {
            let last = db
                .audit_details
                .as_ref()
                .and_then(|a| a.last_modified_time)
                .unwrap_or(ctx.now);
            let spent = ctx.now - last;
            pi.businesss_service_sla = db.businesss_service_sla.map(|s| s.saturating_sub(spent));
            pi.state_sla = if resolved.changes_state() {
                resolved.resultant.sla
            } else {
                db.state_sla.map(|s| s.saturating_sub(spent))
            };
        }
    }
    pi.previous_status = ctx
        .db
        .and_then(|d| d.state.as_ref())
        .and_then(|s| s.uuid.clone())
        .or_else(|| pi.state.as_ref().and_then(|s| s.uuid.clone()));
    pi.state = Some(resolved.resultant.clone());
    pi.next_actions = Some(next_actions(
        resolved.resultant,
        ctx.service,
        ctx.user,
        &tenant,
    ));
    pi.escalated = Some(pi.escalated.unwrap_or(false));
    pi.audit_details = Some(audit);
    pi
}

fn validate_action(
    ctx: &TransitionContext<'_>,
    resolved: &Resolved<'_>,
    pi: &ProcessInstance,
) -> Result<(), WorkflowError> {
    let tenant = pi.tenant();
    let roles = tenant_roles(ctx.user, tenant);
    if pi.rating.is_some() && !resolved.action.name().eq_ignore_ascii_case(RATE_ACTION) {
        return Err(WorkflowError::invalid(
            codes::INVALID_ACTION_RATING,
            "Rating can be given only upon taking RATE action.",
        ));
    }
    let allowed = if resolved.changes_state() {
        resolved.action.roles.iter().any(|r| roles.contains(r))
    } else {
        roles_in_service(ctx.service)
            .iter()
            .any(|r| roles.contains(r))
    };
    if !allowed {
        return Err(WorkflowError::invalid(
            codes::INVALID_ROLE,
            "User is not authorized to perform action",
        ));
    }
    if resolved.changes_state() {
        let next_roles = transition_roles(resolved.resultant, ctx.service);
        for assignee in pi.assignes.iter().flatten() {
            let ok = assignee.roles.iter().any(|r| {
                let t = r.tenant_id.as_deref().unwrap_or_default();
                (t == tenant || (!t.is_empty() && tenant.contains(t)))
                    && next_roles.contains(&r.code)
            });
            if !ok {
                return Err(WorkflowError::invalid(
                    codes::INVALID_ASSIGNEE,
                    format!(
                        "Cannot assign to the user: {}",
                        assignee.uuid.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    if is_citizen(ctx.user) {
        if let Some(db) = ctx.db {
            if db
                .action
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(SENDBACKTOCITIZEN))
                && !assigned_to(db, ctx.user.uuid.as_deref(), |_| true)
            {
                return Err(WorkflowError::invalid(
                    codes::INVALID_USER,
                    format!(
                        "The user: {} is not authorized to take action",
                        ctx.user.uuid.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn validate_documents(resolved: &Resolved<'_>, pi: &ProcessInstance) -> Result<(), WorkflowError> {
    if resolved.resultant.doc_upload_required == Some(true)
        && pi.documents.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(WorkflowError::invalid(
            codes::INVALID_DOCUMENT,
            format!(
                "Documents cannot be null for status: {}",
                resolved.resultant.state.as_deref().unwrap_or("null")
            ),
        ));
    }
    Ok(())
}

fn validate_citizen_assignees(
    ctx: &TransitionContext<'_>,
    pi: &ProcessInstance,
) -> Result<(), WorkflowError> {
    if !is_citizen(ctx.user) {
        return Ok(());
    }
    let Some(db) = ctx.db else { return Ok(()) };
    let citizen_assignees = db
        .assignes
        .iter()
        .flatten()
        .filter(|a| is_citizen(a))
        .count();
    if citizen_assignees > 0 && !assigned_to(db, ctx.user.uuid.as_deref(), is_citizen) {
        return Err(WorkflowError::Invalid(vec![ErrorDetail::new(
            codes::INVALID_USER,
            format!(
                "Citizen not authorized to perform action on application: {}",
                pi.business_id()
            ),
        )]));
    }
    Ok(())
}

fn is_citizen(user: &UserInfo) -> bool {
    user.user_type
        .is_some_and(|t| t.as_str().eq_ignore_ascii_case(CITIZEN_TYPE))
}

fn assigned_to(db: &ProcessInstance, uuid: Option<&str>, filter: fn(&UserInfo) -> bool) -> bool {
    let Some(uuid) = uuid else { return false };
    db.assignes
        .iter()
        .flatten()
        .filter(|a| filter(a))
        .any(|a| a.uuid.as_deref() == Some(uuid))
}

/// Search-time SLA (§4.5): the stored values minus the time since the last transition.
pub fn remaining_sla(pi: &mut ProcessInstance, now: i64) {
    let last = pi
        .audit_details
        .as_ref()
        .and_then(|a| a.last_modified_time)
        .unwrap_or(now);
    let spent = now - last;
    pi.businesss_service_sla = pi.businesss_service_sla.map(|s| s.saturating_sub(spent));
    pi.state_sla = pi.state_sla.map(|s| s.saturating_sub(spent));
}

/// `_nearingslacount`'s limit: `maxSla − slotPercentage × maxSla / 100`.
pub fn nearing_sla_limit(max_sla: i64, slot_percentage: f64) -> i64 {
    // Percentages are config values like 33; the product is rounded toward zero as Java's
    // long arithmetic on (maxSla/100) does.
    let slot = (max_sla / 100) as f64 * slot_percentage;
    max_sla - slot as i64
}

/// Business service creation (§4.1): new uuids everywhere, `nextState` names resolved to
/// state uuids, tenant and audit copied down, actions active.
pub fn prepare_new_business_service(
    mut service: BusinessService,
    user_uuid: &str,
    now: i64,
    new_id: &mut dyn FnMut() -> String,
) -> Result<BusinessService, WorkflowError> {
    let tenant = service.tenant_id.clone();
    let audit = AuditDetails::for_create(user_uuid, now);
    let bs_uuid = new_id();
    service.uuid = Some(bs_uuid.clone());
    service.audit_details = Some(audit.clone());
    for state in &mut service.states {
        state.uuid = Some(new_id());
        state.tenant_id = tenant.clone();
        state.business_service_id = Some(bs_uuid.clone());
        state.audit_details = Some(audit.clone());
    }
    resolve_actions(&mut service, &audit, new_id)?;
    Ok(service)
}

/// Business service update: keeps the uuids the client sent (they identify existing rows),
/// assigns new ones to new states/actions, resolves `nextState` names.
pub fn prepare_updated_business_service(
    mut service: BusinessService,
    existing: &BusinessService,
    user_uuid: &str,
    now: i64,
    new_id: &mut dyn FnMut() -> String,
) -> Result<BusinessService, WorkflowError> {
    let tenant = service.tenant_id.clone();
    let mut audit = AuditDetails::for_create(user_uuid, now);
    if let Some(old) = existing.audit_details.as_ref() {
        audit.created_by = old.created_by.clone();
        audit.created_time = old.created_time;
    }
    service.uuid = existing.uuid.clone();
    service.audit_details = Some(audit.clone());
    for state in &mut service.states {
        if state.uuid.is_none() {
            // A state the client did not identify: match by name, else new.
            state.uuid = existing
                .states
                .iter()
                .find(|s| s.state == state.state)
                .and_then(|s| s.uuid.clone())
                .or_else(|| Some(new_id()));
        }
        state.tenant_id = tenant.clone();
        state.business_service_id = existing.uuid.clone();
        state.audit_details = Some(audit.clone());
    }
    resolve_actions(&mut service, &audit, new_id)?;
    Ok(service)
}

fn resolve_actions(
    service: &mut BusinessService,
    audit: &AuditDetails,
    new_id: &mut dyn FnMut() -> String,
) -> Result<(), WorkflowError> {
    let tenant = service.tenant_id.clone();
    let by_name: Vec<(Option<String>, Option<String>)> = service
        .states
        .iter()
        .map(|s| (s.state.clone(), s.uuid.clone()))
        .collect();
    let uuids: BTreeSet<String> = by_name.iter().filter_map(|(_, u)| u.clone()).collect();
    let mut errors = Vec::new();
    for state in &mut service.states {
        let state_uuid = state.uuid.clone();
        for action in state.actions.iter_mut().flatten() {
            if action.uuid.is_none() {
                action.uuid = Some(new_id());
            }
            action.tenant_id = tenant.clone();
            action.current_state = state_uuid.clone();
            action.active = Some(action.active.unwrap_or(true));
            action.audit_details = Some(audit.clone());
            let next = action.next_state.clone().unwrap_or_default();
            if uuids.contains(&next) {
                continue;
            }
            match by_name
                .iter()
                .find(|(name, _)| name.as_deref() == Some(next.as_str()))
            {
                Some((_, uuid)) => action.next_state = uuid.clone(),
                None => errors.push(ErrorDetail::new(
                    codes::INVALID_NEXTSTATE,
                    format!("The state with name: {next} does not exist in config"),
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::Invalid(errors))
    }
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
