//! `is_msg_encrypted: true` (spec §2.5; upstream carries the flag and ignores it).
//!
//! The originating exchange replaces the `message` string, before signing, with the JSON
//! text
//!
//! ```json
//! {"alg":"RSA-OAEP-256+A256GCM","kid":"<receiver registry row id>","key":"<b64>","iv":"<b64>","ct":"<b64>"}
//! ```
//!
//! - a fresh random AES-256 content key per message, wrapped (`key`) with the receiving
//!   domain's active registry public key by RSA-OAEP with SHA-256 (and MGF1-SHA-256);
//! - `iv`: a fresh random 96-bit nonce; `ct`: AES-256-GCM ciphertext of the UTF-8 message
//!   followed by the 128-bit tag;
//! - additional authenticated data: the UTF-8 of `message_id`, `message_type`, `action`
//!   joined by `"\n"`, so the ciphertext cannot be moved to another message or type;
//! - `kid`: the id of the receiver's registry row whose key wrapped the content key.
//!
//! The signature (and the seal) cover that JSON text. The receiving exchange verifies, then
//! [`decrypt`]s with its own private key before local delivery. Base64 is standard with
//! padding. Nothing here logs.

use super::{PublicKey, SecurityError, Signer};
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use rsa::Oaep;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The `alg` value of an encrypted message.
pub const ALG: &str = "RSA-OAEP-256+A256GCM";

/// The header fields bound to the ciphertext (the AEAD's additional data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// `header.message_id`.
    pub message_id: &'a str,
    /// `header.message_type`.
    pub message_type: &'a str,
    /// `header.action`.
    pub action: &'a str,
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        format!(
            "{}\n{}\n{}",
            self.message_id, self.message_type, self.action
        )
        .into_bytes()
    }
}

/// The encrypted `message` (module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Always [`ALG`].
    pub alg: String,
    /// Receiver's registry row id.
    pub kid: String,
    /// Wrapped content key (Base64).
    pub key: String,
    /// GCM nonce (Base64).
    pub iv: String,
    /// Ciphertext and tag (Base64).
    pub ct: String,
}

/// Encrypts `plaintext` for the receiving domain: `receiver_public_pem` is its active
/// registry key, `kid` that row's id. Returns the JSON text that becomes `message`.
/// Errors: [`SecurityError::InvalidKey`] (the key does not parse),
/// [`SecurityError::EncryptionFailed`].
pub fn encrypt_for(
    receiver_public_pem: &str,
    kid: &str,
    aad: &Aad<'_>,
    plaintext: &str,
) -> Result<String, SecurityError> {
    encrypt_with(
        &PublicKey::from_pem(receiver_public_pem)?,
        kid,
        aad,
        plaintext,
    )
}

/// [`encrypt_for`] with a parsed key.
pub fn encrypt_with(
    receiver: &PublicKey,
    kid: &str,
    aad: &Aad<'_>,
    plaintext: &str,
) -> Result<String, SecurityError> {
    let content_key = Aes256Gcm::generate_key(OsRng);
    let nonce = Aes256Gcm::generate_nonce(OsRng);
    let ct = Aes256Gcm::new(&content_key)
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext.as_bytes(),
                aad: &aad.bytes(),
            },
        )
        .map_err(|_| SecurityError::EncryptionFailed("AES-GCM encryption failed".into()))?;
    let wrapped = receiver
        .rsa()
        .encrypt(&mut OsRng, Oaep::new::<Sha256>(), content_key.as_slice())
        .map_err(|e| SecurityError::EncryptionFailed(format!("RSA-OAEP failed: {e}")))?;
    let sealed = Sealed {
        alg: ALG.to_owned(),
        kid: kid.to_owned(),
        key: super::signature::b64(&wrapped),
        iv: super::signature::b64(nonce.as_slice()),
        ct: super::signature::b64(&ct),
    };
    serde_json::to_string(&sealed)
        .map_err(|e| SecurityError::EncryptionFailed(format!("cannot encode: {e}")))
}

/// Whether `message` looks like an encrypted message (a JSON object with
/// `"alg": "RSA-OAEP-256+A256GCM"`).
pub fn is_encrypted(message: &str) -> bool {
    serde_json::from_str::<Sealed>(message).is_ok_and(|s| s.alg == ALG)
}

/// The `kid` of an encrypted message, if it is one.
pub fn kid_of(message: &str) -> Option<String> {
    serde_json::from_str::<Sealed>(message)
        .ok()
        .filter(|s| s.alg == ALG)
        .map(|s| s.kid)
}

