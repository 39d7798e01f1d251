//! Database settings read from the environment (12-factor), with upstream's Spring names as
//! aliases so a DIGIT Helm chart's `SPRING_DATASOURCE_*` variables work unchanged.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::error::StoreError;

/// Default database URL when no variable is set.
pub const DEFAULT_DB_URL: &str = "postgres://postgres@127.0.0.1:5432/digit";
/// Default pool size (`DB_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// Default pool acquire / connect timeout in seconds (`DB_CONNECT_TIMEOUT_SECONDS`).
pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: u64 = 10;

/// URL variables, highest precedence first.
pub const URL_VARS: [&str; 3] = ["DB_URL", "SPRING_DATASOURCE_URL", "DATABASE_URL"];
/// User-name variables, highest precedence first.
pub const USERNAME_VARS: [&str; 2] = ["DB_USERNAME", "SPRING_DATASOURCE_USERNAME"];
/// Password variables, highest precedence first.
pub const PASSWORD_VARS: [&str; 2] = ["DB_PASSWORD", "SPRING_DATASOURCE_PASSWORD"];

/// Where and how to connect to Postgres.
///
/// `Debug` never shows the password (neither the separate one nor one embedded in the URL).
#[derive(Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// `postgres://` URL (a JDBC URL has already been converted).
    pub url: String,
    /// Overrides the URL's user name when set.
    pub username: Option<String>,
    /// Overrides the URL's password when set. Never logged.
    pub password: Option<String>,
    /// Upper bound of the pool.
    pub max_connections: u32,
    /// Whether the service applies its migrations on start.
    pub migrate: bool,
    /// Bound on connecting and on waiting for a pooled connection.
    pub connect_timeout: Duration,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            url: DEFAULT_DB_URL.to_owned(),
            username: None,
            password: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            migrate: true,
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECONDS),
        }
    }
}

impl fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &redact_url(&self.url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("max_connections", &self.max_connections)
            .field("migrate", &self.migrate)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl DbSettings {
    /// Reads the settings from the process environment (see [`DbSettings::from_lookup`]).
    pub fn from_env() -> Result<Self, StoreError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable name → value function), so tests need
    /// not touch the process environment. Empty values count as unset.
    ///
    /// * URL: `DB_URL`, else `SPRING_DATASOURCE_URL`, else `DATABASE_URL`, else
    ///   [`DEFAULT_DB_URL`]; a `jdbc:postgresql://…` URL is converted ([`jdbc_to_postgres_url`]).
    /// * `DB_USERNAME` / `SPRING_DATASOURCE_USERNAME`, `DB_PASSWORD` /
    ///   `SPRING_DATASOURCE_PASSWORD`: override the URL's credentials when set.
    /// * `DB_MAX_CONNECTIONS` (default 10, at least 1), `DB_MIGRATE` (default true),
    ///   `DB_CONNECT_TIMEOUT_SECONDS` (default 10, at least 1).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let first = |names: &[&str]| names.iter().find_map(|n| get(n));

        let url = match first(&URL_VARS) {
            Some(raw) => normalize_url(raw.trim())?,
            None => DEFAULT_DB_URL.to_owned(),
        };
        let max_connections = match get("DB_MAX_CONNECTIONS") {
            Some(v) => parse_number::<u32>("DB_MAX_CONNECTIONS", &v)?.max(1),
            None => DEFAULT_MAX_CONNECTIONS,
        };
        let migrate = match get("DB_MIGRATE") {
            Some(v) => parse_bool("DB_MIGRATE", &v)?,
            None => true,
        };
        let connect_timeout = match get("DB_CONNECT_TIMEOUT_SECONDS") {
            Some(v) => parse_number::<u64>("DB_CONNECT_TIMEOUT_SECONDS", &v)?.max(1),
            None => DEFAULT_CONNECT_TIMEOUT_SECONDS,
        };
        Ok(Self {
            url,
            username: first(&USERNAME_VARS),
            password: first(&PASSWORD_VARS),
            max_connections,
            migrate,
            connect_timeout: Duration::from_secs(connect_timeout),
        })
    }

    /// Connection options: the URL with the user name / password overrides applied.
    pub fn connect_options(&self) -> Result<PgConnectOptions, StoreError> {
        let mut options = PgConnectOptions::from_str(&self.url).map_err(|e| {
            StoreError::Config(format!(
                "invalid database URL {}: {e}",
                redact_url(&self.url)
            ))
        })?;
        if let Some(user) = &self.username {
            options = options.username(user);
        }
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        Ok(options)
    }

    /// The URL with the password hidden, for logs and `--help` output.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// Accepts `postgres://`, `postgresql://` and JDBC URLs; returns a `postgres(ql)://` URL.
fn normalize_url(raw: &str) -> Result<String, StoreError> {
    if raw.starts_with("jdbc:") {
        jdbc_to_postgres_url(raw)
    } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        Ok(raw.to_owned())
    } else {
        Err(StoreError::Config(format!(
            "database URL must start with postgres://, postgresql:// or jdbc:postgresql:, got {}",
            redact_url(raw)
        )))
    }
}

