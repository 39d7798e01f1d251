//! Where a message goes (spec §2.3 step 2, §1.2, §6), from its **header**:
//!
//! - `receiver_id` on this exchange's host URL ("same domain") → the local service named
//!   before the `@` (upstream: `program` when there is no `@`), at
//!   `<APP_RECEIVER_ENDPOINTS[service]>/<message_type>/_<action>`;
//! - otherwise → the receiver's exchange, `<receiver host URL>/v1/exchange/<message_type>`.
//!
//! URLs are joined with exactly one `/` (upstream's default map gives
//! `…/program-service/v1//on-disburse/_create`, §5 item 21). A local service missing from
//! the map is an error here (upstream drops the message silently); the HTTP edge refuses
//! such messages with 400 `UNKNOWN_RECEIVER` before they are queued.

use super::model::RequestHeader;
use digit_core::participant;
use std::collections::BTreeMap;

/// Local service name → base URL (`APP_RECEIVER_ENDPOINTS`).
pub type Endpoints = BTreeMap<String, String>;

/// The computed destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A local service: `message` goes as a JSON object, with the exchange's bearer token.
    Local {
        /// The service name (key of the endpoints map).
        service: String,
        /// The full URL.
        url: String,
    },
    /// Another domain's exchange: `message` stays a string, signed and sealed when the
    /// sender is local.
    Remote {
        /// The receiver's normalised exchange URL.
        host: String,
        /// The full URL.
        url: String,
    },
}

impl Route {
    /// The URL.
    pub fn url(&self) -> &str {
        match self {
            Self::Local { url, .. } | Self::Remote { url, .. } => url,
        }
    }

    /// Whether it is a local service.
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local { .. })
    }
}

/// Why no destination could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The receiver is local but its service has no endpoint.
    #[error("no local service '{0}' is configured in APP_RECEIVER_ENDPOINTS")]
    UnknownService(String),
    /// The receiver id has no `http(s)://` exchange URL.
    #[error("the receiver_id has no exchange URL")]
    NoReceiverUrl,
}

/// `base` + `/` + `path` with exactly one slash between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The local service a same-domain receiver names (upstream: `program` without `@`).
pub fn local_service(receiver_id: &str) -> &str {
    if receiver_id.contains('@') {
        participant::service_name(receiver_id)
    } else {
        "program"
    }
}

/// The destination of a message with `header` at the exchange whose identity is
/// `own_host` (its `service.host.url`).
pub fn route(
    header: &RequestHeader,
    own_host: &str,
    endpoints: &Endpoints,
) -> Result<Route, RouteError> {
    let message_type = header.message_type.as_str();
    if participant::same_domain(&header.receiver_id, own_host) {
        let service = local_service(&header.receiver_id);
        let base = endpoints
            .get(service)
            .ok_or_else(|| RouteError::UnknownService(service.to_owned()))?;
        let url = join(base, &format!("{message_type}/_{}", header.action.as_str()));
        return Ok(Route::Local {
            service: service.to_owned(),
            url,
        });
    }
    let host = participant::host_url(&header.receiver_id).ok_or(RouteError::NoReceiverUrl)?;
    let url = join(&host, &format!("v1/exchange/{message_type}"));
    Ok(Route::Remote { host, url })
}

