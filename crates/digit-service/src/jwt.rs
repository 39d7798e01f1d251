//! JWT verification for `AUTH_MODE=jwt`, and minting for `digitctl` and tests.
//!
//! The token's claims carry the user as DIGIT's `userInfo` (uuid, type, roles with their
//! tenants), so a service can authorise without calling egov-user. The user in the token
//! is the only one trusted: a `userInfo` sent in the body is replaced by it.

use crate::config::{ConfigError, ServiceSettings};
use digit_core::UserInfo;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Claims of a DIGIT-RS access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's uuid.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Issuer, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The user, in DIGIT's `userInfo` shape.
    #[serde(rename = "userInfo")]
    pub user_info: UserInfo,
}

/// Signs a token for `user` valid for `ttl_seconds` with an HS256 secret.
pub fn mint_hs256(
    user: &UserInfo,
    secret: &[u8],
    ttl_seconds: i64,
    issuer: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user.uuid.clone().unwrap_or_default(),
        exp: now + ttl_seconds,
        iat: now,
        iss: issuer.map(str::to_owned),
        user_info: user.clone(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Why a token was refused (all render as the same 401 body).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, format, expiry or issuer check failed.
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    /// The token has no user uuid.
    #[error("token has no user uuid")]
    NoUser,
}

/// Verifies tokens with the configured key.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

impl TokenVerifier {
    /// The verifier for jwt mode (RS256 when a public key is configured, else HS256).
    pub fn from_settings(settings: &ServiceSettings) -> Result<Self, ConfigError> {
        let (key, alg) = match (&settings.jwt_public_key_pem, &settings.jwt_secret) {
            (Some(pem), _) => (
                DecodingKey::from_rsa_pem(pem).map_err(|e| {
                    ConfigError::Missing(format!(
                        "JWT_PUBLIC_KEY_PATH is not an RSA public key PEM: {e}"
                    ))
                })?,
                Algorithm::RS256,
            ),
            (None, Some(secret)) => (
                DecodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            ),
            (None, None) => {
                return Err(ConfigError::Missing(
                    "jwt mode needs JWT_SECRET or JWT_PUBLIC_KEY_PATH".into(),
                ))
            }
        };
        Ok(Self::new(key, alg, settings.jwt_issuer.as_deref()))
    }

    /// A verifier for one key and algorithm (exp is always required and checked).
    pub fn new(key: DecodingKey, alg: Algorithm, issuer: Option<&str>) -> Self {
        let mut validation = Validation::new(alg);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        }
        Self { key, validation }
    }

    /// The user a valid token stands for.
    pub fn verify(&self, token: &str) -> Result<UserInfo, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token.trim(), &self.key, &self.validation)?;
        let mut user = data.claims.user_info;
        if data.claims.sub.is_empty() {
            return Err(TokenError::NoUser);
        }
        // The subject is authoritative for the uuid.
        user.uuid = Some(data.claims.sub);
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digit_core::{Role, UserType};

    fn user() -> UserInfo {
        UserInfo {
            uuid: Some("u-1".into()),
            user_type: Some(UserType::Employee),
            roles: vec![Role {
                code: "GRO".into(),
                tenant_id: Some("pg.citya".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn round_trip_and_failures() {
        let v = TokenVerifier::new(DecodingKey::from_secret(b"s3cret"), Algorithm::HS256, None);
        let token = mint_hs256(&user(), b"s3cret", 60, None).unwrap();
        assert_eq!(v.verify(&token).unwrap().roles[0].code, "GRO");
        let wrong = mint_hs256(&user(), b"other", 60, None).unwrap();
        assert!(v.verify(&wrong).is_err());
        let expired = mint_hs256(&user(), b"s3cret", -120, None).unwrap();
        assert!(v.verify(&expired).is_err());
        assert!(v.verify("not-a-jwt").is_err());
        let with_iss = TokenVerifier::new(
            DecodingKey::from_secret(b"s3cret"),
            Algorithm::HS256,
            Some("digit"),
        );
        assert!(with_iss.verify(&token).is_err());
        assert!(with_iss
            .verify(&mint_hs256(&user(), b"s3cret", 60, Some("digit")).unwrap())
            .is_ok());
        let no_sub = mint_hs256(&UserInfo::default(), b"s3cret", 60, None).unwrap();
        assert!(v.verify(&no_sub).is_err());
    }
}
