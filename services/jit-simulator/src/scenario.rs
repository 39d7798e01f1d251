//! What the simulated treasury knows and how it behaves: the scenario file.
//!
//! A JSON object; every key is optional (an empty object is a treasury with no money):
//!
//! ```json
//! {
//!   "allotments": [
//!     {"hoa": "221705800358641045908", "ddoCode": "OLSHUD001",
//!      "items": [{"ddoCode": "OLSHUD001", "schemeCode": "13145",
//!                 "schemeName": "Mukhyamantri Karma Tatpara Abhiyan (MUKTA)",
//!                 "granteeAgCode": "GOHUDULBMPL0036", "granteeName": "ANGUL MUNICIPALITY",
//!                 "ssuId": "1621", "ssuOffice": "angul_op", "allotmentDate": "2026-04-01",
//!                 "allotmentTxnSlNo": "0", "allotmentAmount": "100000",
//!                 "availableBalance": "400000", "allotmentTxnType": "Initial Allotment",
//!                 "mstAllotmentDistId": "5001", "ssuAllotmentId": "6001"}]}
//!   ],
//!   "invalidIfsc": ["BADX0000001"],
//!   "rejectAccounts": ["000000000666"],
//!   "failAccounts": {"000000000999": "Account does not exist"},
//!   "pisPendingPolls": 0,
//!   "sessionTimeoutMs": null,
//!   "delayMs": 0
//! }
//! ```
//!
//! * `allotments`: what VA answers for a (`hoa`, `ddoCode`): the `items` whose
//!   `allotmentDate` is on or after the date of the request's `fromDate` (the boundary day
//!   is **included**, so a poller that resends its last date sees that day again) and, when
//!   the request names a `granteCode`, whose `granteeAgCode` equals it. Items are served
//!   exactly as written (VA's 14 string fields).
//! * `invalidIfsc`: IFSCs PI rejects (`errorMsgs` code 340 per beneficiary) and COR rejects
//!   as corrected IFSC (code 322).
//! * `rejectAccounts`: a PI with a beneficiary account in this list is rejected by the SSU
//!   at PIS (`errorMsg` "This Bill Number … is rejected by SSU …").
//! * `failAccounts`: account → failure reason. Payments to these accounts are reported paid
//!   by PD (and FTPS) and then returned: FD (FTFPS for correction bills) lists them.
//! * `pisPendingPolls`: how many PIS polls of a PI answer "nothing yet" (`data: []`) before
//!   the SSU approves it.
//! * `sessionTimeoutMs`: overrides `JIT_SIMULATOR_SESSION_TIMEOUT_MS` when set.
//! * `delayMs`: a pause before every service answer (to exercise client timeouts).
//!
//! Unknown keys are an error, so a misspelt key does not silently do nothing.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// The scenario (see the module documentation for the format).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Allotments VA serves, per head of account and DDO.
    #[serde(default)]
    pub allotments: Vec<AllotmentSet>,
    /// IFSCs treated as wrong.
    #[serde(default)]
    pub invalid_ifsc: Vec<String>,
    /// Accounts whose PIs the SSU rejects at PIS.
    #[serde(default)]
    pub reject_accounts: Vec<String>,
    /// Accounts whose payments fail after being paid: account → reason.
    #[serde(default)]
    pub fail_accounts: BTreeMap<String, String>,
    /// PIS polls answered with no data before approval.
    #[serde(default)]
    pub pis_pending_polls: u32,
    /// Session lifetime override, milliseconds.
    #[serde(default)]
    pub session_timeout_ms: Option<u64>,
    /// Pause before each service answer, milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
}

/// The VA items of one (head of account, DDO).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllotmentSet {
    /// Head of account code.
    pub hoa: String,
    /// DDO code.
    pub ddo_code: String,
    /// The allotment transactions, as VA returns them.
    #[serde(default)]
    pub items: Vec<VaItem>,
}

