//! Signatures, seals, replay protection and encryption between exchanges (spec §2.4, §2.5,
//! §5 items 11, 12, 14).
//!
//! - [`signature`]: upstream's `signature` — SHA256withRSA over the `message` string,
//!   byte-identical to upstream's (its test vector reproduces exactly).
//! - [`seal`]: our `seal` — the same key over the message digest **and** the header fields
//!   that steer the message (ids, timestamp, type, action, sender, receiver). Upstream
//!   peers ignore the field; peers registered with `seal_required` must send a valid one.
//! - [`replay`]: the `message_ts` window and the table of messages already seen.
//! - [`encryption`]: `is_msg_encrypted` — RSA-OAEP-SHA256 + AES-256-GCM for the
//!   receiving domain's registered key.
//! - [`Guard`]: the one inbound check of the HTTP edge, in the order sender → signature →
//!   seal → timestamp → replay, against the sender's **active** registry keys (any of them
//!   may match: key rotation).
//!
//! Every failure is a [`SecurityError`], rendered as a DIGIT error envelope
//! (`{"ResponseInfo":null,"Errors":[{"code":"INVALID_SIGNATURE",…}]}`) with its status.
//! No function here logs a message body or key material.

pub mod encryption;
pub mod replay;
pub mod seal;
pub mod signature;

pub use replay::Seen;
pub use seal::SealInput;
pub use signature::{verify, PublicKey, Signer};

use crate::registry::{ExchangeServer, Registry};
use digit_core::participant;
use digit_core::{DigitError, ErrorDetail};
use digit_service::config::{ConfigError, Env, EnvVar};

/// `APP_AUTH_PRIVATE_KEY`: the signing key as PEM text.
pub const PRIVATE_KEY: EnvVar = EnvVar {
    name: "APP_AUTH_PRIVATE_KEY",
    aliases: &["APP_AUTH_PRIVATEKEY"],
    default: "",
    help: "this exchange's RSA private key, PEM text (PKCS#8 as upstream's app.auth.private-key, or PKCS#1); required unless APP_AUTH_PRIVATE_KEY_PATH is set",
};

/// `APP_AUTH_PRIVATE_KEY_PATH`: the signing key as a file.
pub const PRIVATE_KEY_PATH: EnvVar = EnvVar {
    name: "APP_AUTH_PRIVATE_KEY_PATH",
    aliases: &[],
    default: "",
    help:
        "file holding this exchange's RSA private key PEM (used when APP_AUTH_PRIVATE_KEY is empty)",
};

/// `APP_AUTH_SIGN_VALIDATION`: verify inbound messages (upstream's switch; on by default).
pub const SIGN_VALIDATION: EnvVar = EnvVar {
    name: "APP_AUTH_SIGN_VALIDATION",
    aliases: &[],
    default: "true",
    help: "verify the signature (and, for seal_required peers, the seal and replay) of messages received from another domain; upstream's default is false",
};

/// `EXCHANGE_REPLAY_WINDOW_MS`: how far `message_ts` may be from now.
pub const REPLAY_WINDOW_MS: EnvVar = EnvVar {
    name: "EXCHANGE_REPLAY_WINDOW_MS",
    aliases: &[],
    default: "300000",
    help: "sealed messages whose message_ts is further than this from now (either way) are refused as REPLAYED_MESSAGE (409); seen messages are kept twice as long",
};

/// The security settings (for `INFO.env` and `--help`).
pub const VARS: &[EnvVar] = &[
    PRIVATE_KEY,
    PRIVATE_KEY_PATH,
    SIGN_VALIDATION,
    REPLAY_WINDOW_MS,
];

