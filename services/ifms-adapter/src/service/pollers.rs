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

use crate::domain::calendar::{fy_start_year, ist, parse_ist};
use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::treasury::CallFailure;
use crate::service::{field, now_ms, AdapterService, Caller};
use crate::store::funds;
use crate::store::pi::{self as store, Pi, ORIGINAL, REVISED};
use chrono::Duration;
use digit_jit::{JitResponse, ServiceId};
use serde_json::{json, Value};

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

fn text(v: &Value, key: &str) -> Option<String> {
    field(v, key).filter(|s| !s.trim().is_empty())
}

/// The date part (`yyyy-MM-dd`) of a stored JIT date-time.
fn date_of(jit_date: &str) -> String {
    jit_date
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Marks the beneficiaries JIT lists in `benfDtls` as paid (never one already failed).
fn mark_paid(pi: &mut Pi, item: &Value, by: &str, now: i64) -> bool {
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
fn mark_failed(pi: &mut Pi, item: &Value, by: &str, now: i64) -> bool {
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
fn settle(pi: &mut Pi) {
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
                }
                outbox.push(self.index_copy(p)?);
            }
            self.enqueue(&mut tx, outbox).await?;
        }
        tx.commit().await?;
        Ok(change.changed)
    }

    async fn load_one(&self, id: &str) -> Result<Option<Pi>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::load(&mut conn, &[id.to_owned()], false).await?.pop())
    }

    async fn ids(
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

    /// Re-posts PIs and CORs whose post had no answer (same bill number; JIT's duplicate
    /// answer counts as booked).
    pub async fn run_repost(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("REPOST");
        let before = now_ms() - self.settings.repush_after_ms;
        let mut report = PollReport::default();
        for pi_type in [ORIGINAL, REVISED] {
            for id in self
                .ids(&[PiStatus::Initiated], pi_type, false, before)
                .await?
            {
                let Some(pi) = self.load_one(&id).await? else {
                    continue;
                };
                let (service, params) = self.jit_request(&pi)?;
                report.polled += 1;
                let answer = self
                    .treasury
                    .call(Some(&pi.row.tenantid), service, params)
                    .await;
                let ok = matches!(&answer, Ok(r) if r.succeeded());
                if !ok {
                    report.errors += 1;
                }
                let changed = self
                    .change(
                        &caller,
                        &id,
                        service,
                        &[PiStatus::Initiated],
                        true,
                        |pi, by, now| {
                            let (log, details) = self.apply_post(pi, answer, by, now);
                            Change {
                                log: Some(log),
                                details,
                                changed: true,
                            }
                        },
                    )
                    .await?;
                report.changed += usize::from(changed);
            }
        }
        Ok(report)
    }

    /// PIS: has the SSU approved the posted original PIs?
    pub async fn run_pis(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("PIS");
        let mut report = self.run_repost().await?;
        for id in self
            .ids(&[PiStatus::Initiated], ORIGINAL, true, now_ms())
            .await?
        {
            let Some(pi) = self.load_one(&id).await? else {
                continue;
            };
            let params = json!({"jitBillNo": pi.row.pinumber, "jitBillDate": date_of(&pi.row.jitbilldate),
                "ssuIaId": pi.row.ssuiaid});
            report.polled += 1;
            let answer = self
                .treasury
                .call(Some(&pi.row.tenantid), ServiceId::PIS, params)
                .await;
            let changed = self
                .change(
                    &caller,
                    &id,
                    ServiceId::PIS,
                    &[PiStatus::Initiated],
                    true,
                    |pi, by, now| pis_outcome(pi, answer, by, now),
                )
                .await?;
            report.changed += usize::from(changed);
        }
        Ok(report)
    }

    /// PAG: payment advice of approved PIs.
    pub async fn run_pag(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("PAG");
        let mut report = PollReport::default();
        for id in self
            .ids(&[PiStatus::Approved], ORIGINAL, true, now_ms())
            .await?
        {
            let Some(pi) = self.load_one(&id).await? else {
                continue;
            };
            let params = json!({"pmtInstId": pi.row.piapprovedid, "pmtInstDate": pi.row.piapprovaldate,
                "billNo": pi.row.pinumber, "billDate": date_of(&pi.row.jitbilldate), "ssuIaId": pi.row.ssuiaid});
            report.polled += 1;
            let answer = self
                .treasury
                .call(Some(&pi.row.tenantid), ServiceId::PAG, params)
                .await;
            let changed = self
                .change(
                    &caller,
                    &id,
                    ServiceId::PAG,
                    &[PiStatus::Approved],
                    true,
                    |pi, by, now| {
                        data_outcome(
                            "PAG",
                            answer,
                            |pi, data| {
                                let item = &data[0];
                                if let Some(pa) = pi.pa.as_mut() {
                                    pa.pafinyear = text(item, "finYear");
                                    pa.paadviceid = text(item, "adviceId");
                                    pa.paadvicedate = text(item, "adviceDate");
                                    pa.pabillrefnumber = text(item, "onlineBillRefNo");
                                    pa.patokennumber = text(item, "tokenNumber");
                                    pa.patokendate = text(item, "tokenDate");
                                }
                                for b in pi.beneficiaries.iter_mut() {
                                    b.set_status(BeneficiaryStatus::InProcess);
                                    b.audit.touch(by, now);
                                }
                                pi.row.set_status(PiStatus::InProcess);
                                true
                            },
                            pi,
                        )
                    },
                )
                .await?;
            report.changed += usize::from(changed);
        }
        Ok(report)
    }

    /// PD: which beneficiaries of PIs in process were paid.
    pub async fn run_pd(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("PD");
        let mut report = PollReport::default();
        for id in self
            .ids(&[PiStatus::InProcess], ORIGINAL, true, now_ms())
            .await?
        {
            let Some(pi) = self.load_one(&id).await? else {
                continue;
            };
            let pa = pi.pa.clone().unwrap_or_default();
            let params = json!({"finYear": pa.pafinyear, "extAppName": "MUKTA", "billRefNo": pa.pabillrefnumber,
                "tokenNumber": pa.patokennumber, "tokenDate": pa.patokendate});
            report.polled += 1;
            let answer = self
                .treasury
                .call(Some(&pi.row.tenantid), ServiceId::PD, params)
                .await;
            let changed = self
                .change(
                    &caller,
                    &id,
                    ServiceId::PD,
                    &[PiStatus::InProcess],
                    true,
                    |pi, by, now| {
                        data_outcome(
                            "PD",
                            answer,
                            |pi, data| {
                                let mut changed = false;
                                for item in data.iter().filter(|i| text(i, "billNumber").is_some())
                                {
                                    changed |= mark_paid(pi, item, by, now);
                                }
                                let before = pi.row.status();
                                settle(pi);
                                changed || pi.row.status() != before
                            },
                            pi,
                        )
                    },
                )
                .await?;
            report.changed += usize::from(changed);
        }
        Ok(report)
    }

    /// FD: failed payments of each voucher date of the window.
    pub async fn run_fd(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("FD");
        let mut report = PollReport::default();
        let today = ist(now_ms()).date_naive();
        let mut tenants: Vec<Option<String>> = vec![None];
        tenants.extend(self.settings.mock_tenants.iter().cloned().map(Some));
        for back in (0..self.settings.fd_window_days).rev() {
            let day = today - Duration::days(back);
            let params = json!({"finYear": fy_start_year(day).to_string(), "extAppName": "MUKTA",
                "voucherDate": day.format("%Y-%m-%d").to_string()});
            for tenant in &tenants {
                report.polled += 1;
                let answer = match self
                    .treasury
                    .call(tenant.as_deref(), ServiceId::FD, params.clone())
                    .await
                {
                    Ok(a) if a.error_msg.is_none() => a,
                    Ok(a) => {
                        report.errors += 1;
                        tracing::warn!(error = ?a.error_msg, day = %day, "JIT FD answered an error.");
                        continue;
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::warn!(error = e.message(), day = %day, "JIT FD failed.");
                        continue;
                    }
                };
                for item in &answer.data {
                    let changed = self.failures(&caller, ServiceId::FD, item).await?;
                    report.changed += usize::from(changed);
                }
            }
        }
        Ok(report)
    }

    /// Applies one FD/FTFPS item (a bill with failed beneficiaries).
    async fn failures(
        &self,
        caller: &Caller,
        service: ServiceId,
        item: &Value,
    ) -> Result<bool, IfmsError> {
        if item
            .get("benfDtls")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            return Ok(false);
        }
        let Some(number) = text(item, "billNumber").or_else(|| text(item, "jitCorBillNo")) else {
            return Ok(false);
        };
        let mut conn = self.pool.acquire().await?;
        let Some(row) = store::by_number(&mut conn, None, &number).await? else {
            tracing::warn!(pi = %number, "JIT reports failures of an unknown PI.");
            return Ok(false);
        };
        drop(conn);
        let item = item.clone();
        self.change(
            caller,
            &row.id,
            service,
            &[PiStatus::Initiated, PiStatus::InProcess, PiStatus::Successful, PiStatus::Partial],
            true,
            |pi, by, now| {
                let changed = mark_failed(pi, &item, by, now);
                if changed {
                    settle(pi);
                }
                Change {
                    log: changed.then(|| status_log(service.as_str(), LogOutcome::Success)),
                    details: Some(json!({"failedBeneficiaries": item.get("benfDtls").map(|b| b.as_array().map_or(0, Vec::len))})),
                    changed,
                }
            },
        )
        .await
    }

    /// The original PI of a revised one and its payment advice's bill reference.
    async fn original_of(&self, pi: &Pi) -> Result<Option<Pi>, IfmsError> {
        let Some(id) = pi.row.originalpiid.clone() else {
            return Ok(None);
        };
        self.load_one(&id).await
    }

    /// FTPS: payments of accepted correction PIs.
    pub async fn run_ftps(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("FTPS");
        let mut report = PollReport::default();
        for id in self
            .ids(&[PiStatus::Initiated], REVISED, true, now_ms())
            .await?
        {
            let Some(pi) = self.load_one(&id).await? else {
                continue;
            };
            let Some(original) = self.original_of(&pi).await? else {
                tracing::error!(pi = %pi.row.pinumber, "A revised PI without its original: skipped.");
                report.errors += 1;
                continue;
            };
            let params = json!({"jitCorBillNo": pi.row.pinumber, "jitCorBillDate": pi.row.jitbilldate,
                "jitCorBillDeptCode": "MUKTA", "jitOrgBillNo": original.row.pinumber,
                "jitOrgBillRefNo": original.pa.as_ref().and_then(|p| p.pabillrefnumber.clone()),
                "jitOrgBillDate": original.row.jitbilldate});
            report.polled += 1;
            let answer = self
                .treasury
                .call(Some(&pi.row.tenantid), ServiceId::FTPS, params)
                .await;
            let changed = self
                .change(
                    &caller,
                    &id,
                    ServiceId::FTPS,
                    &[PiStatus::Initiated],
                    true,
                    |pi, by, now| {
                        data_outcome(
                            "FTPS",
                            answer,
                            |pi, data| {
                                let (mut paid, mut advised) = (false, false);
                                for item in
                                    data.iter().filter(|i| text(i, "jitCorBillNo").is_some())
                                {
                                    if let Some(pa) = pi.pa.as_mut() {
                                        let bill_ref = text(item, "billRefNo");
                                        advised |= pa.pabillrefnumber != bill_ref;
                                        pa.pabillrefnumber = bill_ref;
                                        pa.patokennumber = text(item, "tokenNumber");
                                        pa.patokendate = text(item, "tokenDate");
                                    }
                                    paid |= mark_paid(pi, item, by, now);
                                }
                                if paid {
                                    // Paid lines make the correction SUCCESSFUL; the rest are
                                    // reported by FTFPS.
                                    pi.row.set_status(PiStatus::Successful);
                                    settle(pi);
                                }
                                paid || advised
                            },
                            pi,
                        )
                    },
                )
                .await?;
            report.changed += usize::from(changed);
        }
        Ok(report)
    }

    /// FTFPS: failures of correction PIs (accepted or paid, within the window: a correction
    /// whose every line failed again is never paid, so FTFPS asks about INITIATED ones too).
    pub async fn run_ftfps(&self) -> Result<PollReport, IfmsError> {
        let caller = Caller::job("FTFPS");
        let mut report = PollReport::default();
        let window_start = now_ms() - self.settings.fd_window_days * 86_400_000;
        for id in self
            .ids(
                &[PiStatus::Initiated, PiStatus::Successful],
                REVISED,
                true,
                now_ms(),
            )
            .await?
        {
            let Some(pi) = self.load_one(&id).await? else {
                continue;
            };
            if pi.row.audit.lastmodifiedtime < window_start {
                continue;
            }
            let pa = pi.pa.clone().unwrap_or_default();
            let params = json!({"jitCorBillNo": pi.row.pinumber, "jitCorBillDate": pi.row.jitbilldate,
                "billRefNo": pa.pabillrefnumber, "tokenNumber": pa.patokennumber, "tokenDate": pa.patokendate});
            report.polled += 1;
            match self
                .treasury
                .call(Some(&pi.row.tenantid), ServiceId::FTFPS, params)
                .await
            {
                Ok(answer) if answer.error_msg.is_none() => {
                    for item in &answer.data {
                        let mut item = item.clone();
                        if text(&item, "jitCorBillNo").is_none()
                            && text(&item, "billNumber").is_none()
                        {
                            item["jitCorBillNo"] = json!(pi.row.pinumber);
                        }
                        report.changed +=
                            usize::from(self.failures(&caller, ServiceId::FTFPS, &item).await?);
                    }
                }
                other => {
                    report.errors += 1;
                    tracing::warn!(pi = %pi.row.pinumber, outcome = ?other.map(|a| a.error_msg).map_err(|e| e.message().to_owned()),
                        "JIT FTFPS failed.");
                }
            }
        }
        Ok(report)
    }
}

/// The PIS outcome: approved, rejected (funds returned by [`AdapterService::change`]), or
/// unchanged with a log.
fn pis_outcome(
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
fn data_outcome(
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
