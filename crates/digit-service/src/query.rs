//! Search criteria from the query string, as Spring's `@ModelAttribute` binds them
//! (upstream-platform checklist item 5): repeated keys or comma-separated values fill a
//! list, unknown keys (the UI's `_=<epoch>`) are ignored, and a value of the wrong type is
//! a DIGIT 400.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use digit_core::error::codes;
use digit_core::ErrorDetail;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::collections::BTreeMap;

/// Most values one list parameter may carry (bounds every search).
pub const MAX_LIST_VALUES: usize = 1000;

/// Criteria of type `T` parsed from the query string.
#[derive(Debug, Clone)]
pub struct QueryCriteria<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryCriteria<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_criteria(parts.uri.query().unwrap_or("")).map(QueryCriteria)
    }
}

/// Parses a raw query string into `T`.
pub fn parse_criteria<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in form_pairs(query) {
        if k.contains('\0') || v.contains('\0') {
            return Err(ApiError::new(
                http::StatusCode::BAD_REQUEST,
                vec![ErrorDetail::new(
                    codes::INVALID_CHARACTER,
                    format!("Query parameter {k} contains the NUL character, which is not allowed"),
                )
                .with_params(vec![k])],
            ));
        }
        params.entry(k).or_default().push(v);
    }
    T::deserialize(ParamsDeserializer {
        params: params.into_iter(),
    })
    .map_err(|e: QueryError| {
        ApiError::new(
            http::StatusCode::BAD_REQUEST,
            vec![ErrorDetail::new(codes::INVALID_SEARCH_CRITERIA, e.0)],
        )
    })
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_else(|_| {
        // A malformed escape makes serde_urlencoded fail as a whole; fall back to raw pairs.
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    })
}

/// A query-binding failure, rendered as `INVALID_SEARCH_CRITERIA`.
#[derive(Debug)]
pub struct QueryError(String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for QueryError {}
impl de::Error for QueryError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

struct ParamsDeserializer {
    params: std::collections::btree_map::IntoIter<String, Vec<String>>,
}

impl<'de> de::Deserializer<'de> for ParamsDeserializer {
    type Error = QueryError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_map(ParamsMap {
            params: self.params,
            current: None,
        })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct ParamsMap {
    params: std::collections::btree_map::IntoIter<String, Vec<String>>,
    current: Option<(String, Vec<String>)>,
}

impl<'de> MapAccess<'de> for ParamsMap {
    type Error = QueryError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, QueryError> {
        match self.params.next() {
            Some((k, v)) => {
                let key = seed.deserialize(k.clone().into_deserializer())?;
                self.current = Some((k, v));
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, QueryError> {
        let (name, values) = self
            .current
            .take()
            .ok_or_else(|| QueryError("value without key".into()))?;
        seed.deserialize(ParamValue { name, values })
    }
}

/// The values one parameter was given.
struct ParamValue {
    name: String,
    values: Vec<String>,
}

impl ParamValue {
    fn scalar(&self) -> String {
        // Spring joins repeated values of a scalar field with commas.
        self.values.join(",")
    }
    fn parse<T: std::str::FromStr>(&self, expected: &str) -> Result<T, QueryError> {
        let raw = self.scalar();
        raw.trim().parse().map_err(|_| {
            QueryError(format!(
                "Failed to parse query parameter - {}. Expected type is {expected}, found '{raw}'",
                self.name
            ))
        })
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
            visitor.$visit(self.parse::<$ty>(stringify!($ty))?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ParamValue {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_string(self.scalar())
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_bool(self.parse::<bool>("boolean")?)
    }
    parse_number!(
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16, deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64, deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64, deserialize_f64 => visit_f64: f64,
        deserialize_f32 => visit_f32: f32
    );
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        if self.values.iter().all(|v| v.trim().is_empty()) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        let items: Vec<String> = self
            .values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if items.len() > MAX_LIST_VALUES {
            return Err(QueryError(format!(
                "Too many values for query parameter - {} (at most {MAX_LIST_VALUES})",
                self.name
            )));
        }
        visitor.visit_seq(ParamSeq {
            name: self.name,
            items: items.into_iter(),
        })
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _n: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        visitor.visit_enum(self.scalar().into_deserializer())
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_unit()
    }
    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier
    }
}

struct ParamSeq {
    name: String,
    items: std::vec::IntoIter<String>,
}

impl<'de> SeqAccess<'de> for ParamSeq {
    type Error = QueryError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, QueryError> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(ParamValue {
                    name: self.name.clone(),
                    values: vec![item],
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "camelCase", default)]
    struct Criteria {
        tenant_id: Option<String>,
        ids: Option<Vec<String>>,
        limit: Option<u32>,
        is_active: Option<bool>,
        from_date: Option<i64>,
        status: Vec<String>,
    }

    #[test]
    fn repeated_and_comma_separated_lists_and_unknown_keys() {
        let c: Criteria = parse_criteria(
            "tenantId=pg.citya&ids=a,b&ids=c&limit=5&_=1700000000&isActive=true&status=OPEN",
        )
        .unwrap();
        assert_eq!(c.tenant_id.as_deref(), Some("pg.citya"));
        assert_eq!(c.ids, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(c.limit, Some(5));
        assert_eq!(c.is_active, Some(true));
        assert_eq!(c.status, vec!["OPEN".to_owned()]);
    }

    #[test]
    fn empty_values_are_absent_and_escapes_decode() {
        let c: Criteria = parse_criteria("tenantId=&ids=x%2Cy&fromDate=").unwrap();
        assert_eq!(c.tenant_id, None);
        assert_eq!(c.ids, Some(vec!["x".into(), "y".into()]));
        assert_eq!(c.from_date, None);
        assert_eq!(parse_criteria::<Criteria>("").unwrap(), Criteria::default());
    }

    #[test]
    fn wrong_types_are_digit_400s() {
        let err = parse_criteria::<Criteria>("limit=ten").unwrap_err();
        assert_eq!(err.status, http::StatusCode::BAD_REQUEST);
        assert_eq!(err.errors[0].code, codes::INVALID_SEARCH_CRITERIA);
        assert!(
            err.errors[0].message.contains("limit"),
            "{}",
            err.errors[0].message
        );
        assert!(parse_criteria::<Criteria>("isActive=maybe").is_err());
    }

    #[test]
    fn list_length_is_bounded() {
        let many = (0..=MAX_LIST_VALUES)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_criteria::<Criteria>(&format!("ids={many}")).is_err());
    }
}
