//! Kafka plumbing for the digit-rs services, with DIGIT's conventions built in.
//!
//! The crate has one job: move JSON messages between the services and a Kafka-protocol
//! broker without losing any. The [`Producer`] returns only after the broker acknowledged a
//! message (`acks=all`, idempotent), serialises payloads with explicit `null`s like
//! upstream's Spring `JsonSerializer`, and carries the correlation id in the
//! `x-correlation-id` header. The [`ConsumerRunner`] feeds messages one at a time to a
//! [`MessageHandler`] and commits an offset only once the handler succeeded: transient
//! failures are retried in place with exponential [`Backoff`], permanent failures go to a
//! dead-letter topic in upstream's [`ErrorQueueContract`] shape. [`KafkaSettings`] holds
//! the connection settings and the central-instance topic prefix, and [`create_topics`]
//! is a small admin helper.
//!
//! Delivery semantics are *at least once*: a crash after the handler succeeded but before
//! the commit landed replays that one message, so handlers must be idempotent (or, like the
//! persister, keep offsets in their own transaction).

mod admin;
mod backoff;
mod consumer;
mod context;
mod contract;
mod error;
mod producer;
mod settings;

pub use admin::create_topics;
pub use backoff::Backoff;
pub use consumer::{
    ConsumerRunner, HandlerError, InboundMessage, MessageHandler, CORRELATION_ID_HEADER,
};
pub use contract::{ErrorQueueContract, StackFrame};
pub use error::KafkaError;
pub use producer::{Delivery, Producer};
pub use settings::KafkaSettings;
