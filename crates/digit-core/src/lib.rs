//! Wire models every DIGIT-compatible service shares.
//!
//! This crate holds the JSON shapes that cross service boundaries — the `RequestInfo`
//! request envelope, `ResponseInfo`, the tracer error envelope, `AuditDetails`, tenant ids,
//! exact money and epoch-millisecond time — with upstream's key spellings — and
//! [`InfraError`], the one shape of a database, broker or dependency failure that keeps
//! its source chain — and the iFIX participant ids ([`participant`]). It does no I/O:
//! HTTP plumbing lives in `digit-service`, Kafka in `digit-kafka`, SQL in `digit-store`.
//! Reference: `spec/upstream-platform.md` §1.

pub mod audit;
pub mod error;
pub mod infra;
pub mod lenient;
pub mod money;
pub mod pagination;
pub mod participant;
pub mod request;
pub mod response;
pub mod tenant;
pub mod time;

pub use audit::AuditDetails;
pub use error::{DigitError, ErrorDetail, ErrorResponse};
pub use infra::{BoxError, InfraError, InfraKind};
pub use money::Money;
pub use pagination::Pagination;
pub use request::{PlainAccessRequest, RequestInfo, RequestInfoWrapper, Role, UserInfo, UserType};
pub use response::{ResponseInfo, ResponseStatus};
pub use tenant::{TenantError, TenantId};
pub use time::EpochMillis;
