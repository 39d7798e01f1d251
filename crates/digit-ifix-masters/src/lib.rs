//! iFIX master data, as three upstream services expose it, served by the `program` binary
//! (as `pgr` serves the workflow API): the **chart of accounts** (`/ifix-master-data`,
//! spec `upstream-ifix.md` §4.1), **departments, expenditures and projects**
//! (`/adapter-master-data`, §4.3) and **department hierarchy levels and entities**
//! (`/ifix-department-entity`, §4.2).
//!
//! `api` reads the iFIX `requestHeader` envelope and answers with upstream's status codes
//! (the 202s included), `domain` holds the wire models and the rules (no I/O), `store` the
//! reads (bound parameters only), `service` the pipelines. Writes go to Kafka on upstream's
//! topics (`save-coa`, `save-dept-entity-hierarchy-application`, …) and the persister; unlike
//! upstream the answer waits for the persister's commit (read-your-writes), and every
//! uniqueness rule upstream only checks in code (and races) is an advisory lock around the
//! check-and-publish plus a database constraint behind it.

pub mod api;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;

use digit_service::config::{ConfigError, Env, EnvVar};
use sqlx::migrate::Migrator;

pub use error::MastersError;
pub use service::Masters;

/// The master data tables (`migrations/ifix-masters/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/ifix-masters");

/// On/off.
pub const ENABLED: EnvVar = EnvVar {
    name: "IFIX_MASTERS_ENABLED",
    aliases: &[],
    default: "true",
    help: "Serve the iFIX master data APIs (chart of accounts, departments, hierarchy levels, entities) from this binary",
};
/// COA context path.
pub const COA_CONTEXT: EnvVar = EnvVar {
    name: "IFIX_MASTER_DATA_CONTEXT_PATH",
    aliases: &[],
    default: "/ifix-master-data",
    help: "Context path of the chart of accounts API (upstream ifix-master-data-service)",
};
/// Department/expenditure/project context path.
pub const ADAPTER_CONTEXT: EnvVar = EnvVar {
    name: "ADAPTER_MASTER_DATA_CONTEXT_PATH",
    aliases: &[],
    default: "/adapter-master-data",
    help: "Context path of the department, expenditure and project API (upstream adapter-master-data-service)",
};
/// Hierarchy level/entity context path.
pub const ENTITY_CONTEXT: EnvVar = EnvVar {
    name: "IFIX_DEPARTMENT_ENTITY_CONTEXT_PATH",
    aliases: &[],
    default: "/ifix-department-entity",
    help: "Context path of the department hierarchy level and entity API (upstream ifix-department-entity-service)",
};
/// Ancestry depth bound.
pub const MAX_HIERARCHY: EnvVar = EnvVar {
    name: "MAXIMUM_SUPPORTED_DEPARTMENT_HIERARCHY",
    aliases: &[],
    default: "10",
    help: "Deepest department entity ancestry a search walks (getAncestry); deeper answers MAXIMUM_SUPPORTED_HIERARCHY_EXCEEDED",
};
/// Read-your-writes.
pub const AWAIT_PERSISTER: EnvVar = EnvVar {
    name: "IFIX_MASTERS_AWAIT_PERSISTER",
    aliases: &[],
    default: "true",
    help: "Answer a master data write only after the persister committed it (false: upstream's fire-and-forget)",
};
/// Search bound.
pub const SEARCH_LIMIT: EnvVar = EnvVar {
    name: "IFIX_MASTERS_SEARCH_LIMIT",
    aliases: &[],
    default: "1000",
    help: "Most records one master data search returns (upstream: unbounded)",
};

macro_rules! topic {
    ($const:ident, $name:literal, $default:literal, $help:literal) => {
        #[doc = $help]
        pub const $const: EnvVar = EnvVar {
            name: $name,
            aliases: &[],
            default: $default,
            help: $help,
        };
    };
}
topic!(
    COA_TOPIC,
    "PERSISTER_KAFKA_COA_TOPIC",
    "save-coa",
    "Topic of new charts of account"
);
topic!(
    DEPARTMENT_TOPIC,
    "PERSISTER_KAFKA_DEPARTMENT_CREATE_TOPIC",
    "save-department-application",
    "Topic of new departments"
);
topic!(
    EXPENDITURE_TOPIC,
    "PERSISTER_KAFKA_EXPENDITURE_CREATE_TOPIC",
    "save-expenditure-application",
    "Topic of new expenditures"
);
topic!(
    PROJECT_CREATE_TOPIC,
    "PERSISTER_KAFKA_PROJECT_CREATE_TOPIC",
    "save-project-application",
    "Topic of new projects"
);
topic!(
    PROJECT_UPDATE_TOPIC,
    "PERSISTER_KAFKA_PROJECT_UPDATE_TOPIC",
    "update-project-application",
    "Topic of project updates"
);
topic!(
    HIERARCHY_TOPIC,
    "PERSISTER_KAFKA_DEPARTMENT_HIERARCHY_CREATE_TOPIC",
    "save-dept-entity-hierarchy-application",
    "Topic of new department hierarchy levels"
);
topic!(
    ENTITY_CREATE_TOPIC,
    "PERSISTER_KAFKA_DEPARTMENT_ENTITY_CREATE_TOPIC",
    "save-dept-entity-application",
    "Topic of new department entities"
);
topic!(
    ENTITY_UPDATE_TOPIC,
    "PERSISTER_KAFKA_DEPARTMENT_ENTITY_UPDATE_TOPIC",
    "update-dept-entity-application",
    "Topic of department entity updates"
);

