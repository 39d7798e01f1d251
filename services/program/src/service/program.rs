//! The program pipelines (spec §1.8): `program/_create`, `program/_update`,
//! `on-program/_create`, `on-program/_update` and `program/_search`.
//!
//! Differences from upstream (README "Differences from upstream"):
//! - the owning side (receiver = this installation) generates the `id` when the sender sent
//!   none (upstream inserted a NULL primary key, §5 item 17);
//! - lookups (parent, update target) never filter on `ACTIVE`, and a program search without
//!   `status` returns every status (§5 item 17);
//! - a parent program may be at the program's location or at its state tenant; lookups are
//!   scoped by location;
//! - update and on-program without `status` keep the stored status (upstream: NPE → 400);
//!   on-program create without `program_code` keeps the stored code (upstream wrote NULL);
//! - the audit's `createdBy`/`createdTime` of an update come from the stored row, not from
//!   the request body;
//! - an on-program create whose `program_code` another program of the location already
//!   has answers HTTP 400 `DUPLICATE_PROGRAM_CODE` (upstream: a unique-violation 400);
//! - an idgen failure for want of a format (or an empty answer) is the business error
//!   `IDGEN_ERROR`; the program code is generated before the transaction (a failed rule
//!   afterwards leaves a gap in the sequence, as any rolled-back sequence does);
//! - every change is one transaction with its inbox answer, its outbox messages (reply or
//!   forward, dashboard event) — nothing is sent before the commit and nothing is lost after.

use crate::domain::codes::{self, Rule};
use crate::domain::model::{
    Action, Envelope, MessageType, Program, ProgramSearch, SearchItems, SearchResponse, Status,
    StatusCode,
};
use crate::error::ProgramError;
use crate::service::EventEntity;
use crate::service::{error_status, new_id, now_ms, Caller, ProgramService};
use crate::store::inbox::{self, MessageKey};
use crate::store::program as store;
use crate::store::rows::Page;
use digit_core::AuditDetails;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Postgres, Transaction};

/// Which program write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Update,
    OnCreate,
    OnUpdate,
}

impl Write {
    fn url(self) -> (MessageType, Action) {
        match self {
            Self::Create => (MessageType::Program, Action::Create),
            Self::Update => (MessageType::Program, Action::Update),
            Self::OnCreate => (MessageType::OnProgram, Action::Create),
            Self::OnUpdate => (MessageType::OnProgram, Action::Update),
        }
    }

    fn is_reply(self) -> bool {
        matches!(self, Self::OnCreate | Self::OnUpdate)
    }
}

/// Answers a claimed message: stores `env` as its answer and commits.
pub(super) async fn finish<T: Serialize>(
    mut tx: Transaction<'_, Postgres>,
    key: &MessageKey,
    env: &Envelope<T>,
) -> Result<Value, ProgramError> {
    let response = serde_json::to_value(env).map_err(|e| ProgramError::Corrupt(e.to_string()))?;
    inbox::answer(&mut tx, key, &response).await?;
    tx.commit().await?;
    Ok(response)
}

/// Begins the write transaction and claims the message: `Err(stored answer)` when it was
/// handled before (the transaction is committed then and nothing else happens).
pub(super) async fn begin(
    service: &ProgramService,
    key: &MessageKey,
) -> Result<Result<Transaction<'static, Postgres>, Value>, ProgramError> {
    let mut tx = service.pool.begin().await?;
    if let Some(stored) = inbox::claim(&mut tx, key).await? {
        tx.commit().await?;
        return Ok(Err(stored));
    }
    Ok(Ok(tx))
}

/// The audit of an update: created from the stored row, modified by `by` now.
pub(super) fn updated_audit(stored: Option<&AuditDetails>, by: &str, now: i64) -> AuditDetails {
    let stored = stored.cloned().unwrap_or_default();
    AuditDetails {
        created_by: stored.created_by,
        created_time: stored.created_time,
        last_modified_by: Some(by.to_owned()),
        last_modified_time: Some(now),
    }
}

fn blank(s: Option<&str>) -> bool {
    s.is_none_or(|s| s.is_empty())
}

impl ProgramService {
    /// `program/_create`.
    pub async fn create_program(
        &self,
        caller: &Caller,
        env: Envelope<Program>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_program(Write::Create, caller, env, raw).await
    }

    /// `program/_update`.
    pub async fn update_program(
        &self,
        caller: &Caller,
        env: Envelope<Program>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_program(Write::Update, caller, env, raw).await
    }

    /// `on-program/_create`: the owner's reply (normally with the program code).
    pub async fn on_program_create(
        &self,
        caller: &Caller,
        env: Envelope<Program>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_program(Write::OnCreate, caller, env, raw).await
    }

