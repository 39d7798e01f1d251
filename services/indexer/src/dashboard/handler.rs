//! HTTP: the page and its assets (embedded, with a Content-Security-Policy that allows
//! nothing but this origin), and `_summary`: the body read into a [`SummaryRequest`],
//! every invalid field a DIGIT 400 with its code.

use super::error::{codes, DashboardError};
use super::queries::Filter;
use super::{valid_sla_hours, Dashboard, Summary};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use digit_core::error::codes as platform;
use digit_core::{RequestInfo, TenantId};
use digit_service::ApiError;
use serde_json::{Map, Value};
use std::sync::Arc;

const PAGE: &str = include_str!("../../assets/dashboard/dashboard.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/dashboard.js");
const STYLE: &str = include_str!("../../assets/dashboard/dashboard.css");

/// Only this origin: the page's script and style, and `fetch` to the API.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// 9999-12-31T23:59:59.999Z, the last instant a date field holds.
pub const MAX_DATE_MS: i64 = 253_402_300_799_999;
/// Longest tenant id accepted.
const MAX_TENANT_LEN: usize = 256;

/// What `_summary` was asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryRequest {
    /// Tenant and date range.
    pub filter: Filter,
    /// A fixed SLA for every complaint instead of each complaint's own.
    pub sla_hours: Option<f64>,
    /// The caller's envelope, echoed in `ResponseInfo`.
    pub request_info: Option<RequestInfo>,
}

/// Filters of the summary, every one optional (absent or `null`); unknown keys are ignored.
/// (Documentation only: the body is read field by field by `parse_request`.)
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct SummaryBody {
    /// A tenant id such as `pg.citya` (its tenants' figures); empty or absent: every tenant.
    #[schemars(length(max = 256))]
    tenant_id: Option<String>,
    /// From, epoch ms (inclusive), at most `toDate`.
    #[schemars(range(min = 0, max = 253_402_300_799_999_i64))]
    from_date: Option<i64>,
    /// To, epoch ms (inclusive).
    #[schemars(range(min = 0, max = 253_402_300_799_999_i64))]
    to_date: Option<i64>,
    /// One SLA in hours (above 0, at most 87600) for every complaint instead of each
    /// complaint's own `slaHours`.
    #[schemars(range(max = 87_600.0), extend("exclusiveMinimum" = 0))]
    sla_hours: Option<f64>,
    /// Echoed in `ResponseInfo` (also read as `requestInfo`; ignored when it is not a
    /// `RequestInfo`).
    #[serde(rename = "RequestInfo")]
    request_info: Option<RequestInfo>,
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The page with its links under `context_path`.
pub fn render_page(context_path: &str) -> String {
    PAGE.replace(
        "{{BASE}}",
        &escape_html(&format!("{}/dashboard", context_path.trim_end_matches('/'))),
    )
}

fn asset(content_type: &'static str, body: String) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CSP),
        ),
        (
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ),
    ];
    (headers, body).into_response()
}

/// `GET <ctx>/dashboard`.
pub async fn page(State(dashboard): State<Arc<Dashboard>>) -> Response {
    asset("text/html; charset=utf-8", dashboard.page.clone())
}

/// `GET <ctx>/dashboard/assets/dashboard.js`.
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT.to_owned())
}

/// `GET <ctx>/dashboard/assets/dashboard.css`.
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE.to_owned())
}

