//! SQL and Kafka: parameter binding, the stored offsets, the per-message transaction, and
//! the handler the shared consume loop drives.

pub mod consumer;
pub mod params;
pub mod transaction;
pub mod writer;
