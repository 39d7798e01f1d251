//! The sanction pipelines (spec §1.8).
