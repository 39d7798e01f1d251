//! Login in standalone mode, as egov-user answers it: the OAuth2 password grant (employees by
//! user name, citizens by mobile number) and the refresh grant, issuing a JWT every gate of the
//! suite accepts; lock-out after repeated failures; logout (revokes the refresh tokens); the
//! token's user (`/user/_details`); user search.
//!
//! Nothing secret is stored or logged in the clear: passwords as PBKDF2 hashes
//! ([`crate::password`]), refresh tokens as SHA-256 digests.

use crate::embedded::{now_ms, UserRow};
use crate::password;
use digit_core::{Role, UserInfo};
use digit_service::config::{ConfigError, Env, EnvVar};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use std::sync::Arc;

macro_rules! var {
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
var!(
    ACCESS_TTL,
    "USER_ACCESS_TOKEN_TTL_SECONDS",
    "604800",
    "Lifetime of an access token from /user/oauth/token (upstream: 7 days)"
);
var!(
    REFRESH_TTL,
    "USER_REFRESH_TOKEN_TTL_SECONDS",
    "1209600",
    "Lifetime of a refresh token (single use)"
);
var!(
    MAX_ATTEMPTS,
    "USER_MAX_FAILED_LOGINS",
    "5",
    "Failed logins within USER_FAILED_LOGIN_WINDOW_MINUTES that lock the account"
);
var!(
    ATTEMPT_WINDOW,
    "USER_FAILED_LOGIN_WINDOW_MINUTES",
    "30",
    "Window in which failed logins are counted"
);
var!(
    LOCK_MINUTES,
    "USER_LOCK_MINUTES",
    "30",
    "How long a locked account stays locked"
);
var!(
    CLIENTS,
    "USER_OAUTH_CLIENTS",
    "egov-user-client:",
    "OAuth clients allowed at /user/oauth/token (Basic auth), as id:secret, comma-separated"
);

/// The login settings (for `--help`).
pub const LOGIN_VARS: &[EnvVar] = &[
    ACCESS_TTL,
    REFRESH_TTL,
    MAX_ATTEMPTS,
    ATTEMPT_WINDOW,
    LOCK_MINUTES,
    CLIENTS,
];

/// Limits and lifetimes.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Access token lifetime (s).
    pub access_ttl: i64,
    /// Refresh token lifetime (s).
    pub refresh_ttl: i64,
    /// Failed logins that lock.
    pub max_attempts: i32,
    /// Window of counted failures (ms).
    pub attempt_window_ms: i64,
    /// Lock duration (ms).
    pub lock_ms: i64,
    /// `id:secret` pairs.
    pub clients: Vec<(String, String)>,
    /// Segments of the state tenant.
    pub state_level_length: usize,
}

impl LoginSettings {
    /// From the environment.
    pub fn from_env(env: &Env, state_level_length: usize) -> Result<Self, ConfigError> {
        let num = |var: &EnvVar| -> Result<i64, ConfigError> {
            env.get_or_default(var)
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    name: var.name,
                    value: env.get_or_default(var),
                })
        };
        let clients = env
            .get_or_default(&CLIENTS)
            .split(',')
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                let (id, secret) = c.trim().split_once(':').unwrap_or((c.trim(), ""));
                (id.to_owned(), secret.to_owned())
            })
            .collect();
        Ok(Self {
            access_ttl: num(&ACCESS_TTL)?,
            refresh_ttl: num(&REFRESH_TTL)?,
            max_attempts: i32::try_from(num(&MAX_ATTEMPTS)?).unwrap_or(i32::MAX),
            attempt_window_ms: num(&ATTEMPT_WINDOW)?.saturating_mul(60_000),
            lock_ms: num(&LOCK_MINUTES)?.saturating_mul(60_000),
            clients,
            state_level_length,
        })
    }
}

/// Why a login failed (the answers upstream's OAuth2 endpoint gives).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password, wrong user type or tenant.
    #[error("invalid login credentials")]
    InvalidCredentials,
    /// Too many failures: locked until the given time (ms).
    #[error("account locked")]
    Locked,
    /// An unknown, revoked, used or expired refresh token.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A grant type other than password and refresh_token.
    #[error("unsupported grant type")]
    UnsupportedGrant,
    /// A required parameter is missing.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// The database.
    #[error("database: {0}")]
    Database(String),
    /// The suite has no HS256 secret to sign with (RS256 public key only).
    #[error("no signing key: {0}")]
    Signing(String),
}

impl From<sqlx::Error> for LoginError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.to_string())
    }
}

/// A token pair and the user it is for.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The JWT.
    pub access_token: String,
    /// The refresh token (opaque).
    pub refresh_token: String,
    /// Access token lifetime (s).
    pub expires_in: i64,
    /// The user.
    pub user: UserInfo,
}

