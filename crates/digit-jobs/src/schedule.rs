//! Schedules: a cron expression (UTC) or a fixed interval aligned to the epoch.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use digit_service::config::{ConfigError, Env, EnvVar};

/// When a job runs. Ticks are absolute instants that every replica computes alike.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every `interval`, at the multiples of it since the Unix epoch (so `1h` ticks on the
    /// hour on every replica).
    Interval(Duration),
    /// A cron expression evaluated in UTC: five fields (`min hour dom month dow`) or six
    /// with leading seconds.
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// Parses `30s`, `500ms`, `5m`, `2h` (an interval) or a cron expression such as
    /// `0 */15 * * * *`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(interval) = parse_interval(raw) {
            return if interval.is_zero() {
                Err("the interval must be positive".into())
            } else {
                Ok(Self::Interval(interval))
            };
        }
        croner::Cron::new(raw)
            .with_seconds_optional()
            .parse()
            .map(|c| Self::Cron(Box::new(c)))
            .map_err(|e| format!("not an interval (30s, 5m, 1h) nor a cron expression: {e}"))
    }

    /// Reads an optional schedule: empty or `off` means the job is disabled (`None`).
    pub fn from_env(env: &Env, var: &EnvVar) -> Result<Option<Self>, ConfigError> {
        let raw = env.get_or_default(var);
        if raw.trim().is_empty() || raw.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        Self::parse(&raw)
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name: var.name,
                value: raw,
            })
    }

    /// The first tick strictly after `now_ms` (epoch ms).
    pub fn next_tick(&self, now_ms: i64) -> Option<i64> {
        match self {
            Self::Interval(d) => {
                let step = i64::try_from(d.as_millis()).ok()?.max(1);
                now_ms.checked_div(step)?.checked_add(1)?.checked_mul(step)
            }
            Self::Cron(cron) => {
                let now: DateTime<Utc> = Utc.timestamp_millis_opt(now_ms).single()?;
                cron.find_next_occurrence(&now, false)
                    .ok()
                    .map(|t| t.timestamp_millis())
            }
        }
    }
}

fn parse_interval(raw: &str) -> Option<Duration> {
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_tick_on_epoch_multiples() {
        let s = Schedule::parse("5m").unwrap();
        assert!(matches!(s, Schedule::Interval(d) if d == Duration::from_secs(300)));
        assert_eq!(s.next_tick(0), Some(300_000));
        assert_eq!(s.next_tick(299_999), Some(300_000));
        assert_eq!(s.next_tick(300_000), Some(600_000));
        assert_eq!(
            Schedule::parse("250ms").unwrap().next_tick(1_000),
            Some(1_250)
        );
        assert!(Schedule::parse("0s").is_err());
    }

    #[test]
    fn cron_expressions_in_utc() {
        // 2026-01-01T10:17:00Z
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 10, 17, 0)
            .unwrap()
            .timestamp_millis();
        let hourly = Schedule::parse("0 * * * *").unwrap();
        let next = Utc
            .with_ymd_and_hms(2026, 1, 1, 11, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(hourly.next_tick(now), Some(next));
        let every_15s = Schedule::parse("*/15 * * * * *").unwrap();
        assert_eq!(every_15s.next_tick(now), Some(now + 15_000));
        assert!(Schedule::parse("every tuesday").is_err());
    }

    #[test]
    fn settings_off_empty_and_invalid() {
        const VAR: EnvVar = EnvVar {
            name: "X_SCHEDULE",
            aliases: &[],
            default: "",
            help: "",
        };
        let env = |v: &str| Env::from_pairs([("X_SCHEDULE", v)]);
        assert!(Schedule::from_env(&env(""), &VAR).unwrap().is_none());
        assert!(Schedule::from_env(&env("off"), &VAR).unwrap().is_none());
        assert!(Schedule::from_env(&env("1h"), &VAR).unwrap().is_some());
        assert!(matches!(
            Schedule::from_env(&env("soon"), &VAR),
            Err(ConfigError::Invalid {
                name: "X_SCHEDULE",
                ..
            })
        ));
    }
}
