//! The engine's settings (upstream names where upstream has one).

use digit_service::config::{Env, EnvVar};
use std::path::PathBuf;
use std::time::Duration;

/// Transition topic.
pub const SAVE_TRANSITION_TOPIC: EnvVar = EnvVar {
    name: "PERSISTER_SAVE_WF_TOPIC",
    aliases: &["PERSISTER_SAVE_TRANSITION_WF_TOPIC"],
    default: "save-wf-transitions",
    help: "Topic the engine publishes accepted transitions to (the persister writes them)",
};
/// Business service create topic.
pub const SAVE_BS_TOPIC: EnvVar = EnvVar {
    name: "PERSISTER_SAVE_BUSINESSSERVICE_WF_TOPIC",
    aliases: &[],
    default: "save-wf-businessservice",
    help: "Topic for new business services",
};
/// Business service update topic.
pub const UPDATE_BS_TOPIC: EnvVar = EnvVar {
    name: "PERSISTER_UPDATE_BUSINESSSERVICE_WF_TOPIC",
    aliases: &[],
    default: "update-wf-businessservice",
    help: "Topic for business service updates",
};
/// Default page size.
pub const DEFAULT_LIMIT: EnvVar = EnvVar {
    name: "EGOV_WF_DEFAULT_LIMIT",
    aliases: &[],
    default: "10",
    help: "Workflow search page size when no limit is given",
};
/// Max page size.
pub const MAX_LIMIT: EnvVar = EnvVar {
    name: "EGOV_WF_MAX_LIMIT",
    aliases: &[],
    default: "100",
    help: "Largest workflow search page",
};
/// Fuzzy business id search.
pub const FUZZY: EnvVar = EnvVar {
    name: "EGOV_WF_FUZZYSEARCH_ISFUZZYENABLED",
    aliases: &[],
    default: "true",
    help: "businessIds in workflow searches match as substrings (upstream default)",
};
/// Escalation batch size.
pub const ESCALATION_BATCH: EnvVar = EnvVar {
    name: "EGOV_WF_ESCALATION_BATCH_SIZE",
    aliases: &[],
    default: "50",
    help: "Applications per auto-escalation transition request",
};
/// Business-service config folder.
pub const CONFIG_PATH: EnvVar = EnvVar {
    name: "WORKFLOW_CONFIG_PATH",
    aliases: &[],
    default: "configs/workflow",
    help: "Folder of business service JSON files created at start when missing",
};
/// Read-your-writes.
pub const AWAIT_PERSISTER: EnvVar = EnvVar {
    name: "WORKFLOW_AWAIT_PERSISTER",
    aliases: &[],
    default: "true",
    help: "Answer a transition only after the persister committed it (false: upstream's fire-and-forget)",
};
/// Business service cache lifetime.
pub const CACHE_SECONDS: EnvVar = EnvVar {
    name: "WORKFLOW_CACHE_SECONDS",
    aliases: &[],
    default: "60",
    help: "How long a business service definition is cached (local changes evict at once)",
};
/// State tenant.
pub const STATE_LEVEL_TENANT: EnvVar = EnvVar {
    name: "STATE_LEVEL_TENANT_ID",
    aliases: &["EGOV_STATELEVEL_TENANTID"],
    default: "pg",
    help: "State-level tenant (MDMS Workflow masters are read there)",
};

/// Remote workflow (read by [`crate::RemoteWorkflow::from_env`]).
pub const WORKFLOW_HOST: EnvVar = EnvVar {
    name: "EGOV_WORKFLOW_HOST",
    aliases: &[],
    default: "",
    help: "Use an upstream egov-workflow-v2 at this URL instead of the embedded engine",
};
/// Every variable, for `--help`.
pub const WORKFLOW_VARS: &[EnvVar] = &[
    SAVE_TRANSITION_TOPIC,
    SAVE_BS_TOPIC,
    UPDATE_BS_TOPIC,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FUZZY,
    ESCALATION_BATCH,
    CONFIG_PATH,
    AWAIT_PERSISTER,
    CACHE_SECONDS,
    WORKFLOW_HOST,
    digit_user::USER_HOST,
    digit_user::USER_SEARCH_ENDPOINT,
    digit_user::USER_CONFIG_PATH,
];

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct WorkflowSettings {
    /// Transition topic (logical name).
    pub transition_topic: String,
    /// Business service create topic.
    pub save_business_service_topic: String,
    /// Business service update topic.
    pub update_business_service_topic: String,
    /// Default page size.
    pub default_limit: i64,
    /// Max page size.
    pub max_limit: i64,
    /// Substring match on business ids.
    pub fuzzy: bool,
    /// Auto-escalation batch size.
    pub escalation_batch: usize,
    /// Business service JSON folder.
    pub config_path: PathBuf,
    /// Await the persister before answering (the group and timeout are the commit
    /// watcher's: `digit_store::commit::COMMIT_VARS`).
    pub await_persister: bool,
    /// Cache lifetime of business services.
    pub cache_ttl: Duration,
    /// State-level tenant.
    pub state_level_tenant: String,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            transition_topic: SAVE_TRANSITION_TOPIC.default.into(),
            save_business_service_topic: SAVE_BS_TOPIC.default.into(),
            update_business_service_topic: UPDATE_BS_TOPIC.default.into(),
            default_limit: 10,
            max_limit: 100,
            fuzzy: true,
            escalation_batch: 50,
            config_path: PathBuf::from(CONFIG_PATH.default),
            await_persister: true,
            cache_ttl: Duration::from_secs(60),
            state_level_tenant: STATE_LEVEL_TENANT.default.into(),
        }
    }
}

impl WorkflowSettings {
    /// Reads the settings.
    pub fn from_env(env: &Env) -> Result<Self, digit_service::config::ConfigError> {
        let default_limit: i64 = env.parse(&DEFAULT_LIMIT)?;
        let max_limit: i64 = env.parse(&MAX_LIMIT)?;
        let batch: usize = env.parse(&ESCALATION_BATCH)?;
        let cache: u64 = env.parse(&CACHE_SECONDS)?;
        Ok(Self {
            transition_topic: env.get_or_default(&SAVE_TRANSITION_TOPIC),
            save_business_service_topic: env.get_or_default(&SAVE_BS_TOPIC),
            update_business_service_topic: env.get_or_default(&UPDATE_BS_TOPIC),
            default_limit: default_limit.max(1),
            max_limit: max_limit.max(1),
            fuzzy: env.flag(&FUZZY)?,
            escalation_batch: batch.clamp(1, 1000),
            config_path: PathBuf::from(env.get_or_default(&CONFIG_PATH)),
            await_persister: env.flag(&AWAIT_PERSISTER)?,
            cache_ttl: Duration::from_secs(cache),
            state_level_tenant: env.get_or_default(&STATE_LEVEL_TENANT),
        })
    }
}