/// Converts a JDBC URL as Spring deployments use it (`jdbc:postgresql://host:port/db?…`, also
/// `jdbc:otel:postgresql://…` and the host-less `jdbc:postgresql:db`) to a `postgresql://` URL.
///
/// Query parameters: `user`, `password`, `sslmode`, `sslrootcert`, `sslcert`, `sslkey`,
/// `options` and `application_name` pass through; `ApplicationName` becomes
/// `application_name`; `currentSchema=s` becomes `options=-c search_path=s`; `ssl=true`
/// becomes `sslmode=require` unless `sslmode` is given; other JDBC-only parameters are dropped.
pub fn jdbc_to_postgres_url(jdbc: &str) -> Result<String, StoreError> {
    let invalid = || {
        StoreError::Config(format!(
            "unsupported JDBC URL {} (expected jdbc:postgresql://host:port/database)",
            redact_url(jdbc)
        ))
    };
    let rest = jdbc.strip_prefix("jdbc:").ok_or_else(invalid)?;
    let rest = rest.strip_prefix("otel:").unwrap_or(rest);
    let rest = rest.strip_prefix("postgresql:").ok_or_else(invalid)?;
    let (location, query) = match rest.split_once('?') {
        Some((l, q)) => (l, Some(q)),
        None => (rest, None),
    };
    let location = match location.strip_prefix("//") {
        Some(hosted) => hosted.to_owned(),
        // `jdbc:postgresql:database` means localhost:5432.
        None => format!("localhost/{location}"),
    };
    if location.is_empty() || location.starts_with('/') {
        return Err(invalid());
    }

    let mut params: Vec<String> = Vec::new();
    let mut has_sslmode = false;
    let mut ssl_true = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "user" | "password" | "sslrootcert" | "sslcert" | "sslkey" | "options"
            | "application_name" => params.push(format!("{key}={value}")),
            "sslmode" => {
                has_sslmode = true;
                params.push(format!("sslmode={value}"));
            }
            "ApplicationName" => params.push(format!("application_name={value}")),
            "currentSchema" => params.push(format!("options=-c%20search_path%3D{value}")),
            "ssl" => ssl_true = value.eq_ignore_ascii_case("true"),
            other => tracing::debug!(parameter = other, "dropping JDBC-only URL parameter"),
        }
    }
    if ssl_true && !has_sslmode {
        params.push("sslmode=require".to_owned());
    }
    let mut url = format!("postgresql://{location}");
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    Ok(url)
}

