//! [`JitClient`]: authenticate, keep the session, make encrypted service calls (A2.4).

use crate::crypto::{AesKey, CryptoError, JitPublicKey};
use crate::wire::{
    headers, AuthRequest, AuthResponse, JitRequest, JitResponse, ServiceCall, ServiceId,
    NO_VALID_SESSION,
};
use digit_http::{HttpClient, HttpError};
use digit_service::config::{ConfigError, Env, EnvVar};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// JIT base URL.
pub const IFMS_JIT_HOSTNAME: EnvVar = EnvVar {
    name: "IFMS_JIT_HOSTNAME",
    aliases: &[],
    default: "http://127.0.0.1:8095",
    help: "JIT-FS base URL (the jit-simulator by default)",
};
/// Authenticate path.
pub const IFMS_JIT_AUTHENTICATE_ENDPOINT: EnvVar = EnvVar {
    name: "IFMS_JIT_AUTHENTICATE_ENDPOINT",
    aliases: &[],
    default: "/webservices/jitfs/v1.0/authenticate",
    help: "JIT-FS authenticate path (or absolute URL)",
};
/// Service path.
pub const IFMS_JIT_SERVICE_ENDPOINT: EnvVar = EnvVar {
    name: "IFMS_JIT_SERVICE_ENDPOINT",
    aliases: &[],
    default: "/webservices/jitfs/v1.0/get-jit-service-data",
    help: "JIT-FS service-data path (or absolute URL)",
};
/// Client id.
pub const IFMS_JIT_CLIENT_ID: EnvVar = EnvVar {
    name: "IFMS_JIT_CLIENT_ID",
    aliases: &[],
    default: "digit-rs-dev",
    help: "clientId header of authenticate (shared offline by the treasury)",
};
/// Client secret.
pub const IFMS_JIT_CLIENT_SECRET: EnvVar = EnvVar {
    name: "IFMS_JIT_CLIENT_SECRET",
    aliases: &[],
    default: "",
    help: "clientSecret header of authenticate (no default; from a secret; empty is sent as empty)",
};
/// Treasury public key.
pub const IFMS_JIT_PUBLIC_KEY_PATH: EnvVar = EnvVar {
    name: "IFMS_JIT_PUBLIC_KEY_PATH",
    aliases: &["IFMS_JIT_PUBLIC_KEY_FILEPATH"],
    default: "configs/ifms/jit-simulator-public.pem",
    help: "The treasury's RSA public key (X.509 SubjectPublicKeyInfo, DER or PEM) the app key is encrypted with",
};
/// Session lifetime.
pub const IFMS_SESSION_TIMEOUT: EnvVar = EnvVar {
    name: "IFMS_SESSION_TIMEOUT",
    aliases: &[],
    default: "1800000",
    help: "Milliseconds after a login at which the client authenticates again before a call",
};

/// Every variable of the JIT client, for `--help`.
pub const JIT_VARS: &[EnvVar] = &[
    IFMS_JIT_HOSTNAME,
    IFMS_JIT_AUTHENTICATE_ENDPOINT,
    IFMS_JIT_SERVICE_ENDPOINT,
    IFMS_JIT_CLIENT_ID,
    IFMS_JIT_CLIENT_SECRET,
    IFMS_JIT_PUBLIC_KEY_PATH,
    IFMS_SESSION_TIMEOUT,
];

/// Where JIT is and how to log in.
#[derive(Clone, PartialEq, Eq)]
pub struct JitSettings {
    /// Base URL.
    pub hostname: String,
    /// Authenticate path (or absolute URL).
    pub authenticate_endpoint: String,
    /// Service-data path (or absolute URL).
    pub service_endpoint: String,
    /// `clientId` header.
    pub client_id: String,
    /// `clientSecret` header.
    pub client_secret: String,
    /// The treasury's public key file.
    pub public_key_path: PathBuf,
    /// Re-authenticate when the login is this old.
    pub session_timeout: Duration,
}

impl std::fmt::Debug for JitSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitSettings")
            .field("hostname", &self.hostname)
            .field("authenticate_endpoint", &self.authenticate_endpoint)
            .field("service_endpoint", &self.service_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("public_key_path", &self.public_key_path)
            .field("session_timeout", &self.session_timeout)
            .finish()
    }
}

