//! The client's settings, read through the `EnvVar` table printed by `--help`.

use digit_service::config::{ConfigError, Env, EnvVar};
use std::time::Duration;

/// Connect timeout.
pub const CONNECT_TIMEOUT: EnvVar = EnvVar {
    name: "HTTP_CLIENT_CONNECT_TIMEOUT_MS",
    aliases: &[],
    default: "3000",
    help: "Outbound HTTP (MDMS, user, workflow, localization …): how long opening a connection may take",
};
/// Request timeout (one attempt).
pub const REQUEST_TIMEOUT: EnvVar = EnvVar {
    name: "HTTP_CLIENT_TIMEOUT_MS",
    aliases: &[],
    default: "15000",
    help: "Outbound HTTP: how long one attempt may take, connect to last byte of the answer",
};
/// Retries of safe calls.
pub const RETRIES: EnvVar = EnvVar {
    name: "HTTP_CLIENT_RETRIES",
    aliases: &[],
    default: "2",
    help: "Outbound HTTP: extra attempts of an idempotent call (searches) after a timeout, a reset or HTTP 502/503/504; writes are retried only when the connection could not be opened",
};
/// Backoff before the first retry.
pub const RETRY_BACKOFF: EnvVar = EnvVar {
    name: "HTTP_CLIENT_RETRY_BACKOFF_MS",
    aliases: &[],
    default: "200",
    help: "Outbound HTTP: wait before the first retry; doubles with each further one",
};

/// Every variable of the client, for `--help`.
pub const HTTP_VARS: &[EnvVar] = &[CONNECT_TIMEOUT, REQUEST_TIMEOUT, RETRIES, RETRY_BACKOFF];

/// How every outbound client behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Bound on opening a connection.
    pub connect_timeout: Duration,
    /// Bound on one attempt (connect, send, whole answer).
    pub request_timeout: Duration,
    /// Extra attempts allowed (see [`crate::Retry`]).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_millis(3000),
            request_timeout: Duration::from_millis(15000),
            retries: 2,
            retry_backoff: Duration::from_millis(200),
            user_agent: concat!("digit-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpSettings {
    /// Reads [`HTTP_VARS`].
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ms = |var: &EnvVar| env.parse::<u64>(var).map(Duration::from_millis);
        Ok(Self {
            connect_timeout: ms(&CONNECT_TIMEOUT)?,
            request_timeout: ms(&REQUEST_TIMEOUT)?,
            retries: env.parse(&RETRIES)?,
            retry_backoff: ms(&RETRY_BACKOFF)?,
            ..Self::default()
        })
    }

    /// The wait before retry number `retry` (1-based): backoff × 2^(retry−1), at most 30 s.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        self.retry_backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_match_the_table_and_values_are_read() {
        let none = Env::from_pairs::<[(&str, &str); 0], _, _>([]);
        let s = HttpSettings::from_env(&none).unwrap();
        assert_eq!(
            HttpSettings {
                user_agent: String::new(),
                ..s
            },
            HttpSettings {
                user_agent: String::new(),
                ..HttpSettings::default()
            }
        );
        let env = Env::from_pairs([
            ("HTTP_CLIENT_CONNECT_TIMEOUT_MS", "100"),
            ("HTTP_CLIENT_TIMEOUT_MS", "250"),
            ("HTTP_CLIENT_RETRIES", "0"),
            ("HTTP_CLIENT_RETRY_BACKOFF_MS", "5"),
        ]);
        let s = HttpSettings::from_env(&env).unwrap();
        assert_eq!(s.connect_timeout, Duration::from_millis(100));
        assert_eq!(s.request_timeout, Duration::from_millis(250));
        assert_eq!(s.retries, 0);
        assert_eq!(s.backoff(1), Duration::from_millis(5));
        assert_eq!(s.backoff(3), Duration::from_millis(20));
        let bad = Env::from_pairs([("HTTP_CLIENT_TIMEOUT_MS", "soon")]);
        assert!(matches!(
            HttpSettings::from_env(&bad),
            Err(ConfigError::Invalid {
                name: "HTTP_CLIENT_TIMEOUT_MS",
                ..
            })
        ));
    }

    #[test]
    fn backoff_is_bounded() {
        let s = HttpSettings {
            retry_backoff: Duration::from_secs(10),
            ..HttpSettings::default()
        };
        assert_eq!(s.backoff(40), Duration::from_secs(30));
    }
}