    /// `on-program/_update`: the owner's reply to an update.
    pub async fn on_program_update(
        &self,
        caller: &Caller,
        env: Envelope<Program>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_program(Write::OnUpdate, caller, env, raw).await
    }

    async fn write_program(
        &self,
        kind: Write,
        caller: &Caller,
        mut env: Envelope<Program>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        let (url_type, url_action) = kind.url();
        self.validate_header(&env.header, url_type, url_action)?;
        let location = env.message.location_code.clone().unwrap_or_default();
        self.authorize(caller, &[&location]).await?;
        let key = MessageKey::new(&env.header, &raw);
        let owning = self.is_same_domain(&env.header.receiver_id);

        // Rules that need no database, and what must be fetched outside the transaction
        // (the program code; MDMS for replies), in upstream's order of evaluation.
        let pure = self.pure_rules(&env.message);
        let code = match (kind, owning, &pure) {
            (Write::Create, true, None) => Some(self.program_code(&location).await?),
            _ => None,
        };
        let reply_check = if kind.is_reply() && pure.is_none() {
            match self.validate_reply(&location, &env.header).await {
                Ok(()) => None,
                Err(ProgramError::Rule(rule)) => Some(rule),
                Err(other) => return Err(other),
            }
        } else {
            None
        };

        let mut tx = match begin(self, &key).await? {
            Ok(tx) => tx,
            Err(stored) => return Ok(stored),
        };
        let mut outcome = match pure {
            Some(rule) => Err(rule),
            None => {
                self.db_rules(&mut tx, kind, &env.message, &location)
                    .await?
            }
        };
        if let (Ok(_), Some(rule)) = (&outcome, reply_check) {
            outcome = Err(rule);
        }
        match (&outcome, code) {
            (Ok(_), Some(Ok(c))) => env.message.program_code = Some(c),
            (Ok(_), Some(Err(rule))) => outcome = Err(rule),
            _ => {}
        }
        let stored = match outcome {
            Ok(s) => s,
            Err(rule) => return self.program_error(tx, kind, caller, &key, env, &rule).await,
        };

        let now = now_ms();
        let sender = env.header.sender_id.clone();
        let p = &mut env.message;
        p.entity_type = Some("program".to_owned());
        match (kind, &stored) {
            (Write::Create, _) => {
                if blank(p.id.as_deref()) {
                    p.id = Some(new_id());
                }
                p.status = Some(Status::of(StatusCode::Active));
                p.audit_details = Some(AuditDetails::for_create(&sender, now));
            }
            (_, Some(s)) => {
                if p.status.is_none() {
                    p.status.clone_from(&s.status);
                }
                if kind == Write::OnCreate && blank(p.program_code.as_deref()) {
                    p.program_code.clone_from(&s.program_code);
                }
                p.audit_details = Some(updated_audit(s.audit_details.as_ref(), &sender, now));
            }
            (_, None) => {}
        }
        let id = p.id.clone().unwrap_or_default();
        env.header.message_id.clone_from(&id);
        env.header.message_ts = now;

        match kind {
            Write::Create => {
                if !store::insert(&mut tx, &env.message).await? {
                    let rule = codes::program_found_for_create(&id);
                    return self.program_error(tx, kind, caller, &key, env, &rule).await;
                }
            }
            Write::OnCreate => {
                if let Some(c) = env.message.program_code.as_deref() {
                    if store::code_taken(&mut *tx, &location, c, &id).await? {
                        return Err(ProgramError::Header(
                            "DUPLICATE_PROGRAM_CODE",
                            "Program code is already used by another program of the location",
                        ));
                    }
                }
                store::update(&mut tx, &env.message, true).await?;
            }
            Write::Update | Write::OnUpdate => {
                store::update(&mut tx, &env.message, false).await?;
            }
        }

        let mut out = Vec::new();
        match kind {
            Write::Create | Write::Update if owning => {
                // The owner answers at once: the reply goes back through the exchange, and
                // (as upstream, which rewrites the header in place) the answer shows it.
                env.header = self.update_uri(&env.header);
                out.push(self.exchange_message(
                    caller,
                    env.signature.as_deref(),
                    &env.header,
                    &env.message,
                )?);
            }
            Write::Create | Write::Update => out.push(self.exchange_message(
                caller,
                env.signature.as_deref(),
                &env.header,
                &env.message,
            )?),
            Write::OnCreate | Write::OnUpdate => {
                if !self.is_same_domain(&env.header.receiver_id) {
                    out.push(self.exchange_message(
                        caller,
                        env.signature.as_deref(),
                        &env.header,
                        &env.message,
                    )?);
                }
            }
        }
        let event_type = if kind == Write::Create {
            "CREATED"
        } else {
            "UPDATED"
        };
        out.push(self.event(
            caller,
            EventEntity::Program,
            event_type,
            &env.header,
            &id,
            &env.message,
        )?);
        self.enqueue(&mut tx, &out).await?;
        finish(tx, &key, &env).await
    }

