//! PGR: citizen complaints, wire-compatible with pgr-services.
//!
//! `api` holds the routes (`/pgr-services/v2/request/…`), `domain` the models and rules,
//! `store` the complaint reads, `service` the pipelines. Writes go to Kafka
//! (`save-pgr-request`/`update-pgr-request`) and the persister; the API answers after the
//! persister committed. Transitions go through `digit-workflow`: embedded (the binary then
//! also serves `/egov-workflow-v2`, as the DIGIT UI expects) or an upstream
//! egov-workflow-v2 at `EGOV_WORKFLOW_HOST`. The binary also serves the filestore
//! (`/filestore/v1/…`, `digit-filestore`) for complaint attachments.

pub mod api;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod notify;
pub mod service;
pub mod store;

use axum::Router;
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_store::commit::{CommitSettings, CommitWatcher};
use digit_workflow::WorkflowClient;
use sqlx::migrate::Migrator;
use std::sync::Arc;
use std::time::Duration;

/// This service's tables (`migrations/pgr/`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/pgr");

/// Create topic.
pub const CREATE_TOPIC: EnvVar = EnvVar {
    name: "PGR_KAFKA_CREATE_TOPIC",
    aliases: &[],
    default: "save-pgr-request",
    help: "Topic of new complaints (the persister writes them)",
};
/// Update topic.
pub const UPDATE_TOPIC: EnvVar = EnvVar {
    name: "PGR_KAFKA_UPDATE_TOPIC",
    aliases: &[],
    default: "update-pgr-request",
    help: "Topic of complaint updates",
};
/// Dashboard figures cache.
pub const DASHBOARD_CACHE_MS: EnvVar = EnvVar {
    name: "PGR_DASHBOARD_CACHE_MS",
    aliases: &[],
    default: "5000",
    help: "How long a tenant's search dashboard figures (resolved in 30 days, average resolution days) are reused; this instance's own closes drop them at once (0: aggregate on every search, as upstream)",
};
/// Read-your-writes.
pub const AWAIT_PERSISTER: EnvVar = EnvVar {
    name: "PGR_AWAIT_PERSISTER",
    aliases: &[],
    default: "true",
    help: "Answer only after the persister committed the complaint (false: upstream's fire-and-forget)",
};

/// SMS topic.
pub const SMS_TOPIC: EnvVar = EnvVar {
    name: "KAFKA_TOPICS_NOTIFICATION_SMS",
    aliases: &[],
    default: "egov.core.notification.sms",
    help: "Topic of SMS notifications ({mobileNumber, message})",
};
/// In-app events topic.
pub const EVENTS_TOPIC: EnvVar = EnvVar {
    name: "EGOV_USR_EVENTS_CREATE_TOPIC",
    aliases: &[],
    default: "persist-user-events-async",
    help: "Topic of in-app user events",
};
/// Notifications on/off.
pub const NOTIFICATIONS: EnvVar = EnvVar {
    name: "NOTIFICATION_SMS_ENABLED",
    aliases: &[],
    default: "true",
    help: "Send the localized SMS (and in-app events) of each transition",
};
/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "pgr",
    description: "PGR: citizen complaints, wire-compatible with pgr-services.",
    default_port: 8081,
    default_context_path: "/pgr-services",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::MDMS_VARS,
        digit_workflow::WORKFLOW_VARS,
        digit_store::commit::COMMIT_VARS,
        digit_localization::LOCALIZATION_VARS,
        digit_workflow::escalation_job::ESCALATION_JOB_VARS,
        &[
            CREATE_TOPIC,
            UPDATE_TOPIC,
            AWAIT_PERSISTER,
            DASHBOARD_CACHE_MS,
            SMS_TOPIC,
            EVENTS_TOPIC,
            NOTIFICATIONS,
        ],
        digit_filestore::VARS,
        digit_user::login::LOGIN_VARS,
        digit_user::otp::OTP_VARS,
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[
        &MIGRATOR,
        &digit_store::IDGEN_MIGRATOR,
        &digit_workflow::WORKFLOW_MIGRATOR,
        &digit_user::USER_MIGRATOR,
        &digit_jobs::JOBS_MIGRATOR,
        &digit_filestore::MIGRATOR,
    ],
    kafka: true,
    platform_apis: true,
    auth: true,
    mdms: true,
};

