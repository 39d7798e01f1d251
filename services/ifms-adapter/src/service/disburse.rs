//! `POST /v1/disburse/_create` (spec A1.7): an iFIX disbursement from the treasury-side
//! program service becomes a payment instruction posted to JIT, or — when the payment's
//! last PI ended PARTIAL and the COR window is open — a correction PI (COR) for its failed
//! lines. Answered synchronously with the disbursement envelope (status and transaction ids).
//!
//! Money and double payments (C.1 items 1, 17, 19, 20): work on one payment is serialised by
//! an advisory lock; the debit is a guarded relative update written with the PI and its
//! DEBIT row in one transaction, before JIT is called; a PI JIT refused is FAILED and its
//! debit reversed with a REVERSAL row, once; a post whose fate is unknown (timeout, broken
//! answer) stays INITIATED and unacknowledged, and is posted again with the same bill number
//! by the PIS job instead of being failed and refunded while JIT may have booked it. A
//! disbursement id seen before is answered from its PI, so the program service's relay can
//! retry safely; a database index keeps one PI of a payment in flight.

use crate::domain::calendar::ist_date_time;
use crate::domain::codes::{self, Rule};
use crate::domain::disbursement::{self, Checked, CheckedLine, Line};
use crate::domain::status::{status_log, BeneficiaryStatus, LogOutcome, PiStatus};
use crate::error::IfmsError;
use crate::service::callbacks::disbursement_status;
use crate::service::pollers::Change;
use crate::service::treasury::CallFailure;
use crate::service::{field, new_id, now_ms, AdapterService, Caller};
use crate::store::funds;
use crate::store::pi::{
    self as store, jit_amount, Audit, BeneficiaryRow, Pi, PiRow, ORIGINAL, REVISED,
};
use digit_jit::{JitResponse, ServiceId};
use digit_outbox::OutboxMessage;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::types::Json;

/// How a disbursement is paid, decided from the payment's PIs (newest first).
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new original PI; `replaces` is a PARTIAL PI whose COR window closed (its failed
    /// lines are paid again from its debit, which is not taken a second time).
    Original {
        /// The PARTIAL PI it completes.
        replaces: Option<Box<PiRow>>,
    },
    /// A correction PI for failed lines of `last` (no debit).
    Revised {
        /// The PARTIAL PI whose failed lines are paid.
        last: Box<PiRow>,
        /// The chain's original PI.
        original: Box<PiRow>,
    },
}

impl Plan {
    fn kind(&self) -> &'static str {
        match self {
            Self::Original { replaces: None } => "original",
            Self::Original { replaces: Some(_) } => "replacement",
            Self::Revised { .. } => "revised",
        }
    }
}

/// Decides the plan (A1.7 steps 1–4, with COMPLETED blocking a new PI: C.1 item 19).
pub fn plan(
    pis: &[PiRow],
    now: i64,
    window: &crate::domain::calendar::CorWindow,
) -> Result<Plan, Rule> {
    let Some(last) = pis.iter().find(|p| p.status() != PiStatus::Failed) else {
        return Ok(Plan::Original { replaces: None });
    };
    match last.status() {
        PiStatus::Partial => {
            let original = match &last.originalpiid {
                Some(id) => pis.iter().find(|p| &p.id == id).cloned(),
                None => Some(last.clone()),
            }
            .ok_or_else(|| codes::rule(codes::ERROR_REVISED_PI))?;
            if window.allows(original.audit.createdtime, now) {
                Ok(Plan::Revised {
                    last: Box::new(last.clone()),
                    original: Box::new(original),
                })
            } else {
                Ok(Plan::Original {
                    replaces: Some(Box::new(last.clone())),
                })
            }
        }
        _ => Err(codes::rule_with(
            codes::PI_ALREADY_EXISTS,
            format!(
                "Payment instruction {} is already {} for payment {}",
                last.pinumber,
                last.status().text(),
                last.muktareferenceid
            ),
        )),
    }
}

