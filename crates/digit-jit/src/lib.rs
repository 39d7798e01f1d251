//! The JIT-FS protocol: how the suite talks to Odisha's treasury ("Just-in-Time" fund
//! services) the way the MUKTA IFMS adapter does, and how the `jit-simulator` answers.
//!
//! [`crypto`] holds the treasury's ciphers (AES-256/ECB/PKCS#7 with base64, RSA-OAEP with
//! SHA-1 under the treasury's public key, random 32-byte keys), checked against upstream's
//! test vectors. [`wire`] holds what travels: the service ids, the `{serviceId, params}`
//! request, the `{serviceId, errorMsg, errorMsgs, data}` answer with upstream's success
//! rule, and the authenticate and service-call envelopes. [`client`] holds [`JitClient`]:
//! it logs in (app key → auth token + session key), keeps the session for
//! `IFMS_SESSION_TIMEOUT`, encrypts each call under a fresh request key, decrypts the
//! answer, and logs in again once when JIT says the session key is no longer valid. It
//! sends through the suite's one outbound client (`digit-http`: timeouts, metrics, no
//! retry of a call that may have reached JIT) and never logs key material, tokens or
//! plaintext parameters.

pub mod client;
pub mod crypto;
pub mod wire;

pub use client::{JitClient, JitError, JitSettings, JIT_VARS};
pub use crypto::{AesKey, CryptoError, JitPrivateKey, JitPublicKey};
pub use wire::{
    AuthRequest, AuthResponse, JitErrorMsg, JitRequest, JitResponse, ServiceCall, ServiceId,
    NO_VALID_SESSION,
};