/// One VA `data[]` item (all strings, as JIT sends them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)]
pub struct VaItem {
    pub ddo_code: String,
    pub scheme_code: String,
    pub scheme_name: String,
    pub grantee_ag_code: String,
    pub grantee_name: String,
    pub ssu_id: String,
    pub ssu_office: String,
    /// `yyyy-MM-dd`.
    pub allotment_date: String,
    pub allotment_txn_sl_no: String,
    pub allotment_amount: String,
    pub available_balance: String,
    /// `Initial Allotment`, `Additional allotment` or `Allotment withdrawal`.
    pub allotment_txn_type: String,
    pub mst_allotment_dist_id: String,
    pub ssu_allotment_id: String,
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the scenario JSON.
    #[error("invalid scenario JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A value that is not what it must be.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Parses and validates scenario JSON.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Self = serde_json::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Dates are `yyyy-MM-dd`, amounts are decimals.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        for set in &self.allotments {
            for item in &set.items {
                let at = |what: &str| {
                    ScenarioError::Invalid(format!(
                        "allotment {} of hoa {}: {what}",
                        item.ssu_allotment_id, set.hoa
                    ))
                };
                NaiveDate::parse_from_str(&item.allotment_date, "%Y-%m-%d")
                    .map_err(|_| at("allotmentDate must be yyyy-MM-dd"))?;
                for (name, value) in [
                    ("allotmentAmount", &item.allotment_amount),
                    ("availableBalance", &item.available_balance),
                ] {
                    Decimal::from_str(value.trim())
                        .map_err(|_| at(&format!("{name} must be a decimal")))?;
                }
            }
        }
        Ok(())
    }

    /// The SSU office of an SSU id, from the allotments (for PIS rejection texts).
    pub fn ssu_office(&self, ssu_id: &str) -> Option<&str> {
        self.allotments
            .iter()
            .flat_map(|s| &s.items)
            .find(|i| i.ssu_id == ssu_id)
            .map(|i| i.ssu_office.as_str())
    }

    /// Whether an IFSC is configured as wrong (case and blanks ignored).
    pub fn is_invalid_ifsc(&self, ifsc: &str) -> bool {
        let ifsc = ifsc.trim();
        self.invalid_ifsc
            .iter()
            .any(|i| i.trim().eq_ignore_ascii_case(ifsc))
    }

    /// Whether PIs paying this account are rejected at PIS.
    pub fn rejects(&self, account: &str) -> bool {
        self.reject_accounts
            .iter()
            .any(|a| a.trim() == account.trim())
    }

    /// The failure reason of an account whose payments bounce.
    pub fn failure(&self, account: &str) -> Option<&str> {
        self.fail_accounts.get(account.trim()).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_shipped_scenario_is_valid() {
        let s =
            Scenario::from_json(include_str!("../../../configs/ifms/jit-scenario.json")).unwrap();
        assert_eq!(s.allotments.len(), 3);
        assert_eq!(s.ssu_office("1621"), Some("angul_op"));
        assert!(s.allotments.iter().all(|a| a.ddo_code == "OLSHUD001"));
    }

    #[test]
    fn empty_is_valid_and_mistakes_are_errors() {
        assert_eq!(Scenario::from_json("{}").unwrap(), Scenario::default());
        assert!(matches!(
            Scenario::from_json(r#"{"failAcounts": {}}"#),
            Err(ScenarioError::Json(_))
        ));
        let bad_date = r#"{"allotments":[{"hoa":"h","ddoCode":"d","items":[{"ddoCode":"d","schemeCode":"1","schemeName":"s","granteeAgCode":"g","granteeName":"n","ssuId":"1","ssuOffice":"o","allotmentDate":"01/04/2026","allotmentTxnSlNo":"0","allotmentAmount":"1","availableBalance":"1","allotmentTxnType":"Initial Allotment","mstAllotmentDistId":"1","ssuAllotmentId":"1"}]}]}"#;
        assert!(matches!(
            Scenario::from_json(bad_date),
            Err(ScenarioError::Invalid(_))
        ));
        let bad_amount = bad_date.replace("01/04/2026", "2026-04-01").replace(
            r#""allotmentAmount":"1""#,
            r#""allotmentAmount":"1,00,000""#,
        );
        assert!(matches!(
            Scenario::from_json(&bad_amount),
            Err(ScenarioError::Invalid(_))
        ));
    }
}
