//! SQL and Kafka: parameter binding, the transactional writer with stored offsets, and the
//! consume loop.

pub mod consumer;
pub mod params;
pub mod writer;
