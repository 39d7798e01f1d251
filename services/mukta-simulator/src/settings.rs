//! The simulator's settings from the environment (`MUKTA_SIMULATOR_*`, Kafka's usual
//! names), printed by `--help`.

use crate::fixtures::Fixtures;
use crate::SimulatorConfig;
use digit_kafka::KafkaSettings;
use digit_service::config::{ConfigError, Env, EnvVar};
use std::path::Path;

/// Port.
pub const MUKTA_SIMULATOR_PORT: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_PORT",
    aliases: &[],
    default: "8096",
    help: "HTTP port",
};
/// Bind address.
pub const MUKTA_SIMULATOR_ADDRESS: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_ADDRESS",
    aliases: &[],
    default: "127.0.0.1",
    help: "Address to bind",
};
/// Fixtures.
pub const MUKTA_SIMULATOR_FIXTURES: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_FIXTURES",
    aliases: &[],
    default: "configs/mukta/fixtures.json",
    help: "Fixture file, or a folder whose *.json files are merged in name order (see configs/mukta/README.md)",
};
/// Publish on/off.
pub const MUKTA_SIMULATOR_PUBLISH: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_PUBLISH",
    aliases: &[],
    default: "true",
    help: "Publish {RequestInfo, payment} to Kafka on payment create (false: create only)",
};
/// Topic.
pub const MUKTA_SIMULATOR_PAYMENT_CREATE_TOPIC: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_PAYMENT_CREATE_TOPIC",
    aliases: &["EXPENSE_BILLING_PAYMENT_CREATE"],
    default: crate::DEFAULT_PAYMENT_CREATE_TOPIC,
    help: "Topic payment creates are published to (created if missing)",
};
/// Sequence start.
pub const MUKTA_SIMULATOR_PAYMENT_SEQ_START: EnvVar = EnvVar {
    name: "MUKTA_SIMULATOR_PAYMENT_SEQ_START",
    aliases: &[],
    default: "",
    help: "First <seq> of payment numbers EP/<city>/<fy>/<MM>/<dd>/<seq>; empty: derived from the time of day so restarts do not reuse numbers",
};
/// Brokers.
pub const KAFKA_BOOTSTRAP_SERVERS: EnvVar = EnvVar {
    name: "KAFKA_BOOTSTRAP_SERVERS",
    aliases: &[
        "SPRING_KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_CONFIG_BOOTSTRAP_SERVER_CONFIG",
    ],
    default: "127.0.0.1:9092",
    help: "Kafka bootstrap servers",
};
/// Topic prefix.
pub const KAFKA_TOPIC_PREFIX: EnvVar = EnvVar {
    name: "KAFKA_TOPIC_PREFIX",
    aliases: &[],
    default: "",
    help: "Central-instance topic prefix: topics become <prefix>-<topic>",
};

/// Every variable, for `--help`.
pub const SIMULATOR_VARS: &[EnvVar] = &[
    MUKTA_SIMULATOR_PORT,
    MUKTA_SIMULATOR_ADDRESS,
    MUKTA_SIMULATOR_FIXTURES,
    MUKTA_SIMULATOR_PUBLISH,
    MUKTA_SIMULATOR_PAYMENT_CREATE_TOPIC,
    MUKTA_SIMULATOR_PAYMENT_SEQ_START,
    KAFKA_BOOTSTRAP_SERVERS,
    KAFKA_TOPIC_PREFIX,
];

/// Where to listen and what to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `address:port`.
    pub bind: String,
    /// The simulator's setup.
    pub config: SimulatorConfig,
}

impl Settings {
    /// Reads [`SIMULATOR_VARS`] and the fixtures.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let port: u16 = env.parse(&MUKTA_SIMULATOR_PORT)?;
        let address = env.get_or_default(&MUKTA_SIMULATOR_ADDRESS);
        let path = env.get_or_default(&MUKTA_SIMULATOR_FIXTURES);
        let fixtures = Fixtures::from_path(Path::new(&path))
            .map_err(|e| ConfigError::Missing(format!("{}: {e}", MUKTA_SIMULATOR_FIXTURES.name)))?;
        let kafka = if env.flag(&MUKTA_SIMULATOR_PUBLISH)? {
            let mut s = KafkaSettings::new(env.get_or_default(&KAFKA_BOOTSTRAP_SERVERS));
            s.client_id = "mukta-simulator".to_owned();
            s.topic_prefix = env.get(&KAFKA_TOPIC_PREFIX).filter(|p| !p.is_empty());
            Some(s)
        } else {
            None
        };
        let payment_seq_start = match env.get(&MUKTA_SIMULATOR_PAYMENT_SEQ_START) {
            Some(v) if !v.trim().is_empty() => Some(env.parse(&MUKTA_SIMULATOR_PAYMENT_SEQ_START)?),
            _ => None,
        };
        Ok(Self {
            bind: format!("{address}:{port}"),
            config: SimulatorConfig {
                fixtures,
                kafka,
                payment_create_topic: env.get_or_default(&MUKTA_SIMULATOR_PAYMENT_CREATE_TOPIC),
                payment_seq_start,
            },
        })
    }
}

/// The `--help` text.
pub fn help_text() -> String {
    let mut out = String::from(
        "mukta-simulator — stand-in for MUKTA's expense, bank account, individual, organisation and audit-log services\n\n\
         Usage: mukta-simulator [--help] [--version]\n\n\
         Configuration is read from environment variables:\n\n",
    );
    for var in SIMULATOR_VARS.iter().chain([
        &digit_service::config::vars::LOG_FORMAT,
        &digit_service::config::vars::RUST_LOG,
    ]) {
        out.push_str(&format!("  {:<38} {}\n", var.name, var.help));
        if !var.default.is_empty() {
            out.push_str(&format!("  {:<38} default: {}\n", "", var.default));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn repo(path: &str) -> String {
        format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn reads_defaults_and_files() {
        let env = Env::from_pairs([(
            "MUKTA_SIMULATOR_FIXTURES",
            repo("configs/mukta/fixtures.json"),
        )]);
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8096");
        assert_eq!(s.config.fixtures.bills.len(), 2);
        assert_eq!(s.config.payment_create_topic, "expense-payment-create");
        assert_eq!(s.config.kafka.as_ref().unwrap().brokers, "127.0.0.1:9092");
        assert_eq!(s.config.payment_seq_start, None);
        let folder = Env::from_pairs([
            ("MUKTA_SIMULATOR_FIXTURES", repo("configs/mukta")),
            ("MUKTA_SIMULATOR_PUBLISH", "false".to_owned()),
            ("MUKTA_SIMULATOR_PAYMENT_SEQ_START", "41".to_owned()),
            ("SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092".to_owned()),
        ]);
        let s = Settings::from_env(&folder).unwrap();
        assert_eq!(s.config.fixtures.bank_accounts.len(), 3);
        assert!(s.config.kafka.is_none());
        assert_eq!(s.config.payment_seq_start, Some(41));
        let missing = Env::from_pairs([("MUKTA_SIMULATOR_FIXTURES", "/nonexistent.json")]);
        assert!(Settings::from_env(&missing).is_err());
        assert!(help_text().contains("MUKTA_SIMULATOR_FIXTURES"));
    }
}