/// What [`routes`] builds: the router, and the embedded workflow engine behind it (none with
/// a remote workflow), which in-process callers (tests) can drive directly.
#[derive(Debug)]
pub struct Assembled {
    /// The complaint routes (and the embedded workflow, user and filestore APIs), behind the
    /// auth gate, with their open OpenAPI documents (`<context>/openapi.json`, `/docs`).
    pub routes: Router,
    /// The embedded engine the routes use.
    pub workflow: Option<digit_workflow::Workflow>,
}

/// The complaint routes, plus the embedded workflow API unless a remote workflow is set.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    Ok(assemble(platform).await?.routes)
}

/// [`routes`], keeping the embedded engine. Settings come from `platform.env`. One commit
/// watcher serves the complaints and the embedded workflow.
pub async fn assemble(platform: Platform) -> anyhow::Result<Assembled> {
    use anyhow::Context as _;
    let env: &Env = &platform.env;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("pgr needs a Kafka producer"))?;
    let users = digit_user::directory_from_env(env, &platform.metrics, platform.pool.clone())
        .await
        .context("users")?;
    let commits = CommitWatcher::start(
        platform.pool.clone(),
        CommitSettings::from_env(env).context("read-your-writes settings")?,
        &platform.metrics,
    )
    .await
    .context("commit watcher")?;
    // Business routes (behind the gate) and their open OpenAPI document routes.
    let mut routes = Router::new();
    let mut docs = Router::new();
    let mut engine = None;
    let remote_workflow = digit_workflow::RemoteWorkflow::from_env(env, &platform.metrics)
        .context("remote workflow")?;
    let workflow: Arc<dyn WorkflowClient> = match remote_workflow {
        Some(remote) => Arc::new(remote),
        None => {
            let embedded = digit_workflow::engine::embedded_from_env(
                env,
                platform.pool.clone(),
                platform.mdms.clone(),
                users.clone(),
                producer.clone(),
                commits.clone(),
            )
            .await?;
            let workflow_api = digit_workflow::api::router(embedded.clone());
            routes = routes.merge(workflow_api.routes);
            docs = docs.merge(workflow_api.docs);
            engine = Some(embedded.clone());
            register_auto_escalation(&platform, env, &embedded)?;
            Arc::new(embedded)
        }
    };
    let settings = service::PgrSettings {
        create_topic: env.get_or_default(&CREATE_TOPIC),
        update_topic: env.get_or_default(&UPDATE_TOPIC),
        await_persister: env.flag(&AWAIT_PERSISTER)?,
        state_level_length: platform.settings.state_level_length,
        ..service::PgrSettings::default()
    };
    let notify_settings = notify::NotifySettings {
        sms_topic: env.get_or_default(&SMS_TOPIC),
        events_topic: env.get_or_default(&EVENTS_TOPIC),
        sms_enabled: env.flag(&NOTIFICATIONS)?,
        events_enabled: env.flag(&NOTIFICATIONS)?,
        ..notify::NotifySettings::default()
    };
    let topics = [
        (settings.create_topic.as_str(), 1),
        (settings.update_topic.as_str(), 1),
        (notify_settings.sms_topic.as_str(), 1),
        (notify_settings.events_topic.as_str(), 1),
    ];
    // A cluster may forbid topic creation (its topics then exist already): go on, seen.
    if let Err(e) = digit_kafka::create_topics(producer.settings(), &topics).await {
        digit_service::metrics::degraded("pgr_topics_create", &e);
    }
    let idgen = Arc::new(digit_store::IdGenerator::new(
        platform.pool.clone(),
        digit_store::mdms_masters(platform.mdms.clone()),
        digit_store::IdgenSettings::from_lookup(|n| env.raw(n)).context("idgen settings")?,
    ));
    let notifier = notify::Notifier {
        localization: digit_localization::from_env(env, &platform.metrics)
            .context("localization")?,
        users: users.clone(),
        workflow: workflow.clone(),
        producer: producer.clone(),
        settings: notify_settings,
    };
    let producer_for_users = producer.clone();
    let pgr = service::Pgr {
        pool: platform.pool.clone(),
        mdms: platform.mdms.clone(),
        users,
        workflow,
        idgen,
        producer,
        commits: Some(commits),
        settings,
        notifier: Some(notifier),
        dashboard: dashboard::DashboardCache::new(Duration::from_millis(
            env.parse(&DASHBOARD_CACHE_MS)?,
        )),
    };
    let pgr_api = api::router(&platform.settings.context_path, pgr);
    routes = routes.merge(pgr_api.routes);
    docs = docs.merge(pgr_api.docs);
    // Standalone, the users are ours: egov-user's login, details and search paths.
    if env.get(&digit_user::USER_HOST).is_none() {
        let login = digit_user::login::Login::new(
            platform.pool.clone(),
            platform.settings.jwt_secret.as_deref(),
            platform.settings.jwt_issuer.as_deref(),
            digit_user::login::LoginSettings::from_env(env, platform.settings.state_level_length)
                .context("login settings")?,
        );
        // Citizens log in and register with OTPs (sent as SMS messages on the notification
        // topic), as upstream's citizen.login.password.otp.enabled does by default.
        let otp_settings =
            digit_user::otp::OtpSettings::from_env(env).context("citizen OTP settings")?;
        if let Err(e) = digit_kafka::create_topics(
            producer_for_users.settings(),
            &[(otp_settings.sms_topic.as_str(), 1)],
        )
        .await
        {
            digit_service::metrics::degraded("user_otp_topic_create", &e);
        }
        let login = login.with_citizen_otps(digit_user::otp::Otps::new(
            platform.pool.clone(),
            otp_settings,
        ));
        let verifier = digit_service::jwt::TokenVerifier::from_settings(&platform.settings).ok();
        let user_api = digit_user::api::router(login, verifier, Some(producer_for_users));
        routes = routes.merge(user_api.routes);
        docs = docs.merge(user_api.docs);
    }
    // Complaint attachments: the filestore (egov-filestore's paths).
    let filestore =
        digit_filestore::Filestore::from_env(env, platform.pool.clone()).context("filestore")?;
    let filestore_api = digit_filestore::api::router(filestore);
    routes = routes.merge(filestore_api.routes);
    docs = docs.merge(filestore_api.docs);
    // Health paths of the embedded platform pieces (no token, as every /health).
    let mut health = Router::new()
        .route("/filestore/health", axum::routing::get(digit_runtime::up))
        .route("/user/health", axum::routing::get(digit_runtime::up));
    if engine.is_some() {
        health = health.route(
            "/egov-workflow-v2/health",
            axum::routing::get(digit_runtime::up),
        );
    }
    Ok(Assembled {
        routes: platform.protect(routes).merge(health).merge(docs),
        workflow: engine,
    })
}

