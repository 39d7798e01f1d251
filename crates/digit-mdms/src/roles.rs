//! Role-action data for authorization: `ACCESSCONTROL-ROLEACTIONS.roleactions` joined with
//! `ACCESSCONTROL-ACTIONS-TEST.actions-test` (upstream-platform §7.3).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use digit_service::authz::{RoleAction, RoleActionProvider};
use serde_json::Value;

use crate::error::MdmsError;
use crate::model::{take_master, MasterDetail, MdmsCriteria, ModuleDetail};
use crate::MdmsSource;

/// Module of the role → action grants.
pub const ROLEACTIONS_MODULE: &str = "ACCESSCONTROL-ROLEACTIONS";
/// Master of the role → action grants (`{rolecode, actionid, actioncode, tenantId}`).
pub const ROLEACTIONS_MASTER: &str = "roleactions";
/// Module of the actions.
pub const ACTIONS_MODULE: &str = "ACCESSCONTROL-ACTIONS-TEST";
/// Master of the actions (`{id, url, name, …}`).
pub const ACTIONS_MASTER: &str = "actions-test";
/// Projection upstream's access control applies to the actions.
pub const ACTIONS_FILTER: &str = "[*]['id','url']";

/// An action id as a join key: numbers and numeric strings compare alike (`1` = `"1"`).
fn id_key(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The (role code, action URL) grants that apply at `state_tenant` (any tenant works; the
/// MDMS fallback walks up to where the data lives). Role-actions whose action id has no
/// action, or entries lacking a role code or URL, are skipped; duplicates are removed,
/// the order of `roleactions` is kept.
pub async fn load_role_actions(
    source: &dyn MdmsSource,
    state_tenant: &str,
) -> Result<Vec<(String, String)>, MdmsError> {
    let criteria = MdmsCriteria {
        tenant_id: state_tenant.to_string(),
        module_details: vec![
            ModuleDetail {
                module_name: ROLEACTIONS_MODULE.to_string(),
                master_details: vec![MasterDetail {
                    name: ROLEACTIONS_MASTER.to_string(),
                    filter: None,
                }],
            },
            ModuleDetail {
                module_name: ACTIONS_MODULE.to_string(),
                master_details: vec![MasterDetail {
                    name: ACTIONS_MASTER.to_string(),
                    filter: Some(ACTIONS_FILTER.to_string()),
                }],
            },
        ],
    };
    let mut res = source.search(&criteria).await?;
    let actions = take_master(&mut res, ACTIONS_MODULE, ACTIONS_MASTER);
    let grants = take_master(&mut res, ROLEACTIONS_MODULE, ROLEACTIONS_MASTER);
    let urls: HashMap<String, String> = actions
        .iter()
        .filter_map(|a| {
            let id = id_key(a.get("id")?)?;
            let url = a.get("url")?.as_str()?.trim();
            (!url.is_empty()).then(|| (id, url.to_string()))
        })
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for grant in &grants {
        let Some(role) = grant
            .get("rolecode")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        let Some(url) = grant
            .get("actionid")
            .and_then(id_key)
            .and_then(|id| urls.get(&id))
        else {
            continue;
        };
        if seen.insert((role.to_string(), url.clone())) {
            out.push((role.to_string(), url.clone()));
        }
    }
    Ok(out)
}

/// Role-action grants from MDMS for `digit_service`'s authorizer (which caches them per
/// tenant).
#[derive(Clone)]
pub struct MdmsRoleActions {
    source: Arc<dyn MdmsSource>,
}

impl MdmsRoleActions {
    /// Grants read from `source`.
    pub fn new(source: Arc<dyn MdmsSource>) -> MdmsRoleActions {
        MdmsRoleActions { source }
    }
}

impl std::fmt::Debug for MdmsRoleActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MdmsRoleActions").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl RoleActionProvider for MdmsRoleActions {
    async fn role_actions(&self, tenant_id: &str) -> Result<Vec<RoleAction>, String> {
        let pairs = load_role_actions(self.source.as_ref(), tenant_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(pairs
            .into_iter()
            .map(|(role_code, url)| RoleAction { role_code, url })
            .collect())
    }
}
