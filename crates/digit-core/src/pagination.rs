//! Bounded `limit`/`offset` pagination as DIGIT searches take it from the query string.

use serde::{Deserialize, Serialize};

/// A page request, already clamped to the service's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pagination {
    /// Rows to return (1..=max).
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

impl Pagination {
    /// Applies the service's default and maximum page size, as upstream services do:
    /// a missing limit takes the default, a limit above the maximum is cut to it.
    pub fn bounded(
        limit: Option<u32>,
        offset: Option<u32>,
        default_limit: u32,
        max_limit: u32,
    ) -> Self {
        let limit = limit
            .filter(|l| *l > 0)
            .unwrap_or(default_limit)
            .min(max_limit)
            .max(1);
        Self {
            limit,
            offset: offset.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps() {
        assert_eq!(
            Pagination::bounded(None, None, 10, 100),
            Pagination {
                limit: 10,
                offset: 0
            }
        );
        assert_eq!(
            Pagination::bounded(Some(1000), Some(5), 10, 100),
            Pagination {
                limit: 100,
                offset: 5
            }
        );
        assert_eq!(Pagination::bounded(Some(0), None, 10, 100).limit, 10);
    }
}