/// The parsed request.
struct Request {
    signature: Value,
    header: Value,
    message: Value,
    checked: Checked,
}

impl AdapterService {
    /// `disburse/_create`.
    pub async fn disburse_create(&self, caller: &Caller, body: &[u8]) -> Result<Value, IfmsError> {
        let request = self.parse(body).await?;
        let tenant = request.checked.tenant_id.clone();
        self.authorize(caller, &tenant).await?;
        if let Some(done) = self.answered(&request).await? {
            return Ok(done);
        }
        let mut conn = self.pool.acquire().await?;
        let pis = store::of_payment(&mut conn, &tenant, &request.checked.target_id).await?;
        drop(conn);
        let now = now_ms();
        let planned = plan(&pis, now, &self.settings.cor_window)?;
        // Numbers before any transaction (idgen takes a connection of its own).
        let (number_name, count) = match &planned {
            Plan::Revised { .. } => ("ifms.repi.reference.number", 0),
            Plan::Original { .. } => (
                "ifms.pi.reference.number",
                disbursement::group_by_account(&request.checked.lines).len(),
            ),
        };
        let pi_number = self
            .id(&tenant, number_name, 1)
            .await?
            .pop()
            .unwrap_or_default();
        let benef_numbers = self
            .id(&tenant, "ifms.benef.reference.number", count)
            .await?;
        let pi = match &planned {
            Plan::Original { replaces } => {
                self.original_pi(
                    caller,
                    &request,
                    pi_number,
                    benef_numbers,
                    replaces.as_deref(),
                    now,
                )
                .await?
            }
            Plan::Revised { last, original } => {
                self.revised_pi(caller, &request, pi_number, last, original, now)
                    .await?
            }
        };

        // 1. Record the PI (and its debit) under the payment's lock.
        let mut tx = self.pool.begin().await?;
        store::lock_payment(&mut tx, &tenant, &request.checked.target_id).await?;
        let current = store::of_payment(&mut tx, &tenant, &request.checked.target_id).await?;
        if let Some(done) = current.iter().find(|p| p.id == pi.row.id) {
            let id = done.id.clone();
            drop(tx);
            return self.reply_from(&request, &id).await;
        }
        let replanned = plan(&current, now, &self.settings.cor_window)?;
        if replanned.kind() != planned.kind() {
            return Err(codes::rule_with(
                codes::PI_ALREADY_EXISTS,
                "Another payment instruction of the payment was created at the same time",
            )
            .into());
        }
        let debits = matches!(planned, Plan::Original { replaces: None });
        store::insert(&mut tx, &pi)
            .await
            .map_err(|e| map_insert(e, &pi.row))?;
        if debits {
            let sanction = pi.row.sanctionid.clone().unwrap_or_default();
            if !funds::debit(
                &mut tx,
                &tenant,
                &sanction,
                &pi.row.id,
                request.checked.amount,
                &caller.uuid(),
                now,
            )
            .await?
            {
                return Err(IfmsError::rule(codes::FUND_NOT_AVAILABLE));
            }
        }
        tx.commit().await?;

        // 2. Post it.
        let (service, params) = self.jit_request(&pi)?;
        let answer = self.treasury.call(Some(&tenant), service, params).await;

        // 3. Record the outcome (unless a re-post already did: the PI is locked and must
        //    still be unacknowledged). The reply carries the state to the program service.
        self.change(
            caller,
            &pi.row.id,
            service,
            &[PiStatus::Initiated],
            false,
            |p, by, now| {
                if p.row.jitposted {
                    return Change::unchanged(status_log(service.as_str(), LogOutcome::Success));
                }
                let (log, details) = self.apply_post(p, answer, by, now);
                Change {
                    log: Some(log),
                    details,
                    changed: true,
                }
            },
        )
        .await?;
        self.reply_from(&request, &pi.row.id).await
    }

