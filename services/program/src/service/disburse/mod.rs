//! The disburse pipelines (spec §1.8): `disburse/_create` ([`create`]),
//! `disburse/_update`, `on-disburse/_create|_update` ([`reply`]) and `disburse/_search`
//! ([`search`]), on the shared checks, conversions and dispatch below.
//!
//! The money rules (spec §1.9, fixing §5 items 1–6), each in one Postgres transaction with
//! the rows, the ledger rows, the outbox messages and the inbox answer:
//! - amounts are exact decimals and a parent must equal the sum of its children exactly;
//! - a payment's debit is one guarded ledger entry (`ledger::apply(Kind::Disburse)`), so
//!   concurrent payments can never overspend a sanction; the debit is recorded on the
//!   parent (`debited_amount`);
//! - the auto-picked sanction is the oldest (`created_time`, `id`) of the program with
//!   enough balance; candidates are tried in that order with the guarded debit, so a
//!   sanction drained concurrently is skipped instead of overspent; the choice is recorded
//!   on the parent and its children;
//! - a revision (a payment for a target whose newest earlier payment is PARTIAL) reuses
//!   that payment's sanction and debits nothing (`debited_amount` 0, upstream's rule);
//! - a FAILED or ERROR status (on-disburse create/update, and — unlike upstream, §5 item 4
//!   — disburse/_update) gives back exactly what the payment debited, once
//!   (`refunded_amount`, one ledger REFUND row, unique per payment; a repeated reply is a
//!   no-op). A payment whose debit a revision reused is not refunded (the revision is
//!   paying that money out); upstream instead skips every refund of a target that has a
//!   PARTIAL payment;
//! - at most one payment per (location, target) is INITIATED/INPROCESS: the unique partial
//!   index `eg_program_disburse_in_flight`, whose violation is answered
//!   `DISBURSEMENT_ALREADY_PRESENT_ERROR` (upstream looked at the 20 newest rows, §5 item 3).
//!
//! PII (§1.13, §5 item 13): `account_code` and the individual's name, phone and address are
//! encrypted with [`crate::store::pii::PiiCipher`] before they are written (parents too, if
//! a client sends them) and decrypted in searches; messages to the adapter and the exchange
//! carry them in clear as upstream; dashboard events carry none of them.

pub mod create;
pub mod reply;
pub mod search;

use crate::domain::codes::{self, Rule};
use crate::domain::model::{Disbursement, Envelope, ExchangeCodes, Individual, Status, StatusCode};
use crate::error::ProgramError;
use crate::service::EventEntity;
use crate::service::{error_status, Caller, ProgramService};
use crate::store::disburse::Row;
use digit_core::{AuditDetails, Money};
use digit_outbox::OutboxMessage;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

pub use reply::ReplyKind;

/// Rules 1a–1c of §1.8, in upstream's order: children present; each child with an
/// individual, an account code and no children of its own; one location and one program
/// code, the parent's; parent amounts equal to the children's sums, exactly.
pub fn check_shape(d: &Disbursement) -> Result<(), Rule> {
    let children = match d.children.as_deref() {
        Some(c) if !c.is_empty() => c,
        _ => return Err(codes::child_disbursement()),
    };
    for child in children {
        if child.individual.is_none() {
            return Err(codes::individual());
        }
        if child.account_code.as_deref().is_none_or(str::is_empty) {
            return Err(codes::account_code());
        }
        if child.children.is_some() {
            return Err(codes::multiple_child_disbursement());
        }
    }
    let first = &children[0];
    if children
        .iter()
        .any(|c| c.location_code != first.location_code)
    {
        return Err(codes::disbursement_location_code());
    }
    if children
        .iter()
        .any(|c| c.program_code != first.program_code)
    {
        return Err(codes::disbursement_program_code());
    }
    if d.location_code != first.location_code {
        return Err(codes::disbursement_location_code());
    }
    if d.program_code != first.program_code {
        return Err(codes::disbursement_program_code());
    }
    let sum = |f: fn(&Disbursement) -> Option<Money>| {
        children.iter().try_fold(Decimal::ZERO, |acc, c| {
            acc.checked_add(f(c).unwrap_or_default().0)
        })
    };
    if sum(|c| c.net_amount) != Some(d.net_amount.unwrap_or_default().0) {
        return Err(codes::disbursement_net_amount());
    }
    if sum(|c| c.gross_amount) != Some(d.gross_amount.unwrap_or_default().0) {
        return Err(codes::disbursement_gross_amount());
    }
    Ok(())
}

