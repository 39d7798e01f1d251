//! The allocation pipelines (spec §1.8): `on-allocation/_create`, `on-allocation/_update`
//! and `allocation/_search`. Only the children of the envelope are allocations.
//!
//! Money (§1.9, fixing §5 items 1–4): the sanctions an allocation names are locked
//! `FOR UPDATE` (in id order) before upstream's amount rules are checked on them, and each
//! child then moves its sanction's balances through [`ledger::apply`] — one guarded
//! relative update and one ledger row (`ALLOCATION` / `DEDUCTION`, `allocation_id` set) —
//! in the transaction that inserts the allocation rows. A refused guard rolls the writes
//! back (savepoint) and answers the matching rule. Exact decimals throughout.
//!
//! Differences from upstream (README "Differences from upstream"):
//! - each child is applied in request order with its own guard, so a message whose net
//!   effect fits but whose running total would pass the sanctioned amount (or go below
//!   zero) first is refused (upstream checked only the net per sanction);
//! - a named sanction of another program is `PROGRAM_CODE_ERROR_SANCTION` (upstream's
//!   search filtered on the program code first, so it answered `SANCTIONS_NOT_FOUND` and
//!   `PROGRAM_CODE_ERROR_SANCTION` could not happen); codes are compared exactly;
//! - `on-allocation/_update` changes status, codes and details only — no amount effect, as
//!   upstream (a FAILED allocation does not give its amount back; a withdrawal is a
//!   `DEDUCTION` allocation);
//! - missing children / child status, the ACTIVE filter, scoping and answered failures as
//!   for sanctions (`service::sanction`).

use crate::domain::codes::{self, Rule};
use crate::domain::model::{
    Action, Allocation, AllocationSearch, AllocationType, Envelope, MessageType, RequestHeader,
    Sanction, SearchItems, SearchResponse,
};
use crate::error::ProgramError;
use crate::service::program::{finish, updated_audit};
use crate::service::sanction::{distinct, repeated, Line, Lines};
use crate::service::EventEntity;
use crate::service::{error_status, new_id, now_ms, Caller, ProgramService};
use crate::store::inbox::MessageKey;
use crate::store::ledger::{self, Entry, Kind};
use crate::store::rows::Page;
use crate::store::{allocation as store, program as programs, sanction as sanctions};
use digit_core::AuditDetails;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{Acquire as _, Postgres, Transaction};

impl Line for Allocation {
    const KIND: (MessageType, &'static str, &'static str) = (
        MessageType::OnAllocation,
        "NotEmpty.allocationRequest.allocation.children",
        "NotNull.allocationRequest.allocation.children.status",
    );
    fn location(&self) -> &str {
        self.location_code.as_deref().unwrap_or_default()
    }
    fn has_status(&self) -> bool {
        self.status.is_some()
    }
}

impl ProgramService {
    /// `on-allocation/_create`: allocations and deductions against sanctions.
    pub async fn on_allocation_create(
        &self,
        caller: &Caller,
        env: Envelope<Allocation>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_allocations(true, caller, env, raw).await
    }

    /// `on-allocation/_update`: status (and codes, details) of existing allocations.
    pub async fn on_allocation_update(
        &self,
        caller: &Caller,
        env: Envelope<Allocation>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_allocations(false, caller, env, raw).await
    }

