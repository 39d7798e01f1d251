//! SOR and rate models and rules (no I/O).

pub mod model;
pub mod rules;