/// Opens an encrypted `message` with this exchange's private key and the header's `aad`.
/// Any failure — not the format, another `alg`, a key wrapped for another private key, a
/// changed ciphertext, nonce or header field — is [`SecurityError::DecryptionFailed`]
/// with a message that reveals nothing of the content.
pub fn decrypt(signer: &Signer, text: &str, aad: &Aad<'_>) -> Result<String, SecurityError> {
    let fail = |what: &str| SecurityError::DecryptionFailed(what.to_owned());
    let sealed: Sealed =
        serde_json::from_str(text).map_err(|_| fail("The message is not an encrypted message"))?;
    if sealed.alg != ALG {
        return Err(fail("Unsupported encryption algorithm"));
    }
    let decode = |s: &str| {
        super::signature::LENIENT_B64
            .decode(s.as_bytes())
            .map_err(|_| fail("The encrypted message is not Base64"))
    };
    let (wrapped, iv, ct) = (
        decode(&sealed.key)?,
        decode(&sealed.iv)?,
        decode(&sealed.ct)?,
    );
    if iv.len() != 12 {
        return Err(fail("The encrypted message has a bad nonce"));
    }
    let content_key = signer
        .private_key()
        .decrypt_blinded(&mut OsRng, Oaep::new::<Sha256>(), &wrapped)
        .map_err(|_| fail("The content key does not open with this exchange's key"))?;
    if content_key.len() != 32 {
        return Err(fail(
            "The content key does not open with this exchange's key",
        ));
    }
    let plain = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&content_key))
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &ct,
                aad: &aad.bytes(),
            },
        )
        .map_err(|_| fail("The encrypted message or its header was altered"))?;
    String::from_utf8(plain).map_err(|_| fail("The decrypted message is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::signature::tests::{signer1, PRIVATE_2, PUBLIC_1, PUBLIC_2};

    const PII: &str = r#"{"id":"d1","children":[{"individual":{"name":"roso","phone":"9876678790"},"account_code":"333367679911@SBIN0000063"}]}"#;

    fn aad() -> Aad<'static> {
        Aad {
            message_id: "m-1",
            message_type: "disburse",
            action: "create",
        }
    }

    #[test]
    fn round_trip() {
        let text = encrypt_for(PUBLIC_1, "kid-1", &aad(), PII).unwrap();
        assert!(is_encrypted(&text));
        assert_eq!(kid_of(&text).as_deref(), Some("kid-1"));
        let sealed: Sealed = serde_json::from_str(&text).unwrap();
        assert_eq!(sealed.alg, ALG);
        // Nothing of the clear text shows.
        for secret in ["roso", "9876678790", "333367679911", "individual"] {
            assert!(!text.contains(secret), "{secret}");
        }
        assert_eq!(decrypt(&signer1(), &text, &aad()).unwrap(), PII);
        // Fresh key and nonce every time.
        let again = encrypt_for(PUBLIC_1, "kid-1", &aad(), PII).unwrap();
        assert_ne!(text, again);
        assert_eq!(decrypt(&signer1(), &again, &aad()).unwrap(), PII);
        assert!(!is_encrypted(PII));
        assert_eq!(kid_of(PII), None);
    }

    #[test]
    fn only_the_receiver_key_opens() {
        let text = encrypt_for(PUBLIC_2, "kid-2", &aad(), PII).unwrap();
        assert!(matches!(
            decrypt(&signer1(), &text, &aad()),
            Err(SecurityError::DecryptionFailed(_))
        ));
        let two = Signer::from_pem(PRIVATE_2).unwrap();
        assert_eq!(decrypt(&two, &text, &aad()).unwrap(), PII);
    }

    #[test]
    fn tampering_is_detected() {
        let text = encrypt_for(PUBLIC_1, "kid-1", &aad(), PII).unwrap();
        let sealed: Sealed = serde_json::from_str(&text).unwrap();
        let flip = |b64: &str| {
            let mut raw = super::super::signature::LENIENT_B64.decode(b64).unwrap();
            raw[0] ^= 1;
            super::super::signature::b64(&raw)
        };
        let variants = [
            Sealed {
                ct: flip(&sealed.ct),
                ..sealed.clone()
            },
            Sealed {
                iv: flip(&sealed.iv),
                ..sealed.clone()
            },
            Sealed {
                key: flip(&sealed.key),
                ..sealed.clone()
            },
            Sealed {
                alg: "none".into(),
                ..sealed.clone()
            },
        ];
        for v in variants {
            let t = serde_json::to_string(&v).unwrap();
            assert!(matches!(
                decrypt(&signer1(), &t, &aad()),
                Err(SecurityError::DecryptionFailed(_))
            ));
        }
        // The header fields are bound (AAD).
        for other in [
            Aad {
                message_id: "m-2",
                ..aad()
            },
            Aad {
                message_type: "on-disburse",
                ..aad()
            },
            Aad {
                action: "update",
                ..aad()
            },
        ] {
            assert!(decrypt(&signer1(), &text, &other).is_err());
        }
        // Not an encrypted message at all.
        for junk in ["", "{}", PII, "null"] {
            let e = decrypt(&signer1(), junk, &aad()).unwrap_err();
            assert_eq!(e.code(), "DECRYPTION_FAILED");
            assert!(!e.to_string().contains("roso"));
        }
    }

    #[test]
    fn bad_receiver_key_is_invalid_key() {
        assert!(matches!(
            encrypt_for("nope", "k", &aad(), PII),
            Err(SecurityError::InvalidKey(_))
        ));
    }
}
