//! Periodic jobs: work that runs on a schedule — a cron expression (UTC) or a fixed
//! interval, usually read from a setting with [`Schedule::from_env`] — on exactly one
//! replica per tick, however many replicas run the service.
//!
//! A [`JobRunner`] sleeps until the schedule's next tick (an absolute instant every replica
//! computes alike), takes a Postgres advisory lock for the job in a transaction
//! (`pg_try_advisory_xact_lock`, so a crash releases it with the connection), records the
//! tick in `digit_job_ticks` so that a replica whose timer fires a moment later does not run
//! it again, runs the [`Job`], and commits. A job's failure is logged, counted
//! (`job_runs_total{outcome="failed"}`) and stored as `last_error`; the next tick runs as
//! usual. The runner is meant to run as a supervised worker (digit-runtime).
//!
//! The table lives in `migrations/jobs/` ([`JOBS_MIGRATOR`]).

mod runner;
mod schedule;

pub use runner::{BoxError, Job, JobError, JobMetrics, JobRunner, Tick, TickOutcome};
pub use schedule::Schedule;

/// The job tick table (`migrations/jobs/`).
pub static JOBS_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/jobs");

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
