//! Auto-escalation as a periodic job (digit-jobs): at each tick of
//! `AUTO_ESCALATION_SCHEDULE`, one replica runs `auto/{businessService}/_escalate` for the
//! configured business service as the auto-escalation system user — what upstream
//! deployments do with a Kubernetes CronJob calling the endpoint. The endpoint stays.

use async_trait::async_trait;
use digit_core::{RequestInfo, Role, UserInfo, UserType};
use digit_jobs::{BoxError, Job, Tick};
use digit_service::config::EnvVar;

use crate::Workflow;

/// When auto-escalation runs.
pub const AUTO_ESCALATION_SCHEDULE: EnvVar = EnvVar {
    name: "AUTO_ESCALATION_SCHEDULE",
    aliases: &[],
    default: "0 */15 * * * *",
    help: "When the embedded workflow auto-escalates overdue applications: a cron expression (UTC, 5 or 6 fields) or an interval (30s, 15m, 1h); empty or off disables it. One replica runs each tick",
};
/// The system user escalations are recorded under.
pub const AUTO_ESCALATION_USER_UUID: EnvVar = EnvVar {
    name: "AUTO_ESCALATION_USER_UUID",
    aliases: &[],
    default: "11111111-1111-4111-8111-000000000099",
    help: "uuid of the AUTO_ESCALATE system user recorded as assigner of escalations",
};

/// The job's variables, for `--help`.
pub const ESCALATION_JOB_VARS: &[EnvVar] = &[AUTO_ESCALATION_SCHEDULE, AUTO_ESCALATION_USER_UUID];

/// Escalates one business service's overdue applications.
#[derive(Clone)]
pub struct AutoEscalationJob {
    workflow: Workflow,
    business_service: String,
    user: UserInfo,
}

impl std::fmt::Debug for AutoEscalationJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoEscalationJob")
            .field("business_service", &self.business_service)
            .finish_non_exhaustive()
    }
}

impl AutoEscalationJob {
    /// Escalations of `business_service` by the system user `user_uuid`, who holds
    /// `AUTO_ESCALATE` at `state_tenant`.
    pub fn new(
        workflow: Workflow,
        business_service: impl Into<String>,
        user_uuid: impl Into<String>,
        state_tenant: &str,
    ) -> Self {
        let user = UserInfo {
            uuid: Some(user_uuid.into()),
            user_type: Some(UserType::System),
            tenant_id: Some(state_tenant.to_owned()),
            roles: vec![Role {
                code: "AUTO_ESCALATE".into(),
                tenant_id: Some(state_tenant.to_owned()),
                ..Role::default()
            }],
            ..UserInfo::default()
        };
        Self {
            workflow,
            business_service: business_service.into(),
            user,
        }
    }
}

#[async_trait]
impl Job for AutoEscalationJob {
    async fn run(&self, tick: Tick) -> Result<(), BoxError> {
        let request_info = RequestInfo {
            api_id: Some("auto-escalation".into()),
            ts: Some(tick.at_ms),
            user_info: Some(self.user.clone()),
            ..RequestInfo::default()
        };
        let moved = self
            .workflow
            .auto_escalate(&request_info, &self.business_service)
            .await?;
        tracing::info!(business_service = %self.business_service, moved, "Auto-escalation done.");
        Ok(())
    }
}
