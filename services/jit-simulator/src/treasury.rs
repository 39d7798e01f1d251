//! The simulated treasury: what it has received and how each service answers (A1.2).
//!
//! Plain synchronous state behind the server's mutex. Every value on the wire is a string;
//! amounts are checked as exact decimals. Dates are Asia/Kolkata (`+05:30`).
//!
//! Error codes: `340` (wrong IFSC in a PI) and `322` (wrong IFSC in a COR) are JIT's, from
//! its samples. The others are the simulator's own, for rules whose JIT code is unknown:
//! `300` duplicate bill ("Duplicate Payment Information Id"), `301` mandatory field
//! missing, `302` no beneficiaries, `303` an amount that is not a decimal, `304` net amount
//! ≠ Σ beneficiary amounts, `305` duplicate account + IFSC, `306` beneficiary count ≠
//! `billNumberOfBenf`, `320` unknown original bill of a COR.

use crate::scenario::Scenario;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset as _, Utc};
use digit_jit::{JitErrorMsg, JitResponse, ServiceId};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

const PAID: &str = "Paid by RBI eKuber,please check with your bank";
const PI_RECEIVED: &str = "Jit Bill is received successfully ,Payment Instruction will be generated after Bill is submitted by SSU in JIT-FS";
const COR_RECEIVED: &str = "Jit Correction Bill is received successfully ,Forwarded to Treasury officer to generate Return adjust Bill ";

/// Now in India.
pub fn now_ist() -> DateTime<FixedOffset> {
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap_or(Utc.fix());
    Utc::now().with_timezone(&ist)
}

fn today() -> NaiveDate {
    now_ist().date_naive()
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The Indian financial year of a date, as the year it ends in (JIT's PAG sample answers
/// `finYear "2024"` for a May-2023 advice).
fn fin_year(d: NaiveDate) -> String {
    let end = if d.month() >= 4 {
        d.year() + 1
    } else {
        d.year()
    };
    end.to_string()
}

/// A parameter as text (numbers accepted, missing → empty).
fn p(params: &Value, key: &str) -> String {
    match &params[key] {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The `yyyy-MM-dd` start of a date or date-time parameter.
fn date_param(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

fn err(code: &str, msg: impl Into<String>) -> JitErrorMsg {
    JitErrorMsg::new(code, msg)
}

/// A beneficiary of a bill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Beneficiary {
    /// JIT `benefId`.
    pub benef_id: String,
    /// Name.
    pub name: String,
    /// Account number.
    pub account: String,
    /// IFSC.
    pub ifsc: String,
    /// Amount as sent.
    pub amount: String,
}

/// Payment-advice details (PAG; FTPS for a correction bill).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    /// `finYear`.
    pub fin_year: String,
    /// `adviceId`.
    pub advice_id: String,
    /// `adviceDate`.
    pub advice_date: String,
    /// `onlineBillRefNo` (PD's `billRefNo`).
    pub online_bill_ref_no: String,
    /// `tokenNumber`.
    pub token_number: String,
    /// `tokenDate`.
    pub token_date: String,
}

/// Debit-scroll details (PD; FTPS for a correction bill).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// `voucherNo`.
    pub voucher_no: String,
    /// `voucherDate`.
    pub voucher_date: NaiveDate,
}

/// A PI JIT accepted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bill {
    /// `jitBillNo`.
    pub jit_bill_no: String,
    /// `jitBillDate` as sent.
    pub jit_bill_date: String,
    /// `ssuIaId`.
    pub ssu_ia_id: String,
    /// `schemeCode`.
    pub scheme_code: String,
    /// `billNetAmount`.
    pub bill_net_amount: String,
    /// `billGrossAmount`.
    pub bill_gross_amount: String,
    /// Beneficiaries.
    pub beneficiaries: Vec<Beneficiary>,
    /// PIS polls answered "not yet".
    pub pis_polls: u32,
    /// Rejected by the SSU at PIS.
    pub rejected: bool,
    /// PIS approval: (`pmtInstId`, `payInstDate`).
    pub approval: Option<(String, String)>,
    /// PAG.
    pub advice: Option<Advice>,
    /// PD.
    pub payment: Option<Payment>,
    /// The request as received.
    pub params: Value,
}

impl Bill {
    fn status(&self) -> &'static str {
        if self.rejected {
            "REJECTED"
        } else if self.payment.is_some() {
            "PAID"
        } else if self.advice.is_some() {
            "ADVISED"
        } else if self.approval.is_some() {
            "APPROVED"
        } else {
            "RECEIVED"
        }
    }
}

