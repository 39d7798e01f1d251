//! SQL: one module per aggregate, the inbox and PII encryption. Every query is bound and
//! scoped by `location_code` (the tenant).

pub mod allocation;
pub mod disburse;
pub mod inbox;
pub mod ledger;
pub mod pii;
pub mod program;
pub mod rows;
pub mod sanction;
