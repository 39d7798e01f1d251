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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    pub(crate) const PRIVATE_1: &str =
        include_str!("../../../../configs/exchange/sample_private_key1.pem");
    pub(crate) const PUBLIC_1: &str =
        include_str!("../../../../configs/exchange/sample_public_key1.pem");
    pub(crate) const PRIVATE_2: &str =
        include_str!("../../../../configs/exchange/sample_private_key-2.pem");
    pub(crate) const PUBLIC_2: &str =
        include_str!("../../../../configs/exchange/sample_public_key-2.pem");
    const VECTORS: &str = include_str!(
        "../../../../configs/exchange/test-vectors/EncryptionDecryptionTest.vectors.json"
    );
    const PROGRAM_MESSAGE: &str = include_str!(
        "../../../../configs/exchange/test-vectors/validateMessage.program-message.json"
    );
    const DISBURSE_MESSAGE: &str =
        include_str!("../../../../configs/exchange/test-vectors/signMessage.disburse-message.json");
    const DOUBLE_MESSAGE: &str = include_str!(
        "../../../../configs/exchange/test-vectors/signMessage1.two-concatenated-program-messages.txt"
    );

    /// Spec §2.4 (message, no trailing newline).
    const SPEC_MESSAGE: &str = r#"{"location_code":"pg.citya","name":"Test 1","start_date":0,"end_date":0,"client_host_url":"https://unified-dev.digit.org","function_code":"string","administration_code":"string","recipient_segment_code":"string","economic_segment_code":"string","source_of_fund_code":"string","target_segment_code":"string","currency_code":"string","locale_code":"string","status":{"status_code":"RECEIVED","status_message":"string"}}"#;
    /// Spec §2.4 signature.
    pub(crate) const SPEC_SIGNATURE: &str = "TgE1hcA2E+YPMdPGz4vveKQpR0x+pgzRTlet52qh63Kekr71vWWScXqaRFtQW64uRFZGBUhHYYZQ2y6LffwnNOOQhhssaThhqVBhXNEwX9i75SNYXi5XSJVDYzSyHrhF20HW6RE9mAVWdc80i7d+FXlh+b/U+fnj+SrZ2s6Xd0WUZvU29LgqeUpyznlWLu1mDdJxNZavsDLWmxjTnknqBjDvwSc35WhFDhXDA2lWmm8YpZ1Y6TBmvvtVS7mAOTnhFy9sdCbrLcfXk5QWIsdzlvPqlkvdwEf30OZ6ewb680Aj3hO2OT5LCv7iLyz7C7srnB9lJT5gXiw+eSnktPXlDA==";

    pub(crate) fn signer1() -> Signer {
        Signer::from_pem(PRIVATE_1).unwrap()
    }

    fn vector(method: &str) -> Value {
        let all: Value = serde_json::from_str(VECTORS).unwrap();
        all["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["method"] == method)
            .cloned()
            .unwrap()
    }

    #[test]
    fn upstream_vector_signs_byte_for_byte() {
        assert_eq!(PROGRAM_MESSAGE, SPEC_MESSAGE);
        assert_eq!(signer1().sign(SPEC_MESSAGE), SPEC_SIGNATURE);
    }

    #[test]
    fn upstream_vector_verifies_with_key_1_only() {
        verify(PUBLIC_1, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap();
        let err = verify(PUBLIC_2, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap_err();
        assert!(matches!(err, SecurityError::InvalidSignature(_)), "{err}");
        // Not over message+message either (upstream's signMessage1 experiment).
        let twice = format!("{SPEC_MESSAGE}{SPEC_MESSAGE}");
        assert!(verify(PUBLIC_1, &twice, SPEC_SIGNATURE).is_err());
    }

    #[test]
    fn test_vector_file_validate_message() {
        let t = vector("validateMessage");
        let message = t["upstream"]["message"].as_str().unwrap();
        let signature = t["upstream"]["signature"].as_str().unwrap();
        assert_eq!(signature, SPEC_SIGNATURE);
        assert!(verify(PUBLIC_1, message, signature).is_ok());
        assert!(verify(PUBLIC_2, message, signature).is_err());
        assert_eq!(t["derived"]["verifies_with_endpointOnePublicKey"], true);
        assert_eq!(t["derived"]["verifies_with_endpointTwoPublicKey"], false);
    }

    #[test]
    fn test_vector_file_sign_message_with_key_2() {
        let t = vector("signMessage");
        let message = t["upstream"]["message"].as_str().unwrap();
        assert_eq!(message, DISBURSE_MESSAGE);
        let expected = t["derived"]["expected_signature_base64"].as_str().unwrap();
        let signer = Signer::from_pem(PRIVATE_2).unwrap();
        assert_eq!(signer.sign(message), expected);
        verify(PUBLIC_2, message, expected).unwrap();
        assert!(verify(PUBLIC_1, message, expected).is_err());
    }

    #[test]
    fn test_vector_file_sign_message1_two_concatenated() {
        let t = vector("signMessage1");
        let message = t["upstream"]["message"].as_str().unwrap();
        assert_eq!(message, DOUBLE_MESSAGE);
        assert_eq!(message, format!("{SPEC_MESSAGE}{SPEC_MESSAGE}"));
        let expected = t["derived"]["expected_signature_base64"].as_str().unwrap();
        assert_eq!(signer1().sign(message), expected);
    }

    #[test]
    fn test_vector_file_keys_are_the_sample_files() {
        let all: Value = serde_json::from_str(VECTORS).unwrap();
        let keys = &all["keys"];
        let pem = |k: &str| keys[k]["pem"].as_str().unwrap().to_owned();
        assert_eq!(pem("endpointOnePrivateKey").trim(), PRIVATE_1.trim());
        assert_eq!(pem("endpointOnePublicKey").trim(), PUBLIC_1.trim());
        assert_eq!(pem("endpointTwoPrivateKey").trim(), PRIVATE_2.trim());
        assert_eq!(pem("endpointTwoPublicKey").trim(), PUBLIC_2.trim());
        assert_eq!(
            signer1().public_key(),
            &PublicKey::from_pem(PUBLIC_1).unwrap()
        );
    }

    /// Upstream's `encrypt` (JCE "RSA" with the private key) is an unhashed PKCS#1 v1.5
    /// type-1 block — a raw signature; its `decrypt` with the public key recovers it. We do
    /// not offer it (no confidentiality), but reproduce both vectors to document it.
    #[test]
    fn test_vector_file_upstream_private_key_encrypt_and_public_key_decrypt() {
        use rsa::traits::PublicKeyParts as _;
        use rsa::BigUint;
        let recover = |public: &str, b64: &str| -> Option<String> {
            let key = PublicKey::from_pem(public).unwrap();
            let c = BigUint::from_bytes_be(&LENIENT_B64.decode(b64).unwrap());
            let m = c.modpow(key.rsa().e(), key.rsa().n()).to_bytes_be();
            // Left-padded block: 00 01 FF.. 00 data (the leading 00 is lost in to_bytes_be).
            let rest = m.strip_prefix(&[1u8])?;
            let zero = rest.iter().position(|b| *b != 0xff)?;
            (rest[zero] == 0 && zero >= 8)
                .then(|| String::from_utf8(rest[zero + 1..].to_vec()).ok())
                .flatten()
        };
        let t = vector("encryptMessage");
        let plain = t["upstream"]["message"].as_str().unwrap();
        let expected = t["derived"]["expected_ciphertext_base64"].as_str().unwrap();
        let raw = signer1()
            .private
            .sign(rsa::Pkcs1v15Sign::new_unprefixed(), plain.as_bytes())
            .unwrap();
        assert_eq!(b64(&raw), expected);
        assert_eq!(recover(PUBLIC_1, expected).as_deref(), Some(plain));

        let t = vector("decryptMessage");
        let ct = t["upstream"]["signature"].as_str().unwrap();
        assert_eq!(recover(PUBLIC_1, ct), None);
        assert_eq!(
            recover(PUBLIC_2, ct).as_deref(),
            Some("Hello World with second key")
        );
    }

    #[test]
    fn upstream_parsing_rules() {
        // Single-line PEM (upstream's app.auth.private-key) and escaped newlines.
        let single: String = PRIVATE_1.lines().collect();
        assert_eq!(
            Signer::from_pem(&single).unwrap().sign(SPEC_MESSAGE),
            SPEC_SIGNATURE
        );
        let escaped = PRIVATE_1.replace('\n', "\\n");
        assert_eq!(
            Signer::from_pem(&escaped).unwrap().sign(SPEC_MESSAGE),
            SPEC_SIGNATURE
        );
        // Public key with the markers' spaces removed (upstream strips whitespace first).
        let squashed: String = PUBLIC_1.chars().filter(|c| !c.is_whitespace()).collect();
        verify(&squashed, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap();
        // A bare Base64 body.
        let body: String = PUBLIC_1
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        verify(&body, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap();
        // Unpadded signature (Java's decoder accepts it).
        verify(PUBLIC_1, SPEC_MESSAGE, SPEC_SIGNATURE.trim_end_matches('=')).unwrap();
    }

    #[test]
    fn pkcs1_keys_are_accepted() {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        let signer = signer1();
        let pkcs1 = signer.private.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert_eq!(
            Signer::from_pem(&pkcs1).unwrap().sign(SPEC_MESSAGE),
            SPEC_SIGNATURE
        );
        let public = signer
            .private
            .to_public_key()
            .to_pkcs1_pem(LineEnding::LF)
            .unwrap();
        assert!(public.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        verify(&public, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap();
    }

    #[test]
    fn public_key_pem_round_trips() {
        let pem = signer1().public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(strip(&pem), strip(PUBLIC_1));
        verify(&pem, SPEC_MESSAGE, SPEC_SIGNATURE).unwrap();
    }

    #[test]
    fn bad_keys_and_signatures() {
        for bad in [
            "",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
            "not base64!",
            "QUJD",
        ] {
            assert!(
                matches!(PublicKey::from_pem(bad), Err(SecurityError::InvalidKey(_))),
                "{bad}"
            );
            assert!(
                matches!(Signer::from_pem(bad), Err(SecurityError::InvalidKey(_))),
                "{bad}"
            );
        }
        // A private key is not a public key.
        assert!(PublicKey::from_pem(PRIVATE_1).is_err());
        for bad in ["", "%%%", "QUJD", &SPEC_SIGNATURE[4..]] {
            assert!(matches!(
                verify(PUBLIC_1, SPEC_MESSAGE, bad),
                Err(SecurityError::InvalidSignature(_))
            ));
        }
        let tampered = SPEC_MESSAGE.replace("Test 1", "Test 2");
        assert!(verify(PUBLIC_1, &tampered, SPEC_SIGNATURE).is_err());
        // Debug shows no key material.
        assert!(!format!("{:?}", signer1()).contains("MII"));
    }
}
