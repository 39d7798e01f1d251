//! Citizen OTPs in standalone mode — what egov-otp and user-otp do for egov-user: an OTP is
//! generated for a mobile number and a purpose (register, login, password reset), sent as an
//! SMS message on the notification topic, and later verified once: at `/user/oauth/token`
//! (a citizen's password is its OTP) or `/user/citizen/_create` (`otpReference`).
//!
//! Kept safe by construction: the OTP is stored only as a salted SHA-256 digest, is single
//! use (the row is spent by one guarded update, so two racing logins cannot both use it),
//! expires after [`OtpSettings::ttl_ms`], dies after [`OtpSettings::max_guesses`] wrong
//! guesses, and a number gets at most [`OtpSettings::max_sends`] OTPs per lifetime window.
//! The fixed OTP of upstream's `citizen.login.password.otp.fixed.*` is accepted only when
//! explicitly enabled (a development convenience; never by default).

use crate::embedded::now_ms;
use digit_service::config::{ConfigError, Env, EnvVar};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

macro_rules! var {
    ($const:ident, $name:literal, $default:literal, $help:literal) => {
        #[doc = $help]
        pub const $const: EnvVar = EnvVar {
            name: $name,
            aliases: &[],
            default: $default,
            help: $help,
        };
    };
}
var!(
    OTP_LENGTH,
    "USER_OTP_LENGTH",
    "6",
    "Digits of an OTP (egov-otp's egov.otp.length)"
);
var!(
    OTP_TTL,
    "USER_OTP_TTL_SECONDS",
    "900",
    "How long an OTP verifies (egov-otp's egov.otp.ttl)"
);
var!(
    OTP_MAX_SENDS,
    "USER_OTP_MAX_SENDS",
    "5",
    "OTPs one mobile number may be sent within USER_OTP_TTL_SECONDS"
);
var!(
    OTP_MAX_GUESSES,
    "USER_OTP_MAX_GUESSES",
    "5",
    "Wrong guesses after which an OTP no longer verifies"
);
/// Topic the OTP SMS messages go to (egov-notification-sms reads it); PGR's SMS variable
/// names the same topic.
pub const OTP_SMS_TOPIC: EnvVar = EnvVar {
    name: "USER_OTP_SMS_TOPIC",
    aliases: &["KAFKA_TOPICS_NOTIFICATION_SMS"],
    default: "egov.core.notification.sms",
    help: "Topic the OTP SMS messages go to (egov-notification-sms reads it)",
};
var!(
    OTP_FIXED_ENABLED,
    "CITIZEN_LOGIN_PASSWORD_OTP_FIXED_ENABLED",
    "false",
    "Development only: accept CITIZEN_LOGIN_PASSWORD_OTP_FIXED_VALUE as every citizen's OTP"
);
var!(
    OTP_FIXED_VALUE,
    "CITIZEN_LOGIN_PASSWORD_OTP_FIXED_VALUE",
    "123456",
    "The fixed development OTP (upstream's citizen.login.password.otp.fixed.value)"
);
var!(
    OTP_REGISTER_MANDATORY,
    "OTP_VALIDATION_REGISTER_MANDATORY",
    "true",
    "Whether /user/citizen/_create requires a valid otpReference"
);

/// The OTP settings (for `--help`).
pub const OTP_VARS: &[EnvVar] = &[
    OTP_LENGTH,
    OTP_TTL,
    OTP_MAX_SENDS,
    OTP_MAX_GUESSES,
    OTP_SMS_TOPIC,
    OTP_FIXED_ENABLED,
    OTP_FIXED_VALUE,
    OTP_REGISTER_MANDATORY,
];

/// What an OTP is for (user-otp's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpPurpose {
    /// A new citizen (`register`): the number must not be a citizen yet.
    Register,
    /// A citizen's login (`login`): the number must be a citizen.
    Login,
    /// A forgotten password (`passwordreset`): the user must exist.
    PasswordReset,
}

impl OtpPurpose {
    /// From user-otp's `type` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "register" => Some(Self::Register),
            "login" => Some(Self::Login),
            "passwordreset" => Some(Self::PasswordReset),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::PasswordReset => "passwordreset",
        }
    }
}

