//! The sanction pipelines (spec §1.8): `on-sanction/_create`, `on-sanction/_update` and
//! `sanction/_search`. Only the children of the envelope are sanctions; the parent is the
//! message (a new id each time, never stored).
//!
//! Differences from upstream (README "Differences from upstream"):
//! - balances start at 0 (upstream NULL) and are answered (`allocated_amount`,
//!   `available_amount`; upstream hides them, §5 item 18); they are never read from input;
//! - a message without children, or with a child without `status`, is HTTP 400
//!   (`NotEmpty.sanctionRequest.sanction.children`,
//!   `NotNull.sanctionRequest.sanction.children.status`) after the header checks;
//!   upstream fails with a `NullPointerException` / `IndexOutOfBoundsException` 400;
//! - the program lookup does not require `ACTIVE` (§5 item 17) and every lookup is scoped by
//!   the location; an id repeated inside one create counts as a duplicate too;
//! - a rule failure is answered (status ERROR on every child, HTTP 200), logged and stored
//!   as the message's answer; upstream wrote it to its write-only error queue (§5 item 10).

use crate::domain::codes::{self, Rule};
use crate::domain::model::{
    Action, Envelope, MessageType, RequestHeader, Sanction, SanctionSearch, SearchItems,
    SearchResponse,
};
use crate::error::ProgramError;
use crate::service::program::{begin, finish, updated_audit};
use crate::service::EventEntity;
use crate::service::{error_status, new_id, now_ms, Caller, ProgramService};
use crate::store::inbox::MessageKey;
use crate::store::rows::Page;
use crate::store::{program as programs, sanction as store};
use digit_core::{AuditDetails, Money};
use serde_json::Value;
use sqlx::{Acquire as _, Postgres, Transaction};

/// The distinct values of `items`, in first-seen order.
pub(super) fn distinct<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.iter().any(|o| o == i) {
            out.push(i.to_owned());
        }
    }
    out
}

/// The values of `items` that occur more than once, in first-seen order.
pub(super) fn repeated<'a>(items: impl IntoIterator<Item = &'a str> + Clone) -> Vec<String> {
    let all: Vec<&str> = items.into_iter().collect();
    distinct(
        all.iter()
            .enumerate()
            .filter(|(i, v)| all[..*i].contains(v))
            .map(|(_, v)| *v),
    )
}

/// A line of an on-sanction or on-allocation message (the children: only they are stored).
pub(super) trait Line {
    /// Its reply type, and the Java bean path of its binding codes.
    const KIND: (MessageType, &'static str, &'static str);
    /// Its location.
    fn location(&self) -> &str;
    /// Whether it carries a status (upstream dereferences it).
    fn has_status(&self) -> bool;
}

impl Line for Sanction {
    const KIND: (MessageType, &'static str, &'static str) = (
        MessageType::OnSanction,
        "NotEmpty.sanctionRequest.sanction.children",
        "NotNull.sanctionRequest.sanction.children.status",
    );
    fn location(&self) -> &str {
        self.location_code.as_deref().unwrap_or_default()
    }
    fn has_status(&self) -> bool {
        self.status.is_some()
    }
}

/// The outcome of [`ProgramService::open_lines`].
pub(super) enum Lines {
    /// A redelivery: its stored answer.
    Stored(Value),
    /// A new message: its transaction (inbox claimed), key, location and the reply check's
    /// failure (applied after the business rules, as upstream orders them).
    Open(
        Box<(
            Transaction<'static, Postgres>,
            MessageKey,
            String,
            Option<Rule>,
        )>,
    ),
}

impl ProgramService {
    /// The start every on-sanction/on-allocation write shares: the header, non-empty lines
    /// that all carry a status (400 — upstream fails with a `NullPointerException`),
    /// authorization at every line's location, the reply check against MDMS, and the inbox.
    pub(super) async fn open_lines<T: Line>(
        &self,
        caller: &Caller,
        header: &RequestHeader,
        create: bool,
        lines: &[T],
        raw: &Value,
    ) -> Result<Lines, ProgramError> {
        let (url_type, empty, no_status) = T::KIND;
        let action = if create {
            Action::Create
        } else {
            Action::Update
        };
        self.validate_header(header, url_type, action)?;
        if lines.is_empty() {
            return Err(ProgramError::Header(empty, "must not be empty"));
        }
        if lines.iter().any(|l| !l.has_status()) {
            return Err(ProgramError::Header(no_status, "must not be null"));
        }
        let locations = distinct(lines.iter().map(Line::location));
        let refs: Vec<&str> = locations.iter().map(String::as_str).collect();
        self.authorize(caller, &refs).await?;
        let location = locations[0].clone();
        let reply_check = match self.validate_reply(&location, header).await {
            Ok(()) => None,
            Err(ProgramError::Rule(rule)) => Some(rule),
            Err(other) => return Err(other),
        };
        let key = MessageKey::new(header, raw);
        Ok(match begin(self, &key).await? {
            Ok(tx) => Lines::Open(Box::new((tx, key, location, reply_check))),
            Err(stored) => Lines::Stored(stored),
        })
    }

    /// `on-sanction/_create`: the treasury's new sanctions.
    pub async fn on_sanction_create(
        &self,
        caller: &Caller,
        env: Envelope<Sanction>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_sanctions(true, caller, env, raw).await
    }

    /// `on-sanction/_update`: status (and codes, details) of existing sanctions.
    pub async fn on_sanction_update(
        &self,
        caller: &Caller,
        env: Envelope<Sanction>,
        raw: Value,
    ) -> Result<Value, ProgramError> {
        self.write_sanctions(false, caller, env, raw).await
    }

