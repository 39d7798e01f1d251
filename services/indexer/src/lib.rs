//! Indexer: a Kafka→Elasticsearch writer that runs egov-indexer's YAML configs unchanged.
//!
//! Point `EGOV_INDEXER_YML_REPO_PATH` at the configs a DIGIT deployment runs (the persister's
//! file/folder rules) and the same documents land in Elasticsearch: per record, the mapping
//! of the message's version, masking, `@timestamp`, concatenated ids and custom documents
//! enriched from other services and MDMS (§3.2, [`domain`]). Unlike upstream, nothing is
//! lost: Kafka offsets move only after Elasticsearch acknowledged every item of a bulk, an
//! Elasticsearch outage pauses consumption until it is back, and documents Elasticsearch
//! refuses go to a dead-letter topic ([`store::consumer`]). The index-operations API
//! (`_index`, `_reindex`, `_legacyindex`, job search) is in [`api`] / [`service`].
//!
//! `indexer check <configs…>` validates configs offline and exits.

pub mod api;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod service;
pub mod store;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use digit_http::HttpClient;
use digit_kafka::{CommitMode, ConsumerRunner, DeadLetters, KafkaSettings};
use digit_runtime::{Needs, Platform};
use digit_service::config::{Env, EnvVar, ServiceInfo};
use digit_service::openapi::document;
use digit_service::Documented;
use serde_json::Value;
use sqlx::migrate::Migrator;

use domain::config::ConfigKey;
use store::consumer::{HandlerSettings, IndexHandler};
use store::enrich::{EnrichSettings, Enricher, HostRewrite};
use store::es::Es;

/// This service's tables (`migrations/indexer/`): the jobs.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/indexer");

