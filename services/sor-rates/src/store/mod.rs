//! Postgres reads (writes go through Kafka and the persister).

pub mod repo;