/// A COR beneficiary: the corrected account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CorBeneficiary {
    /// `benefId`.
    pub benef_id: String,
    /// `correctedAccountNo` (else `curAccountNo`).
    pub account: String,
    /// `correctedIfsc` (else `curIfsc`).
    pub ifsc: String,
}

/// A correction bill JIT accepted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    /// `jitCorBillNo`.
    pub jit_cor_bill_no: String,
    /// `jitCorBillDate`.
    pub jit_cor_bill_date: String,
    /// `jitOrgBillNo`.
    pub jit_org_bill_no: String,
    /// `jitOrgBillRefNo`.
    pub jit_org_bill_ref_no: String,
    /// Corrected beneficiaries.
    pub beneficiaries: Vec<CorBeneficiary>,
    /// FTPS: advice (bill ref, token) and payment.
    pub advice: Option<Advice>,
    /// FTPS payment.
    pub payment: Option<Payment>,
    /// The request as received.
    pub params: Value,
}

/// One PI or COR request as received, accepted or not.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Bill number.
    pub bill_no: String,
    /// Whether JIT accepted it.
    pub accepted: bool,
    /// The error text when not.
    pub error: Option<String>,
    /// Current state of an accepted PI (`RECEIVED`, `APPROVED`, `ADVISED`, `PAID`,
    /// `REJECTED`) or COR (`RECEIVED`, `PAID`).
    pub status: Option<String>,
    /// The params as received.
    pub params: Value,
}

/// `GET /simulator/state`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSnapshot {
    /// Successful authentications.
    pub authentications: u64,
    /// Live sessions.
    pub sessions: usize,
    /// Service calls per service id (decrypted and dispatched).
    pub calls: BTreeMap<String, u64>,
    /// PIs received, in order.
    pub pis: Vec<Received>,
    /// CORs received, in order.
    pub cors: Vec<Received>,
}

/// The treasury's books.
#[derive(Debug, Default)]
pub struct Treasury {
    /// The behaviour in force.
    pub scenario: Scenario,
    bills: BTreeMap<String, Bill>,
    corrections: BTreeMap<String, Correction>,
    received_pis: Vec<Received>,
    received_cors: Vec<Received>,
    calls: BTreeMap<String, u64>,
    /// Successful authentications.
    pub authentications: u64,
    seq: u64,
}

