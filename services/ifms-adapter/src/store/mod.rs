//! SQL: the funds ledger (`funds`, the only code that changes a balance), sanction reads
//! (`sanctions`), VA bookkeeping (`va_log`) and payment instructions (`pi`). Bound
//! parameters only; every lookup scoped by tenant where the caller names one.

pub mod funds;
pub mod pi;
pub mod sanctions;
pub mod va_log;
