//! Mapping versions (§2.6): jsemver-style range expressions and the request version.
//!
//! A mapping applies to a message when the message's request version
//! ([`request_version`], from `$.RequestInfo.ver`) satisfies the mapping's `version`
//! expression ([`VersionRange`]). Grammar (jsemver's expression language, plus a few
//! npm-style conveniences marked *ext*):
//!
//! | form | meaning |
//! |---|---|
//! | `1` | `>=1.0.0 <2.0.0` (partial major) |
//! | `1.0` | `>=1.0.0 <1.1.0` (partial minor — what almost every DIGIT config says) |
//! | `1.0.0` | exactly `1.0.0` |
//! | `=V` `!=V` `>V` `>=V` `<V` `<=V` | comparison; a partial `V` is zero-filled (`>=1` ≡ `>=1.0.0`) |
//! | `~1.2.3` / `~1.2` / `~1` | `>=1.2.3 <1.3.0` / `>=1.2.0 <1.3.0` / `>=1.0.0 <2.0.0` |
//! | `^1.2.3` / `^0.2.3` / `^0.0.3` | `>=1.2.3 <2.0.0` / `>=0.2.3 <0.3.0` / `>=0.0.3 <0.0.4` |
//! | `*`, `x`, `X`, `1.x`, `1.2.*` | wildcards: anything / `1.x.x` / `1.2.x` |
//! | `V1 - V2` | `>=V1 <=V2` (hyphen range, partials zero-filled) |
//! | `A & B`, `A , B` (*ext*), `A B` (*ext*, npm-style) | both |
//! | `A \| B`, `A \|\| B` (*ext*) | either |
//! | `!(A)`, `(A)` | negation, grouping |
//!
//! As in jsemver, `&` and `|` have no relative precedence: a chain is grouped to the right
//! (`A & B | C` ≡ `A & (B | C)`); use parentheses for anything else. Versions inside an
//! expression are numeric only (no pre-release or build parts). Comparisons use semver 2.0
//! precedence (build metadata ignored). A YAML number such as `version: 1.0` reaches this
//! parser as the text `1.0`.

use std::cmp::Ordering;
use std::fmt;

use semver::Version;
use serde_json::Value;

/// The version assumed when a message carries none (upstream `default.version`).
pub const DEFAULT_VERSION: Version = Version::new(1, 0, 0);

/// A mapping's `version` expression, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    source: String,
    expr: Expr,
}

/// Why a version expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version expression {expression:?}: {reason}")]
pub struct VersionError {
    /// The expression as written.
    pub expression: String,
    /// What was wrong.
    pub reason: String,
}

impl VersionRange {
    /// Parses a range expression (grammar in the module documentation).
    pub fn parse(expression: &str) -> Result<VersionRange, VersionError> {
        let fail = |reason: String| VersionError {
            expression: expression.to_string(),
            reason,
        };
        let tokens = lex(expression).map_err(fail)?;
        let mut parser = Parser { tokens, pos: 0 };
        let expr = parser.expression().map_err(fail)?;
        if let Some(tok) = parser.peek() {
            return Err(fail(format!("unexpected {tok} after the expression")));
        }
        Ok(VersionRange {
            source: expression.to_string(),
            expr,
        })
    }

    /// A range that every version satisfies (used for mappings without a `version`).
    pub fn any() -> VersionRange {
        VersionRange {
            source: "*".to_string(),
            expr: Expr::Any,
        }
    }

