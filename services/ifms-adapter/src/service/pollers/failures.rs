//! Failures and corrections: FD over the voucher-date window, FTPS and FTFPS.

use crate::domain::calendar::{fy_start_year, ist};
use crate::domain::status::{status_log, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::{now_ms, AdapterService, Caller};
use crate::store::pi::{self as store, Pi, REVISED};
use chrono::Duration;
use digit_jit::ServiceId;
use serde_json::{json, Value};

use super::outcomes::data_outcome;
use super::{mark_failed, mark_paid, settle, text, Change, PollReport};

impl AdapterService {
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
    pub(super) async fn failures(
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
    pub(super) async fn original_of(&self, pi: &Pi) -> Result<Option<Pi>, IfmsError> {
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
