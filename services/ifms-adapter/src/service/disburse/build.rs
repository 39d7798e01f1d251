//! Building a PI from a disbursement: the PI row, its beneficiaries and the JIT request
//! (PI for an original, COR for a correction), the disbursement kept (sealed) for
//! `on-disburse`, and the stored request read back for a re-post.

use crate::domain::calendar::ist_date_time;
use crate::domain::codes::{self};
use crate::domain::disbursement::{self, Checked, CheckedLine};
use crate::domain::status::{BeneficiaryStatus, PiStatus};
use crate::error::IfmsError;
use crate::service::{field, new_id, AdapterService, Caller};
use crate::store::pi::{
    self as store, jit_amount, Audit, BeneficiaryRow, Pi, PiRow, ORIGINAL, REVISED,
};
use crate::store::sanctions::{self, SanctionForPi};
use digit_jit::ServiceId;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::types::Json;

use super::Request;
impl AdapterService {
    /// The disbursement kept with its PI: the header, and the message (payees and accounts
    /// included: the program service's `on-disburse` needs the whole disbursement back)
    /// sealed like every other PII at rest.
    pub(super) fn kept(&self, request: &Request) -> Result<Value, IfmsError> {
        let mut message = request.message.clone();
        if message.get("id").is_none_or(Value::is_null) {
            message["id"] = json!(request.checked.id);
        }
        if let Some(children) = message.get_mut("children").and_then(Value::as_array_mut) {
            for (child, line) in children.iter_mut().zip(&request.checked.lines) {
                if child.get("id").is_none_or(Value::is_null) {
                    child["id"] = json!(line.id);
                }
            }
        }
        let sealed = self
            .pii
            .encrypt(&message.to_string())
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        Ok(json!({"header": request.header, "sealedMessage": sealed}))
    }