impl JitSettings {
    /// Reads [`JIT_VARS`].
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            hostname: env.get_or_default(&IFMS_JIT_HOSTNAME),
            authenticate_endpoint: env.get_or_default(&IFMS_JIT_AUTHENTICATE_ENDPOINT),
            service_endpoint: env.get_or_default(&IFMS_JIT_SERVICE_ENDPOINT),
            client_id: env.get_or_default(&IFMS_JIT_CLIENT_ID),
            client_secret: env.get_or_default(&IFMS_JIT_CLIENT_SECRET),
            public_key_path: PathBuf::from(env.get_or_default(&IFMS_JIT_PUBLIC_KEY_PATH)),
            session_timeout: Duration::from_millis(env.parse(&IFMS_SESSION_TIMEOUT)?),
        })
    }

    /// Defaults with another base URL and credentials (tests, simulator wiring).
    pub fn for_host(
        hostname: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            hostname: hostname.into(),
            authenticate_endpoint: IFMS_JIT_AUTHENTICATE_ENDPOINT.default.to_owned(),
            service_endpoint: IFMS_JIT_SERVICE_ENDPOINT.default.to_owned(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            public_key_path: PathBuf::from(IFMS_JIT_PUBLIC_KEY_PATH.default),
            session_timeout: Duration::from_millis(1_800_000),
        }
    }
}

/// Why a JIT call failed.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// Settings or the public key are unusable.
    #[error("JIT client configuration: {0}")]
    Config(String),
    /// No connection, or the exchange broke before an answer.
    #[error("JIT unreachable: {source}")]
    Unreachable {
        /// The transport error.
        #[source]
        source: HttpError,
    },
    /// No complete answer within the timeout.
    #[error("JIT timed out: {source}")]
    Timeout {
        /// The timeout error.
        #[source]
        source: HttpError,
    },
    /// JIT answered with an error status.
    #[error("JIT rejected the call with HTTP {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// An answer that cannot be decrypted or is not the expected JSON.
    #[error("JIT protocol error: {0}")]
    Protocol(String),
}

impl JitError {
    /// A short label for logs and metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout { .. } => "timeout",
            Self::Rejected { .. } => "rejected",
            Self::Protocol(_) => "protocol",
        }
    }

    /// Whether JIT said the session is unknown or expired.
    pub fn is_session_expired(&self) -> bool {
        match self {
            Self::Rejected { body, .. } => body.contains(NO_VALID_SESSION),
            Self::Protocol(text) => text.contains(NO_VALID_SESSION),
            _ => false,
        }
    }

    fn from_http(e: HttpError) -> Self {
        match e {
            HttpError::Status { status, body, .. } => Self::Rejected { status, body },
            e @ HttpError::Timeout { .. } => Self::Timeout { source: e },
            e @ (HttpError::Connect { .. } | HttpError::Transport { .. }) => {
                Self::Unreachable { source: e }
            }
            HttpError::Config { reason, .. } => Self::Config(reason),
            e @ (HttpError::Encode { .. } | HttpError::Decode { .. }) => {
                Self::Protocol(e.to_string())
            }
        }
    }
}

fn protocol(step: &str) -> impl Fn(CryptoError) -> JitError + '_ {
    move |e| JitError::Protocol(format!("{step}: {e}"))
}

#[derive(Clone)]
struct Session {
    auth_token: String,
    sek: AesKey,
    login: Instant,
}

/// The JIT-FS client: one per process (the session is shared by all callers).
///
/// Every call goes through the suite's [`HttpClient`] (its timeouts and metrics). JIT calls
/// are not idempotent (a PI may be booked twice), so they are sent as writes: retried only
/// when no connection could be opened. The one retry of its own is upstream's: when JIT
/// answers that the session key is not valid, log in again and send the call once more.
///
/// Logs carry the service id, the duration and the outcome — never the app key, SEK, REK,
/// auth token or the plaintext params (spec C.1 item 21).
pub struct JitClient {
    http: HttpClient,
    settings: JitSettings,
    public_key: JitPublicKey,
    authenticate_url: String,
    service_url: String,
    session: Mutex<Option<Session>>,
}