    async fn parse(&self, body: &[u8]) -> Result<Request, IfmsError> {
        let parsing = |m: String| IfmsError::Rule(codes::rule_with(codes::PARSING_ERROR, m));
        let value: Value = serde_json::from_slice(body).map_err(|e| parsing(e.to_string()))?;
        let header = value
            .get("header")
            .filter(|h| h.is_object())
            .cloned()
            .ok_or_else(|| parsing("header is required".into()))?;
        let message = match value.get("message") {
            Some(Value::Object(_)) => value["message"].clone(),
            // The exchange's form: the message as a JSON string.
            Some(Value::String(s)) => {
                serde_json::from_str(s).map_err(|e| parsing(e.to_string()))?
            }
            _ => return Err(parsing("message is required".into())),
        };
        let line: Line = serde_json::from_value(message.clone())
            .map_err(|e| parsing(format!("message: {e}")))?;
        let text = |k: &str| header.get(k).and_then(Value::as_str).unwrap_or_default();
        let tenant = line.location_code.clone().unwrap_or_default();
        let program = if tenant.trim().is_empty() {
            None
        } else {
            self.program_code(tenant.trim()).await?
        };
        let checked = disbursement::check(
            text("sender_id"),
            text("receiver_id"),
            &line,
            program.as_deref(),
            new_id,
        )?;
        Ok(Request {
            signature: value.get("signature").cloned().unwrap_or(Value::Null),
            header,
            message,
            checked,
        })
    }

