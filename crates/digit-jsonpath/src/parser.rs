//! Compiles a JSONPath string (Jayway dialect) into tokens and filter expressions.

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Number, Value};

use crate::error::JsonPathError;
use crate::number::Decimal;

/// How deeply parentheses, negations, nested filters and JSON literals may nest.
const MAX_DEPTH: usize = 64;
/// Upper bound on a compiled `=~` pattern (bytes of the regex program).
const MAX_REGEX_SIZE: usize = 1 << 20;

/// Where a path starts: the document (`$`) or the current filter item (`@`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootKind {
    Document,
    Current,
}

/// Functions allowed as the last path element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    /// `length()` / `size()`: element count of an array or object, length of a string.
    Length,
}

/// One path element.
#[derive(Debug, Clone)]
pub(crate) enum Token {
    /// `.name`, `['name']`, `['a','b']`.
    Property(Vec<String>),
    /// `.*` / `[*]`.
    Wildcard,
    /// `..` (deep scan); always followed by another token.
    Scan,
    /// `[n]`, `[-1]`, `[a,b]`.
    Index(Vec<i64>),
    /// `[s:e]`, `[s:]`, `[:e]`.
    Slice { from: Option<i64>, to: Option<i64> },
    /// `[?(...)]`.
    Filter(Box<Expr>),
    /// `.length()`.
    Function(Function),
}

/// A compiled path: its root and tokens with precomputed definiteness.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) root: RootKind,
    pub(crate) tokens: Vec<Token>,
    /// `token_definite[i]`: token `i` yields at most one value.
    pub(crate) token_definite: Vec<bool>,
    /// `upstream_definite[i]`: every token before `i` is definite.
    pub(crate) upstream_definite: Vec<bool>,
    /// Every token is definite.
    pub(crate) definite: bool,
}

impl Compiled {
    fn new(root: RootKind, tokens: Vec<Token>) -> Compiled {
        let last = tokens.len().saturating_sub(1);
        let token_definite: Vec<bool> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                Token::Property(names) => names.len() == 1 || i == last,
                Token::Index(list) => list.len() == 1,
                Token::Function(_) => true,
                Token::Wildcard | Token::Scan | Token::Slice { .. } | Token::Filter(_) => false,
            })
            .collect();
        let mut upstream_definite = Vec::with_capacity(tokens.len());
        let mut all = true;
        for d in &token_definite {
            upstream_definite.push(all);
            all = all && *d;
        }
        Compiled {
            root,
            tokens,
            token_definite,
            upstream_definite,
            definite: all,
        }
    }
}

impl fmt::Display for Compiled {
    /// Jayway's canonical rendering (`$['a'][*]['b']`), used in error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.root {
            RootKind::Document => "$",
            RootKind::Current => "@",
        })?;
        for t in &self.tokens {
            match t {
                Token::Property(names) => {
                    f.write_str("[")?;
                    for (i, n) in names.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "'{}'", escape_key(n))?;
                    }
                    f.write_str("]")?;
                }
                Token::Wildcard => f.write_str("[*]")?,
                Token::Scan => f.write_str("..")?,
                Token::Index(list) => {
                    f.write_str("[")?;
                    for (i, n) in list.iter().enumerate() {
                        if i > 0 {
                            f.write_str(",")?;
                        }
                        write!(f, "{n}")?;
                    }
                    f.write_str("]")?;
                }
                Token::Slice { from, to } => {
                    f.write_str("[")?;
                    if let Some(s) = from {
                        write!(f, "{s}")?;
                    }
                    f.write_str(":")?;
                    if let Some(e) = to {
                        write!(f, "{e}")?;
                    }
                    f.write_str("]")?;
                }
                Token::Filter(_) => f.write_str("[?]")?,
                Token::Function(Function::Length) => f.write_str(".length()")?,
            }
        }
        Ok(())
    }
}

/// Escapes `\` and `'` so a key can sit inside `['…']`.
pub(crate) fn escape_key(key: &str) -> String {
    key.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Filter expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    /// `[?(@.key)]`: the path resolves (with Jayway's REQUIRE_PROPERTIES).
    Exists(Box<Compiled>),
    Compare {
        left: Operand,
        op: RelOp,
        right: Operand,
    },
}

/// A side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Path(Box<Compiled>),
    Literal(Value),
    Pattern(Box<Pattern>),
}

/// A `/regex/flags` literal; matched against the whole input like Java's `Matcher.matches()`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) source: String,
    pub(crate) regex: Regex,
}

/// Relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
    Contains,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The whole input is one path.
    Top,
    /// A path inside a filter: it ends where a path character cannot follow.
    Filter,
}

/// Compiles `src`. A path not starting with `$` or `@` is rooted (`a.b` → `$.a.b`,
/// `[0]` → `$[0]`).
pub(crate) fn compile(src: &str) -> Result<Compiled, JsonPathError> {
    let trimmed = src.trim();
    if trimmed.is_empty() {
        return Err(JsonPathError::Parse {
            path: src.to_string(),
            position: 0,
            reason: "path must not be empty".into(),
        });
    }
    let (text, offset) = if trimmed.starts_with('$') || trimmed.starts_with('@') {
        (trimmed.to_string(), 0usize)
    } else if trimmed.starts_with('[') {
        (format!("${trimmed}"), 1)
    } else {
        (format!("$.{trimmed}"), 2)
    };
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
        src,
        offset,
    };
    let compiled = p.path(Mode::Top)?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        return Err(p.err(format!("unexpected character {c:?}")));
    }
    Ok(compiled)
}

struct Parser<'s> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    src: &'s str,
    /// Characters prepended to the source (`$` or `$.`), subtracted from reported positions.
    offset: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> JsonPathError {
        JsonPathError::Parse {
            path: self.src.to_string(),
            position: self.pos.saturating_sub(self.offset),
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn expect(&mut self, c: char) -> Result<(), JsonPathError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            match self.peek() {
                Some(found) => Err(self.err(format!("expected {c:?}, found {found:?}"))),
                None => Err(self.err(format!("expected {c:?}, found end of path"))),
            }
        }
    }

    fn enter(&mut self) -> Result<(), JsonPathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("expression nested too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---------------------------------------------------------------- paths

    fn path(&mut self, mode: Mode) -> Result<Compiled, JsonPathError> {
        let root = match self.peek() {
            Some('$') => RootKind::Document,
            Some('@') => RootKind::Current,
            _ => return Err(self.err("path must start with '$' or '@'")),
        };
        self.pos += 1;
        let mut tokens = Vec::new();
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    tokens.push(Token::Scan);
                    match self.peek() {
                        Some('[') => tokens.push(self.bracket()?),
                        Some('*') => {
                            self.pos += 1;
                            tokens.push(Token::Wildcard);
                        }
                        _ => {
                            let name = self.name();
                            if name.is_empty() {
                                return Err(self.err("path must not end with '..'"));
                            }
                            if self.peek() == Some('(') {
                                return Err(self.err("a function cannot follow '..'"));
                            }
                            tokens.push(Token::Property(vec![name]));
                        }
                    }
                }
                Some('.') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            tokens.push(Token::Wildcard);
                        }
                        Some('[') => tokens.push(self.bracket()?),
                        _ => {
                            let name = self.name();
                            if name.is_empty() {
                                return Err(self.err("path must not end with '.'"));
                            }
                            if self.peek() == Some('(') {
                                tokens.push(self.function(&name)?);
                            } else {
                                tokens.push(Token::Property(vec![name]));
                            }
                        }
                    }
                }
                Some('[') => tokens.push(self.bracket()?),
                _ => break,
            }
            if matches!(tokens.last(), Some(Token::Function(_)))
                && matches!(self.peek(), Some('.') | Some('['))
            {
                return Err(self.err("a function must be the last path element"));
            }
        }
        if mode == Mode::Top && matches!(tokens.last(), Some(Token::Scan)) {
            return Err(self.err("path must not end with '..'"));
        }
        Ok(Compiled::new(root, tokens))
    }

    /// A dot-notation property name: everything up to a character that cannot belong to it.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace()
                || matches!(
                    c,
                    '.' | '[' | ']' | '(' | ')' | '<' | '>' | '=' | '!' | '~' | '&' | '|' | ','
                )
            {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }

    fn function(&mut self, name: &str) -> Result<Token, JsonPathError> {
        self.expect('(')?;
        self.skip_ws();
        self.expect(')')?;
        match name {
            "length" | "size" => Ok(Token::Function(Function::Length)),
            other => Err(self.err(format!("unsupported function {other}()"))),
        }
    }

    fn bracket(&mut self) -> Result<Token, JsonPathError> {
        self.expect('[')?;
        self.skip_ws();
        let token = match self.peek() {
            Some('?') => {
                self.pos += 1;
                self.enter()?;
                let expr = self.or_expr()?;
                self.leave();
                Token::Filter(Box::new(expr))
            }
            Some('*') => {
                self.pos += 1;
                Token::Wildcard
            }
            Some('\'') | Some('"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if self.peek() != Some(',') {
                        break;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                Token::Property(names)
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == ':' => self.index_or_slice()?,
            Some(c) => return Err(self.err(format!("unexpected character {c:?} after '['"))),
            None => return Err(self.err("unterminated '['")),
        };
        self.skip_ws();
        self.expect(']')?;
        Ok(token)
    }

    fn index_or_slice(&mut self) -> Result<Token, JsonPathError> {
        let first = self.opt_int()?;
        self.skip_ws();
        if self.peek() == Some(':') {
            self.pos += 1;
            self.skip_ws();
            let second = self.opt_int()?;
            self.skip_ws();
            if self.peek() == Some(':') {
                return Err(self.err("array slice steps are not supported"));
            }
            return Ok(Token::Slice {
                from: first,
                to: second,
            });
        }
        let Some(first) = first else {
            return Err(self.err("expected an array index"));
        };
        let mut list = vec![first];
        loop {
            self.skip_ws();
            if self.peek() != Some(',') {
                break;
            }
            self.pos += 1;
            self.skip_ws();
            match self.opt_int()? {
                Some(n) => list.push(n),
                None => return Err(self.err("expected an array index after ','")),
            }
        }
        Ok(Token::Index(list))
    }

    fn opt_int(&mut self) -> Result<Option<i64>, JsonPathError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| self.err(format!("invalid array index {text:?}")))
    }

    /// A `'…'` or `"…"` string with Java-style escapes.
    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let Some(q) = self.peek().filter(|c| *c == '\'' || *c == '"') else {
            return Err(self.err("expected a quoted string"));
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(format!("string not closed, expected {q:?}")));
            };
            self.pos += 1;
            if c == q {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("string ends with an escape character"));
            };
            self.pos += 1;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = (0..4).filter_map(|i| self.peek_at(i)).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 4)
                        .ok_or_else(|| self.err("invalid \\u escape"))?;
                    self.pos += 4;
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            }
        }
    }

    // ---------------------------------------------------------------- filters

    fn or_expr(&mut self) -> Result<Expr, JsonPathError> {
        let mut items = vec![self.and_expr()?];
        loop {
            self.skip_ws();
            if !self.starts_with("||") {
                break;
            }
            self.pos += 2;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, JsonPathError> {
        let mut items = vec![self.unary()?];
        loop {
            self.skip_ws();
            if !self.starts_with("&&") {
                break;
            }
            self.pos += 2;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, JsonPathError> {
        self.enter()?;
        self.skip_ws();
        let expr = match self.peek() {
            Some('!') if self.peek_at(1) != Some('=') => {
                self.pos += 1;
                Expr::Not(Box::new(self.unary()?))
            }
            Some('(') => {
                self.pos += 1;
                let inner = self.or_expr()?;
                self.skip_ws();
                self.expect(')')?;
                inner
            }
            _ => self.relational()?,
        };
        self.leave();
        Ok(expr)
    }

    fn relational(&mut self) -> Result<Expr, JsonPathError> {
        let left = self.operand()?;
        self.skip_ws();
        match self.rel_op()? {
            None => match left {
                Operand::Path(p) => Ok(Expr::Exists(p)),
                _ => Err(self.err("expected a relational operator")),
            },
            Some(op) => {
                self.skip_ws();
                let right = self.operand()?;
                Ok(Expr::Compare { left, op, right })
            }
        }
    }

    fn rel_op(&mut self) -> Result<Option<RelOp>, JsonPathError> {
        let is_sym = |c: char| matches!(c, '<' | '>' | '=' | '!' | '~');
        let start = self.pos;
        match self.peek() {
            Some(c) if is_sym(c) => {
                while self.peek().is_some_and(is_sym) {
                    self.pos += 1;
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.pos += 1;
                }
            }
            _ => return Ok(None),
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let op = match text.to_ascii_lowercase().as_str() {
            "==" => RelOp::Eq,
            "!=" => RelOp::Ne,
            "===" => RelOp::StrictEq,
            "!==" => RelOp::StrictNe,
            "<" => RelOp::Lt,
            "<=" => RelOp::Le,
            ">" => RelOp::Gt,
            ">=" => RelOp::Ge,
            "=~" => RelOp::Regex,
            "in" => RelOp::In,
            "nin" => RelOp::Nin,
            "subsetof" => RelOp::SubsetOf,
            "anyof" => RelOp::AnyOf,
            "noneof" => RelOp::NoneOf,
            "size" => RelOp::Size,
            "empty" => RelOp::Empty,
            "contains" => RelOp::Contains,
            "all" => RelOp::All,
            _ => {
                self.pos = start;
                return Err(self.err(format!("operator not supported: {text}")));
            }
        };
        Ok(Some(op))
    }

    fn operand(&mut self) -> Result<Operand, JsonPathError> {
        self.skip_ws();
        match self.peek() {
            Some('@') | Some('$') => {
                self.enter()?;
                let p = self.path(Mode::Filter)?;
                self.leave();
                Ok(Operand::Path(Box::new(p)))
            }
            Some('/') => Ok(Operand::Pattern(Box::new(self.pattern()?))),
            Some(_) => Ok(Operand::Literal(self.literal()?)),
            None => Err(self.err("expected a value, found end of path")),
        }
    }

    /// A literal: string, number, boolean, null or a (permissive) JSON array/object.
    fn literal(&mut self) -> Result<Value, JsonPathError> {
        self.skip_ws();
        match self.peek() {
            Some('\'') | Some('"') => Ok(Value::String(self.quoted()?)),
            Some('[') => self.json_array(),
            Some('{') => self.json_object(),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let word = self.bare_word();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => Err(self.err(format!("unexpected literal {word:?}"))),
                }
            }
            Some(c) => Err(self.err(format!("unexpected character {c:?}"))),
            None => Err(self.err("expected a value, found end of path")),
        }
    }

    fn bare_word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                w.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        w
    }

    fn number(&mut self) -> Result<Value, JsonPathError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        if Decimal::parse(&raw).is_none() {
            self.pos = start;
            return Err(self.err(format!("invalid number {raw:?}")));
        }
        // Bring Java/BigDecimal spellings (`+1`, `.5`, `1.`) into JSON syntax.
        let mut text = raw.trim_start_matches('+').to_string();
        if let Some(rest) = text.strip_prefix("-.") {
            text = format!("-0.{rest}");
        } else if text.starts_with('.') {
            text = format!("0{text}");
        }
        text = text.replace(".e", "e").replace(".E", "E");
        if text.ends_with('.') {
            text.pop();
        }
        serde_json::from_str::<Number>(&text)
            .map(Value::Number)
            .map_err(|_| {
                self.pos = start;
                self.err(format!("invalid number {raw:?}"))
            })
    }

    fn json_value(&mut self) -> Result<Value, JsonPathError> {
        self.skip_ws();
        match self.peek() {
            Some('[') => self.json_array(),
            Some('{') => self.json_object(),
            Some('\'') | Some('"') => Ok(Value::String(self.quoted()?)),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if c.is_alphanumeric() || c == '_' => {
                // json-smart's permissive mode: unquoted words are strings.
                let word = self.bare_word();
                Ok(match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => Value::String(word),
                })
            }
            Some(c) => Err(self.err(format!("unexpected character {c:?} in JSON literal"))),
            None => Err(self.err("unterminated JSON literal")),
        }
    }

    fn json_array(&mut self) -> Result<Value, JsonPathError> {
        self.enter()?;
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            self.leave();
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.json_value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or ']' in array literal")),
            }
        }
        self.leave();
        Ok(Value::Array(items))
    }

    fn json_object(&mut self) -> Result<Value, JsonPathError> {
        self.enter()?;
        self.expect('{')?;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.pos += 1;
            self.leave();
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            let key = match self.peek() {
                Some('\'') | Some('"') => self.quoted()?,
                _ => {
                    let w = self.bare_word();
                    if w.is_empty() {
                        return Err(self.err("expected an object key"));
                    }
                    w
                }
            };
            self.skip_ws();
            self.expect(':')?;
            let value = self.json_value()?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or '}' in object literal")),
            }
        }
        self.leave();
        Ok(Value::Object(map))
    }

    /// `/regex/flags`. Flags: `i` (case-insensitive), `m` (multi-line), `s` (dot matches
    /// newline), `x` (extended); Java's `d`, `u` and `U` are accepted and ignored.
    fn pattern(&mut self) -> Result<Pattern, JsonPathError> {
        let start = self.pos;
        self.expect('/')?;
        let mut body = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("pattern not closed, expected '/'")),
                Some('\\') => {
                    body.push('\\');
                    self.pos += 1;
                    if let Some(c) = self.peek() {
                        body.push(c);
                        self.pos += 1;
                    }
                }
                Some('/') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    body.push(c);
                    self.pos += 1;
                }
            }
        }
        let mut builder = RegexBuilder::new(&format!(r"\A(?:{body})\z"));
        builder.size_limit(MAX_REGEX_SIZE);
        while let Some(flag) = self.peek().filter(char::is_ascii_alphabetic) {
            match flag {
                'i' => {
                    builder.case_insensitive(true);
                }
                'm' => {
                    builder.multi_line(true);
                }
                's' => {
                    builder.dot_matches_new_line(true);
                }
                'x' => {
                    builder.ignore_whitespace(true);
                }
                'd' | 'u' | 'U' => {}
                other => return Err(self.err(format!("unsupported regex flag {other:?}"))),
            }
            self.pos += 1;
        }
        let source: String = self.chars[start..self.pos].iter().collect();
        let regex = builder.build().map_err(|e| {
            self.pos = start;
            self.err(format!("invalid regular expression: {e}"))
        })?;
        Ok(Pattern { source, regex })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(p: &str) -> Vec<Token> {
        compile(p).expect("valid path").tokens
    }

    #[test]
    fn dot_and_bracket_notation_compile_alike() {
        let a = compile("$.MdmsRes.common-masters.Department").expect("valid");
        let b = compile("$['MdmsRes']['common-masters'][\"Department\"]").expect("valid");
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(
            a.to_string(),
            "$['MdmsRes']['common-masters']['Department']"
        );
        assert!(a.definite);
    }

    #[test]
    fn unrooted_paths_are_rooted() {
        assert_eq!(
            compile("ProcessInstances.*").expect("valid").to_string(),
            "$['ProcessInstances'][*]"
        );
        assert_eq!(compile("[0].a").expect("valid").to_string(), "$[0]['a']");
    }

    #[test]
    fn index_slice_and_lists() {
        assert!(matches!(&tokens("$[1]")[0], Token::Index(l) if l == &vec![1]));
        assert!(matches!(&tokens("$[-1]")[0], Token::Index(l) if l == &vec![-1]));
        assert!(matches!(&tokens("$[0, 2]")[0], Token::Index(l) if l == &vec![0, 2]));
        assert!(matches!(
            &tokens("$[1:3]")[0],
            Token::Slice {
                from: Some(1),
                to: Some(3)
            }
        ));
        assert!(matches!(
            &tokens("$[:2]")[0],
            Token::Slice {
                from: None,
                to: Some(2)
            }
        ));
        assert!(matches!(
            &tokens("$[-2:]")[0],
            Token::Slice {
                from: Some(-2),
                to: None
            }
        ));
    }

    #[test]
    fn definiteness() {
        assert!(compile("$.a.b[0]").expect("valid").definite);
        assert!(compile("$.a['x','y']").expect("valid").definite);
        for p in [
            "$.a[*]",
            "$.a.*",
            "$..a",
            "$.a[0,1]",
            "$.a[0:1]",
            "$.a[?(@.b)]",
            "$['x','y'].z",
        ] {
            assert!(!compile(p).expect("valid").definite, "{p}");
        }
    }

    #[test]
    fn filter_grammar() {
        for f in [
            "$[?(@.active==true)]",
            "$[?(@.code IN ['a','b'])]",
            "$[?(@.code nin [\"a\"])]",
            "$[?(@.a && (@.b || !@.c))]",
            "$[?(!(@.a == 1))]",
            "$[?(@.name =~ /ab.*/i)]",
            "$[?(\"abc\" in @.documents[*].id)]",
            "$[?(@.tags subsetof ['a','b'])]",
            "$[?(@.tags anyof ['a'])]",
            "$[?(@.tags noneof ['a'])]",
            "$[?(@.tags size 2)]",
            "$[?(@.tags empty false)]",
            "$[?(@.x >= -1.5e2 && @.y != null)]",
            "$[?(@.a == $.b)]",
            "$[?(@['weird key'] == 'x')]",
            "$[?(@.list[?(@.k == 1)])]",
            "$[?(@.items.length() > 1)]",
        ] {
            compile(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }

    #[test]
    fn parse_errors() {
        for p in [
            "",
            "$.",
            "$..",
            "$[",
            "$['a'",
            "$[?(@.a ==)]",
            "$[?(@.a <> 1)]",
            "$[?(@.a foo 1)]",
            "$[?(1)]",
            "$[?(@.a =~ /(/)]",
            "$[1:2:3]",
            "$.a.length().b",
            "$.a.unknown()",
            "$.a b",
        ] {
            let e = compile(p).expect_err(p);
            assert!(matches!(e, JsonPathError::Parse { .. }), "{p}: {e:?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let p = format!("$[?({}@.a{})]", "(".repeat(200), ")".repeat(200));
        assert!(compile(&p).is_err());
    }
}
