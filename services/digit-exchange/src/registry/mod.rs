//! The registry of exchange servers (spec §2.6, §5 item 23): who the other domains are and
//! which public keys their messages must verify with.
//!
//! Table `eg_digit_exchange_servers` — upstream's columns plus `seal_required`. Several rows
//! may share a `host_url`, and every **active** one is a valid key of that domain (key
//! rotation: register the new key, switch the peer's signing key, deactivate the old row).
//! Host URLs are compared as participant ids are ([`digit_core::participant::host_url`]):
//! scheme and host case-insensitively, path as is, trailing `/` dropped — also for rows
//! inserted by hand.
//!
//! Lookups of the message path ([`Registry::active_keys`], [`Registry::seal_required`],
//! [`Registry::encryption_key`]) read a snapshot of all active rows kept for
//! `EXCHANGE_REGISTRY_CACHE_MS` (default 5 s) and dropped at once on this process's own
//! writes, so another instance's change is seen within the TTL. Searches read the table.
//! Unlike upstream's row mapper, a search returns every matching row.
//!
//! [`api`] is the admin-only management API; [`Registry::seed_from_file`] upserts the rows
//! of `EXCHANGE_REGISTRY_SEED` at start.

pub mod api;
mod store;

use crate::security::{PublicKey, SecurityError};
use digit_core::participant;
use digit_core::{DigitError, ErrorDetail};
use digit_service::config::{Env, EnvVar};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `EXCHANGE_REGISTRY_CACHE_MS`.
pub const CACHE_MS: EnvVar = EnvVar {
    name: "EXCHANGE_REGISTRY_CACHE_MS",
    aliases: &[],
    default: "5000",
    help: "how long the active registry keys are cached (ms); this instance's own registry writes clear the cache at once, 0 disables it",
};

/// `EXCHANGE_REGISTRY_SEED`.
pub const SEED: EnvVar = EnvVar {
    name: "EXCHANGE_REGISTRY_SEED",
    aliases: &[],
    default: "",
    help: "JSON file of registry rows (an array of ExchangeServer, or {\"ExchangeServers\": [...]}) upserted by id at start",
};

/// The registry settings (for `INFO.env` and `--help`).
pub const VARS: &[EnvVar] = &[CACHE_MS, SEED];

/// The service's registry: `EXCHANGE_REGISTRY_CACHE_MS` from the platform's settings, and
/// the rows of `EXCHANGE_REGISTRY_SEED` (if set) upserted. Fails when the seed file cannot
/// be read or holds an invalid row.
pub async fn start(platform: &digit_runtime::Platform) -> anyhow::Result<Registry> {
    use anyhow::Context as _;
    let registry = Registry::from_env(platform.pool.clone(), &platform.env)
        .context("EXCHANGE_REGISTRY_CACHE_MS")?;
    if let Some(path) = platform.env.get(&SEED).filter(|p| !p.trim().is_empty()) {
        let n = registry
            .seed_from_file(std::path::Path::new(path.trim()))
            .await
            .with_context(|| format!("EXCHANGE_REGISTRY_SEED {path}"))?;
        tracing::info!(rows = n, "Registry seeded.");
    }
    Ok(registry)
}

/// Who created and last changed a row (epoch ms). Written with upstream's snake_case
/// names; camelCase is accepted on input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerAudit {
    /// Creator.
    #[serde(default, alias = "createdBy")]
    pub created_by: Option<String>,
    /// Last modifier.
    #[serde(default, alias = "lastModifiedBy")]
    pub last_modified_by: Option<String>,
    /// Creation time.
    #[serde(default, alias = "createdTime")]
    pub created_time: Option<i64>,
    /// Last modification time.
    #[serde(default, alias = "lastModifiedTime")]
    pub last_modified_time: Option<i64>,
}