/// An amount as Java's `Double.toString` writes it (upstream builds
/// `NO_SANCTION_AVAILABLE_FOR_AMOUNT` messages from a `Double`): `100.0`, `0.3`,
/// `1.000000001E7`, `1.0E-4`.
pub fn java_double(amount: Decimal) -> String {
    let f: f64 = amount.to_string().parse().unwrap_or(0.0);
    if f == 0.0 {
        return "0.0".into();
    }
    let magnitude = f.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// Sets `ERROR` with `"<CODE> <message>"` on the parent and every child (§1.10).
pub fn set_error(d: &mut Disbursement, rule: &Rule) {
    d.status = Some(error_status(rule));
    for child in d.children.iter_mut().flatten() {
        child.status = Some(error_status(rule));
    }
}

/// The status code of `status`, if any.
pub fn code_of(status: Option<&Status>) -> Option<StatusCode> {
    status.and_then(Status::code)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

impl ProgramService {
    /// The stored form of `d` (PII encrypted), not yet debited.
    pub(crate) fn row_of(
        &self,
        d: &Disbursement,
        parent_id: Option<&str>,
        line_no: i32,
    ) -> Result<Row, ProgramError> {
        let corrupt = |e: crate::store::pii::PiiError| ProgramError::Corrupt(e.to_string());
        let individual = match &d.individual {
            None => None,
            Some(i) => Some(Json(serde_json::json!({
                "name": self.pii.encrypt_opt(i.name.as_deref()).map_err(corrupt)?,
                "email": i.email,
                "phone": self.pii.encrypt_opt(i.phone.as_deref()).map_err(corrupt)?,
                "pin": i.pin,
                "address": self.pii.encrypt_opt(i.address.as_deref()).map_err(corrupt)?,
            }))),
        };
        let audit = d.audit_details.clone().unwrap_or_default();
        let status = d.status.as_ref();
        let c = &d.codes;
        Ok(Row {
            id: d.id.clone().unwrap_or_default(),
            location_code: d.location_code.clone().unwrap_or_default(),
            program_code: d.program_code.clone().unwrap_or_default(),
            parent_id: parent_id.map(str::to_owned),
            target_id: d.target_id.clone().unwrap_or_default(),
            transaction_id: d.transaction_id.clone(),
            sanction_id: None,
            account_code: self
                .pii
                .encrypt_opt(d.account_code.as_deref())
                .map_err(corrupt)?,
            individual,
            net_amount: d.net_amount.unwrap_or_default().0,
            gross_amount: d.gross_amount.unwrap_or_default().0,
            status: code_of(status).map(|s| s.as_str().to_owned()),
            status_message: status.and_then(|s| s.status_message.clone()),
            function_code: c.function_code.clone(),
            administration_code: c.administration_code.clone(),
            recipient_segment_code: c.recipient_segment_code.clone(),
            economic_segment_code: c.economic_segment_code.clone(),
            source_of_fund_code: c.source_of_fund_code.clone(),
            target_segment_code: c.target_segment_code.clone(),
            currency_code: c.currency_code.clone(),
            locale_code: c.locale_code.clone(),
            additional_details: d.additional_details.clone().map(Json),
            created_by: audit.created_by.clone(),
            last_modified_by: audit.last_modified_by.clone(),
            created_time: audit.created_time.unwrap_or_default(),
            last_modified_time: audit.last_modified_time.unwrap_or_default(),
            debited_amount: Decimal::ZERO,
            refunded_amount: Decimal::ZERO,
            line_no,
        })
    }

    /// The wire form of a stored row, PII decrypted; `children` for a parent.
    pub(crate) fn wire_of(
        &self,
        row: Row,
        children: Option<Vec<Disbursement>>,
    ) -> Result<Disbursement, ProgramError> {
        let corrupt = |e: crate::store::pii::PiiError| ProgramError::Corrupt(e.to_string());
        let individual = match row.individual {
            None => None,
            Some(Json(v)) => {
                let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
                Some(Individual {
                    name: self
                        .pii
                        .decrypt_opt(text("name").as_deref())
                        .map_err(corrupt)?,
                    email: text("email"),
                    phone: self
                        .pii
                        .decrypt_opt(text("phone").as_deref())
                        .map_err(corrupt)?,
                    pin: text("pin"),
                    address: self
                        .pii
                        .decrypt_opt(text("address").as_deref())
                        .map_err(corrupt)?,
                })
            }
        };
        let status = match (&row.status, &row.status_message) {
            (None, None) => None,
            (code, message) => Some(Status {
                status_code: code.as_deref().and_then(StatusCode::parse),
                status_message: message.clone(),
            }),
        };
        Ok(Disbursement {
            id: Some(row.id),
            entity_type: Some("disburse".into()),
            codes: ExchangeCodes {
                function_code: row.function_code,
                administration_code: row.administration_code,
                recipient_segment_code: row.recipient_segment_code,
                economic_segment_code: row.economic_segment_code,
                source_of_fund_code: row.source_of_fund_code,
                target_segment_code: row.target_segment_code,
                currency_code: row.currency_code,
                locale_code: row.locale_code,
            },
            status,
            location_code: Some(row.location_code),
            program_code: Some(row.program_code),
            target_id: Some(row.target_id),
            parent_id: row.parent_id,
            sanction_id: row.sanction_id,
            transaction_id: row.transaction_id,
            account_code: self
                .pii
                .decrypt_opt(row.account_code.as_deref())
                .map_err(corrupt)?,
            net_amount: Some(Money(row.net_amount)),
            gross_amount: Some(Money(row.gross_amount)),
            individual,
            additional_details: row.additional_details.map(|j| j.0),
            audit_details: Some(AuditDetails {
                created_by: row.created_by,
                last_modified_by: row.last_modified_by,
                created_time: Some(row.created_time),
                last_modified_time: Some(row.last_modified_time),
            }),
            children,
        })
    }

    /// Where a disbursement message goes (§1.8 step 5, §1.12): to the local adapter
    /// (`{adapter}<type>/_<action>`, message as an object) when its receiver is this
    /// installation, else to the local exchange (`{exchange}<type>`, message as a string).
    pub(crate) fn disburse_dispatch(
        &self,
        caller: &Caller,
        env: &Envelope<Disbursement>,
    ) -> Result<OutboxMessage, ProgramError> {
        let signature = env.signature.as_deref();
        if self.is_same_domain(&env.header.receiver_id) {
            self.adapter_message(caller, signature, &env.header, &env.message)
        } else {
            self.exchange_message(caller, signature, &env.header, &env.message)
        }
    }

    /// The dashboard event of a committed change of `env.message` (PII removed).
    pub(crate) fn disburse_event(
        &self,
        caller: &Caller,
        event_type: &str,
        env: &Envelope<Disbursement>,
    ) -> Result<OutboxMessage, ProgramError> {
        let mut entity = env.message.clone();
        let redact = |d: &mut Disbursement| {
            d.account_code = None;
            d.individual = None;
        };
        redact(&mut entity);
        for child in entity.children.iter_mut().flatten() {
            redact(child);
        }
        let id = entity.id.clone().unwrap_or_default();
        self.event(
            caller,
            EventEntity::Disburse,
            event_type,
            &env.header,
            &id,
            &entity,
        )
    }

    /// The dashboard event of the payment's sanction after a debit or refund (its balances
    /// as committed in `tx`); none when the payment names no sanction.
    pub(crate) async fn sanction_event(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        caller: &Caller,
        env: &Envelope<Disbursement>,
    ) -> Result<Option<OutboxMessage>, ProgramError> {
        let (Some(location), Some(id)) = (&env.message.location_code, &env.message.sanction_id)
        else {
            return Ok(None);
        };
        let found =
            crate::store::sanction::find_many(&mut **tx, location, std::slice::from_ref(id))
                .await?;
        found
            .first()
            .map(|s| {
                self.event(
                    caller,
                    EventEntity::Sanction,
                    "BALANCE_CHANGED",
                    &env.header,
                    id,
                    s,
                )
            })
            .transpose()
    }

    /// A refused disburse create/update (§1.10): parent and children `ERROR`, the header
    /// turned into the reply's (`updateUri`), and the reply sent to the original sender —
    /// the adapter's `on-disburse/_<action>` when the sender is this installation, else
    /// the exchange's `on-disburse`. Nothing else is written.
    pub(crate) async fn refuse_disburse(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        caller: &Caller,
        env: &mut Envelope<Disbursement>,
        rule: &Rule,
    ) -> Result<(), ProgramError> {
        set_error(&mut env.message, rule);
        env.header = self.update_uri(&env.header);
        let reply = self.disburse_dispatch(caller, env)?;
        self.enqueue(tx, &[reply]).await
    }
}

/// A database error that is the violation of unique index `name`.
pub(crate) fn violates(e: &sqlx::Error, name: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation() && db.constraint() == Some(name))
}

/// Any unique violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn d(v: Value) -> Disbursement {
        serde_json::from_value(v).unwrap()
    }

    fn child(net: f64, gross: &str) -> Value {
        json!({"location_code": "pg.citya", "program_code": "P", "target_id": "L",
               "account_code": "1@X", "individual": {"name": "Ab", "phone": "99", "address": "xy"},
               "net_amount": net, "gross_amount": serde_json::from_str::<Value>(gross).unwrap()})
    }

    #[test]
    fn java_double_formats() {
        let s = |t: &str| java_double(t.parse().unwrap());
        assert_eq!(s("100"), "100.0");
        assert_eq!(s("0.3"), "0.3");
        assert_eq!(s("10000000.01"), "1.000000001E7");
        assert_eq!(s("10000000"), "1.0E7");
        assert_eq!(s("0.0001"), "1.0E-4");
        assert_eq!(s("1234.5"), "1234.5");
        assert_eq!(s("0.001"), "0.001");
    }

    #[test]
    fn shape_rules_in_order() {
        let ok = d(
            json!({"location_code": "pg.citya", "program_code": "P", "target_id": "T",
                          "net_amount": 0.3, "gross_amount": 0.3,
                          "children": [child(0.1, "0.1"), child(0.2, "0.2")]}),
        );
        assert_eq!(check_shape(&ok), Ok(()));
        let mut bad = ok.clone();
        bad.gross_amount = Some(Money("0.30000000000000004".parse().unwrap()));
        assert_eq!(
            check_shape(&bad).unwrap_err().code,
            "DISBURSEMENT_GROSS_AMOUNT_ERROR"
        );
        let mut bad = ok.clone();
        bad.children.as_mut().unwrap()[1].children = Some(vec![]);
        assert_eq!(
            check_shape(&bad).unwrap_err().code,
            "MULTIPLE_CHILD_DISBURSEMENT_ERROR"
        );
        let mut bad = ok.clone();
        bad.children = Some(vec![]);
        assert_eq!(
            check_shape(&bad).unwrap_err().code,
            "CHILD_DISBURSEMENT_ERROR"
        );
        let mut bad = ok;
        bad.program_code = Some("Q".into());
        assert_eq!(
            check_shape(&bad).unwrap_err().code,
            "DISBURSEMENT_PROGRAM_CODE_ERROR"
        );
    }
}
