//! The indexer's I/O: Elasticsearch ([`es`]), enrichment calls ([`enrich`]), the Kafka
//! handler ([`consumer`]) and the job bookkeeping of `eg_indexer_job` ([`jobs`]).

pub mod consumer;
pub mod enrich;
pub mod es;
pub mod jobs;
