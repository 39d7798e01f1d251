//! How a JIT answer becomes a [`Change`] of a polled PI.

use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::service::treasury::CallFailure;
use crate::store::pi::Pi;
use digit_jit::JitResponse;
use serde_json::{json, Value};

use super::{text, Change};

/// The PIS outcome: approved, rejected (funds returned by [`AdapterService::change`]), or
/// unchanged with a log.
pub(super) fn pis_outcome(
    pi: &mut Pi,
    answer: Result<JitResponse, CallFailure>,
    by: &str,
    now: i64,
) -> Change {
    match answer {
        Err(e) => Change {
            log: Some(status_log("PIS", LogOutcome::Error)),
            details: Some(json!({"error": e.message()})),
            changed: false,
        },
        Ok(r) => match &r.error_msg {
            Some(m) if m.to_ascii_lowercase().contains("rejected") => {
                pi.row.set_status(PiStatus::Failed);
                pi.row.pierrorresp = Some(m.clone());
                for b in pi.beneficiaries.iter_mut() {
                    b.set_status(BeneficiaryStatus::Failed);
                    b.paymentstatusmessage = Some(m.clone());
                    b.audit.touch(by, now);
                }
                Change {
                    log: Some(status_log("PIS", LogOutcome::Rejected)),
                    details: Some(json!({"error": m})),
                    changed: true,
                }
            }
            Some(m) => Change {
                log: Some(status_log("PIS", LogOutcome::Error)),
                details: Some(json!({"error": m})),
                changed: false,
            },
            None if r.data.is_empty() => Change {
                log: Some(status_log("PIS", LogOutcome::NoResponse)),
                details: None,
                changed: false,
            },
            None => {
                let item = &r.data[0];
                pi.row.piapprovedid = text(item, "pmtInstId");
                pi.row.piapprovaldate = text(item, "payInstDate");
                pi.row.set_status(PiStatus::Approved);
                Change {
                    log: Some(status_log("PIS", LogOutcome::Success)),
                    details: None,
                    changed: true,
                }
            }
        },
    }
}

/// A data-carrying answer applied by `apply` (which says whether the PI changed); an error,
/// failure or empty answer only logs.
pub(super) fn data_outcome(
    service: &str,
    answer: Result<JitResponse, CallFailure>,
    apply: impl FnOnce(&mut Pi, &[Value]) -> bool,
    pi: &mut Pi,
) -> Change {
    match answer {
        Err(e) => Change {
            log: Some(status_log(service, LogOutcome::Error)),
            details: Some(json!({"error": e.message()})),
            changed: false,
        },
        Ok(r) if r.error_msg.is_some() => Change {
            log: Some(status_log(service, LogOutcome::Error)),
            details: Some(json!({"error": r.error_text()})),
            changed: false,
        },
        Ok(r) if r.data.is_empty() => Change {
            log: Some(status_log(service, LogOutcome::NoResponse)),
            details: None,
            changed: false,
        },
        Ok(r) => {
            let changed = apply(pi, &r.data);
            Change {
                log: Some(status_log(service, LogOutcome::Success)),
                details: None,
                changed,
            }
        }
    }
}
