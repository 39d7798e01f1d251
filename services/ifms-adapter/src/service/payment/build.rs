//! The new-PI algorithm of A1.6: a payment's payable line items, deductions paid to the
//! department, beneficiaries merged by payee and then by account + IFSC, enriched from the
//! bank account, individual and organisation services, the first sanction (SSUs × heads of
//! account in `sequence` order) whose funds cover the total, and then the same posting as
//! a disbursement: PI and DEBIT in one transaction, the JIT post, the outcome.

use super::Source;
use crate::domain::calendar::ist_date_time;
use crate::domain::codes;
use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::disburse::{pi_params, JitPayee};
use crate::service::{field, new_id, now_ms, AdapterService, Caller};
use crate::store::funds;
use crate::store::pi::{self as store, Audit, BeneficiaryRow, Pi, PiRow, ORIGINAL};
use crate::store::sanctions::{self, SanctionForPi};
use digit_jit::ServiceId;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::types::Json;

/// One beneficiary of a payment before numbering.
#[derive(Debug, Clone)]
struct Payee {
    /// Individual / organisation id, or `Deduction_<tenant>_<head>`.
    id: String,
    /// `IND`, `ORG` or `DEPT`.
    kind: &'static str,
    /// Σ of its line items.
    amount: Decimal,
    /// Line item ids.
    lines: Vec<String>,
    /// From enrichment.
    details: Option<Details>,
}

#[derive(Debug, Clone)]
struct Details {
    name: String,
    account: String,
    ifsc: String,
    account_type: Option<String>,
    bank_account_id: Option<String>,
    mobile: String,
    address: String,
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(*p)?,
        };
    }
    match cur {
        Value::String(x) => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|x| !x.trim().is_empty())
}

/// An exact amount of an expense record; a missing or unreadable one is an error, never 0.
fn amount(v: &Value, key: &str) -> Result<Decimal, IfmsError> {
    let raw = v.get(key).map(|a| a.to_string()).unwrap_or_default();
    // A rule, not a dependency failure: retrying cannot mend the record (and a consumer
    // retrying it would hold up every later payment).
    raw.trim_matches('"').parse::<Decimal>().map_err(|_| {
        IfmsError::Rule(codes::rule_with(
            codes::PI_REQUEST_INVALID_PARAMS,
            format!(
                "expense: line item {} has no readable {key} ('{raw}')",
                s(v, &["id"]).unwrap_or_default()
            ),
        ))
    })
}

