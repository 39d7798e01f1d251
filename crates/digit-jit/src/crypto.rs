//! The JIT-FS ciphers, exactly as the treasury runs them (spec A2.4):
//!
//! * **AES-256/ECB/PKCS#7** (Java's `AES/ECB/PKCS5Padding` with a 32-byte key) for the
//!   session key (SEK, under the app key), the per-request key (REK, under the SEK), the
//!   request (under the SEK) and the response (under the REK); ciphertexts travel as
//!   standard, padded base64.
//! * **RSA-OAEP with SHA-1 and MGF1-SHA-1** (Java's `RSA/ECB/OAEPWithSHA-1AndMGF1Padding`)
//!   for the app key, under the treasury's X.509 SubjectPublicKeyInfo public key (DER or
//!   PEM); the PKCS#8 private key side is what the simulator decrypts with.
//!
//! ECB is the treasury's choice, not ours: it leaks equal blocks. It is kept because the
//! other side speaks nothing else; the keys are fresh per session and per request.
//!
//! Key material never appears in `Debug` output.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::rand_core::{OsRng, RngCore};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use std::path::Path;

/// Length of every AES key of the protocol (AES-256).
pub const KEY_LEN: usize = 32;
const BLOCK: usize = 16;

/// Why a cryptographic step failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Not standard base64.
    #[error("not valid base64")]
    Base64,
    /// A key of the wrong length.
    #[error("an AES key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    /// Ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    CiphertextLength(usize),
    /// The last block does not end in valid PKCS#7 padding (wrong key or corrupted data).
    #[error("bad PKCS#7 padding (wrong key or corrupted ciphertext)")]
    Padding,
    /// An RSA key could not be read.
    #[error("invalid RSA key: {0}")]
    Key(String),
    /// RSA-OAEP encryption or decryption failed.
    #[error("RSA-OAEP failed: {0}")]
    Rsa(String),
}

/// An AES-256 key (app key, SEK or REK).
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; KEY_LEN]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

impl AesKey {
    /// 32 random bytes from the operating system's CSPRNG.
    pub fn random() -> Self {
        let mut key = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// A key from exactly 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| CryptoError::KeyLength(bytes.len()))
    }

    /// A key from its base64 form (how upstream writes SEKs and REKs in clear).
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        Self::from_bytes(&decode_base64(text)?)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The base64 form.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// AES-256/ECB/PKCS#7 encryption.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256::new(GenericArray::from_slice(&self.0));
        let pad = BLOCK - plaintext.len() % BLOCK;
        let mut out = Vec::with_capacity(plaintext.len() + pad);
        out.extend_from_slice(plaintext);
        out.extend(std::iter::repeat_n(pad as u8, pad));
        for block in out.chunks_exact_mut(BLOCK) {
            cipher.encrypt_block(GenericArray::from_mut_slice(block));
        }
        out
    }

    /// AES-256/ECB/PKCS#7 decryption.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
            return Err(CryptoError::CiphertextLength(ciphertext.len()));
        }
        let cipher = Aes256::new(GenericArray::from_slice(&self.0));
        let mut out = ciphertext.to_vec();
        for block in out.chunks_exact_mut(BLOCK) {
            cipher.decrypt_block(GenericArray::from_mut_slice(block));
        }
        let pad = usize::from(*out.last().ok_or(CryptoError::Padding)?);
        if pad == 0
            || pad > BLOCK
            || out[out.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(CryptoError::Padding);
        }
        out.truncate(out.len() - pad);
        Ok(out)
    }

    /// [`AesKey::encrypt`], then base64.
    pub fn encrypt_base64(&self, plaintext: &[u8]) -> String {
        STANDARD.encode(self.encrypt(plaintext))
    }

    /// base64-decode, then [`AesKey::decrypt`].
    pub fn decrypt_base64(&self, ciphertext: &str) -> Result<Vec<u8>, CryptoError> {
        self.decrypt(&decode_base64(ciphertext)?)
    }

    /// Encrypts another key (SEK under the app key, REK under the SEK) to base64.
    pub fn wrap(&self, key: &AesKey) -> String {
        self.encrypt_base64(&key.0)
    }

    /// Decrypts a key wrapped by [`AesKey::wrap`].
    pub fn unwrap_key(&self, wrapped: &str) -> Result<AesKey, CryptoError> {
        AesKey::from_bytes(&self.decrypt_base64(wrapped)?)
    }
}

