//! librdkafka client context that routes librdkafka's logs and errors into `tracing`.

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError as RdKafkaError;

/// Forwards librdkafka log lines, global errors and rebalances to `tracing`
/// (target `librdkafka`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility = fac, "{log_message}");
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility = fac, "{log_message}");
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility = fac, "{log_message}");
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", facility = fac, "{log_message}");
            }
        }
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        // Most global errors (broker down, all brokers down) are transient: librdkafka keeps
        // reconnecting on its own.
        tracing::warn!(target: "librdkafka", error = %error, reason, "kafka client error");
    }
}

impl ConsumerContext for TracingContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let partitions = describe(tpl);
                tracing::info!(target: "librdkafka", partitions = %partitions, "partitions assigned");
            }
            Rebalance::Revoke(tpl) => {
                let partitions = describe(tpl);
                tracing::info!(target: "librdkafka", partitions = %partitions, "partitions revoked");
            }
            Rebalance::Error(error) => {
                tracing::warn!(target: "librdkafka", error = %error, "rebalance failed");
            }
        }
    }
}

fn describe(tpl: &rdkafka::TopicPartitionList) -> String {
    tpl.elements()
        .iter()
        .map(|e| format!("{}[{}]", e.topic(), e.partition()))
        .collect::<Vec<_>>()
        .join(",")
}
