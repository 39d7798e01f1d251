//! Wire models and rules of the master data (no I/O): the iFIX envelope ([`header`]), the
//! chart of accounts ([`coa`]), departments, expenditures and projects ([`adapter`]),
//! department hierarchy levels and entities ([`entity`]).

pub mod adapter;
pub mod coa;
pub mod entity;
pub mod header;

use crate::error::Violations;

/// Checks a string's length in characters (`@Size(min, max)` on a present value).
pub(crate) fn check_len(
    v: &mut Violations,
    value: Option<&str>,
    (min, max): (usize, usize),
    code: &str,
    message: &str,
) {
    if let Some(s) = value {
        let n = s.chars().count();
        if n < min || n > max {
            v.add(code, message);
        }
    }
}

/// `StringUtils.isBlank`.
pub(crate) fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|s| s.trim().is_empty())
}
