//! The disburse pipelines (spec §1.8).
