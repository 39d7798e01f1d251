//! Supervised background workers: consumers, outbox relays, periodic jobs.
//!
//! A service registers workers on [`Platform::workers`](crate::Platform) while it builds its
//! routes; the runtime starts them once the routes are built, and for each worker:
//! * a crash (an `Err`, a panic, or returning while the service is not shutting down) is
//!   logged and counted (`worker_crashes_total{worker}`), then handled by its [`OnCrash`]
//!   policy: restart after a capped exponential backoff, or fail the process (the service
//!   shuts down and exits non-zero);
//! * SIGTERM triggers the shared [`Shutdown`]; workers are expected to return promptly, and
//!   the runtime waits for them at most the shutdown timeout before aborting the rest;
//! * its state is reported by readiness (`worker:<name>` checks): ready only while running.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use digit_kafka::Backoff;
use digit_service::readiness::{CheckOutcome, ReadinessCheck};
use digit_service::Shutdown;
use futures::future::BoxFuture;
use prometheus::{IntCounterVec, Opts};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Any error a worker returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What to do when a worker crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCrash {
    /// Start it again after `backoff.delay(n)` for the n-th consecutive crash (the count
    /// resets once a run lasted longer than `backoff.max`).
    Restart(Backoff),
    /// Shut the service down and exit non-zero (for workers the service is useless
    /// without, e.g. the persister's consumer).
    FailProcess,
}

impl Default for OnCrash {
    /// Restart after 1 s, 2 s, 4 s … at most 60 s.
    fn default() -> Self {
        Self::Restart(Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(60),
        ))
    }
}

/// A worker's current state, as readiness reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerState {
    /// Registered, not started yet.
    Registered,
    /// Running.
    Running,
    /// Crashed; waiting for its backoff before the next start.
    Restarting {
        /// Crashes since the last healthy run.
        crashes: u32,
        /// The last crash's error.
        error: String,
    },
    /// Crashed under [`OnCrash::FailProcess`].
    Failed {
        /// The crash's error.
        error: String,
    },
    /// Stopped by shutdown.
    Stopped,
}

type StartFn = Arc<dyn Fn(Shutdown) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

struct Spec {
    name: String,
    policy: OnCrash,
    start: StartFn,
}

#[derive(Default)]
struct Inner {
    specs: Mutex<Vec<Spec>>,
    states: Mutex<BTreeMap<String, WorkerState>>,
    crashes: Mutex<Option<IntCounterVec>>,
}

/// The registry of a service's workers. Cheap to clone; clones share the registry.
#[derive(Clone)]
pub struct Workers {
    inner: Arc<Inner>,
    fatal: Arc<watch::Sender<Option<String>>>,
}

