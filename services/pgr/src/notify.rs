//! Sends the legacy notifications of a transition (upstream-pgr §8.1): localized SMS to
//! `egov.core.notification.sms` and in-app events to `persist-user-events-async`. Runs after
//! the complaint is persisted; failures are never returned to the client but logged and
//! counted (`degraded_total{what="pgr_notification_…"}`), and a missing template or locale
//! skips that message (never a null or half-filled one).

use crate::domain::model::{Service, Workflow};
use crate::domain::notification::{self, EmployeeRecipient};
use digit_core::{RequestInfo, UserInfo};
use digit_kafka::Producer;
use digit_localization::{Localization, Messages};
use digit_service::metrics::degraded;
use digit_user::UserDirectory;
use digit_workflow::{SearchCriteria as WfCriteria, WorkflowClient};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Notification settings.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// `egov.core.notification.sms`.
    pub sms_topic: String,
    /// `persist-user-events-async`.
    pub events_topic: String,
    /// Send SMS (`notification.sms.enabled`).
    pub sms_enabled: bool,
    /// Send in-app events (`egov.user.event.notification.enabled`).
    pub events_enabled: bool,
    /// UI host for the RATE/REOPEN links of the RESOLVE event.
    pub ui_host: String,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            sms_topic: "egov.core.notification.sms".into(),
            events_topic: "persist-user-events-async".into(),
            sms_enabled: true,
            events_enabled: true,
            ui_host: "https://unified-dev.digit.org/".into(),
        }
    }
}

/// The notifier.
#[derive(Clone)]
pub struct Notifier {
    /// Messages.
    pub localization: Arc<dyn Localization>,
    /// Users (employee names and phones).
    pub users: Arc<dyn UserDirectory>,
    /// Workflow history (last assignee).
    pub workflow: Arc<dyn WorkflowClient>,
    /// Kafka.
    pub producer: Producer,
    /// Settings.
    pub settings: NotifySettings,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn state_of(tenant: &str) -> &str {
    tenant.split('.').next().unwrap_or(tenant)
}

impl Notifier {
    async fn user(&self, ri: &RequestInfo, uuid: Option<&str>) -> Option<UserInfo> {
        let uuid = uuid?;
        match self.users.search_by_uuids(ri, &[uuid.to_owned()]).await {
            Ok(mut found) => found.pop(),
            Err(e) => {
                degraded("pgr_notification_user_lookup", &e);
                None
            }
        }
    }

    /// The assignee of the latest ASSIGN in the complaint's history.
    async fn last_assignee(&self, ri: &RequestInfo, service: &Service) -> Option<UserInfo> {
        let criteria = WfCriteria {
            tenant_id: service.tenant_id.clone(),
            business_ids: vec![service.service_request_id.clone()?],
            history: Some(true),
            exact_business_ids: true,
            limit: Some(100),
            ..WfCriteria::default()
        };
        let history = match self.workflow.search(ri, &criteria).await {
            Ok((history, _)) => history,
            Err(e) => {
                degraded("pgr_notification_workflow_search", &e);
                return None;
            }
        };
        let uuid = history
            .iter()
            .find(|p| {
                p.action
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("ASSIGN"))
            })
            .and_then(|p| p.assignes.as_ref())
            .and_then(|a| a.first())
            .and_then(|u| u.uuid.clone())?;
        self.user(ri, Some(&uuid)).await
    }

