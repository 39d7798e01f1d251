//! Role-action and tenant authorization, as egov-accesscontrol decides it (§7.3).
//!
//! A role counts only for the tenants it names or their state-level tenant; the URI must
//! equal an action `url` of one of those roles, or match it where `{name}` placeholders
//! stand for `\w+`. Role-action data comes from MDMS (`ACCESSCONTROL-ROLEACTIONS` joined
//! with `ACCESSCONTROL-ACTIONS-TEST`) through a [`RoleActionProvider`], cached per tenant.

use digit_core::tenant::state_level_of;
use digit_core::UserInfo;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// One grant: a role may call a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAction {
    /// Role code, e.g. `GRO`.
    pub role_code: String,
    /// Action URL, e.g. `/pgr-services/v2/request/_create` (may contain `{name}`).
    pub url: String,
}

/// Where role-action data comes from (embedded or remote MDMS).
#[async_trait::async_trait]
pub trait RoleActionProvider: Send + Sync {
    /// The grants that apply at this tenant.
    async fn role_actions(&self, tenant_id: &str) -> Result<Vec<RoleAction>, String>;
}

/// Grants indexed for lookup.
#[derive(Debug, Default)]
pub struct RoleActionTable {
    exact: HashMap<String, HashSet<String>>,
    patterns: Vec<(Regex, HashSet<String>)>,
}

impl RoleActionTable {
    /// Indexes grants; URLs with `{…}` become anchored patterns where each placeholder
    /// matches `[A-Za-z0-9_]+` (Java's `\w`, as egov-accesscontrol). A pattern that cannot
    /// be compiled (over [`PATTERN_SIZE_LIMIT`]) grants nothing; it is logged and counted
    /// as `degraded_total{what="authz_role_action_pattern"}`, the other grants still apply.
    pub fn new(grants: &[RoleAction]) -> Self {
        let mut exact: HashMap<String, HashSet<String>> = HashMap::new();
        let mut patterns: HashMap<String, HashSet<String>> = HashMap::new();
        for g in grants {
            let target = if g.url.contains('{') {
                &mut patterns
            } else {
                &mut exact
            };
            target
                .entry(g.url.clone())
                .or_default()
                .insert(g.role_code.clone());
        }
        let patterns = patterns
            .into_iter()
            .filter_map(|(url, roles)| match url_pattern(&url) {
                Ok(re) => Some((re, roles)),
                Err(e) => {
                    crate::metrics::degraded(
                        "authz_role_action_pattern",
                        &format!("role-action URL {url:.80} ignored: {e}"),
                    );
                    None
                }
            })
            .collect();
        Self { exact, patterns }
    }

    /// True when any of `roles` may call `uri`.
    pub fn allows(&self, roles: &HashSet<&str>, uri: &str) -> bool {
        let hit = |granted: &HashSet<String>| granted.iter().any(|r| roles.contains(r.as_str()));
        if self.exact.get(uri).is_some_and(hit) {
            return true;
        }
        self.patterns
            .iter()
            .any(|(re, granted)| re.is_match(uri) && hit(granted))
    }
}

/// Compiled size limit of one role-action URL pattern (the data comes from MDMS).
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// `^url$` with every `{name}` placeholder replaced by `[A-Za-z0-9_]+`, the rest literal.
fn url_pattern(url: &str) -> Result<Regex, regex::Error> {
    let mut body = String::with_capacity(url.len() + 16);
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        body.push_str(&regex::escape(&rest[..open]));
        body.push_str("[A-Za-z0-9_]+");
        rest = &rest[open + len + 1..];
    }
    body.push_str(&regex::escape(rest));
    regex::RegexBuilder::new(&format!("^{body}$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
}

/// Why a request was not authorised.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// No applicable role grants the action.
    #[error("not authorized to access {0}")]
    Forbidden(String),
    /// Role-action data could not be loaded.
    #[error("role-action data unavailable: {0}")]
    Unavailable(String),
}

/// Decides role-action + tenant authorization with a per-tenant cache.
pub struct Authorizer {
    provider: Arc<dyn RoleActionProvider>,
    cache: RwLock<HashMap<String, (Instant, Arc<RoleActionTable>)>>,
    ttl: Duration,
    state_level_length: usize,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// An authorizer over this provider.
    pub fn new(
        provider: Arc<dyn RoleActionProvider>,
        ttl: Duration,
        state_level_length: usize,
    ) -> Self {
        Self {
            provider,
            cache: RwLock::new(HashMap::new()),
            ttl,
            state_level_length,
        }
    }

    /// Checks that `user` may call `uri` for `request_tenants` (the body's `tenantId`s, or
    /// the query's; the user's own tenant when the request names none).
    pub async fn authorize(
        &self,
        user: &UserInfo,
        uri: &str,
        request_tenants: &[String],
    ) -> Result<(), AuthzError> {
        let tenants: Vec<String> = if request_tenants.is_empty() {
            user.tenant_id.iter().cloned().collect()
        } else {
            request_tenants.to_vec()
        };
        let Some(first) = tenants.first() else {
            return Err(AuthzError::Forbidden(uri.to_owned()));
        };
        let state = state_level_of(first, self.state_level_length).to_owned();
        let roles: HashSet<&str> = user
            .roles
            .iter()
            .filter(|r| {
                r.tenant_id
                    .as_deref()
                    .is_some_and(|t| tenants.iter().any(|rt| rt == t) || t == state)
            })
            .map(|r| r.code.as_str())
            .collect();
        if roles.is_empty() {
            return Err(AuthzError::Forbidden(uri.to_owned()));
        }
        // Most specific tenant first, then its state (upstream's tenant levels).
        let mut levels = vec![first.clone()];
        if state != *first {
            levels.push(state);
        }
        for level in levels {
            if self.table(&level).await?.allows(&roles, uri) {
                return Ok(());
            }
        }
        Err(AuthzError::Forbidden(uri.to_owned()))
    }

