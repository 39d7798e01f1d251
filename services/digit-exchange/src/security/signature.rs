//! Upstream's signature (spec §2.4): `Base64(RSASSA-PKCS1-v1_5-SHA256(UTF-8 bytes of the
//! message string))`, standard Base64 with padding, in the envelope's `signature`.
//!
//! Keys are read the way upstream's `SecurityService` reads them — the PEM markers and all
//! whitespace are removed and the rest is Base64-decoded — so the single-line PEM of
//! upstream's `app.auth.private-key` works as well as a normal multi-line file. Private keys
//! are PKCS#8 (upstream) or PKCS#1 (`BEGIN RSA PRIVATE KEY`); public keys are X.509
//! SubjectPublicKeyInfo (upstream) or PKCS#1 (`BEGIN RSA PUBLIC KEY`). A literal `\n` (two
//! characters, as environment variables and Helm values often carry PEM text) counts as
//! whitespace.

use super::SecurityError;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// Base64 decoding as Java's `Base64.getDecoder()`: the standard alphabet, padding optional.
pub(crate) const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard Base64 with padding (upstream's `Base64.getEncoder()`).
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The smallest modulus accepted (upstream uses RSA-2048).
pub const MIN_KEY_BITS: usize = 2048;

/// This exchange's RSA private key: signs outgoing messages and seals, opens messages
/// encrypted for this domain. `Debug` never shows the key.
#[derive(Clone)]
pub struct Signer {
    private: RsaPrivateKey,
    signing: SigningKey<Sha256>,
    public: PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// Parses a PKCS#8 (upstream) or PKCS#1 RSA private key with upstream's rules (markers
    /// and whitespace stripped, Base64-decoded). Error: [`SecurityError::InvalidKey`].
    pub fn from_pem(pem: &str) -> Result<Self, SecurityError> {
        let der = pem_body(pem)?;
        let private = RsaPrivateKey::from_pkcs8_der(&der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
            .map_err(|e| SecurityError::InvalidKey(format!("not an RSA private key: {e}")))?;
        Self::from_key(private)
    }

    /// A signer for an already parsed key (at least [`MIN_KEY_BITS`]).
    pub fn from_key(private: RsaPrivateKey) -> Result<Self, SecurityError> {
        use rsa::traits::PublicKeyParts as _;
        if private.size() * 8 < MIN_KEY_BITS {
            return Err(SecurityError::InvalidKey(format!(
                "RSA key of {} bits; at least {MIN_KEY_BITS} required",
                private.size() * 8
            )));
        }
        private
            .validate()
            .map_err(|e| SecurityError::InvalidKey(format!("invalid RSA private key: {e}")))?;
        let public = PublicKey::from_key(private.to_public_key())?;
        Ok(Self {
            signing: SigningKey::<Sha256>::new(private.clone()),
            private,
            public,
        })
    }

    /// Upstream's signature of `message`: Base64 (standard, padded) of
    /// RSASSA-PKCS1-v1_5-SHA256 over its UTF-8 bytes. Deterministic (the random blinding
    /// of the private-key operation does not change the result).
    pub fn sign(&self, message: &str) -> String {
        self.sign_bytes(message.as_bytes())
    }

    /// [`Signer::sign`] over raw bytes (the seal's canonical bytes).
    pub fn sign_bytes(&self, bytes: &[u8]) -> String {
        let signature: Signature = self.signing.sign_with_rng(&mut aes_gcm::aead::OsRng, bytes);
        b64(&signature.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The matching public key as an X.509 SubjectPublicKeyInfo PEM (LF line endings) —
    /// what the peers register for this exchange.
    pub fn public_key_pem(&self) -> String {
        self.public.pem.clone()
    }

    /// The private key (encryption module).
    pub(crate) fn private_key(&self) -> &RsaPrivateKey {
        &self.private
    }
}

/// A peer's RSA public key (a registry row's `public_key`), parsed.
#[derive(Clone)]
pub struct PublicKey {
    key: RsaPublicKey,
    verifying: VerifyingKey<Sha256>,
    pem: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").finish_non_exhaustive()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl PublicKey {
    /// Parses an X.509 SubjectPublicKeyInfo (upstream) or PKCS#1 RSA public key with
    /// upstream's rules (whitespace and markers stripped, Base64-decoded). Error:
    /// [`SecurityError::InvalidKey`].
    pub fn from_pem(pem: &str) -> Result<Self, SecurityError> {
        let der = pem_body(pem)?;
        let key = RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
            .map_err(|e| SecurityError::InvalidKey(format!("not an RSA public key: {e}")))?;
        Self::from_key(key)
    }

    /// A public key from a parsed RSA key (at least [`MIN_KEY_BITS`]).
    pub fn from_key(key: RsaPublicKey) -> Result<Self, SecurityError> {
        use rsa::traits::PublicKeyParts as _;
        if key.size() * 8 < MIN_KEY_BITS {
            return Err(SecurityError::InvalidKey(format!(
                "RSA key of {} bits; at least {MIN_KEY_BITS} required",
                key.size() * 8
            )));
        }
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SecurityError::InvalidKey(format!("cannot encode the key: {e}")))?;
        Ok(Self {
            verifying: VerifyingKey::<Sha256>::new(key.clone()),
            key,
            pem,
        })
    }

    /// Checks upstream's signature of `message` (see [`Signer::sign`]). Any failure —
    /// not Base64, wrong length, wrong key, altered message — is
    /// [`SecurityError::InvalidSignature`].
    pub fn verify(&self, message: &str, signature: &str) -> Result<(), SecurityError> {
        self.verify_bytes(message.as_bytes(), signature)
            .map_err(|()| SecurityError::InvalidSignature("Signature is not valid".into()))
    }

    /// Checks a Base64 PKCS#1 v1.5 SHA-256 signature over raw bytes.
    pub(crate) fn verify_bytes(&self, bytes: &[u8], signature: &str) -> Result<(), ()> {
        let raw = LENIENT_B64
            .decode(strip_whitespace(signature).as_bytes())
            .map_err(|_| ())?;
        let signature = Signature::try_from(raw.as_slice()).map_err(|_| ())?;
        self.verifying.verify(bytes, &signature).map_err(|_| ())
    }

    /// The key as an X.509 SubjectPublicKeyInfo PEM (LF line endings).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The RSA key (encryption module).
    pub(crate) fn rsa(&self) -> &RsaPublicKey {
        &self.key
    }
}

/// Verifies upstream's signature of `message` with the public key in `public_pem` (X.509
/// SPKI, upstream's parsing). Errors: [`SecurityError::InvalidKey`] when the key does not
/// parse, [`SecurityError::InvalidSignature`] when the signature does not match.
pub fn verify(public_pem: &str, message: &str, signature: &str) -> Result<(), SecurityError> {
    PublicKey::from_pem(public_pem)?.verify(message, signature)
}

/// The DER bytes of a PEM text, read as upstream does: every `-----BEGIN …-----` and
/// `-----END …-----` marker and all whitespace (and literal `\n`) removed, then Base64.
fn pem_body(pem: &str) -> Result<Vec<u8>, SecurityError> {
    let mut text = pem.replace("\\n", "\n").replace("\\r", "\r");
    for marker in ["-----BEGIN", "-----END"] {
        while let Some(start) = text.find(marker) {
            let after = start + marker.len();
            let end = text[after..]
                .find("-----")
                .map(|i| after + i + 5)
                .ok_or_else(|| SecurityError::InvalidKey("unterminated PEM marker".into()))?;
            text.replace_range(start..end, "");
        }
    }
    let body = strip_whitespace(&text);
    if body.is_empty() {
        return Err(SecurityError::InvalidKey("empty key".into()));
    }
    LENIENT_B64
        .decode(body.as_bytes())
        .map_err(|e| SecurityError::InvalidKey(format!("key is not Base64: {e}")))
}

fn strip_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