    /// The kept disbursement message of a PI (decrypted).
    pub fn kept_message(&self, pi: &Pi) -> Result<Option<(Value, Value)>, IfmsError> {
        let Some(kept) = pi.row.disbursement.as_ref().map(|j| &j.0) else {
            return Ok(None);
        };
        let (Some(header), Some(sealed)) = (
            kept.get("header"),
            kept.get("sealedMessage").and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        let text = self
            .pii
            .decrypt(sealed)
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        Ok(Some((header.clone(), serde_json::from_str(&text)?)))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn pi_row(
        &self,
        caller: &Caller,
        request: &Request,
        pi_number: String,
        pi_type: &str,
        beneficiaries: usize,
        now: i64,
    ) -> Result<PiRow, IfmsError> {
        let c = &request.checked;
        Ok(PiRow {
            id: c.id.clone(),
            tenantid: c.tenant_id.clone(),
            pinumber: pi_number,
            parentpinumber: None,
            muktareferenceid: c.target_id.clone(),
            numbeneficiaries: i32::try_from(beneficiaries).unwrap_or(i32::MAX),
            grossamount: c.amount,
            netamount: c.amount,
            pistatus: PiStatus::Initiated.code().to_owned(),
            pisuccesscode: None,
            pisuccessdesc: None,
            piapprovedid: None,
            piapprovaldate: None,
            pierrorresp: None,
            additionaldetails: None,
            isactive: true,
            programcode: Some(c.program_code.clone()),
            pitype: pi_type.to_owned(),
            originalpiid: None,
            previouspiid: None,
            sanctionid: Some(c.sanction_id.clone()),
            hoacode: None,
            ddocode: None,
            ssuiaid: None,
            jitbilldate: ist_date_time(now),
            jitposted: false,
            disbursement: Some(Json(self.kept(request)?)),
            jitrequest: None,
            audit: Audit::new(&caller.uuid(), now),
        })
    }

    pub(super) fn beneficiary(
        &self,
        pi: &PiRow,
        number: String,
        lines: &[&CheckedLine],
        amount: Decimal,
    ) -> Result<BeneficiaryRow, IfmsError> {
        let first = lines
            .first()
            .ok_or_else(|| IfmsError::rule(codes::INVALID_CHILD_DISBURSEMENTS))?;
        let kind =
            first
                .beneficiary_type
                .as_deref()
                .map(|t| match t.to_ascii_uppercase().as_str() {
                    "INDIVIDUAL" | "IND" => "IND".to_owned(),
                    "ORG" | "ORGANISATION" | "ORGANIZATION" => "ORG".to_owned(),
                    other => other.to_owned(),
                });
        let id = new_id();
        Ok(BeneficiaryRow {
            line_items: lines
                .iter()
                .map(|l| (new_id(), l.line_item_id.clone()))
                .collect(),
            id,
            tenantid: pi.tenantid.clone(),
            muktareferenceid: Some(pi.muktareferenceid.clone()),
            piid: pi.id.clone(),
            beneficiaryid: first.beneficiary_id.clone(),
            beneficiarytype: kind,
            beneficiarynumber: number,
            bankaccountcode: Some(
                self.pii
                    .encrypt(&first.account_code)
                    .map_err(|e| IfmsError::Corrupt(e.to_string()))?,
            ),
            amount,
            vouchernumber: None,
            voucherdate: None,
            utrno: None,
            utrdate: None,
            endtoendid: None,
            challannumber: None,
            challandate: None,
            paymentstatus: BeneficiaryStatus::Initiated.code().to_owned(),
            paymentstatusmessage: None,
            additionaldetails: Some(Json(
                json!({"lineIds": lines.iter().map(|l| l.id.clone()).collect::<Vec<_>>()}),
            )),
            audit: pi.audit.clone(),
        })
    }

    pub(super) async fn original_pi(
        &self,
        caller: &Caller,
        request: &Request,
        pi_number: String,
        benef_numbers: Vec<String>,
        replaces: Option<&PiRow>,
        now: i64,
    ) -> Result<Pi, IfmsError> {
        let c = &request.checked;
        let mut conn = self.pool.acquire().await?;
        let sanction = sanctions::sanction_for_pi(&mut conn, &c.tenant_id, &c.sanction_id)
            .await?
            .ok_or_else(|| IfmsError::rule(codes::INVALID_SANCTION_ID))?;
        drop(conn);
        let hoa = self
            .heads_of_account()
            .await?
            .into_iter()
            .find(|h| field(h, "code").as_deref() == Some(sanction.hoacode.as_str()))
            .ok_or_else(|| IfmsError::rule(codes::HOA_NOT_FOUND))?;
        let ssu = self
            .ssus(&c.tenant_id, true)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| IfmsError::rule(codes::INVALID_PROGRAM_CODE))?;
        if let Some(last) = replaces {
            self.only_failed_lines(c, last).await?;
        }
        let payees = disbursement::group_by_account(&c.lines);
        let mut row = self.pi_row(caller, request, pi_number, ORIGINAL, payees.len(), now)?;
        row.hoacode = Some(sanction.hoacode.clone());
        row.ddocode = Some(sanction.ddocode.clone());
        row.ssuiaid = field(&ssu, "ssuId");
        row.previouspiid = replaces.map(|r| r.id.clone());
        row.additionaldetails = Some(Json(json!({
            "hoaCode": sanction.hoacode, "mstAllotmentId": sanction.masterallotmentid,
            "reusedDebitOf": replaces.map(|r| r.pinumber.clone()),
        })));
        let mut beneficiaries = Vec::with_capacity(payees.len());
        for (payee, number) in payees.iter().zip(benef_numbers) {
            let lines: Vec<&CheckedLine> = payee.lines.iter().collect();
            beneficiaries.push(self.beneficiary(&row, number, &lines, payee.amount)?);
        }
        let jit: Vec<JitPayee> = payees
            .iter()
            .zip(&beneficiaries)
            .map(|(p, b)| JitPayee {
                benef_id: b.beneficiarynumber.clone(),
                name: p.first.name.clone(),
                account: p.first.account.clone(),
                ifsc: p.first.ifsc.clone(),
                mobile: p.first.phone.clone(),
                email: p.first.email.clone(),
                address: p.first.address.clone(),
                account_type: p.first.account_type.clone(),
                amount: p.amount,
            })
            .collect();
        let params = pi_params(&row, &sanction, &hoa, &ssu, &jit);
        row.jitrequest = Some(self.seal(ServiceId::PI, &params)?);
        Ok(Pi::new(row, beneficiaries))
    }

    /// A replacement or correction may only pay lines that failed in `last`.
    pub(super) async fn only_failed_lines(
        &self,
        c: &Checked,
        last: &PiRow,
    ) -> Result<Vec<BeneficiaryRow>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        let last = store::load(&mut conn, std::slice::from_ref(&last.id), false)
            .await?
            .pop()
            .ok_or_else(|| IfmsError::rule(codes::ERROR_REVISED_PI))?;
        let failed: Vec<BeneficiaryRow> = last
            .beneficiaries
            .into_iter()
            .filter(|b| b.status() == BeneficiaryStatus::Failed)
            .collect();
        for line in &c.lines {
            if !failed
                .iter()
                .any(|b| b.line_items.iter().any(|(_, l)| *l == line.line_item_id))
            {
                return Err(codes::rule_with(
                    codes::ERROR_REVISED_PI,
                    format!(
                        "Line {} is not a failed payment of payment instruction {}",
                        line.line_item_id, last.row.pinumber
                    ),
                )
                .into());
            }
        }
        Ok(failed)
    }