    /// Sends the notifications of this transition; returns how many SMS went out.
    pub async fn notify(
        &self,
        ri: &RequestInfo,
        service: &Service,
        workflow: &Workflow,
        actor: &UserInfo,
    ) -> usize {
        let action = workflow.action.clone().unwrap_or_default();
        let status = service.application_status.clone().unwrap_or_default();
        let Some(plan) = notification::plan(&action, &status) else {
            return 0;
        };
        let locale = notification::locale(ri.msg_id.as_deref());
        let state = state_of(service.tenant()).to_owned();
        let load = |module: &'static str| {
            let (ri, state, locale) = (ri.clone(), state.clone(), locale.clone());
            let loc = self.localization.clone();
            async move { loc.messages(&ri, &state, &locale, module).await }
        };
        let (pgr, common) = match (load("rainmaker-pgr").await, load("rainmaker-common").await) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(e), _) | (_, Err(e)) => {
                degraded("pgr_notification_localization", &e);
                return 0;
            }
        };
        if pgr.is_empty() {
            degraded(
                "pgr_notification_template",
                &format!("no rainmaker-pgr messages for locale {locale}"),
            );
            return 0;
        }
        let assignee = self
            .user(
                ri,
                workflow
                    .assignes
                    .as_ref()
                    .and_then(|a| a.first())
                    .map(String::as_str),
            )
            .await;
        let needs_last = plan.emp_name_from == EmployeeRecipient::LastAssignee
            || plan
                .employee
                .as_ref()
                .is_some_and(|(_, to)| *to == EmployeeRecipient::LastAssignee);
        let last = if needs_last {
            self.last_assignee(ri, service).await
        } else {
            None
        };
        let reassigned_back =
            action.eq_ignore_ascii_case("REASSIGN") && status == "PENDINGFORREASSIGNMENT";
        let named = match plan.emp_name_from {
            EmployeeRecipient::Assignee if reassigned_back => Some(actor.clone()),
            EmployeeRecipient::Assignee => assignee.clone(),
            EmployeeRecipient::LastAssignee => last.clone(),
            EmployeeRecipient::Nobody => None,
        };
        let values = placeholders(service, workflow, named.as_ref(), &pgr, &common);
        let mut sent = 0;

        // Citizen: the specific message, then the default one.
        let citizen_phone = service
            .citizen
            .as_ref()
            .and_then(|c| c.mobile_number.clone());
        let citizen_uuid = service.account_id.clone();
        let mut citizen_messages = Vec::new();
        for code in plan
            .citizen_code
            .iter()
            .map(String::as_str)
            .chain([notification::DEFAULT_CITIZEN])
        {
            match pgr.get(code) {
                Some(t) => citizen_messages.push(notification::render(t, &values)),
                None => degraded(
                    "pgr_notification_template",
                    &format!("template {code} missing for locale {locale}"),
                ),
            }
        }
        for message in &citizen_messages {
            if let Some(phone) = &citizen_phone {
                sent += usize::from(self.sms(ri, phone, message).await);
            }
            if let Some(uuid) = &citizen_uuid {
                self.event(ri, service, uuid, message, &action).await;
            }
        }

        // Employee.
        if let Some((code, to)) = &plan.employee {
            let recipient = match to {
                EmployeeRecipient::Assignee => assignee.clone(),
                EmployeeRecipient::LastAssignee => last.clone(),
                EmployeeRecipient::Nobody => None,
            };
            match (pgr.get(code), recipient.and_then(|u| u.mobile_number)) {
                (Some(t), Some(phone)) => {
                    let message = notification::render(t, &values);
                    sent += usize::from(self.sms(ri, &phone, &message).await);
                }
                (None, _) => degraded(
                    "pgr_notification_template",
                    &format!("template {code} missing for locale {locale}"),
                ),
                (_, None) => tracing::info!(code, "No employee to notify."),
            }
        }
        sent
    }

    async fn sms(&self, ri: &RequestInfo, phone: &str, message: &str) -> bool {
        if !self.settings.sms_enabled {
            return false;
        }
        let payload = json!({"mobileNumber": phone, "message": message});
        match self
            .producer
            .send_json(
                &self.settings.sms_topic,
                None,
                &payload,
                ri.correlation_id.as_deref(),
            )
            .await
        {
            Ok(_) => true,
            Err(e) => {
                degraded("pgr_notification_sms", &e);
                false
            }
        }
    }

    async fn event(
        &self,
        ri: &RequestInfo,
        service: &Service,
        to: &str,
        message: &str,
        action: &str,
    ) {
        if !self.settings.events_enabled {
            return;
        }
        let id = service.service_request_id.clone().unwrap_or_default();
        let actions = action.eq_ignore_ascii_case("RESOLVE").then(|| {
            let host = &self.settings.ui_host;
            json!({"actionUrls": [
                {"actionUrl": format!("{host}digit-ui/citizen/pgr/rate/{id}"), "code": "RATE"},
                {"actionUrl": format!("{host}digit-ui/citizen/pgr/reopen/{id}"), "code": "REOPEN"}
            ]})
        });
        let mut request_info = ri.clone();
        request_info.auth_token = None;
        let payload = json!({
            "RequestInfo": request_info,
            "events": [{
                "tenantId": service.tenant_id,
                "eventType": "SYSTEMGENERATED",
                "name": "PGR",
                "description": message,
                "source": "WEBAPP",
                "postedBy": "SYSTEM-PGR",
                "recepient": {"toRoles": Value::Null, "toUsers": [to]},
                "actions": actions,
                "eventDetails": Value::Null
            }]
        });
        if let Err(e) = self
            .producer
            .send_json(
                &self.settings.events_topic,
                None,
                &payload,
                ri.correlation_id.as_deref(),
            )
            .await
        {
            degraded("pgr_notification_event", &e);
        }
    }
}