/// Standard, padded base64 (surrounding whitespace ignored).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, CryptoError> {
    STANDARD
        .decode(text.trim().as_bytes())
        .map_err(|_| CryptoError::Base64)
}

/// Standard, padded base64.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn oaep() -> Oaep {
    Oaep::new::<sha1::Sha1>()
}

/// The treasury's RSA public key (X.509 SubjectPublicKeyInfo).
#[derive(Clone, PartialEq, Eq)]
pub struct JitPublicKey(RsaPublicKey);

impl std::fmt::Debug for JitPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JitPublicKey(..)")
    }
}

impl JitPublicKey {
    /// From DER bytes (upstream's `publicKey` file: 294 bytes for RSA-2048).
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        RsaPublicKey::from_public_key_der(der)
            .map(Self)
            .map_err(|e| CryptoError::Key(e.to_string()))
    }

    /// From a PEM `-----BEGIN PUBLIC KEY-----` block.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        RsaPublicKey::from_public_key_pem(pem.trim())
            .map(Self)
            .map_err(|e| CryptoError::Key(e.to_string()))
    }

    /// PEM when the bytes look like PEM, DER otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => Self::from_pem(text),
            _ => Self::from_der(bytes),
        }
    }

    /// Reads a DER or PEM file.
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let bytes = std::fs::read(path)
            .map_err(|e| CryptoError::Key(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes)
    }

    /// RSA-OAEP(SHA-1, MGF1-SHA-1) encryption.
    pub fn encrypt(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0
            .encrypt(&mut OsRng, oaep(), data)
            .map_err(|e| CryptoError::Rsa(e.to_string()))
    }

    /// The `appKey` field of the authenticate request: base64(RSA-OAEP(app key)).
    pub fn encrypt_app_key(&self, app_key: &AesKey) -> Result<String, CryptoError> {
        self.encrypt(app_key.as_bytes()).map(|c| encode_base64(&c))
    }
}

/// The treasury's RSA private key (PKCS#8); used by the simulator.
#[derive(Clone)]
pub struct JitPrivateKey(RsaPrivateKey);

impl std::fmt::Debug for JitPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JitPrivateKey(<redacted>)")
    }
}