/// Every setting of the master data (for `--help`).
pub const VARS: &[EnvVar] = &[
    ENABLED,
    COA_CONTEXT,
    ADAPTER_CONTEXT,
    ENTITY_CONTEXT,
    MAX_HIERARCHY,
    AWAIT_PERSISTER,
    SEARCH_LIMIT,
    COA_TOPIC,
    DEPARTMENT_TOPIC,
    EXPENDITURE_TOPIC,
    PROJECT_CREATE_TOPIC,
    PROJECT_UPDATE_TOPIC,
    HIERARCHY_TOPIC,
    ENTITY_CREATE_TOPIC,
    ENTITY_UPDATE_TOPIC,
];

/// The topics the pipelines publish to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `save-coa`.
    pub coa: String,
    /// `save-department-application`.
    pub department: String,
    /// `save-expenditure-application`.
    pub expenditure: String,
    /// `save-project-application`.
    pub project_create: String,
    /// `update-project-application`.
    pub project_update: String,
    /// `save-dept-entity-hierarchy-application`.
    pub hierarchy: String,
    /// `save-dept-entity-application`.
    pub entity_create: String,
    /// `update-dept-entity-application`.
    pub entity_update: String,
}

impl Topics {
    /// All of them (to create at start).
    pub fn all(&self) -> [&str; 8] {
        [
            &self.coa,
            &self.department,
            &self.expenditure,
            &self.project_create,
            &self.project_update,
            &self.hierarchy,
            &self.entity_create,
            &self.entity_update,
        ]
    }
}

/// The master data settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MastersSettings {
    /// `/ifix-master-data`.
    pub coa_context: String,
    /// `/adapter-master-data`.
    pub adapter_context: String,
    /// `/ifix-department-entity`.
    pub entity_context: String,
    /// Deepest ancestry walked.
    pub max_hierarchy: usize,
    /// Await the persister.
    pub await_persister: bool,
    /// Most records per search.
    pub search_limit: i64,
    /// Topics.
    pub topics: Topics,
}

impl MastersSettings {
    /// From the environment; `None` when `IFIX_MASTERS_ENABLED=false`.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        if !env.flag(&ENABLED)? {
            return Ok(None);
        }
        let context = |var: &EnvVar| -> Result<String, ConfigError> {
            let v = env.get_or_default(var);
            let v = v.trim_end_matches('/');
            if !v.starts_with('/') || v.len() < 2 {
                // A context path starts with '/'.
                return Err(ConfigError::Invalid {
                    name: var.name,
                    value: v.to_owned(),
                });
            }
            Ok(v.to_owned())
        };
        let max_hierarchy: usize = env.parse(&MAX_HIERARCHY)?;
        let search_limit: i64 = env.parse(&SEARCH_LIMIT)?;
        if search_limit < 1 {
            return Err(ConfigError::Invalid {
                name: SEARCH_LIMIT.name,
                value: search_limit.to_string(),
            });
        }
        Ok(Some(Self {
            coa_context: context(&COA_CONTEXT)?,
            adapter_context: context(&ADAPTER_CONTEXT)?,
            entity_context: context(&ENTITY_CONTEXT)?,
            max_hierarchy,
            await_persister: env.flag(&AWAIT_PERSISTER)?,
            search_limit,
            topics: Topics {
                coa: env.get_or_default(&COA_TOPIC),
                department: env.get_or_default(&DEPARTMENT_TOPIC),
                expenditure: env.get_or_default(&EXPENDITURE_TOPIC),
                project_create: env.get_or_default(&PROJECT_CREATE_TOPIC),
                project_update: env.get_or_default(&PROJECT_UPDATE_TOPIC),
                hierarchy: env.get_or_default(&HIERARCHY_TOPIC),
                entity_create: env.get_or_default(&ENTITY_CREATE_TOPIC),
                entity_update: env.get_or_default(&ENTITY_UPDATE_TOPIC),
            },
        }))
    }
}
