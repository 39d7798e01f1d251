//! The revised PI of the payment path (spec A1.8, `/pi/v1/_create {tenantId, parentPI}`): a
//! correction PI (COR) for the failed beneficiaries of the chain's last PI, with each
//! beneficiary's account as it was for the original PI, as it was for the last one, and as
//! it is now — the first two from the bank account's audit log (falling back to the account
//! this adapter stored with each PI), the last from the bank account service. No funds are
//! checked or debited: the correction pays from the original debit.

use crate::domain::calendar::ist_date_time;
use crate::domain::codes;
use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::pollers::Change;
use crate::service::{new_id, now_ms, AdapterService, Caller};
use crate::store::pi::{self as store, BeneficiaryRow, Pi, REVISED};
use digit_jit::ServiceId;
use serde_json::{json, Value};
use sqlx::types::Json;

fn revision_refused(message: impl Into<String>) -> IfmsError {
    IfmsError::Rule(codes::rule_with(codes::REVISED_PI_GEN_ERROR, message))
}

impl AdapterService {
    /// A correction PI for `parent` (an original PI of `tenant`).
    pub async fn revise(
        &self,
        caller: &Caller,
        tenant: &str,
        parent: &str,
    ) -> Result<Pi, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        let original = store::by_number(&mut conn, Some(tenant), parent)
            .await?
            .filter(|p| !p.is_revised())
            .ok_or_else(|| {
                revision_refused(format!("{parent} is not an original PI of {tenant}"))
            })?;
        if !matches!(original.status(), PiStatus::Partial | PiStatus::Completed) {
            return Err(revision_refused(format!(
                "{parent} is {}, not PARTIAL or COMPLETED",
                original.status().text()
            )));
        }
        let chain: Vec<_> = store::of_payment(&mut conn, tenant, &original.muktareferenceid)
            .await?
            .into_iter()
            .filter(|p| p.originalpiid.as_deref() == Some(original.id.as_str()) && p.isactive)
            .collect();
        if let Some(live) = chain
            .iter()
            .find(|p| matches!(p.status(), PiStatus::Initiated | PiStatus::Successful))
        {
            return Err(revision_refused(format!(
                "revised PI {} of {parent} is {}",
                live.pinumber,
                live.status().text()
            )));
        }
        drop(conn);
        let payment = self
            .mukta
            .payment(tenant, &original.muktareferenceid)
            .await?
            .ok_or_else(|| IfmsError::rule(codes::PAYMENT_NOT_FIND_ERROR))?;
        let mut ids = vec![original.id.clone()];
        let last_revised = chain.first().cloned();
        if let Some(l) = &last_revised {
            ids.push(l.id.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let loaded = store::load(&mut conn, &ids, false).await?;
        drop(conn);
        let original_pi = loaded
            .iter()
            .find(|p| p.row.id == original.id)
            .ok_or_else(|| revision_refused("original vanished"))?;
        let base = last_revised
            .as_ref()
            .and_then(|l| loaded.iter().find(|p| p.row.id == l.id))
            .unwrap_or(original_pi);
        let failed: Vec<&BeneficiaryRow> = base
            .beneficiaries
            .iter()
            .filter(|b| b.status() == BeneficiaryStatus::Failed)
            .collect();
        if failed.is_empty() {
            return Err(revision_refused(format!(
                "{} has no failed beneficiary",
                base.row.pinumber
            )));
        }
        let payee_ids: Vec<String> = failed
            .iter()
            .filter_map(|b| b.beneficiaryid.clone())
            .collect();
        let current = self.mukta.bank_accounts(tenant, &payee_ids).await?;
        let pi_number = self
            .idgen
            .generate(tenant, Some("ifms.repi.reference.number"), None, 1)
            .await?
            .pop()
            .unwrap_or_default();
        let now = now_ms();
        let by = caller.uuid();
        let mut row = base.row.clone();
        row.id = new_id();
        row.pinumber = pi_number;
        row.parentpinumber = Some(original.pinumber.clone());
        row.originalpiid = Some(original.id.clone());
        row.previouspiid = Some(base.row.id.clone());
        row.pitype = REVISED.to_owned();
        row.pistatus = PiStatus::Initiated.code().to_owned();
        row.pisuccesscode = None;
        row.pisuccessdesc = None;
        row.piapprovedid = None;
        row.piapprovaldate = None;
        row.pierrorresp = None;
        row.isactive = true;
        row.jitposted = false;
        row.jitbilldate = ist_date_time(now);
        row.disbursement = Some(Json(json!({"payment": payment})));
        row.audit = store::Audit::new(&by, now);
        row.numbeneficiaries = i32::try_from(failed.len()).unwrap_or(i32::MAX);
        row.grossamount = failed.iter().map(|b| b.amount).sum();
        row.netamount = row.grossamount;
        let mut beneficiaries = Vec::new();
        let mut items = Vec::new();
        for b in &failed {
            let now_account = current
                .iter()
                .find(|a| {
                    a.get("referenceId").and_then(Value::as_str) == b.beneficiaryid.as_deref()
                })
                .and_then(|a| a.get("bankAccountDetails").and_then(|d| d.get(0)));
            let Some(now_account) = now_account else {
                return Err(revision_refused(format!(
                    "beneficiary {} has no bank account now",
                    b.beneficiarynumber
                )));
            };
            let text = |k: &[&str]| {
                let mut v = now_account;
                for p in k {
                    v = v.get(*p).unwrap_or(&Value::Null);
                }
                v.as_str().unwrap_or_default().to_owned()
            };
            let (corrected, corrected_ifsc) = (
                text(&["accountNumber"]),
                text(&["bankBranchIdentifier", "code"]),
            );
            let bank_id = b
                .additionaldetails
                .as_ref()
                .and_then(|d| d.0.get("bankAccountId"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    now_account
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            let stored_of = |p: &Pi| -> Result<Option<(String, String)>, IfmsError> {
                p.beneficiaries
                    .iter()
                    .find(|x| x.beneficiarynumber == b.beneficiarynumber)
                    .map(|x| self.account_of(x))
                    .transpose()
            };
            let org = self
                .account_at(
                    tenant,
                    bank_id.as_deref(),
                    original_pi.row.audit.createdtime,
                )
                .await?
                .or(stored_of(original_pi)?)
                .unwrap_or_default();
            let cur = match &last_revised {
                Some(_) => self
                    .account_at(tenant, bank_id.as_deref(), base.row.audit.createdtime)
                    .await?
                    .or(stored_of(base)?)
                    .unwrap_or_else(|| org.clone()),
                None => org.clone(),
            };
            items.push(json!({"benefId": b.beneficiarynumber,
                "jitCurBillRefNo": base.pa.as_ref().and_then(|p| p.pabillrefnumber.clone()),
                "orgAccountNo": org.0, "orgIfsc": org.1,
                "correctedAccountNo": corrected, "correctedIfsc": corrected_ifsc,
                "curAccountNo": cur.0, "curIfsc": cur.1}));
            let mut nb = (*b).clone();
            nb.id = new_id();
            nb.piid = row.id.clone();
            nb.set_status(BeneficiaryStatus::Initiated);
            nb.paymentstatusmessage = None;
            nb.vouchernumber = None;
            nb.voucherdate = None;
            nb.utrno = None;
            nb.utrdate = None;
            nb.endtoendid = None;
            nb.challannumber = None;
            nb.challandate = None;
            nb.bankaccountcode = Some(
                self.pii
                    .encrypt(&format!("{corrected}@{corrected_ifsc}"))
                    .map_err(|e| IfmsError::Corrupt(e.to_string()))?,
            );
            nb.audit = row.audit.clone();
            nb.line_items = b
                .line_items
                .iter()
                .map(|(_, l)| (new_id(), l.clone()))
                .collect();
            beneficiaries.push(nb);
        }
        let params = json!({
            "jitCorBillNo": row.pinumber, "jitCorBillDate": row.jitbilldate, "jitCorBillDeptCode": "MUKTA",
            "jitOrgBillRefNo": original_pi.pa.as_ref().and_then(|p| p.pabillrefnumber.clone()),
            "jitOrgBillNo": original.pinumber, "jitOrgBillDate": original.jitbilldate,
            "beneficiaryDtls": items,
        });
        row.jitrequest = Some(self.seal(ServiceId::COR, &params)?);
        let pi = Pi::new(row, beneficiaries);

        let mut tx = self.pool.begin().await?;
        store::lock_payment(&mut tx, tenant, &original.muktareferenceid).await?;
        store::insert(&mut tx, &pi).await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("jit_pi_one_in_flight") => {
                revision_refused("another PI of the payment is in flight")
            }
            _ => e.into(),
        })?;
        tx.commit().await?;
        let answer = self
            .treasury
            .call(Some(tenant), ServiceId::COR, params)
            .await;
        self.change(
            caller,
            &pi.row.id,
            ServiceId::COR,
            &[PiStatus::Initiated],
            true,
            |p, by, now| {
                if p.row.jitposted {
                    return Change::unchanged(status_log("COR", LogOutcome::Success));
                }
                let (log, details) = self.apply_post(p, answer, by, now);
                if p.row.status() == PiStatus::Failed {
                    // Upstream copies the previous messages onto the failed correction's lines.
                    for (nb, ob) in p.beneficiaries.iter_mut().zip(&failed) {
                        nb.paymentstatusmessage = ob
                            .paymentstatusmessage
                            .clone()
                            .or(nb.paymentstatusmessage.take());
                    }
                }
                Change {
                    log: Some(log),
                    details,
                    changed: true,
                }
            },
        )
        .await?;
        let mut conn = self.pool.acquire().await?;
        store::load(&mut conn, std::slice::from_ref(&pi.row.id), false)
            .await?
            .pop()
            .ok_or_else(|| IfmsError::Corrupt("the revised PI vanished".into()))
    }

    /// A bank account's number and IFSC as they were at `at` (epoch ms), from the audit
    /// log of upstream's bank account service: the newest entry not after `at` of
    /// `eg_bank_account_detail` (`accountNumber`) and of `eg_bank_branch_identifier`
    /// (`code`). `None` when the log has neither.
    async fn account_at(
        &self,
        tenant: &str,
        bank_account_id: Option<&str>,
        at: i64,
    ) -> Result<Option<(String, String)>, IfmsError> {
        let Some(id) = bank_account_id else {
            return Ok(None);
        };
        let mut logs = self.mukta.audit_logs(tenant, id).await?;
        logs.retain(|l| {
            l.get("changeDate")
                .and_then(Value::as_i64)
                .is_some_and(|d| d <= at)
        });
        logs.sort_by_key(|l| {
            std::cmp::Reverse(l.get("changeDate").and_then(Value::as_i64).unwrap_or(0))
        });
        let first = |entity: &str, key: &str| {
            logs.iter()
                .filter(|l| l.get("entityName").and_then(Value::as_str) == Some(entity))
                .find_map(|l| {
                    l.get("keyValueMap")
                        .and_then(|m| m.get(key))
                        .and_then(Value::as_str)
                })
                .map(str::to_owned)
        };
        Ok(first("eg_bank_account_detail", "accountNumber")
            .zip(first("eg_bank_branch_identifier", "code")))
    }
}
