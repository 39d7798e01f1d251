//! The Jayway JsonPath 2.x dialect used by DIGIT persister, indexer, MDMS and access-control
//! configs.
//!
//! A path is compiled once with [`JsonPath::parse`] and evaluated many times against
//! `serde_json` documents. Results follow Jayway's default configuration:
//!
//! * a **definite** path (only `.key`, `['key']`, `[n]`, and a leaf `['a','b']`) yields exactly
//!   one value or fails with [`JsonPathError::PathNotFound`] — a key present with `null` yields
//!   `null`, an absent key is an error;
//! * an **indefinite** path (`*`, `..`, filters, slices, `[a,b]`, non-leaf `['a','b']`) yields a
//!   list and silently skips branches where a key is missing.
//!
//! Supported syntax: `$` (paths without it are rooted), `.key`, `['key']`, `["key"]`, keys with
//! hyphens, `[n]`, `[-n]`, `[a,b]`, `[s:e]`, `[s:]`, `[:e]`, `[*]`, `.*` (object values and array
//! elements), `..` deep scan, multi-key projection `['id','url']` (yields objects holding those
//! keys), trailing `.length()`/`.size()`, and filters `[?(...)]` with `@`/`$` paths, `==`, `!=`,
//! `===`, `!==`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, parentheses, `in`, `nin`, `subsetof`,
//! `anyof`, `noneof`, `size`, `empty`, `contains`, `all` (word operators case-insensitive, so
//! `IN` works), `=~ /regex/flags`, string literals in `'…'` or `"…"`, numbers, `true`, `false`,
//! `null`, JSON array/object literals (json-smart permissive: single quotes and bare words
//! allowed), literal-on-left membership (`[?("abc" in @.documents[*].id)]`) and existence
//! checks (`[?(@.key)]`, `[?(!@.key)]`).
//!
//! Numbers are compared as exact decimals (text of `serde_json`'s arbitrary-precision numbers),
//! never through `f64`, so money-like values compare exactly for `==` and for ordering.
//!
//! Known, deliberate differences from Jayway (all in corner cases no DIGIT config relies on):
//! `&&` binds tighter than `||` and `!` negates any sub-expression (as in Jayway ≥ 2.4);
//! slices with negative bounds are resolved against the array length on both ends; `..[n].x`
//! applies `[n]` (Jayway applies `.x` to every element); a wildcard over a scalar in an already
//! indefinite path is skipped instead of throwing; string/number equality is decided per
//! Jayway's `equals` except that exponent spellings are not re-rendered BigDecimal-style;
//! keys in normalized paths escape `'` and `\`.

mod error;
mod eval;
mod filter;
mod location;
mod number;
mod parser;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

pub use error::JsonPathError;
pub use eval::Match;
pub use location::{Location, PathStep};

/// A compiled JSONPath expression.
#[derive(Debug, Clone)]
pub struct JsonPath {
    source: String,
    compiled: parser::Compiled,
}

impl JsonPath {
    /// Compiles `path`. Fails with [`JsonPathError::Parse`] on invalid syntax.
    pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
        Ok(JsonPath {
            source: path.to_string(),
            compiled: parser::compile(path)?,
        })
    }

    /// The expression as given to [`JsonPath::parse`].
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the path can yield at most one value (Jayway `isDefinite`).
    pub fn is_definite(&self) -> bool {
        self.compiled.definite
    }

    /// Evaluates the path. A definite path yields exactly one value or
    /// [`JsonPathError::PathNotFound`]; an indefinite path yields every match (possibly none).
    pub fn read<'a>(&self, root: &'a Value) -> Result<Vec<Cow<'a, Value>>, JsonPathError> {
        Ok(self
            .evaluate(root, false)?
            .into_iter()
            .map(|m| m.value)
            .collect())
    }

    /// Like [`JsonPath::read`], with the concrete location of every match
    /// (e.g. `$['a'][0]['b']`), in document order of evaluation.
    pub fn read_with_paths<'a>(&self, root: &'a Value) -> Result<Vec<Match<'a>>, JsonPathError> {
        self.evaluate(root, true)
    }

    /// Jayway's `JsonPath.read` shape: the single value of a definite path, or a JSON array of
    /// all matches of an indefinite one.
    pub fn read_value(&self, root: &Value) -> Result<Value, JsonPathError> {
        let found = self.evaluate(root, false)?;
        if self.compiled.definite {
            Ok(found
                .into_iter()
                .next()
                .map(|m| m.value.into_owned())
                .unwrap_or(Value::Null))
        } else {
            Ok(Value::Array(
                found.into_iter().map(|m| m.value.into_owned()).collect(),
            ))
        }
    }

    /// The first match, or `None` when nothing matches (including a missing key on a definite
    /// path). Other evaluation errors are still returned.
    pub fn read_first<'a>(&self, root: &'a Value) -> Result<Option<Cow<'a, Value>>, JsonPathError> {
        match self.evaluate(root, false) {
            Ok(found) => Ok(found.into_iter().next().map(|m| m.value)),
            Err(e) if e.is_path_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn evaluate<'a>(&self, root: &'a Value, track: bool) -> Result<Vec<Match<'a>>, JsonPathError> {
        let ev = eval::Evaluator {
            doc: root,
            require: false,
        };
        let found = ev.run(&self.compiled, root, track)?;
        if self.compiled.definite && found.is_empty() {
            return Err(JsonPathError::PathNotFound(format!(
                "No results for path: {}",
                self.compiled
            )));
        }
        Ok(found)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for JsonPath {
    type Err = JsonPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JsonPath::parse(s)
    }
}

#[cfg(test)]
mod tests;
