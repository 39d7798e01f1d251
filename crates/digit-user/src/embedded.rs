//! The `eg_user` table and its seed files.

use crate::{UserDirectory, UserError};
use digit_core::{RequestInfo, Role, UserInfo, UserType};
use serde::Deserialize;
use sqlx::PgPool;
use std::path::Path;

/// Users in Postgres (standalone mode).
#[derive(Debug, Clone)]
pub struct EmbeddedUsers {
    pool: PgPool,
}

/// A seed file: `{"users": [UserInfo…]}` (each needs `uuid`, `userName`, `type`, `tenantId`;
/// `passwordHash`, a [`crate::password`] hash, lets the user log in).
#[derive(Debug, Deserialize)]
pub struct SeedFile {
    /// The users.
    pub users: Vec<SeedUser>,
}

/// One seeded user.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedUser {
    /// The user.
    #[serde(flatten)]
    pub user: UserInfo,
    /// Its password hash (never a password).
    #[serde(default)]
    pub password_hash: Option<String>,
}

impl EmbeddedUsers {
    /// Users stored in `pool` (the `eg_user` migration applied).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Inserts or updates one user, keyed by uuid.
    pub async fn upsert(&self, user: &UserInfo) -> Result<(), UserError> {
        let uuid = user
            .uuid
            .as_deref()
            .ok_or_else(|| seed_error("-", "a user without uuid"))?;
        let user_type = user.user_type.map_or("EMPLOYEE", UserType::as_str);
        let roles =
            serde_json::to_value(&user.roles).map_err(|e| seed_error(uuid, &e.to_string()))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO eg_user (uuid, tenantid, username, name, mobilenumber, emailid, type, roles, createdtime, lastmodifiedtime)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
             ON CONFLICT (uuid) DO UPDATE SET tenantid = EXCLUDED.tenantid, username = EXCLUDED.username,
               name = EXCLUDED.name, mobilenumber = EXCLUDED.mobilenumber, emailid = EXCLUDED.emailid,
               type = EXCLUDED.type, roles = EXCLUDED.roles, lastmodifiedtime = EXCLUDED.lastmodifiedtime",
        )
        .bind(uuid)
        .bind(user.tenant_id.as_deref().unwrap_or_default())
        .bind(user.user_name.as_deref().unwrap_or(uuid))
        .bind(user.name.as_deref())
        .bind(user.mobile_number.as_deref())
        .bind(user.email_id.as_deref())
        .bind(user_type)
        .bind(roles)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Upserts every user of every `*.json` file under `dir` (missing folder: nothing to do).
    pub async fn seed_from_dir(&self, dir: &Path) -> Result<usize, UserError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(0);
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut count = 0;
        for file in files {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(&file).map_err(|e| seed_error(&name, &e.to_string()))?;
            let seed: SeedFile =
                serde_json::from_str(&text).map_err(|e| seed_error(&name, &e.to_string()))?;
            for seeded in &seed.users {
                self.upsert(&seeded.user).await?;
                if let (Some(hash), Some(uuid)) = (&seeded.password_hash, &seeded.user.uuid) {
                    sqlx::query("UPDATE eg_user SET password_hash = $2 WHERE uuid = $1")
                        .bind(uuid)
                        .bind(hash)
                        .execute(&self.pool)
                        .await?;
                }
                count += 1;
            }
        }
        Ok(count)
    }
}

#[async_trait::async_trait]
impl UserDirectory for EmbeddedUsers {
    async fn search_by_uuids(
        &self,
        _request_info: &RequestInfo,
        uuids: &[String],
    ) -> Result<Vec<UserInfo>, UserError> {
        if uuids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, uuid, tenantid, username, name, mobilenumber, emailid, type, roles
             FROM eg_user WHERE uuid = ANY($1) AND active",
        )
        .bind(uuids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(UserRow::into_user).collect())
    }

    async fn citizens_by_mobile(
        &self,
        _request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
    ) -> Result<Vec<UserInfo>, UserError> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, uuid, tenantid, username, name, mobilenumber, emailid, type, roles
             FROM eg_user WHERE tenantid = $1 AND mobilenumber = $2 AND type = 'CITIZEN' AND active",
        )
        .bind(state_tenant)
        .bind(mobile)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(UserRow::into_user).collect())
    }

    async fn upsert_citizen(
        &self,
        _request_info: &RequestInfo,
        state_tenant: &str,
        mobile: &str,
        name: &str,
        email: Option<&str>,
    ) -> Result<UserInfo, UserError> {
        let roles =
            serde_json::json!([{"code": "CITIZEN", "name": "Citizen", "tenantId": state_tenant}]);
        let now = now_ms();
        // One statement: a concurrent upsert for the same number waits on the unique key and
        // then updates the row the other one created.
        let row: UserRow = sqlx::query_as(
            "INSERT INTO eg_user (uuid, tenantid, username, name, mobilenumber, emailid, type, roles, createdtime, lastmodifiedtime)
             VALUES ($1, $2, $3, $4, $3, $5, 'CITIZEN', $6, $7, $7)
             ON CONFLICT (tenantid, username, type) DO UPDATE SET
               name = CASE WHEN lower(coalesce(eg_user.name, '')) = lower(EXCLUDED.name) THEN eg_user.name ELSE EXCLUDED.name END,
               active = true,
               lastmodifiedtime = CASE WHEN lower(coalesce(eg_user.name, '')) = lower(EXCLUDED.name) THEN eg_user.lastmodifiedtime ELSE EXCLUDED.lastmodifiedtime END
             RETURNING id, uuid, tenantid, username, name, mobilenumber, emailid, type, roles",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(state_tenant)
        .bind(mobile)
        .bind(name)
        .bind(email)
        .bind(roles)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into_user())
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    uuid: String,
    tenantid: String,
    username: String,
    name: Option<String>,
    mobilenumber: Option<String>,
    emailid: Option<String>,
    #[sqlx(rename = "type")]
    user_type: String,
    roles: serde_json::Value,
}

impl UserRow {
    pub(crate) fn into_user(self) -> UserInfo {
        let roles: Vec<Role> = serde_json::from_value(self.roles).unwrap_or_default();
        let user_type = serde_json::from_value(serde_json::Value::String(self.user_type)).ok();
        UserInfo {
            id: Some(self.id),
            uuid: Some(self.uuid),
            user_name: Some(self.username),
            name: self.name,
            user_type,
            mobile_number: self.mobilenumber,
            email_id: self.emailid,
            tenant_id: Some(self.tenantid),
            roles,
        }
    }
}

fn seed_error(file: &str, message: &str) -> UserError {
    UserError::Seed {
        file: file.to_owned(),
        message: message.to_owned(),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
