//! Exact comparison of JSON numbers.
//!
//! Jayway compares numbers as `BigDecimal`s, so `1 == 1.0` and `0.1 + 0.2`-style money values
//! compare exactly. With serde_json's `arbitrary_precision` feature a [`serde_json::Number`]
//! keeps its original text; this module compares those texts as exact decimals (no `f64`).

use std::cmp::Ordering;

/// A decimal in normalized scientific form: `(-1)^negative × 0.d1d2d3… × 10^exponent`,
/// `digits` without leading or trailing zeros; zero has empty `digits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// Parses a decimal number as written in JSON or by `java.math.BigDecimal`
    /// (`-12.5`, `1e3`, `1.`, `.5`, `+7`). Returns `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let bytes = text.trim().as_bytes();
        let mut i = 0;
        let mut negative = false;
        match bytes.first() {
            Some(b'-') => {
                negative = true;
                i += 1;
            }
            Some(b'+') => i += 1,
            _ => {}
        }
        let mut digits: Vec<u8> = Vec::new();
        let mut int_len: i64 = 0;
        let mut seen_digit = false;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i] - b'0');
            int_len += 1;
            seen_digit = true;
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                digits.push(bytes[i] - b'0');
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return None;
        }
        let mut exp: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_negative = false;
            match bytes.get(i) {
                Some(b'-') => {
                    exp_negative = true;
                    i += 1;
                }
                Some(b'+') => i += 1,
                _ => {}
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                exp = exp
                    .checked_mul(10)?
                    .checked_add(i64::from(bytes[i] - b'0'))?;
                if exp > 1_000_000_000 {
                    return None;
                }
                i += 1;
            }
            if start == i {
                return None;
            }
            if exp_negative {
                exp = -exp;
            }
        }
        if i != bytes.len() {
            return None;
        }
        // Strip leading zeros (each one lowers the integer length).
        let leading = digits.iter().take_while(|d| **d == 0).count();
        let leading_i64 = i64::try_from(leading).ok()?;
        digits.drain(..leading);
        let trailing = digits.iter().rev().take_while(|d| **d == 0).count();
        digits.truncate(digits.len() - trailing);
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exponent: int_len - leading_i64 + exp,
        })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        self.exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two decimal texts exactly; `None` when either is not a number.
pub(crate) fn compare_text(a: &str, b: &str) -> Option<Ordering> {
    Some(Decimal::parse(a)?.cmp(&Decimal::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare_text(a, b).expect("both numbers")
    }

    #[test]
    fn int_and_decimal_forms_are_equal() {
        assert_eq!(cmp("1", "1.0"), Ordering::Equal);
        assert_eq!(cmp("100", "1e2"), Ordering::Equal);
        assert_eq!(cmp("100", "1E+2"), Ordering::Equal);
        assert_eq!(cmp("0.5", ".5"), Ordering::Equal);
        assert_eq!(cmp("0", "-0.000"), Ordering::Equal);
        assert_eq!(cmp("007", "7"), Ordering::Equal);
        assert_eq!(cmp("12.3400", "12.34"), Ordering::Equal);
    }

    #[test]
    fn money_values_compare_exactly() {
        // 0.1 + 0.2 style values that f64 cannot represent exactly.
        assert_eq!(cmp("0.30000000000000004", "0.3"), Ordering::Greater);
        assert_eq!(
            cmp("12345678901234567890.01", "12345678901234567890.02"),
            Ordering::Less
        );
        assert_eq!(
            cmp(
                "99999999999999999999999999999.99",
                "99999999999999999999999999999.99"
            ),
            Ordering::Equal
        );
    }

    #[test]
    fn ordering_with_signs_and_magnitudes() {
        assert_eq!(cmp("-1", "1"), Ordering::Less);
        assert_eq!(cmp("-2", "-1"), Ordering::Less);
        assert_eq!(cmp("10", "9.99"), Ordering::Greater);
        assert_eq!(cmp("0.01", "0.1"), Ordering::Less);
        assert_eq!(cmp("0", "0.0001"), Ordering::Less);
        assert_eq!(cmp("-0.0001", "0"), Ordering::Less);
        assert_eq!(cmp("1.5e-3", "0.0015"), Ordering::Equal);
    }

    #[test]
    fn rejects_non_numbers() {
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse("1e").is_none());
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("1e99999999999").is_none());
    }
}
