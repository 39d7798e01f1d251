//! Kafka plumbing for the digit-rs services, with DIGIT's conventions built in.
//!
//! The crate has one job: move JSON messages between the services and a Kafka-protocol
//! broker without losing any. The [`Producer`] returns only after the broker acknowledged a
//! message (`acks=all`, idempotent), serialises payloads with explicit `null`s like
//! upstream's Spring `JsonSerializer`, and carries the correlation id in the
//! `x-correlation-id` header. The [`ConsumerRunner`] is the one consumer loop of the suite:
//! it feeds messages (one at a time, or in batches where the handler asks) to a
//! [`MessageHandler`] and commits an offset only once the handler dealt with it: transient
//! failures are retried in place with exponential [`Backoff`], permanent failures go to a
//! dead-letter topic ([`DeadLetters`]) in upstream's [`ErrorQueueContract`] shape, and a
//! handler that stores offsets itself positions the group before it joins.
//! [`KafkaSettings`] holds the connection settings and the central-instance topic prefix;
//! [`create_topics`] and [`Watermarks`] are small admin helpers.
//!
//! Delivery semantics are *at least once*: a crash after the handler succeeded but before
//! the commit landed replays that one message, so handlers must be idempotent (or, like the
//! persister, keep offsets in their own transaction).

mod admin;
mod backoff;
mod consumer;
mod context;
mod contract;
mod dead_letter;
mod error;
mod handler;
mod message;
mod producer;
mod settings;

pub use admin::{create_topics, Watermarks};
pub use backoff::Backoff;
pub use consumer::{CommitMode, ConsumerRunner, AUTO_COMMIT_INTERVAL};
pub use contract::{ErrorQueueContract, StackFrame};
pub use dead_letter::DeadLetters;
pub use error::KafkaError;
pub use handler::{HandlerError, MessageHandler, StartOffset};
pub use message::{InboundMessage, CORRELATION_ID_HEADER};
pub use producer::{Delivery, Producer};
pub use settings::{KafkaSettings, DEFAULT_FETCH_WAIT_MAX_MS};
