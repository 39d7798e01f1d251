//! Complaint models and rules (no I/O).

pub mod model;
pub mod notification;
pub mod rules;
