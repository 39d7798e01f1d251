//! iFIX participant ids and "same domain" (spec `upstream-ifix.md` §1.2), shared by the
//! program service and `digit-exchange` so both apply the same rules.
//!
//! A participant id is `<service>@<exchange base URL>`. Upstream extracts the URL with the
//! greedy regex `\bhttps?://\S+\b`; we parse it explicitly — the text after the first
//! `@` that begins an `http://` or `https://` URL, up to the first whitespace, without
//! trailing non-word characters — which gives the same results on every example of
//! §1.2, and then compare the parsed URLs with the scheme and host case-insensitively
//! (the path stays case-sensitive, as URLs are).

use serde::{Serialize, Serializer};

/// What a message is (upstream `MessageType` of the program service, `ExchangeType` of
/// the exchange): parsed case-insensitively, written in lower case with the `on-` prefix
/// of replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `program`
    Program,
    /// `on-program`
    OnProgram,
    /// `sanction`
    Sanction,
    /// `on-sanction`
    OnSanction,
    /// `allocation`
    Allocation,
    /// `on-allocation`
    OnAllocation,
    /// `disburse`
    Disburse,
    /// `on-disburse`
    OnDisburse,
    /// `demand`
    Demand,
    /// `on-demand`
    OnDemand,
    /// `receipt`
    Receipt,
    /// `on-receipt`
    OnReceipt,
    /// `bill`
    Bill,
    /// `on-bill`
    OnBill,
}

impl MessageType {
    /// Every type, requests and replies.
    pub const ALL: [Self; 14] = [
        Self::Program,
        Self::OnProgram,
        Self::Sanction,
        Self::OnSanction,
        Self::Allocation,
        Self::OnAllocation,
        Self::Disburse,
        Self::OnDisburse,
        Self::Demand,
        Self::OnDemand,
        Self::Receipt,
        Self::OnReceipt,
        Self::Bill,
        Self::OnBill,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Program => "program",
            Self::OnProgram => "on-program",
            Self::Sanction => "sanction",
            Self::OnSanction => "on-sanction",
            Self::Allocation => "allocation",
            Self::OnAllocation => "on-allocation",
            Self::Disburse => "disburse",
            Self::OnDisburse => "on-disburse",
            Self::Demand => "demand",
            Self::OnDemand => "on-demand",
            Self::Receipt => "receipt",
            Self::OnReceipt => "on-receipt",
            Self::Bill => "bill",
            Self::OnBill => "on-bill",
        }
    }

    /// upstream `MessageType.fromValue`: case-insensitive; `None` when unknown.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether this is a reply (`on-…`; upstream: the type's text contains `on-`).
    pub fn is_reply(self) -> bool {
        self.as_str().starts_with("on-")
    }

    /// The reply type (`program` → `on-program`); a reply type is its own.
    pub fn reply(self) -> Self {
        match self {
            Self::Program => Self::OnProgram,
            Self::Sanction => Self::OnSanction,
            Self::Allocation => Self::OnAllocation,
            Self::Disburse => Self::OnDisburse,
            Self::Demand => Self::OnDemand,
            Self::Receipt => Self::OnReceipt,
            Self::Bill => Self::OnBill,
            reply => reply,
        }
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl schemars::JsonSchema for MessageType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MessageType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

impl Serialize for MessageType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// upstream `Action`: `create`, `update` or `search` (accepted in any case, as the
/// program service does; written in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `create`
    Create,
    /// `update`
    Update,
    /// `search`
    Search,
}

impl Action {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Search => "search",
        }
    }

    /// Case-insensitive; `None` when unknown.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Search]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl schemars::JsonSchema for Action {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Action".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": ["create", "update", "search"] })
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The exchange URL of a participant id (or of a bare URL), normalised for comparison;
/// `None` when there is no `http(s)://` URL.
pub fn host_url(participant: &str) -> Option<String> {
    let lower = participant.to_ascii_lowercase();
    let start = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| find_url_start(&lower, scheme))
        .min()?;
    let rest = &participant[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let url = rest[..end].trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    let scheme_end = url.find("://")? + 3;
    let (scheme_host, path) = match url[scheme_end..].find('/') {
        Some(i) => url.split_at(scheme_end + i),
        None => (url, ""),
    };
    if scheme_host.len() <= scheme_end {
        return None;
    }
    Some(format!("{}{}", scheme_host.to_ascii_lowercase(), path))
}

/// Where `scheme` begins a URL: at the start or after a non-word character (the regex's
/// `\b`).
fn find_url_start(lower: &str, scheme: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = lower[from..].find(scheme) {
        let at = from + i;
        let boundary = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary {
            return Some(at);
        }
        from = at + scheme.len();
    }
    None
}

/// Whether two participant ids (or URLs) name the same installation: both have an
/// exchange URL and the URLs are equal.
pub fn same_domain(a: &str, b: &str) -> bool {
    matches!((host_url(a), host_url(b)), (Some(x), Some(y)) if x == y)
}

/// The service part of a participant id (before the first `@`).
pub fn service_name(participant: &str) -> &str {
    participant.split('@').next().unwrap_or(participant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_examples_of_section_1_2() {
        let cases = [
            (
                "program@https://unified-dev.digit.org/mukta/digit-exchange",
                Some("https://unified-dev.digit.org/mukta/digit-exchange"),
            ),
            (
                "program@https://unified-dev.digit.org/mukta/digit-exchange/",
                Some("https://unified-dev.digit.org/mukta/digit-exchange"),
            ),
            (
                "ifms@https://unified-dev.digit.org/",
                Some("https://unified-dev.digit.org"),
            ),
            ("program@htt://x.org/a", None),
            ("program@https://a.org/x?y=1 z", Some("https://a.org/x?y=1")),
        ];
        for (input, expected) in cases {
            assert_eq!(host_url(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn same_domain_compares_the_extracted_urls() {
        assert!(same_domain(
            "program@https://unified-dev.digit.org/mukta/digit-exchange/",
            "https://unified-dev.digit.org/mukta/digit-exchange"
        ));
        assert!(same_domain(
            "program@HTTPS://Unified-Dev.digit.org/x",
            "ifms@https://unified-dev.digit.org/x"
        ));
        assert!(!same_domain(
            "program@https://unified-dev.digit.org/mukta/digit-exchange",
            "program@https://unified-dev.digit.org/ifms/digit-exchange"
        ));
        assert!(!same_domain(
            "program@htt://x.org/a",
            "program@htt://x.org/a"
        ));
        assert!(!same_domain(
            "program@https://unified-qa.digit.org",
            "program@https://unified-dev.digit.org"
        ));
    }

    #[test]
    fn service_name_is_before_the_at() {
        assert_eq!(service_name("program@https://x.org"), "program");
        assert_eq!(service_name("plain"), "plain");
    }
}
