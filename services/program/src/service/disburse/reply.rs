//! Changes of an existing payment: `disburse/_update` (the sender revises it) and the
//! treasury's replies `on-disburse/_create|_update` (§1.8), and the refund rule.

use super::{check_shape, code_of, non_empty, set_error, violates};
use crate::domain::codes;
use crate::domain::model::{Action, Disbursement, Envelope, MessageType, Status, StatusCode};
use crate::error::ProgramError;
use crate::service::{now_ms, Caller, ProgramService};
use crate::store::disburse::{self as store, Change, Row, IN_FLIGHT_INDEX};
use crate::store::inbox::{self, MessageKey};
use crate::store::ledger::{self, Entry, Kind};
use digit_core::AuditDetails;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{Acquire as _, Postgres, Transaction};

/// Which change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `disburse/_update`.
    Update,
    /// `on-disburse/_create`.
    OnCreate,
    /// `on-disburse/_update`.
    OnUpdate,
}

impl ReplyKind {
    fn endpoint(self) -> (MessageType, Action) {
        match self {
            Self::Update => (MessageType::Disburse, Action::Update),
            Self::OnCreate => (MessageType::OnDisburse, Action::Create),
            Self::OnUpdate => (MessageType::OnDisburse, Action::Update),
        }
    }

    fn is_reply(self) -> bool {
        self != Self::Update
    }
}

impl ProgramService {
    /// `disburse/_update`: the sender changes a payment's statuses (not its transaction
    /// ids). Unlike upstream (§5 item 4: a CREDIT log row without the refund), a FAILED or
    /// ERROR status refunds the payment's debit, once, as a reply does.
    pub async fn disburse_update(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.change(caller, env, raw, ReplyKind::Update, true).await
    }

    /// `on-disburse/_create`: the treasury's first answer (statuses, transaction ids).
    /// Children with both FAILED and SUCCESSFUL lines make the payment PARTIAL (unless it is
    /// COMPLETED); FAILED/ERROR refunds the payment's debit once. A missing status keeps
    /// the stored one, and a missing transaction id or `additional_details` never erases
    /// the stored value (upstream writes nulls or fails).
    pub async fn on_disburse_create(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.change(caller, env, raw, ReplyKind::OnCreate, true)
            .await
    }

    /// `on-disburse/_update`: later status changes (transaction ids unchanged).
    pub async fn on_disburse_update(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.change(caller, env, raw, ReplyKind::OnUpdate, true)
            .await
    }

    /// A reply produced inside this service — the adapter's synchronous answer to
    /// `disburse/_create|_update`, or the `ERROR` built when the adapter could not be
    /// called — applied as upstream does: without the endpoint's header check and
    /// authorization, through the inbox (so a repeated answer changes nothing).
    pub async fn apply_internal_reply(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
        kind: ReplyKind,
    ) -> Result<Value, ProgramError> {
        self.change(caller, env, raw, kind, false).await
    }