/// Elasticsearch base URL.
pub const ELASTICSEARCH_URL: EnvVar = EnvVar {
    name: "ELASTICSEARCH_URL",
    aliases: &["EGOV_INFRA_INDEXER_HOST"],
    default: "http://127.0.0.1:9200",
    help: "Elasticsearch (or OpenSearch-compatible) base URL",
};
/// Elasticsearch user.
pub const ES_USERNAME: EnvVar = EnvVar {
    name: "EGOV_INDEXER_ES_USERNAME",
    aliases: &[],
    default: "",
    help: "Elasticsearch Basic-auth user (empty: no authentication)",
};
/// Elasticsearch password.
pub const ES_PASSWORD: EnvVar = EnvVar {
    name: "EGOV_INDEXER_ES_PASSWORD",
    aliases: &[],
    default: "",
    help: "Elasticsearch Basic-auth password",
};
/// Config files/folders (upstream name).
pub const CONFIG_PATH: EnvVar = EnvVar {
    name: "EGOV_INDEXER_YML_REPO_PATH",
    aliases: &[],
    default: "configs/indexer",
    help: "Comma list of indexer YAML files or folders (file:// URLs accepted)",
};
/// Index templates installed at start.
pub const TEMPLATES_PATH: EnvVar = EnvVar {
    name: "INDEXER_TEMPLATES_PATH",
    aliases: &[],
    default: "configs/indexer/templates",
    help: "Folder of Elasticsearch index templates (<name>.json) installed at start; empty: none",
};
/// Live consumer group.
pub const GROUP_ID: EnvVar = EnvVar {
    name: "INDEXER_GROUP_ID",
    aliases: &["SPRING_KAFKA_CONSUMER_GROUP"],
    default: "egov-indexer-consumer-grp",
    help: "Consumer group of INDEX topics (REINDEX and LEGACYINDEX topics use <group>-reindex / <group>-legacyindex)",
};
/// Dead-letter topic.
pub const DEADLETTER_TOPIC: EnvVar = EnvVar {
    name: "INDEXER_DEADLETTER_TOPIC",
    aliases: &[],
    default: "egov-indexer-deadletter",
    help: "Where messages Elasticsearch refuses go, as ErrorQueueContract JSON",
};
/// Batch size.
pub const BATCH_SIZE: EnvVar = EnvVar {
    name: "INDEXER_BATCH_SIZE",
    aliases: &[],
    default: "500",
    help: "Most messages of one topic written with one _bulk",
};
/// Time zone of `@timestamp`.
pub const TIMEZONE: EnvVar = EnvVar {
    name: "ID_TIMEZONE",
    aliases: &[],
    default: "UTC",
    help: "Time zone @timestamp is written in (IANA name, e.g. Asia/Kolkata)",
};
/// `<index>-enriched` pushes.
pub const TOPIC_PUSH: EnvVar = EnvVar {
    name: "TOPIC_PUSH_ENABLED",
    aliases: &[],
    default: "false",
    help: "Also produce every document to <index>-enriched (for kafka-connect sinks)",
};
/// DSS collection topic.
pub const DSS_PUSH: EnvVar = EnvVar {
    name: "DSS_COLLECTIONINDEX_TOPIC_PUSH_ENABLED",
    aliases: &[],
    default: "false",
    help:
        "Produce documents of collection/payment indexes to EGOV_INDEXER_DSS_COLLECTIONINDEX_TOPIC",
};
/// DSS collection topic name.
pub const DSS_TOPIC: EnvVar = EnvVar {
    name: "EGOV_INDEXER_DSS_COLLECTIONINDEX_TOPIC",
    aliases: &[],
    default: "dss-collection-update",
    help: "Topic of collection/payment documents for dashboard-ingest",
};
/// Legacy documents to Elasticsearch.
pub const LEGACY_TO_ES: EnvVar = EnvVar {
    name: "INDEXER_LEGACY_TO_ES",
    aliases: &[],
    default: "true",
    help: "Write LEGACYINDEX documents to Elasticsearch (upstream leaves them to kafka-connect)",
};
/// Host rewrites.
pub const HOST_REWRITE: EnvVar = EnvVar {
    name: "INDEXER_HOST_REWRITE",
    aliases: &[],
    default: "",
    help: "Comma list of from=to URL prefixes applied to the configs' external and MDMS URLs",
};
/// State tenant.
pub const STATE_TENANT: EnvVar = EnvVar {
    name: "EGOV_STATELEVEL_TENANTID",
    aliases: &["STATE_LEVEL_TENANT_ID"],
    default: "pg",
    help: "State-level tenant, sent as the TENANTID header of enrichment calls",
};
/// MDMS host.
pub const MDMS_HOST: EnvVar = EnvVar {
    name: "EGOV_MDMS_HOST",
    aliases: &[],
    default: "http://127.0.0.1:8081/",
    help: "MDMS for mdmsMapping entries with an empty path",
};
/// MDMS path.
pub const MDMS_ENDPOINT: EnvVar = EnvVar {
    name: "EGOV_MDMS_SEARCH_ENDPOINT",
    aliases: &[],
    default: "egov-mdms-service/v1/_search",
    help: "MDMS search path",
};
/// Token for enrichment calls.
pub const OUTBOUND_TOKEN: EnvVar = EnvVar {
    name: "INDEXER_OUTBOUND_TOKEN",
    aliases: &[],
    default: "",
    help: "Service token sent with enrichment and legacy-index calls (replaces the configs' RequestInfo.authToken)",
};
/// MDMS cache lifetime.
pub const MDMS_CACHE_SECONDS: EnvVar = EnvVar {
    name: "INDEXER_MDMS_CACHE_SECONDS",
    aliases: &[],
    default: "300",
    help: "How long an MDMS answer is reused",
};
/// Reindex page.
pub const REINDEX_PAGE: EnvVar = EnvVar {
    name: "REINDEX_PAGINATION_SIZE_DEFAULT",
    aliases: &[],
    default: "500",
    help: "Records per page of _reindex when the request names no batchSize",
};
/// Legacy page.
pub const LEGACY_PAGE: EnvVar = EnvVar {
    name: "LEGACYINDEX_PAGINATION_SIZE_DEFAULT",
    aliases: &[],
    default: "100",
    help: "Records per page of _legacyindex when the request names no maxPageSize",
};
/// Service host.
pub const SERVICE_HOST: EnvVar = EnvVar {
    name: "EGOV_SERVICE_HOST",
    aliases: &[],
    default: "http://127.0.0.1:8081/",
    help: "Prefix of relative _legacyindex URIs",
};

