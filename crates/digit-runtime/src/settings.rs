//! Kafka and MDMS settings from the environment, with upstream's names as aliases.

use digit_kafka::KafkaSettings;
use digit_service::config::{ConfigError, Env, EnvVar};

/// Kafka bootstrap servers.
pub const KAFKA_BOOTSTRAP_SERVERS: EnvVar = EnvVar {
    name: "KAFKA_BOOTSTRAP_SERVERS",
    aliases: &[
        "SPRING_KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_CONFIG_BOOTSTRAP_SERVER_CONFIG",
    ],
    default: "127.0.0.1:9092",
    help: "Kafka bootstrap servers",
};
/// Central-instance topic prefix.
pub const KAFKA_TOPIC_PREFIX: EnvVar = EnvVar {
    name: "KAFKA_TOPIC_PREFIX",
    aliases: &[],
    default: "",
    help: "Central-instance topic prefix: topics become <prefix>-<topic>",
};
/// Consumer session timeout.
pub const KAFKA_SESSION_TIMEOUT_MS: EnvVar = EnvVar {
    name: "KAFKA_SESSION_TIMEOUT_MS",
    aliases: &[],
    default: "10000",
    help: "Consumer group session timeout",
};

/// Consumers' fetch wait.
pub const KAFKA_FETCH_WAIT_MAX_MS: EnvVar = EnvVar {
    name: "KAFKA_FETCH_WAIT_MAX_MS",
    aliases: &[],
    default: "500",
    help: "Longest time the broker holds a consumer's fetch that finds no data (Kafka answers as soon as data arrives)",
};

/// Kafka variables (for `--help`).
pub const KAFKA_VARS: &[EnvVar] = &[
    KAFKA_BOOTSTRAP_SERVERS,
    KAFKA_TOPIC_PREFIX,
    KAFKA_SESSION_TIMEOUT_MS,
    KAFKA_FETCH_WAIT_MAX_MS,
];

const DB_URL: EnvVar = EnvVar {
    name: "DB_URL",
    aliases: &["SPRING_DATASOURCE_URL", "DATABASE_URL"],
    default: "postgres://postgres@127.0.0.1:5432/digit",
    help: "Postgres URL (jdbc:postgresql:// accepted)",
};
const DB_USERNAME: EnvVar = EnvVar {
    name: "DB_USERNAME",
    aliases: &["SPRING_DATASOURCE_USERNAME"],
    default: "",
    help: "Overrides the URL's user",
};
const DB_PASSWORD: EnvVar = EnvVar {
    name: "DB_PASSWORD",
    aliases: &["SPRING_DATASOURCE_PASSWORD"],
    default: "",
    help: "Overrides the URL's password (never logged)",
};
const DB_MAX_CONNECTIONS: EnvVar = EnvVar {
    name: "DB_MAX_CONNECTIONS",
    aliases: &[],
    default: "10",
    help: "Pool size",
};
const DB_MIGRATE: EnvVar = EnvVar {
    name: "DB_MIGRATE",
    aliases: &[],
    default: "true",
    help: "Apply migrations on start",
};

/// Database variables alone (for `--help` of a service without master data).
pub const DB_VARS: &[EnvVar] = &[
    DB_URL,
    DB_USERNAME,
    DB_PASSWORD,
    DB_MAX_CONNECTIONS,
    DB_MIGRATE,
];

/// MDMS, outbound HTTP, database and idgen variables (for `--help`).
pub const MDMS_VARS: &[EnvVar] = &[
    DB_URL,
    DB_USERNAME,
    DB_PASSWORD,
    DB_MAX_CONNECTIONS,
    DB_MIGRATE,
    digit_mdms::MDMS_CONFIG_PATH,
    digit_mdms::MDMS_HOST,
    digit_mdms::MDMS_SEARCH_ENDPOINT,
    // Every outbound HTTP client (remote MDMS, user, workflow, localization).
    digit_http::CONNECT_TIMEOUT,
    digit_http::REQUEST_TIMEOUT,
    digit_http::RETRIES,
    digit_http::RETRY_BACKOFF,
    EnvVar {
        name: "IDFORMAT_FROM_MDMS",
        aliases: &[],
        default: "true",
        help: "Look id formats up in MDMS common-masters.IdFormat",
    },
    EnvVar {
        name: "AUTOCREATE_NEW_SEQ",
        aliases: &[],
        default: "true",
        help: "Create missing idgen sequences",
    },
    EnvVar {
        name: "ID_TIMEZONE",
        aliases: &["APP_TIMEZONE"],
        default: "Asia/Kolkata",
        help: "Time zone of [cy:…] and [fy:…] id parts",
    },
];

/// Kafka settings: brokers, client id = service name, optional topic prefix.
pub fn kafka_settings_from_env(env: &Env, service: &str) -> Result<KafkaSettings, ConfigError> {
    let mut settings = KafkaSettings::new(env.get_or_default(&KAFKA_BOOTSTRAP_SERVERS));
    settings.client_id = service.to_owned();
    settings.topic_prefix = env.get(&KAFKA_TOPIC_PREFIX);
    settings.session_timeout_ms = env.parse(&KAFKA_SESSION_TIMEOUT_MS)?;
    settings.fetch_wait_max_ms = env.parse(&KAFKA_FETCH_WAIT_MAX_MS)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_the_http_client_and_mdms_settings() {
        for var in digit_http::HTTP_VARS.iter().chain(digit_mdms::MDMS_ENV) {
            assert!(
                MDMS_VARS.iter().any(|v| v.name == var.name),
                "{} missing from --help",
                var.name
            );
        }
    }

    #[test]
    fn spring_names_are_accepted() {
        let env = Env::from_pairs([
            ("SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
            ("KAFKA_TOPIC_PREFIX", "amritsar"),
        ]);
        let s = kafka_settings_from_env(&env, "pgr").unwrap();
        assert_eq!(s.brokers, "kafka:9092");
        assert_eq!(s.topic("save-pgr-request"), "amritsar-save-pgr-request");
        assert_eq!(s.client_id, "pgr");
        assert_eq!(s.fetch_wait_max_ms, digit_kafka::DEFAULT_FETCH_WAIT_MAX_MS);
        let env = Env::from_pairs([("KAFKA_FETCH_WAIT_MAX_MS", "50")]);
        assert_eq!(
            kafka_settings_from_env(&env, "pgr")
                .unwrap()
                .fetch_wait_max_ms,
            50
        );
        let env = Env::from_pairs([("KAFKA_FETCH_WAIT_MAX_MS", "soon")]);
        assert!(kafka_settings_from_env(&env, "pgr").is_err());
    }
}
