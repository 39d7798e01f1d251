//! Wire models and rules of the master data (no I/O): the iFIX envelope ([`header`]), the
//! chart of accounts ([`coa`]), departments, expenditures and projects ([`adapter`]),
//! department hierarchy levels and entities ([`entity`]).

pub mod adapter;
pub mod coa;
pub mod entity;
pub mod header;

use crate::error::Violations;

/// The wire form of a field read by `digit_core::lenient::opt_i64`: an integer or a string
/// holding one (blank: none). Answers carry the integer. Only describes the schema
/// (`#[schemars(with = "Option<LenientI64>")]`).
pub struct LenientI64;

impl schemars::JsonSchema for LenientI64 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LenientI64".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An integer, or a string holding one (blank: none)",
            "anyOf": [
                { "type": "integer", "format": "int64" },
                { "type": "string", "pattern": "^\\s*([+-]?[0-9]+)?\\s*$" }
            ]
        })
    }
}

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
