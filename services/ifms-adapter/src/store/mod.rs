//! SQL: sanctions, funds and allotments (`funds`, the only code that changes a balance) and
//! payment instructions (`pi`). Bound parameters only; every lookup scoped by tenant where
//! the caller names one.

pub mod funds;
pub mod pi;
