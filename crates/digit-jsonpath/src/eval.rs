//! Evaluation of compiled paths with Jayway's definite/indefinite rules.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::error::JsonPathError;
use crate::filter;
use crate::location::{Location, PathStep};
use crate::parser::{escape_key, Compiled, Function, RootKind, Token};

/// One result of an evaluation: the value and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    /// Concrete location of the value in the document (empty unless paths were requested).
    pub location: Location,
    /// The value: borrowed from the document, or owned for synthesized results
    /// (multi-key projections `['id','url']` and `length()`).
    pub value: Cow<'a, Value>,
}

/// A step of the location currently being walked; borrows keys from the path or document.
#[derive(Debug, Clone, Copy)]
enum Step<'s> {
    Key(&'s str),
    Index(usize),
    Keys(&'s [String]),
}

struct State<'a, 's> {
    out: Vec<Match<'a>>,
    loc: Vec<Step<'s>>,
    track: bool,
}

impl State<'_, '_> {
    /// Jayway-style rendering of the current location (`$['a'][0]`), for messages.
    fn loc_string(&self) -> String {
        let mut s = String::from("$");
        for step in &self.loc {
            match step {
                Step::Key(k) => {
                    let _ = write!(s, "['{}']", escape_key(k));
                }
                Step::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
                Step::Keys(keys) => {
                    s.push('[');
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            s.push_str(", ");
                        }
                        let _ = write!(s, "'{}'", escape_key(k));
                    }
                    s.push(']');
                }
            }
        }
        s
    }

    fn location(&self) -> Location {
        if !self.track {
            return Location::default();
        }
        Location::from_steps(
            self.loc
                .iter()
                .map(|s| match s {
                    Step::Key(k) => PathStep::Key((*k).to_string()),
                    Step::Index(i) => PathStep::Index(*i),
                    Step::Keys(keys) => PathStep::Keys(keys.to_vec()),
                })
                .collect(),
        )
    }
}

