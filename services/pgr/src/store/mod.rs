//! Postgres reads of complaints (writes go through Kafka and the persister).

pub mod repo;
