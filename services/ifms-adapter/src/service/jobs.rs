//! When the pollers run: an internal scheduler (one `digit-jobs` runner per service id, on
//! a configurable schedule, one replica per tick by a Postgres advisory lock) and
//! upstream's cron contract `POST /_scheduler?serviceId=…` (A1.11), which runs the same
//! runner's tick at once — so an external CronJob, the internal timer and several replicas
//! never poll a PI twice at the same time.

use crate::service::AdapterService;
use async_trait::async_trait;
use digit_jit::ServiceId;
use digit_jobs::{BoxError, Job, JobRunner, Schedule, Tick, TickOutcome};
use digit_service::config::{ConfigError, Env, EnvVar};

macro_rules! schedule_var {
    ($name:ident, $env:literal, $default:literal, $what:literal) => {
        /// Schedule of one poller.
        pub const $name: EnvVar = EnvVar {
            name: $env,
            aliases: &[],
            default: $default,
            help: concat!(
                "When ",
                $what,
                " runs: cron (UTC, 5 or 6 fields) or an interval such as 10m; off disables it"
            ),
        };
    };
}

schedule_var!(
    VA_SCHEDULE,
    "IFMS_SCHEDULE_VA",
    "0 8 * * *",
    "VA (allotments)"
);
schedule_var!(
    PIS_SCHEDULE,
    "IFMS_SCHEDULE_PIS",
    "0 9 * * *",
    "PIS (approval, and re-posts)"
);
schedule_var!(
    PAG_SCHEDULE,
    "IFMS_SCHEDULE_PAG",
    "0 10 * * *",
    "PAG (payment advice)"
);
schedule_var!(
    PD_SCHEDULE,
    "IFMS_SCHEDULE_PD",
    "0 11 * * *",
    "PD (payments)"
);
schedule_var!(
    FD_SCHEDULE,
    "IFMS_SCHEDULE_FD",
    "0 12 * * *",
    "FD (failures)"
);
schedule_var!(
    FTPS_SCHEDULE,
    "IFMS_SCHEDULE_FTPS",
    "30 11 * * *",
    "FTPS (correction payments)"
);
schedule_var!(
    PA_SCHEDULE,
    "IFMS_SCHEDULE_PA",
    "0 7 * * *",
    "PA (payments for approved bills)"
);
schedule_var!(
    FTFPS_SCHEDULE,
    "IFMS_SCHEDULE_FTFPS",
    "30 12 * * *",
    "FTFPS (correction failures)"
);

/// The schedule settings.
pub const JOB_VARS: &[EnvVar] = &[
    PA_SCHEDULE,
    VA_SCHEDULE,
    PIS_SCHEDULE,
    PAG_SCHEDULE,
    PD_SCHEDULE,
    FD_SCHEDULE,
    FTPS_SCHEDULE,
    FTFPS_SCHEDULE,
];

/// The pollers a scheduler runs, with their settings.
pub const POLLERS: [(ServiceId, EnvVar); 8] = [
    (ServiceId::PA, PA_SCHEDULE),
    (ServiceId::VA, VA_SCHEDULE),
    (ServiceId::PIS, PIS_SCHEDULE),
    (ServiceId::PAG, PAG_SCHEDULE),
    (ServiceId::PD, PD_SCHEDULE),
    (ServiceId::FD, FD_SCHEDULE),
    (ServiceId::FTPS, FTPS_SCHEDULE),
    (ServiceId::FTFPS, FTFPS_SCHEDULE),
];

/// One poller as a job.
pub struct PollerJob {
    service: AdapterService,
    which: ServiceId,
}

#[async_trait]
impl Job for PollerJob {
    async fn run(&self, _tick: Tick) -> Result<(), BoxError> {
        self.service
            .run_poller(self.which)
            .await
            .map_err(|e| Box::new(e) as BoxError)
    }
}

impl AdapterService {
    /// Runs one poller now (without the lock: use [`Scheduler::run_now`]).
    pub async fn run_poller(&self, which: ServiceId) -> Result<(), crate::error::IfmsError> {
        match which {
            ServiceId::VA => self.run_va().await.map(|_| ()),
            ServiceId::PIS => self.run_pis().await.map(|_| ()),
            ServiceId::PAG => self.run_pag().await.map(|_| ()),
            ServiceId::PD => self.run_pd().await.map(|_| ()),
            ServiceId::FD => self.run_fd().await.map(|_| ()),
            ServiceId::FTPS => self.run_ftps().await.map(|_| ()),
            ServiceId::FTFPS => self.run_ftfps().await.map(|_| ()),
            ServiceId::PA => self.run_pa().await.map(|_| ()),
            // PI and COR are accepted and do nothing (upstream).
            ServiceId::PI | ServiceId::COR => Ok(()),
        }
    }
}

/// A runner per poller.
#[derive(Clone)]
pub struct Scheduler {
    runners: Vec<(ServiceId, JobRunner, Option<Schedule>)>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.runners.iter().map(|(_, r, _)| r.name()).collect();
        f.debug_struct("Scheduler")
            .field("runners", &names)
            .finish()
    }
}

impl Scheduler {
    /// Runners for every poller of `service`; a disabled schedule still allows
    /// `/_scheduler` calls.
    pub fn new(
        service: &AdapterService,
        env: &Env,
        metrics: Option<digit_jobs::JobMetrics>,
    ) -> Result<Self, ConfigError> {
        let mut runners = Vec::new();
        for (which, var) in POLLERS {
            let schedule = Schedule::from_env(env, &var)?;
            let job = PollerJob {
                service: service.clone(),
                which,
            };
            // The schedule only matters to the timer loop; a placeholder otherwise.
            let timer = schedule
                .clone()
                .unwrap_or(Schedule::Interval(std::time::Duration::from_secs(86_400)));
            let mut runner = JobRunner::new(
                service.pool.clone(),
                format!("ifms-{}", which.as_str().to_ascii_lowercase()),
                timer,
                std::sync::Arc::new(job),
            );
            if let Some(m) = &metrics {
                runner = runner.with_metrics(m.clone());
            }
            runners.push((which, runner, schedule));
        }
        Ok(Self { runners })
    }

    /// The runners whose schedule is on (for the supervisor).
    pub fn timed(&self) -> impl Iterator<Item = &JobRunner> {
        self.runners
            .iter()
            .filter(|(_, _, s)| s.is_some())
            .map(|(_, r, _)| r)
    }

    /// Runs `which` now under its lock (`None`: not a poller).
    pub async fn run_now(
        &self,
        which: ServiceId,
    ) -> Result<Option<TickOutcome>, digit_jobs::JobError> {
        let Some((_, runner, _)) = self.runners.iter().find(|(w, _, _)| *w == which) else {
            return Ok(None);
        };
        runner
            .run_tick(Tick {
                at_ms: crate::service::now_ms(),
            })
            .await
            .map(Some)
    }
}
