//! DIGIT id generation (egov-idgen, spec §5) on Postgres sequences.
//!
//! [`IdGenerator::generate`] resolves the format (MDMS `common-masters.IdFormat`, or the
//! `id_generator` table, or the request's own format), parses it ([`mod@format`]) and fills every
//! token: `[seq…]` from `nextval` (all `count` values in one query), `[fy:…]`/`[cy:…]` from
//! the injectable [`Clock`] in the configured time zone, `[city…]` from MDMS `tenant.tenants`,
//! anything else with random digits. [`http::idgen_router`] serves the upstream HTTP contract.

pub mod datefmt;
pub mod error;
pub mod format;
pub mod http;
pub mod masters;
pub mod mdms;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::error::StoreError;
use crate::pool::quote_ident;
use crate::settings::parse_bool;
pub use error::{codes, IdgenError};
use format::{Segment, Template, Token};
pub use masters::{IdFormatDef, IdgenMasters, InMemoryMasters, MastersError};
pub use mdms::mdms_masters;

/// Default number of ids one id request (and one HTTP call in total) may ask for.
pub const DEFAULT_MAX_COUNT: u32 = 10_000;
/// Default number of `idRequests` in one HTTP call.
pub const DEFAULT_MAX_ID_REQUESTS: usize = 100;
/// Default sequence padding (`%06d`).
pub const DEFAULT_PADDING: usize = 6;
/// Largest padding accepted from MDMS; wider values are clamped.
pub const MAX_PADDING: usize = 64;

/// The source of "now" for `[cy:…]` and `[fy:…]`; injectable so tests use a fixed instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Idgen behaviour switches, with upstream's environment names.
#[derive(Debug, Clone, PartialEq)]
pub struct IdgenSettings {
    /// `IDFORMAT_FROM_MDMS` (default true): look formats up in MDMS, else in `id_generator`.
    pub idformat_from_mdms: bool,
    /// `AUTOCREATE_NEW_SEQ` (default true, as CCRS deploys it): create a missing sequence when
    /// the format came from MDMS / the table.
    pub autocreate_new_seq: bool,
    /// `ID_TIMEZONE`, else `APP_TIMEZONE` (default `Asia/Kolkata`; `IST` is accepted).
    pub timezone: Tz,
    /// `IDGEN_MAX_COUNT` (default 10,000): ids per id request and per HTTP call.
    pub max_count: u32,
    /// `IDGEN_MAX_ID_REQUESTS` (default 100): `idRequests` per HTTP call.
    pub max_id_requests: usize,
}

impl Default for IdgenSettings {
    fn default() -> Self {
        Self {
            idformat_from_mdms: true,
            autocreate_new_seq: true,
            timezone: chrono_tz::Asia::Kolkata,
            max_count: DEFAULT_MAX_COUNT,
            max_id_requests: DEFAULT_MAX_ID_REQUESTS,
        }
    }
}

impl IdgenSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, StoreError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let defaults = Self::default();
        let flag = |name: &str, default: bool| match get(name) {
            Some(v) => parse_bool(name, &v),
            None => Ok(default),
        };
        let timezone = match get("ID_TIMEZONE").or_else(|| get("APP_TIMEZONE")) {
            Some(name) => parse_timezone(&name)?,
            None => defaults.timezone,
        };
        let number = |name: &str, default: u64| -> Result<u64, StoreError> {
            match get(name) {
                Some(v) => v.trim().parse::<u64>().map_err(|_| {
                    StoreError::Config(format!("{name} must be a positive integer, got {v:?}"))
                }),
                None => Ok(default),
            }
        };
        Ok(Self {
            idformat_from_mdms: flag("IDFORMAT_FROM_MDMS", defaults.idformat_from_mdms)?,
            autocreate_new_seq: flag("AUTOCREATE_NEW_SEQ", defaults.autocreate_new_seq)?,
            timezone,
            max_count: u32::try_from(number("IDGEN_MAX_COUNT", u64::from(defaults.max_count))?)
                .unwrap_or(u32::MAX)
                .max(1),
            max_id_requests: usize::try_from(number(
                "IDGEN_MAX_ID_REQUESTS",
                defaults.max_id_requests as u64,
            )?)
            .unwrap_or(usize::MAX)
            .max(1),
        })
    }
}

/// Parses a time-zone name as Java's `TimeZone.getTimeZone` would for the names DIGIT uses:
/// IANA names (`Asia/Kolkata`), `UTC`/`GMT`, and the legacy `IST` (India).
pub fn parse_timezone(name: &str) -> Result<Tz, StoreError> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("IST") {
        return Ok(chrono_tz::Asia::Kolkata);
    }
    name.parse::<Tz>()
        .map_err(|_| StoreError::Config(format!("unknown time zone {name:?}")))
}