fn localized(messages: &Messages, keys: &[String]) -> Option<String> {
    keys.iter().find_map(|k| messages.get(k).cloned())
}

fn placeholders<'a>(
    service: &Service,
    workflow: &Workflow,
    employee: Option<&UserInfo>,
    pgr: &Messages,
    common: &Messages,
) -> BTreeMap<&'a str, String> {
    let code = service.service_code.clone().unwrap_or_default();
    let complaint_type = localized(
        pgr,
        &[
            format!("COMPLAINT_HIERARCHY.{code}"),
            format!("COMPLAINT_HIERARCHY.{}", code.to_uppercase()),
            format!("pgr.complaint.category.{code}"),
        ],
    )
    .unwrap_or(code);
    let status = service.application_status.clone().unwrap_or_default();
    let department = service
        .additional_detail
        .as_ref()
        .and_then(|d| d.get("department"))
        .and_then(Value::as_str)
        .unwrap_or("NA")
        .to_owned();
    let tenant = service.tenant().to_owned();
    let district = service.address.as_ref().and_then(|a| a.district.clone());
    let ulb = localized(
        common,
        &[
            district.unwrap_or_default(),
            format!("TENANT_TENANTS_{}", tenant.to_uppercase().replace('.', "_")),
        ],
    )
    .unwrap_or(tenant);
    let mut v = BTreeMap::new();
    v.insert("complaint_type", complaint_type);
    v.insert("id", service.service_request_id.clone().unwrap_or_default());
    v.insert(
        "date",
        notification::format_date(
            service
                .audit_details
                .as_ref()
                .and_then(|a| a.created_time)
                .unwrap_or_default(),
        ),
    );
    v.insert("download_link", String::new());
    v.insert(
        "emp_name",
        employee.and_then(|e| e.name.clone()).unwrap_or_default(),
    );
    v.insert(
        "emp_designation",
        employee
            .and_then(|e| e.roles.iter().find(|r| r.code != "EMPLOYEE"))
            .and_then(|r| r.name.clone())
            .unwrap_or_default(),
    );
    v.insert(
        "emp_department",
        localized(common, &[format!("COMMON_MASTERS_DEPARTMENT_{department}")])
            .unwrap_or(department),
    );
    v.insert("ulb", ulb);
    v.insert(
        "ao_designation",
        localized(common, &["COMMON_MASTERS_DESIGNATION_AO".to_owned()]).unwrap_or_default(),
    );
    v.insert(
        "additional_comments",
        workflow.comments.clone().unwrap_or_default(),
    );
    v.insert("reason", workflow.comments.clone().unwrap_or_default());
    v.insert(
        "rating",
        service.rating.map(|r| r.to_string()).unwrap_or_default(),
    );
    v.insert(
        "status",
        localized(pgr, &[format!("CS_COMMON_{status}")]).unwrap_or(status),
    );
    v
}
