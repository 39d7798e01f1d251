//! Exponential backoff for retrying transient failures.

use std::time::Duration;

/// Capped exponential backoff: attempt `n` (0-based) waits `initial * 2^n`, at most `max`.
///
/// The default schedule is 100 ms, 200 ms, 400 ms, … 6.4 s, then 10 s for every further
/// attempt. There is no jitter: a consumer retries one message at a time, so there is no
/// herd to spread out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Upper bound for any delay.
    pub max: Duration,
}

impl Backoff {
    /// A schedule starting at `initial` and capped at `max`.
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max }
    }

    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        2u32.checked_pow(attempt)
            .and_then(|factor| self.initial.checked_mul(factor))
            .map_or(self.max, |delay| delay.min(self.max))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_doubles_then_caps() {
        let backoff = Backoff::default();
        let millis: Vec<u128> = (0..10).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(
            millis,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(31), Duration::from_secs(10));
        assert_eq!(backoff.delay(32), Duration::from_secs(10));
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(10));
        let big = Backoff::new(Duration::MAX, Duration::MAX);
        assert_eq!(big.delay(1), Duration::MAX);
    }

    #[test]
    fn custom_schedule() {
        let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(25));
        assert_eq!(backoff.delay(0), Duration::from_millis(10));
        assert_eq!(backoff.delay(1), Duration::from_millis(20));
        assert_eq!(backoff.delay(2), Duration::from_millis(25));
    }
}