    /// The expression as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when `version` satisfies the expression.
    pub fn matches(&self, version: &Version) -> bool {
        self.expr.eval(version)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// The request version of a message: `$.RequestInfo.ver` parsed as a strict semver 2.0
/// version. Absent, `null`, empty, non-string or invalid (the DIGIT UI sends `.01`) →
/// `default`.
pub fn request_version(message: &Value, default: &Version) -> Version {
    message
        .get("RequestInfo")
        .and_then(|ri| ri.get("ver"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .and_then(|s| Version::parse(s).ok())
        .unwrap_or_else(|| default.clone())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Any,
    Cmp(Op, Version),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Expr {
    fn eval(&self, v: &Version) -> bool {
        match self {
            Expr::Any => true,
            Expr::Cmp(op, bound) => {
                let ord = v.cmp_precedence(bound);
                match op {
                    Op::Eq => ord == Ordering::Equal,
                    Op::Ne => ord != Ordering::Equal,
                    Op::Gt => ord == Ordering::Greater,
                    Op::Ge => ord != Ordering::Less,
                    Op::Lt => ord == Ordering::Less,
                    Op::Le => ord != Ordering::Greater,
                }
            }
            Expr::And(a, b) => a.eval(v) && b.eval(v),
            Expr::Or(a, b) => a.eval(v) || b.eval(v),
            Expr::Not(a) => !a.eval(v),
        }
    }

    fn range(lo: Version, hi: Version) -> Expr {
        Expr::And(
            Box::new(Expr::Cmp(Op::Ge, lo)),
            Box::new(Expr::Cmp(Op::Lt, hi)),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Num(u64),
    Dot,
    Hyphen,
    Op(Op),
    Tilde,
    Caret,
    Wildcard,
    And,
    Or,
    Not,
    LParen,
    RParen,
    /// Whitespace between two ranges (npm-style implicit AND); dropped elsewhere.
    Space,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(n) => write!(f, "number {n}"),
            Tok::Dot => f.write_str("'.'"),
            Tok::Hyphen => f.write_str("'-'"),
            Tok::Op(op) => write!(f, "operator {op:?}"),
            Tok::Tilde => f.write_str("'~'"),
            Tok::Caret => f.write_str("'^'"),
            Tok::Wildcard => f.write_str("wildcard"),
            Tok::And => f.write_str("'&'"),
            Tok::Or => f.write_str("'|'"),
            Tok::Not => f.write_str("'!'"),
            Tok::LParen => f.write_str("'('"),
            Tok::RParen => f.write_str("')'"),
            Tok::Space => f.write_str("whitespace"),
        }
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => {
                while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                    i += 1;
                }
                out.push(Tok::Space);
                continue;
            }
            '0'..='9' => {
                let start = i;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<u64>()
                    .map_err(|_| format!("number {text} is too large"))?;
                out.push(Tok::Num(n));
                continue;
            }
            '.' => out.push(Tok::Dot),
            '-' => out.push(Tok::Hyphen),
            '~' => out.push(Tok::Tilde),
            '^' => out.push(Tok::Caret),
            '*' | 'x' | 'X' => out.push(Tok::Wildcard),
            '&' => {
                if next == Some('&') {
                    i += 1;
                }
                out.push(Tok::And);
            }
            ',' => out.push(Tok::And),
            '|' => {
                if next == Some('|') {
                    i += 1;
                }
                out.push(Tok::Or);
            }
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            '=' => out.push(Tok::Op(Op::Eq)),
            '!' if next == Some('=') => {
                i += 1;
                out.push(Tok::Op(Op::Ne));
            }
            '!' => out.push(Tok::Not),
            '>' | '<' => {
                let or_equal = next == Some('=');
                if or_equal {
                    i += 1;
                }
                out.push(Tok::Op(match (c, or_equal) {
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('<', false) => Op::Lt,
                    _ => Op::Le,
                }));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
        i += 1;
    }
    // Whitespace only matters between two ranges: drop it at the ends and next to
    // operators, parentheses, dots and hyphens-with-spaces (hyphen ranges are `A - B`).
    let mut cleaned: Vec<Tok> = Vec::with_capacity(out.len());
    for (idx, tok) in out.iter().enumerate() {
        if *tok != Tok::Space {
            cleaned.push(tok.clone());
            continue;
        }
        let before = cleaned.last();
        let after = out[idx + 1..].iter().find(|t| **t != Tok::Space);
        let ends_range = matches!(before, Some(Tok::Num(_) | Tok::Wildcard | Tok::RParen));
        let starts_range = matches!(
            after,
            Some(
                Tok::Num(_)
                    | Tok::Wildcard
                    | Tok::Op(_)
                    | Tok::Tilde
                    | Tok::Caret
                    | Tok::Not
                    | Tok::LParen
            )
        );
        if ends_range && starts_range {
            cleaned.push(Tok::Space);
        }
    }
    Ok(cleaned)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

/// A version as written in an expression: missing or wildcard parts are `None`.
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
}

impl Partial {
    fn zero_filled(&self) -> Version {
        Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        )
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Tok) -> Result<(), String> {
        match self.bump() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(format!("expected {want}, found {t}")),
            None => Err(format!("expected {want}, found the end")),
        }
    }

    /// `term ( (&|,|space) expression | (|) expression )?` — right-grouped like jsemver.
    fn expression(&mut self) -> Result<Expr, String> {
        let left = self.term()?;
        match self.peek() {
            Some(Tok::And | Tok::Space) => {
                self.pos += 1;
                Ok(Expr::And(Box::new(left), Box::new(self.expression()?)))
            }
            Some(Tok::Or) => {
                self.pos += 1;
                Ok(Expr::Or(Box::new(left), Box::new(self.expression()?)))
            }
            _ => Ok(left),
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                self.expect(Tok::LParen)?;
                let inner = self.expression()?;
                self.expect(Tok::RParen)?;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.expression()?;
                self.expect(Tok::RParen)?;
                Ok(inner)
            }
            Some(Tok::Op(op)) => {
                let op = *op;
                self.pos += 1;
                let v = self.version(false)?;
                Ok(Expr::Cmp(op, v.zero_filled()))
            }
            Some(Tok::Tilde) => {
                self.pos += 1;
                let v = self.version(false)?;
                let lo = v.zero_filled();
                let hi = match (v.minor, v.patch) {
                    (None, _) => Version::new(lo.major + 1, 0, 0),
                    _ => Version::new(lo.major, lo.minor + 1, 0),
                };
                Ok(Expr::range(lo, hi))
            }
            Some(Tok::Caret) => {
                self.pos += 1;
                let v = self.version(false)?;
                let lo = v.zero_filled();
                let hi = if lo.major > 0 || v.minor.is_none() {
                    Version::new(lo.major + 1, 0, 0)
                } else if lo.minor > 0 || v.patch.is_none() {
                    Version::new(0, lo.minor + 1, 0)
                } else {
                    Version::new(0, 0, lo.patch + 1)
                };
                Ok(Expr::range(lo, hi))
            }
            Some(Tok::Num(_) | Tok::Wildcard) => {
                let v = self.version(true)?;
                if self.peek() == Some(&Tok::Hyphen) {
                    self.pos += 1;
                    let hi = self.version(false)?;
                    return Ok(Expr::And(
                        Box::new(Expr::Cmp(Op::Ge, v.zero_filled())),
                        Box::new(Expr::Cmp(Op::Le, hi.zero_filled())),
                    ));
                }
                Ok(match (v.major, v.minor, v.patch) {
                    (None, _, _) => Expr::Any,
                    (Some(ma), None, _) => {
                        Expr::range(Version::new(ma, 0, 0), Version::new(ma + 1, 0, 0))
                    }
                    (Some(ma), Some(mi), None) => {
                        Expr::range(Version::new(ma, mi, 0), Version::new(ma, mi + 1, 0))
                    }
                    (Some(ma), Some(mi), Some(pa)) => Expr::Cmp(Op::Eq, Version::new(ma, mi, pa)),
                })
            }
            Some(t) => Err(format!("unexpected {t}")),
            None => Err("empty expression".to_string()),
        }
    }

    /// `major(.minor(.patch)?)?`, with wildcards allowed only when `wildcards` is set.
    fn version(&mut self, wildcards: bool) -> Result<Partial, String> {
        let mut parts: Vec<Option<u64>> = Vec::with_capacity(3);
        loop {
            match self.bump() {
                Some(Tok::Num(n)) => parts.push(Some(n)),
                Some(Tok::Wildcard) if wildcards => parts.push(None),
                Some(t) => return Err(format!("expected a version number, found {t}")),
                None => return Err("expected a version number, found the end".to_string()),
            }
            if parts.len() == 3 || self.peek() != Some(&Tok::Dot) {
                break;
            }
            self.pos += 1;
        }
        // Anything after a wildcard must be a wildcard too (`1.*.3` is meaningless).
        if let Some(first_wild) = parts.iter().position(Option::is_none) {
            if parts[first_wild..].iter().any(Option::is_some) {
                return Err("a number cannot follow a wildcard".to_string());
            }
        }
        Ok(Partial {
            major: parts.first().copied().flatten(),
            minor: parts.get(1).copied().flatten(),
            patch: parts.get(2).copied().flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn sat(range: &str, version: &str) -> bool {
        VersionRange::parse(range).unwrap().matches(&v(version))
    }

    #[test]
    fn partial_versions_are_ranges() {
        assert!(sat("1.0", "1.0.0"));
        assert!(sat("1.0", "1.0.9"));
        assert!(!sat("1.0", "1.1.0"));
        assert!(!sat("1.0", "0.9.9"));
        assert!(sat("1", "1.9.0"));
        assert!(!sat("1", "2.0.0"));
        assert!(sat("1.0.0", "1.0.0"));
        assert!(!sat("1.0.0", "1.0.1"));
        assert!(!sat("1.0", "1.0.0-rc.1"));
    }

    #[test]
    fn comparison_operators() {
        assert!(sat(">=1.0.0", "1.0.0"));
        assert!(sat(">1.0.0", "1.0.1"));
        assert!(!sat(">1.0.0", "1.0.0"));
        assert!(sat("<2", "1.99.0"));
        assert!(sat("<=2.0.0", "2.0.0"));
        assert!(sat("=1.2.3", "1.2.3"));
        assert!(sat("!=1.2.3", "1.2.4"));
        assert!(!sat("!=1.2.3", "1.2.3"));
        assert!(sat(">= 1.0", "1.0.0"));
    }

    #[test]
    fn tilde_caret_and_wildcards() {
        assert!(sat("~1.2.3", "1.2.9"));
        assert!(!sat("~1.2.3", "1.3.0"));
        assert!(sat("~1", "1.5.0"));
        assert!(sat("^1.2.3", "1.9.0"));
        assert!(!sat("^1.2.3", "2.0.0"));
        assert!(sat("^0.2.3", "0.2.9"));
        assert!(!sat("^0.2.3", "0.3.0"));
        assert!(sat("^0.0.3", "0.0.3"));
        assert!(!sat("^0.0.3", "0.0.4"));
        assert!(sat("*", "7.0.0"));
        assert!(sat("x", "0.0.1"));
        assert!(sat("1.x", "1.4.0"));
        assert!(!sat("1.x", "2.0.0"));
        assert!(sat("1.2.*", "1.2.7"));
        assert!(!sat("1.2.X", "1.3.0"));
    }

    #[test]
    fn boolean_combinations() {
        assert!(sat(">=1.0.0 & <2.0.0", "1.5.0"));
        assert!(!sat(">=1.0.0 & <2.0.0", "2.0.0"));
        assert!(sat(">=1.0.0, <2.0.0", "1.5.0"));
        assert!(sat(">=1.0.0 <2.0.0", "1.5.0"));
        assert!(!sat(">=1.0.0 <2.0.0", "2.5.0"));
        assert!(sat("1.0 | 2.0", "2.0.3"));
        assert!(sat("1.0 || 2.0", "1.0.3"));
        assert!(!sat("1.0 || 2.0", "3.0.0"));
        assert!(sat("!(1.0)", "1.1.0"));
        assert!(!sat("!(1.0)", "1.0.1"));
        assert!(sat("(1.0 | 3.0) & !(=1.0.1)", "1.0.0"));
        assert!(!sat("(1.0 | 3.0) & !(=1.0.1)", "1.0.1"));
        assert!(sat("1.0.0 - 2.0.0", "2.0.0"));
        assert!(!sat("1.0.0 - 2.0.0", "2.0.1"));
        // jsemver groups to the right: A & B | C = A & (B | C).
        assert!(!sat(">=2.0.0 & <1.0.0 | >=0.0.0", "1.5.0"));
    }

    #[test]
    fn rejects_invalid_expressions() {
        for bad in [
            "", "abc", "1.", ">=", "1.*.3", "(1.0", "1.0)", ">=1.x", "1 & ",
        ] {
            assert!(VersionRange::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn request_version_defaults() {
        let d = DEFAULT_VERSION;
        assert_eq!(
            request_version(&json!({"RequestInfo": {"ver": "2.1.0"}}), &d),
            v("2.1.0")
        );
        for msg in [
            json!({}),
            json!({"RequestInfo": null}),
            json!({"RequestInfo": {}}),
            json!({"RequestInfo": {"ver": null}}),
            json!({"RequestInfo": {"ver": ""}}),
            json!({"RequestInfo": {"ver": ".01"}}),
            json!({"RequestInfo": {"ver": "1.0"}}),
            json!({"RequestInfo": {"ver": 2}}),
        ] {
            assert_eq!(request_version(&msg, &d), v("1.0.0"), "{msg}");
        }
    }
}
