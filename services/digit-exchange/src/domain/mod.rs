//! Models and rules — no I/O: the wire models, the routing table, the error reply and the
//! edge's error catalogue.

pub mod error;
pub mod error_reply;
pub mod model;
pub mod routing;
