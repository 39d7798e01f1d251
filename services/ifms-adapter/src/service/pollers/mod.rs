//! The pollers (spec A1.9): PIS, PAG, PD, FD, FTPS and FTFPS ask JIT about PIs in a given
//! state and move them on (state machines of A1.3), plus the re-post of PIs whose post had
//! no answer (C.1 item 27). Each PI's change is one transaction on the locked PI row — the
//! status, its beneficiaries, the status log, a reversal of its debit when it failed, and
//! the `on-disburse` and index messages in the outbox — applied only if the PI is still in
//! the state it was polled in, so a poll that races another one changes nothing twice.
//!
//! Fixes (C.1): dates sent to JIT are the stored ones (item 5); PD and FTPS mark only the
//! beneficiaries JIT lists and a PI is SUCCESSFUL only when all are paid (item 10); a PD
//! never overwrites a failure FD already reported; FD asks about each voucher date of a
//! sliding window, matches (PI, beneficiary) in any non-final state and is idempotent
//! (item 11); FTFPS asks with the revised PI's own bill reference and stops after the
//! window (item 12); a missing parent skips one PI instead of aborting the run (item 13).

use crate::domain::calendar::parse_ist;
use crate::domain::status::{BeneficiaryStatus, PiStatus};
use crate::error::IfmsError;
use crate::service::{field, now_ms, AdapterService, Caller};
use crate::store::funds;
use crate::store::pi::{self as store, Pi};
use digit_jit::ServiceId;
use serde_json::Value;

mod failures;
mod original;
mod outcomes;

/// What one poller run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollReport {
    /// JIT calls made.
    pub polled: usize,
    /// PIs changed.
    pub changed: usize,
    /// Calls that failed or answered an error.
    pub errors: usize,
}

/// A change to apply to a locked PI: the status log, its details, and whether the PI
/// changed (else only the log is written).
pub struct Change {
    /// `STATUS_LOG_…` (`None`: nothing to log, e.g. a failure FD already reported).
    pub log: Option<String>,
    /// What JIT said.
    pub details: Option<Value>,
    /// Whether the PI changed.
    pub changed: bool,
}

impl Change {
    /// Only a log.
    pub fn unchanged(log: String) -> Self {
        Self {
            log: Some(log),
            details: None,
            changed: false,
        }
    }
}

pub(super) fn text(v: &Value, key: &str) -> Option<String> {
    field(v, key).filter(|s| !s.trim().is_empty())
}

/// The date part (`yyyy-MM-dd`) of a stored JIT date-time.
pub(super) fn date_of(jit_date: &str) -> String {
    jit_date
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Marks the beneficiaries JIT lists in `benfDtls` as paid (never one already failed).
pub(super) fn mark_paid(pi: &mut Pi, item: &Value, by: &str, now: i64) -> bool {
    let mut changed = false;
    for d in item
        .get("benfDtls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = text(d, "benfId") else {
            continue;
        };
        for b in pi.beneficiaries.iter_mut() {
            if !b.beneficiarynumber.eq_ignore_ascii_case(&id)
                || matches!(
                    b.status(),
                    BeneficiaryStatus::Success | BeneficiaryStatus::Failed
                )
            {
                continue;
            }
            b.set_status(BeneficiaryStatus::Success);
            b.vouchernumber = text(item, "voucherNo");
            b.voucherdate = text(item, "voucherDate").and_then(|d| parse_ist(&d));
            b.paymentstatusmessage = text(item, "paymentStatus");
            b.utrno = text(d, "utrNo");
            b.utrdate = text(d, "utrDate");
            b.endtoendid = text(d, "endToEndId");
            b.audit.touch(by, now);
            changed = true;
        }
    }
    changed
}

/// Marks the beneficiaries of an FD/FTFPS item failed (once).
pub(super) fn mark_failed(pi: &mut Pi, item: &Value, by: &str, now: i64) -> bool {
    let mut changed = false;
    for d in item
        .get("benfDtls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = text(d, "benfId") else {
            continue;
        };
        for b in pi.beneficiaries.iter_mut() {
            if !b.beneficiarynumber.eq_ignore_ascii_case(&id)
                || b.status() == BeneficiaryStatus::Failed
            {
                continue;
            }
            b.set_status(BeneficiaryStatus::Failed);
            b.paymentstatusmessage = text(d, "failedReason").map(|r| r.trim().to_owned());
            b.challannumber = text(d, "challanNumber");
            b.challandate = text(d, "challanDate");
            b.audit.touch(by, now);
            changed = true;
        }
    }
    changed
}

/// After payments and failures: all paid → SUCCESSFUL; all settled with a failure → PARTIAL.
pub(super) fn settle(pi: &mut Pi) {
    let all =
        |f: &dyn Fn(BeneficiaryStatus) -> bool| pi.beneficiaries.iter().all(|b| f(b.status()));
    if pi.beneficiaries.is_empty() {
        return;
    }
    if all(&|s| s == BeneficiaryStatus::Success) {
        pi.row.set_status(PiStatus::Successful);
    } else if all(&|s| matches!(s, BeneficiaryStatus::Success | BeneficiaryStatus::Failed)) {
        pi.row.set_status(PiStatus::Partial);
    }
}

impl AdapterService {
    /// Applies `f` to the PI if it is still in one of `expected`, in one transaction;
    /// `notify` sends the program service the PI's new state.
    pub(crate) async fn change(
        &self,
        caller: &Caller,
        pi_id: &str,
        service: ServiceId,
        expected: &[PiStatus],
        notify: bool,
        f: impl FnOnce(&mut Pi, &str, i64) -> Change,
    ) -> Result<bool, IfmsError> {
        let by = caller.uuid();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let Some(mut pi) = store::load(&mut tx, &[pi_id.to_owned()], true).await?.pop() else {
            return Ok(false);
        };
        if !expected.contains(&pi.row.status()) {
            return Ok(false);
        }
        let before = pi.row.status();
        let change = f(&mut pi, &by, now);
        if let Some(log) = &change.log {
            store::log(
                &mut tx,
                pi_id,
                service.as_str(),
                log,
                change.details,
                &by,
                now,
            )
            .await?;
        }
        if change.changed {
            pi.row.audit.touch(&by, now);
            store::update(&mut tx, &pi).await?;
            let mut outbox = Vec::new();
            if pi.row.status() == PiStatus::Failed && before != PiStatus::Failed {
                funds::reverse(&mut tx, pi_id, &by, now).await?;
            }
            if pi.row.status() == PiStatus::Initiated && pi.row.jitposted {
                if let Some(previous) = pi.row.previouspiid.clone() {
                    outbox.extend(self.complete(&mut tx, caller, &previous, now).await?);
                }
            }
            let reloaded = store::load(&mut tx, &[pi_id.to_owned()], false).await?;
            for p in &reloaded {
                if notify {
                    outbox.extend(self.on_disburse(caller, p)?);
                    outbox.extend(self.payment_update(caller, p)?);
                }
                outbox.push(self.index_copy(p)?);
            }
            self.enqueue(&mut tx, outbox).await?;
        }
        tx.commit().await?;
        Ok(change.changed)
    }

    pub(super) async fn load_one(&self, id: &str) -> Result<Option<Pi>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::load(&mut conn, &[id.to_owned()], false).await?.pop())
    }

    pub(super) async fn ids(
        &self,
        statuses: &[PiStatus],
        pi_type: &str,
        posted: bool,
        before: i64,
    ) -> Result<Vec<String>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::to_poll(
            &mut conn,
            statuses,
            pi_type,
            posted,
            before,
            self.settings.poll_batch,
        )
        .await?)
    }
}
