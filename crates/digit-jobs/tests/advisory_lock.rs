//! The advisory-lock test: three runners of one job on one database (three "replicas"),
//! several ticks, exactly one execution per tick — counted in a table keyed by tick.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use digit_jobs::{
    BoxError, Job, JobMetrics, JobRunner, Schedule, Tick, TickOutcome, JOBS_MIGRATOR,
};
use digit_service::{Metrics, Shutdown};
use digit_store::TestDb;
use sqlx::PgPool;

const TICKS: i64 = 6;

/// Records (tick, runner) and takes a while, so the replicas' timers overlap the run.
struct Record {
    pool: PgPool,
    runner: &'static str,
}

#[async_trait]
impl Job for Record {
    async fn run(&self, tick: Tick) -> Result<(), BoxError> {
        sqlx::query("INSERT INTO executions (tick, runner) VALUES ($1, $2)")
            .bind(tick.at_ms)
            .bind(self.runner)
            .execute(&self.pool)
            .await?;
        tokio::time::sleep(Duration::from_millis(60)).await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn three_runners_one_execution_per_tick() {
    let db = TestDb::migrated(&[&JOBS_MIGRATOR]).await.unwrap();
    // Keyed by tick but without a unique constraint: a second execution would show.
    sqlx::query("CREATE TABLE executions (tick BIGINT NOT NULL, runner TEXT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    let metrics = Metrics::new("jobs-test");
    let job_metrics = JobMetrics::new(&metrics).unwrap();
    let shutdown = Shutdown::new();
    let mut handles = Vec::new();
    for runner in ["a", "b", "c"] {
        // Each replica has its own pool, as separate processes would.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(db.connect_options())
            .await
            .unwrap();
        let job = Arc::new(Record {
            pool: pool.clone(),
            runner,
        });
        let r = JobRunner::new(pool, "record", Schedule::parse("200ms").unwrap(), job)
            .with_metrics(job_metrics.clone());
        let stop = shutdown.clone();
        handles.push(tokio::spawn(async move { r.run(stop).await }));
    }
    // Counts a tick outcome in the metrics text (0 before the first).
    let count = |text: &str, outcome: &str| -> i64 {
        text.lines()
            .find(|l| {
                l.starts_with("job_runs_total") && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .map_or(0, |v| v.parse().unwrap())
    };
    // Wait for TICKS executed ticks *and* for every replica to have decided that many ticks:
    // the winner's row appears before the losers have tried the lock, so stopping at the
    // row alone would cut the last tick's skips short.
    let started = Instant::now();
    loop {
        let ticks: i64 = sqlx::query_scalar("SELECT count(DISTINCT tick) FROM executions")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let text = metrics.render();
        let decided = count(&text, "ok") + count(&text, "locked") + count(&text, "already_run");
        if ticks >= TICKS && decided >= 3 * TICKS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {ticks} ticks ran, {decided} decisions: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.trigger();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let per_tick: Vec<(i64, i64)> =
        sqlx::query_as("SELECT tick, count(*) FROM executions GROUP BY tick ORDER BY tick")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert!(per_tick.len() >= usize::try_from(TICKS).unwrap());
    assert!(per_tick.iter().all(|(_, n)| *n == 1), "{per_tick:?}");
    // The ticks are the schedule's: multiples of 200 ms.
    assert!(per_tick.iter().all(|(t, _)| t % 200 == 0), "{per_tick:?}");
    // Every execution is one `ok`; every other decision was a skip of a tick another replica
    // ran or was running (a replica whose timer fires late may miss a tick, never rerun it).
    let text = metrics.render();
    let executions: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count(&text, "ok"), executions, "{text}");
    assert_eq!(count(&text, "failed"), 0, "{text}");
    assert!(
        count(&text, "locked") + count(&text, "already_run") >= 2 * (TICKS - 1),
        "{text}"
    );
    db.cleanup().await.unwrap();
}

struct Fails;

#[async_trait]
impl Job for Fails {
    async fn run(&self, _tick: Tick) -> Result<(), BoxError> {
        Err("the remote system is down".into())
    }
}

#[tokio::test]
async fn a_tick_runs_once_and_a_failing_job_is_recorded_and_counted() {
    let db = TestDb::migrated(&[&JOBS_MIGRATOR]).await.unwrap();
    let metrics = Metrics::new("jobs-test");
    let runner = JobRunner::new(
        db.pool().clone(),
        "fails",
        Schedule::parse("1h").unwrap(),
        Arc::new(Fails),
    )
    .with_metrics(JobMetrics::new(&metrics).unwrap());
    let tick = Tick { at_ms: 3_600_000 };
    assert_eq!(
        runner.run_tick(tick).await.unwrap(),
        TickOutcome::Ran { ok: false }
    );
    assert_eq!(
        runner.run_tick(tick).await.unwrap(),
        TickOutcome::AlreadyRun
    );
    let (last, error): (i64, Option<String>) =
        sqlx::query_as("SELECT last_tick, last_error FROM digit_job_ticks WHERE job = 'fails'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (last, error.as_deref()),
        (3_600_000, Some("the remote system is down"))
    );

    // While one replica holds the job's lock, another skips the tick.
    let mut holder = db.pool().begin().await.unwrap();
    let held: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(1785684595, hashtext('fails'))")
            .fetch_one(&mut *holder)
            .await
            .unwrap();
    assert!(held);
    assert_eq!(
        runner.run_tick(Tick { at_ms: 7_200_000 }).await.unwrap(),
        TickOutcome::Locked
    );
    holder.rollback().await.unwrap();
    assert_eq!(
        runner.run_tick(Tick { at_ms: 7_200_000 }).await.unwrap(),
        TickOutcome::Ran { ok: false }
    );
    let text = metrics.render();
    assert!(
        text.contains(r#"job_runs_total{job="fails",outcome="failed",service="jobs-test"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"job_runs_total{job="fails",outcome="locked",service="jobs-test"} 1"#),
        "{text}"
    );
    db.cleanup().await.unwrap();
}