impl Default for Workers {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            fatal: Arc::new(watch::channel(None).0),
        }
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.states()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a thread panicked while holding it; the data (states)
    // stays meaningful.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Workers {
    /// Registers a worker. `start` is called for each (re)start with the shutdown signal
    /// and must return when it fires. Names must be unique (they name the readiness check
    /// `worker:<name>` and the metric label).
    pub fn register<F, Fut, E>(&self, name: impl Into<String>, policy: OnCrash, start: F)
    where
        F: Fn(Shutdown) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let name = name.into();
        let start: StartFn = Arc::new(move |shutdown| {
            let fut = start(shutdown);
            Box::pin(async move { fut.await.map_err(Into::into) })
        });
        lock(&self.inner.states).insert(name.clone(), WorkerState::Registered);
        lock(&self.inner.specs).push(Spec {
            name,
            policy,
            start,
        });
    }

    /// Counts crashes in `metrics` (`worker_crashes_total{worker}`).
    pub fn instrument(&self, metrics: &digit_service::Metrics) {
        let counter = IntCounterVec::new(
            Opts::new("worker_crashes_total", "Background worker crashes"),
            &["worker"],
        );
        match counter {
            Ok(c) => {
                metrics.register(Box::new(c.clone()));
                *lock(&self.inner.crashes) = Some(c);
            }
            Err(e) => tracing::warn!(error = %e, "Worker metric not created."),
        }
    }

    /// Every worker's state, by name.
    pub fn states(&self) -> BTreeMap<String, WorkerState> {
        lock(&self.inner.states).clone()
    }

    /// Starts every registered worker (each in its own task).
    pub fn start(&self, shutdown: &Shutdown) -> RunningWorkers {
        let specs: Vec<Spec> = std::mem::take(&mut *lock(&self.inner.specs));
        let handles = specs
            .into_iter()
            .map(|spec| {
                let this = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { this.supervise(spec, shutdown).await })
            })
            .collect();
        RunningWorkers { handles }
    }

    /// Completes with the error of the first worker that crashed under
    /// [`OnCrash::FailProcess`].
    pub async fn fatal(&self) -> String {
        let mut rx = self.fatal.subscribe();
        loop {
            if let Some(e) = rx.borrow_and_update().clone() {
                return e;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    fn set(&self, name: &str, state: WorkerState) {
        lock(&self.inner.states).insert(name.to_owned(), state);
    }

    async fn supervise(&self, spec: Spec, shutdown: Shutdown) {
        let mut crashes: u32 = 0;
        loop {
            self.set(&spec.name, WorkerState::Running);
            tracing::info!(worker = %spec.name, "Worker started.");
            let started = Instant::now();
            // Its own task, so that a panic is caught as a JoinError.
            let result = tokio::spawn((spec.start)(shutdown.clone())).await;
            if shutdown.is_triggered() {
                match &result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(worker = %spec.name, error = %digit_core::infra::chain(e.as_ref()), "Worker ended with an error during shutdown.")
                    }
                    Err(join) => {
                        tracing::warn!(worker = %spec.name, error = %join, "Worker task failed during shutdown.")
                    }
                }
                self.set(&spec.name, WorkerState::Stopped);
                tracing::info!(worker = %spec.name, "Worker stopped.");
                return;
            }
            let error = match result {
                Ok(Ok(())) => "returned while the service was not shutting down".to_owned(),
                Ok(Err(e)) => digit_core::infra::chain(e.as_ref()),
                Err(join) if join.is_panic() => format!("panicked: {join}"),
                Err(join) => format!("task failed: {join}"),
            };
            if let Some(c) = lock(&self.inner.crashes).as_ref() {
                c.with_label_values(&[&spec.name]).inc();
            }
            match spec.policy {
                OnCrash::FailProcess => {
                    tracing::error!(worker = %spec.name, error = %error, "Worker crashed; failing the process.");
                    self.set(
                        &spec.name,
                        WorkerState::Failed {
                            error: error.clone(),
                        },
                    );
                    let _ = self
                        .fatal
                        .send(Some(format!("worker {} crashed: {error}", spec.name)));
                    return;
                }
                OnCrash::Restart(backoff) => {
                    if started.elapsed() > backoff.max {
                        crashes = 0;
                    }
                    let delay = backoff.delay(crashes);
                    crashes = crashes.saturating_add(1);
                    tracing::error!(worker = %spec.name, error = %error, crashes, delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), "Worker crashed; restarting after backoff.");
                    self.set(&spec.name, WorkerState::Restarting { crashes, error });
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.wait() => {
                            self.set(&spec.name, WorkerState::Stopped);
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The started workers, to be stopped on shutdown.
#[derive(Debug)]
pub struct RunningWorkers {
    handles: Vec<JoinHandle<()>>,
}

impl RunningWorkers {
    /// Waits for every worker to return (the shutdown signal must have fired), at most
    /// `grace`; workers still running then are aborted and logged.
    pub async fn stop(self, grace: Duration) {
        let aborts: Vec<_> = self.handles.iter().map(JoinHandle::abort_handle).collect();
        let all = futures::future::join_all(self.handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("Workers did not stop within the shutdown timeout; aborting them.");
            for a in aborts {
                a.abort();
            }
        }
    }
}

/// Readiness: one `worker:<name>` outcome per worker, up only while running.
#[async_trait]
impl ReadinessCheck for Workers {
    fn name(&self) -> &str {
        "workers"
    }

    async fn check(&self) -> Vec<CheckOutcome> {
        self.states()
            .into_iter()
            .map(|(name, state)| {
                let name = format!("worker:{name}");
                match state {
                    WorkerState::Running => CheckOutcome::up(name),
                    WorkerState::Registered => CheckOutcome::down(name, "not started"),
                    WorkerState::Stopped => CheckOutcome::down(name, "stopped"),
                    WorkerState::Restarting { crashes, error } => CheckOutcome::down(
                        name,
                        format!("crashed ({crashes} in a row), restarting: {error}"),
                    ),
                    WorkerState::Failed { error } => {
                        CheckOutcome::down(name, format!("crashed: {error}"))
                    }
                }
            })
            .collect()
    }
}