impl std::fmt::Debug for JitClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl JitClient {
    /// A client reading the public key from `settings.public_key_path`.
    pub fn new(settings: JitSettings, http: HttpClient) -> Result<Self, JitError> {
        let key = JitPublicKey::from_file(&settings.public_key_path).map_err(|e| {
            JitError::Config(format!(
                "public key {}: {e}",
                settings.public_key_path.display()
            ))
        })?;
        Self::with_public_key(settings, key, http)
    }

    /// A client with an already loaded public key.
    pub fn with_public_key(
        settings: JitSettings,
        public_key: JitPublicKey,
        http: HttpClient,
    ) -> Result<Self, JitError> {
        let url = |path: &str| {
            http.endpoint(&settings.hostname, path)
                .map_err(|e| JitError::Config(e.to_string()))
        };
        let authenticate_url = url(&settings.authenticate_endpoint)?;
        let service_url = url(&settings.service_endpoint)?;
        Ok(Self {
            http,
            settings,
            public_key,
            authenticate_url,
            service_url,
            session: Mutex::new(None),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &JitSettings {
        &self.settings
    }

    /// Calls one service. An answer whose `errorMsg`/`errorMsgs` is set is still `Ok`: the
    /// caller applies [`JitResponse::succeeded`]; `Err` means no usable answer.
    pub async fn call(
        &self,
        service: ServiceId,
        params: serde_json::Value,
    ) -> Result<JitResponse, JitError> {
        let started = Instant::now();
        let plaintext = serde_json::to_vec(&JitRequest {
            service_id: service,
            params,
        })
        .map_err(|e| JitError::Protocol(format!("cannot serialise the request: {e}")))?;
        let result = self.call_with_relogin(service, &plaintext).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(response) => tracing::info!(
                service_id = %service,
                duration_ms,
                outcome = if response.succeeded() { "success" } else { "error_answer" },
                items = response.data.len(),
                "JIT call answered."
            ),
            Err(error) => tracing::warn!(
                service_id = %service,
                duration_ms,
                outcome = error.outcome(),
                %error,
                "JIT call failed."
            ),
        }
        result
    }

    /// Drops the session, so the next call logs in first.
    pub async fn forget_session(&self) {
        *self.session.lock().await = None;
    }

    async fn call_with_relogin(
        &self,
        service: ServiceId,
        plaintext: &[u8],
    ) -> Result<JitResponse, JitError> {
        let session = self.session(None).await?;
        match self.send(&session, plaintext).await {
            Err(e) if e.is_session_expired() => {
                tracing::info!(service_id = %service, "JIT session not valid; authenticating again.");
                let fresh = self.session(Some(&session.auth_token)).await?;
                self.send(&fresh, plaintext).await
            }
            other => other,
        }
    }

    /// The current session, logging in when there is none, it is too old, or it is the one
    /// JIT just refused (`refused_token`). Held under the lock, so concurrent callers log in
    /// once.
    async fn session(&self, refused_token: Option<&str>) -> Result<Session, JitError> {
        let mut guard = self.session.lock().await;
        if let Some(current) = guard.as_ref() {
            let fresh = current.login.elapsed() < self.settings.session_timeout;
            let refused = refused_token == Some(current.auth_token.as_str());
            if fresh && !refused {
                return Ok(current.clone());
            }
        }
        *guard = None;
        let session = self.authenticate().await?;
        *guard = Some(session.clone());
        Ok(session)
    }

    async fn authenticate(&self) -> Result<Session, JitError> {
        let started = Instant::now();
        let app_key = AesKey::random();
        let body = AuthRequest {
            app_key: self
                .public_key
                .encrypt_app_key(&app_key)
                .map_err(protocol("encrypting the app key"))?,
        };
        let result: Result<Session, JitError> = async {
            let answer: AuthResponse = self
                .http
                .post(self.authenticate_url.as_str())
                .header(headers::CLIENT_ID, &self.settings.client_id)
                .header(headers::CLIENT_SECRET, &self.settings.client_secret)
                .json(&body)
                .send_json()
                .await
                .map_err(JitError::from_http)?;
            let sek = app_key
                .unwrap_key(&answer.sek)
                .map_err(protocol("decrypting the session key"))?;
            Ok(Session {
                auth_token: answer.auth_token,
                sek,
                login: Instant::now(),
            })
        }
        .await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(_) => tracing::info!(duration_ms, outcome = "success", "JIT authenticated."),
            Err(error) => tracing::warn!(
                duration_ms,
                outcome = error.outcome(),
                %error,
                "JIT authentication failed."
            ),
        }
        result
    }

    async fn send(&self, session: &Session, plaintext: &[u8]) -> Result<JitResponse, JitError> {
        let rek = AesKey::random();
        let body = ServiceCall {
            params: session.sek.encrypt_base64(plaintext),
            rek: session.sek.wrap(&rek),
        };
        let answer = self
            .http
            .post(self.service_url.as_str())
            .header(headers::AUTH_TOKEN, &session.auth_token)
            .json(&body)
            .send()
            .await
            .map_err(JitError::from_http)?;
        let text = std::str::from_utf8(&answer)
            .map_err(|_| JitError::Protocol("the answer is not text".into()))?;
        // The body is the bare base64 string; tolerate a JSON-quoted one.
        let cipher = text.trim().trim_matches('"');
        let plain = rek.decrypt_base64(cipher).map_err(|e| {
            if text.contains(NO_VALID_SESSION) {
                JitError::Protocol(NO_VALID_SESSION.to_owned())
            } else {
                JitError::Protocol(format!("decrypting the answer: {e}"))
            }
        })?;
        serde_json::from_slice(&plain)
            .map_err(|e| JitError::Protocol(format!("the decrypted answer is not JIT JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn settings_defaults_and_overrides() {
        let none = Env::from_pairs::<[(&str, &str); 0], _, _>([]);
        let s = JitSettings::from_env(&none).unwrap();
        assert_eq!(s.hostname, "http://127.0.0.1:8095");
        assert_eq!(
            s.authenticate_endpoint,
            "/webservices/jitfs/v1.0/authenticate"
        );
        assert_eq!(
            s.service_endpoint,
            "/webservices/jitfs/v1.0/get-jit-service-data"
        );
        assert_eq!(s.client_secret, "");
        assert_eq!(
            s.public_key_path,
            PathBuf::from("configs/ifms/jit-simulator-public.pem")
        );
        assert_eq!(s.session_timeout, Duration::from_millis(1_800_000));
        let env = Env::from_pairs([
            ("IFMS_JIT_HOSTNAME", "https://jit.example"),
            ("IFMS_JIT_CLIENT_ID", "mukta"),
            ("IFMS_JIT_CLIENT_SECRET", "s3cret"),
            ("IFMS_SESSION_TIMEOUT", "1000"),
        ]);
        let s = JitSettings::from_env(&env).unwrap();
        assert_eq!(s.hostname, "https://jit.example");
        assert_eq!(s.client_id, "mukta");
        assert_eq!(s.session_timeout, Duration::from_secs(1));
        assert!(!format!("{s:?}").contains("s3cret"));
        let bad = Env::from_pairs([("IFMS_SESSION_TIMEOUT", "soon")]);
        assert!(JitSettings::from_env(&bad).is_err());
        assert_eq!(JIT_VARS.len(), 7);
    }

    #[test]
    fn a_missing_public_key_is_a_config_error() {
        let mut settings = JitSettings::for_host("http://127.0.0.1:1", "a", "b");
        settings.public_key_path = PathBuf::from("/nonexistent/key.pem");
        let http = HttpClient::new(
            "jit",
            &digit_http::HttpSettings::default(),
            &digit_service::Metrics::new("test"),
        )
        .unwrap();
        assert!(matches!(
            JitClient::new(settings, http),
            Err(JitError::Config(_))
        ));
    }

    #[test]
    fn session_expiry_is_recognised_in_4xx_bodies() {
        let e = JitError::Rejected {
            status: 400,
            body: "No valid session encryption key found".into(),
        };
        assert!(e.is_session_expired());
        let other = JitError::Rejected {
            status: 401,
            body: "bad client".into(),
        };
        assert!(!other.is_session_expired());
    }
}