    async fn change(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
        kind: ReplyKind,
        external: bool,
    ) -> Result<Value, ProgramError> {
        if external {
            let (message_type, action) = kind.endpoint();
            self.validate_header(&env.header, message_type, action)?;
            let location = env.message.location_code.clone().unwrap_or_default();
            self.authorize(caller, &[&location]).await?;
        }
        let mut tx = self.pool.begin().await?;
        let key = MessageKey::new(&env.header, &raw);
        if let Some(stored) = inbox::claim(&mut tx, &key).await? {
            tx.commit().await?;
            return Ok(stored);
        }
        let mut env = env;
        match self.change_in(&mut tx, caller, &mut env, kind).await {
            Ok(()) => {}
            Err(ProgramError::Rule(rule)) if kind == ReplyKind::Update => {
                self.refuse_disburse(&mut tx, caller, &mut env, &rule)
                    .await?;
            }
            Err(ProgramError::Rule(rule)) => {
                // §1.10: a refused reply is not answered to anyone (upstream: error-queue).
                tracing::warn!(code = rule.code, id = ?env.message.id, "on-disburse refused");
                set_error(&mut env.message, &rule);
            }
            Err(e) => return Err(e),
        }
        let response =
            serde_json::to_value(&env).map_err(|e| ProgramError::Corrupt(e.to_string()))?;
        inbox::answer(&mut tx, &key, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    async fn change_in(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        caller: &Caller,
        env: &mut Envelope<Disbursement>,
        kind: ReplyKind,
    ) -> Result<(), ProgramError> {
        let d = &env.message;
        check_shape(d)?;
        let location = d.location_code.clone().unwrap_or_default();
        let id = non_empty(d.id.as_deref())
            .ok_or_else(codes::disbursement_id_null)?
            .to_owned();
        let parent = store::lock_parent(tx, &location, &id)
            .await?
            .ok_or_else(|| codes::no_disbursement_found(&id))?;
        let stored = store::children(&mut **tx, &location, std::slice::from_ref(&id)).await?;
        for child in d.children.iter().flatten() {
            let child_id = non_empty(child.id.as_deref()).ok_or_else(codes::child_disbursement)?;
            if !stored.iter().any(|r| r.id == child_id) {
                return Err(codes::child_disbursement_id().into());
            }
        }
        if kind == ReplyKind::OnCreate
            && matches!(
                code_of(d.status.as_ref()),
                Some(StatusCode::Initiated | StatusCode::Failed)
            )
            && std::iter::once(d)
                .chain(d.children.iter().flatten())
                .any(|x| x.transaction_id.is_none())
        {
            return Err(codes::transaction_id_mandatory().into());
        }
        if kind.is_reply() {
            self.validate_reply(&location, &env.header).await?;
        }
        let now = now_ms();
        enrich(env, kind, &parent, &stored, now);
        let mut sp = tx.begin().await?;
        match self.change_writes(&mut sp, env, kind, &parent, now).await {
            Ok(()) => sp.commit().await?,
            Err(e) => {
                sp.rollback().await?;
                return Err(e);
            }
        }
        let dispatch = self.disburse_dispatch(caller, env)?;
        let mut out = vec![dispatch, self.disburse_event(caller, "UPDATED", env)?];
        let refunded = matches!(
            code_of(env.message.status.as_ref()),
            Some(StatusCode::Failed | StatusCode::Error)
        );
        if refunded {
            out.extend(self.sanction_event(tx, caller, env).await?);
        }
        self.enqueue(tx, &out).await
    }

    async fn change_writes(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        env: &Envelope<Disbursement>,
        kind: ReplyKind,
        parent: &Row,
        now: i64,
    ) -> Result<(), ProgramError> {
        let d = &env.message;
        let location = parent.location_code.as_str();
        let sender = env.header.sender_id.as_str();
        if let Err(e) = store::update(tx, location, &change_of(d, kind, sender, now)).await {
            return Err(if violates(&e, IN_FLIGHT_INDEX) {
                codes::disbursement_already_present(&parent.target_id).into()
            } else {
                e.into()
            });
        }
        for child in d.children.iter().flatten() {
            store::update(tx, location, &change_of(child, kind, sender, now)).await?;
        }
        let status = code_of(d.status.as_ref())
            .or_else(|| parent.status.as_deref().and_then(StatusCode::parse));
        if matches!(status, Some(StatusCode::Failed | StatusCode::Error)) {
            self.refund(tx, parent, sender, now).await?;
        }
        Ok(())
    }

    /// Gives back what `parent` debited and was not yet refunded — once: the parent row is
    /// locked by this transaction, `refunded_amount` records it, and the ledger allows one
    /// REFUND row per payment. Nothing for a revision (it debited nothing) or for a payment
    /// whose debit a revision reused.
    async fn refund(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        parent: &Row,
        by: &str,
        now: i64,
    ) -> Result<(), ProgramError> {
        let due = parent.debited_amount - parent.refunded_amount;
        if due <= Decimal::ZERO {
            return Ok(());
        }
        if store::debit_reused(tx, parent).await? {
            tracing::info!(id = %parent.id, "No refund: a revision reuses this payment's debit.");
            return Ok(());
        }
        let sanction_id = parent.sanction_id.as_deref().ok_or_else(|| {
            ProgramError::Corrupt(format!("payment {} debited without a sanction", parent.id))
        })?;
        let entry = Entry {
            sanction_id,
            location_code: &parent.location_code,
            program_code: &parent.program_code,
            kind: Kind::Refund,
            amount: due,
            disburse_id: Some(&parent.id),
            allocation_id: None,
            created_by: by,
            now,
        };
        if ledger::apply(tx, &entry).await?.is_none() {
            return Err(ProgramError::Corrupt(format!(
                "sanction {sanction_id} of payment {} is missing",
                parent.id
            )));
        }
        store::add_refund(tx, &parent.location_code, &parent.id, due).await?;
        Ok(())
    }
}

/// The stored change of one row: its status (when it has a code), transaction id (on-disburse
/// create only) and additional details.
fn change_of<'a>(x: &'a Disbursement, kind: ReplyKind, sender: &'a str, now: i64) -> Change<'a> {
    let status = x.status.as_ref().filter(|s| s.status_code.is_some());
    Change {
        id: x.id.as_deref().unwrap_or_default(),
        status: status.and_then(|s| s.status_code).map(StatusCode::as_str),
        status_message: status.and_then(|s| s.status_message.as_deref()),
        transaction_id: if kind == ReplyKind::OnCreate {
            x.transaction_id.as_deref()
        } else {
            None
        },
        additional_details: x.additional_details.as_ref(),
        modified_by: sender,
        now,
    }
}

/// Enrichment of a change (§1.8): replies with FAILED and SUCCESSFUL lines make the
/// payment PARTIAL (unless COMPLETED); audits keep the stored creation and take the sender
/// and now as last modification; `type`; header `message_id` := payment id, `message_ts` :=
/// now.
fn enrich(
    env: &mut Envelope<Disbursement>,
    kind: ReplyKind,
    parent: &Row,
    stored: &[Row],
    now: i64,
) {
    let sender = env.header.sender_id.clone();
    let audit = |row: Option<&Row>| AuditDetails {
        created_by: row.and_then(|r| r.created_by.clone()),
        last_modified_by: Some(sender.clone()),
        created_time: row.map(|r| r.created_time),
        last_modified_time: Some(now),
    };
    let d = &mut env.message;
    if kind.is_reply() {
        let lines: Vec<Option<StatusCode>> = d
            .children
            .iter()
            .flatten()
            .map(|c| code_of(c.status.as_ref()))
            .collect();
        let mixed = lines.contains(&Some(StatusCode::Failed))
            && lines.contains(&Some(StatusCode::Successful));
        if mixed && code_of(d.status.as_ref()) != Some(StatusCode::Completed) {
            let message = d.status.as_ref().and_then(|s| s.status_message.clone());
            d.status = Some(Status {
                status_code: Some(StatusCode::Partial),
                status_message: message,
            });
        }
    }
    d.entity_type = Some("disburse".into());
    d.audit_details = Some(audit(Some(parent)));
    for child in d.children.iter_mut().flatten() {
        let row = stored.iter().find(|r| Some(&r.id) == child.id.as_ref());
        child.entity_type = Some("disburse".into());
        child.audit_details = Some(audit(row));
    }
    env.header.message_id = parent.id.clone();
    env.header.message_ts = now;
}
