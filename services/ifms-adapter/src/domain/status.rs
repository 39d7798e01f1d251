//! Statuses of payment instructions and beneficiaries: stored as codes, shown on the wire as
//! upstream's text (spec A1.3; C.1 item 25), and mapped to iFIX status codes for the
//! program service's `on-disburse` (A1.10).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A payment instruction's status (`PIStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PiStatus {
    /// Posted to JIT (or, for a revised PI, COR accepted).
    Initiated,
    /// PIS: the SSU approved it.
    Approved,
    /// PAG: the payment advice is generated.
    InProcess,
    /// PD / FTPS: paid.
    Successful,
    /// FD / FTFPS: some beneficiaries failed.
    Partial,
    /// A later PI of the chain took over.
    Completed,
    /// Refused by JIT or the SSU, or never posted.
    Failed,
}

impl PiStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Initiated,
        Self::Approved,
        Self::InProcess,
        Self::Successful,
        Self::Partial,
        Self::Completed,
        Self::Failed,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Initiated => "INITIATED",
            Self::Approved => "APPROVED",
            Self::InProcess => "IN_PROCESS",
            Self::Successful => "SUCCESSFUL",
            Self::Partial => "PARTIAL",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    /// Upstream's wire text (`"IN PROCESS"` with a space).
    pub fn text(self) -> &'static str {
        match self {
            Self::InProcess => "IN PROCESS",
            other => other.code(),
        }
    }

    /// From a stored code or upstream's text.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.code().eq_ignore_ascii_case(s) || v.text().eq_ignore_ascii_case(s))
            .or_else(|| {
                s.eq_ignore_ascii_case("INPROCESS")
                    .then_some(Self::InProcess)
            })
    }

    /// The iFIX `status_code` of the disbursement (A1.10).
    pub fn ifix_code(self) -> &'static str {
        match self {
            Self::Initiated => "INITIATED",
            Self::Failed => "FAILED",
            Self::Successful => "SUCCESSFUL",
            Self::Partial => "PARTIAL",
            Self::InProcess | Self::Approved => "INPROCESS",
            Self::Completed => "COMPLETED",
        }
    }

    /// Whether a PI in this status is in flight (blocks another PI of the payment).
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            Self::Initiated | Self::Approved | Self::InProcess | Self::Successful
        )
    }
}

impl Serialize for PiStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text())
    }
}

impl<'de> Deserialize<'de> for PiStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown PI status '{s}'")))
    }
}

impl schemars::JsonSchema for PiStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PiStatus".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What is served; the stored codes (`IN_PROCESS`) are accepted on input too.
        let texts: Vec<&str> = Self::ALL.iter().map(|s| s.text()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": texts,
            "description": "A payment instruction's status (upstream's text)."
        })
    }
}

/// A beneficiary's payment status (`BeneficiaryPaymentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BeneficiaryStatus {
    /// Not posted (no funds).
    Pending,
    /// In a posted PI.
    Initiated,
    /// PAG generated the advice.
    InProcess,
    /// Paid (PD / FTPS).
    Success,
    /// Failed (FD / FTFPS, rejection, PI failure).
    Failed,
}

impl BeneficiaryStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Initiated,
        Self::InProcess,
        Self::Success,
        Self::Failed,
    ];

    /// The stored code (upstream's enum name).
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Initiated => "INITIATED",
            Self::InProcess => "IN_PROCESS",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
        }
    }

    /// Upstream's wire text.
    pub fn text(self) -> &'static str {
        match self {
            Self::Pending => "Payment Pending",
            Self::Initiated => "Payment Initiated",
            Self::InProcess => "Payment In Process",
            Self::Success => "Payment Successful",
            Self::Failed => "Payment Failed",
        }
    }

    /// From a stored code or upstream's text.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.code().eq_ignore_ascii_case(s) || v.text().eq_ignore_ascii_case(s))
    }

    /// The iFIX `status_code` of the disbursement line (A1.10).
    pub fn ifix_code(self) -> &'static str {
        match self {
            Self::Initiated => "INITIATED",
            Self::Failed | Self::Pending => "FAILED",
            Self::InProcess => "INPROCESS",
            Self::Success => "SUCCESSFUL",
        }
    }
}

impl Serialize for BeneficiaryStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text())
    }
}

impl<'de> Deserialize<'de> for BeneficiaryStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown beneficiary status '{s}'")))
    }
}

impl schemars::JsonSchema for BeneficiaryStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BeneficiaryStatus".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // What is served; the stored codes (`SUCCESS`) are accepted on input too.
        let texts: Vec<&str> = Self::ALL.iter().map(|s| s.text()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": texts,
            "description": "A beneficiary's payment status (upstream's text)."
        })
    }
}

/// The status-log outcomes (`JitRespStatusForPI`): `STATUS_LOG_<SVC>_<OUTCOME>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutcome {
    /// JIT answered with data.
    Success,
    /// JIT answered with an error (or the call failed).
    Error,
    /// JIT answered without data.
    NoResponse,
    /// PI: no sanction had the funds.
    NoFunds,
    /// PIS: the SSU rejected the PI.
    Rejected,
}

/// `STATUS_LOG_<service>_<outcome>`.
pub fn status_log(service: &str, outcome: LogOutcome) -> String {
    let o = match outcome {
        LogOutcome::Success => "SUCCESS",
        LogOutcome::Error => "ERROR",
        LogOutcome::NoResponse => "NO_RESPONSE",
        LogOutcome::NoFunds => "NO_FUNDS",
        LogOutcome::Rejected => "REJECTED",
    };
    format!("STATUS_LOG_{service}_{o}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts_round_trip() {
        for s in PiStatus::ALL {
            assert_eq!(PiStatus::parse(s.code()), Some(s));
            assert_eq!(PiStatus::parse(s.text()), Some(s));
        }
        assert_eq!(PiStatus::InProcess.text(), "IN PROCESS");
        assert_eq!(PiStatus::parse("INPROCESS"), Some(PiStatus::InProcess));
        for s in BeneficiaryStatus::ALL {
            assert_eq!(BeneficiaryStatus::parse(s.code()), Some(s));
            assert_eq!(BeneficiaryStatus::parse(s.text()), Some(s));
        }
        assert_eq!(
            serde_json::to_string(&BeneficiaryStatus::Success).unwrap_or_default(),
            "\"Payment Successful\""
        );
    }

    #[test]
    fn ifix_codes_follow_a1_10() {
        assert_eq!(PiStatus::Approved.ifix_code(), "INPROCESS");
        assert_eq!(PiStatus::InProcess.ifix_code(), "INPROCESS");
        assert_eq!(BeneficiaryStatus::Pending.ifix_code(), "FAILED");
        assert_eq!(BeneficiaryStatus::Success.ifix_code(), "SUCCESSFUL");
        assert_eq!(
            status_log("PIS", LogOutcome::Rejected),
            "STATUS_LOG_PIS_REJECTED"
        );
    }
}
