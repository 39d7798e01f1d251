//! The allocation pipelines (spec §1.8).
