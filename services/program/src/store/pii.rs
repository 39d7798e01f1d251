//! PII at rest (spec §1.13, fixing §5 item 13): the shared cipher of `digit-store`, with the
//! keys of `PROGRAM_PII_KEYS`.

pub use digit_store::pii::{PiiCipher, PiiError};
