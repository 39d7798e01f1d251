//! Binding evaluated values to the parameter types Postgres infers.
//!
//! Upstream binds each JSON scalar with its natural Java type and lets Postgres' assignment
//! casts fit it to the column. We ask Postgres instead: the statement is prepared without
//! parameter types, Postgres infers one per `$n` from the SQL, and each value is converted
//! to exactly that type here — exactly (numbers keep their decimal text, never an f64 for
//! NUMERIC) or not at all (a value that does not fit is a poison message, not a silent
//! truncation).

use crate::domain::BindValue;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::{Encode, Postgres, Type};
use std::str::FromStr;

/// A value that cannot be given to a parameter of the inferred type.
#[derive(Debug, thiserror::Error)]
#[error("parameter ${index} of type {pg_type}: {reason}")]
pub struct BindError {
    /// 1-based parameter index.
    pub index: usize,
    /// Postgres type name.
    pub pg_type: String,
    /// Why it does not fit.
    pub reason: String,
}

/// One parameter, converted to the inferred type.
#[derive(Debug, Clone)]
pub enum Param {
    /// SQL NULL of the inferred type.
    Null(PgTypeInfo),
    /// Text-like (`text`, `varchar`, `bpchar`, `name`, `citext`…), sent as the inferred type.
    Text(String, PgTypeInfo),
    /// `int2`.
    I16(i16),
    /// `int4`.
    I32(i32),
    /// `int8`.
    I64(i64),
    /// `float4`.
    F32(f32),
    /// `float8`.
    F64(f64),
    /// `numeric`, exact.
    Numeric(Decimal),
    /// `bool`.
    Bool(bool),
    /// `json` (text bytes).
    Json(String),
    /// `jsonb`.
    Jsonb(String),
    /// `date`.
    Date(chrono::NaiveDate),
    /// `timestamp`.
    Timestamp(chrono::NaiveDateTime),
    /// `timestamptz`.
    Timestamptz(chrono::DateTime<chrono::Utc>),
    /// `uuid`.
    Uuid(uuid::Uuid),
}

impl Type<Postgres> for Param {
    fn type_info() -> PgTypeInfo {
        // The real type of each value comes from `produces`.
        <String as Type<Postgres>>::type_info()
    }
    fn compatible(_ty: &PgTypeInfo) -> bool {
        true
    }
}

impl<'q> Encode<'q, Postgres> for Param {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self {
            Self::Null(_) => Ok(IsNull::Yes),
            Self::Text(s, _) | Self::Json(s) => {
                <&str as Encode<'_, Postgres>>::encode_by_ref(&s.as_str(), buf)
            }
            Self::I16(v) => <i16 as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::I32(v) => <i32 as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::I64(v) => <i64 as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::F32(v) => <f32 as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::F64(v) => <f64 as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::Numeric(v) => <Decimal as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::Bool(v) => <bool as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::Jsonb(s) => {
                // jsonb binary format: version byte 1, then the JSON text.
                buf.push(1);
                buf.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            Self::Date(v) => <chrono::NaiveDate as Encode<'_, Postgres>>::encode_by_ref(v, buf),
            Self::Timestamp(v) => {
                <chrono::NaiveDateTime as Encode<'_, Postgres>>::encode_by_ref(v, buf)
            }
            Self::Timestamptz(v) => {
                <chrono::DateTime<chrono::Utc> as Encode<'_, Postgres>>::encode_by_ref(v, buf)
            }
            Self::Uuid(v) => <uuid::Uuid as Encode<'_, Postgres>>::encode_by_ref(v, buf),
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(match self {
            Self::Null(t) | Self::Text(_, t) => t.clone(),
            Self::I16(_) => PgTypeInfo::with_name("INT2"),
            Self::I32(_) => PgTypeInfo::with_name("INT4"),
            Self::I64(_) => PgTypeInfo::with_name("INT8"),
            Self::F32(_) => PgTypeInfo::with_name("FLOAT4"),
            Self::F64(_) => PgTypeInfo::with_name("FLOAT8"),
            Self::Numeric(_) => PgTypeInfo::with_name("NUMERIC"),
            Self::Bool(_) => PgTypeInfo::with_name("BOOL"),
            Self::Json(_) => PgTypeInfo::with_name("JSON"),
            Self::Jsonb(_) => PgTypeInfo::with_name("JSONB"),
            Self::Date(_) => PgTypeInfo::with_name("DATE"),
            Self::Timestamp(_) => PgTypeInfo::with_name("TIMESTAMP"),
            Self::Timestamptz(_) => PgTypeInfo::with_name("TIMESTAMPTZ"),
            Self::Uuid(_) => PgTypeInfo::with_name("UUID"),
        })
    }
}

/// The kinds of parameter type we can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    I16,
    I32,
    I64,
    F32,
    F64,
    Numeric,
    Bool,
    Json,
    Jsonb,
    Date,
    Timestamp,
    Timestamptz,
    Uuid,
}