impl Treasury {
    /// A treasury with this scenario and nothing received.
    pub fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            ..Self::default()
        }
    }

    /// Forgets everything received (the scenario stays).
    pub fn reset(&mut self) {
        *self = Self::new(std::mem::take(&mut self.scenario));
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A snapshot of what was received.
    pub fn snapshot(&self, sessions: usize) -> StateSnapshot {
        let pis = self
            .received_pis
            .iter()
            .map(|r| Received {
                status: self
                    .bills
                    .get(&r.bill_no)
                    .filter(|_| r.accepted)
                    .map(|b| b.status().to_owned()),
                ..r.clone()
            })
            .collect();
        let cors = self
            .received_cors
            .iter()
            .map(|r| Received {
                status: self
                    .corrections
                    .get(&r.bill_no)
                    .filter(|_| r.accepted)
                    .map(|c| {
                        if c.payment.is_some() {
                            "PAID".to_owned()
                        } else {
                            "RECEIVED".to_owned()
                        }
                    }),
                ..r.clone()
            })
            .collect();
        StateSnapshot {
            authentications: self.authentications,
            sessions,
            calls: self.calls.clone(),
            pis,
            cors,
        }
    }

    /// Answers one decrypted service request.
    pub fn handle(&mut self, service: ServiceId, params: &Value) -> JitResponse {
        *self.calls.entry(service.as_str().to_owned()).or_default() += 1;
        match service {
            ServiceId::VA => self.va(params),
            ServiceId::PI => self.pi(params),
            ServiceId::PIS => self.pis(params),
            ServiceId::PAG => self.pag(params),
            ServiceId::PD => self.pd(params),
            ServiceId::FD => self.fd(params),
            ServiceId::COR => self.cor(params),
            ServiceId::FTPS => self.ftps(params),
            ServiceId::FTFPS => self.ftfps(params),
            ServiceId::PA => JitResponse::error(
                Some(ServiceId::PA),
                "Service PA is not served by JIT-FS (it is the adapter's own)",
            ),
        }
    }

    fn va(&self, params: &Value) -> JitResponse {
        let (hoa, ddo, grantee) = (
            p(params, "hoa"),
            p(params, "ddoCode"),
            p(params, "granteCode"),
        );
        if hoa.is_empty() || ddo.is_empty() {
            return JitResponse::error(
                Some(ServiceId::VA),
                "Mandatory parameter hoa or ddoCode not found",
            );
        }
        let from_text = p(params, "fromDate");
        let Some(from) = date_param(&from_text) else {
            return JitResponse::error(
                Some(ServiceId::VA),
                format!("Invalid fromDate '{from_text}', expected yyyy-MM-dd HH:mm:ss"),
            );
        };
        let data = self
            .scenario
            .allotments
            .iter()
            .filter(|set| set.hoa == hoa && set.ddo_code == ddo)
            .flat_map(|set| &set.items)
            .filter(|item| date_param(&item.allotment_date).is_some_and(|d| d >= from))
            .filter(|item| grantee.is_empty() || item.grantee_ag_code == grantee)
            .filter_map(|item| serde_json::to_value(item).ok())
            .collect();
        JitResponse::success(ServiceId::VA, data)
    }

    fn pi(&mut self, params: &Value) -> JitResponse {
        let bill_no = p(params, "jitBillNo");
        let result = self.validate_pi(&bill_no, params);
        let (accepted, error) = match &result {
            Ok(_) => (true, None),
            Err(errors) => (
                false,
                JitResponse::errors(ServiceId::PI, errors.clone()).error_text(),
            ),
        };
        self.received_pis.push(Received {
            bill_no: bill_no.clone(),
            accepted,
            error,
            status: None,
            params: params.clone(),
        });
        match result {
            Err(errors) => JitResponse::errors(ServiceId::PI, errors),
            Ok(beneficiaries) => {
                let bill = Bill {
                    jit_bill_no: bill_no.clone(),
                    jit_bill_date: p(params, "jitBillDate"),
                    ssu_ia_id: p(params, "ssuIaId"),
                    scheme_code: p(params, "schemeCode"),
                    bill_net_amount: p(params, "billNetAmount"),
                    bill_gross_amount: p(params, "billGrossAmount"),
                    beneficiaries,
                    pis_polls: 0,
                    rejected: false,
                    approval: None,
                    advice: None,
                    payment: None,
                    params: params.clone(),
                };
                let data = json!({
                    "jitBillNo": bill.jit_bill_no,
                    "jitBillDate": bill.jit_bill_date.get(..10).unwrap_or(&bill.jit_bill_date),
                    "ssuIaId": bill.ssu_ia_id,
                    "successCode": "0",
                    "sucessDescrp": PI_RECEIVED,
                });
                self.bills.insert(bill_no, bill);
                JitResponse::success(ServiceId::PI, vec![data])
            }
        }
    }

    fn validate_pi(
        &self,
        bill_no: &str,
        params: &Value,
    ) -> Result<Vec<Beneficiary>, Vec<JitErrorMsg>> {
        if bill_no.is_empty() {
            return Err(vec![err("301", "Mandatory column jitBillNo not found")]);
        }
        if self.bills.contains_key(bill_no) || self.corrections.contains_key(bill_no) {
            return Err(vec![err("300", "Duplicate Payment Information Id")]);
        }
        let items = params["beneficiaryDetails"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return Err(vec![err("302", "Beneficiary details not found")]);
        }
        let mut errors = Vec::new();
        let net_text = p(params, "billNetAmount");
        let net = Decimal::from_str(&net_text).ok();
        if net.is_none() {
            errors.push(err("303", format!("Invalid billNetAmount '{net_text}'")));
        }
        let count = p(params, "billNumberOfBenf");
        if !count.is_empty() && count != items.len().to_string() {
            errors.push(err(
                "306",
                format!(
                    "billNumberOfBenf {count} does not match {} beneficiaries",
                    items.len()
                ),
            ));
        }
        let mut sum = Decimal::ZERO;
        let mut seen = std::collections::BTreeSet::new();
        let mut beneficiaries = Vec::with_capacity(items.len());
        for item in &items {
            let b = Beneficiary {
                benef_id: p(item, "benefId"),
                name: p(item, "benefName"),
                account: p(item, "benfAcctNo"),
                ifsc: p(item, "benfBankIfscCode"),
                amount: p(item, "benfAmount"),
            };
            match Decimal::from_str(&b.amount) {
                Ok(a) => sum += a,
                Err(_) => errors.push(err(
                    "303",
                    format!(
                        "Invalid benfAmount '{}' for BenefId {}",
                        b.amount, b.benef_id
                    ),
                )),
            }
            if !seen.insert((b.account.clone(), b.ifsc.to_ascii_uppercase())) {
                errors.push(err(
                    "305",
                    format!(
                        "Duplicate beneficiary account {} / {} for BenefId {}",
                        b.account, b.ifsc, b.benef_id
                    ),
                ));
            }
            if self.scenario.is_invalid_ifsc(&b.ifsc) {
                errors.push(err(
                    "340",
                    format!(
                        "Wrong IFSC provided in Beneficiary Details for BenefId {}",
                        b.benef_id
                    ),
                ));
            }
            beneficiaries.push(b);
        }
        if let Some(net) = net {
            if errors.iter().all(|e| e.error_code != "303") && net != sum {
                errors.push(err(
                    "304",
                    format!(
                        "billNetAmount {net} does not match the sum of beneficiary amounts {sum}"
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(beneficiaries)
        } else {
            Err(errors)
        }
    }

    fn pis(&mut self, params: &Value) -> JitResponse {
        let bill_no = p(params, "jitBillNo");
        let pending = self.scenario.pis_pending_polls;
        let Some(bill) = self.bills.get(&bill_no) else {
            return JitResponse::error(
                Some(ServiceId::PIS),
                format!("No bill found for Bill Number {bill_no}"),
            );
        };
        if bill
            .beneficiaries
            .iter()
            .any(|b| self.scenario.rejects(&b.account))
        {
            let office = self
                .scenario
                .ssu_office(&bill.ssu_ia_id)
                .unwrap_or(&bill.ssu_ia_id)
                .to_owned();
            if let Some(bill) = self.bills.get_mut(&bill_no) {
                bill.rejected = true;
            }
            return JitResponse::error(
                Some(ServiceId::PIS),
                format!("This Bill Number {bill_no} is rejected by SSU {office}"),
            );
        }
        let seq = self.next();
        let Some(bill) = self.bills.get_mut(&bill_no) else {
            return JitResponse::error(
                Some(ServiceId::PIS),
                format!("No bill found for Bill Number {bill_no}"),
            );
        };
        if bill.approval.is_none() {
            if bill.pis_polls < pending {
                bill.pis_polls += 1;
                return JitResponse::success(ServiceId::PIS, Vec::new());
            }
            bill.approval = Some((
                (1000 + seq).to_string(),
                now_ist().format("%Y-%m-%d %H:%M:%S").to_string(),
            ));
        }
        let (pmt_inst_id, pay_inst_date) = bill.approval.clone().unwrap_or_default();
        JitResponse::success(
            ServiceId::PIS,
            vec![json!({
                "pmtInstId": pmt_inst_id,
                "payInstDate": pay_inst_date,
                "jitBillNumber": bill.jit_bill_no,
                "jitBillDate": bill.jit_bill_date.get(..10).unwrap_or(&bill.jit_bill_date),
                "billNetAmount": bill.bill_net_amount,
                "billGrossAmount": bill.bill_gross_amount,
                "totalNumberOfBeneficiary": bill.beneficiaries.len().to_string(),
                "schemeCode": bill.scheme_code,
                "ssuIaId": bill.ssu_ia_id,
            })],
        )
    }

    fn new_advice(&mut self) -> Advice {
        let seq = self.next();
        let day = today();
        Advice {
            fin_year: fin_year(day),
            advice_id: seq.to_string(),
            advice_date: date(day),
            online_bill_ref_no: format!("{}{:08}", day.year(), seq),
            token_number: seq.to_string(),
            token_date: date(day),
        }
    }

    fn new_payment(&mut self) -> Payment {
        let seq = self.next();
        Payment {
            voucher_no: (22000 + seq).to_string(),
            voucher_date: today(),
        }
    }

    fn pag(&mut self, params: &Value) -> JitResponse {
        let bill_no = p(params, "billNo");
        let pmt_inst_id = p(params, "pmtInstId");
        let Some(bill) = self.bills.get(&bill_no) else {
            return JitResponse::error(
                Some(ServiceId::PAG),
                format!("No bill found for Bill Number {bill_no}"),
            );
        };
        if bill.rejected {
            return JitResponse::error(
                Some(ServiceId::PAG),
                format!("Bill Number {bill_no} is rejected"),
            );
        }
        let Some((approved_id, _)) = &bill.approval else {
            return JitResponse::success(ServiceId::PAG, Vec::new());
        };
        if !pmt_inst_id.is_empty() && &pmt_inst_id != approved_id {
            return JitResponse::error(
                Some(ServiceId::PAG),
                format!("Payment Instruction {pmt_inst_id} not found for Bill Number {bill_no}"),
            );
        }
        if bill.advice.is_none() {
            let advice = self.new_advice();
            if let Some(bill) = self.bills.get_mut(&bill_no) {
                bill.advice = Some(advice);
            }
        }
        let Some(bill) = self.bills.get(&bill_no) else {
            return JitResponse::error(Some(ServiceId::PAG), "internal state lost");
        };
        let Some(advice) = &bill.advice else {
            return JitResponse::error(Some(ServiceId::PAG), "internal state lost");
        };
        let benf_list: Vec<Value> = bill
            .beneficiaries
            .iter()
            .map(|b| {
                json!({
                    "benfName": b.name,
                    "benfAccountNo": b.account,
                    "benfBankIfscCode": b.ifsc,
                    "amount": b.amount,
                    "benfId": b.benef_id,
                })
            })
            .collect();
        JitResponse::success(
            ServiceId::PAG,
            vec![json!({
                "billNo": bill.jit_bill_no,
                "ssuIaId": bill.ssu_ia_id,
                "finYear": advice.fin_year,
                "adviceId": advice.advice_id,
                "adviceDate": advice.advice_date,
                "onlineBillRefNo": advice.online_bill_ref_no,
                "tokenNumber": advice.token_number,
                "tokenDate": advice.token_date,
                "benfList": benf_list,
            })],
        )
    }

    fn bill_by_ref(&self, bill_ref: &str) -> Option<&Bill> {
        self.bills.values().find(|b| {
            b.advice
                .as_ref()
                .is_some_and(|a| a.online_bill_ref_no == bill_ref)
        })
    }

    fn pd(&mut self, params: &Value) -> JitResponse {
        let bill_ref = p(params, "billRefNo");
        let token = p(params, "tokenNumber");
        let Some(bill) = self.bill_by_ref(&bill_ref) else {
            return JitResponse::error(
                Some(ServiceId::PD),
                format!("No payment details found for Bill Ref No {bill_ref}"),
            );
        };
        let bill_no = bill.jit_bill_no.clone();
        if !token.is_empty()
            && bill
                .advice
                .as_ref()
                .is_some_and(|a| a.token_number != token)
        {
            return JitResponse::error(
                Some(ServiceId::PD),
                format!("Token Number {token} does not match Bill Ref No {bill_ref}"),
            );
        }
        if bill.payment.is_none() {
            let payment = self.new_payment();
            if let Some(bill) = self.bills.get_mut(&bill_no) {
                bill.payment = Some(payment);
            }
        }
        match self.bills.get(&bill_no) {
            Some(bill) => JitResponse::success(ServiceId::PD, vec![paid_item(bill)]),
            None => JitResponse::error(Some(ServiceId::PD), "internal state lost"),
        }
    }

    fn fd(&self, params: &Value) -> JitResponse {
        let voucher_text = p(params, "voucherDate");
        let bill_ref = p(params, "billRefNo");
        let window = if voucher_text.is_empty() {
            None
        } else {
            match date_param(&voucher_text) {
                Some(from) => Some((from, today())),
                None => {
                    return JitResponse::error(
                        Some(ServiceId::FD),
                        format!("Invalid voucherDate '{voucher_text}', expected yyyy-MM-dd"),
                    )
                }
            }
        };
        if window.is_none() && bill_ref.is_empty() {
            return JitResponse::error(
                Some(ServiceId::FD),
                "Mandatory parameter voucherDate or billRefNo not found",
            );
        }
        let data = self
            .bills
            .values()
            .filter(|b| match (&window, &b.payment) {
                (_, None) => false,
                (Some((from, to)), Some(pay)) => {
                    pay.voucher_date >= *from && pay.voucher_date <= *to
                }
                (None, Some(_)) => b
                    .advice
                    .as_ref()
                    .is_some_and(|a| a.online_bill_ref_no == bill_ref),
            })
            .filter_map(|b| self.failed_item(b))
            .collect();
        JitResponse::success(ServiceId::FD, data)
    }

    fn failed_item(&self, bill: &Bill) -> Option<Value> {
        let (advice, payment) = (bill.advice.as_ref()?, bill.payment.as_ref()?);
        let failed: Vec<Value> = bill
            .beneficiaries
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let reason = self.scenario.failure(&b.account)?;
                Some(failed_benf(
                    &b.account,
                    &b.ifsc,
                    &b.benef_id,
                    reason,
                    i,
                    payment,
                    &advice.online_bill_ref_no,
                ))
            })
            .collect();
        if failed.is_empty() {
            return None;
        }
        Some(json!({
            "billNumber": bill.jit_bill_no,
            "billDate": bill.jit_bill_date.get(..10).unwrap_or(&bill.jit_bill_date),
            "voucherNo": payment.voucher_no,
            "voucherDate": date(payment.voucher_date),
            "billRefNo": advice.online_bill_ref_no,
            "tokenNumber": advice.token_number,
            "tokenDate": advice.token_date,
            "benfDtls": failed,
        }))
    }

    fn cor(&mut self, params: &Value) -> JitResponse {
        let cor_no = p(params, "jitCorBillNo");
        let result = self.validate_cor(&cor_no, params);
        self.received_cors.push(Received {
            bill_no: cor_no.clone(),
            accepted: result.is_ok(),
            error: result
                .as_ref()
                .err()
                .and_then(|e| JitResponse::errors(ServiceId::COR, e.clone()).error_text()),
            status: None,
            params: params.clone(),
        });
        match result {
            Err(errors) => JitResponse::errors(ServiceId::COR, errors),
            Ok(beneficiaries) => {
                let cor = Correction {
                    jit_cor_bill_no: cor_no.clone(),
                    jit_cor_bill_date: p(params, "jitCorBillDate"),
                    jit_org_bill_no: p(params, "jitOrgBillNo"),
                    jit_org_bill_ref_no: p(params, "jitOrgBillRefNo"),
                    beneficiaries,
                    advice: None,
                    payment: None,
                    params: params.clone(),
                };
                let data = json!({
                    "jitCorBillNo": cor.jit_cor_bill_no,
                    "jitCorBillDate": cor.jit_cor_bill_date,
                    "successCode": "0",
                    "sucessDescrp": COR_RECEIVED,
                });
                self.corrections.insert(cor_no, cor);
                JitResponse::success(ServiceId::COR, vec![data])
            }
        }
    }

    fn validate_cor(
        &self,
        cor_no: &str,
        params: &Value,
    ) -> Result<Vec<CorBeneficiary>, Vec<JitErrorMsg>> {
        if cor_no.is_empty() {
            return Err(vec![err("301", "Mandatory column jitCorBillNo not found")]);
        }
        if self.bills.contains_key(cor_no) || self.corrections.contains_key(cor_no) {
            return Err(vec![err("300", "Duplicate Payment Information Id")]);
        }
        let org = p(params, "jitOrgBillNo");
        if !self.bills.contains_key(&org) && !self.corrections.contains_key(&org) {
            return Err(vec![err("320", format!("Original bill {org} not found"))]);
        }
        // The adapter sends `beneficiaryDtls`; JIT's own sample says `beneficiaryDetails`.
        let items = params["beneficiaryDtls"]
            .as_array()
            .or(params["beneficiaryDetails"].as_array())
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return Err(vec![err("302", "Beneficiary details not found")]);
        }
        let mut errors = Vec::new();
        let beneficiaries = items
            .iter()
            .map(|item| {
                let pick = |a: &str, b: &str| {
                    let v = p(item, a);
                    if v.is_empty() {
                        p(item, b)
                    } else {
                        v
                    }
                };
                CorBeneficiary {
                    benef_id: p(item, "benefId"),
                    account: pick("correctedAccountNo", "curAccountNo"),
                    ifsc: pick("correctedIfsc", "curIfsc"),
                }
            })
            .collect::<Vec<_>>();
        for b in &beneficiaries {
            if self.scenario.is_invalid_ifsc(&b.ifsc) {
                errors.push(err(
                    "322",
                    format!(
                        "Wrong IFSC provided in Beneficiary Details for BenefId {}",
                        b.benef_id
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(beneficiaries)
        } else {
            Err(errors)
        }
    }

    fn ftps(&mut self, params: &Value) -> JitResponse {
        let cor_no = p(params, "jitCorBillNo");
        let Some(cor) = self.corrections.get(&cor_no) else {
            return JitResponse::error(
                Some(ServiceId::FTPS),
                format!("No correction bill found for {cor_no}"),
            );
        };
        if cor.payment.is_none() {
            let advice = self.new_advice();
            let payment = self.new_payment();
            if let Some(cor) = self.corrections.get_mut(&cor_no) {
                cor.advice = Some(advice);
                cor.payment = Some(payment);
            }
        }
        let Some(cor) = self.corrections.get(&cor_no) else {
            return JitResponse::error(Some(ServiceId::FTPS), "internal state lost");
        };
        let (Some(advice), Some(payment)) = (&cor.advice, &cor.payment) else {
            return JitResponse::error(Some(ServiceId::FTPS), "internal state lost");
        };
        let paid: Vec<Value> = cor
            .beneficiaries
            .iter()
            .enumerate()
            .filter(|(_, b)| self.scenario.failure(&b.account).is_none())
            .map(|(i, b)| paid_benf(&b.account, &b.ifsc, &b.benef_id, i, payment))
            .collect();
        let org_ref = if cor.jit_org_bill_ref_no.is_empty() {
            p(params, "jitOrgBillRefNo")
        } else {
            cor.jit_org_bill_ref_no.clone()
        };
        JitResponse::success(
            ServiceId::FTPS,
            vec![json!({
                "jitCorBillNo": cor.jit_cor_bill_no,
                "jitCorBillDate": cor.jit_cor_bill_date,
                "jitOrgBillRefNo": org_ref,
                "voucherNo": payment.voucher_no,
                "voucherDate": date(payment.voucher_date),
                "billRefNo": advice.online_bill_ref_no,
                "paymentStatus": PAID,
                "tokenNumber": advice.token_number,
                "tokenDate": advice.token_date,
                "benfDtls": paid,
            })],
        )
    }

    fn ftfps(&self, params: &Value) -> JitResponse {
        let cor_no = p(params, "jitCorBillNo");
        let Some(cor) = self.corrections.get(&cor_no) else {
            return JitResponse::error(
                Some(ServiceId::FTFPS),
                format!("No correction bill found for {cor_no}"),
            );
        };
        let (Some(advice), Some(payment)) = (&cor.advice, &cor.payment) else {
            return JitResponse::success(ServiceId::FTFPS, Vec::new());
        };
        let failed: Vec<Value> = cor
            .beneficiaries
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let reason = self.scenario.failure(&b.account)?;
                Some(failed_benf(
                    &b.account,
                    &b.ifsc,
                    &b.benef_id,
                    reason,
                    i,
                    payment,
                    &cor.jit_org_bill_ref_no,
                ))
            })
            .collect();
        if failed.is_empty() {
            return JitResponse::success(ServiceId::FTFPS, Vec::new());
        }
        JitResponse::success(
            ServiceId::FTFPS,
            vec![json!({
                "jitCorBillNo": cor.jit_cor_bill_no,
                "jitCorBillDate": cor.jit_cor_bill_date,
                "billRefNo": advice.online_bill_ref_no,
                "tokenNumber": advice.token_number,
                "tokenDate": advice.token_date,
                "benfDtls": failed,
            })],
        )
    }
}

fn paid_benf(account: &str, ifsc: &str, benef_id: &str, index: usize, pay: &Payment) -> Value {
    json!({
        "benfAcctNo": account,
        "benfBankIfscCode": ifsc,
        "utrNo": format!("RBI{}", pay.voucher_no),
        "utrDate": date(pay.voucher_date),
        "endToEndId": format!("EP{}{:010}{:04}", pay.voucher_date.format("%Y%m%d"), pay.voucher_no, index + 1),
        "benfId": benef_id,
    })
}

fn failed_benf(
    account: &str,
    ifsc: &str,
    benef_id: &str,
    reason: &str,
    index: usize,
    pay: &Payment,
    org_bill_ref: &str,
) -> Value {
    let mut v = paid_benf(account, ifsc, benef_id, index, pay);
    if let Value::Object(map) = &mut v {
        map.insert("orgBillRefNumber".into(), json!(org_bill_ref));
        map.insert(
            "challanNumber".into(),
            json!(format!("{}{:02}", pay.voucher_no, index + 1)),
        );
        map.insert("challanDate".into(), json!(date(pay.voucher_date)));
        map.insert("failedReason".into(), json!(reason));
    }
    v
}

/// PD's item for a paid bill: every beneficiary paid (failures show up in FD).
fn paid_item(bill: &Bill) -> Value {
    let (Some(advice), Some(payment)) = (&bill.advice, &bill.payment) else {
        return Value::Null;
    };
    let benf: Vec<Value> = bill
        .beneficiaries
        .iter()
        .enumerate()
        .map(|(i, b)| paid_benf(&b.account, &b.ifsc, &b.benef_id, i, payment))
        .collect();
    json!({
        "billNumber": bill.jit_bill_no,
        "billDate": bill.jit_bill_date.get(..10).unwrap_or(&bill.jit_bill_date),
        "voucherNo": payment.voucher_no,
        "voucherDate": date(payment.voucher_date),
        "billRefNo": advice.online_bill_ref_no,
        "paymentStatus": PAID,
        "tokenNumber": advice.token_number,
        "tokenDate": advice.token_date,
        "benfDtls": benf,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn financial_year_is_the_ending_year() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(fin_year(d("2023-05-29")), "2024");
        assert_eq!(fin_year(d("2024-03-31")), "2024");
        assert_eq!(fin_year(d("2024-04-01")), "2025");
    }

    #[test]
    fn params_read_strings_and_numbers() {
        let v = json!({"a": " x ", "b": 5, "c": null});
        assert_eq!(p(&v, "a"), "x");
        assert_eq!(p(&v, "b"), "5");
        assert_eq!(p(&v, "c"), "");
        assert_eq!(
            date_param("2026-04-01 10:00:00"),
            NaiveDate::from_ymd_opt(2026, 4, 1)
        );
        assert_eq!(date_param("2026-4-1"), None);
    }
}