    async fn table(&self, tenant: &str) -> Result<Arc<RoleActionTable>, AuthzError> {
        if let Some((at, table)) = self.cache.read().await.get(tenant) {
            if at.elapsed() < self.ttl {
                return Ok(table.clone());
            }
        }
        let grants = self
            .provider
            .role_actions(tenant)
            .await
            .map_err(AuthzError::Unavailable)?;
        let table = Arc::new(RoleActionTable::new(&grants));
        self.cache
            .write()
            .await
            .insert(tenant.to_owned(), (Instant::now(), table.clone()));
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use digit_core::Role;

    struct Fixed(Vec<RoleAction>);
    #[async_trait::async_trait]
    impl RoleActionProvider for Fixed {
        async fn role_actions(&self, _tenant: &str) -> Result<Vec<RoleAction>, String> {
            Ok(self.0.clone())
        }
    }

    fn grant(role: &str, url: &str) -> RoleAction {
        RoleAction {
            role_code: role.into(),
            url: url.into(),
        }
    }

    fn user(roles: &[(&str, &str)]) -> UserInfo {
        UserInfo {
            uuid: Some("u".into()),
            tenant_id: Some("pg.citya".into()),
            roles: roles
                .iter()
                .map(|(c, t)| Role {
                    code: (*c).into(),
                    tenant_id: Some((*t).into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn authorizer() -> Authorizer {
        Authorizer::new(
            Arc::new(Fixed(vec![
                grant("GRO", "/pgr-services/v2/request/_update"),
                grant("CITIZEN", "/x/{id}/_get"),
            ])),
            Duration::from_secs(60),
            1,
        )
    }

    #[tokio::test]
    async fn role_must_hold_for_the_request_tenant_or_its_state() {
        let a = authorizer();
        let uri = "/pgr-services/v2/request/_update";
        let t = |s: &str| vec![s.to_owned()];
        assert!(a
            .authorize(&user(&[("GRO", "pg.citya")]), uri, &t("pg.citya"))
            .await
            .is_ok());
        assert!(a
            .authorize(&user(&[("GRO", "pg")]), uri, &t("pg.cityb"))
            .await
            .is_ok());
        assert!(a
            .authorize(&user(&[("GRO", "pg.citya")]), uri, &t("pg.cityb"))
            .await
            .is_err());
        assert!(a
            .authorize(&user(&[("CSR", "pg.citya")]), uri, &t("pg.citya"))
            .await
            .is_err());
        // No tenant in the request: the user's own tenant applies.
        assert!(a
            .authorize(&user(&[("GRO", "pg.citya")]), uri, &[])
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_uncompilable_pattern_is_counted_and_the_other_grants_still_apply() {
        let what = "authz_role_action_pattern";
        let before = crate::metrics::degraded_count(what);
        let huge = format!("/y{}/_get", "/{p}".repeat(20_000));
        let a = Authorizer::new(
            Arc::new(Fixed(vec![
                grant("CITIZEN", &huge),
                grant("CITIZEN", "/x/{id}/_get"),
                grant("GRO", "/pgr-services/v2/request/_update"),
            ])),
            Duration::from_secs(60),
            1,
        );
        let u = user(&[("CITIZEN", "pg"), ("GRO", "pg")]);
        assert!(a.authorize(&u, "/x/abc/_get", &[]).await.is_ok());
        assert!(a
            .authorize(&u, "/pgr-services/v2/request/_update", &[])
            .await
            .is_ok());
        let matching = format!("/y{}/_get", "/a".repeat(20_000));
        assert!(a.authorize(&u, &matching, &[]).await.is_err());
        // Counted once per table built (here: the user's city and its state).
        assert!(crate::metrics::degraded_count(what) > before);
    }

    #[test]
    fn patterns_are_literal_outside_placeholders() {
        let re = url_pattern("/a.b/{id}/c+d/{x}").unwrap();
        assert!(re.is_match("/a.b/12_z/c+d/q"));
        assert!(!re.is_match("/aXb/12/c+d/q"));
        assert!(
            !re.is_match("/a.b/é/c+d/q"),
            "ASCII word characters only, as Java"
        );
        assert!(url_pattern("/unclosed/{id")
            .unwrap()
            .is_match("/unclosed/{id"));
    }

    #[tokio::test]
    async fn placeholders_match_word_characters_only() {
        let a = authorizer();
        let u = user(&[("CITIZEN", "pg")]);
        assert!(a.authorize(&u, "/x/abc_1/_get", &[]).await.is_ok());
        assert!(a.authorize(&u, "/x/a/b/_get", &[]).await.is_err());
        assert!(a.authorize(&u, "/x/abc/_getx", &[]).await.is_err());
    }
}
