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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
        let rows = result?;
        if let Some(missing) = ids.iter().find(|id| !rows.iter().any(|r| &&r.id == id)) {
            return Err(RegistryError::NotFound(missing.clone()));
        }
        Ok(rows)
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

    async fn snapshot(&self) -> Result<Arc<Vec<Entry>>, RegistryError> {
        let generation = {
            let state = self.lock();
            if let Some(s) = &state.snapshot {
                if s.loaded.elapsed() < self.inner.ttl {
                    return Ok(s.entries.clone());
                }
            }
            state.generation
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
    let key = PublicKey::from_pem(&s.public_key)
        .map_err(|e| RegistryError::invalid("INVALID_PUBLIC_KEY", e.to_string()))?;
    s.public_key = key.pem().to_owned();
    Ok(s)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
