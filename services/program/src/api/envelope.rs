//! Reading an iFIX envelope (spec §1.4, §1.7.1): upstream's bean validation, reproduced
//! on the JSON before it is typed so that a DIGIT client gets the same HTTP 400 entries —
//! one per violation, `code` = Spring's binding code built from the *Java* property path
//! (`NotNull.programRequest.program.locationCode`), `message` = the constraint's message.
//! Then the typed parse (a wrongly typed field is a `JsonMappingException`), and the
//! header's coercions: `message_ts` accepts numbers and numeric strings (missing → 0),
//! `message_type` and `action` are case-insensitive.

use crate::domain::model::{Action, Coded, Envelope, MessageType, RequestHeader};
use axum::http::StatusCode;
use digit_core::error::codes;
use digit_core::ErrorDetail;
use digit_service::ApiError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Which request body (names the Java bean and message property of binding codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `ProgramRequest`
    Program,
    /// `ProgramSearchRequest`
    ProgramSearch,
    /// `SanctionRequest`
    Sanction,
    /// `SanctionSearchRequest`
    SanctionSearch,
    /// `AllocationRequest`
    Allocation,
    /// `AllocationSearchRequest`
    AllocationSearch,
    /// `DisbursementRequest`
    Disbursement,
    /// `DisburseSearchRequest`
    DisburseSearch,
}

impl Body {
    /// Java bean name and message property.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Program => ("programRequest", "program"),
            Self::ProgramSearch => ("programSearchRequest", "programSearch"),
            Self::Sanction => ("sanctionRequest", "sanction"),
            Self::SanctionSearch => ("sanctionSearchRequest", "sanctionSearch"),
            Self::Allocation => ("allocationRequest", "allocation"),
            Self::AllocationSearch => ("allocationSearchRequest", "allocationSearch"),
            Self::Disbursement => ("disbursementRequest", "disbursement"),
            Self::DisburseSearch => ("disburseSearchRequest", "disburseSearch"),
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            Self::Program => PROGRAM,
            Self::Sanction => SANCTION,
            Self::Allocation => ALLOCATION,
            Self::Disbursement => DISBURSEMENT,
            Self::ProgramSearch
            | Self::SanctionSearch
            | Self::AllocationSearch
            | Self::DisburseSearch => SEARCH,
        }
    }
}