fn kind_of(pg_type: &PgTypeInfo) -> Option<Kind> {
    use sqlx::TypeInfo as _;
    Some(match pg_type.name() {
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "\"CHAR\"" | "CITEXT" | "UNKNOWN" => {
            Kind::Text
        }
        "INT2" => Kind::I16,
        "INT4" => Kind::I32,
        "INT8" => Kind::I64,
        "FLOAT4" => Kind::F32,
        "FLOAT8" => Kind::F64,
        "NUMERIC" => Kind::Numeric,
        "BOOL" => Kind::Bool,
        "JSON" => Kind::Json,
        "JSONB" => Kind::Jsonb,
        "DATE" => Kind::Date,
        "TIMESTAMP" => Kind::Timestamp,
        "TIMESTAMPTZ" => Kind::Timestamptz,
        "UUID" => Kind::Uuid,
        _ => return None,
    })
}

/// Converts `value` for parameter `$index` whose inferred type is `pg_type`.
pub fn to_param(index: usize, value: &BindValue, pg_type: &PgTypeInfo) -> Result<Param, BindError> {
    use sqlx::TypeInfo as _;
    let fail = |reason: String| BindError {
        index,
        pg_type: pg_type.name().to_owned(),
        reason,
    };
    let Some(kind) = kind_of(pg_type) else {
        return match value {
            BindValue::Null => Ok(Param::Null(pg_type.clone())),
            _ => Err(fail(
                "unsupported parameter type; cast the placeholder in the query (e.g. ?::text)"
                    .into(),
            )),
        };
    };
    let text_of = |v: &BindValue| -> Option<String> {
        Some(match v {
            BindValue::Null => return None,
            BindValue::Text(s) => s.clone(),
            BindValue::Number(n) => n.to_string(),
            BindValue::Bool(b) => b.to_string(),
            BindValue::Json(j) => j.to_string(),
            BindValue::Timestamp(t) => t.to_string(),
            BindValue::Date(d) => d.to_string(),
            BindValue::Long(l) => l.to_string(),
        })
    };
    if matches!(value, BindValue::Null) {
        return Ok(Param::Null(pg_type.clone()));
    }
    let param = match kind {
        Kind::Text => Param::Text(text_of(value).unwrap_or_default(), pg_type.clone()),
        Kind::I16 | Kind::I32 | Kind::I64 => {
            let n = integer(value).map_err(fail)?;
            match kind {
                Kind::I16 => {
                    Param::I16(i16::try_from(n).map_err(|_| fail(format!("{n} out of range")))?)
                }
                Kind::I32 => {
                    Param::I32(i32::try_from(n).map_err(|_| fail(format!("{n} out of range")))?)
                }
                _ => Param::I64(n),
            }
        }
        Kind::Numeric => Param::Numeric(decimal(value).map_err(fail)?),
        Kind::F32 | Kind::F64 => {
            let text = text_of(value).unwrap_or_default();
            let f: f64 = match value {
                BindValue::Number(_) | BindValue::Text(_) | BindValue::Long(_) => text
                    .trim()
                    .parse()
                    .map_err(|_| fail(format!("'{text}' is not a number")))?,
                _ => return Err(fail(format!("'{text}' is not a number"))),
            };
            if kind == Kind::F32 {
                #[allow(clippy::cast_possible_truncation)]
                // float4 columns are lossy by declaration.
                Param::F32(f as f32)
            } else {
                Param::F64(f)
            }
        }
        Kind::Bool => Param::Bool(match value {
            BindValue::Bool(b) => *b,
            BindValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" | "on" => true,
                "false" | "f" | "no" | "n" | "0" | "off" => false,
                other => return Err(fail(format!("'{other}' is not a boolean"))),
            },
            BindValue::Number(n) if n.to_string() == "1" || n.to_string() == "0" => {
                n.to_string() == "1"
            }
            _ => return Err(fail("not a boolean".into())),
        }),
        Kind::Json | Kind::Jsonb => {
            let json = match value {
                BindValue::Json(v) => v.to_string(),
                BindValue::Text(s) => {
                    // Text given to a json column must itself be JSON.
                    serde_json::from_str::<Value>(s)
                        .map_err(|_| fail("text is not JSON".into()))?
                        .to_string()
                }
                BindValue::Number(n) => n.to_string(),
                BindValue::Bool(b) => b.to_string(),
                BindValue::Long(l) => l.to_string(),
                other => Value::String(text_of(other).unwrap_or_default()).to_string(),
            };
            if kind == Kind::Json {
                Param::Json(json)
            } else {
                Param::Jsonb(json)
            }
        }
        Kind::Date => match value {
            BindValue::Date(d) => Param::Date(*d),
            BindValue::Timestamp(t) => Param::Date(t.date()),
            BindValue::Text(s) => Param::Date(
                chrono::NaiveDate::from_str(s.trim())
                    .map_err(|_| fail(format!("'{s}' is not a date (yyyy-MM-dd)")))?,
            ),
            _ => return Err(fail("not a date".into())),
        },
        Kind::Timestamp | Kind::Timestamptz => {
            let t = match value {
                BindValue::Timestamp(t) => *t,
                BindValue::Date(d) => d.and_time(chrono::NaiveTime::MIN),
                BindValue::Text(s) => {
                    parse_timestamp(s).ok_or_else(|| fail(format!("'{s}' is not a timestamp")))?
                }
                _ => return Err(fail("not a timestamp".into())),
            };
            if kind == Kind::Timestamp {
                Param::Timestamp(t)
            } else {
                Param::Timestamptz(t.and_utc())
            }
        }
        Kind::Uuid => {
            let text = text_of(value).unwrap_or_default();
            Param::Uuid(
                uuid::Uuid::parse_str(text.trim())
                    .map_err(|_| fail(format!("'{text}' is not a uuid")))?,
            )
        }
    };
    Ok(param)
}

