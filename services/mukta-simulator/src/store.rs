//! The in-memory state and the rules of each service: what a search returns, what a
//! payment create/update checks and changes, how a bank-account change is audited.
//!
//! Pure data and functions; the HTTP layer ([`crate::routes`]) holds it behind a mutex.

use crate::error::{codes, SimError};
use crate::fixtures::Fixtures;
use crate::model::{
    AuditLog, BankAccount, BankBranchIdentifier, Bill, Individual, Organisation, Payment,
};
use chrono::{Datelike, TimeZone, Utc};
use digit_core::{AuditDetails, ErrorDetail, Money};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::VecDeque;

/// Payment status set on create (`expense.payment.default.status`).
pub const DEFAULT_PAYMENT_STATUS: &str = "INITIATED";
/// Reference status set on create (`expense.reference.default.status`).
pub const DEFAULT_REFERENCE_STATUS: &str = "PAYMENT_INITIATED";
/// Status that gives a bill's amounts back.
pub const CANCELLED: &str = "CANCELLED";

/// The calendar date of `now_ms` in India Standard Time (UTC+05:30, no DST), the zone of
/// payment-number dates and financial years: `(year, month, day)`.
fn ist_date(now_ms: i64) -> (i32, u32, u32) {
    let shifted = Utc
        .timestamp_millis_opt(now_ms.saturating_add(19_800_000))
        .single()
        .unwrap_or_else(Utc::now);
    (shifted.year(), shifted.month(), shifted.day())
}

/// `2024-25` for a date between 1 April 2024 and 31 March 2025.
pub fn financial_year(year: i32, month: u32) -> String {
    let start = if month >= 4 { year } else { year - 1 };
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

/// A sequence start that differs between runs, so a restarted simulator does not hand
/// out payment numbers an adapter's database has already seen: seconds since IST midnight
/// × 10, plus one.
pub fn time_based_seq_start(now_ms: i64) -> u64 {
    let secs = (now_ms / 1000 + 19_800).rem_euclid(86_400);
    u64::try_from(secs).unwrap_or(0) * 10 + 1
}

/// Who asked (for audit fields).
fn user_of(request_info: &Value) -> String {
    request_info
        .pointer("/userInfo/uuid")
        .and_then(Value::as_str)
        .unwrap_or("mukta-simulator")
        .to_owned()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A record in `tenant` or, for a state-level query (`pg`), in any of its cities.
pub fn tenant_matches(record: Option<&str>, query: &str) -> bool {
    match record {
        Some(r) => r == query || (r.starts_with(query) && r[query.len()..].starts_with('.')),
        None => false,
    }
}

fn any_or_all(filter: Option<&Vec<String>>, value: Option<&str>) -> bool {
    match filter {
        None => true,
        Some(list) if list.is_empty() => true,
        Some(list) => value.is_some_and(|v| list.iter().any(|x| x == v)),
    }
}

/// One page of `items`.
pub fn page<T: Clone>(items: &[T], offset: usize, limit: usize) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// `billCriteria` of a bill search.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BillCriteria {
    /// Mandatory.
    pub tenant_id: Option<String>,
    /// Bill ids.
    pub ids: Option<Vec<String>>,
    /// Bill numbers.
    pub bill_numbers: Option<Vec<String>>,
    /// `true` → only bills without a payment.
    pub is_payment_status_null: Option<bool>,
    /// Business service.
    pub business_service: Option<String>,
    /// Reference ids.
    pub reference_ids: Option<Vec<String>>,
    /// Bill status (`ACTIVE`).
    pub status: Option<String>,
}

/// `paymentCriteria` of a payment search.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentCriteria {
    /// Mandatory.
    pub tenant_id: Option<String>,
    /// Payment ids.
    pub ids: Option<Vec<String>>,
    /// Payment numbers.
    pub payment_numbers: Option<Vec<String>>,
    /// Bills paid.
    pub bill_ids: Option<Vec<String>>,
    /// Status.
    pub status: Option<String>,
    /// Reference status.
    pub reference_status: Option<String>,
}

/// One entry of the payment history kept for tests: what was created or stored, when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    /// `CREATE` or `UPDATE`.
    pub action: String,
    /// Epoch ms.
    pub at: i64,
    /// Payment number.
    pub payment_number: Option<String>,
    /// `payment.status` after the event.
    pub status: Option<String>,
    /// `payment.referenceStatus` after the event.
    pub reference_status: Option<String>,
    /// The payment as stored after the event.
    pub payment: Payment,
}

/// A message published to Kafka.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// Broker-side topic.
    pub topic: String,
    /// Record key (the payment number).
    pub key: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// How many `on-disburse` callbacks [`Store`] keeps.
pub const CALLBACKS_KEPT: usize = 1000;

/// One `on-disburse/_create|_update` call of the program service: what mukta-ifix-adapter
/// would apply to its payment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisburseCallback {
    /// `create` or `update`.
    pub action: String,
    /// The disbursement's id.
    pub id: Option<String>,
    /// Its target (the payment number upstream).
    pub target_id: Option<String>,
    /// Its status code (`INITIATED`, `SUCCESSFUL`, `FAILED` …).
    pub status_code: Option<String>,
    /// When it arrived, epoch ms.
    pub received_time: i64,
}

