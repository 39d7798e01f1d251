//! Rules without I/O: wire models, statuses, the error catalogue, dates and financial
//! years, and the disbursement checks.

pub mod calendar;
pub mod codes;
pub mod disbursement;
pub mod model;
pub mod status;