/// Runs PGR auto-escalation on `AUTO_ESCALATION_SCHEDULE` (one replica per tick) as a
/// supervised worker; a remote workflow escalates on its own.
fn register_auto_escalation(
    platform: &Platform,
    env: &Env,
    workflow: &digit_workflow::Workflow,
) -> anyhow::Result<()> {
    use digit_workflow::escalation_job::{
        AutoEscalationJob, AUTO_ESCALATION_SCHEDULE, AUTO_ESCALATION_USER_UUID,
    };
    let Some(schedule) = digit_jobs::Schedule::from_env(env, &AUTO_ESCALATION_SCHEDULE)? else {
        tracing::info!("PGR auto-escalation job disabled.");
        return Ok(());
    };
    let job = AutoEscalationJob::new(
        workflow.clone(),
        "PGR",
        env.get_or_default(&AUTO_ESCALATION_USER_UUID),
        &platform.settings.state_tenant,
    );
    let runner = digit_jobs::JobRunner::new(
        platform.pool.clone(),
        "pgr-auto-escalation",
        schedule,
        Arc::new(job),
    )
    .with_metrics(digit_jobs::JobMetrics::new(&platform.metrics)?);
    platform.workers.register(
        "pgr-auto-escalation",
        digit_runtime::OnCrash::default(),
        move |shutdown| {
            let runner = runner.clone();
            async move { runner.run(shutdown).await }
        },
    );
    Ok(())
}
