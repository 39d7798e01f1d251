//! The seal: our extension that protects the header too (spec §5 item 11).
//!
//! Upstream signs only the `message` string, so the receiver, type, action and ids of a
//! message can be changed in transit. Our exchanges add a top-level envelope field
//! `"seal"` — which upstream's Jackson models ignore, so an upstream peer still accepts the
//! message on its `signature` alone — holding
//! `Base64(RSASSA-PKCS1-v1_5-SHA256(canonical bytes))` with the same key as the signature.
//!
//! The canonical bytes are the UTF-8 of seven lines joined by `"\n"` (no trailing newline):
//!
//! ```text
//! <lower-case hex SHA-256 of the message string's UTF-8 bytes>
//! <message_id>
//! <message_ts as a decimal integer>
//! <message_type>
//! <action>
//! <sender_id>
//! <receiver_id>
//! ```
//!
//! The values are the header's exactly as carried (no trimming or case folding); a field
//! containing a newline cannot be sealed unambiguously and is refused by [`canonical`].

use super::{PublicKey, SecurityError, Signer};
use sha2::{Digest, Sha256};

/// What a seal covers: the `message` string and the header fields that steer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealInput<'a> {
    /// The envelope's `message` string, exactly as carried (ciphertext when encrypted).
    pub message: &'a str,
    /// `header.message_id`.
    pub message_id: &'a str,
    /// `header.message_ts` (epoch milliseconds).
    pub message_ts: i64,
    /// `header.message_type` (lower case, e.g. `on-program`).
    pub message_type: &'a str,
    /// `header.action` (`create`, `update`, `search`).
    pub action: &'a str,
    /// `header.sender_id`.
    pub sender_id: &'a str,
    /// `header.receiver_id`.
    pub receiver_id: &'a str,
}

/// Lower-case hex SHA-256 of the message string (also the replay key's message digest).
pub fn message_digest(message: &str) -> String {
    hex(&Sha256::digest(message.as_bytes()))
}

/// The canonical bytes of the module documentation. Error: [`SecurityError::InvalidSeal`]
/// when a header field contains a newline.
pub fn canonical(input: &SealInput<'_>) -> Result<Vec<u8>, SecurityError> {
    let fields = [
        input.message_id,
        input.message_type,
        input.action,
        input.sender_id,
        input.receiver_id,
    ];
    if fields.iter().any(|f| f.contains(['\n', '\r'])) {
        return Err(SecurityError::InvalidSeal(
            "A header field contains a line break".into(),
        ));
    }
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}",
        message_digest(input.message),
        input.message_id,
        input.message_ts,
        input.message_type,
        input.action,
        input.sender_id,
        input.receiver_id
    );
    Ok(text.into_bytes())
}

/// The seal of `input` with this exchange's key (Base64, standard, padded). Error:
/// [`SecurityError::InvalidSeal`] when a header field contains a newline.
pub fn seal(signer: &Signer, input: &SealInput<'_>) -> Result<String, SecurityError> {
    Ok(signer.sign_bytes(&canonical(input)?))
}

/// Checks `seal` against the sender's public key PEM. Errors:
/// [`SecurityError::InvalidKey`] (the PEM does not parse), [`SecurityError::InvalidSeal`].
pub fn check(public_pem: &str, input: &SealInput<'_>, seal: &str) -> Result<(), SecurityError> {
    check_with(&PublicKey::from_pem(public_pem)?, input, seal)
}

/// [`check`] with a parsed key.
pub fn check_with(key: &PublicKey, input: &SealInput<'_>, seal: &str) -> Result<(), SecurityError> {
    let bytes = canonical(input)?;
    key.verify_bytes(&bytes, seal)
        .map_err(|()| SecurityError::InvalidSeal("Seal is not valid".into()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::signature::tests::{signer1, PRIVATE_2, PUBLIC_1, PUBLIC_2};

    const MESSAGE: &str = r#"{"id":"p1","name":"Program 1","status":{"status_code":"RECEIVED"}}"#;

    fn input() -> SealInput<'static> {
        SealInput {
            message: MESSAGE,
            message_id: "m-1",
            message_ts: 1_764_547_200_000,
            message_type: "program",
            action: "create",
            sender_id: "program@http://127.0.0.1:8084/digit-exchange",
            receiver_id: "program@http://127.0.0.1:8094/digit-exchange",
        }
    }

    #[test]
    fn canonical_bytes_are_the_documented_lines() {
        let text = String::from_utf8(canonical(&input()).unwrap()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(
            lines,
            [
                message_digest(MESSAGE).as_str(),
                "m-1",
                "1764547200000",
                "program",
                "create",
                "program@http://127.0.0.1:8084/digit-exchange",
                "program@http://127.0.0.1:8094/digit-exchange",
            ]
        );
        assert_eq!(
            message_digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn seal_checks_with_the_signer_key_only() {
        let s = seal(&signer1(), &input()).unwrap();
        check(PUBLIC_1, &input(), &s).unwrap();
        assert!(matches!(
            check(PUBLIC_2, &input(), &s),
            Err(SecurityError::InvalidSeal(_))
        ));
        let other = Signer::from_pem(PRIVATE_2).unwrap();
        check(PUBLIC_2, &input(), &seal(&other, &input()).unwrap()).unwrap();
    }

    #[test]
    fn every_sealed_field_is_protected() {
        let s = seal(&signer1(), &input()).unwrap();
        let base = input();
        let tampered = [
            SealInput {
                message: r#"{"id":"p1","name":"Program 2","status":{"status_code":"RECEIVED"}}"#,
                ..base
            },
            SealInput {
                message_id: "m-2",
                ..base
            },
            SealInput {
                message_ts: base.message_ts + 1,
                ..base
            },
            SealInput {
                message_type: "on-program",
                ..base
            },
            SealInput {
                action: "update",
                ..base
            },
            SealInput {
                sender_id: "program@http://127.0.0.1:9999/digit-exchange",
                ..base
            },
            SealInput {
                receiver_id: "program@http://evil.example/digit-exchange",
                ..base
            },
        ];
        for t in tampered {
            assert!(
                matches!(check(PUBLIC_1, &t, &s), Err(SecurityError::InvalidSeal(_))),
                "{t:?}"
            );
        }
        // A signature over the message is not a seal.
        let signature = signer1().sign(MESSAGE);
        assert!(check(PUBLIC_1, &base, &signature).is_err());
        assert!(check(PUBLIC_1, &base, "").is_err());
    }

    #[test]
    fn line_breaks_in_fields_are_refused() {
        let bad = SealInput {
            message_id: "m-1\nprogram",
            ..input()
        };
        assert!(matches!(
            seal(&signer1(), &bad),
            Err(SecurityError::InvalidSeal(_))
        ));
        // A line break in the message itself is fine: it is hashed.
        let multi = SealInput {
            message: "{\n}",
            ..input()
        };
        let s = seal(&signer1(), &multi).unwrap();
        check(PUBLIC_1, &multi, &s).unwrap();
    }
}
