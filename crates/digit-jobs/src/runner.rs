//! The runner: sleeps until the next tick, then runs the job if this replica wins the tick.

use std::sync::Arc;

use async_trait::async_trait;
use digit_service::Shutdown;
use prometheus::{IntCounterVec, Opts};
use sqlx::PgPool;

use crate::{now_ms, Schedule};

/// The error a job returns (any error type, its source chain kept).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Advisory-lock class of job locks (the first key of the two-key form; `'jobs'` in ASCII).
const LOCK_CLASS: i32 = 0x6a6f_6273;

/// One tick of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The scheduled instant (epoch ms), identical on every replica.
    pub at_ms: i64,
}

/// Periodic work.
#[async_trait]
pub trait Job: Send + Sync {
    /// Does one tick's work. An error is logged, counted and stored as the tick's
    /// `last_error`; the next tick runs as scheduled.
    async fn run(&self, tick: Tick) -> Result<(), BoxError>;
}

/// What happened to one tick on this replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickOutcome {
    /// This replica ran the job (successfully or not: see the metrics and `last_error`).
    Ran {
        /// Whether the job returned `Ok`.
        ok: bool,
    },
    /// Another replica holds the job's advisory lock (it is running the job now).
    Locked,
    /// The tick was already run (by another replica whose timer fired first).
    AlreadyRun,
}

/// Failures of the runner itself (not of the job).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A database statement failed.
    #[error("job runner database operation failed")]
    Database(#[from] sqlx::Error),
    /// The schedule has no further tick.
    #[error("schedule of job {0} has no next tick")]
    NoNextTick(String),
}

/// The runner's counters, labelled by `job`.
#[derive(Clone, Debug)]
pub struct JobMetrics {
    /// `job_runs_total{job,outcome}`: `ok`, `failed`, `locked`, `already_run`.
    pub runs: IntCounterVec,
}

impl JobMetrics {
    /// The counters, registered in the service's registry.
    pub fn new(metrics: &digit_service::Metrics) -> Result<Self, prometheus::Error> {
        let runs = IntCounterVec::new(
            Opts::new("job_runs_total", "Periodic job ticks by outcome"),
            &["job", "outcome"],
        )?;
        metrics.register(Box::new(runs.clone()));
        Ok(Self { runs })
    }
}

/// Runs one job on its schedule, on exactly one replica per tick.
///
/// At each tick the runner opens a transaction on its own pooled connection and takes
/// `pg_try_advisory_xact_lock('jobs', hashtext(name))`. Losing the lock means another
/// replica is running the job: the tick is skipped. Winning it, the runner advances
/// `digit_job_ticks.last_tick` to this tick — unless the tick was already run, by a replica
/// whose timer fired a moment earlier and finished — then runs the job while holding the
/// lock, and commits (which releases it; so does a crash, as the connection closes).
/// Ticks missed while a run lasted longer than the interval are skipped, not queued.
#[derive(Clone)]
pub struct JobRunner {
    pool: PgPool,
    name: String,
    schedule: Schedule,
    job: Arc<dyn Job>,
    metrics: Option<JobMetrics>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("name", &self.name)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner for `job` named `name` (the lock and tick-table key: unique per job).
    pub fn new(
        pool: PgPool,
        name: impl Into<String>,
        schedule: Schedule,
        job: Arc<dyn Job>,
    ) -> Self {
        Self {
            pool,
            name: name.into(),
            schedule,
            job,
            metrics: None,
        }
    }

    /// Counts ticks in `metrics`.
    pub fn with_metrics(mut self, metrics: JobMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs ticks until `shutdown` fires (a run in progress is finished first). A database
    /// error ends the loop with the error, for the supervisor to restart it.
    pub async fn run(&self, shutdown: Shutdown) -> Result<(), JobError> {
        while !shutdown.is_triggered() {
            let now = now_ms();
            let tick = self
                .schedule
                .next_tick(now)
                .ok_or_else(|| JobError::NoNextTick(self.name.clone()))?;
            let wait = std::time::Duration::from_millis(u64::try_from(tick - now).unwrap_or(0));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait() => break,
            }
            self.run_tick(Tick { at_ms: tick }).await?;
        }
        Ok(())
    }

    /// Tries to run `tick` now on this replica.
    pub async fn run_tick(&self, tick: Tick) -> Result<TickOutcome, JobError> {
        let mut tx = self.pool.begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(&self.name)
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            tx.rollback().await?;
            return Ok(self.count(TickOutcome::Locked));
        }
        let claimed = sqlx::query(
            "INSERT INTO digit_job_ticks (job, last_tick, started_at) VALUES ($1, $2, $3)
             ON CONFLICT (job) DO UPDATE
                SET last_tick = EXCLUDED.last_tick, started_at = EXCLUDED.started_at,
                    finished_at = NULL, last_error = NULL
              WHERE digit_job_ticks.last_tick < EXCLUDED.last_tick",
        )
        .bind(&self.name)
        .bind(tick.at_ms)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(self.count(TickOutcome::AlreadyRun));
        }
        let result = self.job.run(tick).await;
        let error = result
            .as_ref()
            .err()
            .map(|e| digit_core::infra::chain(e.as_ref()));
        if let Some(error) = &error {
            tracing::error!(job = %self.name, tick = tick.at_ms, error = %error, "Periodic job failed.");
        } else {
            tracing::info!(job = %self.name, tick = tick.at_ms, "Periodic job ran.");
        }
        sqlx::query("UPDATE digit_job_ticks SET finished_at = $2, last_error = $3 WHERE job = $1")
            .bind(&self.name)
            .bind(now_ms())
            .bind(&error)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(self.count(TickOutcome::Ran {
            ok: error.is_none(),
        }))
    }

    fn count(&self, outcome: TickOutcome) -> TickOutcome {
        if let Some(m) = &self.metrics {
            let label = match outcome {
                TickOutcome::Ran { ok: true } => "ok",
                TickOutcome::Ran { ok: false } => "failed",
                TickOutcome::Locked => "locked",
                TickOutcome::AlreadyRun => "already_run",
            };
            m.runs.with_label_values(&[&self.name, label]).inc();
        }
        outcome
    }
}