/// The login service over the users table.
#[derive(Clone)]
pub struct Login {
    pool: PgPool,
    secret: Option<Arc<Vec<u8>>>,
    issuer: Option<String>,
    /// Settings.
    pub settings: Arc<LoginSettings>,
    /// Citizens log in with an OTP instead of a password, when set (upstream's
    /// `citizen.login.password.otp.enabled`, on by default).
    otps: Option<crate::otp::Otps>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const USER_COLUMNS: &str = "id, uuid, tenantid, username, name, mobilenumber, emailid, type, roles";

impl Login {
    /// Users in `pool`; tokens signed with `secret` (the suite's `JWT_SECRET`).
    pub fn new(
        pool: PgPool,
        secret: Option<&str>,
        issuer: Option<&str>,
        settings: LoginSettings,
    ) -> Self {
        Self {
            pool,
            secret: secret.map(|s| Arc::new(s.as_bytes().to_vec())),
            issuer: issuer.map(str::to_owned),
            settings: Arc::new(settings),
            otps: None,
        }
    }

    /// Citizens' passwords are OTPs from `otps` (see [`crate::otp`]).
    pub fn with_citizen_otps(mut self, otps: crate::otp::Otps) -> Self {
        self.otps = Some(otps);
        self
    }

    /// The OTP store citizens log in with, if any.
    pub fn otps(&self) -> Option<&crate::otp::Otps> {
        self.otps.as_ref()
    }

    /// Whether `client_id:secret` is an allowed OAuth client.
    pub fn client_allowed(&self, id: &str, secret: &str) -> bool {
        self.settings
            .clients
            .iter()
            .any(|(i, s)| i == id && s == secret)
    }