/// Evaluates paths against one document (`doc` is what `$` means inside filters).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evaluator<'a> {
    pub(crate) doc: &'a Value,
    /// Jayway's `REQUIRE_PROPERTIES`: a missing property is an error even on indefinite paths
    /// (used for existence checks in filters).
    pub(crate) require: bool,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl<'a> Evaluator<'a> {
    /// Runs `path` from its root (`$` → `doc`, `@` → `current`).
    pub(crate) fn run<'s>(
        &self,
        path: &'s Compiled,
        current: &'a Value,
        track: bool,
    ) -> Result<Vec<Match<'a>>, JsonPathError>
    where
        'a: 's,
    {
        let start = match path.root {
            RootKind::Document => self.doc,
            RootKind::Current => current,
        };
        let mut st = State {
            out: Vec::new(),
            loc: Vec::new(),
            track,
        };
        self.step(path, 0, start, &mut st)?;
        Ok(st.out)
    }

    fn record<'s>(&self, st: &mut State<'a, 's>, value: Cow<'a, Value>) {
        let location = st.location();
        st.out.push(Match { location, value });
    }

    fn step<'s>(
        &self,
        p: &'s Compiled,
        i: usize,
        node: &'a Value,
        st: &mut State<'a, 's>,
    ) -> Result<(), JsonPathError>
    where
        'a: 's,
    {
        let Some(token) = p.tokens.get(i) else {
            self.record(st, Cow::Borrowed(node));
            return Ok(());
        };
        let leaf = i + 1 == p.tokens.len();
        let upstream_definite = p.upstream_definite[i];
        match token {
            Token::Property(names) => {
                let Value::Object(obj) = node else {
                    if !upstream_definite {
                        return Ok(());
                    }
                    return Err(JsonPathError::PathNotFound(format!(
                        "Expected to find an object with property {} in path {} but found '{}'. \
                         This is not a json object.",
                        fragment(names),
                        st.loc_string(),
                        type_name(node)
                    )));
                };
                if names.len() > 1 && leaf {
                    return self.merge(obj, names, st);
                }
                let token_definite = p.token_definite[i];
                for name in names {
                    self.property(
                        p,
                        i,
                        obj,
                        name,
                        leaf,
                        upstream_definite && token_definite,
                        st,
                    )?;
                }
                Ok(())
            }
            Token::Wildcard => match node {
                Value::Object(obj) => {
                    for (k, v) in obj {
                        st.loc.push(Step::Key(k));
                        let r = self.step(p, i + 1, v, st);
                        st.loc.pop();
                        r?;
                    }
                    Ok(())
                }
                Value::Array(items) => {
                    for (idx, v) in items.iter().enumerate() {
                        st.loc.push(Step::Index(idx));
                        let r = self.step(p, i + 1, v, st);
                        st.loc.pop();
                        match r {
                            Err(e) if e.is_path_not_found() && !self.require => {}
                            other => other?,
                        }
                    }
                    Ok(())
                }
                _ if !leaf && upstream_definite => Err(JsonPathError::PathNotFound(format!(
                    "Expected to find an object or array in path {} but found '{}'.",
                    st.loc_string(),
                    type_name(node)
                ))),
                _ => Ok(()),
            },
            Token::Scan => self.scan(p, i, node, st),
            Token::Index(list) => {
                let Some(items) = self.array_model(node, upstream_definite, token, st)? else {
                    return Ok(());
                };
                for n in list {
                    if let Some(idx) = resolve_index(*n, items.len()) {
                        st.loc.push(Step::Index(idx));
                        let r = self.step(p, i + 1, &items[idx], st);
                        st.loc.pop();
                        r?;
                    }
                }
                Ok(())
            }
            Token::Slice { from, to } => {
                let Some(items) = self.array_model(node, upstream_definite, token, st)? else {
                    return Ok(());
                };
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let clamp = |n: i64| -> usize {
                    let n = if n < 0 { len + n } else { n };
                    usize::try_from(n.clamp(0, len)).unwrap_or(0)
                };
                let start = from.map_or(0, clamp);
                let end = to.map_or(items.len(), clamp);
                let window = items.get(start..end.max(start)).unwrap_or_default();
                for (offset, v) in window.iter().enumerate() {
                    st.loc.push(Step::Index(start + offset));
                    let r = self.step(p, i + 1, v, st);
                    st.loc.pop();
                    r?;
                }
                Ok(())
            }
            Token::Filter(expr) => match node {
                Value::Object(_) => {
                    if filter::accept(self, expr, node) {
                        self.step(p, i + 1, node, st)?;
                    }
                    Ok(())
                }
                Value::Array(items) => {
                    for (idx, v) in items.iter().enumerate() {
                        if filter::accept(self, expr, v) {
                            st.loc.push(Step::Index(idx));
                            let r = self.step(p, i + 1, v, st);
                            st.loc.pop();
                            r?;
                        }
                    }
                    Ok(())
                }
                _ if upstream_definite => Err(JsonPathError::InvalidPath(format!(
                    "Filter: [?] can not be applied to primitives. Current context is: {node}"
                ))),
                _ => Ok(()),
            },
            Token::Function(Function::Length) => {
                let n = match node {
                    Value::Array(a) => a.len(),
                    Value::Object(o) => o.len(),
                    Value::String(s) => s.encode_utf16().count(),
                    other => {
                        return Err(JsonPathError::InvalidPath(format!(
                            "length() cannot be applied to a {} at {}",
                            type_name(other),
                            st.loc_string()
                        )))
                    }
                };
                self.record(st, Cow::Owned(Value::from(n)));
                Ok(())
            }
        }
    }

    /// One property of an object, with Jayway's missing-property rules.
    #[allow(clippy::too_many_arguments)]
    fn property<'s>(
        &self,
        p: &'s Compiled,
        i: usize,
        obj: &'a Map<String, Value>,
        name: &'s str,
        leaf: bool,
        definite_so_far: bool,
        st: &mut State<'a, 's>,
    ) -> Result<(), JsonPathError>
    where
        'a: 's,
    {
        match obj.get(name) {
            Some(v) => {
                st.loc.push(Step::Key(name));
                let r = self.step(p, i + 1, v, st);
                st.loc.pop();
                r
            }
            None if leaf => {
                if self.require {
                    Err(JsonPathError::PathNotFound(format!(
                        "No results for path: {}['{}']",
                        st.loc_string(),
                        escape_key(name)
                    )))
                } else {
                    Ok(())
                }
            }
            None => {
                if !definite_so_far && !self.require {
                    Ok(())
                } else {
                    Err(JsonPathError::PathNotFound(format!(
                        "Missing property in path {}['{}']",
                        st.loc_string(),
                        escape_key(name)
                    )))
                }
            }
        }
    }

    /// Leaf `['a','b']`: an object holding the listed keys that exist.
    fn merge<'s>(
        &self,
        obj: &'a Map<String, Value>,
        names: &'s [String],
        st: &mut State<'a, 's>,
    ) -> Result<(), JsonPathError>
    where
        'a: 's,
    {
        let mut merged = Map::new();
        for name in names {
            match obj.get(name) {
                Some(v) => {
                    merged.insert(name.clone(), v.clone());
                }
                None if self.require => {
                    return Err(JsonPathError::PathNotFound(format!(
                        "Missing property in path {}{}",
                        st.loc_string(),
                        fragment(names)
                    )))
                }
                None => {}
            }
        }
        st.loc.push(Step::Keys(names));
        self.record(st, Cow::Owned(Value::Object(merged)));
        st.loc.pop();
        Ok(())
    }

    /// Checks that an index/slice applies; `Ok(None)` means "skip silently".
    fn array_model<'v, 's>(
        &self,
        node: &'v Value,
        upstream_definite: bool,
        token: &Token,
        st: &State<'a, 's>,
    ) -> Result<Option<&'v Vec<Value>>, JsonPathError> {
        match node {
            Value::Array(items) => Ok(Some(items)),
            _ if !upstream_definite => Ok(None),
            Value::Null => Err(JsonPathError::PathNotFound(format!(
                "The path {} is null",
                st.loc_string()
            ))),
            other => Err(JsonPathError::PathNotFound(format!(
                "Filter: {} can only be applied to arrays. Current context is: {}",
                token_fragment(token),
                other
            ))),
        }
    }

    /// `..`: visits the node and all descendants (objects and arrays, pre-order) and applies
    /// the next token wherever it can apply, as Jayway's scan predicates decide.
    fn scan<'s>(
        &self,
        p: &'s Compiled,
        i: usize,
        node: &'a Value,
        st: &mut State<'a, 's>,
    ) -> Result<(), JsonPathError>
    where
        'a: 's,
    {
        let Some(next) = p.tokens.get(i + 1) else {
            return Ok(());
        };
        let applies = match (next, node) {
            (Token::Property(names), Value::Object(obj)) => {
                !p.token_definite[i + 1] || names.iter().all(|n| obj.contains_key(n))
            }
            (Token::Property(_), _) => false,
            (Token::Index(_) | Token::Slice { .. }, v) => v.is_array(),
            (Token::Wildcard, v) => v.is_array() || v.is_object(),
            (Token::Filter(expr), v @ (Value::Object(_) | Value::Array(_))) => {
                filter::accept(self, expr, v)
            }
            _ => false,
        };
        if applies {
            match self.step(p, i + 1, node, st) {
                Err(e) if e.is_path_not_found() && !self.require => {}
                other => other?,
            }
        }
        match node {
            Value::Object(obj) => {
                for (k, v) in obj {
                    st.loc.push(Step::Key(k));
                    let r = self.scan(p, i, v, st);
                    st.loc.pop();
                    r?;
                }
            }
            Value::Array(items) => {
                for (idx, v) in items.iter().enumerate() {
                    st.loc.push(Step::Index(idx));
                    let r = self.scan(p, i, v, st);
                    st.loc.pop();
                    r?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn resolve_index(n: i64, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).ok()?;
    let idx = if n < 0 { len_i + n } else { n };
    if (0..len_i).contains(&idx) {
        usize::try_from(idx).ok()
    } else {
        None
    }
}

fn fragment(names: &[String]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("'{}'", escape_key(n)))
        .collect();
    format!("[{}]", quoted.join(","))
}

fn token_fragment(t: &Token) -> String {
    match t {
        Token::Index(list) => {
            let l: Vec<String> = list.iter().map(i64::to_string).collect();
            format!("[{}]", l.join(","))
        }
        Token::Slice { from, to } => format!(
            "[{}:{}]",
            from.map(|n| n.to_string()).unwrap_or_default(),
            to.map(|n| n.to_string()).unwrap_or_default()
        ),
        _ => String::new(),
    }
}
