//! SOR and rate models and rules (no I/O).

pub mod analysis;
pub mod model;
pub mod rules;