    async fn write_allocations(
        &self,
        create: bool,
        caller: &Caller,
        mut env: Envelope<Allocation>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        let children = env.message.children.clone().unwrap_or_default();
        let (mut tx, key, location, reply_check) = match self
            .open_lines(caller, &env.header, create, &children, &raw)
            .await?
        {
            Lines::Stored(stored) => return Ok(stored),
            Lines::Open(open) => *open,
        };
        let mut outcome = self
            .allocation_rules(&mut tx, create, &children, &location)
            .await?;
        if let (Ok(_), Some(rule)) = (&outcome, reply_check) {
            outcome = Err(rule);
        }
        let stored = match outcome {
            Ok(stored) => stored,
            Err(rule) => return allocation_error(tx, &key, env, &rule).await,
        };

        let now = now_ms();
        let sender = env.header.sender_id.clone();
        let mut children = children;
        let mut touched: Vec<String> = Vec::new();
        let mut sp = (&mut tx).begin().await?;
        for child in &mut children {
            child.entity_type = Some("allocation".to_owned());
            if !create {
                let id = child.id.as_deref().unwrap_or_default();
                let old = stored.iter().find(|a| a.id.as_deref() == Some(id));
                child.audit_details = Some(updated_audit(
                    old.and_then(|a| a.audit_details.as_ref()),
                    &sender,
                    now,
                ));
                store::update(&mut sp, child, &sender, now).await?;
                continue;
            }
            if child.id.as_deref().is_none_or(str::is_empty) {
                child.id = Some(new_id());
            }
            child.audit_details = Some(AuditDetails::for_create(&sender, now));
            let id = child.id.clone().unwrap_or_default();
            if !store::insert(&mut sp, child).await? {
                drop(sp);
                let rule = codes::duplicate_allocation_id(&[id]);
                return allocation_error(tx, &key, env, &rule).await;
            }
            let (kind, refused) = match child.allocation_type {
                Some(AllocationType::Deduction) => {
                    (Kind::Deduction, codes::available_amount_error_deduction())
                }
                _ => (
                    Kind::Allocation,
                    codes::sanctioned_amount_error_allocation(),
                ),
            };
            let sanction_id = child.sanction_id.clone().unwrap_or_default();
            let entry = Entry {
                sanction_id: &sanction_id,
                location_code: &location,
                program_code: child.program_code.as_deref().unwrap_or_default(),
                kind,
                amount: child.gross_amount.map(|m| m.0).unwrap_or_default(),
                disburse_id: None,
                allocation_id: Some(&id),
                created_by: &sender,
                now,
            };
            if ledger::apply(&mut sp, &entry).await?.is_none() {
                drop(sp);
                return allocation_error(tx, &key, env, &refused).await;
            }
            if !touched.contains(&sanction_id) {
                touched.push(sanction_id);
            }
        }
        sp.commit().await?;
        env.message.children = Some(children);
        if create {
            let parent_id = new_id();
            env.message.id = Some(parent_id.clone());
            env.message.entity_type = Some("allocation".to_owned());
            env.message.audit_details = Some(AuditDetails::for_create(&sender, now));
            env.header.message_id = parent_id;
            env.header.message_ts = now;
        }

        let mut out = Vec::new();
        if !self.is_same_domain(&env.header.receiver_id) {
            out.push(self.exchange_message(
                caller,
                env.signature.as_deref(),
                &env.header,
                &env.message,
            )?);
        }
        let event_type = if create { "CREATED" } else { "UPDATED" };
        for child in env.message.children.iter().flatten() {
            out.push(self.event(
                caller,
                EventEntity::Allocation,
                event_type,
                &env.header,
                child.id.as_deref().unwrap_or_default(),
                child,
            )?);
        }
        for s in sanctions::find_many(&mut *tx, &location, &touched).await? {
            out.push(self.event(
                caller,
                EventEntity::Sanction,
                "BALANCE_CHANGED",
                &env.header,
                s.id.as_deref().unwrap_or_default(),
                &s,
            )?);
        }
        self.enqueue(&mut tx, &out).await?;
        finish(tx, &key, &env).await
    }