/// Everything that can go wrong in signing, sealing, replay checks and encryption.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// The `signature` does not verify with any active key of the sender (HTTP 401).
    #[error("INVALID_SIGNATURE: {0}")]
    InvalidSignature(String),
    /// The sender's host URL has no active registry row, or no URL (HTTP 403).
    #[error("UNKNOWN_SENDER: {0}")]
    UnknownSender(String),
    /// The `seal` is missing (for a `seal_required` peer) or does not verify (HTTP 401).
    #[error("INVALID_SEAL: {0}")]
    InvalidSeal(String),
    /// The message was seen already, or its `message_ts` is outside the window (HTTP 409).
    #[error("REPLAYED_MESSAGE: {0}")]
    Replayed(String),
    /// An encrypted message does not open (HTTP 400).
    #[error("DECRYPTION_FAILED: {0}")]
    DecryptionFailed(String),
    /// A message could not be encrypted (HTTP 500).
    #[error("ENCRYPTION_FAILED: {0}")]
    EncryptionFailed(String),
    /// The receiving domain has no active key to encrypt for (HTTP 400).
    #[error("NO_ENCRYPTION_KEY: {0}")]
    NoEncryptionKey(String),
    /// A key that does not parse (HTTP 400 when it came from a request).
    #[error("INVALID_KEY: {0}")]
    InvalidKey(String),
    /// Missing or invalid security settings (start-up).
    #[error("EXCHANGE_CONFIG_ERROR: {0}")]
    Config(String),
    /// The registry or the replay table could not be read or written (HTTP 500).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ConfigError> for SecurityError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e.to_string())
    }
}

impl From<crate::registry::RegistryError> for SecurityError {
    fn from(e: crate::registry::RegistryError) -> Self {
        match e {
            crate::registry::RegistryError::Database(e) => Self::Database(e),
            other => Self::Config(other.to_string()),
        }
    }
}

impl SecurityError {
    /// The DIGIT code (`INVALID_SIGNATURE`, `UNKNOWN_SENDER`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidSignature(_) => "INVALID_SIGNATURE",
            Self::UnknownSender(_) => "UNKNOWN_SENDER",
            Self::InvalidSeal(_) => "INVALID_SEAL",
            Self::Replayed(_) => "REPLAYED_MESSAGE",
            Self::DecryptionFailed(_) => "DECRYPTION_FAILED",
            Self::EncryptionFailed(_) => "ENCRYPTION_FAILED",
            Self::NoEncryptionKey(_) => "NO_ENCRYPTION_KEY",
            Self::InvalidKey(_) => "INVALID_KEY",
            Self::Config(_) => "EXCHANGE_CONFIG_ERROR",
            Self::Database(_) => digit_core::error::codes::QUERY_EXECUTION,
        }
    }
}

impl DigitError for SecurityError {
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidSignature(_) | Self::InvalidSeal(_) => 401,
            Self::UnknownSender(_) => 403,
            Self::Replayed(_) => 409,
            Self::DecryptionFailed(_) | Self::InvalidKey(_) | Self::NoEncryptionKey(_) => 400,
            Self::EncryptionFailed(_) | Self::Config(_) | Self::Database(_) => 500,
        }
    }

    fn errors(&self) -> Vec<ErrorDetail> {
        let message = match self {
            Self::InvalidSignature(m)
            | Self::UnknownSender(m)
            | Self::InvalidSeal(m)
            | Self::Replayed(m)
            | Self::DecryptionFailed(m)
            | Self::NoEncryptionKey(m)
            | Self::InvalidKey(m) => m.clone(),
            Self::EncryptionFailed(_) => "The message could not be encrypted".to_owned(),
            Self::Config(_) => "The exchange is not configured correctly".to_owned(),
            Self::Database(_) => "Database operation failed".to_owned(),
        };
        vec![ErrorDetail::new(self.code(), message)]
    }
}

/// This exchange's signing key from `APP_AUTH_PRIVATE_KEY` (PEM text) or, when that is
/// empty, the file `APP_AUTH_PRIVATE_KEY_PATH`. Error: [`SecurityError::Config`] when
/// neither is set, the file cannot be read, or the key does not parse.
pub fn signer_from_env(env: &Env) -> Result<Signer, SecurityError> {
    let text = match env.get(&PRIVATE_KEY).filter(|v| !v.trim().is_empty()) {
        Some(text) => text,
        None => match env.get(&PRIVATE_KEY_PATH).filter(|v| !v.trim().is_empty()) {
            Some(path) => std::fs::read_to_string(path.trim()).map_err(|e| {
                SecurityError::Config(format!("APP_AUTH_PRIVATE_KEY_PATH {path}: {e}"))
            })?,
            None => {
                return Err(SecurityError::Config(
                    "APP_AUTH_PRIVATE_KEY or APP_AUTH_PRIVATE_KEY_PATH is required".into(),
                ))
            }
        },
    };
    Signer::from_pem(&text).map_err(|e| SecurityError::Config(format!("APP_AUTH_PRIVATE_KEY: {e}")))
}

