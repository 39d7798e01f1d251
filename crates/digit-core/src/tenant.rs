//! Tenant ids: dot-separated segments, state level first (`pg.citya` → state `pg`), §9.5.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated tenant id such as `pg` or `pg.citya`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl schemars::JsonSchema for TenantId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TenantId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A tenant id: dot-separated segments, state level first (`pg`, `pg.citya`).",
            "pattern": "^[a-zA-Z_][a-zA-Z0-9_]{0,62}(\\.[a-zA-Z_][a-zA-Z0-9_]{0,62})*$"
        })
    }
}

/// A tenant id whose segments do not match `^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid tenant id format: '{0}'")]
pub struct TenantError(pub String);

impl TenantId {
    /// Validates the segment format.
    pub fn parse(raw: &str) -> Result<Self, TenantError> {
        let ok = !raw.is_empty() && raw.split('.').all(valid_segment);
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(TenantError(raw.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The state-level tenant: the first `state_level_length` segments (1 outside a
    /// central instance), e.g. `pg.citya` → `pg`.
    pub fn state_level(&self, state_level_length: usize) -> &str {
        state_level_of(&self.0, state_level_length)
    }

    /// True when the id has no more segments than the state level.
    pub fn is_state_level(&self, state_level_length: usize) -> bool {
        self.0.split('.').count() <= state_level_length.max(1)
    }

    /// This tenant and its ancestors, most specific first:
    /// `pg.citya.ward1` → `pg.citya.ward1`, `pg.citya`, `pg`.
    pub fn lineage(&self) -> impl Iterator<Item = &str> {
        lineage_of(&self.0)
    }
}

/// State-level part of a raw tenant id (no validation).
pub fn state_level_of(raw: &str, state_level_length: usize) -> &str {
    let n = state_level_length.max(1);
    match raw.match_indices('.').nth(n - 1) {
        Some((idx, _)) => &raw[..idx],
        None => raw,
    }
}

/// A raw tenant id and its ancestors, most specific first.
pub fn lineage_of(raw: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(raw);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.rfind('.').map(|i| &current[..i]);
        Some(current)
    })
}

fn valid_segment(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    s.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl TryFrom<String> for TenantId {
    type Error = TenantError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(t: TenantId) -> Self {
        t.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_level_and_lineage() {
        let t = TenantId::parse("pg.citya.ward1").unwrap();
        assert_eq!(t.state_level(1), "pg");
        assert_eq!(t.state_level(2), "pg.citya");
        assert!(!t.is_state_level(1));
        assert!(TenantId::parse("pg").unwrap().is_state_level(1));
        assert_eq!(
            t.lineage().collect::<Vec<_>>(),
            ["pg.citya.ward1", "pg.citya", "pg"]
        );
        assert_eq!(state_level_of("pg", 1), "pg");
    }

    #[test]
    fn rejects_bad_segments() {
        for bad in ["", "pg.", ".pg", "pg..a", "1pg", "pg.ci-ty", "pg city"] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<TenantId>("\"pg.citya\"").is_ok());
        assert!(serde_json::from_str::<TenantId>("\"pg..x\"").is_err());
    }
}