    /// Upstream's allocation rules, in order: one program code and one location over the
    /// children; the program exists; every named sanction exists at the location (locked,
    /// on create) and is of that program; then (create) no child id exists or repeats and
    /// the net amount per sanction fits — (update) every child has an id and exists, those
    /// are returned.
    async fn allocation_rules(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        create: bool,
        children: &[Allocation],
        location: &str,
    ) -> Result<Result<Vec<Allocation>, Rule>, ProgramError> {
        let program_codes = distinct(
            children
                .iter()
                .map(|c| c.program_code.as_deref().unwrap_or_default()),
        );
        if program_codes.len() > 1 {
            return Ok(Err(codes::allocation_program_code()));
        }
        let locations = distinct(
            children
                .iter()
                .map(|c| c.location_code.as_deref().unwrap_or_default()),
        );
        if locations.len() > 1 {
            return Ok(Err(codes::allocation_location_code()));
        }
        let program_code = &program_codes[0];
        if !programs::code_exists(&mut **tx, location, program_code).await? {
            return Ok(Err(codes::no_programs_found(program_code)));
        }
        let sanction_ids = distinct(
            children
                .iter()
                .map(|c| c.sanction_id.as_deref().unwrap_or_default()),
        );
        let found = if create {
            sanctions::lock_many(&mut **tx, location, &sanction_ids).await?
        } else {
            sanctions::find_many(&mut **tx, location, &sanction_ids).await?
        };
        let missing: Vec<String> = sanction_ids
            .iter()
            .filter(|w| !found.iter().any(|f| f.id.as_deref() == Some(w.as_str())))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Ok(Err(codes::sanctions_not_found(&missing)));
        }
        if found
            .iter()
            .any(|s| s.program_code.as_deref() != Some(program_code.as_str()))
        {
            return Ok(Err(codes::program_code_error_sanction()));
        }
        let ids: Vec<&str> = children
            .iter()
            .filter_map(|c| c.id.as_deref())
            .filter(|i| !i.is_empty())
            .collect();
        if create {
            if !ids.is_empty() {
                let wanted = distinct(ids.iter().copied());
                let mut dup = store::existing_ids(&mut **tx, &wanted).await?;
                for r in repeated(ids.iter().copied()) {
                    if !dup.contains(&r) {
                        dup.push(r);
                    }
                }
                if !dup.is_empty() {
                    return Ok(Err(codes::duplicate_allocation_id(&dup)));
                }
            }
            return Ok(amount_rule(&found, children).map(|()| Vec::new()));
        }
        if ids.len() != children.len() {
            return Ok(Err(codes::invalid_allocation_id()));
        }
        let wanted = distinct(ids.iter().copied());
        let existing = store::find_many(&mut **tx, location, &wanted).await?;
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|w| !existing.iter().any(|f| f.id.as_deref() == Some(w.as_str())))
            .collect();
        if !missing.is_empty() {
            return Ok(Err(codes::allocations_not_found(&missing)));
        }
        Ok(Ok(existing))
    }

    /// `allocation/_search`: `ids`, `program_code`, `sanction_id`, whitelisted paging,
    /// `total_count`; each allocation with its own codes and `type: "allocation"`.
    pub async fn search_allocations(
        &self,
        caller: &Caller,
        header: RequestHeader,
        criteria: AllocationSearch,
    ) -> Result<Value, ProgramError> {
        self.validate_header(&header, MessageType::Allocation, Action::Search)?;
        let location = criteria.location_code.clone().unwrap_or_default();
        self.authorize(caller, &[&location]).await?;
        let page = Page::of(
            criteria.pagination.as_ref(),
            self.settings.default_limit,
            self.settings.max_limit,
            store::SORT_COLUMNS,
        );
        let mut conn = self.pool.acquire().await?;
        let (items, total) = store::search(&mut conn, &location, &criteria, &page).await?;
        let response = SearchResponse {
            header,
            items: SearchItems::Allocations(items),
            pagination: page.echo(total),
        };
        serde_json::to_value(&response).map_err(|e| ProgramError::Corrupt(e.to_string()))
    }
}

/// Upstream's amount rule on the (locked) sanctions: per sanction, the net of this
/// message (Σ ALLOCATION − Σ DEDUCTION gross) must fit — a positive net within
/// `gross − allocated`, a negative one within `available`. Exact decimals.
fn amount_rule(found: &[Sanction], children: &[Allocation]) -> Result<(), Rule> {
    for s in found {
        let mut net = Decimal::ZERO;
        for c in children
            .iter()
            .filter(|c| c.sanction_id.as_deref() == s.id.as_deref())
        {
            let gross = c.gross_amount.map(|m| m.0).unwrap_or_default();
            match c.allocation_type {
                Some(AllocationType::Deduction) => net -= gross,
                _ => net += gross,
            }
        }
        let amount = |m: Option<digit_core::Money>| m.map(|m| m.0).unwrap_or_default();
        let room = amount(s.gross_amount) - amount(s.allocated_amount);
        if net > Decimal::ZERO && net > room {
            return Err(codes::sanctioned_amount_error_allocation());
        }
        if net < Decimal::ZERO && -net > amount(s.available_amount) {
            return Err(codes::available_amount_error_deduction());
        }
    }
    Ok(())
}

/// A failed rule (§1.10): every child gets status ERROR with `"<CODE> <message>"`; the
/// sender is not told (as upstream), the failure is logged and answered.
async fn allocation_error(
    tx: Transaction<'_, Postgres>,
    key: &MessageKey,
    mut env: Envelope<Allocation>,
    rule: &Rule,
) -> Result<Value, ProgramError> {
    tracing::warn!(code = rule.code, "Allocation message refused.");
    for child in env.message.children.iter_mut().flatten() {
        child.status = Some(error_status(rule));
    }
    finish(tx, key, &env).await
}