/// One entry of an id generation call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRequest {
    /// The tenant (`pg.citya`).
    pub tenant_id: String,
    /// The format name in MDMS / `id_generator`; empty means none.
    pub id_name: Option<String>,
    /// The fallback format.
    pub format: Option<String>,
    /// How many ids.
    pub count: u32,
}

/// Generates DIGIT ids. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct IdGenerator {
    pool: PgPool,
    masters: Arc<dyn IdgenMasters>,
    settings: IdgenSettings,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdGenerator")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The value of one token for a whole call.
enum Filled {
    /// Same text for every id (date, financial year, city code).
    Fixed(String),
    /// One value per id (sequence numbers, already padded).
    PerId(Vec<String>),
    /// Fresh random digits per id.
    Random(usize),
}

impl IdGenerator {
    /// A generator on `pool` reading master data from `masters`, using the system clock.
    pub fn new(pool: PgPool, masters: Arc<dyn IdgenMasters>, settings: IdgenSettings) -> Self {
        Self {
            pool,
            masters,
            settings,
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock (tests pin "now" with [`FixedClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &IdgenSettings {
        &self.settings
    }

    /// Generates `count` ids for one id request.
    ///
    /// The format is the `idName`'s (from MDMS when `idformat_from_mdms`, else from the
    /// `id_generator` table) and otherwise `format`; none → `ID_NOT_FOUND`. `count` above
    /// `max_count` → `INVALID_ID_COUNT`; `count == 0` yields no ids (as upstream).
    pub async fn generate(
        &self,
        tenant_id: &str,
        id_name: Option<&str>,
        format: Option<&str>,
        count: u32,
    ) -> Result<Vec<String>, IdgenError> {
        if count > self.settings.max_count {
            return Err(IdgenError::InvalidCount(format!(
                "count must be at most {}, got {count}",
                self.settings.max_count
            )));
        }
        let (definition, from_lookup) = self.resolve_format(tenant_id, id_name, format).await?;
        let template = format::parse(&definition.format, tenant_id)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let padding = definition
            .padding
            .unwrap_or(DEFAULT_PADDING)
            .min(MAX_PADDING);
        let autocreate = from_lookup && self.settings.autocreate_new_seq;
        self.render(&template, tenant_id, count, autocreate, padding)
            .await
    }

    /// Generates the ids of several id requests, flattened in request order (the HTTP
    /// contract). Bounded: at most `max_id_requests` requests and `max_count` ids in total.
    pub async fn generate_all(&self, requests: &[IdRequest]) -> Result<Vec<String>, IdgenError> {
        if requests.len() > self.settings.max_id_requests {
            return Err(IdgenError::TooManyIdRequests {
                max: self.settings.max_id_requests,
            });
        }
        let total: u64 = requests.iter().map(|r| u64::from(r.count)).sum();
        if total > u64::from(self.settings.max_count) {
            return Err(IdgenError::InvalidCount(format!(
                "at most {} ids may be generated in one request, {total} were asked for",
                self.settings.max_count
            )));
        }
        let mut ids = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for r in requests {
            ids.extend(
                self.generate(
                    &r.tenant_id,
                    r.id_name.as_deref(),
                    r.format.as_deref(),
                    r.count,
                )
                .await?,
            );
        }
        Ok(ids)
    }

    /// Finds the format: the id name's definition when there is one (then `true`: sequences
    /// may be auto-created), else the request's format.
    async fn resolve_format(
        &self,
        tenant_id: &str,
        id_name: Option<&str>,
        format: Option<&str>,
    ) -> Result<(IdFormatDef, bool), IdgenError> {
        if let Some(name) = id_name.filter(|n| !n.is_empty()) {
            let found = if self.settings.idformat_from_mdms {
                self.masters
                    .id_format(tenant_id, name)
                    .await
                    .map_err(|e| IdgenError::Parsing {
                        message: "Failed to get citycode/formatid from MDMS",
                        detail: Some(e.0),
                    })?
            } else {
                self.format_from_table(tenant_id, name).await?
            };
            if let Some(def) = found.filter(|d| !d.format.is_empty()) {
                return Ok((def, true));
            }
        }
        match format.filter(|f| !f.is_empty()) {
            Some(f) => Ok((IdFormatDef::new(f), false)),
            None => Err(IdgenError::IdNotFound),
        }
    }

    /// `id_generator` lookup: the row of this tenant, else of an ancestor tenant (`pg` for
    /// `pg.citya`), else of any tenant (upstream's intended fallback by id name only).
    async fn format_from_table(
        &self,
        tenant_id: &str,
        id_name: &str,
    ) -> Result<Option<IdFormatDef>, IdgenError> {
        let format: Option<String> = sqlx::query_scalar(
            "SELECT format FROM id_generator WHERE idname = $1 \
             ORDER BY (tenantid = $2) DESC, starts_with($2, tenantid || '.') DESC, tenantid \
             LIMIT 1",
        )
        .bind(id_name)
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(IdgenError::Database)?;
        Ok(format.map(IdFormatDef::new))
    }

    async fn render(
        &self,
        template: &Template,
        tenant_id: &str,
        count: u32,
        autocreate: bool,
        padding: usize,
    ) -> Result<Vec<String>, IdgenError> {
        let now = self.clock.now().with_timezone(&self.settings.timezone);
        let mut filled = Vec::with_capacity(template.tokens.len());
        for token in &template.tokens {
            filled.push(match token {
                Token::Seq(name) => Filled::PerId(
                    self.next_values(name, count, autocreate)
                        .await?
                        .into_iter()
                        .map(|v| format::pad_sequence(v, padding))
                        .collect(),
                ),
                Token::FinancialYear(parts) => Filled::Fixed(format::financial_year(parts, &now)?),
                Token::CurrentDate(pattern) => Filled::Fixed(pattern.format(&now)),
                Token::City => Filled::Fixed(self.city_code(tenant_id).await?),
                Token::Random(len) => Filled::Random(*len),
            });
        }

        let count = count as usize;
        let mut ids = Vec::with_capacity(count);
        let mut randoms: HashMap<usize, String> = HashMap::new();
        for i in 0..count {
            randoms.clear();
            let mut id = String::new();
            for segment in &template.segments {
                match segment {
                    Segment::Literal(text) => id.push_str(text),
                    Segment::Token(t) => match filled.get(*t) {
                        Some(Filled::Fixed(text)) => id.push_str(text),
                        Some(Filled::PerId(values)) => {
                            if let Some(v) = values.get(i) {
                                id.push_str(v);
                            }
                        }
                        Some(Filled::Random(len)) => id.push_str(
                            randoms
                                .entry(*t)
                                .or_insert_with(|| format::random_digits(*len)),
                        ),
                        None => {}
                    },
                }
            }
            ids.push(id);
        }
        Ok(ids)
    }

    async fn city_code(&self, tenant_id: &str) -> Result<String, IdgenError> {
        match self.masters.city_code(tenant_id).await {
            Ok(Some(code)) => Ok(code),
            Ok(None) => Err(IdgenError::Parsing {
                message: "Failed to get citycode from MDMS",
                detail: None,
            }),
            Err(e) => Err(IdgenError::Parsing {
                message: "Failed to get citycode/formatid from MDMS",
                detail: Some(e.0),
            }),
        }
    }

    /// `count` next values of sequence `name` (validated, lower-case) in one query; a missing
    /// sequence is created first when `autocreate`.
    async fn next_values(
        &self,
        name: &str,
        count: u32,
        autocreate: bool,
    ) -> Result<Vec<i64>, IdgenError> {
        match self.fetch_sequence(name, count).await {
            Ok(values) => Ok(values),
            Err(e) if has_sqlstate(&e, &["42P01"]) => {
                if !autocreate {
                    return Err(IdgenError::SeqDoesNotExist {
                        sequence: name.to_owned(),
                    });
                }
                let created = sqlx::query(&format!(
                    "CREATE SEQUENCE IF NOT EXISTS {}",
                    quote_ident(name)
                ))
                .execute(&self.pool)
                .await;
                match created {
                    Ok(_) => tracing::info!(sequence = name, "created missing id sequence"),
                    // Another request created it concurrently.
                    Err(e) if has_sqlstate(&e, &["23505", "42P07"]) => {}
                    Err(source) => {
                        tracing::error!(sequence = name, error = %source, "creating id sequence failed");
                        return Err(IdgenError::ErrorCreatingSeq {
                            sequence: name.to_owned(),
                            source,
                        });
                    }
                }
                self.fetch_sequence(name, count).await.map_err(|source| {
                    IdgenError::ErrorCreatingSeq {
                        sequence: name.to_owned(),
                        source,
                    }
                })
            }
            Err(source) => {
                tracing::error!(sequence = name, error = %source, "reading id sequence failed");
                Err(IdgenError::SeqNumber {
                    sequence: name.to_owned(),
                    source,
                })
            }
        }
    }

    async fn fetch_sequence(&self, name: &str, count: u32) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)")
            .bind(name)
            .bind(i64::from(count))
            .fetch_all(&self.pool)
            .await
    }
}

/// Whether `e` is a database error with one of these SQLSTATE codes.
fn has_sqlstate(e: &sqlx::Error, codes: &[&str]) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| codes.contains(&c.as_ref())),
        _ => false,
    }
}