    /// The answer of a disbursement already made into a PI (a retry of the same message).
    async fn answered(&self, request: &Request) -> Result<Option<Value>, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jit_payment_inst_details WHERE id = $1 AND tenantid = $2",
        )
        .bind(&request.checked.id)
        .bind(&request.checked.tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
        drop(conn);
        match found {
            Some(id) => Ok(Some(self.reply_from(request, &id).await?)),
            None => Ok(None),
        }
    }

    async fn reply_from(&self, request: &Request, pi_id: &str) -> Result<Value, IfmsError> {
        let mut conn = self.pool.acquire().await?;
        let pi = store::load(&mut conn, &[pi_id.to_owned()], false)
            .await?
            .pop()
            .ok_or_else(|| IfmsError::Corrupt(format!("PI {pi_id} vanished")))?;
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
        let text = match (pi.row.status(), pi.row.jitposted) {
            (PiStatus::Initiated, false) => Some("Posted to JIT; awaiting its acknowledgement"),
            _ => None,
        };
        disbursement_status(&pi, &mut message, text);
        Ok(json!({"signature": request.signature, "header": request.header, "message": message}))
    }

    async fn id(&self, tenant: &str, name: &str, count: usize) -> Result<Vec<String>, IfmsError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let count = u32::try_from(count)
            .map_err(|_| IfmsError::rule(codes::INVALID_CHILD_DISBURSEMENTS))?;
        Ok(self.idgen.generate(tenant, Some(name), None, count).await?)
    }

    /// The disbursement kept with its PI: the header, and the message (payees and accounts
    /// included: the program service's `on-disburse` needs the whole disbursement back)
    /// sealed like every other PII at rest.
    fn kept(&self, request: &Request) -> Result<Value, IfmsError> {
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
    fn pi_row(
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

    fn beneficiary(
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

    async fn original_pi(
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
        let sanction = funds::sanction_for_pi(&mut conn, &c.tenant_id, &c.sanction_id)
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
        let items: Vec<Value> = payees
            .iter()
            .zip(&beneficiaries)
            .map(|(p, b)| {
                json!({"benefId": b.beneficiarynumber, "benefName": p.first.name,
                    "benfAcctNo": p.first.account, "benfBankIfscCode": p.first.ifsc,
                    "benfMobileNo": p.first.phone, "benfEmailId": p.first.email,
                    "benfAddress": p.first.address,
                    "benfAccountType": p.first.account_type.clone().unwrap_or_else(|| "Saving".into()),
                    "benfAmount": jit_amount(p.amount), "pranNo": "", "adhaarNumber": "",
                    "purpose": "Mukta Payment"})
            })
            .collect();
        let params = json!({
            "jitBillNo": row.pinumber, "jitBillDate": row.jitbilldate,
            "jitBillDdoCode": sanction.ddocode, "granteeAgCode": field(&ssu, "granteeAgCode"),
            "schemeCode": field(&hoa, "schemeCode"), "hoa": sanction.hoacode,
            "ssuIaId": field(&ssu, "ssuId"), "mstAllotmentDistId": sanction.masterallotmentid,
            "ssuAllotmentId": sanction.ssuallotmentid,
            "allotmentTxnSlNo": sanction.allotmentserialno.map(|s| s.to_string()),
            "billGrossAmount": jit_amount(c.amount), "billNetAmount": jit_amount(c.amount),
            "billNumberOfBenf": items.len().to_string(), "purpose": "Mukta Payment",
            "beneficiaryDetails": items,
        });
        row.jitrequest = Some(self.seal(ServiceId::PI, &params)?);
        Ok(Pi::new(row, beneficiaries))
    }

    /// A replacement or correction may only pay lines that failed in `last`.
    async fn only_failed_lines(
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

    async fn revised_pi(
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
        let stored = b.bankaccountcode.as_deref().unwrap_or_default();
        let plain = self
            .pii
            .decrypt(stored)
            .map_err(|e| IfmsError::Corrupt(e.to_string()))?;
        let (a, i) = plain.split_once('@').unwrap_or((plain.as_str(), ""));
        Ok((a.to_owned(), i.to_owned()))
    }

    /// `{service, params}` sealed for storage.
    fn seal(&self, service: ServiceId, params: &Value) -> Result<String, IfmsError> {
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

    /// Applies a post's outcome to the PI in memory; returns the status log and its details.
    pub fn apply_post(
        &self,
        pi: &mut Pi,
        answer: Result<JitResponse, CallFailure>,
        by: &str,
        now: i64,
    ) -> (String, Option<Value>) {
        let service = if pi.row.is_revised() { "COR" } else { "PI" };
        pi.row.audit.touch(by, now);
        let refused = |pi: &mut Pi, text: String| {
            pi.row.set_status(PiStatus::Failed);
            pi.row.pierrorresp = Some(text.clone());
            for b in &mut pi.beneficiaries {
                b.set_status(BeneficiaryStatus::Failed);
                b.paymentstatusmessage = Some(text.clone());
                b.audit.touch(by, now);
            }
        };
        match answer {
            Ok(r) if r.succeeded() => {
                let first = r.data.first().cloned().unwrap_or(Value::Null);
                pi.row.jitposted = true;
                pi.row.pisuccesscode = field(&first, "successCode");
                pi.row.pisuccessdesc =
                    field(&first, "sucessDescrp").or_else(|| field(&first, "successDescrp"));
                (status_log(service, LogOutcome::Success), None)
            }
            Ok(r)
                if r.error_text()
                    .is_some_and(|t| t.to_ascii_lowercase().contains("duplicate")) =>
            {
                // A re-post of a bill JIT already has: it is booked.
                pi.row.jitposted = true;
                (
                    status_log(service, LogOutcome::Success),
                    Some(json!({"error": r.error_text()})),
                )
            }
            Ok(r) => {
                let text = r
                    .error_text()
                    .unwrap_or_else(|| "JIT returned no data".to_owned());
                refused(pi, text.clone());
                (
                    status_log(service, LogOutcome::Error),
                    Some(json!({"error": text})),
                )
            }
            Err(CallFailure::NotBooked(m)) => {
                refused(pi, format!("PAYMENT_SERVER_UNREACHABLE {m}"));
                (
                    status_log(service, LogOutcome::Error),
                    Some(json!({"error": m})),
                )
            }
            Err(CallFailure::Unknown(m)) => (
                status_log(service, LogOutcome::NoResponse),
                Some(json!({"error": m})),
            ),
        }
    }

    /// Marks a superseded PI COMPLETED (its on-disburse and index copy returned).
    pub async fn complete(
        &self,
        tx: &mut sqlx::PgConnection,
        caller: &Caller,
        pi_id: &str,
        now: i64,
    ) -> Result<Vec<OutboxMessage>, IfmsError> {
        let mut out = Vec::new();
        for mut p in store::load(tx, &[pi_id.to_owned()], true).await? {
            p.row.set_status(PiStatus::Completed);
            p.row.audit.touch(&caller.uuid(), now);
            store::update(tx, &p).await?;
            out.extend(self.on_disburse(caller, &p)?);
            out.push(self.index_copy(&p)?);
        }
        Ok(out)
    }

    /// Enqueues outbox messages in `tx`.
    pub async fn enqueue(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), IfmsError> {
        for m in messages {
            digit_outbox::enqueue(tx, &m).await?;
        }
        Ok(())
    }
}

fn map_insert(e: sqlx::Error, row: &PiRow) -> IfmsError {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("jit_pi_one_in_flight") => {
            codes::rule_with(
                codes::PI_ALREADY_EXISTS,
                format!(
                    "A payment instruction of payment {} is in flight",
                    row.muktareferenceid
                ),
            )
            .into()
        }
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{parse_ist, CorWindow};

    fn row(id: &str, status: PiStatus, created: &str) -> PiRow {
        PiRow {
            id: id.into(),
            tenantid: "pg.citya".into(),
            pinumber: format!("PI-{id}"),
            parentpinumber: None,
            muktareferenceid: "EP/1".into(),
            numbeneficiaries: 1,
            grossamount: Decimal::ONE,
            netamount: Decimal::ONE,
            pistatus: status.code().into(),
            pisuccesscode: None,
            pisuccessdesc: None,
            piapprovedid: None,
            piapprovaldate: None,
            pierrorresp: None,
            additionaldetails: None,
            isactive: true,
            programcode: None,
            pitype: ORIGINAL.into(),
            originalpiid: None,
            previouspiid: None,
            sanctionid: None,
            hoacode: None,
            ddocode: None,
            ssuiaid: None,
            jitbilldate: String::new(),
            jitposted: true,
            disbursement: None,
            jitrequest: None,
            audit: Audit::new("u", parse_ist(created).unwrap_or_default()),
        }
    }

    #[test]
    fn plans_follow_the_payment_chain() {
        let w = CorWindow::default();
        let now = parse_ist("2026-05-10 10:00:00").unwrap_or_default();
        let kind = |pis: &[PiRow]| plan(pis, now, &w).map(|p| p.kind()).map_err(|r| r.code);
        assert_eq!(kind(&[]), Ok("original"));
        assert_eq!(
            kind(&[row("a", PiStatus::Failed, "2026-05-01 10:00:00")]),
            Ok("original")
        );
        for s in [
            PiStatus::Initiated,
            PiStatus::Approved,
            PiStatus::InProcess,
            PiStatus::Successful,
            PiStatus::Completed,
        ] {
            assert_eq!(
                kind(&[row("a", s, "2026-05-01 10:00:00")]),
                Err("PI_ALREADY_EXISTS"),
                "{s:?}"
            );
        }
        assert_eq!(
            kind(&[row("a", PiStatus::Partial, "2026-05-01 10:00:00")]),
            Ok("revised")
        );
        // A PARTIAL PI of the last financial year, past 30 April: a replacement.
        assert_eq!(
            kind(&[row("a", PiStatus::Partial, "2026-03-20 10:00:00")]),
            Ok("replacement")
        );
        // The newest non-failed PI decides.
        let pis = [
            row("b", PiStatus::Failed, "2026-05-09 10:00:00"),
            row("a", PiStatus::Partial, "2026-05-01 10:00:00"),
        ];
        assert_eq!(kind(&pis), Ok("revised"));
    }
}
