//! The consumer of `expense-payment-create` (`{RequestInfo, payment}`), as MUKTA 1.1's
//! adapter had it (A2.3), on the shared consumer loop: each payment becomes a PI once — a
//! redelivered message finds the PI already made and creates nothing. A message that is
//! not a payment, or a payment the rules refuse, goes to the error queue
//! (`ifms-adapter-error-queue`, ErrorQueueContract); a dependency or database failure is
//! retried with backoff, the offset committed only after the PI is recorded.

use super::Source;
use crate::error::IfmsError;
use crate::service::{AdapterService, Caller};
use digit_kafka::{HandlerError, InboundMessage, MessageHandler};
use digit_service::config::{Env, EnvVar};
use serde_json::Value;

/// The topic.
pub const PAYMENT_CREATE_TOPIC: EnvVar = EnvVar {
    name: "PAYMENT_CREATE_TOPIC",
    aliases: &["IFMS_PAYMENT_CREATE_TOPIC"],
    default: "expense-payment-create",
    help: "Topic of expense payments to turn into PIs (upstream payment.create.topic; empty: no consumer)",
};
/// The consumer group.
pub const CONSUMER_GROUP: EnvVar = EnvVar {
    name: "IFMS_CONSUMER_GROUP_ID",
    aliases: &[],
    default: "ifms-adapter",
    help: "Consumer group of the payment-create consumer",
};
/// The error queue.
pub const ERROR_QUEUE_TOPIC: EnvVar = EnvVar {
    name: "IFIX_ADAPTER_ERROR_QUEUE_TOPIC",
    aliases: &[],
    default: "ifms-adapter-error-queue",
    help: "Dead-letter topic of payments that cannot become a PI (upstream ifix.adapter.error.queue.topic)",
};

/// The consumer's settings.
pub const CONSUMER_VARS: &[EnvVar] = &[PAYMENT_CREATE_TOPIC, CONSUMER_GROUP, ERROR_QUEUE_TOPIC];

/// `expense-payment-create` → PIs.
pub struct PaymentConsumer {
    service: AdapterService,
}

impl MessageHandler for PaymentConsumer {
    async fn handle(&self, msg: &InboundMessage) -> Result<(), HandlerError> {
        let value: Value = msg.json().map_err(HandlerError::permanent)?;
        let payment = value
            .get("payment")
            .filter(|p| p.is_object())
            .ok_or_else(|| HandlerError::permanent("the message has no payment"))?;
        let caller = Caller {
            correlation_id: msg
                .header(digit_kafka::CORRELATION_ID_HEADER)
                .and_then(|h| std::str::from_utf8(h).ok())
                .unwrap_or_default()
                .to_owned(),
            ..Caller::job("payment-create")
        };
        match self.service.pay(&caller, payment, Source::Message).await {
            Ok(pi) => {
                tracing::info!(payment = %pi.row.muktareferenceid, pi = %pi.row.pinumber,
                    status = pi.row.status().code(), "Payment turned into a PI.");
                Ok(())
            }
            Err(e @ (IfmsError::Rule(_) | IfmsError::Forbidden(_) | IfmsError::Corrupt(_))) => {
                Err(HandlerError::permanent(e.to_string()))
            }
            Err(e) => Err(HandlerError::transient(e.to_string())),
        }
    }
}

/// Registers the consumer (none when the topic setting is empty).
pub fn register(
    platform: &digit_runtime::Platform,
    service: &AdapterService,
    producer: digit_kafka::Producer,
    env: &Env,
) {
    let topic = env.get_or_default(&PAYMENT_CREATE_TOPIC);
    if topic.trim().is_empty() {
        return;
    }
    let group = env.get_or_default(&CONSUMER_GROUP);
    let error_topic = env.get_or_default(&ERROR_QUEUE_TOPIC);
    let kafka = platform.kafka.clone();
    let service = service.clone();
    platform.workers.register(
        "ifms-payment-consumer",
        digit_runtime::OnCrash::default(),
        move |shutdown| {
            let (kafka, service, producer, topic, group, error_topic) = (
                kafka.clone(),
                service.clone(),
                producer.clone(),
                topic.clone(),
                group.clone(),
                error_topic.clone(),
            );
            async move {
                let runner = digit_kafka::ConsumerRunner::new(&kafka, &group, &[topic.as_str()])?;
                let dead = digit_kafka::DeadLetters::new(producer, error_topic);
                runner
                    .run(PaymentConsumer { service }, Some(dead), async move {
                        shutdown.wait().await
                    })
                    .await
            }
        },
    );
}
