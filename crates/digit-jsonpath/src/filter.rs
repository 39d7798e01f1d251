//! Filter (`[?(...)]`) evaluation with Jayway's value semantics.
//!
//! Rules kept from Jayway 2.x:
//! * a missing definite path (`@.missing`) is *undefined*: equal to nothing, not even
//!   `null`, so `@.missing != 'x'` is true;
//! * an indefinite path (`@.docs[*].id`) evaluates to the JSON array of its results;
//! * number vs number compares exactly as decimals (`1 == 1.0`); a string equals a number
//!   when the string is the number's text (string on the left) or parses to an equal decimal
//!   (number on the left); `<`/`>` between a string and a number compare texts;
//! * strings order by UTF-16 code units like `String.compareTo`;
//! * `=~` matches the whole input (`Matcher.matches()`), numbers and booleans by their text;
//! * an operand type an operator cannot use makes the whole filter false for that item
//!   (Jayway throws `InvalidPathException` and the filter swallows it).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::eval::Evaluator;
use crate::number::compare_text;
use crate::parser::{Expr, Operand, Pattern, RelOp, RootKind};

/// The predicate cannot be evaluated for this item (the item is rejected).
struct Abort;

/// An evaluated operand.
enum Val<'v> {
    Undefined,
    Pattern(&'v Pattern),
    Json(Cow<'v, Value>),
}

/// Runs a filter for one item; any evaluation problem rejects the item.
pub(crate) fn accept<'a>(ev: &Evaluator<'a>, expr: &Expr, item: &'a Value) -> bool {
    test(ev, expr, item).unwrap_or(false)
}

