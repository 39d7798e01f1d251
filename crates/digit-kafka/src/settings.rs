//! Connection settings shared by producers, consumers and the admin helper.

use rdkafka::ClientConfig;

/// Default consumer-group session timeout (librdkafka's own default is 45 s, which makes
/// group joins and failovers slow).
pub const DEFAULT_SESSION_TIMEOUT_MS: u32 = 10_000;

/// Default `fetch.wait.max.ms` (librdkafka's own): how long the broker may hold a fetch
/// that finds no new data. Apache Kafka answers a waiting fetch as soon as data arrives,
/// so the value bounds idle round trips, not a message's latency.
pub const DEFAULT_FETCH_WAIT_MAX_MS: u32 = 500;

/// How to reach the broker, plus the DIGIT central-instance topic prefix.
///
/// `extra` settings are librdkafka properties applied *last* to every client this crate
/// creates, so they can override any default chosen here (e.g. `message.timeout.ms`,
/// `max.poll.interval.ms`, `security.protocol`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// Comma-separated `host:port` bootstrap list (`bootstrap.servers`).
    pub brokers: String,
    /// Client id reported to the broker (`client.id`), usually the service name.
    pub client_id: String,
    /// Central-instance topic prefix (spec §9.5): when set, topic `t` becomes
    /// `<prefix>-t`. `None` (or an empty string) leaves topic names unchanged.
    pub topic_prefix: Option<String>,
    /// Consumer-group session timeout (`session.timeout.ms`).
    pub session_timeout_ms: u32,
    /// Consumers' `fetch.wait.max.ms` (see [`DEFAULT_FETCH_WAIT_MAX_MS`]).
    pub fetch_wait_max_ms: u32,
    /// Additional librdkafka properties, applied after (and overriding) the defaults.
    pub extra: Vec<(String, String)>,
}

impl KafkaSettings {
    /// Settings for `brokers` with the defaults: client id `digit-rs`, no topic prefix,
    /// a 10 s session timeout, a 500 ms fetch wait and no extra properties.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            client_id: "digit-rs".to_owned(),
            topic_prefix: None,
            session_timeout_ms: DEFAULT_SESSION_TIMEOUT_MS,
            fetch_wait_max_ms: DEFAULT_FETCH_WAIT_MAX_MS,
            extra: Vec::new(),
        }
    }

    /// The broker-side name of the logical topic `name`: `<prefix>-<name>` in
    /// central-instance mode, `name` otherwise.
    ///
    /// Names starting with `^` are librdkafka regex subscriptions and are returned
    /// unchanged; a regex must spell out any prefix itself (upstream subscribes with
    /// patterns such as `(^[a-zA-Z]+-)?save-pgr-request`).
    pub fn topic(&self, name: &str) -> String {
        match self.topic_prefix.as_deref() {
            Some(prefix) if !prefix.is_empty() && !name.starts_with('^') => {
                format!("{prefix}-{name}")
            }
            _ => name.to_owned(),
        }
    }

    /// The base librdkafka configuration every client starts from (before `extra`).
    pub(crate) fn base_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        config
    }

    /// Applies `extra` on top of `config`.
    pub(crate) fn apply_extra(&self, config: &mut ClientConfig) {
        for (key, value) in &self.extra {
            config.set(key, value);
        }
    }
}

impl Default for KafkaSettings {
    /// Settings for the local development broker at `127.0.0.1:9092`.
    fn default() -> Self {
        Self::new("127.0.0.1:9092")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_without_prefix_is_unchanged() {
        let settings = KafkaSettings::default();
        assert_eq!(settings.topic("save-pgr-request"), "save-pgr-request");
    }

    #[test]
    fn topic_with_prefix_is_dash_joined() {
        let settings = KafkaSettings {
            topic_prefix: Some("amritsar".into()),
            ..KafkaSettings::default()
        };
        assert_eq!(settings.topic("save-employee"), "amritsar-save-employee");
    }

    #[test]
    fn empty_prefix_and_regex_topics_are_unchanged() {
        let mut settings = KafkaSettings {
            topic_prefix: Some(String::new()),
            ..KafkaSettings::default()
        };
        assert_eq!(settings.topic("save-x"), "save-x");
        settings.topic_prefix = Some("pb".into());
        assert_eq!(settings.topic("^(pb-)?save-x"), "^(pb-)?save-x");
    }

    #[test]
    fn extra_overrides_defaults() {
        let settings = KafkaSettings {
            extra: vec![("client.id".into(), "other".into())],
            ..KafkaSettings::default()
        };
        let mut config = settings.base_config();
        settings.apply_extra(&mut config);
        assert_eq!(config.get("client.id"), Some("other"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
    }
}