/// Name, port and context path (DESIGN.md "The services").
pub const INFO: ServiceInfo = ServiceInfo {
    name: "indexer",
    description: "Indexer: a Kafka→Elasticsearch writer that runs egov-indexer YAML configs. Subcommand: check <configs…>",
    default_port: 8087,
    default_context_path: "/egov-indexer",
    env: &[
        digit_runtime::KAFKA_VARS,
        digit_runtime::DB_VARS,
        digit_http::HTTP_VARS,
        &[
            ELASTICSEARCH_URL,
            ES_USERNAME,
            ES_PASSWORD,
            CONFIG_PATH,
            TEMPLATES_PATH,
            GROUP_ID,
            DEADLETTER_TOPIC,
            BATCH_SIZE,
            TIMEZONE,
            TOPIC_PUSH,
            DSS_PUSH,
            DSS_TOPIC,
            LEGACY_TO_ES,
            HOST_REWRITE,
            STATE_TENANT,
            MDMS_HOST,
            MDMS_ENDPOINT,
            OUTBOUND_TOKEN,
            MDMS_CACHE_SECONDS,
            REINDEX_PAGE,
            LEGACY_PAGE,
            SERVICE_HOST,
        ],
        dashboard::VARS,
    ],
};

/// What the platform must provide.
pub const NEEDS: Needs = Needs {
    migrators: &[&MIGRATOR],
    kafka: true,
    platform_apis: false,
    auth: false,
    mdms: false,
};

/// How long one Elasticsearch call may take.
const ES_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for the configured Elasticsearch.
pub fn elasticsearch(env: &Env) -> anyhow::Result<Es> {
    let user = env.get_or_default(&ES_USERNAME);
    let credentials = (!user.is_empty()).then(|| (user, env.get_or_default(&ES_PASSWORD)));
    Es::new(
        &env.get_or_default(&ELASTICSEARCH_URL),
        credentials,
        ES_TIMEOUT,
    )
}

/// A bare client for `url` (no credentials), for tools and tests.
pub fn elasticsearch_client(url: &str) -> anyhow::Result<elasticsearch::Elasticsearch> {
    Ok(Es::new(url, None, ES_TIMEOUT)?.client().clone())
}