/// Parses `APP_RECEIVER_ENDPOINTS` (a JSON object of strings).
pub fn parse_endpoints(json: &str) -> Result<Endpoints, String> {
    let map: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON object: {e}"))?;
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(url)
                if url.starts_with("http://") || url.starts_with("https://") =>
            {
                Ok((k, url))
            }
            _ => Err(format!("the endpoint of '{k}' is not an http(s) URL")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::model::{Action, ExchangeType};

    const DEPT: &str = "https://unified-dev.digit.org/mukta/digit-exchange";
    const TREASURY: &str = "https://unified-dev.digit.org/ifms/digit-exchange";

    fn header(t: ExchangeType, a: Action, sender: &str, receiver: &str) -> RequestHeader {
        RequestHeader {
            message_id: "m1".into(),
            message_ts: 0,
            message_type: t,
            action: a,
            sender_id: sender.into(),
            sender_uri: None,
            receiver_id: receiver.into(),
            is_msg_encrypted: false,
        }
    }

    fn endpoints() -> Endpoints {
        // upstream's default shape: a trailing slash (which gave `v1//on-…`).
        parse_endpoints(
            r#"{"program":"http://localhost:8082/mukta/program-service/v1/",
                "adapter":"http://localhost:8085/ifms/v1"}"#,
        )
        .unwrap()
    }

    /// The routing table of §1.2/§2.3: every type and action, same domain and cross domain.
    #[test]
    fn every_type_routes_locally_and_remotely() {
        let e = endpoints();
        for t in ExchangeType::ALL {
            for a in [Action::Create, Action::Update, Action::Search] {
                let local = header(
                    t,
                    a,
                    &format!("program@{TREASURY}"),
                    &format!("program@{DEPT}"),
                );
                assert_eq!(
                    route(&local, DEPT, &e).unwrap(),
                    Route::Local {
                        service: "program".into(),
                        url: format!(
                            "http://localhost:8082/mukta/program-service/v1/{}/_{}",
                            t.as_str(),
                            a.as_str()
                        ),
                    },
                    "{t} {a:?} same domain"
                );
                let remote = header(
                    t,
                    a,
                    &format!("program@{DEPT}"),
                    &format!("program@{TREASURY}/"),
                );
                assert_eq!(
                    route(&remote, DEPT, &e).unwrap(),
                    Route::Remote {
                        host: TREASURY.into(),
                        url: format!("{TREASURY}/v1/exchange/{}", t.as_str()),
                    },
                    "{t} {a:?} cross domain"
                );
            }
        }
    }

    #[test]
    fn the_service_before_the_at_picks_the_endpoint() {
        let e = endpoints();
        let h = header(
            ExchangeType::Disburse,
            Action::Create,
            &format!("program@{TREASURY}"),
            &format!("adapter@{DEPT}"),
        );
        assert_eq!(
            route(&h, DEPT, &e).unwrap().url(),
            "http://localhost:8085/ifms/v1/disburse/_create"
        );
        let h = header(
            ExchangeType::Disburse,
            Action::Create,
            &format!("program@{TREASURY}"),
            &format!("billing@{DEPT}"),
        );
        assert_eq!(
            route(&h, DEPT, &e),
            Err(RouteError::UnknownService("billing".into()))
        );
        // No `@`: upstream's `program`.
        let h = header(ExchangeType::Program, Action::Create, "x", DEPT);
        assert_eq!(local_service(&h.receiver_id), "program");
        assert!(route(&h, DEPT, &e).unwrap().is_local());
    }

    #[test]
    fn same_domain_is_the_host_url_rule_of_section_1_2() {
        let e = endpoints();
        // Scheme and host case-insensitive, trailing slash ignored.
        let h = header(
            ExchangeType::OnProgram,
            Action::Create,
            "program@x",
            "program@HTTPS://Unified-Dev.digit.org/mukta/digit-exchange/",
        );
        assert!(route(&h, DEPT, &e).unwrap().is_local());
        // Another context path on the same host is another domain.
        let h = header(
            ExchangeType::OnProgram,
            Action::Create,
            "program@x",
            &format!("program@{TREASURY}"),
        );
        assert!(!route(&h, DEPT, &e).unwrap().is_local());
        let h = header(
            ExchangeType::Program,
            Action::Create,
            "program@x",
            "program@htt://x.org/a",
        );
        assert_eq!(route(&h, DEPT, &e), Err(RouteError::NoReceiverUrl));
    }

    #[test]
    fn endpoints_must_be_urls() {
        assert!(parse_endpoints(r#"{"program": 5}"#).is_err());
        assert!(parse_endpoints(r#"{"program": "ftp://x"}"#).is_err());
        assert!(parse_endpoints("[]").is_err());
        assert_eq!(join("http://a/v1/", "/x/_create"), "http://a/v1/x/_create");
    }
}