fn integer(value: &BindValue) -> Result<i64, String> {
    match value {
        BindValue::Long(l) => Ok(*l),
        BindValue::Number(n) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
        BindValue::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an integer")),
        BindValue::Bool(_)
        | BindValue::Json(_)
        | BindValue::Timestamp(_)
        | BindValue::Date(_)
        | BindValue::Null => Err("not an integer".into()),
    }
}

fn decimal(value: &BindValue) -> Result<Decimal, String> {
    let text = match value {
        BindValue::Long(l) => return Ok(Decimal::from(*l)),
        BindValue::Number(n) => n.to_string(),
        BindValue::Text(s) => s.trim().to_owned(),
        _ => return Err("not a number".into()),
    };
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text)
    } else {
        Decimal::from_str_exact(&text)
    };
    parsed.map_err(|_| format!("'{text}' is not an exact decimal"))
}

fn parse_timestamp(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.naive_utc())
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok())
        .or_else(|| {
            chrono::NaiveDate::from_str(s)
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &'static str) -> PgTypeInfo {
        PgTypeInfo::with_name(name)
    }

    fn num(s: &str) -> BindValue {
        BindValue::Number(serde_json::Number::from_str(s).unwrap())
    }

    #[test]
    fn numbers_fit_the_inferred_type_exactly_or_fail() {
        assert!(matches!(
            to_param(1, &num("42"), &ty("INT4")).unwrap(),
            Param::I32(42)
        ));
        assert!(matches!(
            to_param(1, &num("1700000000000"), &ty("INT8")).unwrap(),
            Param::I64(1_700_000_000_000)
        ));
        assert!(to_param(1, &num("1700000000000"), &ty("INT4")).is_err());
        assert!(to_param(1, &num("1.5"), &ty("INT8")).is_err());
        match to_param(1, &num("0.30000000000000000001"), &ty("NUMERIC")).unwrap() {
            Param::Numeric(d) => assert_eq!(d.to_string(), "0.30000000000000000001"),
            other => panic!("{other:?}"),
        }
        match to_param(1, &num("12.5"), &ty("VARCHAR")).unwrap() {
            Param::Text(s, _) => assert_eq!(s, "12.5"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            to_param(1, &BindValue::Text("7".into()), &ty("INT8")).unwrap(),
            Param::I64(7)
        ));
    }

    #[test]
    fn json_text_booleans_dates_and_nulls() {
        let j = BindValue::Json(serde_json::json!({"a": [1, null]}));
        assert!(
            matches!(to_param(1, &j, &ty("JSONB")).unwrap(), Param::Jsonb(s) if s == r#"{"a":[1,null]}"#)
        );
        assert!(
            matches!(to_param(1, &BindValue::Json(Value::Null), &ty("JSONB")).unwrap(), Param::Jsonb(s) if s == "null")
        );
        assert!(to_param(1, &BindValue::Text("not json".into()), &ty("JSONB")).is_err());
        assert!(matches!(
            to_param(1, &BindValue::Text("t".into()), &ty("BOOL")).unwrap(),
            Param::Bool(true)
        ));
        assert!(matches!(
            to_param(1, &BindValue::Null, &ty("INT8")).unwrap(),
            Param::Null(_)
        ));
        assert!(matches!(
            to_param(1, &BindValue::Text("2026-01-31".into()), &ty("DATE")).unwrap(),
            Param::Date(_)
        ));
        assert!(to_param(1, &BindValue::Text("x".into()), &ty("UUID")).is_err());
        assert!(to_param(1, &BindValue::Text("x".into()), &ty("TSVECTOR")).is_err());
        assert!(matches!(
            to_param(1, &BindValue::Null, &ty("TSVECTOR")).unwrap(),
            Param::Null(_)
        ));
    }
}