/// The outcome of a successful [`Guard::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The sender's normalised exchange URL.
    pub sender_host: String,
    /// The registry row whose key verified the signature (`None` when validation is off).
    pub key: Option<ExchangeServer>,
    /// Whether a seal was verified (and the message recorded against replay).
    pub sealed: bool,
}

/// The inbound check of the HTTP edge: a registry, the replay table and the settings.
#[derive(Debug, Clone)]
pub struct Guard {
    registry: Registry,
    seen: Seen,
    validation: bool,
}

impl Guard {
    /// A guard. `validation = false` (upstream's default) accepts everything.
    pub fn new(registry: Registry, seen: Seen, validation: bool) -> Self {
        Self {
            registry,
            seen,
            validation,
        }
    }

    /// A guard with `APP_AUTH_SIGN_VALIDATION` and `EXCHANGE_REPLAY_WINDOW_MS` from `env`.
    pub fn from_env(registry: Registry, env: &Env) -> Result<Self, SecurityError> {
        let validation = env.flag(&SIGN_VALIDATION)?;
        let window: i64 = env.parse(&REPLAY_WINDOW_MS)?;
        let seen = Seen::new(registry.pool().clone(), window);
        Ok(Self::new(registry, seen, validation))
    }

    /// Whether inbound validation is on.
    pub fn validation(&self) -> bool {
        self.validation
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The replay table.
    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// Checks a message received from another domain, in this order:
    /// 1. the sender's host URL has active registry keys, else `UNKNOWN_SENDER` (403);
    /// 2. `signature` verifies over `input.message` with one of them, else
    ///    `INVALID_SIGNATURE` (401);
    /// 3. if the sender is `seal_required` or a `seal` is present: it verifies with one of
    ///    the keys, else `INVALID_SEAL` (401);
    /// 4. for a sealed message: `message_ts` is within the window and the message was not
    ///    seen before (recorded now), else `REPLAYED_MESSAGE` (409).
    ///
    /// With validation off it returns at once (nothing recorded). If the message is then
    /// not accepted after all (e.g. it cannot be queued), call [`Seen::forget`] so the
    /// sender's retry is not taken for a replay.
    pub async fn check(
        &self,
        input: &SealInput<'_>,
        signature: Option<&str>,
        seal: Option<&str>,
    ) -> Result<Checked, SecurityError> {
        let sender_host = participant::host_url(input.sender_id).unwrap_or_default();
        if !self.validation {
            return Ok(Checked {
                sender_host,
                key: None,
                sealed: false,
            });
        }
        if sender_host.is_empty() {
            return Err(SecurityError::UnknownSender(
                "The sender_id has no exchange URL".into(),
            ));
        }
        let keys = self.registry.verifying_keys(&sender_host).await?;
        if keys.is_empty() {
            return Err(SecurityError::UnknownSender(format!(
                "No active key is registered for {sender_host}"
            )));
        }
        let signature = signature
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| SecurityError::InvalidSignature("Signature is missing".into()))?;
        let Some((row, _)) = keys
            .iter()
            .find(|(_, key)| key.verify(input.message, signature).is_ok())
        else {
            return Err(SecurityError::InvalidSignature(
                "Signature is not valid".into(),
            ));
        };
        let seal_required = keys.iter().any(|(row, _)| row.seal_required);
        let seal = seal.filter(|s| !s.trim().is_empty());
        let sealed = match seal {
            None if seal_required => {
                return Err(SecurityError::InvalidSeal("Seal is missing".into()));
            }
            None => false,
            Some(seal) => {
                let ok = keys
                    .iter()
                    .any(|(_, key)| seal::check_with(key, input, seal).is_ok());
                if !ok {
                    return Err(SecurityError::InvalidSeal("Seal is not valid".into()));
                }
                true
            }
        };
        if sealed {
            self.seen.check_window(input.message_ts)?;
            self.seen.record(input).await?;
        }
        Ok(Checked {
            sender_host,
            key: Some(row.clone()),
            sealed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::signature::tests::{
        signer1, PRIVATE_1, PRIVATE_2, PUBLIC_1, PUBLIC_2, SPEC_SIGNATURE,
    };
    use digit_store::testing::TestDb;
    use std::time::Duration;

    const DEPT: &str = "http://127.0.0.1:8084/digit-exchange";
    const MESSAGE: &str = r#"{"id":"p1","name":"Program 1"}"#;

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    fn input(ts: i64) -> SealInput<'static> {
        SealInput {
            message: MESSAGE,
            message_id: "m-1",
            message_ts: ts,
            message_type: "program",
            action: "create",
            sender_id: "program@http://127.0.0.1:8084/digit-exchange/",
            receiver_id: "program@http://127.0.0.1:8094/digit-exchange",
        }
    }

    fn row(id: &str, key: &str, seal_required: bool) -> ExchangeServer {
        ExchangeServer {
            id: id.into(),
            name: "Department".into(),
            description: "Department exchange".into(),
            host_url: DEPT.into(),
            public_key: key.into(),
            is_active: None,
            seal_required,
            audit_details: None,
        }
    }

    async fn guard(db: &TestDb, rows: Vec<ExchangeServer>) -> Guard {
        let registry = Registry::new(db.pool().clone(), Duration::from_secs(60));
        if !rows.is_empty() {
            registry.create(rows, "test").await.unwrap();
        }
        Guard::new(registry, Seen::new(db.pool().clone(), 300_000), true)
    }

    async fn db() -> TestDb {
        TestDb::migrated(&[&crate::MIGRATOR]).await.unwrap()
    }

    #[test]
    fn errors_render_as_digit_envelopes() {
        use digit_service::ApiError;
        let cases = [
            (
                SecurityError::InvalidSignature("x".into()),
                401,
                "INVALID_SIGNATURE",
            ),
            (
                SecurityError::UnknownSender("x".into()),
                403,
                "UNKNOWN_SENDER",
            ),
            (SecurityError::InvalidSeal("x".into()), 401, "INVALID_SEAL"),
            (SecurityError::Replayed("x".into()), 409, "REPLAYED_MESSAGE"),
            (
                SecurityError::DecryptionFailed("x".into()),
                400,
                "DECRYPTION_FAILED",
            ),
            (
                SecurityError::Config("secret path".into()),
                500,
                "EXCHANGE_CONFIG_ERROR",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.status.as_u16(), status);
            let body = serde_json::to_value(api.body()).unwrap();
            assert_eq!(body["ResponseInfo"], serde_json::Value::Null);
            assert_eq!(body["Errors"][0]["code"], code);
            assert!(!body.to_string().contains("secret path"));
        }
    }

    #[test]
    fn signer_from_env_text_or_file() {
        let env = Env::from_pairs([("APP_AUTH_PRIVATE_KEY", PRIVATE_1)]);
        assert_eq!(
            signer_from_env(&env).unwrap().public_key_pem(),
            signer1().public_key_pem()
        );
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../configs/exchange/sample_private_key-2.pem"
        );
        let env = Env::from_pairs([("APP_AUTH_PRIVATE_KEY_PATH", path)]);
        let two = Signer::from_pem(PRIVATE_2).unwrap();
        assert_eq!(
            signer_from_env(&env).unwrap().public_key_pem(),
            two.public_key_pem()
        );
        let none = Env::from_pairs([("X", "y")]);
        assert!(matches!(
            signer_from_env(&none),
            Err(SecurityError::Config(_))
        ));
        let bad = Env::from_pairs([("APP_AUTH_PRIVATE_KEY", "nope")]);
        assert!(matches!(
            signer_from_env(&bad),
            Err(SecurityError::Config(_))
        ));
    }

    #[test]
    fn window_rule() {
        use replay::check_window_at;
        check_window_at(1_000_000, 1_000_000, 300_000).unwrap();
        check_window_at(1_000_000, 700_000, 300_000).unwrap();
        check_window_at(1_000_000, 1_300_000, 300_000).unwrap();
        assert!(check_window_at(1_000_000, 699_999, 300_000).is_err());
        assert!(check_window_at(1_000_000, 1_300_001, 300_000).is_err());
        assert!(check_window_at(1_000_000, 0, 300_000).is_err());
    }

    #[tokio::test]
    async fn unknown_sender_and_inactive_key() {
        let db = db().await;
        let g = guard(&db, vec![]).await;
        let ts = now();
        let sig = signer1().sign(MESSAGE);
        let e = g.check(&input(ts), Some(&sig), None).await.unwrap_err();
        assert_eq!(e.code(), "UNKNOWN_SENDER");
        assert_eq!(e.http_status(), 403);
        let no_url = SealInput {
            sender_id: "program",
            ..input(ts)
        };
        let e = g.check(&no_url, Some(&sig), None).await.unwrap_err();
        assert_eq!(e.code(), "UNKNOWN_SENDER");

        // The sender's only key is deactivated: unknown.
        g.registry()
            .create(vec![row("k1", PUBLIC_1, false)], "test")
            .await
            .unwrap();
        g.check(&input(ts), Some(&sig), None).await.unwrap();
        g.registry()
            .deactivate(&["k1".to_owned()], "test")
            .await
            .unwrap();
        let e = g.check(&input(ts), Some(&sig), None).await.unwrap_err();
        assert_eq!(e.code(), "UNKNOWN_SENDER");
        // A registered but inactive row (is_active false on create) never counts.
        g.registry()
            .create(
                vec![ExchangeServer {
                    is_active: Some(false),
                    ..row("k2", PUBLIC_1, false)
                }],
                "test",
            )
            .await
            .unwrap();
        let e = g.check(&input(ts), Some(&sig), None).await.unwrap_err();
        assert_eq!(e.code(), "UNKNOWN_SENDER");
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn signature_only_for_upstream_peers() {
        let db = db().await;
        let g = guard(&db, vec![row("k1", PUBLIC_1, false)]).await;
        let sig = signer1().sign(MESSAGE);
        // Upstream sends "message_ts": 0 and no seal: accepted on the signature, replays too.
        let upstream = input(0);
        let ok = g.check(&upstream, Some(&sig), None).await.unwrap();
        assert!(!ok.sealed);
        assert_eq!(ok.sender_host, DEPT);
        assert_eq!(ok.key.unwrap().id, "k1");
        g.check(&upstream, Some(&sig), None).await.unwrap();
        // The upstream test vector signature with the matching message… and a forged one.
        let e = g.check(&upstream, Some(SPEC_SIGNATURE), None).await;
        assert_eq!(e.unwrap_err().code(), "INVALID_SIGNATURE");
        let e = g.check(&upstream, None, None).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_SIGNATURE");
        assert_eq!(e.http_status(), 401);
        let forged = Signer::from_pem(PRIVATE_2).unwrap().sign(MESSAGE);
        let e = g.check(&upstream, Some(&forged), None).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_SIGNATURE");
        // Tampered message.
        let tampered = SealInput {
            message: r#"{"id":"p1","name":"Program 2"}"#,
            ..upstream
        };
        let e = g.check(&tampered, Some(&sig), None).await.unwrap_err();
        assert_eq!(e.code(), "INVALID_SIGNATURE");
        // A seal that is present is checked even for such a peer.
        let e = g
            .check(&upstream, Some(&sig), Some(&sig))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_SEAL");
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn sealed_peers_tamper_and_replay() {
        let db = db().await;
        let g = guard(&db, vec![row("k1", PUBLIC_1, true)]).await;
        let signer = signer1();
        let ts = now();
        let msg = input(ts);
        let sig = signer.sign(MESSAGE);
        let s = seal::seal(&signer, &msg).unwrap();

        // Missing seal.
        let e = g.check(&msg, Some(&sig), None).await.unwrap_err();
        assert_eq!((e.code(), e.http_status()), ("INVALID_SEAL", 401));
        // Tampered header (receiver, type, action, id): the signature still verifies, the seal not.
        for t in [
            SealInput {
                receiver_id: "program@http://evil.example/digit-exchange",
                ..msg
            },
            SealInput {
                message_type: "on-program",
                ..msg
            },
            SealInput {
                action: "update",
                ..msg
            },
            SealInput {
                message_id: "m-2",
                ..msg
            },
        ] {
            let e = g.check(&t, Some(&sig), Some(&s)).await.unwrap_err();
            assert_eq!(e.code(), "INVALID_SEAL", "{t:?}");
        }
        // Good.
        let ok = g.check(&msg, Some(&sig), Some(&s)).await.unwrap();
        assert!(ok.sealed);
        // Same message again: replay.
        let e = g.check(&msg, Some(&sig), Some(&s)).await.unwrap_err();
        assert_eq!((e.code(), e.http_status()), ("REPLAYED_MESSAGE", 409));
        // Forgotten (not accepted after all): the retry passes once.
        g.seen().forget(&msg).await.unwrap();
        g.check(&msg, Some(&sig), Some(&s)).await.unwrap();
        assert!(g.check(&msg, Some(&sig), Some(&s)).await.is_err());
        // Same id, another action (upstream reuses entity ids as message ids): not a replay.
        let update = SealInput {
            action: "update",
            ..msg
        };
        g.check(
            &update,
            Some(&sig),
            Some(&seal::seal(&signer, &update).unwrap()),
        )
        .await
        .unwrap();
        // Stale and future timestamps.
        for stale_ts in [ts - 300_001 - 1000, ts + 300_001 + 1000, 0] {
            let stale = SealInput {
                message_ts: stale_ts,
                message_id: "m-stale",
                ..msg
            };
            let st = seal::seal(&signer, &stale).unwrap();
            let e = g.check(&stale, Some(&sig), Some(&st)).await.unwrap_err();
            assert_eq!(e.code(), "REPLAYED_MESSAGE");
        }
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn rotated_keys() {
        let db = db().await;
        let g = guard(&db, vec![row("old", PUBLIC_1, true)]).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        g.registry()
            .create(vec![row("new", PUBLIC_2, true)], "admin")
            .await
            .unwrap();
        let old = signer1();
        let new = Signer::from_pem(PRIVATE_2).unwrap();
        let ts = now();
        let a = SealInput {
            message_id: "a",
            ..input(ts)
        };
        let b = SealInput {
            message_id: "b",
            ..input(ts)
        };
        let c = SealInput {
            message_id: "c",
            ..input(ts)
        };
        // Either active key verifies.
        let ok = g
            .check(
                &a,
                Some(&old.sign(MESSAGE)),
                Some(&seal::seal(&old, &a).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(ok.key.unwrap().id, "old");
        let ok = g
            .check(
                &b,
                Some(&new.sign(MESSAGE)),
                Some(&seal::seal(&new, &b).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(ok.key.unwrap().id, "new");
        // Encryption goes to the newest active key.
        let (row, _) = g.registry().encryption_key(DEPT).await.unwrap();
        assert_eq!(row.id, "new");
        // The old key is deactivated: it no longer verifies; the new one does.
        g.registry()
            .deactivate(&["old".to_owned()], "admin")
            .await
            .unwrap();
        let e = g
            .check(
                &c,
                Some(&old.sign(MESSAGE)),
                Some(&seal::seal(&old, &c).unwrap()),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_SIGNATURE");
        g.check(
            &c,
            Some(&new.sign(MESSAGE)),
            Some(&seal::seal(&new, &c).unwrap()),
        )
        .await
        .unwrap();
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn validation_off_accepts_everything() {
        let db = db().await;
        let registry = Registry::new(db.pool().clone(), Duration::ZERO);
        let g = Guard::new(registry, Seen::new(db.pool().clone(), 1000), false);
        assert!(!g.validation());
        let ok = g.check(&input(0), None, None).await.unwrap();
        assert!(ok.key.is_none());
        db.cleanup().await.unwrap();
    }

    #[tokio::test]
    async fn old_seen_rows_are_pruned() {
        let db = db().await;
        let seen = Seen::new(db.pool().clone(), 1000);
        let ts = now();
        seen.record(&input(ts)).await.unwrap();
        sqlx::query("UPDATE eg_digit_exchange_seen SET seen_at = seen_at - 5000, message_ts = message_ts - 5000")
            .execute(db.pool())
            .await
            .unwrap();
        let fresh = SealInput {
            message_id: "m-fresh",
            ..input(ts)
        };
        seen.record(&fresh).await.unwrap();
        assert_eq!(seen.prune().await.unwrap(), 1);
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_digit_exchange_seen")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(left, 1);
        db.cleanup().await.unwrap();
    }
}
