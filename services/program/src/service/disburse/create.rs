//! `disburse/_create` (§1.8): checks, enrichment, the debit, the rows, dispatch.

use super::{check_shape, is_unique_violation, java_double, non_empty, violates};
use crate::domain::codes;
use crate::domain::model::{Action, Disbursement, Envelope, MessageType, Status, StatusCode};
use crate::error::ProgramError;
use crate::service::{new_id, now_ms, Caller, ProgramService};
use crate::store::disburse::{self as store, IN_FLIGHT_INDEX};
use crate::store::inbox::{self, MessageKey};
use crate::store::ledger::{self, Entry, Kind};
use digit_core::AuditDetails;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{Acquire as _, Postgres, Transaction};
use std::collections::HashSet;

/// Where the money of a new payment comes from.
enum Source {
    /// A revision of a PARTIAL payment: that payment's sanction, no debit.
    Revision(String),
    /// The sanction the request names.
    Named(String),
    /// The oldest sanction of the program with enough balance.
    Auto,
}

impl ProgramService {
    /// `disburse/_create`: a new payment. Business rule failures answer HTTP 200 with the
    /// payment and its lines `ERROR` and tell the sender (§1.10).
    ///
    /// Differences from upstream: the parent and child ids must all be new (upstream
    /// checks the parent's only and fails with a database error on a child's); a named
    /// sanction must belong to the payment's program (else `NO_SANCTION_FOUND`; upstream
    /// would debit another program's sanction); the in-flight rule is the database's
    /// unique index; the debit is guarded (never overspends); the auto-pick is the oldest
    /// sanction with enough balance; the response's `sanction_id` is the one debited.
    pub async fn disburse_create(
        &self,
        caller: &Caller,
        env: Envelope<Disbursement>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.validate_header(&env.header, MessageType::Disburse, Action::Create)?;
        let location = env.message.location_code.clone().unwrap_or_default();
        self.authorize(caller, &[&location]).await?;
        let mut tx = self.pool.begin().await?;
        let key = MessageKey::new(&env.header, &raw);
        if let Some(stored) = inbox::claim(&mut tx, &key).await? {
            tx.commit().await?;
            return Ok(stored);
        }
        let mut env = env;
        match self.create_in(&mut tx, caller, &mut env).await {
            Ok(()) => {}
            Err(ProgramError::Rule(rule)) => {
                self.refuse_disburse(&mut tx, caller, &mut env, &rule)
                    .await?;
            }
            Err(e) => return Err(e),
        }
        let response =
            serde_json::to_value(&env).map_err(|e| ProgramError::Corrupt(e.to_string()))?;
        inbox::answer(&mut tx, &key, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    async fn create_in(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        caller: &Caller,
        env: &mut Envelope<Disbursement>,
    ) -> Result<(), ProgramError> {
        let d = &env.message;
        check_shape(d)?;
        let location = d.location_code.clone().unwrap_or_default();
        let program_code = d.program_code.clone().unwrap_or_default();
        let target = d.target_id.clone().unwrap_or_default();
        let gross = d.gross_amount.unwrap_or_default().0;
        // 1d: ids given by the client must be new (and distinct).
        let given: Vec<String> = std::iter::once(d)
            .chain(d.children.iter().flatten())
            .filter_map(|x| non_empty(x.id.as_deref()).map(str::to_owned))
            .collect();
        let distinct: HashSet<&String> = given.iter().collect();
        if distinct.len() != given.len()
            || (!given.is_empty() && store::any_exists(tx, &given).await?)
        {
            return Err(codes::disbursement_id().into());
        }
        // 1e: one payment in flight per target (the index decides under concurrency).
        if store::in_flight(tx, &location, &target).await? {
            return Err(codes::disbursement_already_present(&target).into());
        }
        let partial = store::latest_partial(tx, &location, &target).await?;
        // 1f: a named sanction.
        let source = match (partial, non_empty(d.sanction_id.as_deref())) {
            (partial, Some(named)) => {
                let same = |c: &Disbursement| {
                    c.sanction_id
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(named))
                };
                if !d.children.iter().flatten().all(same) {
                    return Err(codes::disbursement_sanction_id().into());
                }
                let sanction = store::sanction(tx, &location, named)
                    .await?
                    .filter(|s| s.program_code == program_code)
                    .ok_or_else(|| codes::no_sanction_found(named))?;
                match partial {
                    Some((_, reused)) => Source::Revision(reused),
                    None if sanction.available_amount < gross => {
                        return Err(codes::sanction_available_amount().into())
                    }
                    None => Source::Named(sanction.id),
                }
            }
            (Some((_, reused)), None) => Source::Revision(reused),
            (None, None) => Source::Auto,
        };
        let now = now_ms();
        enrich(env, now);
        let mut sp = tx.begin().await?;
        match self.create_writes(&mut sp, env, source, now).await {
            Ok(()) => sp.commit().await?,
            Err(e) => {
                sp.rollback().await?;
                return Err(e);
            }
        }
        let dispatch = self.disburse_dispatch(caller, env)?;
        let mut out = vec![dispatch, self.disburse_event(caller, "CREATED", env)?];
        out.extend(self.sanction_event(tx, caller, env).await?);
        self.enqueue(tx, &out).await
    }

    /// Inserts the payment and its lines, debits the sanction and records it (in a
    /// savepoint: a rule failure here leaves nothing behind).
    async fn create_writes(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        env: &mut Envelope<Disbursement>,
        source: Source,
        now: i64,
    ) -> Result<(), ProgramError> {
        let d = &env.message;
        let id = d.id.clone().unwrap_or_default();
        let location = d.location_code.clone().unwrap_or_default();
        let program_code = d.program_code.clone().unwrap_or_default();
        let target = d.target_id.clone().unwrap_or_default();
        let gross = d.gross_amount.unwrap_or_default().0;
        let parent = self.row_of(d, None, 0)?;
        if let Err(e) = store::insert(tx, &parent).await {
            return Err(if violates(&e, IN_FLIGHT_INDEX) {
                codes::disbursement_already_present(&target).into()
            } else if is_unique_violation(&e) {
                codes::disbursement_id().into()
            } else {
                e.into()
            });
        }
        for (n, child) in d.children.iter().flatten().enumerate() {
            let row = self.row_of(child, Some(&id), i32::try_from(n + 1).unwrap_or(i32::MAX))?;
            if let Err(e) = store::insert(tx, &row).await {
                return Err(if is_unique_violation(&e) {
                    codes::disbursement_id().into()
                } else {
                    e.into()
                });
            }
        }
        let sender = env.header.sender_id.clone();
        let entry = |sanction_id: String| Debit {
            sanction_id,
            location: location.clone(),
            program_code: program_code.clone(),
            id: id.clone(),
            by: sender.clone(),
            amount: gross,
            now,
        };
        let (sanction_id, debited) = match source {
            Source::Revision(reused) => (reused, Decimal::ZERO),
            Source::Named(named) => {
                if !entry(named.clone()).apply(tx).await? {
                    return Err(codes::sanction_available_amount().into());
                }
                (named, gross)
            }
            Source::Auto => {
                let mut chosen = None;
                for candidate in store::candidates(tx, &location, &program_code, gross).await? {
                    if entry(candidate.id.clone()).apply(tx).await? {
                        chosen = Some(candidate.id);
                        break;
                    }
                }
                let chosen = chosen
                    .ok_or_else(|| codes::no_sanction_available_for_amount(&java_double(gross)))?;
                (chosen, gross)
            }
        };
        store::set_sanction(tx, &location, &id, &sanction_id, debited).await?;
        let d = &mut env.message;
        d.sanction_id = Some(sanction_id.clone());
        for child in d.children.iter_mut().flatten() {
            child.sanction_id = Some(sanction_id.clone());
        }
        Ok(())
    }
}

/// A payment's debit of one sanction.
struct Debit {
    sanction_id: String,
    location: String,
    program_code: String,
    id: String,
    by: String,
    amount: Decimal,
    now: i64,
}

impl Debit {
    /// The guarded ledger entry: `false` when the sanction lacks the balance.
    async fn apply(&self, tx: &mut Transaction<'_, Postgres>) -> Result<bool, sqlx::Error> {
        let entry = Entry {
            sanction_id: &self.sanction_id,
            location_code: &self.location,
            program_code: &self.program_code,
            kind: Kind::Disburse,
            amount: self.amount,
            disburse_id: Some(&self.id),
            allocation_id: None,
            created_by: &self.by,
            now: self.now,
        };
        Ok(ledger::apply(tx, &entry).await?.is_some())
    }
}

/// Enrichment of a new payment (§1.8 step 2): ids where absent, `type`, status
/// `INITIATED` (the incoming one is ignored), one new audit (by the sender) for all, and
/// the header's `message_id` := payment id, `message_ts` := now.
fn enrich(env: &mut Envelope<Disbursement>, now: i64) {
    let audit = AuditDetails::for_create(&env.header.sender_id, now);
    let mark = |x: &mut Disbursement| {
        if non_empty(x.id.as_deref()).is_none() {
            x.id = Some(new_id());
        }
        x.entity_type = Some("disburse".into());
        x.status = Some(Status::of(StatusCode::Initiated));
        x.audit_details = Some(audit.clone());
    };
    let d = &mut env.message;
    mark(d);
    for child in d.children.iter_mut().flatten() {
        mark(child);
    }
    env.header.message_id = d.id.clone().unwrap_or_default();
    env.header.message_ts = now;
}
