//! egov-localization's search, served from the embedded messages in standalone mode (spec
//! `upstream-platform.md` §8): `POST /localization/messages/v1/_search` and
//! `GET /localization/messages`, both with the criteria in the query string —
//! `locale` (required), `tenantId` (required), `module` (comma list; none: every module) and
//! `codes` (comma list; none: every code) — answering `{"messages": [{code, message, module,
//! locale}]}` (no ResponseInfo, as upstream), ordered by module and code. Open endpoints, as
//! in DIGIT's gateway whitelist: the UI reads its labels before anyone logs in.

use crate::EmbeddedLocalization;
use axum::extract::State;
use axum::Json;
use digit_core::error::codes;
use digit_service::openapi::{document, get_with, post_with};
use digit_service::{ApiError, ApiRouter, Documented, QueryCriteria};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `POST` search path.
pub const SEARCH_PATH: &str = "/localization/messages/v1/_search";
/// `GET` path.
pub const MESSAGES_PATH: &str = "/localization/messages";
/// Cache reset (a no-op here: the files are read once, at start).
pub const CACHE_BUST_PATH: &str = "/localization/messages/cache-bust";

/// The query string.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageCriteria {
    /// e.g. `en_IN`.
    pub locale: Option<String>,
    /// Any tenant (the files are the state's).
    pub tenant_id: Option<String>,
    /// Modules, comma-separated.
    pub module: Option<String>,
    /// Codes, comma-separated.
    pub codes: Option<String>,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Message {
    /// Code.
    pub code: String,
    /// Text.
    pub message: String,
    /// Module.
    pub module: String,
    /// Locale.
    pub locale: String,
}

/// The answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MessagesResponse {
    /// The messages found.
    pub messages: Vec<Message>,
}

fn list(raw: Option<&str>) -> Vec<String> {
    raw.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The messages matching `c`.
pub fn search(
    messages: &EmbeddedLocalization,
    c: &MessageCriteria,
) -> Result<Vec<Message>, ApiError> {
    let locale = c
        .locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(codes::INVALID_SEARCH_CRITERIA, "locale is mandatory")
        })?;
    if c.tenant_id.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(ApiError::bad_request(
            codes::INVALID_SEARCH_CRITERIA,
            "tenantId is mandatory",
        ));
    }
    let modules = list(c.module.as_deref());
    let wanted = list(c.codes.as_deref());
    let mut out: Vec<Message> = messages
        .by_key
        .iter()
        .filter(|((l, m), _)| l == locale && (modules.is_empty() || modules.contains(m)))
        .flat_map(|((l, m), by_code)| {
            by_code
                .iter()
                .filter(|(code, _)| wanted.is_empty() || wanted.contains(code))
                .map(|(code, text)| Message {
                    code: code.clone(),
                    message: text.clone(),
                    module: m.clone(),
                    locale: l.clone(),
                })
        })
        .collect();
    out.sort_by(|a, b| (&a.module, &a.code).cmp(&(&b.module, &b.code)));
    Ok(out)
}

async fn handle(
    State(messages): State<Arc<EmbeddedLocalization>>,
    QueryCriteria(c): QueryCriteria<MessageCriteria>,
) -> Result<Json<MessagesResponse>, ApiError> {
    Ok(Json(MessagesResponse {
        messages: search(&messages, &c)?,
    }))
}

/// Upstream clears its Redis cache; the embedded messages have none to clear.
async fn cache_bust() -> Json<serde_json::Value> {
    Json(serde_json::json!({"message": "Cache cleared successfully"}))
}

/// The routes over `messages`.
pub fn router(messages: Arc<EmbeddedLocalization>) -> Documented {
    let routes = ApiRouter::new()
        .api_route(
            SEARCH_PATH,
            post_with(handle, |o| {
                o.tag("Localization")
                    .summary("Search messages by locale, tenant, module and codes")
            }),
        )
        .api_route(
            MESSAGES_PATH,
            get_with(handle, |o| {
                o.tag("Localization").summary("Messages (GET form)")
            }),
        )
        .api_route(
            CACHE_BUST_PATH,
            post_with(cache_bust, |o| {
                o.tag("Localization")
                    .summary("Clear the message cache (nothing to clear when embedded)")
            }),
        )
        .with_state(messages);
    document(
        "Localization",
        "egov-localization's message search over the embedded messages.",
        &["/localization"],
        routes,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    fn shipped() -> EmbeddedLocalization {
        EmbeddedLocalization::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/localization"),
        )
        .unwrap()
    }

    fn criteria(
        locale: Option<&str>,
        tenant: Option<&str>,
        module: Option<&str>,
        codes: Option<&str>,
    ) -> MessageCriteria {
        MessageCriteria {
            locale: locale.map(str::to_owned),
            tenant_id: tenant.map(str::to_owned),
            module: module.map(str::to_owned),
            codes: codes.map(str::to_owned),
        }
    }

    #[test]
    fn filters_by_module_and_code() {
        let l = shipped();
        let pgr = search(
            &l,
            &criteria(Some("en_IN"), Some("pg"), Some("rainmaker-pgr"), None),
        )
        .unwrap();
        assert!(
            !pgr.is_empty()
                && pgr
                    .iter()
                    .all(|m| m.module == "rainmaker-pgr" && m.locale == "en_IN")
        );
        let code = pgr[0].code.clone();
        let one = search(
            &l,
            &criteria(
                Some("en_IN"),
                Some("pg.citya"),
                Some("rainmaker-pgr,rainmaker-common"),
                Some(&code),
            ),
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        let all = search(&l, &criteria(Some("en_IN"), Some("pg"), None, None)).unwrap();
        assert!(all.len() > pgr.len());
        assert!(search(&l, &criteria(Some("hi_IN"), Some("pg"), None, None))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn locale_and_tenant_are_required() {
        let l = shipped();
        assert!(search(&l, &criteria(None, Some("pg"), None, None)).is_err());
        assert!(search(&l, &criteria(Some("en_IN"), None, None, None)).is_err());
    }
}