/// Limits of OTPs.
#[derive(Debug, Clone)]
pub struct OtpSettings {
    /// Digits.
    pub length: usize,
    /// Lifetime (ms).
    pub ttl_ms: i64,
    /// Sends per number per lifetime window.
    pub max_sends: i64,
    /// Wrong guesses an OTP survives.
    pub max_guesses: i32,
    /// The SMS topic.
    pub sms_topic: String,
    /// The fixed development OTP, when enabled.
    pub fixed: Option<String>,
    /// `/user/citizen/_create` requires an OTP.
    pub register_mandatory: bool,
}

impl OtpSettings {
    /// From the environment.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let num = |var: &EnvVar, max: i64| -> Result<i64, ConfigError> {
            env.get_or_default(var)
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: var.name,
                    value: env.get_or_default(var),
                })
        };
        let length = num(&OTP_LENGTH, 12)?;
        let fixed = if env.flag(&OTP_FIXED_ENABLED)? {
            let value = env.get_or_default(&OTP_FIXED_VALUE).trim().to_owned();
            if value.is_empty() {
                return Err(ConfigError::Invalid {
                    name: OTP_FIXED_VALUE.name,
                    value,
                });
            }
            tracing::warn!(
                "CITIZEN_LOGIN_PASSWORD_OTP_FIXED_ENABLED: every citizen's OTP is the fixed development value. Never in production."
            );
            Some(value)
        } else {
            None
        };
        Ok(Self {
            length: usize::try_from(length).unwrap_or(6),
            ttl_ms: num(&OTP_TTL, 86_400)? * 1000,
            max_sends: num(&OTP_MAX_SENDS, 1000)?,
            max_guesses: i32::try_from(num(&OTP_MAX_GUESSES, 100)?).unwrap_or(5),
            sms_topic: env.get_or_default(&OTP_SMS_TOPIC),
            fixed,
            register_mandatory: env.flag(&OTP_REGISTER_MANDATORY)?,
        })
    }
}

impl Default for OtpSettings {
    fn default() -> Self {
        Self {
            length: 6,
            ttl_ms: 900_000,
            max_sends: 5,
            max_guesses: 5,
            sms_topic: "egov.core.notification.sms".into(),
            fixed: None,
            register_mandatory: true,
        }
    }
}

/// Why an OTP could not be issued or verified.
#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    /// The number was sent [`OtpSettings::max_sends`] OTPs within the window.
    #[error("too many OTPs requested for this number; try again later")]
    TooManyRequests,
    /// The database.
    #[error("otp store: {0}")]
    Database(#[from] sqlx::Error),
}

/// A freshly issued OTP (the clear value exists only here, to be sent).
#[derive(Debug)]
pub struct IssuedOtp {
    /// Its id.
    pub id: String,
    /// The digits.
    pub otp: String,
    /// When it stops verifying (epoch ms).
    pub expires_at: i64,
}

/// The OTP store.
#[derive(Debug, Clone)]
pub struct Otps {
    pool: PgPool,
    /// Settings.
    pub settings: std::sync::Arc<OtpSettings>,
}

fn digest(id: &str, otp: &str) -> String {
    hex::encode(Sha256::digest(format!("{id}:{otp}").as_bytes()))
}

