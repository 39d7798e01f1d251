//! `AuditDetails` (§1.6).

use serde::{Deserialize, Serialize};

/// Who created and last modified a record, and when (epoch ms).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditDetails {
    /// Creator's user uuid.
    pub created_by: Option<String>,
    /// Last modifier's user uuid.
    pub last_modified_by: Option<String>,
    /// Creation time, epoch ms.
    pub created_time: Option<i64>,
    /// Last modification time, epoch ms.
    pub last_modified_time: Option<i64>,
}

impl AuditDetails {
    /// Audit for a new record: all four fields set to the requester and `now_ms`.
    pub fn for_create(user_uuid: &str, now_ms: i64) -> Self {
        Self {
            created_by: Some(user_uuid.to_owned()),
            last_modified_by: Some(user_uuid.to_owned()),
            created_time: Some(now_ms),
            last_modified_time: Some(now_ms),
        }
    }

    /// Audit for an update: keeps the creation fields, sets the modification fields.
    #[must_use]
    pub fn for_update(&self, user_uuid: &str, now_ms: i64) -> Self {
        Self {
            created_by: self.created_by.clone(),
            created_time: self.created_time,
            last_modified_by: Some(user_uuid.to_owned()),
            last_modified_time: Some(now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_then_update() {
        let a = AuditDetails::for_create("u1", 10);
        let b = a.for_update("u2", 20);
        assert_eq!(
            serde_json::to_value(b).unwrap(),
            json!({"createdBy": "u1", "lastModifiedBy": "u2", "createdTime": 10, "lastModifiedTime": 20})
        );
    }
}