/// Builds the consumers and the API, starts the consumers.
pub async fn routes(platform: Platform) -> anyhow::Result<Router> {
    use anyhow::Context as _;
    let env = platform.env.clone();
    let config = Arc::new(
        domain::load_configs(&env.get_or_default(&CONFIG_PATH)).context("indexer configs")?,
    );
    tracing::info!(
        files = config.files().len(),
        topics = config.topics().count(),
        "Indexer configs loaded."
    );
    let es = elasticsearch(&env)?;
    let metrics = metrics::IndexerMetrics::new(&platform.metrics)?;
    let producer = platform
        .producer
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the indexer needs a Kafka producer"))?;
    let zone: chrono_tz::Tz = env
        .get_or_default(&TIMEZONE)
        .parse()
        .map_err(|e| anyhow::anyhow!("ID_TIMEZONE: {e}"))?;
    let rewrite = HostRewrite::parse(&env.get_or_default(&HOST_REWRITE))
        .map_err(|e| anyhow::anyhow!("INDEXER_HOST_REWRITE: {e}"))?;
    let token = env.get_or_default(&OUTBOUND_TOKEN);
    let enricher = Arc::new(Enricher::new(
        HttpClient::from_env("indexer-enrichment", &env, &platform.metrics)?,
        EnrichSettings {
            rewrite,
            state_tenant: env.get_or_default(&STATE_TENANT),
            mdms_url: digit_http::join_url(
                &env.get_or_default(&MDMS_HOST),
                &env.get_or_default(&MDMS_ENDPOINT),
            ),
            token: (!token.is_empty()).then_some(token),
            mdms_cache_ttl: Duration::from_secs(env.parse(&MDMS_CACHE_SECONDS)?),
            mdms_cache_max: 10_000,
        },
        metrics.enrichment_failures.clone(),
    ));
    let dead_letter_topic = env.get_or_default(&DEADLETTER_TOPIC);
    let batch_size: usize = env.parse(&BATCH_SIZE)?;
    let handler = IndexHandler {
        config: config.clone(),
        es: es.clone(),
        enricher: enricher.clone(),
        producer: producer.clone(),
        dead_letters: DeadLetters::new(producer.clone(), dead_letter_topic.clone()),
        settings: HandlerSettings {
            batch_size: batch_size.clamp(1, 10_000),
            zone,
            topic_push: env.flag(&TOPIC_PUSH)?,
            dss_topic: env.flag(&DSS_PUSH)?.then(|| env.get_or_default(&DSS_TOPIC)),
            legacy_to_es: env.flag(&LEGACY_TO_ES)?,
            item_backoff: store::consumer::item_backoff(),
        },
        metrics: metrics.clone(),
    };
    create_topics(
        &platform.kafka,
        &config,
        &handler.settings,
        &dead_letter_topic,
    )
    .await;
    install_templates(&es, &env.get_or_default(&TEMPLATES_PATH)).await;
    let group = env.get_or_default(&GROUP_ID);
    for key in [ConfigKey::Index, ConfigKey::Reindex, ConfigKey::LegacyIndex] {
        let topics: Vec<String> = config
            .topics()
            .filter(|(_, k)| *k == key)
            .map(|(t, _)| t.to_string())
            .collect();
        if topics.is_empty() {
            continue;
        }
        let group = match key {
            ConfigKey::Index => group.clone(),
            ConfigKey::Reindex => format!("{group}-reindex"),
            ConfigKey::LegacyIndex => format!("{group}-legacyindex"),
        };
        spawn_consumer(&platform, handler.clone(), group, topics)?;
    }
    let ops = service::IndexOperations {
        config,
        es,
        producer,
        pool: platform.pool.clone(),
        enricher,
        settings: service::JobSettings {
            reindex_page_size: env.parse(&REINDEX_PAGE)?,
            legacy_page_size: env.parse(&LEGACY_PAGE)?,
            service_host: env.get_or_default(&SERVICE_HOST),
            es_url: env.get_or_default(&ELASTICSEARCH_URL),
        },
        metrics,
        shutdown: platform.shutdown.clone(),
    };
    let dashboard = dashboard::from_platform(&platform)?;
    // Open, like upstream's indexer endpoints (no gate: NEEDS.auth is false).
    Ok(router(&platform.settings.context_path, ops, dashboard).into_router())
}

/// The index operations ([`api`]) and the [`dashboard`] under `context_path`, with their
/// one OpenAPI document at `<context_path>/openapi.json` (Swagger UI at `<context_path>/docs`).
pub fn router(
    context_path: &str,
    ops: service::IndexOperations,
    dashboard: Arc<dashboard::Dashboard>,
) -> Documented {
    let routes = api::routes(context_path, ops).merge(dashboard::routes(dashboard, context_path));
    document(
        "Indexer",
        "egov-indexer's index operations (`_index`, `_reindex`, `_legacyindex`, job search) \
         and the indexer dashboard (page and `_summary` figures). Open endpoints: the \
         indexer checks no token.",
        &[context_path.trim_end_matches('/')],
        routes,
    )
}

/// Topics are used as the configs name them (like the persister: a central instance lists
/// its prefixed topics), so `KAFKA_TOPIC_PREFIX` is not applied.
fn unprefixed(kafka: &KafkaSettings) -> KafkaSettings {
    let mut kafka = KafkaSettings {
        topic_prefix: None,
        ..kafka.clone()
    };
    // An Elasticsearch outage is waited out between polls; let the member stay in its group.
    kafka
        .extra
        .insert(0, ("max.poll.interval.ms".to_owned(), "3600000".to_owned()));
    kafka
}