    pub(super) async fn revised_pi(
        &self,
        caller: &Caller,
        request: &Request,
        pi_number: String,
        last: &PiRow,
        original: &PiRow,
        now: i64,
    ) -> Result<Pi, IfmsError> {
        let c = &request.checked;
        let failed = self.only_failed_lines(c, last).await?;
        let mut conn = self.pool.acquire().await?;
        let chain = store::load(&mut conn, &[original.id.clone(), last.id.clone()], false).await?;
        drop(conn);
        let original_pi = chain.iter().find(|p| p.row.id == original.id);
        let last_pi = chain.iter().find(|p| p.row.id == last.id);
        let (Some(original_pi), Some(last_pi)) = (original_pi, last_pi) else {
            return Err(IfmsError::rule(codes::ERROR_REVISED_PI));
        };
        let mut row = self.pi_row(caller, request, pi_number, REVISED, 0, now)?;
        row.parentpinumber = Some(last.pinumber.clone());
        row.originalpiid = Some(original.id.clone());
        row.previouspiid = Some(last.id.clone());
        row.hoacode = last.hoacode.clone();
        row.ddocode = last.ddocode.clone();
        row.ssuiaid = last.ssuiaid.clone();
        row.sanctionid = last.sanctionid.clone();
        row.additionaldetails = Some(Json(
            json!({"hoaCode": last.hoacode, "parentPiNumber": last.pinumber}),
        ));
        let mut beneficiaries = Vec::new();
        let mut items = Vec::new();
        for b in &failed {
            let lines: Vec<&CheckedLine> = c
                .lines
                .iter()
                .filter(|l| b.line_items.iter().any(|(_, li)| *li == l.line_item_id))
                .collect();
            let Some(first) = lines.first() else {
                continue;
            };
            let amount: Decimal = lines.iter().map(|l| l.amount).sum();
            if amount != b.amount {
                return Err(codes::rule_with(
                    codes::ERROR_REVISED_PI,
                    format!(
                        "The lines of beneficiary {} do not add up to its {}",
                        b.beneficiarynumber, b.amount
                    ),
                )
                .into());
            }
            let same = |p: &Pi| {
                p.beneficiaries
                    .iter()
                    .find(|x| x.beneficiarynumber == b.beneficiarynumber)
                    .map(|x| self.account_of(x))
                    .transpose()
            };
            let (org_acct, org_ifsc) = same(original_pi)?.unwrap_or_default();
            let (cur_acct, cur_ifsc) =
                same(last_pi)?.unwrap_or_else(|| (org_acct.clone(), org_ifsc.clone()));
            items.push(json!({"benefId": b.beneficiarynumber,
                "jitCurBillRefNo": last_pi.pa.as_ref().and_then(|p| p.pabillrefnumber.clone()),
                "orgAccountNo": org_acct, "orgIfsc": org_ifsc,
                "correctedAccountNo": first.account, "correctedIfsc": first.ifsc,
                "curAccountNo": cur_acct, "curIfsc": cur_ifsc}));
            beneficiaries.push(self.beneficiary(
                &row,
                b.beneficiarynumber.clone(),
                &lines,
                amount,
            )?);
        }
        row.numbeneficiaries = i32::try_from(beneficiaries.len()).unwrap_or(i32::MAX);
        let params = json!({
            "jitCorBillNo": row.pinumber, "jitCorBillDate": row.jitbilldate,
            "jitCorBillDeptCode": "MUKTA",
            "jitOrgBillRefNo": original_pi.pa.as_ref().and_then(|p| p.pabillrefnumber.clone()),
            "jitOrgBillNo": original.pinumber, "jitOrgBillDate": original.jitbilldate,
            "beneficiaryDtls": items,
        });
        row.jitrequest = Some(self.seal(ServiceId::COR, &params)?);
        Ok(Pi::new(row, beneficiaries))
    }