    fn state_of<'a>(&self, tenant: &'a str) -> &'a str {
        digit_core::tenant::state_level_of(tenant, self.settings.state_level_length)
    }

    /// The state tenant of `tenant` (where citizens live).
    pub fn state_tenant<'a>(&self, tenant: &'a str) -> &'a str {
        self.state_of(tenant)
    }

    /// Whether an active user `username` of `user_type` exists at `tenant` or its state.
    pub async fn user_exists(
        &self,
        username: &str,
        user_type: &str,
        tenant: &str,
    ) -> Result<bool, LoginError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM eg_user WHERE username = $1 AND type = $2
                            AND (tenantid = $3 OR tenantid = $4) AND active)",
        )
        .bind(username)
        .bind(user_type.to_ascii_uppercase())
        .bind(tenant)
        .bind(self.state_of(tenant))
        .fetch_one(&self.pool)
        .await?)
    }

    /// Registers a citizen of `state` (user name = `mobile`, role CITIZEN): its uuid, or
    /// `None` when the number is a citizen already (the unique key decides, so two racing
    /// registrations yield one user).
    pub async fn create_citizen(
        &self,
        state: &str,
        mobile: &str,
        name: &str,
        email: Option<&str>,
        now: i64,
    ) -> Result<Option<String>, LoginError> {
        let roles = serde_json::json!([{"code": "CITIZEN", "name": "Citizen", "tenantId": state}]);
        Ok(sqlx::query_scalar(
            "INSERT INTO eg_user (uuid, tenantid, username, name, mobilenumber, emailid, type, roles, createdtime, lastmodifiedtime)
             VALUES ($1, $2, $3, $4, $3, $5, 'CITIZEN', $6, $7, $7)
             ON CONFLICT (tenantid, username, type) DO NOTHING RETURNING uuid",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(state)
        .bind(mobile)
        .bind(name)
        .bind(email)
        .bind(roles)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A token pair for `uuid` (a user who just proved who it is another way).
    pub async fn tokens_for(&self, uuid: &str) -> Result<Tokens, LoginError> {
        self.issue(uuid, now_ms()).await
    }

    /// The password grant.
    pub async fn password_grant(
        &self,
        username: &str,
        password: &str,
        tenant: &str,
        user_type: &str,
    ) -> Result<Tokens, LoginError> {
        let now = now_ms();
        let user_type = if user_type.trim().is_empty() {
            "EMPLOYEE"
        } else {
            user_type.trim()
        };
        let state = self.state_of(tenant);
        let row = sqlx::query(
            "SELECT uuid, password_hash, failed_attempts, first_failed_at, locked_until FROM eg_user
             WHERE username = $1 AND type = $2 AND (tenantid = $3 OR tenantid = $4) AND active
             ORDER BY (tenantid = $3) DESC LIMIT 1",
        )
        .bind(username.trim())
        .bind(user_type.to_ascii_uppercase())
        .bind(tenant.trim())
        .bind(state)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // The same answer as a wrong password: no telling which user names exist.
            return Err(LoginError::InvalidCredentials);
        };
        let uuid: String = row.try_get("uuid")?;
        let locked_until: Option<i64> = row.try_get("locked_until")?;
        if locked_until.is_some_and(|t| t > now) {
            return Err(LoginError::Locked);
        }
        let ok = match (&self.otps, user_type.eq_ignore_ascii_case("CITIZEN")) {
            // A citizen's password is the OTP sent to its number (its user name).
            (Some(otps), true) => otps
                .verify(
                    state,
                    username.trim(),
                    password,
                    &[crate::otp::OtpPurpose::Login],
                )
                .await
                .map_err(|e| LoginError::Database(e.to_string()))?,
            _ => {
                let hash: Option<String> = row.try_get("password_hash")?;
                let candidate = password.to_owned();
                match hash {
                    // Hashing is CPU work: off the async workers.
                    Some(h) => {
                        tokio::task::spawn_blocking(move || password::verify(&candidate, &h))
                            .await
                            .unwrap_or(false)
                    }
                    None => false,
                }
            }
        };
        if !ok {
            return Err(self.record_failure(&uuid, now).await?);
        }
        sqlx::query("UPDATE eg_user SET failed_attempts = 0, first_failed_at = NULL, locked_until = NULL WHERE uuid = $1")
            .bind(&uuid)
            .execute(&self.pool)
            .await?;
        self.issue(&uuid, now).await
    }

    /// Counts a failure in one statement (concurrent failures all count) and locks at the limit.
    async fn record_failure(&self, uuid: &str, now: i64) -> Result<LoginError, LoginError> {
        let row = sqlx::query(
            "UPDATE eg_user SET
                failed_attempts = CASE WHEN first_failed_at IS NULL OR first_failed_at < $2 - $3 THEN 1 ELSE failed_attempts + 1 END,
                first_failed_at = CASE WHEN first_failed_at IS NULL OR first_failed_at < $2 - $3 THEN $2 ELSE first_failed_at END
             WHERE uuid = $1 RETURNING failed_attempts",
        )
        .bind(uuid)
        .bind(now)
        .bind(self.settings.attempt_window_ms)
        .fetch_one(&self.pool)
        .await?;
        let failures: i32 = row.try_get("failed_attempts")?;
        if failures >= self.settings.max_attempts {
            sqlx::query("UPDATE eg_user SET locked_until = $2, failed_attempts = 0, first_failed_at = NULL WHERE uuid = $1")
                .bind(uuid)
                .bind(now + self.settings.lock_ms)
                .execute(&self.pool)
                .await?;
            tracing::warn!(user = uuid, "Account locked after repeated failed logins.");
            return Ok(LoginError::Locked);
        }
        Ok(LoginError::InvalidCredentials)
    }

    /// The refresh grant: a used, revoked or expired token is refused; a good one is spent.
    pub async fn refresh_grant(&self, refresh_token: &str) -> Result<Tokens, LoginError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE eg_user_refresh_token SET revoked = true
             WHERE token_hash = $1 AND NOT revoked AND expires_at > $2 RETURNING user_uuid",
        )
        .bind(digest(refresh_token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(LoginError::InvalidRefreshToken)?;
        let uuid: String = row.try_get("user_uuid")?;
        self.issue(&uuid, now).await
    }

    /// Revokes every refresh token of `uuid` (its access tokens expire on their own).
    pub async fn logout(&self, uuid: &str) -> Result<u64, LoginError> {
        Ok(sqlx::query(
            "UPDATE eg_user_refresh_token SET revoked = true WHERE user_uuid = $1 AND NOT revoked",
        )
        .bind(uuid)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    async fn user(&self, uuid: &str) -> Result<UserInfo, LoginError> {
        let row: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM eg_user WHERE uuid = $1 AND active"
        ))
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(LoginError::InvalidCredentials)?;
        Ok(row.into_user())
    }

    async fn issue(&self, uuid: &str, now: i64) -> Result<Tokens, LoginError> {
        let user = self.user(uuid).await?;
        let secret = self
            .secret
            .as_ref()
            .ok_or_else(|| LoginError::Signing("JWT_SECRET is not set".into()))?;
        let access_token = digit_service::jwt::mint_hs256(
            &user,
            secret,
            self.settings.access_ttl,
            self.issuer.as_deref(),
        )
        .map_err(|e| LoginError::Signing(e.to_string()))?;
        let refresh_token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        sqlx::query("INSERT INTO eg_user_refresh_token (token_hash, user_uuid, expires_at, createdtime) VALUES ($1, $2, $3, $4)")
            .bind(digest(&refresh_token))
            .bind(uuid)
            .bind(now + self.settings.refresh_ttl * 1000)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in: self.settings.access_ttl,
            user,
        })
    }

    /// Sets a user's password (hash only).
    pub async fn set_password(&self, uuid: &str, password: &str) -> Result<(), LoginError> {
        let candidate = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || {
            password::hash(&candidate, password::DEFAULT_ITERATIONS)
        })
        .await
        .map_err(|e| LoginError::Database(e.to_string()))?;
        sqlx::query("UPDATE eg_user SET password_hash = $2 WHERE uuid = $1")
            .bind(uuid)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// User search (`/user/_search`): every given criterion must match; at most `limit`.
    pub async fn search(&self, c: &UserSearch, limit: i64) -> Result<Vec<UserInfo>, LoginError> {
        let mut q =
            sqlx::QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM eg_user WHERE active"));
        if !c.uuid.is_empty() {
            q.push(" AND uuid = ANY(")
                .push_bind(c.uuid.clone())
                .push(")");
        }
        if !c.id.is_empty() {
            q.push(" AND id = ANY(").push_bind(c.id.clone()).push(")");
        }
        if let Some(u) = &c.user_name {
            q.push(" AND username = ").push_bind(u.clone());
        }
        if let Some(m) = &c.mobile_number {
            q.push(" AND mobilenumber = ").push_bind(m.clone());
        }
        if let Some(t) = &c.tenant_id {
            q.push(" AND (tenantid = ")
                .push_bind(t.clone())
                .push(" OR tenantid = ")
                .push_bind(self.state_of(t).to_owned())
                .push(")");
        }
        if let Some(t) = &c.user_type {
            q.push(" AND type = ").push_bind(t.to_ascii_uppercase());
        }
        if !c.role_codes.is_empty() {
            q.push(
                " AND EXISTS (SELECT 1 FROM jsonb_array_elements(roles) r WHERE r->>'code' = ANY(",
            )
            .push_bind(c.role_codes.clone())
            .push("))");
        }
        q.push(" ORDER BY id LIMIT ").push_bind(limit);
        let rows: Vec<UserRow> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(UserRow::into_user).collect())
    }
}

