//! Password hashes: PBKDF2-HMAC-SHA256 (RFC 8018) with a per-user random salt, stored as
//! `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`. Comparison is constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Rounds of new hashes (OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600 000; 100 000 keeps a
/// login at ~0.1 s on one core of the project's machine — configurable by re-hashing).
pub const DEFAULT_ITERATIONS: u32 = 100_000;

fn prf(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (one block).
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = prf(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = prf(password, &u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

/// A new hash of `password` (fresh random salt).
pub fn hash(password: &str, iterations: u32) -> String {
    let salt = uuid::Uuid::new_v4();
    let digest = pbkdf2_sha256(password.as_bytes(), salt.as_bytes(), iterations);
    format!(
        "pbkdf2-sha256${iterations}${}${}",
        hex::encode(salt.as_bytes()),
        hex::encode(digest)
    )
}

/// Whether `password` matches `stored` (an unreadable hash matches nothing).
pub fn verify(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iterations), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(iterations), Ok(salt), Ok(expected)) = (
        iterations.parse::<u32>(),
        hex::decode(salt),
        hex::decode(expected),
    ) else {
        return false;
    };
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let actual = pbkdf2_sha256(password.as_bytes(), &salt, iterations);
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_the_published_vectors() {
        // PBKDF2-HMAC-SHA256 test vectors (RFC 7914 §11 lineage; "password"/"salt").
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"password", b"salt", 2)),
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        );
    }

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("eGov@123", 1000);
        let b = hash("eGov@123", 1000);
        assert_ne!(a, b, "salted");
        assert!(verify("eGov@123", &a));
        assert!(!verify("eGov@124", &a));
        assert!(!verify("eGov@123", "plain"));
        assert!(!verify("eGov@123", "pbkdf2-sha256$0$00$00"));
    }
}