    /// The stored account of a beneficiary, decrypted.
    pub fn account_of(&self, b: &BeneficiaryRow) -> Result<(String, String), IfmsError> {
        let Some(stored) = b.bankaccountcode.as_deref() else {
            return Ok((String::new(), String::new()));
        };
        let plain = self
            .pii
            .decrypt(stored)
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        let (a, i) = plain.split_once('@').unwrap_or((plain.as_str(), ""));
        Ok((a.to_owned(), i.to_owned()))
    }

    /// `{service, params}` sealed for storage.
    pub(crate) fn seal(&self, service: ServiceId, params: &Value) -> Result<String, IfmsError> {
        let text = json!({"serviceId": service.as_str(), "params": params}).to_string();
        self.pii
            .encrypt(&text)
            .map_err(|e| IfmsError::Corrupt(e.to_string()))
    }

    /// The stored JIT request of a PI.
    pub fn jit_request(&self, pi: &Pi) -> Result<(ServiceId, Value), IfmsError> {
        let sealed = pi.row.jitrequest.as_deref().ok_or_else(|| {
            IfmsError::Corrupt(format!("PI {} has no JIT request", pi.row.pinumber))
        })?;
        let text = self
            .pii
            .decrypt(sealed)
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        let v: Value = serde_json::from_str(&text)?;
        let service = if pi.row.is_revised() {
            ServiceId::COR
        } else {
            ServiceId::PI
        };
        Ok((service, v.get("params").cloned().unwrap_or(Value::Null)))
    }
}

/// A beneficiary as the JIT PI request names it.
#[derive(Debug, Clone)]
pub(crate) struct JitPayee {
    /// The beneficiary number.
    pub benef_id: String,
    /// Name.
    pub name: String,
    /// Account number.
    pub account: String,
    /// IFSC.
    pub ifsc: String,
    /// Mobile.
    pub mobile: String,
    /// E-mail.
    pub email: String,
    /// Address.
    pub address: String,
    /// Account type.
    pub account_type: Option<String>,
    /// Amount.
    pub amount: Decimal,
}

/// The JIT `PI` params (A1.2) of a PI paying `payees` from `sanction`.
pub(crate) fn pi_params(
    row: &PiRow,
    sanction: &SanctionForPi,
    hoa: &Value,
    ssu: &Value,
    payees: &[JitPayee],
) -> Value {
    let items: Vec<Value> = payees
        .iter()
        .map(|p| {
            json!({"benefId": p.benef_id, "benefName": p.name, "benfAcctNo": p.account,
                "benfBankIfscCode": p.ifsc, "benfMobileNo": p.mobile, "benfEmailId": p.email,
                "benfAddress": p.address,
                "benfAccountType": p.account_type.clone().unwrap_or_else(|| "Saving".into()),
                "benfAmount": jit_amount(p.amount), "pranNo": "", "adhaarNumber": "",
                "purpose": "Mukta Payment"})
        })
        .collect();
    json!({
        "jitBillNo": row.pinumber, "jitBillDate": row.jitbilldate,
        "jitBillDdoCode": sanction.ddocode, "granteeAgCode": field(ssu, "granteeAgCode"),
        "schemeCode": field(hoa, "schemeCode"), "hoa": sanction.hoacode,
        "ssuIaId": field(ssu, "ssuId"), "mstAllotmentDistId": sanction.masterallotmentid,
        "ssuAllotmentId": sanction.ssuallotmentid,
        "allotmentTxnSlNo": sanction.allotmentserialno.map(|s| s.to_string()),
        "billGrossAmount": jit_amount(row.grossamount), "billNetAmount": jit_amount(row.netamount),
        "billNumberOfBenf": items.len().to_string(), "purpose": "Mukta Payment",
        "beneficiaryDetails": items,
    })
}
