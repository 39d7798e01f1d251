//! `ResponseInfo`, built the way upstream's `ResponseInfoFactory` builds it (§1.2).

use crate::request::RequestInfo;
use serde::{Deserialize, Serialize};

/// The literal `resMsgId` every upstream service answers with.
pub const RES_MSG_ID: &str = "uief87324";

/// Outcome spelling in `ResponseInfo.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    /// `"successful"`.
    Successful,
    /// `"failed"`.
    Failed,
}

/// The response envelope under `ResponseInfo` (or `responseInfo` for idgen).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseInfo {
    /// Copied from the request (`""` when the request had no RequestInfo).
    pub api_id: Option<String>,
    /// Copied from the request.
    pub ver: Option<String>,
    /// The request's `ts` echoed back — not the server time.
    pub ts: Option<i64>,
    /// Always `"uief87324"`.
    pub res_msg_id: Option<String>,
    /// Copied from the request.
    pub msg_id: Option<String>,
    /// `"successful"` / `"failed"` (idgen: upper case).
    pub status: Option<String>,
}

impl ResponseInfo {
    /// Builds the response envelope from the request's, as every upstream service does.
    pub fn from_request(request: Option<&RequestInfo>, status: ResponseStatus) -> Self {
        let status = match status {
            ResponseStatus::Successful => "successful",
            ResponseStatus::Failed => "failed",
        };
        Self::build(request, status)
    }

    /// The egov-idgen variant: status serialized as `"SUCCESSFUL"`/`"FAILED"`.
    pub fn from_request_upper(request: Option<&RequestInfo>, status: ResponseStatus) -> Self {
        let status = match status {
            ResponseStatus::Successful => "SUCCESSFUL",
            ResponseStatus::Failed => "FAILED",
        };
        Self::build(request, status)
    }

    fn build(request: Option<&RequestInfo>, status: &str) -> Self {
        let copy = |f: fn(&RequestInfo) -> &Option<String>| match request {
            Some(r) => f(r).clone(),
            None => Some(String::new()),
        };
        Self {
            api_id: copy(|r| &r.api_id),
            ver: copy(|r| &r.ver),
            ts: request.and_then(|r| r.ts),
            res_msg_id: Some(RES_MSG_ID.to_owned()),
            msg_id: copy(|r| &r.msg_id),
            status: Some(status.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn echoes_the_request_and_uses_lowercase_status() {
        let req: RequestInfo = serde_json::from_value(
            json!({"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000_i64, "msgId": "m|en_IN"}),
        )
        .unwrap();
        let v = serde_json::to_value(ResponseInfo::from_request(
            Some(&req),
            ResponseStatus::Successful,
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"apiId": "Rainmaker", "ver": ".01", "ts": 1700000000000_i64,
                   "resMsgId": "uief87324", "msgId": "m|en_IN", "status": "successful"})
        );
    }

    #[test]
    fn without_a_request_strings_are_empty_and_ts_null() {
        let v =
            serde_json::to_value(ResponseInfo::from_request(None, ResponseStatus::Failed)).unwrap();
        assert_eq!(
            v,
            json!({"apiId": "", "ver": "", "ts": null, "resMsgId": "uief87324", "msgId": "", "status": "failed"})
        );
    }

    #[test]
    fn idgen_variant_is_upper_case() {
        let r = ResponseInfo::from_request_upper(None, ResponseStatus::Successful);
        assert_eq!(r.status.as_deref(), Some("SUCCESSFUL"));
    }
}