/// `/user/_search` criteria (upstream's `UserSearchCriteria` names).
#[derive(Debug, Default, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSearch {
    /// Uuids.
    #[serde(default)]
    pub uuid: Vec<String>,
    /// Numeric ids.
    #[serde(default)]
    pub id: Vec<i64>,
    /// User name.
    #[serde(default)]
    pub user_name: Option<String>,
    /// Mobile number.
    #[serde(default)]
    pub mobile_number: Option<String>,
    /// Tenant (its state's users too).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// `EMPLOYEE`, `CITIZEN`, `SYSTEM`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Holding any of these roles.
    #[serde(default)]
    pub role_codes: Vec<String>,
    /// Page size (≤ 100).
    #[serde(default)]
    pub page_size: Option<i64>,
}

/// Upstream's `CustomUserDetails` / `UserRequest` shape of a user (every field sent, nulls
/// included).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    /// Numeric id.
    pub id: Option<i64>,
    /// Uuid.
    pub uuid: Option<String>,
    /// User name (a citizen's mobile number).
    pub user_name: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Mobile number.
    pub mobile_number: Option<String>,
    /// E-mail.
    pub email_id: Option<String>,
    /// Always null here.
    pub locale: Option<String>,
    /// `EMPLOYEE`, `CITIZEN` or `SYSTEM`.
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// Roles.
    pub roles: Vec<RoleDetails>,
    /// Always true.
    pub active: bool,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Always null here.
    pub permanent_city: Option<String>,
}

/// A role of [`UserDetails`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDetails {
    /// Display name.
    pub name: Option<String>,
    /// Code, e.g. `GRO`.
    pub code: String,
    /// Tenant the role is valid for.
    pub tenant_id: Option<String>,
}

/// The [`UserDetails`] of `u`.
pub fn user_details(u: &UserInfo) -> UserDetails {
    UserDetails {
        id: u.id,
        uuid: u.uuid.clone(),
        user_name: u.user_name.clone(),
        name: u.name.clone(),
        mobile_number: u.mobile_number.clone(),
        email_id: u.email_id.clone(),
        locale: None,
        user_type: u.user_type.map(|t| t.as_str().to_owned()),
        roles: u
            .roles
            .iter()
            .map(|r: &Role| RoleDetails {
                name: r.name.clone(),
                code: r.code.clone(),
                tenant_id: r.tenant_id.clone(),
            })
            .collect(),
        active: true,
        tenant_id: u.tenant_id.clone(),
        permanent_city: None,
    }
}
