//! Exact money: a decimal that is a JSON number on the wire and never an `f64`.
//!
//! Upstream keeps amounts in Java `BigDecimal` but several services round-trip them through
//! doubles; we keep every digit. `serde_json`'s `arbitrary_precision` feature (enabled for
//! the whole workspace) lets a number keep its exact text through parsing and printing.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An exact decimal amount. Serialized as a JSON number with exactly its digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Parses decimal text exactly (`"0.1"`, `"1e3"`, `"-12.50"`).
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let text = text.trim();
        let parsed = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text)
        } else {
            Decimal::from_str_exact(text)
        };
        parsed.map(Self).map_err(|_| MoneyError(text.to_owned()))
    }

    /// The inner decimal.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// Sum that reports overflow instead of panicking.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// Difference that reports overflow instead of panicking.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// True when below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

/// Text that is not an exact decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a decimal amount")]
pub struct MoneyError(pub String);

impl From<Decimal> for Money {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Decimal's Display never yields exponent notation, so it is valid JSON number text.
        let number =
            serde_json::Number::from_str(&self.0.to_string()).map_err(serde::ser::Error::custom)?;
        number.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Numbers arrive with their exact text; strings are accepted as Jackson coerces them.
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => Self::parse(&n.to_string()).map_err(de::Error::custom),
            serde_json::Value::String(s) => Self::parse(&s).map_err(de::Error::custom),
            other => Err(de::Error::custom(format!(
                "expected a decimal number, found {other}"
            ))),
        }
    }
}

impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A number with every digit kept; a numeric string is accepted too (not advertised).
        schemars::json_schema!({
            "type": "number",
            "description": "An exact decimal amount (all digits kept, never rounded through a double)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize)]
    struct Line {
        amount: Money,
        tax: Option<Money>,
    }

    #[test]
    fn point_one_plus_point_two_is_point_three_exactly() {
        let a: Line = serde_json::from_str(r#"{"amount": 0.1, "tax": 0.2}"#).unwrap();
        let sum = a.amount.checked_add(a.tax.unwrap()).unwrap();
        let out = serde_json::to_string(&Line {
            amount: sum,
            tax: None,
        })
        .unwrap();
        assert_eq!(out, r#"{"amount":0.3,"tax":null}"#);
    }

    #[test]
    fn keeps_every_digit_and_scale() {
        let text = r#"{"amount":12345678901234567890.1234567,"tax":100.50}"#;
        let l: Line = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), text);
    }

    #[test]
    fn accepts_strings_and_exponents_and_rejects_junk() {
        let l: Line = serde_json::from_value(json!({"amount": "7.25", "tax": null})).unwrap();
        assert_eq!(l.amount.to_string(), "7.25");
        assert_eq!(Money::parse("1e3").unwrap().to_string(), "1000");
        assert!(serde_json::from_value::<Line>(json!({"amount": "abc"})).is_err());
        assert!(serde_json::from_value::<Line>(json!({"amount": true})).is_err());
        assert!(Money::parse("-0.01").unwrap().is_negative());
        assert!(!Money::parse("0").unwrap().is_negative());
    }
}
