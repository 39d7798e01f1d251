//! Models, rules and identities — no I/O.

pub mod codes;
/// Participant ids and "same domain" (spec §1.2), shared with `digit-exchange`.
pub use digit_core::participant as identity;
pub mod model;
pub mod search;