/// Everything the simulator knows.
#[derive(Debug, Clone)]
pub struct Store {
    initial: Fixtures,
    /// Current registry content (fixtures plus what admin calls and payments changed).
    pub data: Fixtures,
    /// Payments created.
    pub payments: Vec<Payment>,
    /// Create/update history.
    pub history: Vec<PaymentEvent>,
    /// Kafka messages sent.
    pub published: Vec<Published>,
    /// The program service's `on-disburse` callbacks (mukta-ifix-adapter's role), newest
    /// last, at most [`CALLBACKS_KEPT`].
    pub callbacks: VecDeque<DisburseCallback>,
    /// Callbacks received since the last reset (also those no longer kept).
    pub callbacks_received: u64,
    next_seq: u64,
    seq_start: u64,
}

/// A payment ready to publish: validated, ids and number assigned, not yet stored.
#[derive(Debug, Clone)]
pub struct PreparedPayment {
    /// The payment as it will be stored and published.
    pub payment: Payment,
}

impl Store {
    /// A store serving `fixtures`; payment (and simulator bill) sequence numbers start at
    /// `seq_start`.
    pub fn new(fixtures: Fixtures, seq_start: u64) -> Self {
        Self {
            initial: fixtures.clone(),
            data: fixtures,
            payments: Vec::new(),
            history: Vec::new(),
            published: Vec::new(),
            callbacks: VecDeque::new(),
            callbacks_received: 0,
            next_seq: seq_start,
            seq_start,
        }
    }

    /// Back to the initial fixtures; payments, history and publications forgotten.
    pub fn reset(&mut self) {
        self.data = self.initial.clone();
        self.payments.clear();
        self.history.clear();
        self.published.clear();
        self.callbacks.clear();
        self.callbacks_received = 0;
        self.next_seq = self.seq_start;
    }

    /// Records one `on-disburse` callback, forgetting the oldest beyond [`CALLBACKS_KEPT`]
    /// (a load run sends thousands; memory stays bounded).
    pub fn record_callback(&mut self, callback: DisburseCallback) {
        if self.callbacks.len() == CALLBACKS_KEPT {
            self.callbacks.pop_front();
        }
        self.callbacks.push_back(callback);
        self.callbacks_received += 1;
    }

    /// New fixtures (they also become what [`Store::reset`] returns to); payments,
    /// history and publications forgotten.
    pub fn replace_fixtures(&mut self, fixtures: Fixtures) {
        self.initial = fixtures;
        self.reset();
    }

    /// Adds or replaces (by id) records; payments are kept.
    pub fn add_fixtures(&mut self, fixtures: Fixtures) {
        self.data.merge(fixtures);
    }

    fn next(&mut self) -> u64 {
        let n = self.next_seq;
        self.next_seq = if n >= 999_999 { 1 } else { n + 1 };
        n
    }

    fn city_code(&self, tenant: &str) -> String {
        self.data
            .city_codes
            .get(tenant)
            .cloned()
            .unwrap_or_else(|| {
                tenant
                    .split_once('.')
                    .map_or(tenant, |(_, city)| city)
                    .to_uppercase()
            })
    }

    /// `EP/<city>/<fy>/<MM>/<dd>/<seq 6>` in IST, as expense's idgen format.
    fn payment_number(&mut self, tenant: &str, now_ms: i64) -> String {
        let (year, month, day) = ist_date(now_ms);
        let seq = self.next();
        format!(
            "EP/{}/{}/{month:02}/{day:02}/{seq:06}",
            self.city_code(tenant),
            financial_year(year, month),
        )
    }

    // ---- expense: bills -------------------------------------------------------------