    /// START_DATE_ERROR and DATES_ERROR (bean validation rejects `start_date` < 1 first;
    /// the async path and internal callers reach the rule).
    fn pure_rules(&self, p: &Program) -> Option<Rule> {
        if p.start_date == 0 {
            return Some(codes::start_date());
        }
        if p.end_date != 0 && p.start_date > p.end_date {
            return Some(codes::dates());
        }
        None
    }

    /// The owning side's program code: `Ok(Err(IDGEN_ERROR))` when idgen has no format for
    /// the location or answers nothing; other idgen failures are infrastructure (502).
    async fn program_code(&self, location: &str) -> Result<Result<String, Rule>, ProgramError> {
        match self
            .idgen
            .generate(location, Some("ifix.program.number"), None, 1)
            .await
        {
            Ok(ids) => Ok(ids.into_iter().next().ok_or_else(codes::idgen)),
            Err(digit_store::IdgenError::IdNotFound) => Ok(Err(codes::idgen())),
            Err(e) => {
                tracing::error!(error = %e, "Program code generation failed.");
                Err(e.into())
            }
        }
    }

    /// Parent, id and program-code rules (in the transaction). The stored program of an
    /// update / reply is returned, locked.
    async fn db_rules(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        kind: Write,
        p: &Program,
        location: &str,
    ) -> Result<Result<Option<Program>, Rule>, ProgramError> {
        if let Some(parent) = p.parent_id.as_deref() {
            if !store::parent_exists(&mut **tx, location, parent).await? {
                return Ok(Err(codes::program_parent_id_not_found(parent)));
            }
        }
        if kind == Write::Create {
            if let Some(id) = p.id.as_deref().filter(|i| !i.is_empty()) {
                if store::id_exists(&mut **tx, id).await? {
                    return Ok(Err(codes::program_found_for_create(id)));
                }
            }
            return Ok(Ok(None));
        }
        let Some(id) = p.id.as_deref().filter(|i| !i.is_empty()) else {
            return Ok(Err(codes::program_id()));
        };
        let Some(stored) = store::find(&mut **tx, location, id, true).await? else {
            return Ok(Err(codes::program_not_found(id)));
        };
        let code_missing = blank(p.program_code.as_deref());
        let approved = p.status.as_ref().and_then(Status::code) == Some(StatusCode::Approved);
        if code_missing && (kind != Write::OnCreate || approved) {
            return Ok(Err(codes::program_code()));
        }
        Ok(Ok(Some(stored)))
    }

    /// A failed rule (§1.10): status ERROR with `"<CODE> <message>"`. Program create and
    /// update then answer the sender: the header becomes the reply's (`updateUri`) and,
    /// when the sender is another installation, `on-program` goes back through the
    /// exchange. Replies are only logged. Nothing else is written; the answer is stored
    /// in the inbox.
    async fn program_error(
        &self,
        mut tx: Transaction<'_, Postgres>,
        kind: Write,
        caller: &Caller,
        key: &MessageKey,
        mut env: Envelope<Program>,
        rule: &Rule,
    ) -> Result<Value, ProgramError> {
        env.message.status = Some(error_status(rule));
        tracing::warn!(
            code = rule.code,
            kind = ?kind,
            location = env.message.location_code.as_deref().unwrap_or_default(),
            "Program message refused."
        );
        if !kind.is_reply() {
            env.header = self.update_uri(&env.header);
            if !self.is_same_domain(&env.header.receiver_id) {
                let reply = self.exchange_message(
                    caller,
                    env.signature.as_deref(),
                    &env.header,
                    &env.message,
                )?;
                self.enqueue(&mut tx, &[reply]).await?;
            }
        }
        finish(tx, key, &env).await
    }

    /// `program/_search`: every criterion, `ids`, whitelisted paging, `total_count`.
    pub async fn search_programs(
        &self,
        caller: &Caller,
        header: crate::domain::model::RequestHeader,
        criteria: ProgramSearch,
    ) -> Result<Value, ProgramError> {
        self.validate_header(&header, MessageType::Program, Action::Search)?;
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
            items: SearchItems::Programs(items),
            pagination: page.echo(total),
        };
        serde_json::to_value(&response).map_err(|e| ProgramError::Corrupt(e.to_string()))
    }
}