impl JitPrivateKey {
    /// From PKCS#8 DER bytes.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        RsaPrivateKey::from_pkcs8_der(der)
            .map(Self)
            .map_err(|e| CryptoError::Key(e.to_string()))
    }

    /// From a PEM `-----BEGIN PRIVATE KEY-----` block.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        RsaPrivateKey::from_pkcs8_pem(pem.trim())
            .map(Self)
            .map_err(|e| CryptoError::Key(e.to_string()))
    }

    /// PEM when the bytes look like PEM, DER otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => Self::from_pem(text),
            _ => Self::from_der(bytes),
        }
    }

    /// Reads a PKCS#8 DER or PEM file.
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let bytes = std::fs::read(path)
            .map_err(|e| CryptoError::Key(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes)
    }

    /// The matching public key.
    pub fn public_key(&self) -> JitPublicKey {
        JitPublicKey(self.0.to_public_key())
    }

    /// RSA-OAEP(SHA-1, MGF1-SHA-1) decryption.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.0
            .decrypt(oaep(), ciphertext)
            .map_err(|e| CryptoError::Rsa(e.to_string()))
    }

    /// The app key from the authenticate request's base64 `appKey`.
    pub fn decrypt_app_key(&self, app_key: &str) -> Result<AesKey, CryptoError> {
        AesKey::from_bytes(&self.decrypt(&decode_base64(app_key)?)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../tests/data/jit-test-vectors.json");
    /// Request files the upstream `test*Encrypt` methods encrypt, by git blob id.
    const REQUEST_FILES: &[(&str, &str)] = &[
        (
            "338203853ecc4fb2d2d97534352e0ec04fcc63e9",
            include_str!("../tests/data/request.json"),
        ),
        (
            "195fe1a2e6249de1feb22f343e1d24f079aadd9c",
            include_str!("../tests/data/2PIRequest.json"),
        ),
        (
            "78d8296a1607bcc99f40488e0af866f50b6b56e4",
            include_str!("../tests/data/3PISRequest.json"),
        ),
        (
            "a50c8061bbb0ce8752aa20dd66a2aa21b0c9ec9e",
            include_str!("../tests/data/4PAGRequest.json"),
        ),
    ];
    const SIM_PRIVATE: &str = include_str!("../../../configs/ifms/jit-simulator-private.pem");
    const SIM_PUBLIC: &str = include_str!("../../../configs/ifms/jit-simulator-public.pem");
    const UPSTREAM_PUBLIC_DER: &[u8] = include_bytes!("../tests/data/publicKey");

    fn vectors(method: &str) -> Vec<(String, Value)> {
        let all: Value = serde_json::from_str(VECTORS).unwrap();
        let mut out = Vec::new();
        for source in all["sources"].as_array().unwrap() {
            let label = source["label"].as_str().unwrap().to_owned();
            for v in source["vectors"].as_array().unwrap() {
                if v["method"] == method {
                    out.push((label.clone(), v.clone()));
                }
            }
        }
        out
    }

    fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
        let mut cur = v;
        for p in path {
            cur = &cur[*p];
        }
        cur.as_str()
            .unwrap_or_else(|| panic!("missing {path:?} in {v}"))
    }

    #[test]
    fn test_decrypt_response_yields_the_va_response() {
        let all = vectors("testDecryptResponse");
        assert!(all.len() >= 5);
        for (label, v) in all {
            let rek = AesKey::from_base64(s(&v, &["upstream", "rek"])).unwrap();
            let plain = rek
                .decrypt_base64(s(&v, &["upstream", "ciphertext"]))
                .unwrap();
            let text = String::from_utf8(plain).unwrap();
            assert_eq!(text, s(&v, &["derived", "plaintext_utf8"]), "{label}");
        }
        // The master-branch vector is the VA response A2.4 names.
        let (_, master) = &vectors("testDecryptResponse")[0];
        let rek = AesKey::from_base64(s(master, &["upstream", "rek"])).unwrap();
        let plain = rek
            .decrypt_base64(s(master, &["upstream", "ciphertext"]))
            .unwrap();
        let response: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(response["serviceId"], "VA");
        assert_eq!(response["data"][0]["ddoCode"], "OLSHUD001");
    }

    #[test]
    fn test_decrypt_sek_master_vector_is_known_bad_padding() {
        let mut bad = 0;
        let mut good = 0;
        for (label, v) in vectors("testDecryptSek") {
            let app_key = AesKey::from_base64(s(&v, &["upstream", "appKey"])).unwrap();
            let result = app_key.unwrap_key(s(&v, &["upstream", "ciphertext"]));
            if v["derived"]["decrypts_ok"] == false {
                assert_eq!(result, Err(CryptoError::Padding), "{label}");
                bad += 1;
            } else {
                let sek = result.unwrap();
                assert_eq!(
                    sek.to_base64(),
                    s(&v, &["derived", "plaintext_base64"]),
                    "{label}"
                );
                good += 1;
            }
        }
        assert_eq!(bad, 2, "master and BASE_MUKTA_v1.1.1 carry the broken pair");
        assert!(good >= 3);
    }

    #[test]
    fn test_encrypt_vectors_reproduce_rek_and_request_ciphertexts() {
        let mut checked_requests = 0;
        let mut checked_reks = 0;
        for method in [
            "testEncrypt",
            "testVAEncrypt",
            "testPIEncrypt",
            "testPISEncrypt",
            "testPAGEncrypt",
        ] {
            for (label, v) in vectors(method) {
                let up = &v["upstream"];
                let key_b64 = up["sekString"]
                    .as_str()
                    .or(up["secretKey"].as_str())
                    .unwrap();
                let sek = AesKey::from_base64(key_b64).unwrap();
                let rek = AesKey::from_base64(s(&v, &["upstream", "rek"])).unwrap();
                assert_eq!(
                    sek.wrap(&rek),
                    s(&v, &["derived", "encrypted_rek_base64"]),
                    "{label} {method} rek"
                );
                assert_eq!(
                    sek.unwrap_key(s(&v, &["derived", "encrypted_rek_base64"]))
                        .unwrap(),
                    rek
                );
                checked_reks += 1;
                let body = match up["requestBody"].as_str() {
                    Some(body) => Some(body),
                    None => v["derived"]["request_file_blob"].as_str().and_then(|blob| {
                        REQUEST_FILES
                            .iter()
                            .find(|(id, _)| *id == blob)
                            .map(|(_, text)| *text)
                    }),
                };
                let want = v["derived"]["encrypted_request_body_base64"]
                    .as_str()
                    .or(v["derived"]["encrypted_request_file_base64"].as_str())
                    .unwrap();
                if let Some(body) = body {
                    assert_eq!(
                        sek.encrypt_base64(body.as_bytes()),
                        want,
                        "{label} {method} request"
                    );
                    assert_eq!(sek.decrypt_base64(want).unwrap(), body.as_bytes());
                    checked_requests += 1;
                }
            }
        }
        assert_eq!(checked_reks, 21);
        // Two vectors encrypt request files of other versions (blobs not vendored).
        assert_eq!(checked_requests, 19);
    }

    #[test]
    fn test_ifms_decrypt_response_is_a_cor_error() {
        let all = vectors("testIFMSDecryptResponse");
        assert_eq!(all.len(), 1);
        let (_, v) = &all[0];
        let rek = AesKey::from_base64(s(v, &["upstream", "rek"])).unwrap();
        let plain = rek
            .decrypt_base64(s(v, &["upstream", "ciphertext"]))
            .unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            s(v, &["derived", "plaintext_utf8"])
        );
    }

    #[test]
    fn aes_round_trips_and_rejects_bad_input() {
        let key = AesKey::random();
        assert_ne!(key, AesKey::random());
        for len in [0usize, 1, 15, 16, 17, 31, 32, 1000] {
            let plain = vec![7u8; len];
            let c = key.encrypt(&plain);
            assert_eq!(c.len(), (len / 16 + 1) * 16);
            assert_eq!(key.decrypt(&c).unwrap(), plain);
        }
        assert_eq!(key.decrypt(&[]), Err(CryptoError::CiphertextLength(0)));
        assert_eq!(
            key.decrypt(&[0; 15]),
            Err(CryptoError::CiphertextLength(15))
        );
        let other = AesKey::random();
        // A wrong key almost always yields bad padding (1/256-ish chance of a valid 0x01).
        let c = key.encrypt(b"{\"serviceId\":\"VA\"}");
        assert!(other
            .decrypt(&c)
            .map(|p| p != b"{\"serviceId\":\"VA\"}")
            .unwrap_or(true));
        assert_eq!(key.decrypt_base64("not base64!"), Err(CryptoError::Base64));
        assert_eq!(
            AesKey::from_bytes(&[1; 16]),
            Err(CryptoError::KeyLength(16))
        );
        assert_eq!(format!("{key:?}"), "AesKey(<redacted>)");
    }

    #[test]
    fn rsa_oaep_sha1_round_trips_with_the_simulator_keys() {
        let private = JitPrivateKey::from_pem(SIM_PRIVATE).unwrap();
        let public = JitPublicKey::from_bytes(SIM_PUBLIC.as_bytes()).unwrap();
        assert_eq!(private.public_key(), public);
        let app_key = AesKey::random();
        let sent = public.encrypt_app_key(&app_key).unwrap();
        assert_eq!(decode_base64(&sent).unwrap().len(), 256);
        assert_eq!(private.decrypt_app_key(&sent).unwrap(), app_key);
        // OAEP is randomised: two encryptions differ.
        assert_ne!(public.encrypt_app_key(&app_key).unwrap(), sent);
        assert!(matches!(
            private.decrypt_app_key("AAAA"),
            Err(CryptoError::Rsa(_))
        ));
        assert!(format!("{private:?}").contains("redacted"));
    }

    #[test]
    fn upstream_der_public_key_is_accepted() {
        assert_eq!(UPSTREAM_PUBLIC_DER.len(), 294);
        let key = JitPublicKey::from_bytes(UPSTREAM_PUBLIC_DER).unwrap();
        let c = key.encrypt(&[1; 32]).unwrap();
        assert_eq!(c.len(), 256);
        assert!(JitPublicKey::from_bytes(b"garbage").is_err());
        assert!(JitPublicKey::from_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err());
    }
}