/// One registry row: upstream's `ExchangeServer` JSON plus `seal_required`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExchangeServer {
    /// Row id (a UUID is generated on create when empty); also the `kid` of messages
    /// encrypted with this key.
    #[serde(default)]
    pub id: String,
    /// Short name (2–256 characters).
    #[serde(default)]
    pub name: String,
    /// Description (2–256 characters).
    #[serde(default)]
    pub description: String,
    /// The domain's exchange base URL (stored normalised).
    #[serde(default)]
    pub host_url: String,
    /// RSA public key, X.509 SubjectPublicKeyInfo PEM (or PKCS#1); must parse.
    #[serde(default)]
    pub public_key: String,
    /// Only `true` rows are used (`NULL` is inactive, as upstream). Create default: true.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// The domain runs our exchange: its messages must carry a valid `seal` and are
    /// checked for replay. Default false (an upstream peer).
    #[serde(default)]
    pub seal_required: bool,
    /// Audit.
    #[serde(default)]
    pub audit_details: Option<ServerAudit>,
}

impl ExchangeServer {
    /// Whether the row is active (`is_active = true`).
    pub fn active(&self) -> bool {
        self.is_active == Some(true)
    }
}

/// Search criteria, AND-ed (upstream's `ExchangeServerSearch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegistrySearch {
    /// Row ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    /// Exact name.
    #[serde(default)]
    pub name: Option<String>,
    /// Host URL (or participant id), compared normalised.
    #[serde(default)]
    pub host_url: Option<String>,
    /// Active flag; absent means `true`, as upstream.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Registry failures.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A row that breaks a rule (HTTP 400).
    #[error("{code}: {message}")]
    Invalid {
        /// DIGIT code (`INVALID_EXCHANGE_SERVER`, `INVALID_PUBLIC_KEY`, `INVALID_HOST_URL`).
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An update or deactivation of an id that does not exist (HTTP 400).
    #[error("EXCHANGE_SERVER_NOT_FOUND: {0}")]
    NotFound(String),
    /// A create with an id that exists (HTTP 400).
    #[error("DUPLICATE_EXCHANGE_SERVER: {0}")]
    Duplicate(String),
    /// The seed file cannot be read or parsed.
    #[error("EXCHANGE_REGISTRY_SEED: {0}")]
    Seed(String),
    /// Database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl RegistryError {
    fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl DigitError for RegistryError {
    fn http_status(&self) -> u16 {
        match self {
            Self::Invalid { .. } | Self::NotFound(_) | Self::Duplicate(_) => 400,
            Self::Seed(_) | Self::Database(_) => 500,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        match self {
            Self::Invalid { code, message } => vec![ErrorDetail::new(*code, message.clone())],
            Self::NotFound(id) => vec![ErrorDetail::new(
                "EXCHANGE_SERVER_NOT_FOUND",
                format!("No exchange server with id {id}"),
            )],
            Self::Duplicate(id) => vec![ErrorDetail::new(
                "DUPLICATE_EXCHANGE_SERVER",
                format!("An exchange server with id {id} exists"),
            )],
            Self::Seed(_) => vec![ErrorDetail::new(
                "EXCHANGE_CONFIG_ERROR",
                "The exchange is not configured correctly",
            )],
            Self::Database(_) => vec![ErrorDetail::new(
                digit_core::error::codes::QUERY_EXECUTION,
                "Database operation failed",
            )],
        }
    }
}

/// One active row with its normalised host and parsed key.
#[derive(Debug, Clone)]
struct Entry {
    server: ExchangeServer,
    host: Option<String>,
    key: Option<PublicKey>,
}

#[derive(Debug)]
struct Snapshot {
    loaded: Instant,
    entries: Arc<Vec<Entry>>,
}

#[derive(Debug, Default)]
struct CacheState {
    generation: u64,
    snapshot: Option<Snapshot>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    ttl: Duration,
    cache: Mutex<CacheState>,
    /// One reload at a time (requests arriving while the snapshot is stale wait for it).
    reload: tokio::sync::Mutex<()>,
}

/// The registry: the table and a TTL cache of its active rows. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Registry {
    /// A registry on `pool` whose active rows are cached for `ttl` (zero: no cache).
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                ttl,
                cache: Mutex::new(CacheState::default()),
                reload: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// A registry with `EXCHANGE_REGISTRY_CACHE_MS` from `env`.
    pub fn from_env(pool: PgPool, env: &Env) -> Result<Self, SecurityError> {
        let ms: u64 = env.parse(&CACHE_MS)?;
        Ok(Self::new(pool, Duration::from_millis(ms)))
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Drops the cached snapshot (done by every write of this process).
    pub fn invalidate(&self) {
        if let Ok(mut state) = self.inner.cache.lock() {
            state.generation = state.generation.wrapping_add(1);
            state.snapshot = None;
        }
    }

    /// The active rows of a domain — `host` is an exchange URL or a participant id —
    /// newest first (by creation time). Empty when the domain is unknown or has no URL.
    pub async fn active_keys(&self, host: &str) -> Result<Vec<ExchangeServer>, RegistryError> {
        Ok(self
            .entries_for(host)
            .await?
            .into_iter()
            .map(|e| e.server)
            .collect())
    }

    /// The active rows of a domain whose key parses, with the parsed key, newest first.
    /// (A row whose key does not parse — possible only for rows written by hand — is
    /// skipped with a warning.)
    pub async fn verifying_keys(
        &self,
        host: &str,
    ) -> Result<Vec<(ExchangeServer, PublicKey)>, RegistryError> {
        Ok(self
            .entries_for(host)
            .await?
            .into_iter()
            .filter_map(|e| e.key.map(|k| (e.server, k)))
            .collect())
    }

    /// Whether any active row of the domain has `seal_required`.
    pub async fn seal_required(&self, host: &str) -> Result<bool, RegistryError> {
        Ok(self
            .entries_for(host)
            .await?
            .iter()
            .any(|e| e.server.seal_required))
    }

    /// The key to encrypt for a domain: its newest active row whose key parses. Error:
    /// [`SecurityError::NoEncryptionKey`] when there is none.
    pub async fn encryption_key(
        &self,
        host: &str,
    ) -> Result<(ExchangeServer, PublicKey), SecurityError> {
        self.verifying_keys(host)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                SecurityError::NoEncryptionKey(
                    "The receiving domain has no active key to encrypt for".into(),
                )
            })
    }

    /// Every row matching `criteria` (all of them, unlike upstream), ordered by host URL,
    /// then creation time, then id.
    pub async fn search(
        &self,
        criteria: &RegistrySearch,
    ) -> Result<Vec<ExchangeServer>, RegistryError> {
        let host = match criteria.host_url.as_deref() {
            Some(h) => Some(participant::host_url(h).ok_or_else(|| {
                RegistryError::invalid("INVALID_HOST_URL", "host_url is not an http(s) URL")
            })?),
            None => None,
        };
        let rows = store::search(self.pool(), criteria).await?;
        Ok(rows
            .into_iter()
            .filter(|row| {
                host.as_ref()
                    .is_none_or(|h| participant::host_url(&row.host_url).as_ref() == Some(h))
            })
            .collect())
    }

    /// Creates rows (all or none). Each must have a name and description of 2–256
    /// characters, an http(s) `host_url` (stored normalised) and a public key that
    /// parses; an empty id gets a UUID, `is_active` defaults to true. `by` is the
    /// caller's uuid for the audit.
    pub async fn create(
        &self,
        servers: Vec<ExchangeServer>,
        by: &str,
    ) -> Result<Vec<ExchangeServer>, RegistryError> {
        let now = now_ms();
        let rows = servers
            .into_iter()
            .map(|mut s| {
                if s.id.trim().is_empty() {
                    s.id = uuid::Uuid::new_v4().to_string();
                }
                s.is_active = Some(s.is_active.unwrap_or(true));
                s.audit_details = Some(ServerAudit {
                    created_by: Some(by.to_owned()),
                    last_modified_by: Some(by.to_owned()),
                    created_time: Some(now),
                    last_modified_time: Some(now),
                });
                validate(s)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = store::insert(self.pool(), &rows).await;
        self.invalidate();
        result?;
        Ok(rows)
    }

    /// Replaces rows by id (all or none): name, description, host URL, key, active flag and
    /// `seal_required`, validated as on create (`is_active` absent keeps the stored value).
    pub async fn update(
        &self,
        servers: Vec<ExchangeServer>,
        by: &str,
    ) -> Result<Vec<ExchangeServer>, RegistryError> {
        let now = now_ms();
        let ids: Vec<String> = servers.iter().map(|s| s.id.clone()).collect();
        let existing = store::by_ids(self.pool(), &ids).await?;
        let rows = servers
            .into_iter()
            .map(|mut s| {
                let old = existing
                    .iter()
                    .find(|e| e.id == s.id)
                    .ok_or_else(|| RegistryError::NotFound(s.id.clone()))?;
                if s.is_active.is_none() {
                    s.is_active = old.is_active;
                }
                let audit = old.audit_details.clone().unwrap_or_default();
                s.audit_details = Some(ServerAudit {
                    last_modified_by: Some(by.to_owned()),
                    last_modified_time: Some(now),
                    ..audit
                });
                validate(s)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = store::update(self.pool(), &rows).await;
        self.invalidate();
        result?;
        Ok(rows)
    }

    /// Sets `is_active = false` on these ids (all or none); returns the rows.
    pub async fn deactivate(
        &self,
        ids: &[String],
        by: &str,
    ) -> Result<Vec<ExchangeServer>, RegistryError> {
        let result = store::deactivate(self.pool(), ids, by, now_ms()).await;
        self.invalidate();
        result
    }

    /// Upserts the rows of a JSON file — an array of [`ExchangeServer`] or
    /// `{"ExchangeServers": [...]}` — by id (validated as on create; `is_active` defaults to
    /// true; audit by `system`). Returns how many rows were written.
    pub async fn seed_from_file(&self, path: &std::path::Path) -> Result<usize, RegistryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RegistryError::Seed(format!("{}: {e}", path.display())))?;
        self.seed_from_json(&text).await
    }

    /// [`Registry::seed_from_file`] on JSON text.
    pub async fn seed_from_json(&self, text: &str) -> Result<usize, RegistryError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Seed {
            List(Vec<ExchangeServer>),
            Wrapped {
                #[serde(rename = "ExchangeServers", alias = "exchange_servers")]
                servers: Vec<ExchangeServer>,
            },
        }
        let seed: Seed = serde_json::from_str(text)
            .map_err(|e| RegistryError::Seed(format!("not a list of exchange servers: {e}")))?;
        let servers = match seed {
            Seed::List(s) | Seed::Wrapped { servers: s } => s,
        };
        let now = now_ms();
        let rows = servers
            .into_iter()
            .map(|mut s| {
                if s.id.trim().is_empty() {
                    return Err(RegistryError::Seed("every seed row needs an id".into()));
                }
                s.is_active = Some(s.is_active.unwrap_or(true));
                s.audit_details = Some(ServerAudit {
                    created_by: Some("system".into()),
                    last_modified_by: Some("system".into()),
                    created_time: Some(now),
                    last_modified_time: Some(now),
                });
                validate(s)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = store::upsert(self.pool(), &rows).await;
        self.invalidate();
        result?;
        Ok(rows.len())
    }

    async fn entries_for(&self, host: &str) -> Result<Vec<Entry>, RegistryError> {
        let Some(host) = participant::host_url(host) else {
            return Ok(Vec::new());
        };
        let entries = self.snapshot().await?;
        Ok(entries
            .iter()
            .filter(|e| e.host.as_deref() == Some(host.as_str()))
            .cloned()
            .collect())
    }

    fn fresh(&self) -> Result<Arc<Vec<Entry>>, u64> {
        let state = self.lock();
        match &state.snapshot {
            Some(s) if s.loaded.elapsed() < self.inner.ttl => Ok(s.entries.clone()),
            _ => Err(state.generation),
        }
    }

    async fn snapshot(&self) -> Result<Arc<Vec<Entry>>, RegistryError> {
        if let Ok(entries) = self.fresh() {
            return Ok(entries);
        }
        // Without a cache every lookup reads the table (no point in queueing them).
        let _reload = match self.inner.ttl.is_zero() {
            true => None,
            false => Some(self.inner.reload.lock().await),
        };
        let generation = match self.fresh() {
            Ok(entries) => return Ok(entries),
            Err(generation) => generation,
        };
        let rows = store::active(self.pool()).await?;
        let entries: Arc<Vec<Entry>> = Arc::new(
            rows.into_iter()
                .map(|server| {
                    let key = match PublicKey::from_pem(&server.public_key) {
                        Ok(k) => Some(k),
                        Err(e) => {
                            tracing::warn!(id = %server.id, error = %e, "Registry row with an unusable public key skipped.");
                            None
                        }
                    };
                    Entry {
                        host: participant::host_url(&server.host_url),
                        server,
                        key,
                    }
                })
                .collect(),
        );
        let mut state = self.lock();
        if state.generation == generation && !self.inner.ttl.is_zero() {
            state.snapshot = Some(Snapshot {
                loaded: Instant::now(),
                entries: entries.clone(),
            });
        }
        Ok(entries)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The create/update rules; normalises `host_url` and `public_key`.
fn validate(mut s: ExchangeServer) -> Result<ExchangeServer, RegistryError> {
    let bad = |m: String| RegistryError::invalid("INVALID_EXCHANGE_SERVER", m);
    if s.id.chars().count() > 64 {
        return Err(bad(format!("id {} is longer than 64 characters", s.id)));
    }
    for (field, value) in [("name", &s.name), ("description", &s.description)] {
        let n = value.trim().chars().count();
        if !(2..=256).contains(&n) {
            return Err(bad(format!("{field} must have 2 to 256 characters")));
        }
    }
    let host = participant::host_url(&s.host_url).ok_or_else(|| {
        RegistryError::invalid("INVALID_HOST_URL", "host_url must be an http(s) URL")
    })?;
    if host.chars().count() > 256 {
        return Err(RegistryError::invalid(
            "INVALID_HOST_URL",
            "host_url is longer than 256 characters",
        ));
    }
    s.host_url = host;
    let key = PublicKey::from_pem(&s.public_key).map_err(|_| {
        RegistryError::invalid(
            "INVALID_PUBLIC_KEY",
            "public_key must be an RSA public key of at least 2048 bits \
             (X.509 SubjectPublicKeyInfo or PKCS#1 PEM)",
        )
    })?;
    s.public_key = key.pem().to_owned();
    Ok(s)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::signature::tests::{PUBLIC_1, PUBLIC_2};
    use digit_store::testing::TestDb;

    fn row(id: &str, host: &str, key: &str) -> ExchangeServer {
        ExchangeServer {
            id: id.into(),
            name: format!("Server {id}"),
            description: "An exchange".into(),
            host_url: host.into(),
            public_key: key.into(),
            is_active: None,
            seal_required: false,
            audit_details: None,
        }
    }

    async fn db() -> TestDb {
        TestDb::migrated(&[&crate::MIGRATOR]).await.unwrap()
    }

    #[tokio::test]
    async fn search_returns_every_row() {
        let db = db().await;
        let r = Registry::new(db.pool().clone(), Duration::from_secs(60));
        let created = r
            .create(
                vec![
                    row("a", "HTTP://Treasury.Example/digit-exchange/", PUBLIC_1),
                    row("b", "http://treasury.example/digit-exchange", PUBLIC_2),
                    row("", "http://dept.example/digit-exchange", PUBLIC_1),
                ],
                "admin-uuid",
            )
            .await
            .unwrap();
        // Normalised host, generated id, active by default, audit filled, key re-encoded.
        assert_eq!(
            created[0].host_url,
            "http://treasury.example/digit-exchange"
        );
        assert_eq!(created[2].id.len(), 36);
        assert!(created.iter().all(ExchangeServer::active));
        let audit = created[0].audit_details.clone().unwrap();
        assert_eq!(audit.created_by.as_deref(), Some("admin-uuid"));
        assert!(created[0]
            .public_key
            .starts_with("-----BEGIN PUBLIC KEY-----\n"));

        let all = r.search(&RegistrySearch::default()).await.unwrap();
        assert_eq!(all.len(), 3, "every row, not only the last");
        let treasury = r
            .search(&RegistrySearch {
                host_url: Some("program@http://treasury.example/digit-exchange".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<&str> = treasury.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        let by_id = r
            .search(&RegistrySearch {
                ids: Some(vec!["b".into(), created[2].id.clone()]),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_id.len(), 2);
        let by_name = r
            .search(&RegistrySearch {
                name: Some("Server a".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_name.len(), 1);

        // Deactivated rows leave the default search and show with is_active=false.
        r.deactivate(&["a".into()], "admin-uuid").await.unwrap();
        assert_eq!(r.search(&RegistrySearch::default()).await.unwrap().len(), 2);
        let inactive = r
            .search(&RegistrySearch {
                is_active: Some(false),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(inactive.len(), 1);
        assert_eq!(inactive[0].id, "a");
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn writes_are_validated() {
        let db = db().await;
        let r = Registry::new(db.pool().clone(), Duration::from_secs(60));
        let code = |e: RegistryError| e.errors()[0].code.clone();
        let e = r
            .create(vec![row("x", "http://a.example", "not a key")], "u")
            .await
            .unwrap_err();
        assert_eq!(code(e), "INVALID_PUBLIC_KEY");
        let e = r
            .create(vec![row("x", "ftp://a.example", PUBLIC_1)], "u")
            .await
            .unwrap_err();
        assert_eq!(code(e), "INVALID_HOST_URL");
        let mut short = row("x", "http://a.example", PUBLIC_1);
        short.name = "a".into();
        let e = r.create(vec![short], "u").await.unwrap_err();
        assert_eq!(code(e), "INVALID_EXCHANGE_SERVER");
        // All or none.
        r.create(vec![row("x", "http://a.example", PUBLIC_1)], "u")
            .await
            .unwrap();
        let e = r
            .create(
                vec![
                    row("y", "http://a.example", PUBLIC_1),
                    row("x", "http://a.example", PUBLIC_1),
                ],
                "u",
            )
            .await
            .unwrap_err();
        assert_eq!(code(e), "DUPLICATE_EXCHANGE_SERVER");
        assert_eq!(r.search(&RegistrySearch::default()).await.unwrap().len(), 1);
        let e = r
            .update(vec![row("nope", "http://a.example", PUBLIC_1)], "u")
            .await
            .unwrap_err();
        assert_eq!(code(e), "EXCHANGE_SERVER_NOT_FOUND");
        let e = r
            .deactivate(&["x".into(), "nope".into()], "u")
            .await
            .unwrap_err();
        assert_eq!(code(e), "EXCHANGE_SERVER_NOT_FOUND");
        assert_eq!(r.active_keys("http://a.example").await.unwrap().len(), 1);
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn cache_sees_local_writes_at_once_and_remote_writes_after_the_ttl() {
        let db = db().await;
        let host = "http://treasury.example/digit-exchange";
        let local = Registry::new(db.pool().clone(), Duration::from_secs(3600));
        let remote = Registry::new(db.pool().clone(), Duration::from_millis(300));
        assert!(local.active_keys(host).await.unwrap().is_empty());
        assert!(remote.active_keys(host).await.unwrap().is_empty());
        local
            .create(vec![row("a", host, PUBLIC_1)], "u")
            .await
            .unwrap();
        // Local write: seen at once, with participant ids too.
        assert_eq!(local.active_keys(host).await.unwrap().len(), 1);
        assert_eq!(
            local
                .active_keys("program@http://TREASURY.example/digit-exchange/")
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(!local.seal_required(host).await.unwrap());
        // Another instance: still cached, then seen after its TTL.
        assert!(remote.active_keys(host).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(remote.active_keys(host).await.unwrap().len(), 1);
        // Update: seal_required and the key change.
        let mut updated = row("a", host, PUBLIC_2);
        updated.seal_required = true;
        let rows = local.update(vec![updated], "v").await.unwrap();
        let audit = rows[0].audit_details.clone().unwrap();
        assert_eq!(audit.created_by.as_deref(), Some("u"));
        assert_eq!(audit.last_modified_by.as_deref(), Some("v"));
        assert!(rows[0].active(), "is_active absent keeps the stored value");
        assert!(local.seal_required(host).await.unwrap());
        let (_, key) = local.encryption_key(host).await.unwrap();
        assert_eq!(key, PublicKey::from_pem(PUBLIC_2).unwrap());
        // A row written by hand with an unparsable key and a trailing slash: the bad key is
        // skipped, the host still matches.
        sqlx::query(
            "INSERT INTO eg_digit_exchange_servers (id, name, description, host_url, public_key, is_active) \
             VALUES ('hand', 'Hand', 'By hand', 'http://treasury.example/digit-exchange/', 'garbage', true)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        local.invalidate();
        assert_eq!(local.active_keys(host).await.unwrap().len(), 2);
        assert_eq!(local.verifying_keys(host).await.unwrap().len(), 1);
        assert!(local.active_keys("no url").await.unwrap().is_empty());
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn seed_upserts_by_id() {
        let db = db().await;
        let r = Registry::new(db.pool().clone(), Duration::from_secs(60));
        let seed = serde_json::json!([
            {"id": "t1", "name": "Treasury", "description": "Treasury exchange",
             "host_url": "http://127.0.0.1:8094/digit-exchange", "public_key": PUBLIC_2,
             "seal_required": true}
        ]);
        assert_eq!(r.seed_from_json(&seed.to_string()).await.unwrap(), 1);
        let wrapped = serde_json::json!({"ExchangeServers": [
            {"id": "t1", "name": "Treasury 2", "description": "Treasury exchange",
             "host_url": "http://127.0.0.1:8094/digit-exchange", "public_key": PUBLIC_2},
            {"id": "d1", "name": "Department", "description": "Department exchange",
             "host_url": "http://127.0.0.1:8084/digit-exchange", "public_key": PUBLIC_1,
             "is_active": false}
        ]});
        let path = std::env::temp_dir().join(format!("seed-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, wrapped.to_string()).unwrap();
        assert_eq!(r.seed_from_file(&path).await.unwrap(), 2);
        std::fs::remove_file(&path).ok();
        let t1 = r
            .search(&RegistrySearch {
                ids: Some(vec!["t1".into()]),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(t1.len(), 1);
        assert_eq!(t1[0].name, "Treasury 2");
        assert!(!t1[0].seal_required);
        assert!(r
            .active_keys("http://127.0.0.1:8084/digit-exchange")
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            r.seed_from_json("[{\"name\": \"x\"}]").await,
            Err(RegistryError::Seed(_))
        ));
        assert!(matches!(
            r.seed_from_file(std::path::Path::new("/nonexistent/seed.json"))
                .await,
            Err(RegistryError::Seed(_))
        ));
        db.cleanup().await.unwrap();
    }

    #[test]
    fn wire_model_is_upstream_snake_case() {
        let s = ExchangeServer {
            audit_details: Some(ServerAudit {
                created_by: Some("u".into()),
                ..Default::default()
            }),
            ..row("a", "http://a.example", "k")
        };
        let v = serde_json::to_value(&s).unwrap();
        for k in [
            "id",
            "name",
            "description",
            "host_url",
            "public_key",
            "is_active",
            "seal_required",
            "audit_details",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["audit_details"]["created_by"], "u");
        let camel: ServerAudit =
            serde_json::from_value(serde_json::json!({"createdBy": "x", "lastModifiedTime": 5}))
                .unwrap();
        assert_eq!(camel.created_by.as_deref(), Some("x"));
        assert_eq!(camel.last_modified_time, Some(5));
    }
}

#[cfg(test)]
mod dev_seeds {
    use super::*;
    use crate::security::signature::tests::{PRIVATE_1, PRIVATE_2};
    use crate::security::Signer;
    use digit_store::testing::TestDb;

    /// The seeds of `make up` load, and each side registers the other's key.
    #[tokio::test]
    async fn make_up_seeds_register_each_other() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/exchange/");
        let cases = [
            (
                "registry-department.json",
                "http://127.0.0.1:8094/digit-exchange",
                PRIVATE_2,
            ),
            (
                "registry-treasury.json",
                "http://127.0.0.1:8084/digit-exchange",
                PRIVATE_1,
            ),
        ];
        for (file, peer, peer_private) in cases {
            let db = TestDb::migrated(&[&crate::MIGRATOR]).await.unwrap();
            let r = Registry::new(db.pool().clone(), Duration::from_secs(60));
            let path = std::path::PathBuf::from(root).join(file);
            assert_eq!(r.seed_from_file(&path).await.unwrap(), 1);
            let keys = r.verifying_keys(peer).await.unwrap();
            assert_eq!(keys.len(), 1, "{file}");
            let signer = Signer::from_pem(peer_private).unwrap();
            assert_eq!(&keys[0].1, signer.public_key(), "{file}");
            assert!(r.seal_required(peer).await.unwrap());
            db.cleanup().await.unwrap();
        }
    }
}
