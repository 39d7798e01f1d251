//! Models, rules and identities — no I/O.

pub mod codes;
pub mod identity;
pub mod model;
pub mod search;