impl AdapterService {
    /// A new original PI for `payment` (A1.6), or the PI already made for it.
    pub async fn pay(
        &self,
        caller: &Caller,
        payment: &Value,
        source: Source,
    ) -> Result<Pi, IfmsError> {
        let invalid =
            |m: &str| IfmsError::Rule(codes::rule_with(codes::PI_REQUEST_INVALID_PARAMS, m));
        let tenant =
            s(payment, &["tenantId"]).ok_or_else(|| invalid("payment.tenantId is required"))?;
        let number = s(payment, &["paymentNumber"])
            .ok_or_else(|| invalid("payment.paymentNumber is required"))?;
        self.authorize(caller, &tenant).await?;
        if let Some(existing) = self.blocking_pi(&tenant, &number).await? {
            return match source {
                Source::Message => Ok(existing),
                Source::Retry | Source::Direct => Err(self.duplicate(&existing)),
            };
        }

        // 1–2. The payable line items and their beneficiaries.
        let payees = self.payees(&tenant, payment).await?;
        if payees.is_empty() {
            return Err(invalid("the payment has no payable line items"));
        }
        // 3–4. Details, then one beneficiary per account.
        let payees = self.enrich(&tenant, payees).await?;
        let total: Decimal = payees.iter().map(|p| p.amount).sum();
        let unknown: Vec<&str> = payees
            .iter()
            .filter(|p| p.details.is_none())
            .map(|p| p.id.as_str())
            .collect();

        // 6. Where the money may come from (the guarded debit decides under the lock).
        let candidates = if unknown.is_empty() {
            self.candidates(&tenant, total).await?
        } else {
            Vec::new()
        };
        let count = u32::try_from(payees.len()).map_err(|_| invalid("too many beneficiaries"))?;
        let pi_number = self
            .idgen
            .generate(&tenant, Some("ifms.pi.reference.number"), None, 1)
            .await?
            .pop()
            .unwrap_or_default();
        let numbers = self
            .idgen
            .generate(&tenant, Some("ifms.benef.reference.number"), None, count)
            .await?;
        let now = now_ms();
        let by = caller.uuid();

        let mut tx = self.pool.begin().await?;
        store::lock_payment(&mut tx, &tenant, &number).await?;
        let current = store::of_payment(&mut tx, &tenant, &number).await?;
        if let Some(row) = current.iter().find(|p| p.status() != PiStatus::Failed) {
            let id = row.id.clone();
            drop(tx);
            let mut conn = self.pool.acquire().await?;
            let existing = store::load(&mut conn, &[id], false).await?.pop();
            return match (source, existing) {
                (Source::Message, Some(p)) => Ok(p),
                (_, Some(p)) => Err(self.duplicate(&p)),
                (_, None) => Err(IfmsError::Corrupt("a PI vanished".into())),
            };
        }
        let mut chosen: Option<(SanctionForPi, Value, Value)> = None;
        let id = new_id();
        for (sanction, hoa, ssu) in candidates {
            // The guarded update decides (another payment may have taken the funds since
            // the candidates were read); its DEBIT row follows the PI row below.
            if funds::debit_guard(&mut tx, &tenant, &sanction.id, total, &by, now).await? {
                chosen = Some((sanction, hoa, ssu));
                break;
            }
        }
        let mut row = self.payment_row(
            &id,
            &tenant,
            &number,
            pi_number,
            total,
            payees.len(),
            payment,
            &by,
            now,
        )?;
        let mut beneficiaries = Vec::with_capacity(payees.len());
        for (p, benef) in payees.iter().zip(numbers) {
            beneficiaries.push(self.payment_beneficiary(&row, p, benef)?);
        }
        let failure = if !unknown.is_empty() {
            Some((
                format!(
                    "PAYEE_NOT_FOUND no bank account, individual or organisation for {}",
                    unknown.join(", ")
                ),
                status_log("PI", LogOutcome::Error),
            ))
        } else if chosen.is_none() {
            Some((
                "PAYMENT_INSUFFICIENT_FUNDS".to_owned(),
                status_log("PI", LogOutcome::NoFunds),
            ))
        } else {
            None
        };
        match (&chosen, &failure) {
            (Some((sanction, hoa, ssu)), None) => {
                row.sanctionid = Some(sanction.id.clone());
                row.hoacode = Some(sanction.hoacode.clone());
                row.ddocode = Some(sanction.ddocode.clone());
                row.ssuiaid = field(ssu, "ssuId");
                row.programcode = sanction.programcode.clone();
                let jit: Vec<JitPayee> = payees
                    .iter()
                    .zip(&beneficiaries)
                    .filter_map(|(p, b)| {
                        let d = p.details.as_ref()?;
                        Some(JitPayee {
                            benef_id: b.beneficiarynumber.clone(),
                            name: d.name.clone(),
                            account: d.account.clone(),
                            ifsc: d.ifsc.clone(),
                            mobile: d.mobile.clone(),
                            email: String::new(),
                            address: d.address.clone(),
                            account_type: d.account_type.clone(),
                            amount: p.amount,
                        })
                    })
                    .collect();
                let params = pi_params(&row, sanction, hoa, ssu, &jit);
                row.jitrequest = Some(self.seal(ServiceId::PI, &params)?);
                let pi = Pi::new(row, beneficiaries);
                store::insert(&mut tx, &pi).await?;
                funds::debit_record(&mut tx, &tenant, &sanction.id, &pi.row.id, total, &by, now)
                    .await?;
                tx.commit().await?;
                let (service, params) = self.jit_request(&pi)?;
                let answer = self.treasury.call(Some(&tenant), service, params).await;
                self.record_post(caller, &pi.row.id, service, answer, true)
                    .await?;
                // A post without an answer leaves the payment INITIATED: tell expense so.
                let mut conn = self.pool.acquire().await?;
                let pi = store::load(&mut conn, std::slice::from_ref(&pi.row.id), false)
                    .await?
                    .pop()
                    .ok_or_else(|| IfmsError::Corrupt("the PI vanished".into()))?;
                if !pi.row.jitposted && pi.row.status() == PiStatus::Initiated {
                    let mut tx = self.pool.begin().await?;
                    self.enqueue(
                        &mut tx,
                        self.payment_update(caller, &pi)?.into_iter().collect(),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok(pi)
            }
            (_, Some((reason, log))) => {
                // A FAILED PI without JIT: no funds, or payees unknown (A1.6 step 9, C.1 item 30).
                row.set_status(PiStatus::Failed);
                row.pierrorresp = Some(reason.clone());
                for b in &mut beneficiaries {
                    b.set_status(BeneficiaryStatus::Failed);
                    b.paymentstatusmessage = Some(reason.clone());
                }
                let pi = Pi::new(row, beneficiaries);
                store::insert(&mut tx, &pi).await?;
                store::log(
                    &mut tx,
                    &pi.row.id,
                    "PI",
                    log,
                    Some(json!({"error": reason})),
                    &by,
                    now,
                )
                .await?;
                let mut outbox = vec![self.index_copy(&pi)?];
                outbox.extend(self.payment_update(caller, &pi)?);
                self.enqueue(&mut tx, outbox).await?;
                tx.commit().await?;
                let mut conn = self.pool.acquire().await?;
                store::load(&mut conn, std::slice::from_ref(&pi.row.id), false)
                    .await?
                    .pop()
                    .ok_or_else(|| IfmsError::Corrupt("the PI vanished".into()))
            }
            (None, None) => Err(IfmsError::Corrupt("no sanction and no failure".into())),
        }
    }

    fn duplicate(&self, existing: &Pi) -> IfmsError {
        IfmsError::Rule(codes::rule_with(
            codes::PI_DUPLICATE_ERROR,
            format!(
                "PI is already created for Payment Advice {}: {} is {}",
                existing.row.muktareferenceid,
                existing.row.pinumber,
                existing.row.status().text()
            ),
        ))
    }

    /// Sanctions (with their head of account and SSU) that cover `total`, in upstream's order:
    /// SSUs, then heads by `sequence`, then sanctions newest first.
    async fn candidates(
        &self,
        tenant: &str,
        total: Decimal,
    ) -> Result<Vec<(SanctionForPi, Value, Value)>, IfmsError> {
        let ssus = self.ssus(tenant, true).await?;
        let hoas = self.heads_of_account().await?;
        let mut out = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for ssu in &ssus {
            let ddo = field(ssu, "ddoCode").unwrap_or_default();
            for hoa in &hoas {
                let code = field(hoa, "code").unwrap_or_default();
                for s in sanctions::with_funds(&mut conn, tenant, &ddo, &code, total).await? {
                    out.push((s, hoa.clone(), ssu.clone()));
                }
            }
        }
        Ok(out)
    }

    /// The payable line items the payment pays, grouped into beneficiaries (A1.6 steps 1–2).
    async fn payees(&self, tenant: &str, payment: &Value) -> Result<Vec<Payee>, IfmsError> {
        let empty = Vec::new();
        let payment_bills = payment
            .get("bills")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let ids: Vec<String> = payment_bills
            .iter()
            .filter_map(|b| s(b, &["billId"]))
            .collect();
        let bills = self.mukta.bills(tenant, &ids).await?;
        let deductions: Vec<String> = self
            .mdms
            .master(tenant, "expense", "HeadCodes", None)
            .await?
            .iter()
            .filter(|h| field(h, "category").is_some_and(|c| c.eq_ignore_ascii_case("deduction")))
            .filter_map(|h| field(h, "code"))
            .collect();
        let mut payees: Vec<Payee> = Vec::new();
        for pb in payment_bills {
            // A payment names bills expense must know; paying the rest would pay part of it.
            let Some(bill) = bills.iter().find(|b| s(b, &["id"]) == s(pb, &["billId"])) else {
                return Err(IfmsError::Rule(codes::rule_with(
                    codes::PI_REQUEST_INVALID_PARAMS,
                    format!(
                        "bill {} of the payment is not known to expense",
                        s(pb, &["billId"]).unwrap_or_default()
                    ),
                )));
            };
            for pd in pb
                .get("billDetails")
                .and_then(Value::as_array)
                .unwrap_or(&empty)
            {
                let Some(detail) =
                    bill.get("billDetails")
                        .and_then(Value::as_array)
                        .and_then(|ds| {
                            ds.iter()
                                .find(|d| s(d, &["id"]) == s(pd, &["billDetailId"]))
                        })
                else {
                    continue;
                };
                for pl in pd
                    .get("payableLineItems")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                {
                    let paid_status = s(pl, &["status"]).unwrap_or_else(|| "INITIATED".into());
                    if !["INITIATED", "FAILED"]
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(&paid_status))
                    {
                        continue;
                    }
                    let Some(item) = detail
                        .get("payableLineItems")
                        .and_then(Value::as_array)
                        .and_then(|ls| ls.iter().find(|l| s(l, &["id"]) == s(pl, &["lineItemId"])))
                    else {
                        continue;
                    };
                    if !s(item, &["status"]).is_some_and(|x| x.eq_ignore_ascii_case("ACTIVE")) {
                        continue;
                    }
                    let head = s(item, &["headCode"]).unwrap_or_default();
                    let (id, kind) = if deductions.iter().any(|d| d.eq_ignore_ascii_case(&head)) {
                        (format!("Deduction_{tenant}_{head}"), "DEPT")
                    } else {
                        let payee_type = s(detail, &["payee", "type"]).unwrap_or_default();
                        let kind = if payee_type.eq_ignore_ascii_case("INDIVIDUAL")
                            || payee_type.eq_ignore_ascii_case("IND")
                        {
                            "IND"
                        } else {
                            "ORG"
                        };
                        (
                            s(detail, &["payee", "identifier"]).unwrap_or_default(),
                            kind,
                        )
                    };
                    let line = s(item, &["id"]).unwrap_or_default();
                    let a = amount(item, "amount")?;
                    match payees.iter_mut().find(|p| p.id == id) {
                        Some(p) => {
                            p.amount += a;
                            p.lines.push(line);
                        }
                        None => payees.push(Payee {
                            id,
                            kind,
                            amount: a,
                            lines: vec![line],
                            details: None,
                        }),
                    }
                }
            }
        }
        Ok(payees)
    }

    /// Bank, individual and organisation details (A1.6 step 3); payees without them keep
    /// `details: None`. Then one beneficiary per account + IFSC (step 4).
    async fn enrich(&self, tenant: &str, payees: Vec<Payee>) -> Result<Vec<Payee>, IfmsError> {
        let ids: Vec<String> = payees.iter().map(|p| p.id.clone()).collect();
        let accounts = self.mukta.bank_accounts(tenant, &ids).await?;
        let inds: Vec<String> = payees
            .iter()
            .filter(|p| p.kind == "IND")
            .map(|p| p.id.clone())
            .collect();
        let orgs: Vec<String> = payees
            .iter()
            .filter(|p| p.kind == "ORG")
            .map(|p| p.id.clone())
            .collect();
        let individuals = self.mukta.individuals(tenant, &inds).await?;
        let organisations = self.mukta.organisations(tenant, &orgs).await?;
        let tenant_row = self
            .mdms
            .master(&self.settings.state_tenant, "tenant", "tenants", None)
            .await?
            .into_iter()
            .find(|t| field(t, "code").as_deref() == Some(tenant));
        let mut out: Vec<Payee> = Vec::new();
        for mut p in payees {
            let record = accounts
                .iter()
                .find(|a| s(a, &["referenceId"]).as_deref() == Some(p.id.as_str()));
            // The audit log is kept per bank account record (its `id`), not per detail.
            let record_id = record.and_then(|a| s(a, &["id"]));
            let account = record.and_then(|a| a.get("bankAccountDetails").and_then(|d| d.get(0)));
            let contact = match p.kind {
                "IND" => individuals
                    .iter()
                    .find(|i| s(i, &["id"]).as_deref() == Some(p.id.as_str()))
                    .map(|i| {
                        let address = [
                            s(i, &["address", "0", "ward", "code"]),
                            s(i, &["address", "0", "locality", "code"]),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                        (s(i, &["mobileNumber"]), address)
                    }),
                "ORG" => organisations
                    .iter()
                    .find(|o| s(o, &["id"]).as_deref() == Some(p.id.as_str()))
                    .map(|o| {
                        let address = [
                            s(o, &["orgAddress", "0", "boundaryCode"]),
                            s(o, &["orgAddress", "0", "city"]),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                        (
                            s(o, &["contactDetails", "0", "contactMobileNumber"]),
                            address,
                        )
                    }),
                // The department: its tenant's contact in MDMS (not invented data).
                _ => tenant_row.as_ref().map(|t| {
                    (
                        s(t, &["contactNumber"]),
                        s(t, &["address"]).unwrap_or_default(),
                    )
                }),
            };
            if let (Some(a), Some((Some(mobile), address))) = (account, contact) {
                if let (Some(name), Some(number), Some(ifsc)) = (
                    s(a, &["accountHolderName"]),
                    s(a, &["accountNumber"]),
                    s(a, &["bankBranchIdentifier", "code"]),
                ) {
                    p.details = Some(Details {
                        name: crate::domain::disbursement::clean(&name),
                        account: number,
                        ifsc,
                        account_type: s(a, &["accountType"]),
                        bank_account_id: record_id.clone(),
                        mobile,
                        address: crate::domain::disbursement::clean(&address),
                    });
                }
            }
            // Merge by account + IFSC (JIT refuses a repeated account in one PI).
            let key = p
                .details
                .as_ref()
                .map(|d| (d.account.clone(), d.ifsc.to_ascii_uppercase()));
            match key.and_then(|k| {
                out.iter_mut().find(|o| {
                    o.details
                        .as_ref()
                        .map(|d| (d.account.clone(), d.ifsc.to_ascii_uppercase()))
                        == Some(k.clone())
                })
            }) {
                Some(o) => {
                    o.amount += p.amount;
                    o.lines.extend(p.lines);
                }
                None => out.push(p),
            }
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn payment_row(
        &self,
        id: &str,
        tenant: &str,
        number: &str,
        pi_number: String,
        total: Decimal,
        beneficiaries: usize,
        payment: &Value,
        by: &str,
        now: i64,
    ) -> Result<PiRow, IfmsError> {
        let bills: Vec<Value> = payment
            .get("bills")
            .and_then(Value::as_array)
            .map(|b| b.iter().filter_map(|x| x.get("billId").cloned()).collect())
            .unwrap_or_default();
        Ok(PiRow {
            id: id.to_owned(),
            tenantid: tenant.to_owned(),
            pinumber: pi_number,
            parentpinumber: None,
            muktareferenceid: number.to_owned(),
            numbeneficiaries: i32::try_from(beneficiaries).unwrap_or(i32::MAX),
            grossamount: total,
            netamount: total,
            pistatus: PiStatus::Initiated.code().to_owned(),
            pisuccesscode: None,
            pisuccessdesc: None,
            piapprovedid: None,
            piapprovaldate: None,
            pierrorresp: None,
            additionaldetails: Some(Json(
                json!({"billIds": bills, "paymentId": payment.get("id")}),
            )),
            isactive: true,
            programcode: None,
            pitype: ORIGINAL.to_owned(),
            originalpiid: None,
            previouspiid: None,
            sanctionid: None,
            hoacode: None,
            ddocode: None,
            ssuiaid: None,
            jitbilldate: ist_date_time(now),
            jitposted: false,
            disbursement: Some(Json(json!({"payment": payment}))),
            jitrequest: None,
            audit: Audit::new(by, now),
        })
    }

    fn payment_beneficiary(
        &self,
        pi: &PiRow,
        p: &Payee,
        number: String,
    ) -> Result<BeneficiaryRow, IfmsError> {
        let account = p
            .details
            .as_ref()
            .map(|d| self.pii.encrypt(&format!("{}@{}", d.account, d.ifsc)))
            .transpose()
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        Ok(BeneficiaryRow {
            id: new_id(),
            tenantid: pi.tenantid.clone(),
            muktareferenceid: Some(pi.muktareferenceid.clone()),
            piid: pi.id.clone(),
            beneficiaryid: Some(p.id.clone()),
            beneficiarytype: Some(p.kind.to_owned()),
            beneficiarynumber: number,
            bankaccountcode: account,
            amount: p.amount,
            vouchernumber: None,
            voucherdate: None,
            utrno: None,
            utrdate: None,
            endtoendid: None,
            challannumber: None,
            challandate: None,
            paymentstatus: BeneficiaryStatus::Initiated.code().to_owned(),
            paymentstatusmessage: None,
            additionaldetails: Some(Json(json!({
                "bankAccountId": p.details.as_ref().and_then(|d| d.bank_account_id.clone())}))),
            audit: pi.audit.clone(),
            line_items: p.lines.iter().map(|l| (new_id(), l.clone())).collect(),
        })
    }
}