/// Hides the password of a URL (`user:secret@` → `user:***@`, `password=secret` → `password=***`).
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let after = scheme_end + 3;
        let authority_end = out[after..]
            .find(['/', '?'])
            .map_or(out.len(), |i| after + i);
        if let Some(at) = out[after..authority_end].rfind('@') {
            let userinfo = &out[after..after + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(after + colon + 1..after + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
    out
}

fn parse_number<T: FromStr>(name: &str, value: &str) -> Result<T, StoreError> {
    value.trim().parse::<T>().map_err(|_| {
        StoreError::Config(format!(
            "{name} must be a non-negative integer, got {value:?}"
        ))
    })
}

/// Parses a boolean the way Spring's relaxed binding does (`true`/`false`, also `1`/`0`,
/// `yes`/`no`, `on`/`off`, case-insensitive).
pub fn parse_bool(name: &str, value: &str) -> Result<bool, StoreError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(StoreError::Config(format!(
            "{name} must be true or false, got {value:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let s = DbSettings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(s, DbSettings::default());
        assert_eq!(s.url, "postgres://postgres@127.0.0.1:5432/digit");
        assert_eq!(s.max_connections, 10);
        assert!(s.migrate);
    }

    #[test]
    fn db_url_wins_over_spring_and_database_url() {
        let s = DbSettings::from_lookup(lookup(&[
            ("DB_URL", "postgres://a@h1/db1"),
            ("SPRING_DATASOURCE_URL", "jdbc:postgresql://h2:5432/db2"),
            ("DATABASE_URL", "postgres://c@h3/db3"),
        ]))
        .unwrap();
        assert_eq!(s.url, "postgres://a@h1/db1");

        let s = DbSettings::from_lookup(lookup(&[
            ("SPRING_DATASOURCE_URL", "jdbc:postgresql://h2:5432/db2"),
            ("DATABASE_URL", "postgres://c@h3/db3"),
        ]))
        .unwrap();
        assert_eq!(s.url, "postgresql://h2:5432/db2");

        let s = DbSettings::from_lookup(lookup(&[
            ("DB_URL", "  "),
            ("DATABASE_URL", "postgres://c@h3/db3"),
        ]))
        .unwrap();
        assert_eq!(s.url, "postgres://c@h3/db3", "empty values count as unset");
    }

    #[test]
    fn credential_aliases_and_precedence() {
        let s = DbSettings::from_lookup(lookup(&[
            ("SPRING_DATASOURCE_USERNAME", "spring_user"),
            ("SPRING_DATASOURCE_PASSWORD", "spring_pw"),
        ]))
        .unwrap();
        assert_eq!(s.username.as_deref(), Some("spring_user"));
        assert_eq!(s.password.as_deref(), Some("spring_pw"));

        let s = DbSettings::from_lookup(lookup(&[
            ("DB_USERNAME", "db_user"),
            ("DB_PASSWORD", "db_pw"),
            ("SPRING_DATASOURCE_USERNAME", "spring_user"),
            ("SPRING_DATASOURCE_PASSWORD", "spring_pw"),
        ]))
        .unwrap();
        assert_eq!(s.username.as_deref(), Some("db_user"));
        assert_eq!(s.password.as_deref(), Some("db_pw"));
    }

    #[test]
    fn credentials_override_the_url() {
        let s = DbSettings::from_lookup(lookup(&[
            ("DB_URL", "postgres://urluser:urlpw@db.example:6543/egov"),
            ("DB_USERNAME", "egov"),
            ("DB_PASSWORD", "p@ss:w/rd"),
        ]))
        .unwrap();
        let o = s.connect_options().unwrap();
        assert_eq!(o.get_username(), "egov");
        assert_eq!(o.get_host(), "db.example");
        assert_eq!(o.get_port(), 6543);
        assert_eq!(o.get_database(), Some("egov"));
    }

    #[test]
    fn numbers_and_flags() {
        let s = DbSettings::from_lookup(lookup(&[
            ("DB_MAX_CONNECTIONS", "25"),
            ("DB_MIGRATE", "false"),
            ("DB_CONNECT_TIMEOUT_SECONDS", "3"),
        ]))
        .unwrap();
        assert_eq!(s.max_connections, 25);
        assert!(!s.migrate);
        assert_eq!(s.connect_timeout, Duration::from_secs(3));

        let err = DbSettings::from_lookup(lookup(&[("DB_MAX_CONNECTIONS", "many")])).unwrap_err();
        assert!(err.to_string().contains("DB_MAX_CONNECTIONS"));
        let err = DbSettings::from_lookup(lookup(&[("DB_MIGRATE", "perhaps")])).unwrap_err();
        assert!(err.to_string().contains("DB_MIGRATE"));
        let s = DbSettings::from_lookup(lookup(&[("DB_MAX_CONNECTIONS", "0")])).unwrap();
        assert_eq!(s.max_connections, 1, "a pool of zero is raised to one");
    }

    #[test]
    fn jdbc_urls_are_converted() {
        assert_eq!(
            jdbc_to_postgres_url("jdbc:postgresql://postgres:5432/egov").unwrap(),
            "postgresql://postgres:5432/egov"
        );
        assert_eq!(
            jdbc_to_postgres_url("jdbc:otel:postgresql://localhost:5432/rainmaker_new").unwrap(),
            "postgresql://localhost:5432/rainmaker_new"
        );
        assert_eq!(
            jdbc_to_postgres_url(
                "jdbc:postgresql://db/egov?currentSchema=pb&ssl=true&loginTimeout=5"
            )
            .unwrap(),
            "postgresql://db/egov?options=-c%20search_path%3Dpb&sslmode=require"
        );
        assert_eq!(
            jdbc_to_postgres_url("jdbc:postgresql:egov").unwrap(),
            "postgresql://localhost/egov"
        );
        assert_eq!(
            jdbc_to_postgres_url("jdbc:postgresql://h/d?user=u&password=p&sslmode=disable")
                .unwrap(),
            "postgresql://h/d?user=u&password=p&sslmode=disable"
        );
        assert!(jdbc_to_postgres_url("jdbc:mysql://h/d").is_err());
        assert!(jdbc_to_postgres_url("jdbc:postgresql:///d").is_err());

        // Through the settings, and the result parses.
        let s = DbSettings::from_lookup(lookup(&[(
            "SPRING_DATASOURCE_URL",
            "jdbc:postgresql://pg.internal:5433/egov?currentSchema=public",
        )]))
        .unwrap();
        let o = s.connect_options().unwrap();
        assert_eq!(o.get_host(), "pg.internal");
        assert_eq!(o.get_port(), 5433);
        assert_eq!(o.get_database(), Some("egov"));
        assert_eq!(o.get_options(), Some("-c search_path=public"));
    }

    #[test]
    fn unknown_scheme_is_rejected() {
        let err =
            DbSettings::from_lookup(lookup(&[("DB_URL", "mysql://u:secret@h/d")])).unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn debug_never_shows_passwords() {
        let s = DbSettings::from_lookup(lookup(&[
            ("DB_URL", "postgres://u:urlsecret@h/d?password=querysecret"),
            ("DB_PASSWORD", "envsecret"),
        ]))
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("urlsecret"), "{shown}");
        assert!(!shown.contains("querysecret"), "{shown}");
        assert!(!shown.contains("envsecret"), "{shown}");
        assert!(
            shown.contains("postgres://u:***@h/d?password=***"),
            "{shown}"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
    }

    #[test]
    fn spring_style_booleans() {
        assert!(parse_bool("X", "TRUE").unwrap());
        assert!(parse_bool("X", "on").unwrap());
        assert!(!parse_bool("X", "0").unwrap());
        assert!(parse_bool("X", "maybe").is_err());
    }
}
