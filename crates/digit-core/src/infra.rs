//! The base shape of an infrastructure failure: which piece failed (database, broker,
//! another service), what we were doing, and the original error as its `source()`.
//!
//! Crates keep their own `thiserror` enums; a variant that stands for "the database (or
//! broker, or a dependency) failed" wraps an [`InfraError`] instead of the failure's text,
//! so the whole chain (`sqlx` → `io`, `rdkafka` → broker code, …) reaches the log and
//! can be inspected (`downcast_ref`) where a decision depends on it. The type lives here
//! because it names no I/O library: sources are boxed [`std::error::Error`]s.

use crate::error::{codes, DigitError, ErrorDetail};
use std::fmt;

/// A boxed error kept as a source (anything `Error + Send + Sync`; `&str` and `String`
/// convert into it too, for failures that have no error value of their own).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which piece of infrastructure failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InfraKind {
    /// Postgres (connection, query, transaction).
    Database,
    /// The Kafka broker (not acknowledged, not reachable, admin call refused).
    Broker,
    /// Another service we call (MDMS, user, workflow, idgen, a remote system).
    Dependency,
}

impl InfraKind {
    /// `database`, `broker` or `dependency` (for logs and metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            InfraKind::Database => "database",
            InfraKind::Broker => "broker",
            InfraKind::Dependency => "dependency",
        }
    }
}

impl fmt::Display for InfraKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An infrastructure failure with its source chain.
///
/// `Display` says what failed (`database: storing the offset`); the cause is the
/// [`source`](std::error::Error::source), so print the chain with [`chain`] (or anyhow's
/// `{:#}`) rather than `to_string()`.
#[derive(Debug)]
pub struct InfraError {
    kind: InfraKind,
    context: String,
    source: BoxError,
}

impl InfraError {
    /// A failure of `kind` while doing `context`, caused by `source`.
    pub fn new(kind: InfraKind, context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: source.into(),
        }
    }

    /// A database failure.
    pub fn database(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::new(InfraKind::Database, context, source)
    }

    /// A broker failure.
    pub fn broker(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::new(InfraKind::Broker, context, source)
    }

    /// A failure of the service `context` names.
    pub fn dependency(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::new(InfraKind::Dependency, context, source)
    }

    /// Which piece failed.
    pub fn kind(&self) -> InfraKind {
        self.kind
    }

    /// What was being done.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The first error of the chain that is a `T`, if any (e.g. the `sqlx::Error` behind a
    /// database failure, to read its SQLSTATE).
    pub fn find_source<T: std::error::Error + 'static>(&self) -> Option<&T> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&*self.source);
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<T>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }
}

impl fmt::Display for InfraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.context)
    }
}

impl std::error::Error for InfraError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl DigitError for InfraError {
    /// 500 for the database and the broker, 502 for a dependency (as the services'
    /// own enums answer them).
    fn http_status(&self) -> u16 {
        match self.kind {
            InfraKind::Database | InfraKind::Broker => 500,
            InfraKind::Dependency => 502,
        }
    }

    /// A generic message per kind: no SQL, host or broker detail reaches the client (the
    /// caller logs the chain).
    fn errors(&self) -> Vec<ErrorDetail> {
        let (code, message) = match self.kind {
            InfraKind::Database => (codes::QUERY_EXECUTION, "Database operation failed"),
            InfraKind::Broker => (codes::INTERNAL, "The message could not be published"),
            InfraKind::Dependency => (
                codes::RESOURCE_ACCESS,
                "A dependent service could not be reached",
            ),
        };
        vec![ErrorDetail::new(code, message)]
    }
}

/// `error: cause: cause's cause …` — the whole chain on one line, for logs and dead letters.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // Errors that repeat their source in their own text (`"x: {0}"`) are not repeated.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[derive(Debug)]
    struct Io;
    impl fmt::Display for Io {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("connection refused")
        }
    }
    impl std::error::Error for Io {}

    #[derive(Debug)]
    struct Driver(Io);
    impl fmt::Display for Driver {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("pool timed out")
        }
    }
    impl std::error::Error for Driver {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_source_chain_is_kept_and_searchable() {
        let e = InfraError::database("storing the offset", Driver(Io));
        assert_eq!(e.to_string(), "database: storing the offset");
        assert_eq!(e.kind(), InfraKind::Database);
        assert_eq!(e.source().unwrap().to_string(), "pool timed out");
        assert!(e.find_source::<Io>().is_some());
        assert!(e.find_source::<fmt::Error>().is_none());
        assert_eq!(
            chain(&e),
            "database: storing the offset: pool timed out: connection refused"
        );
    }

    #[test]
    fn plain_text_sources_and_repeated_texts() {
        let e = InfraError::dependency("calling MDMS", "HTTP 503");
        assert_eq!(chain(&e), "dependency: calling MDMS: HTTP 503");
        // An outer error that already prints its source is not repeated.
        #[derive(Debug)]
        struct Wrap(Io);
        impl fmt::Display for Wrap {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "query failed: {}", self.0)
            }
        }
        impl std::error::Error for Wrap {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(chain(&Wrap(Io)), "query failed: connection refused");
    }

    #[test]
    fn digit_rendering_per_kind() {
        let cases = [
            (InfraKind::Database, 500, codes::QUERY_EXECUTION),
            (InfraKind::Broker, 500, codes::INTERNAL),
            (InfraKind::Dependency, 502, codes::RESOURCE_ACCESS),
        ];
        for (kind, status, code) in cases {
            let e = InfraError::new(kind, "secret host db.internal", "detail");
            assert_eq!(e.http_status(), status);
            let errors = e.errors();
            assert_eq!(errors[0].code, code);
            assert!(!errors[0].message.contains("db.internal"));
        }
    }
}
