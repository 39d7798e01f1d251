//! The original PI's pollers: the re-post of unanswered posts, PIS, PAG and PD.

use crate::domain::status::{BeneficiaryStatus, PiStatus};
use crate::error::IfmsError;
use crate::service::{now_ms, AdapterService, Caller};
use crate::store::pi::{ORIGINAL, REVISED};
use digit_jit::ServiceId;
use serde_json::json;

use super::outcomes::{data_outcome, pis_outcome};
use super::{date_of, mark_paid, settle, text, Change, PollReport};

impl AdapterService {
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
}