    /// Bills matching `criteria`, in fixture order (all of them; the caller pages).
    pub fn search_bills(&self, criteria: &BillCriteria) -> Result<Vec<Bill>, SimError> {
        let tenant = criteria
            .tenant_id
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SimError::invalid(
                    codes::INVALID_SEARCH_CRITERIA,
                    "billCriteria.tenantId is mandatory",
                )
            })?;
        Ok(self
            .data
            .bills
            .iter()
            .filter(|b| tenant_matches(b.tenant_id.as_deref(), tenant))
            .filter(|b| any_or_all(criteria.ids.as_ref(), b.id.as_deref()))
            .filter(|b| any_or_all(criteria.bill_numbers.as_ref(), b.bill_number.as_deref()))
            .filter(|b| any_or_all(criteria.reference_ids.as_ref(), b.reference_id.as_deref()))
            .filter(|b| {
                criteria
                    .business_service
                    .as_deref()
                    .is_none_or(|s| b.business_service.as_deref() == Some(s))
            })
            .filter(|b| {
                criteria
                    .status
                    .as_deref()
                    .is_none_or(|s| b.status.as_deref() == Some(s))
            })
            .filter(|b| criteria.is_payment_status_null != Some(true) || b.payment_status.is_none())
            .cloned()
            .collect())
    }

    /// Adds bills (admin): missing ids, numbers, statuses and totals are filled in;
    /// `wfStatus` defaults to `APPROVED` and `paymentStatus` is cleared.
    pub fn add_bills(&mut self, bills: Vec<Bill>, now_ms: i64) -> Vec<Bill> {
        let mut added = Vec::new();
        for mut bill in bills {
            let audit = AuditDetails::for_create("mukta-simulator", now_ms);
            let bill_id = bill.id.clone().unwrap_or_else(new_id);
            let tenant = bill
                .tenant_id
                .clone()
                .unwrap_or_else(|| "pg.citya".to_owned());
            bill.id = Some(bill_id.clone());
            bill.tenant_id = Some(tenant.clone());
            if bill.bill_number.is_none() {
                let prefix = match bill.business_service.as_deref() {
                    Some("EXPENSE.WAGES") => "WB",
                    Some("EXPENSE.PURCHASE") => "PB",
                    Some("EXPENSE.SUPERVISION") => "SB",
                    _ => "B",
                };
                let (year, month, _) = ist_date(now_ms);
                let fy = financial_year(year, month);
                bill.bill_number = Some(format!("{prefix}/{fy}/{:06}", self.next()));
            }
            bill.bill_date.get_or_insert(now_ms);
            bill.status.get_or_insert_with(|| "ACTIVE".to_owned());
            bill.wf_status.get_or_insert_with(|| "APPROVED".to_owned());
            bill.payment_status = None;
            bill.audit_details.get_or_insert_with(|| audit.clone());
            if let Some(payer) = bill.payer.as_mut() {
                payer.id.get_or_insert_with(new_id);
                payer.parent_id.get_or_insert_with(|| bill_id.clone());
                payer.tenant_id.get_or_insert_with(|| tenant.clone());
                payer.status.get_or_insert_with(|| "ACTIVE".to_owned());
            }
            for detail in &mut bill.bill_details {
                let detail_id = detail.id.clone().unwrap_or_else(new_id);
                detail.id = Some(detail_id.clone());
                detail.bill_id = Some(bill_id.clone());
                detail.tenant_id.get_or_insert_with(|| tenant.clone());
                detail.status.get_or_insert_with(|| "ACTIVE".to_owned());
                detail.payment_status = None;
                detail.audit_details.get_or_insert_with(|| audit.clone());
                if let Some(payee) = detail.payee.as_mut() {
                    payee.id.get_or_insert_with(new_id);
                    payee.parent_id.get_or_insert_with(|| bill_id.clone());
                    payee.tenant_id.get_or_insert_with(|| tenant.clone());
                    payee.status.get_or_insert_with(|| "ACTIVE".to_owned());
                }
                for item in detail
                    .line_items
                    .iter_mut()
                    .chain(detail.payable_line_items.iter_mut())
                {
                    item.id.get_or_insert_with(new_id);
                    item.bill_detail_id = Some(detail_id.clone());
                    item.tenant_id.get_or_insert_with(|| tenant.clone());
                    item.status.get_or_insert_with(|| "ACTIVE".to_owned());
                    item.line_type.get_or_insert_with(|| "PAYABLE".to_owned());
                    item.audit_details.get_or_insert_with(|| audit.clone());
                }
                if detail.total_amount == Money::ZERO {
                    detail.total_amount =
                        Money(detail.payable_line_items.iter().map(|l| l.amount.0).sum());
                }
            }
            if bill.total_amount == Money::ZERO {
                bill.total_amount = Money(bill.bill_details.iter().map(|d| d.total_amount.0).sum());
            }
            match self.data.bills.iter().position(|b| b.id == bill.id) {
                Some(pos) => self.data.bills[pos] = bill.clone(),
                None => self.data.bills.push(bill.clone()),
            }
            added.push(bill);
        }
        added
    }

    // ---- expense: payments ----------------------------------------------------------

    /// Checks a payment create as expense's `PaymentValidator` does and assigns ids,
    /// statuses and the payment number. Nothing is stored until [`Store::commit_payment`].
    pub fn prepare_payment(
        &mut self,
        payment: Option<Payment>,
        request_info: &Value,
        now_ms: i64,
    ) -> Result<PreparedPayment, SimError> {
        let mut payment = payment
            .ok_or_else(|| SimError::invalid(codes::INVALID_REQUEST, "payment is mandatory"))?;
        let tenant = payment
            .tenant_id
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SimError::invalid(codes::INVALID_REQUEST, "payment.tenantId is mandatory")
            })?;
        if payment.bills.is_empty() {
            return Err(SimError::invalid(
                codes::INVALID_REQUEST,
                "payment.bills must name at least one bill",
            ));
        }
        let mut bill_ids: Vec<String> = Vec::new();
        for (i, pb) in payment.bills.iter().enumerate() {
            let Some(id) = pb.bill_id.clone() else {
                return Err(SimError::invalid(
                    codes::INVALID_REQUEST,
                    format!("payment.bills[{i}].billId is mandatory"),
                ));
            };
            if bill_ids.contains(&id) {
                return Err(SimError::invalid(
                    codes::DUPLICATE_BILLS,
                    "The same bills cannot be repeated in the payment request",
                ));
            }
            bill_ids.push(id);
        }
        let bills: Vec<&Bill> = bill_ids
            .iter()
            .filter_map(|id| {
                self.data.bills.iter().find(|b| {
                    b.id.as_deref() == Some(id.as_str())
                        && tenant_matches(b.tenant_id.as_deref(), &tenant)
                        && b.status.as_deref().is_none_or(|s| s == "ACTIVE")
                })
            })
            .collect();
        if bills.len() != bill_ids.len() {
            let missing: Vec<&String> = bill_ids
                .iter()
                .filter(|id| !bills.iter().any(|b| b.id.as_ref() == Some(*id)))
                .collect();
            return Err(SimError::invalid(
                codes::INVALID_BILLS,
                format!(
                    "The following bill ids are either Invalid or not ACTIVE in the system : {missing:?}"
                ),
            ));
        }
        // The duplicate check, said plainly (upstream reaches the same code through the
        // pending amount, which a paid bill no longer has).
        if let Some(paid) = bills.iter().find(|b| {
            b.payment_status
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case(CANCELLED))
        }) {
            let existing = self
                .payments
                .iter()
                .find(|p| p.bills.iter().any(|pb| pb.bill_id == paid.id))
                .and_then(|p| p.payment_number.clone())
                .unwrap_or_default();
            return Err(SimError::invalid(
                codes::INVALID_PAYMENT,
                format!(
                    "Bill {} already has payment {existing} (paymentStatus {}); nothing is pending",
                    paid.bill_number.as_deref().unwrap_or_default(),
                    paid.payment_status.as_deref().unwrap_or_default()
                ),
            ));
        }
        let pending: rust_decimal::Decimal = bills
            .iter()
            .map(|b| b.total_amount.0 - b.total_paid_amount.0)
            .sum();
        if payment.net_payable_amount.0 != pending || payment.net_paid_amount.0 != pending {
            return Err(SimError::invalid(
                codes::INVALID_PAYMENT,
                format!(
                    "The netPayableAmount and netPaidAmount should be equal to pending amount : {pending} of the bills provided in the payment "
                ),
            ));
        }
        let mut errors: Vec<ErrorDetail> = Vec::new();
        for (bi, pb) in payment.bills.iter_mut().enumerate() {
            let Some(bill) = bills.iter().find(|b| b.id == pb.bill_id) else {
                continue;
            };
            let remaining = bill.total_amount.0 - bill.total_paid_amount.0;
            let total = pb.total_amount.get_or_insert(Money(remaining));
            let _ = total;
            if pb.total_paid_amount.0 != remaining {
                errors.push(ErrorDetail::new(
                    format!("{}[{bi}]", codes::INVALID_BILL),
                    format!(
                        "The paid amount {} for bill with id : {} should be equal to the remining amount : {remaining}",
                        pb.total_paid_amount,
                        pb.bill_id.as_deref().unwrap_or_default()
                    ),
                ));
            }
            for (di, pd) in pb.bill_details.iter_mut().enumerate() {
                let Some(detail) = bill
                    .bill_details
                    .iter()
                    .find(|d| d.id == pd.bill_detail_id && d.id.is_some())
                else {
                    errors.push(ErrorDetail::new(
                        format!("{}[{di}]", codes::INVALID_BILL_DETAIL),
                        format!(
                            "The bill detail id is invalid : {}",
                            pd.bill_detail_id.as_deref().unwrap_or("null")
                        ),
                    ));
                    continue;
                };
                let pending = detail.total_amount.0 - detail.total_paid_amount.0;
                let total = *pd.total_amount.get_or_insert(Money(pending));
                if pd.total_paid_amount.0 != pending || total.0 != pending {
                    errors.push(ErrorDetail::new(
                        format!("{}[{di}]", codes::BILLDETAIL_INVALID_AMOUNT),
                        format!(
                            "The paid amount and total Amount  for billDetail with id : {} should be the actual amount : {pending}",
                            pd.bill_detail_id.as_deref().unwrap_or_default()
                        ),
                    ));
                }
                for (li, pl) in pd.payable_line_items.iter().enumerate() {
                    let Some(item) = detail
                        .payable_line_items
                        .iter()
                        .find(|l| l.id.is_some() && l.id == pl.line_item_id)
                    else {
                        errors.push(ErrorDetail::new(
                            format!("{}[{li}]", codes::INVALID_LINEITEM),
                            format!(
                                "The payable line item is invalid : {}",
                                pl.line_item_id.as_deref().unwrap_or("null")
                            ),
                        ));
                        continue;
                    };
                    let pending = item.amount.0 - item.paid_amount.0;
                    if pl.paid_amount.0 != pending {
                        errors.push(ErrorDetail::new(
                            format!("{}[{li}]", codes::LINEITEM_INVALID_AMOUNT),
                            format!(
                                "The paid line item amount {} for line item with id : {} should be equal to the actual pending amount : {pending}",
                                pl.paid_amount,
                                pl.line_item_id.as_deref().unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(SimError::Invalid(errors));
        }
        // Enrichment (expense's EnrichmentUtil.encrichCreatePayment).
        let user = user_of(request_info);
        let audit = AuditDetails::for_create(&user, now_ms);
        let status = Some(DEFAULT_PAYMENT_STATUS.to_owned());
        payment.id = Some(new_id());
        payment.status = status.clone();
        payment.reference_status = Some(DEFAULT_REFERENCE_STATUS.to_owned());
        payment.payment_number = Some(self.payment_number(&tenant, now_ms));
        payment.audit_details = Some(audit.clone());
        for pb in &mut payment.bills {
            pb.id = Some(new_id());
            pb.status = status.clone();
            pb.tenant_id.get_or_insert_with(|| tenant.clone());
            pb.audit_details = Some(audit.clone());
            for pd in &mut pb.bill_details {
                pd.id = Some(new_id());
                pd.status = status.clone();
                pd.tenant_id.get_or_insert_with(|| tenant.clone());
                pd.audit_details = Some(audit.clone());
                for pl in &mut pd.payable_line_items {
                    pl.id = Some(new_id());
                    pl.status = status.clone();
                    pl.tenant_id.get_or_insert_with(|| tenant.clone());
                    pl.audit_details = Some(audit.clone());
                }
            }
        }
        Ok(PreparedPayment { payment })
    }

    /// Stores a published payment and back-updates its bills: `paymentStatus` of the bill
    /// and bill details = the payment's status, paid amounts added.
    pub fn commit_payment(&mut self, prepared: PreparedPayment, now_ms: i64) -> Payment {
        let payment = prepared.payment;
        self.back_update_bills(&payment, false, now_ms);
        self.payments.push(payment.clone());
        self.history.push(PaymentEvent {
            action: "CREATE".to_owned(),
            at: now_ms,
            payment_number: payment.payment_number.clone(),
            status: payment.status.clone(),
            reference_status: payment.reference_status.clone(),
            payment: payment.clone(),
        });
        payment
    }

    fn back_update_bills(&mut self, payment: &Payment, subtract: bool, now_ms: i64) {
        let add = |a: Money, b: Money| {
            if subtract {
                Money(a.0 - b.0)
            } else {
                Money(a.0 + b.0)
            }
        };
        for pb in &payment.bills {
            let Some(bill) = self.data.bills.iter_mut().find(|b| b.id == pb.bill_id) else {
                continue;
            };
            bill.total_paid_amount = add(bill.total_paid_amount, pb.total_paid_amount);
            bill.payment_status = payment.status.clone();
            bill.audit_details = Some(
                bill.audit_details
                    .clone()
                    .unwrap_or_default()
                    .for_update("mukta-simulator", now_ms),
            );
            for pd in &pb.bill_details {
                let Some(detail) = bill
                    .bill_details
                    .iter_mut()
                    .find(|d| d.id == pd.bill_detail_id)
                else {
                    continue;
                };
                detail.total_paid_amount = add(detail.total_paid_amount, pd.total_paid_amount);
                detail.payment_status = payment.status.clone();
                for pl in &pd.payable_line_items {
                    if let Some(item) = detail
                        .payable_line_items
                        .iter_mut()
                        .find(|l| l.id == pl.line_item_id)
                    {
                        item.paid_amount = add(item.paid_amount, pl.paid_amount);
                    }
                }
            }
        }
    }

    /// Payments matching `criteria`, oldest first.
    pub fn search_payments(&self, criteria: &PaymentCriteria) -> Result<Vec<Payment>, SimError> {
        let tenant = criteria
            .tenant_id
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                SimError::invalid(
                    codes::INVALID_SEARCH_CRITERIA,
                    "paymentCriteria.tenantId is mandatory",
                )
            })?;
        Ok(self
            .payments
            .iter()
            .filter(|p| tenant_matches(p.tenant_id.as_deref(), tenant))
            .filter(|p| any_or_all(criteria.ids.as_ref(), p.id.as_deref()))
            .filter(|p| {
                any_or_all(
                    criteria.payment_numbers.as_ref(),
                    p.payment_number.as_deref(),
                )
            })
            .filter(|p| match criteria.bill_ids.as_ref() {
                Some(ids) if !ids.is_empty() => p
                    .bills
                    .iter()
                    .any(|b| b.bill_id.as_ref().is_some_and(|id| ids.contains(id))),
                _ => true,
            })
            .filter(|p| {
                criteria
                    .status
                    .as_deref()
                    .is_none_or(|s| p.status.as_deref() == Some(s))
            })
            .filter(|p| {
                criteria
                    .reference_status
                    .as_deref()
                    .is_none_or(|s| p.reference_status.as_deref() == Some(s))
            })
            .cloned()
            .collect())
    }

    /// Stores the statuses of a payment update (`status`, `referenceStatus`, and every
    /// bill's, bill detail's and payable line item's `status`), checked as expense's
    /// `validateUpdateRequest`; bills' `paymentStatus` follows the payment's status.
    pub fn update_payment(
        &mut self,
        payment: Option<Payment>,
        request_info: &Value,
        now_ms: i64,
    ) -> Result<Payment, SimError> {
        let incoming = payment
            .ok_or_else(|| SimError::invalid(codes::INVALID_REQUEST, "payment is mandatory"))?;
        let Some(id) = incoming.id.clone() else {
            return Err(SimError::invalid(
                codes::PAYMENT_UPDATE,
                "Payment id is mandatory for update",
            ));
        };
        let Some(status) = incoming.status.clone() else {
            return Err(SimError::invalid(
                codes::UPDATE_STATUS_NOTNULL,
                " Payment status is mandatory in update request",
            ));
        };
        let Some(reference_status) = incoming.reference_status.clone() else {
            return Err(SimError::invalid(
                codes::UPDATE_REFERENCE_STATUS_NOTNULL,
                "Payment reference status is mandatory in update request",
            ));
        };
        let Some(pos) = self.payments.iter().position(|p| {
            p.id.as_deref() == Some(id.as_str())
                && incoming
                    .tenant_id
                    .as_deref()
                    .is_none_or(|t| tenant_matches(p.tenant_id.as_deref(), t))
        }) else {
            return Err(SimError::invalid(
                codes::PAYMENT_UPDATE,
                "Payment id is invalid",
            ));
        };
        let any_null = incoming.bills.iter().any(|b| {
            b.status.is_none()
                || b.bill_details.iter().any(|d| {
                    d.status.is_none() || d.payable_line_items.iter().any(|l| l.status.is_none())
                })
        });
        if any_null {
            return Err(SimError::invalid(
                codes::UPDATE_NESTED_STATUS_NOTNULL,
                "Status is mandatory for the payment, bill, billdetails and lineitems in payment update request",
            ));
        }
        let mut stored = self.payments[pos].clone();
        let mut errors = Vec::new();
        for (bi, ib) in incoming.bills.iter().enumerate() {
            let Some(sb) = stored.bills.iter_mut().find(|b| {
                (ib.id.is_some() && b.id == ib.id)
                    || (ib.bill_id.is_some() && b.bill_id == ib.bill_id)
            }) else {
                errors.push(ErrorDetail::new(
                    codes::INVALID_BILLS,
                    format!(
                        "payment.bills[{bi}] ({}) is not a bill of payment {id}",
                        ib.bill_id.as_deref().or(ib.id.as_deref()).unwrap_or("null")
                    ),
                ));
                continue;
            };
            sb.status = ib.status.clone();
            for (di, id_) in ib.bill_details.iter().enumerate() {
                let Some(sd) = sb.bill_details.iter_mut().find(|d| {
                    (id_.id.is_some() && d.id == id_.id)
                        || (id_.bill_detail_id.is_some() && d.bill_detail_id == id_.bill_detail_id)
                }) else {
                    errors.push(ErrorDetail::new(
                        format!("{}[{di}]", codes::INVALID_BILL_DETAIL),
                        format!(
                            "The bill detail id is invalid : {}",
                            id_.bill_detail_id.as_deref().unwrap_or("null")
                        ),
                    ));
                    continue;
                };
                sd.status = id_.status.clone();
                for (li, il) in id_.payable_line_items.iter().enumerate() {
                    let Some(sl) = sd.payable_line_items.iter_mut().find(|l| {
                        (il.id.is_some() && l.id == il.id)
                            || (il.line_item_id.is_some() && l.line_item_id == il.line_item_id)
                    }) else {
                        errors.push(ErrorDetail::new(
                            format!("{}[{li}]", codes::INVALID_LINEITEM),
                            format!(
                                "The payable line item is invalid : {}",
                                il.line_item_id.as_deref().unwrap_or("null")
                            ),
                        ));
                        continue;
                    };
                    sl.status = il.status.clone();
                }
            }
        }
        if !errors.is_empty() {
            return Err(SimError::Invalid(errors));
        }
        let was_cancelled = stored
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(CANCELLED));
        stored.status = Some(status.clone());
        stored.reference_status = Some(reference_status);
        if incoming.additional_details.is_some() {
            stored.additional_details = incoming.additional_details.clone();
        }
        let user = user_of(request_info);
        stored.audit_details = Some(
            stored
                .audit_details
                .clone()
                .unwrap_or_default()
                .for_update(&user, now_ms),
        );
        let cancel = status.eq_ignore_ascii_case(CANCELLED) && !was_cancelled;
        if cancel {
            self.back_update_bills(&stored, true, now_ms);
        } else {
            // Statuses only: bills follow the payment's status, amounts stay.
            for pb in &stored.bills {
                if let Some(bill) = self.data.bills.iter_mut().find(|b| b.id == pb.bill_id) {
                    bill.payment_status = Some(status.clone());
                    for pd in &pb.bill_details {
                        if let Some(d) = bill
                            .bill_details
                            .iter_mut()
                            .find(|d| d.id == pd.bill_detail_id)
                        {
                            d.payment_status = Some(status.clone());
                        }
                    }
                }
            }
        }
        self.payments[pos] = stored.clone();
        self.history.push(PaymentEvent {
            action: "UPDATE".to_owned(),
            at: now_ms,
            payment_number: stored.payment_number.clone(),
            status: stored.status.clone(),
            reference_status: stored.reference_status.clone(),
            payment: stored.clone(),
        });
        Ok(stored)
    }

    // ---- registries -----------------------------------------------------------------

    /// Bank accounts of the tenant, filtered by record ids, reference ids and service code.
    pub fn search_bank_accounts(
        &self,
        tenant: &str,
        ids: Option<&Vec<String>>,
        reference_ids: Option<&Vec<String>>,
        service_code: Option<&str>,
    ) -> Vec<BankAccount> {
        self.data
            .bank_accounts
            .iter()
            .filter(|a| tenant_matches(a.tenant_id.as_deref(), tenant))
            .filter(|a| any_or_all(ids, a.id.as_deref()))
            .filter(|a| any_or_all(reference_ids, a.reference_id.as_deref()))
            .filter(|a| service_code.is_none_or(|c| a.service_code.as_deref() == Some(c)))
            .cloned()
            .collect()
    }

    /// Individuals of the tenant by ids / individual ids.
    pub fn search_individuals(
        &self,
        tenant: &str,
        ids: Option<&Vec<String>>,
        individual_ids: Option<&Vec<String>>,
    ) -> Vec<Individual> {
        self.data
            .individuals
            .iter()
            .filter(|i| tenant_matches(i.tenant_id.as_deref(), tenant))
            .filter(|i| any_or_all(ids, i.id.as_deref()))
            .filter(|i| any_or_all(individual_ids, i.individual_id.as_deref()))
            .cloned()
            .collect()
    }

    /// Organisations of the tenant by ids.
    pub fn search_organisations(
        &self,
        tenant: &str,
        ids: Option<&Vec<String>>,
    ) -> Vec<Organisation> {
        self.data
            .organisations
            .iter()
            .filter(|o| tenant_matches(o.tenant_id.as_deref(), tenant))
            .filter(|o| any_or_all(ids, o.id.as_deref()))
            .cloned()
            .collect()
    }

    /// Audit entries, oldest first, by object id and entity name.
    pub fn search_audit_logs(
        &self,
        tenant: Option<&str>,
        object_id: Option<&str>,
        entity_name: Option<&str>,
    ) -> Vec<AuditLog> {
        let mut logs: Vec<AuditLog> = self
            .data
            .audit_logs
            .iter()
            .filter(|l| tenant.is_none_or(|t| tenant_matches(l.tenant_id.as_deref(), t)))
            .filter(|l| object_id.is_none_or(|o| l.object_id.as_deref() == Some(o)))
            .filter(|l| entity_name.is_none_or(|e| l.entity_name.as_deref() == Some(e)))
            .cloned()
            .collect();
        logs.sort_by_key(|l| l.change_date.unwrap_or(0));
        logs
    }

    /// Changes the first account of the bank-account record of `reference_id` (admin) and
    /// appends audit snapshots: if the record had no `eg_bank_account_detail` entry yet, a
    /// `CREATE` snapshot of the old values first (dated at the record's creation, or 1 ms
    /// before now), then `UPDATE` snapshots of the new values dated now. So "the value at
    /// time T" is the newest entry with `changeDate ≤ T`, as the adapter's
    /// `AuditLogUtils` reads it.
    pub fn change_bank_account(
        &mut self,
        change: &BankAccountChange,
        now_ms: i64,
    ) -> Result<(BankAccount, Vec<AuditLog>), SimError> {
        let Some(account) = self.data.bank_accounts.iter_mut().find(|a| {
            a.reference_id.as_deref() == Some(change.reference_id.as_str())
                && change
                    .tenant_id
                    .as_deref()
                    .is_none_or(|t| tenant_matches(a.tenant_id.as_deref(), t))
        }) else {
            return Err(SimError::invalid(
                codes::BANK_ACCOUNT_NOT_FOUND,
                format!("No bank account with referenceId {}", change.reference_id),
            ));
        };
        let Some(detail) = account.bank_account_details.first_mut() else {
            return Err(SimError::invalid(
                codes::BANK_ACCOUNT_NOT_FOUND,
                format!(
                    "Bank account {} has no account details",
                    change.reference_id
                ),
            ));
        };
        let object_id = account.id.clone();
        let tenant = account.tenant_id.clone();
        let created = account
            .audit_details
            .as_ref()
            .and_then(|a| a.created_time)
            .filter(|t| *t < now_ms)
            .unwrap_or(now_ms - 1);
        let snapshot = |detail: &crate::model::BankAccountDetails, at: i64, op: &str| {
            let branch = detail.bank_branch_identifier.clone().unwrap_or_default();
            let entry = |entity: &str, map: Value| AuditLog {
                id: Some(new_id()),
                user_uuid: Some("mukta-simulator".to_owned()),
                module: Some("bankaccount-service".to_owned()),
                tenant_id: tenant.clone(),
                transaction_code: None,
                change_date: Some(at),
                entity_name: Some(entity.to_owned()),
                object_id: object_id.clone(),
                audit_correlation_id: None,
                key_value_map: match map {
                    Value::Object(m) => m,
                    _ => serde_json::Map::new(),
                },
                operation_type: Some(op.to_owned()),
                integrity_hash: None,
            };
            vec![
                entry(
                    "eg_bank_account_detail",
                    json!({
                        "id": detail.id, "bankAccountId": object_id,
                        "accountHolderName": detail.account_holder_name,
                        "accountNumber": detail.account_number,
                        "accountType": detail.account_type,
                        "isPrimary": detail.is_primary, "isActive": detail.is_active,
                    }),
                ),
                entry(
                    "eg_bank_branch_identifier",
                    json!({"id": branch.id, "bankAccountDetailId": detail.id,
                           "type": branch.identifier_type, "code": branch.code}),
                ),
            ]
        };
        let has_history = self.data.audit_logs.iter().any(|l| {
            l.object_id == object_id && l.entity_name.as_deref() == Some("eg_bank_account_detail")
        });
        let mut appended = Vec::new();
        if !has_history {
            appended.extend(snapshot(detail, created, "CREATE"));
        }
        if let Some(number) = &change.account_number {
            detail.account_number = Some(number.clone());
        }
        if let Some(holder) = &change.account_holder_name {
            detail.account_holder_name = Some(holder.clone());
        }
        if let Some(ifsc) = &change.ifsc {
            let branch = detail
                .bank_branch_identifier
                .get_or_insert_with(BankBranchIdentifier::default);
            branch.code = Some(ifsc.clone());
            branch
                .identifier_type
                .get_or_insert_with(|| "IFSC".to_owned());
            branch.additional_details = Some(json!({"ifsccode": ifsc}));
        }
        detail.audit_details = Some(
            detail
                .audit_details
                .clone()
                .unwrap_or_default()
                .for_update("mukta-simulator", now_ms),
        );
        appended.extend(snapshot(detail, now_ms, "UPDATE"));
        account.audit_details = Some(
            account
                .audit_details
                .clone()
                .unwrap_or_default()
                .for_update("mukta-simulator", now_ms),
        );
        let account = account.clone();
        self.data.audit_logs.extend(appended.iter().cloned());
        Ok((account, appended))
    }
}

/// Body of `POST /simulator/bankaccounts/_change`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BankAccountChange {
    /// The payee (`referenceId` of the bank-account record).
    pub reference_id: String,
    /// Restricts the lookup to a tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// New account number.
    #[serde(default)]
    pub account_number: Option<String>,
    /// New IFSC.
    #[serde(default)]
    pub ifsc: Option<String>,
    /// New holder name.
    #[serde(default)]
    pub account_holder_name: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn callbacks_kept_are_bounded_and_counted() {
        let mut s = Store::new(Fixtures::dev().unwrap(), 1);
        for n in 0..CALLBACKS_KEPT + 5 {
            s.record_callback(DisburseCallback {
                action: "create".into(),
                id: Some(format!("D-{n}")),
                target_id: None,
                status_code: None,
                received_time: 0,
            });
        }
        assert_eq!(s.callbacks.len(), CALLBACKS_KEPT);
        assert_eq!(s.callbacks_received, (CALLBACKS_KEPT + 5) as u64);
        assert_eq!(s.callbacks[0].id.as_deref(), Some("D-5"));
        s.reset();
        assert!(s.callbacks.is_empty());
        assert_eq!(s.callbacks_received, 0);
    }

    #[test]
    fn financial_years_turn_in_april() {
        assert_eq!(financial_year(2024, 3), "2023-24");
        assert_eq!(financial_year(2024, 4), "2024-25");
        assert_eq!(financial_year(2099, 12), "2099-00");
    }

    #[test]
    fn state_level_tenant_matches_its_cities() {
        assert!(tenant_matches(Some("pg.citya"), "pg"));
        assert!(tenant_matches(Some("pg.citya"), "pg.citya"));
        assert!(!tenant_matches(Some("pgx.citya"), "pg"));
        assert!(!tenant_matches(Some("pg"), "pg.citya"));
    }

    #[test]
    fn payment_numbers_follow_expense_format() {
        let mut s = Store::new(Fixtures::dev().unwrap(), 7);
        // 2024-05-01T00:00:00Z is 05:30 IST on 1 May 2024.
        assert_eq!(
            s.payment_number("pg.citya", 1_714_521_600_000),
            "EP/CITYA/2024-25/05/01/000007"
        );
        assert_eq!(
            s.payment_number("pg.cityb", 1_714_521_600_000),
            "EP/CITYB/2024-25/05/01/000008"
        );
        assert!(time_based_seq_start(0) >= 1);
    }
}
