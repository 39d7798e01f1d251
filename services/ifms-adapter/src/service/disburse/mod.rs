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

use crate::domain::codes::{self, Rule};
use crate::domain::disbursement::{self, Checked, Line};
use crate::domain::status::PiStatus;
use crate::error::IfmsError;
use crate::service::callbacks::disbursement_status;
use crate::service::{new_id, now_ms, AdapterService, Caller};
use crate::store::funds;
use crate::store::pi::{self as store, PiRow};
use serde_json::{json, Value};

mod build;
mod post;

pub(crate) use build::{pi_params, JitPayee};

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
    pub(super) fn kind(&self) -> &'static str {
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
pub(super) struct Request {
    pub(super) signature: Value,
    pub(super) header: Value,
    pub(super) message: Value,
    pub(super) checked: Checked,
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
        self.record_post(caller, &pi.row.id, service, answer, false)
            .await?;
        self.reply_from(&request, &pi.row.id).await
    }

    pub(super) async fn parse(&self, body: &[u8]) -> Result<Request, IfmsError> {
        let parsing = |m: String| IfmsError::Rule(codes::rule_with(codes::PARSING_ERROR, m));
        // Postgres refuses NUL in text: refused here rather than as a 500 from the store.
        let no_nul = |value: &Value| {
            digit_service::extract::reject_nul(value).map_err(|e| {
                parsing(
                    e.errors
                        .first()
                        .map(|d| d.message.clone())
                        .unwrap_or_default(),
                )
            })
        };
        let value: Value = serde_json::from_slice(body).map_err(|e| parsing(e.to_string()))?;
        no_nul(&value)?;
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
        no_nul(&message)?;
        let line: Line = serde_json::from_value(message.clone())
            .map_err(|e| parsing(format!("message: {e}")))?;
        let text = |k: &str| header.get(k).and_then(Value::as_str).unwrap_or_default();
        let tenant = line.location_code.clone().unwrap_or_default();
        // A location code that is no tenant id is refused by `check` below, before any call;
        // one that is no ULB of the state is refused here (the program service would refuse
        // the lookup for a tenant outside the adapter's roles: not a dependency failure).
        let tenant = tenant.trim().to_owned();
        if disbursement::is_tenant_id(&tenant) && !self.tenants().await?.contains(&tenant) {
            return Err(IfmsError::Rule(codes::rule_with(
                codes::INVALID_LOCATION_CODE,
                format!("Location code {tenant} is not a tenant of the state."),
            )));
        }
        let program = if !disbursement::is_tenant_id(&tenant) {
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
    pub(super) async fn answered(&self, request: &Request) -> Result<Option<Value>, IfmsError> {
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

    pub(super) async fn reply_from(
        &self,
        request: &Request,
        pi_id: &str,
    ) -> Result<Value, IfmsError> {
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

    pub(super) async fn id(
        &self,
        tenant: &str,
        name: &str,
        count: usize,
    ) -> Result<Vec<String>, IfmsError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let count = u32::try_from(count)
            .map_err(|_| IfmsError::rule(codes::INVALID_CHILD_DISBURSEMENTS))?;
        Ok(self.idgen.generate(tenant, Some(name), None, count).await?)
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
    use crate::store::pi::{Audit, ORIGINAL};
    use rust_decimal::Decimal;

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