fn test<'a>(ev: &Evaluator<'a>, expr: &Expr, item: &'a Value) -> Result<bool, Abort> {
    match expr {
        Expr::Or(items) => {
            for e in items {
                if test(ev, e, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::And(items) => {
            for e in items {
                if !test(ev, e, item)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Not(e) => Ok(!test(ev, e, item)?),
        Expr::Exists(path) => {
            let strict = Evaluator {
                doc: ev.doc,
                require: true,
            };
            match strict.run(path, item, false) {
                Ok(found) => Ok(!path.definite || !found.is_empty()),
                Err(e) if e.is_path_not_found() => Ok(false),
                Err(_) => Err(Abort),
            }
        }
        Expr::Compare { left, op, right } => {
            let l = operand(ev, left, item)?;
            let r = operand(ev, right, item)?;
            apply(*op, &l, &r)
        }
    }
}

fn operand<'v, 'a: 'v>(
    ev: &Evaluator<'a>,
    op: &'v Operand,
    item: &'a Value,
) -> Result<Val<'v>, Abort> {
    match op {
        Operand::Literal(v) => Ok(Val::Json(Cow::Borrowed(v))),
        Operand::Pattern(p) => Ok(Val::Pattern(p)),
        Operand::Path(path) => {
            let plain = Evaluator {
                doc: ev.doc,
                require: false,
            };
            let start_is_doc = path.root == RootKind::Document;
            match plain.run(path, if start_is_doc { ev.doc } else { item }, false) {
                Ok(found) if path.definite => Ok(found
                    .into_iter()
                    .next()
                    .map_or(Val::Undefined, |m| Val::Json(m.value))),
                Ok(found) => Ok(Val::Json(Cow::Owned(Value::Array(
                    found.into_iter().map(|m| m.value.into_owned()).collect(),
                )))),
                Err(e) if e.is_path_not_found() => Ok(Val::Undefined),
                Err(_) => Err(Abort),
            }
        }
    }
}

/// What an operand is, in Jayway's ValueNode terms.
#[derive(Clone, Copy)]
enum Kind<'v> {
    Undefined,
    Pattern(&'v Pattern),
    Str(&'v str),
    Num(&'v serde_json::Number),
    Bool(bool),
    Null,
    /// Array or object.
    Json(&'v Value),
}

impl<'v> Kind<'v> {
    fn of_value(v: &'v Value) -> Kind<'v> {
        match v {
            Value::String(s) => Kind::Str(s),
            Value::Number(n) => Kind::Num(n),
            Value::Bool(b) => Kind::Bool(*b),
            Value::Null => Kind::Null,
            Value::Array(_) | Value::Object(_) => Kind::Json(v),
        }
    }

    fn of(v: &'v Val<'_>) -> Kind<'v> {
        match v {
            Val::Undefined => Kind::Undefined,
            Val::Pattern(p) => Kind::Pattern(p),
            Val::Json(v) => Kind::of_value(v),
        }
    }

    fn same_type(&self, other: &Kind<'_>) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// `left.equals(right)` of Jayway's value nodes.
fn eq(l: Kind<'_>, r: Kind<'_>) -> bool {
    match (l, r) {
        (Kind::Str(a), Kind::Str(b)) => a == b,
        (Kind::Str(a), Kind::Num(b)) => a == b.to_string(),
        (Kind::Num(a), Kind::Str(b)) => compare_text(&a.to_string(), b) == Some(Ordering::Equal),
        (Kind::Num(a), Kind::Num(b)) => {
            compare_text(&a.to_string(), &b.to_string()) == Some(Ordering::Equal)
        }
        (Kind::Bool(a), Kind::Bool(b)) => a == b,
        (Kind::Null, Kind::Null) => true,
        (Kind::Json(a), Kind::Json(b)) => json_eq(a, b),
        (Kind::Pattern(a), Kind::Pattern(b)) => a.source == b.source,
        _ => false,
    }
}

/// Structural equality with exact numeric comparison.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            compare_text(&x.to_string(), &y.to_string()) == Some(Ordering::Equal)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Ordering for `<`, `<=`, `>`, `>=`; `None` when the operands are not comparable.
fn order(l: Kind<'_>, r: Kind<'_>) -> Option<Ordering> {
    match (l, r) {
        (Kind::Num(a), Kind::Num(b)) => compare_text(&a.to_string(), &b.to_string()),
        (Kind::Str(a), Kind::Str(b)) => Some(utf16_cmp(a, b)),
        (Kind::Str(a), Kind::Num(b)) => Some(utf16_cmp(a, &b.to_string())),
        (Kind::Num(a), Kind::Str(b)) => Some(utf16_cmp(&a.to_string(), b)),
        _ => None,
    }
}

/// The elements of a list operand: `Ok(None)` for a non-array JSON value (the operator is
/// false), `Err` for non-JSON operands (the filter is rejected).
fn list<'v>(k: Kind<'v>) -> Result<Option<&'v Vec<Value>>, Abort> {
    match k {
        Kind::Json(Value::Array(items)) => Ok(Some(items)),
        Kind::Json(_) => Ok(None),
        _ => Err(Abort),
    }
}

/// Text a regex is matched against (Jayway `getInput`).
fn regex_input(k: Kind<'_>) -> String {
    match k {
        Kind::Str(s) => s.to_string(),
        Kind::Num(n) => n.to_string(),
        Kind::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn apply(op: RelOp, l: &Val<'_>, r: &Val<'_>) -> Result<bool, Abort> {
    let (l, r) = (Kind::of(l), Kind::of(r));
    Ok(match op {
        RelOp::Eq => eq(l, r),
        RelOp::Ne => !eq(l, r),
        RelOp::StrictEq => l.same_type(&r) && eq(l, r),
        RelOp::StrictNe => !(l.same_type(&r) && eq(l, r)),
        RelOp::Lt => order(l, r) == Some(Ordering::Less),
        RelOp::Le => matches!(order(l, r), Some(Ordering::Less | Ordering::Equal)),
        RelOp::Gt => order(l, r) == Some(Ordering::Greater),
        RelOp::Ge => matches!(order(l, r), Some(Ordering::Greater | Ordering::Equal)),
        RelOp::Regex => {
            let (pattern, other) = match (l, r) {
                (Kind::Pattern(p), o) if !matches!(o, Kind::Pattern(_)) => (p, o),
                (o, Kind::Pattern(p)) if !matches!(o, Kind::Pattern(_)) => (p, o),
                _ => return Ok(false),
            };
            match other {
                Kind::Json(Value::Array(items)) => items
                    .iter()
                    .any(|v| pattern.regex.is_match(&regex_input(Kind::of_value(v)))),
                o => pattern.regex.is_match(&regex_input(o)),
            }
        }
        RelOp::In => in_list(l, r)?,
        RelOp::Nin => !in_list(l, r)?,
        RelOp::SubsetOf => {
            let (Some(right), Some(left)) = (list(r)?, list(l)?) else {
                return Ok(false);
            };
            left.iter().all(|a| {
                right
                    .iter()
                    .any(|b| eq(Kind::of_value(a), Kind::of_value(b)))
            })
        }
        RelOp::AnyOf | RelOp::NoneOf => {
            let (Some(right), Some(left)) = (list(r)?, list(l)?) else {
                return Ok(false);
            };
            let any = left.iter().any(|a| {
                right
                    .iter()
                    .any(|b| eq(Kind::of_value(a), Kind::of_value(b)))
            });
            if op == RelOp::AnyOf {
                any
            } else {
                !any
            }
        }
        RelOp::Size => {
            let Kind::Num(n) = r else {
                return Ok(false);
            };
            let Some(expected) = n
                .to_string()
                .parse::<f64>()
                .ok()
                .map(f64::trunc)
                .filter(|f| f.is_finite())
            else {
                return Ok(false);
            };
            let actual = match l {
                Kind::Str(s) => s.encode_utf16().count() as f64,
                Kind::Json(Value::Array(a)) => a.len() as f64,
                Kind::Json(_) => -1.0,
                _ => return Ok(false),
            };
            actual == expected
        }
        RelOp::Empty => {
            let Kind::Bool(want) = r else {
                return Err(Abort);
            };
            match l {
                Kind::Str(s) => s.is_empty() == want,
                Kind::Json(Value::Array(a)) => a.is_empty() == want,
                Kind::Json(Value::Object(o)) => o.is_empty() == want,
                _ => false,
            }
        }
        RelOp::Contains => match l {
            Kind::Str(a) => matches!(r, Kind::Str(b) if a.contains(b)),
            Kind::Json(Value::Array(items)) => items.iter().any(|v| eq(r, Kind::of_value(v))),
            _ => false,
        },
        RelOp::All => {
            let Some(required) = list(r)? else {
                return Ok(false);
            };
            match l {
                Kind::Json(Value::Array(items)) => required.iter().all(|need| {
                    items
                        .iter()
                        .any(|have| eq(Kind::of_value(need), Kind::of_value(have)))
                }),
                _ => false,
            }
        }
    })
}

/// `left in right`: right must be a list; membership uses `left.equals(element)`.
fn in_list(l: Kind<'_>, r: Kind<'_>) -> Result<bool, Abort> {
    Ok(match list(r)? {
        Some(items) => items.iter().any(|v| eq(l, Kind::of_value(v))),
        None => false,
    })
}