/// `POST <ctx>/dashboard/v1/_summary`.
pub async fn summary(
    State(dashboard): State<Arc<Dashboard>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Summary>, ApiError> {
    let request = parse_request(&headers, &body)?;
    let figures = dashboard
        .summary(&request, digit_core::time::now_ms())
        .await?;
    Ok(Json(figures))
}

/// Reads the body: `{"tenantId"?, "fromDate"?, "toDate"?, "slaHours"?, "RequestInfo"?}`
/// (an empty body asks for everything; unknown keys are ignored).
pub fn parse_request(headers: &HeaderMap, body: &[u8]) -> Result<SummaryRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SummaryRequest::default());
    }
    if !digit_service::extract::is_json(headers) {
        return Err(ApiError::bad_request(
            platform::UNSUPPORTED_MEDIA_TYPE,
            "Content type is not supported; send application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            platform::JSON_PARSE,
            format!("Failed to parse JSON body: {e}"),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_request(
            platform::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    };
    Ok(read_fields(object)?)
}

fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn date(object: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, DashboardError> {
    let Some(v) = present(object, field) else {
        return Ok(None);
    };
    match v.as_i64() {
        Some(ms) if (0..=MAX_DATE_MS).contains(&ms) => Ok(Some(ms)),
        _ => Err(DashboardError::invalid(
            codes::INVALID_DATE,
            field,
            format!("{field} must be a whole number of milliseconds since 1970-01-01T00:00:00Z, from 0 to {MAX_DATE_MS}; got {v}"),
        )),
    }
}

fn read_fields(object: &Map<String, Value>) -> Result<SummaryRequest, DashboardError> {
    let tenant_id = match present(object, "tenantId") {
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s))
            if s.len() <= MAX_TENANT_LEN && TenantId::parse(s.trim()).is_ok() =>
        {
            Some(s.trim().to_owned())
        }
        Some(other) => {
            return Err(DashboardError::invalid(
                codes::INVALID_TENANT,
                "tenantId",
                format!("tenantId must be a tenant id such as pg.citya; got {other}"),
            ))
        }
    };
    let from = date(object, "fromDate")?;
    let to = date(object, "toDate")?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(DashboardError::invalid(
                codes::INVALID_DATE_RANGE,
                "fromDate",
                format!("fromDate ({f}) is after toDate ({t})"),
            ));
        }
    }
    let sla_hours = match present(object, "slaHours") {
        None => None,
        Some(v) => match v.as_f64() {
            Some(h) if v.is_number() && valid_sla_hours(h) => Some(h),
            _ => {
                return Err(DashboardError::invalid(
                    codes::INVALID_SLA_HOURS,
                    "slaHours",
                    format!(
                        "slaHours must be a number of hours above 0 and at most 87600; got {v}"
                    ),
                ))
            }
        },
    };
    let request_info = ["RequestInfo", "requestInfo"]
        .iter()
        .find_map(|k| object.get(*k).filter(|v| v.is_object()))
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    Ok(SummaryRequest {
        filter: Filter {
            tenant_id,
            from,
            to,
        },
        sla_hours,
        request_info,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h
    }

    fn parse(body: Value) -> Result<SummaryRequest, ApiError> {
        parse_request(&json_headers(), body.to_string().as_bytes())
    }

    fn code(e: &ApiError) -> &str {
        e.errors[0].code.as_str()
    }

    #[test]
    fn an_empty_body_asks_for_everything() {
        assert_eq!(
            parse_request(&HeaderMap::new(), b" \n").unwrap(),
            SummaryRequest::default()
        );
        assert_eq!(parse(json!({})).unwrap(), SummaryRequest::default());
        assert_eq!(
            parse(json!({"tenantId": "", "fromDate": null, "_": 1})).unwrap(),
            SummaryRequest::default()
        );
    }

    #[test]
    fn fields_are_read() {
        let r = parse(json!({"RequestInfo": {"apiId": "Rainmaker", "msgId": "m"},
            "tenantId": "pg.citya", "fromDate": 1, "toDate": 2, "slaHours": 48}))
        .unwrap();
        assert_eq!(r.filter.tenant_id.as_deref(), Some("pg.citya"));
        assert_eq!((r.filter.from, r.filter.to), (Some(1), Some(2)));
        assert_eq!(r.sla_hours, Some(48.0));
        assert_eq!(r.request_info.unwrap().api_id.as_deref(), Some("Rainmaker"));
    }

    #[test]
    fn each_invalid_field_has_its_code() {
        for (body, expected, field) in [
            (
                json!({"fromDate": "2024-01-01"}),
                codes::INVALID_DATE,
                "fromDate",
            ),
            (json!({"toDate": -1}), codes::INVALID_DATE, "toDate"),
            (json!({"toDate": 1.5}), codes::INVALID_DATE, "toDate"),
            (
                json!({"toDate": MAX_DATE_MS + 1}),
                codes::INVALID_DATE,
                "toDate",
            ),
            (
                json!({"fromDate": 2, "toDate": 1}),
                codes::INVALID_DATE_RANGE,
                "fromDate",
            ),
            (
                json!({"tenantId": "pg..citya"}),
                codes::INVALID_TENANT,
                "tenantId",
            ),
            (json!({"tenantId": 7}), codes::INVALID_TENANT, "tenantId"),
            (json!({"slaHours": 0}), codes::INVALID_SLA_HOURS, "slaHours"),
            (
                json!({"slaHours": "48"}),
                codes::INVALID_SLA_HOURS,
                "slaHours",
            ),
        ] {
            let e = parse(body.clone()).unwrap_err();
            assert_eq!(e.status.as_u16(), 400, "{body}");
            assert_eq!(code(&e), expected, "{body}");
            assert_eq!(e.errors[0].params, Some(vec![field.to_owned()]), "{body}");
        }
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_the_platform_errors() {
        let e = parse_request(&HeaderMap::new(), b"{}").unwrap_err();
        assert_eq!(code(&e), platform::UNSUPPORTED_MEDIA_TYPE);
        let e = parse_request(&json_headers(), b"{").unwrap_err();
        assert_eq!(code(&e), platform::JSON_PARSE);
        let e = parse_request(&json_headers(), b"[1]").unwrap_err();
        assert_eq!(code(&e), platform::MISSING_JSON);
    }

    #[test]
    fn the_page_links_under_the_context_path() {
        let page = render_page("/egov-indexer");
        assert!(page.contains("/egov-indexer/dashboard/assets/dashboard.js"));
        assert!(!page.contains("{{BASE}}"));
        assert!(render_page("/a\"b").contains("/a&quot;b/dashboard"));
    }
}
