//! The program pipelines (spec §1.8).