fn spawn_consumer(
    platform: &Platform,
    handler: IndexHandler,
    group: String,
    topics: Vec<String>,
) -> anyhow::Result<()> {
    let kafka = unprefixed(&platform.kafka);
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let runner = ConsumerRunner::new(&kafka, &group, &refs)?
        .with_backoff(digit_kafka::Backoff::new(
            Duration::from_millis(200),
            Duration::from_secs(2),
        ))
        .with_commit_mode(CommitMode::Sync);
    let dead_letters = handler.dead_letters.clone();
    let shutdown = platform.shutdown.clone();
    tracing::info!(?topics, %group, "Indexer consuming.");
    tokio::spawn(async move {
        let stop = shutdown.clone();
        if let Err(e) = runner
            .run(
                handler,
                Some(dead_letters),
                async move { stop.wait().await },
            )
            .await
        {
            tracing::error!(error = format!("{e:#}"), %group, "Indexer consumer failed; shutting down.");
            shutdown.trigger();
        }
    });
    Ok(())
}

/// Topic auto-creation is off: the consumed topics, the dead-letter topic and the side topics
/// must exist before anyone sends.
async fn create_topics(
    kafka: &KafkaSettings,
    config: &domain::IndexerConfig,
    settings: &HandlerSettings,
    dead_letter: &str,
) {
    let mut topics: Vec<String> = config.topics().map(|(t, _)| t.to_string()).collect();
    topics.push(dead_letter.to_string());
    if settings.topic_push {
        for (topic, _) in config.topics() {
            for mapping in config.mappings_of(topic) {
                for index in &mapping.indexes {
                    topics.push(store::consumer::enriched_topic(&index.name));
                }
            }
        }
    }
    if let Some(dss) = &settings.dss_topic {
        topics.push(dss.clone());
    }
    topics.sort();
    topics.dedup();
    let refs: Vec<(&str, i32)> = topics.iter().map(|t| (t.as_str(), 1)).collect();
    if let Err(e) = digit_kafka::create_topics(&unprefixed(kafka), &refs).await {
        tracing::warn!(error = %e, "Could not create the indexer topics; assuming they exist.");
    }
}

/// Installs `<name>.json` index templates from `dir` (missing folder: none). Failures are
/// logged: indexes then get Elasticsearch's dynamic mappings.
pub async fn install_templates(es: &Es, dir: &str) {
    if dir.trim().is_empty() {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::info!(dir, error = %e, "No index templates installed.");
            return;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read_template(&file) {
            Ok(template) => match es.put_template(&name, &template).await {
                Ok(()) => tracing::info!(template = %name, "Index template installed."),
                Err(e) => {
                    tracing::warn!(template = %name, error = %e, "Index template not installed.")
                }
            },
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "Unreadable index template.")
            }
        }
    }
}

fn read_template(file: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(file)?)?)
}

/// `indexer check <configs…>`: loads and validates configs, prints a summary.
pub fn check(paths: &[String]) -> Result<String, String> {
    if paths.is_empty() {
        return Err("usage: indexer check <file-or-folder>[,<…>] [more …]".into());
    }
    let config = domain::load_configs(&paths.join(",")).map_err(|e| e.to_string())?;
    let mut out = format!(
        "OK: {} file(s), {} topic(s)\n",
        config.files().len(),
        config.topics().count()
    );
    for (topic, key) in config.topics() {
        let indexes: Vec<&str> = config
            .mappings_of(topic)
            .flat_map(|m| m.indexes.iter().map(|i| i.name.as_str()))
            .collect();
        out.push_str(&format!(
            "  {topic} [{}] -> {}\n",
            key.as_str(),
            indexes.join(", ")
        ));
    }
    Ok(out)
}
