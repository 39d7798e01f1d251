//! PII at rest (program service: spec upstream-ifix.md §1.13, fixing §5 item 13; IFMS adapter:
//! the beneficiary accounts and the JIT requests of upstream-ifms-sor.md A1.7): a value such
//! as an `account_code` or an individual's `name`, `phone` and `address` is stored as
//! `"<key id>:<base64(nonce ‖ ciphertext ‖ tag)>"` — AES-256-GCM with a fresh random
//! 96-bit nonce per value and the key id as associated data, so a value can neither be
//! moved to another key id nor altered unnoticed. Keys come from a service setting
//! (`PROGRAM_PII_KEYS`, `IFMS_PII_KEYS`: `id:base64key,…`); the first encrypts, all decrypt, so a key can be rotated by putting
//! a new one first and keeping the old ones until their rows are rewritten. Values are
//! never logged: `Debug` shows key ids only.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore as _;

/// Why a key list or a stored value is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// The key list is malformed.
    #[error("PII keys: {0}")]
    Config(String),
    /// A stored value that does not decrypt (unknown key id, tampered, truncated).
    #[error("cannot decrypt a stored value: {0}")]
    Decrypt(String),
    /// Encryption failed (cannot happen with a valid key).
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
}

/// The configured keys.
#[derive(Clone)]
pub struct PiiCipher {
    /// (key id, cipher); the first encrypts.
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("PiiCipher").field("key_ids", &ids).finish()
    }
}

impl PiiCipher {
    /// Parses `id:base64key[,id:base64key…]`; each key is 32 bytes (AES-256).
    pub fn from_config(text: &str) -> Result<Self, PiiError> {
        let mut keys = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, key) = item
                .split_once(':')
                .ok_or_else(|| PiiError::Config("expected id:base64key".into()))?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(PiiError::Config(format!("bad key id '{id}'")));
            }
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|e| PiiError::Config(format!("key {id}: {e}")))?;
            if bytes.len() != 32 {
                return Err(PiiError::Config(format!(
                    "key {id}: {} bytes, AES-256 needs 32",
                    bytes.len()
                )));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|e| PiiError::Config(format!("key {id}: {e}")))?;
            if keys.iter().any(|(k, _): &(String, Aes256Gcm)| k == id) {
                return Err(PiiError::Config(format!("key id {id} twice")));
            }
            keys.push((id.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err(PiiError::Config("no key".into()));
        }
        Ok(Self { keys })
    }

    /// Encrypts `plain` under the current key.
    pub fn encrypt(&self, plain: &str) -> Result<String, PiiError> {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: id.as_bytes(),
                },
            )
            .map_err(|e| PiiError::Encrypt(e.to_string()))?;
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{id}:{}", STANDARD.encode(out)))
    }

    /// Decrypts a value written by [`PiiCipher::encrypt`] under any configured key.
    pub fn decrypt(&self, stored: &str) -> Result<String, PiiError> {
        let (id, data) = stored
            .split_once(':')
            .ok_or_else(|| PiiError::Decrypt("no key id".into()))?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| PiiError::Decrypt(format!("unknown key id {id}")))?;
        let bytes = STANDARD
            .decode(data)
            .map_err(|e| PiiError::Decrypt(e.to_string()))?;
        if bytes.len() < 12 + 16 {
            return Err(PiiError::Decrypt("too short".into()));
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Decrypt(format!("authentication failed (key {id})")))?;
        String::from_utf8(plain).map_err(|e| PiiError::Decrypt(e.to_string()))
    }

    /// [`PiiCipher::encrypt`] of an optional value.
    pub fn encrypt_opt(&self, plain: Option<&str>) -> Result<Option<String>, PiiError> {
        plain.map(|p| self.encrypt(p)).transpose()
    }

    /// [`PiiCipher::decrypt`] of an optional value.
    pub fn decrypt_opt(&self, stored: Option<&str>) -> Result<Option<String>, PiiError> {
        stored.map(|s| self.decrypt(s)).transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HxwdHhkaGxwVFhcYERITFA0ODxAJCgsMBQYHCAECAwQ=";

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = PiiCipher::from_config(K1).unwrap();
        let a = c.encrypt("9999999999").unwrap();
        let b = c.encrypt("9999999999").unwrap();
        assert_ne!(a, b, "a nonce is never reused");
        assert!(a.starts_with("k1:"));
        assert!(!a.contains("9999999999"));
        assert_eq!(c.decrypt(&a).unwrap(), "9999999999");
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = PiiCipher::from_config(K1).unwrap();
        let stored = old.encrypt("1234567890@SBIN0003491").unwrap();
        let rotated = PiiCipher::from_config(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.decrypt(&stored).unwrap(), "1234567890@SBIN0003491");
        assert!(rotated.encrypt("x").unwrap().starts_with("k2:"));
    }

    #[test]
    fn tampering_and_unknown_keys_fail() {
        let c = PiiCipher::from_config(K1).unwrap();
        let stored = c.encrypt("LC").unwrap();
        let mut bytes = STANDARD.decode(&stored[3..]).unwrap();
        bytes[14] ^= 1;
        let tampered = format!("k1:{}", STANDARD.encode(bytes));
        assert!(c.decrypt(&tampered).is_err());
        // The key id is authenticated: relabelling a value fails.
        let relabelled = stored.replacen("k1:", "k2:", 1);
        let both = PiiCipher::from_config(&format!("{K1},{}", K2)).unwrap();
        assert!(both.decrypt(&relabelled).is_err());
        assert!(c.decrypt("plain text").is_err());
    }

    #[test]
    fn config_errors() {
        assert!(PiiCipher::from_config("").is_err());
        assert!(PiiCipher::from_config("k1:c2hvcnQ=").is_err());
        assert!(PiiCipher::from_config("nocolon").is_err());
        assert!(PiiCipher::from_config(&format!("{K1},{K1}")).is_err());
    }
}