    async fn write_sanctions(
        &self,
        create: bool,
        caller: &Caller,
        mut env: Envelope<Sanction>,
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
            .sanction_rules(&mut tx, create, &children, &location)
            .await?;
        if let (Ok(_), Some(rule)) = (&outcome, reply_check) {
            outcome = Err(rule);
        }
        let stored = match outcome {
            Ok(stored) => stored,
            Err(rule) => return sanction_error(tx, &key, env, &rule).await,
        };

        let now = now_ms();
        let sender = env.header.sender_id.clone();
        let mut children = children;
        let mut sp = (&mut tx).begin().await?;
        for child in &mut children {
            child.entity_type = Some("sanction".to_owned());
            if create {
                if child.id.as_deref().is_none_or(str::is_empty) {
                    child.id = Some(new_id());
                }
                child.allocated_amount = Some(Money::ZERO);
                child.available_amount = Some(Money::ZERO);
                child.audit_details = Some(AuditDetails::for_create(&sender, now));
                if !store::insert(&mut sp, child).await? {
                    drop(sp);
                    let id = child.id.clone().unwrap_or_default();
                    let rule = codes::duplicate_sanction_id(&[id]);
                    return sanction_error(tx, &key, env, &rule).await;
                }
            } else {
                let id = child.id.as_deref().unwrap_or_default();
                let old = stored.iter().find(|s| s.id.as_deref() == Some(id));
                child.allocated_amount = old.and_then(|s| s.allocated_amount);
                child.available_amount = old.and_then(|s| s.available_amount);
                child.audit_details = Some(updated_audit(
                    old.and_then(|s| s.audit_details.as_ref()),
                    &sender,
                    now,
                ));
                store::update(&mut sp, child, &sender, now).await?;
            }
        }
        sp.commit().await?;
        env.message.children = Some(children);
        if create {
            let parent_id = new_id();
            env.message.id = Some(parent_id.clone());
            env.message.entity_type = Some("sanction".to_owned());
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
                EventEntity::Sanction,
                event_type,
                &env.header,
                child.id.as_deref().unwrap_or_default(),
                child,
            )?);
        }
        self.enqueue(&mut tx, &out).await?;
        finish(tx, &key, &env).await
    }

    /// Upstream's sanction rules, in order: one program code and one location over the
    /// children, the program exists there, then (create) no child id exists or repeats,
    /// (update) every child has an id and exists at the location — those are returned.
    async fn sanction_rules(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        create: bool,
        children: &[Sanction],
        location: &str,
    ) -> Result<Result<Vec<Sanction>, Rule>, ProgramError> {
        let program_codes = distinct(
            children
                .iter()
                .map(|c| c.program_code.as_deref().unwrap_or_default()),
        );
        if program_codes.len() > 1 {
            return Ok(Err(codes::same_program_code()));
        }
        let locations = distinct(
            children
                .iter()
                .map(|c| c.location_code.as_deref().unwrap_or_default()),
        );
        if locations.len() > 1 {
            return Ok(Err(codes::same_location_code()));
        }
        let program_code = &program_codes[0];
        if !programs::code_exists(&mut **tx, location, program_code).await? {
            return Ok(Err(codes::no_programs_found(program_code)));
        }
        let ids: Vec<&str> = children
            .iter()
            .filter_map(|c| c.id.as_deref())
            .filter(|i| !i.is_empty())
            .collect();
        if create {
            if ids.is_empty() {
                return Ok(Ok(Vec::new()));
            }
            let wanted = distinct(ids.iter().copied());
            let mut dup = store::existing_ids(&mut **tx, &wanted).await?;
            for r in repeated(ids.iter().copied()) {
                if !dup.contains(&r) {
                    dup.push(r);
                }
            }
            if !dup.is_empty() {
                return Ok(Err(codes::duplicate_sanction_id(&dup)));
            }
            return Ok(Ok(Vec::new()));
        }
        if ids.len() != children.len() {
            return Ok(Err(codes::sanction_id_null()));
        }
        let wanted = distinct(ids.iter().copied());
        let found = store::find_many(&mut **tx, location, &wanted).await?;
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|w| !found.iter().any(|f| f.id.as_deref() == Some(w.as_str())))
            .collect();
        if !missing.is_empty() {
            return Ok(Err(codes::no_sanctions_found(&missing)));
        }
        Ok(Ok(found))
    }

    /// `sanction/_search`: `ids`, `program_code`, whitelisted paging, `total_count`, and
    /// the balances.
    pub async fn search_sanctions(
        &self,
        caller: &Caller,
        header: RequestHeader,
        criteria: SanctionSearch,
    ) -> Result<Value, ProgramError> {
        self.validate_header(&header, MessageType::Sanction, Action::Search)?;
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
            items: SearchItems::Sanctions(items),
            pagination: page.echo(total),
        };
        serde_json::to_value(&response).map_err(|e| ProgramError::Corrupt(e.to_string()))
    }
}

/// A failed rule (§1.10): every child gets status ERROR with `"<CODE> <message>"`; the
/// sender is not told (as upstream), the failure is logged and answered.
async fn sanction_error(
    tx: Transaction<'_, Postgres>,
    key: &MessageKey,
    mut env: Envelope<Sanction>,
    rule: &Rule,
) -> Result<Value, ProgramError> {
    tracing::warn!(code = rule.code, "Sanction message refused.");
    for child in env.message.children.iter_mut().flatten() {
        child.status = Some(error_status(rule));
    }
    finish(tx, key, &env).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_and_repeated_keep_first_seen_order() {
        assert_eq!(distinct(["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
        assert_eq!(repeated(["b", "a", "b", "c", "a", "b"]), ["b", "a"]);
        assert!(repeated(["x", "y"]).is_empty());
    }
}