/// One constraint.
#[derive(Debug)]
enum Check {
    /// `@NotNull` (with its message).
    NotNull(&'static str),
    /// `@Size(min, max)` on a string, when present.
    Size(usize, usize),
    /// `@Min(1)` on a Java `long` (missing or null is 0).
    MinOne,
    /// `@DecimalMin("0", inclusive = false)`, when present.
    Positive,
    /// `@Null`.
    Null,
    /// `@Valid` object.
    Valid(&'static [Field]),
    /// `@Valid` list of objects of the same kind.
    ValidList,
}

/// A JSON property, its Java name and its constraints.
#[derive(Debug)]
struct Field {
    json: &'static str,
    java: &'static str,
    checks: &'static [Check],
}

const NOT_NULL: &str = "must not be null";
const SIZE_64: Check = Check::Size(2, 64);

macro_rules! codes_fields {
    () => {
        [
            Field {
                json: "id",
                java: "id",
                checks: &[SIZE_64],
            },
            Field {
                json: "function_code",
                java: "functionCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "administration_code",
                java: "administrationCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "recipient_segment_code",
                java: "recipientSegmentCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "economic_segment_code",
                java: "economicSegmentCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "source_of_fund_code",
                java: "sourceOfFundCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "target_segment_code",
                java: "targetSegmentCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "currency_code",
                java: "currencyCode",
                checks: &[SIZE_64],
            },
            Field {
                json: "locale_code",
                java: "localeCode",
                checks: &[SIZE_64],
            },
        ]
    };
}

#[rustfmt::skip]
static PROGRAM: &[Field] = &{
    let [a, b, d, e, f, g, h, i, j] = codes_fields!();
    [a, b, d, e, f, g, h, i, j,
     Field { json: "location_code", java: "locationCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "program_code", java: "programCode", checks: &[SIZE_64] },
     Field { json: "name", java: "name", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "parent_id", java: "parentId", checks: &[SIZE_64] },
     Field { json: "description", java: "description", checks: &[Check::Size(2, 256)] },
     Field { json: "start_date", java: "startDate", checks: &[Check::MinOne] },
     Field { json: "children", java: "programs", checks: &[Check::Null] }]
};

#[rustfmt::skip]
static SANCTION: &[Field] = &{
    let [a, b, d, e, f, g, h, i, j] = codes_fields!();
    [a, b, d, e, f, g, h, i, j,
     Field { json: "location_code", java: "locationCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "program_code", java: "programCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "net_amount", java: "netAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "gross_amount", java: "grossAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "children", java: "children", checks: &[Check::ValidList] }]
};

#[rustfmt::skip]
static ALLOCATION: &[Field] = &{
    let [a, b, d, e, f, g, h, i, j] = codes_fields!();
    [a, b, d, e, f, g, h, i, j,
     Field { json: "location_code", java: "locationCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "program_code", java: "programCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "sanction_id", java: "sanctionId", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "net_amount", java: "netAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "gross_amount", java: "grossAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "allocation_type", java: "allocationType", checks: &[Check::NotNull(NOT_NULL)] },
     Field { json: "children", java: "children", checks: &[Check::ValidList] }]
};

#[rustfmt::skip]
static INDIVIDUAL: &[Field] = &[
    Field { json: "name", java: "name", checks: &[Check::NotNull(NOT_NULL), Check::Size(2, usize::MAX)] },
    Field { json: "email", java: "email", checks: &[Check::Size(2, usize::MAX)] },
    Field { json: "phone", java: "phone", checks: &[Check::NotNull(NOT_NULL), Check::Size(2, usize::MAX)] },
    Field { json: "address", java: "address", checks: &[Check::NotNull(NOT_NULL), Check::Size(2, usize::MAX)] },
];

#[rustfmt::skip]
static DISBURSEMENT: &[Field] = &{
    let [a, b, d, e, f, g, h, i, j] = codes_fields!();
    [a, b, d, e, f, g, h, i, j,
     Field { json: "location_code", java: "locationCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "program_code", java: "programCode", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "target_id", java: "targetId", checks: &[Check::NotNull(NOT_NULL), SIZE_64] },
     Field { json: "parent_id", java: "parentId", checks: &[SIZE_64] },
     Field { json: "sanction_id", java: "sanctionId", checks: &[SIZE_64] },
     Field { json: "transaction_id", java: "transactionId", checks: &[SIZE_64] },
     Field { json: "account_code", java: "accountCode", checks: &[SIZE_64] },
     Field { json: "net_amount", java: "netAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "gross_amount", java: "grossAmount", checks: &[Check::NotNull(NOT_NULL), Check::Positive] },
     Field { json: "individual", java: "individual", checks: &[Check::Valid(INDIVIDUAL)] },
     Field { json: "children", java: "disbursements", checks: &[Check::ValidList] }]
};

#[rustfmt::skip]
static SEARCH: &[Field] = &[
    Field { json: "location_code", java: "locationCode", checks: &[Check::NotNull(NOT_NULL)] },
];

#[rustfmt::skip]
static HEADER: &[Field] = &[
    Field { json: "message_id", java: "messageId", checks: &[Check::NotNull(NOT_NULL)] },
    Field { json: "message_type", java: "messageType", checks: &[Check::NotNull(NOT_NULL)] },
    Field { json: "action", java: "action", checks: &[Check::NotNull("Action must be valid")] },
    Field { json: "sender_id", java: "senderId", checks: &[Check::NotNull(NOT_NULL)] },
    Field { json: "receiver_id", java: "receiverId", checks: &[Check::NotNull(NOT_NULL)] },
];

fn violation(constraint: &str, path: &str, message: &str) -> ErrorDetail {
    ErrorDetail::new(format!("{constraint}.{path}"), message)
}

/// Checks `value` (an object, or anything else: then only `NotNull` can fail) against
/// `fields`, appending violations with property paths under `path`. `list` is the rules
/// of `ValidList` children (the entity's own).
fn check(
    value: &Value,
    fields: &[Field],
    list: &[Field],
    path: &str,
    out: &mut Vec<ErrorDetail>,
    depth: usize,
) {
    for field in fields {
        let v = value.get(field.json).filter(|v| !v.is_null());
        let p = format!("{path}.{}", field.java);
        for c in field.checks {
            match (c, v) {
                (Check::NotNull(msg), None) => out.push(violation("NotNull", &p, msg)),
                (Check::Size(min, max), Some(Value::String(s))) => {
                    let n = s.chars().count();
                    if n < *min || n > *max {
                        let msg = if *max == usize::MAX {
                            format!("size must be between {min} and 2147483647")
                        } else {
                            format!("size must be between {min} and {max}")
                        };
                        out.push(violation("Size", &p, &msg));
                    }
                }
                (Check::MinOne, v) => {
                    let n = v.and_then(long_value).unwrap_or(0);
                    if n < 1 {
                        out.push(violation("Min", &p, "Value must be greater than 0"));
                    }
                }
                (Check::Positive, Some(v))
                    if decimal_value(v).is_some_and(|d| d <= rust_decimal::Decimal::ZERO) =>
                {
                    out.push(violation("DecimalMin", &p, "must be greater than 0"));
                }
                (Check::Null, Some(_)) => out.push(violation("Null", &p, "must be null")),
                (Check::Valid(inner), Some(obj)) if obj.is_object() => {
                    check(obj, inner, &[], &p, out, depth + 1);
                }
                (Check::ValidList, Some(Value::Array(items))) if depth < 8 => {
                    for (i, item) in items.iter().enumerate() {
                        check(item, list, list, &format!("{p}[{i}]"), out, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A Java `long` from JSON: a number, or a numeric string (Jackson's coercion).
pub fn long_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn decimal_value(v: &Value) -> Option<rust_decimal::Decimal> {
    match v {
        Value::Number(n) => n
            .to_string()
            .parse()
            .ok()
            .or_else(|| rust_decimal::Decimal::from_scientific(&n.to_string()).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bad_request(errors: Vec<ErrorDetail>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, errors)
}

fn mapping(path: &str, expected: &str) -> ApiError {
    ApiError::bad_request(
        codes::JSON_MAPPING,
        format!("Failed to parse field - {path}. Expected type is {expected}"),
    )
}

/// The header, after bean validation passed (`header` present, required fields non-null).
fn parse_header(h: &Value) -> Result<RequestHeader, ApiError> {
    let text = |k: &str| -> Result<Option<String>, ApiError> {
        match h.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(mapping(&format!("header.{k}"), "String")),
        }
    };
    let message_ts = match h.get("message_ts") {
        None | Some(Value::Null) => 0,
        Some(Value::String(s)) if s.trim().is_empty() => 0,
        Some(v) => long_value(v).ok_or_else(|| mapping("header.message_ts", "long"))?,
    };
    let message_type = text("message_type")?
        .as_deref()
        .and_then(MessageType::parse)
        .ok_or_else(|| mapping("header.message_type", "MessageType"))?;
    let action = text("action")?
        .as_deref()
        .and_then(Action::parse)
        .ok_or_else(|| mapping("header.action", "Action"))?;
    let is_msg_encrypted = match h.get("is_msg_encrypted") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    Ok(RequestHeader {
        message_id: text("message_id")?.unwrap_or_default(),
        message_ts,
        message_type,
        action,
        sender_id: text("sender_id")?.unwrap_or_default(),
        sender_uri: text("sender_uri")?,
        receiver_id: text("receiver_id")?.unwrap_or_default(),
        is_msg_encrypted,
    })
}

/// Bean validation of a whole body: `header` and `message` present, header fields, and
/// the message's fields. An unparseable `message_type` / `action` is null for Jackson,
/// so it fails `NotNull` as upstream.
fn validate(body: Body, value: &Value) -> Vec<ErrorDetail> {
    let (bean, prop) = body.names();
    let mut out = Vec::new();
    match value.get("header").filter(|h| !h.is_null()) {
        None => out.push(violation("NotNull", &format!("{bean}.header"), NOT_NULL)),
        Some(h) => {
            let mut normalised = h.clone();
            if let Some(obj) = normalised.as_object_mut() {
                for (k, parse) in [
                    (
                        "message_type",
                        (|s: &str| MessageType::parse(s).is_some()) as fn(&str) -> bool,
                    ),
                    ("action", |s: &str| Action::parse(s).is_some()),
                ] {
                    let known = obj.get(k).and_then(Value::as_str).is_some_and(parse);
                    if !known {
                        obj.insert(k.to_owned(), Value::Null);
                    }
                }
            }
            check(
                &normalised,
                HEADER,
                &[],
                &format!("{bean}.header"),
                &mut out,
                0,
            );
        }
    }
    match value.get("message").filter(|m| !m.is_null()) {
        None => out.push(violation("NotNull", &format!("{bean}.{prop}"), NOT_NULL)),
        Some(m) => {
            let fields = body.fields();
            check(m, fields, fields, &format!("{bean}.{prop}"), &mut out, 0);
        }
    }
    out
}

fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(codes::JSON_PARSE, format!("Failed to parse JSON body: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    }
    Ok(value)
}

fn typed<T: DeserializeOwned>(message: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(message).map_err(|e| {
        let path = format!("message.{}", e.path());
        let inner = e.inner().to_string();
        let expected = inner
            .split_once("expected ")
            .map(|(_, rest)| rest.split(" at line").next().unwrap_or(rest).to_owned())
            .unwrap_or(inner);
        mapping(&path, &expected)
    })
}

/// A create/update/reply body: bean validation, then the typed envelope. The raw JSON
/// of `message` is returned too (for idempotency digests).
pub fn parse_write<T: DeserializeOwned + Coded>(
    body: Body,
    bytes: &[u8],
) -> Result<(Envelope<T>, Value), ApiError> {
    let value = parse_value(bytes)?;
    let errors = validate(body, &value);
    if !errors.is_empty() {
        return Err(bad_request(errors));
    }
    let header = parse_header(&value["header"])?;
    let raw = value["message"].clone();
    if !raw.is_object() {
        return Err(mapping("message", "object"));
    }
    let mut message: T = typed(raw.clone())?;
    crate::domain::model::fill_codes(&mut message, &raw);
    let signature = match value.get("signature") {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(_) => return Err(mapping("signature", "String")),
    };
    Ok((
        Envelope {
            signature,
            header,
            message,
        },
        raw,
    ))
}

/// A search body: bean validation, then the header and the typed criteria.
pub fn parse_search<T: DeserializeOwned>(
    body: Body,
    bytes: &[u8],
) -> Result<(RequestHeader, T), ApiError> {
    let value = parse_value(bytes)?;
    let errors = validate(body, &value);
    if !errors.is_empty() {
        return Err(bad_request(errors));
    }
    let header = parse_header(&value["header"])?;
    let criteria = typed(value["message"].clone())?;
    Ok((header, criteria))
}

/// The wire form of `header` as `parse_header` reads it (only describes the schema):
/// the five fields bean validation requires, text fields as strings (numbers and booleans
/// are taken as their text), `message_ts` a Java `long`, `message_type` and `action` in any
/// case (they must be the URL's), `is_msg_encrypted` a boolean or `"true"`.
pub struct HeaderIn;

impl schemars::JsonSchema for HeaderIn {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RequestHeaderIn".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let message_type = generator.subschema_for::<MessageType>();
        let action = generator.subschema_for::<Action>();
        let ts = generator.subschema_for::<Option<crate::domain::model::JavaLong>>();
        let text = serde_json::json!({ "type": ["string", "number", "boolean"] });
        let optional_text = serde_json::json!({ "type": ["string", "number", "boolean", "null"] });
        schemars::json_schema!({
            "type": "object",
            "description": "The iFIX message header (`message_type` and `action` are read in any case and must be the URL's)",
            "properties": {
                "message_id": text,
                "message_ts": ts,
                "message_type": message_type,
                "action": action,
                "sender_id": text,
                "sender_uri": optional_text,
                "receiver_id": text,
                "is_msg_encrypted": { "type": ["boolean", "string", "null"] }
            },
            "required": ["message_id", "message_type", "action", "sender_id", "receiver_id"]
        })
    }
}

/// A create/update/reply body as [`parse_write`] reads it, `{signature, header, message}`
/// with `message` a `T` (only describes the schema).
pub struct WriteBody<T>(std::marker::PhantomData<T>);

impl<T: schemars::JsonSchema> schemars::JsonSchema for WriteBody<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}Request", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let header = generator.subschema_for::<HeaderIn>();
        let message = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "signature": { "type": ["string", "null"] },
                "header": header,
                "message": message
            },
            "required": ["header", "message"]
        })
    }
}

/// A search body as [`parse_search`] reads it, `{header, message}` with `message` the
/// criteria `T` (only describes the schema).
pub struct SearchBody<T>(std::marker::PhantomData<T>);

impl<T: schemars::JsonSchema> schemars::JsonSchema for SearchBody<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}Request", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let header = generator.subschema_for::<HeaderIn>();
        let message = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "signature": { "type": ["string", "null"] },
                "header": header,
                "message": message
            },
            "required": ["header", "message"]
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::model::{Disbursement, Program};
    use serde_json::json;

    fn header() -> Value {
        json!({"message_id": "123", "message_ts": "1708428280", "message_type": "Program",
               "action": "CREATE", "sender_id": "program@https://a.org", "receiver_id": "program@https://b.org"})
    }

    fn codes(err: ApiError) -> Vec<String> {
        err.body().errors.into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn header_coercions() {
        let body = json!({"header": header(), "message": {"location_code": "pg.citya", "name": "P1", "start_date": "5"}});
        let (env, _) = parse_write::<Program>(Body::Program, body.to_string().as_bytes()).unwrap();
        assert_eq!(env.header.message_ts, 1_708_428_280);
        assert_eq!(env.header.message_type, MessageType::Program);
        assert_eq!(env.header.action, Action::Create);
        assert_eq!(env.message.start_date, 5);
    }

    #[test]
    fn binding_codes_use_java_paths() {
        let body = json!({"header": header(), "message": {"name": "P", "children": []}});
        let err = parse_write::<Program>(Body::Program, body.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            codes(err),
            [
                "NotNull.programRequest.program.locationCode",
                "Size.programRequest.program.name",
                "Min.programRequest.program.startDate",
                "Null.programRequest.program.programs",
            ]
        );
        let body = json!({"message": {}});
        let err = parse_write::<Program>(Body::Program, body.to_string().as_bytes()).unwrap_err();
        assert_eq!(codes(err)[0], "NotNull.programRequest.header");
    }

    #[test]
    fn nested_children_and_individual() {
        let mut h = header();
        h["message_type"] = json!("disburse");
        h["action"] = json!("nonsense");
        let body = json!({"header": h, "message": {
            "location_code": "pg.citya", "program_code": "PG/1", "target_id": "T1",
            "net_amount": 10, "gross_amount": 10,
            "children": [{"location_code": "pg.citya", "program_code": "PG/1", "target_id": "L1",
                          "net_amount": 0, "gross_amount": 10, "individual": {"name": "A B", "address": "x y"}}]}});
        let err = parse_write::<Disbursement>(Body::Disbursement, body.to_string().as_bytes())
            .unwrap_err();
        assert_eq!(
            codes(err),
            [
                "NotNull.disbursementRequest.header.action",
                "DecimalMin.disbursementRequest.disbursement.disbursements[0].netAmount",
                "NotNull.disbursementRequest.disbursement.disbursements[0].individual.phone",
            ]
        );
    }

    #[test]
    fn exact_amounts_and_codes_survive_parsing() {
        let mut h = header();
        h["message_type"] = json!("disburse");
        let body = json!({"header": h, "message": {
            "location_code": "pg.citya", "program_code": "PG/1", "target_id": "T1",
            "function_code": "FN-1", "net_amount": 10000000.01, "gross_amount": 0.3,
            "children": [{"location_code": "pg.citya", "program_code": "PG/1", "target_id": "L1",
                          "currency_code": "INR", "net_amount": 10000000.01, "gross_amount": 0.3}]}});
        let (env, _) =
            parse_write::<Disbursement>(Body::Disbursement, body.to_string().as_bytes()).unwrap();
        assert_eq!(env.message.net_amount.unwrap().to_string(), "10000000.01");
        assert_eq!(env.message.gross_amount.unwrap().to_string(), "0.3");
        assert_eq!(env.message.codes.function_code.as_deref(), Some("FN-1"));
        let child = &env.message.children.as_ref().unwrap()[0];
        assert_eq!(child.codes.currency_code.as_deref(), Some("INR"));
        let out = serde_json::to_value(&env.message).unwrap();
        assert_eq!(out["net_amount"].to_string(), "10000000.01");
        assert!(out.get("function_code").is_some() && out["locale_code"].is_null());
    }
}
