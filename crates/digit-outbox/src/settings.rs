//! Relay settings from the environment (`OUTBOX_*`), declared once for `--help`.

use std::time::Duration;

use digit_service::config::{ConfigError, Env, EnvVar};

/// How often an idle relay looks for due rows.
pub const OUTBOX_POLL_INTERVAL_MS: EnvVar = EnvVar {
    name: "OUTBOX_POLL_INTERVAL_MS",
    aliases: &[],
    default: "500",
    help: "Outbox relay: pause between polls when no row was due",
};
/// Rows claimed per poll.
pub const OUTBOX_BATCH_SIZE: EnvVar = EnvVar {
    name: "OUTBOX_BATCH_SIZE",
    aliases: &[],
    default: "100",
    help: "Outbox relay: rows claimed and delivered per poll",
};
/// Attempts before a row is dead.
pub const OUTBOX_MAX_ATTEMPTS: EnvVar = EnvVar {
    name: "OUTBOX_MAX_ATTEMPTS",
    aliases: &[],
    default: "10",
    help: "Outbox relay: failed deliveries after which a row is marked dead (metric outbox_dead_total, error log)",
};
/// First retry delay.
pub const OUTBOX_BACKOFF_BASE_MS: EnvVar = EnvVar {
    name: "OUTBOX_BACKOFF_BASE_MS",
    aliases: &[],
    default: "1000",
    help: "Outbox relay: delay before the first retry; doubles per failed attempt",
};
/// Retry delay cap.
pub const OUTBOX_BACKOFF_MAX_MS: EnvVar = EnvVar {
    name: "OUTBOX_BACKOFF_MAX_MS",
    aliases: &[],
    default: "300000",
    help: "Outbox relay: upper bound of the retry delay",
};
/// HTTP request timeout.
pub const OUTBOX_HTTP_TIMEOUT_MS: EnvVar = EnvVar {
    name: "OUTBOX_HTTP_TIMEOUT_MS",
    aliases: &[],
    default: "10000",
    help: "Outbox relay: whole-request timeout of an HTTP delivery",
};
/// HTTP connect timeout.
pub const OUTBOX_HTTP_CONNECT_TIMEOUT_MS: EnvVar = EnvVar {
    name: "OUTBOX_HTTP_CONNECT_TIMEOUT_MS",
    aliases: &[],
    default: "3000",
    help: "Outbox relay: TCP/TLS connect timeout of an HTTP delivery",
};

/// Every variable the relay reads (for a service's `ServiceInfo::env`).
pub const OUTBOX_VARS: &[EnvVar] = &[
    OUTBOX_POLL_INTERVAL_MS,
    OUTBOX_BATCH_SIZE,
    OUTBOX_MAX_ATTEMPTS,
    OUTBOX_BACKOFF_BASE_MS,
    OUTBOX_BACKOFF_MAX_MS,
    OUTBOX_HTTP_TIMEOUT_MS,
    OUTBOX_HTTP_CONNECT_TIMEOUT_MS,
];

/// The relay's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSettings {
    /// Pause between polls when nothing was due.
    pub poll_interval: Duration,
    /// Rows claimed per poll (at least 1).
    pub batch_size: u32,
    /// Failed attempts after which a row is `dead` (at least 1).
    pub max_attempts: u32,
    /// Delay after the first failed attempt; doubled per further failure.
    pub backoff_base: Duration,
    /// Upper bound of the retry delay.
    pub backoff_max: Duration,
    /// Whole-request timeout of an HTTP delivery.
    pub http_timeout: Duration,
    /// Connect timeout of an HTTP delivery.
    pub http_connect_timeout: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            batch_size: 100,
            max_attempts: 10,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            http_timeout: Duration::from_secs(10),
            http_connect_timeout: Duration::from_secs(3),
        }
    }
}

impl OutboxSettings {
    /// Reads the `OUTBOX_*` variables; an unparseable value is an error.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let ms = |var: &EnvVar| env.parse::<u64>(var).map(Duration::from_millis);
        Ok(Self {
            poll_interval: ms(&OUTBOX_POLL_INTERVAL_MS)?,
            batch_size: env.parse::<u32>(&OUTBOX_BATCH_SIZE)?.clamp(1, 10_000),
            max_attempts: env.parse::<u32>(&OUTBOX_MAX_ATTEMPTS)?.max(1),
            backoff_base: ms(&OUTBOX_BACKOFF_BASE_MS)?,
            backoff_max: ms(&OUTBOX_BACKOFF_MAX_MS)?,
            http_timeout: ms(&OUTBOX_HTTP_TIMEOUT_MS)?,
            http_connect_timeout: ms(&OUTBOX_HTTP_CONNECT_TIMEOUT_MS)?,
        })
    }

    /// The delay after failed attempt number `attempts` (1 for the first failure):
    /// `base * 2^(attempts-1)`, capped at `backoff_max`.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1);
        2u32.checked_pow(exponent)
            .and_then(|factor| self.backoff_base.checked_mul(factor))
            .map_or(self.backoff_max, |d| d.min(self.backoff_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let empty = Env::from_pairs::<[(&str, &str); 0], _, _>([]);
        assert_eq!(
            OutboxSettings::from_env(&empty).unwrap(),
            OutboxSettings::default()
        );
        let env = Env::from_pairs([("OUTBOX_BATCH_SIZE", "7"), ("OUTBOX_MAX_ATTEMPTS", "0")]);
        let s = OutboxSettings::from_env(&env).unwrap();
        assert_eq!((s.batch_size, s.max_attempts), (7, 1));
        let bad = Env::from_pairs([("OUTBOX_POLL_INTERVAL_MS", "soon")]);
        assert!(matches!(
            OutboxSettings::from_env(&bad),
            Err(ConfigError::Invalid {
                name: "OUTBOX_POLL_INTERVAL_MS",
                ..
            })
        ));
    }

    #[test]
    fn retry_delay_doubles_and_caps() {
        let s = OutboxSettings {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            ..OutboxSettings::default()
        };
        let delays: Vec<u128> = (1..=5).map(|n| s.retry_delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(s.retry_delay(u32::MAX), Duration::from_millis(500));
    }
}