/// `length` random decimal digits from the OS generator (a v4 uuid's 122 random bits per
/// draw; rejection keeps every digit uniform).
fn random_digits(length: usize) -> String {
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for b in uuid::Uuid::new_v4().as_bytes() {
            // 250 = 25 × 10: bytes above it would favour the low digits.
            if *b < 250 && out.len() < length {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

impl Otps {
    /// OTPs in `pool`'s `eg_user_otp`.
    pub fn new(pool: PgPool, settings: OtpSettings) -> Self {
        Self {
            pool,
            settings: std::sync::Arc::new(settings),
        }
    }

    /// Issues a random OTP for `identity` (a mobile number) of `tenant` (its state), unless
    /// the number had its share of OTPs. Earlier
    /// unused OTPs of the number for the same purpose stop verifying: only the last SMS
    /// counts.
    pub async fn issue(
        &self,
        tenant: &str,
        identity: &str,
        purpose: OtpPurpose,
    ) -> Result<IssuedOtp, OtpError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // One sender at a time per number: the count below cannot be raced past.
        digit_store::lock::lock_all(
            &mut tx,
            [(format!("eg_user_otp:{tenant}:{identity}"), true)],
        )
        .await?;
        let recent: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM eg_user_otp WHERE tenantid = $1 AND identity = $2 AND createdtime > $3",
        )
        .bind(tenant)
        .bind(identity)
        .bind(now - self.settings.ttl_ms)
        .fetch_one(&mut *tx)
        .await?;
        if recent >= self.settings.max_sends {
            return Err(OtpError::TooManyRequests);
        }
        sqlx::query(
            "UPDATE eg_user_otp SET used = true WHERE tenantid = $1 AND identity = $2 AND purpose = $3 AND NOT used",
        )
        .bind(tenant)
        .bind(identity)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await?;
        let id = uuid::Uuid::new_v4().to_string();
        // Random even when a fixed development OTP is enabled (that one is accepted beside
        // it, as upstream's egov-user does): the SMS path stays the real one.
        let otp = random_digits(self.settings.length);
        let expires_at = now + self.settings.ttl_ms;
        sqlx::query(
            "INSERT INTO eg_user_otp (id, tenantid, identity, purpose, otp_hash, expires_at, createdtime)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(identity)
        .bind(purpose.as_str())
        .bind(digest(&id, &otp))
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(IssuedOtp {
            id,
            otp,
            expires_at,
        })
    }

    /// Kills an OTP that could not be sent.
    pub async fn revoke(&self, id: &str) -> Result<(), OtpError> {
        sqlx::query("UPDATE eg_user_otp SET used = true WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Spends a live OTP of `identity` for one of `purposes` equal to `otp`: true once, for
    /// the one caller whose guarded update took it. A wrong guess counts against the live
    /// OTPs of the number, which die after [`OtpSettings::max_guesses`]. The fixed
    /// development OTP, when enabled, always verifies.
    pub async fn verify(
        &self,
        tenant: &str,
        identity: &str,
        otp: &str,
        purposes: &[OtpPurpose],
    ) -> Result<bool, OtpError> {
        if self
            .settings
            .fixed
            .as_deref()
            .is_some_and(|fixed| fixed == otp)
        {
            return Ok(true);
        }
        let now = now_ms();
        let purposes: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
        let live = sqlx::query(
            "SELECT id, otp_hash FROM eg_user_otp
             WHERE tenantid = $1 AND identity = $2 AND purpose = ANY($3) AND NOT used AND expires_at > $4
             ORDER BY createdtime DESC LIMIT 10",
        )
        .bind(tenant)
        .bind(identity)
        .bind(&purposes)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        for row in &live {
            let id: String = row.try_get("id")?;
            let hash: String = row.try_get("otp_hash")?;
            if digest(&id, otp.trim()) == hash {
                let spent = sqlx::query(
                    "UPDATE eg_user_otp SET used = true WHERE id = $1 AND NOT used AND expires_at > $2",
                )
                .bind(&id)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
                return Ok(spent == 1);
            }
        }
        if !live.is_empty() {
            sqlx::query(
                "UPDATE eg_user_otp SET failed_attempts = failed_attempts + 1,
                    used = used OR failed_attempts + 1 >= $3
                 WHERE tenantid = $1 AND identity = $2 AND NOT used",
            )
            .bind(tenant)
            .bind(identity)
            .bind(self.settings.max_guesses)
            .execute(&self.pool)
            .await?;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_digits_have_the_length_and_vary() {
        let a = random_digits(6);
        assert_eq!(a.len(), 6);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let distinct: std::collections::HashSet<String> =
            (0..50).map(|_| random_digits(6)).collect();
        assert!(
            distinct.len() > 45,
            "50 draws of 6 digits nearly all differ"
        );
    }

    #[test]
    fn purposes_read_user_otp_types() {
        assert_eq!(OtpPurpose::parse("Register"), Some(OtpPurpose::Register));
        assert_eq!(OtpPurpose::parse("login"), Some(OtpPurpose::Login));
        assert_eq!(
            OtpPurpose::parse("passwordreset"),
            Some(OtpPurpose::PasswordReset)
        );
        assert_eq!(OtpPurpose::parse("reset"), None);
    }
}
