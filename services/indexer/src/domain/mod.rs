//! The indexer's rules, without I/O: the config model ([`config`]) and the per-record
//! processing of §3.2 ([`transform`]).

pub mod config;
pub mod transform;

pub use config::{load_configs, ConfigError, ConfigKey, IndexerConfig};

#[cfg(test)]
mod tests;
