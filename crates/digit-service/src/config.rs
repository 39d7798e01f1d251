//! Settings from environment variables, with upstream's names as aliases (§9.2).
//!
//! Every variable a binary reads is declared once in an [`EnvVar`] table; `--help` prints
//! that table, so the documentation cannot drift from what is read.

use std::collections::HashMap;
use std::time::Duration;

/// One documented environment variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// Preferred name.
    pub name: &'static str,
    /// Other accepted names (upstream/Spring spellings), in priority order after `name`.
    pub aliases: &'static [&'static str],
    /// Default shown in `--help` (empty: none).
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Where settings are read from: the process environment, or a map in tests.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: Option<HashMap<String, String>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self { vars: None }
    }

    /// A fixed set of variables (tests).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The raw value of one name (empty values count as unset).
    pub fn raw(&self, name: &str) -> Option<String> {
        let v = match &self.vars {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        v.filter(|s| !s.trim().is_empty())
    }

    /// The value of a variable under its name or the first alias that is set.
    pub fn get(&self, var: &EnvVar) -> Option<String> {
        std::iter::once(var.name)
            .chain(var.aliases.iter().copied())
            .find_map(|n| self.raw(n))
    }

    /// The value or the declared default.
    pub fn get_or_default(&self, var: &EnvVar) -> String {
        self.get(var).unwrap_or_else(|| var.default.to_owned())
    }

    /// Parses the value (or default) with `FromStr`.
    pub fn parse<T: std::str::FromStr>(&self, var: &EnvVar) -> Result<T, ConfigError> {
        let raw = self.get_or_default(var);
        raw.trim().parse().map_err(|_| ConfigError::Invalid {
            name: var.name,
            value: raw,
        })
    }

    /// Parses a boolean (`true/false/1/0/yes/no`).
    pub fn flag(&self, var: &EnvVar) -> Result<bool, ConfigError> {
        let raw = self.get_or_default(var);
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" | "" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name: var.name,
                value: raw,
            }),
        }
    }

    /// A comma-separated list.
    pub fn list(&self, var: &EnvVar) -> Vec<String> {
        self.get_or_default(var)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Value present but not parseable.
    #[error("environment variable {name} has an invalid value '{value}'")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// The offending value.
        value: String,
    },
    /// A required value is missing.
    #[error("{0}")]
    Missing(String),
    /// A file named by a setting could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Variables every service reads.
pub mod vars {
    use super::EnvVar;

    /// HTTP port.
    pub const SERVER_PORT: EnvVar = EnvVar {
        name: "SERVER_PORT",
        aliases: &[],
        default: "(per service)",
        help: "HTTP port to listen on",
    };
    /// Context path.
    pub const SERVER_CONTEXT_PATH: EnvVar = EnvVar {
        name: "SERVER_CONTEXT_PATH",
        aliases: &["SERVER_CONTEXTPATH", "SERVER_SERVLET_CONTEXT_PATH"],
        default: "(per service)",
        help: "Context path every route is served under",
    };
    /// Bind address.
    pub const SERVER_ADDRESS: EnvVar = EnvVar {
        name: "SERVER_ADDRESS",
        aliases: &[],
        default: "0.0.0.0",
        help: "Address to bind",
    };
    /// Auth mode.
    pub const AUTH_MODE: EnvVar = EnvVar {
        name: "AUTH_MODE",
        aliases: &[],
        default: "jwt",
        help: "jwt: verify RequestInfo.authToken / Bearer as a signed JWT and ignore client userInfo; gateway: trust RequestInfo.userInfo set by the DIGIT gateway",
    };
    /// HS256 secret.
    pub const JWT_SECRET: EnvVar = EnvVar {
        name: "JWT_SECRET",
        aliases: &[],
        default: "",
        help:
            "HS256 secret for JWT verification (jwt mode; this or JWT_PUBLIC_KEY_PATH is required)",
    };
    /// RS256 public key.
    pub const JWT_PUBLIC_KEY_PATH: EnvVar = EnvVar {
        name: "JWT_PUBLIC_KEY_PATH",
        aliases: &[],
        default: "",
        help: "PEM file with an RS256 public key for JWT verification (jwt mode)",
    };
    /// Accepted issuer.
    pub const JWT_ISSUER: EnvVar = EnvVar {
        name: "JWT_ISSUER",
        aliases: &[],
        default: "",
        help: "When set, tokens must carry this iss claim",
    };
    /// Open endpoints.
    pub const OPEN_ENDPOINTS: EnvVar = EnvVar {
        name: "EGOV_OPEN_ENDPOINTS_WHITELIST",
        aliases: &[],
        default: "/egov-mdms-service/v1/_search,/egov-mdms-service/v1/_get,/mdms-v2/v1/_search,\
                  /boundary-service/boundary-relationships/_search,\
                  /boundary-service/boundary-hierarchy-definition/_search,\
                  /egov-location/location/v11/boundarys/_search,\
                  /localization/messages/v1/_search,/localization/messages,\
                  /localization/messages/cache-bust,\
                  /filestore/v1/files/url,/filestore/v1/files/id,\
                  /user/oauth/token,/user/_details,/user/_logout,\
                  /user-otp/v1/_send,/user/citizen/_create",
        help: "Comma list of paths served without authentication (exact match, as the gateway)",
    };
    /// Mixed endpoints.
    pub const MIXED_ENDPOINTS: EnvVar = EnvVar {
        name: "EGOV_MIXED_MODE_ENDPOINTS_WHITELIST",
        aliases: &[],
        default: "/egov-idgen/id/_generate,/filestore/v1/files",
        help: "Comma list of paths where a token is optional (anonymous callers skip role checks)",
    };
    /// State tenant.
    pub const STATE_LEVEL_TENANT_ID: EnvVar = EnvVar {
        name: "STATE_LEVEL_TENANT_ID",
        aliases: &["EGOV_STATE_LEVEL_TENANT_ID", "EGOV_STATELEVEL_TENANTID"],
        default: "pg",
        help: "State-level tenant id",
    };
    /// Segments in a state-level tenant id.
    pub const STATE_LEVEL_TENANTID_LENGTH: EnvVar = EnvVar {
        name: "STATE_LEVEL_TENANTID_LENGTH",
        aliases: &[],
        default: "1",
        help: "Number of segments of a state-level tenant id",
    };
    /// Log format.
    pub const LOG_FORMAT: EnvVar = EnvVar {
        name: "LOG_FORMAT",
        aliases: &[],
        default: "json",
        help: "json or pretty",
    };
    /// Log filter.
    pub const RUST_LOG: EnvVar = EnvVar {
        name: "RUST_LOG",
        aliases: &[],
        default: "warn,<crate>=info",
        help: "tracing filter directives",
    };
    /// Shutdown grace.
    pub const SHUTDOWN_TIMEOUT_SECONDS: EnvVar = EnvVar {
        name: "SHUTDOWN_TIMEOUT_SECONDS",
        aliases: &[],
        default: "30",
        help: "How long SIGTERM waits for in-flight requests and the Kafka flush",
    };
    /// Body limit.
    pub const MAX_BODY_BYTES: EnvVar = EnvVar {
        name: "MAX_BODY_BYTES",
        aliases: &[],
        default: "2097152",
        help: "Largest accepted request body",
    };
    /// Request timeout.
    pub const REQUEST_TIMEOUT_SECONDS: EnvVar = EnvVar {
        name: "REQUEST_TIMEOUT_SECONDS",
        aliases: &[],
        default: "60",
        help: "Upper bound on the time one request may take",
    };
    /// Role-action cache.
    pub const ROLE_ACTION_CACHE_MINUTES: EnvVar = EnvVar {
        name: "CACHE_EXPIRY_ROLE_ACTION_MINUTES",
        aliases: &[],
        default: "15",
        help: "How long role-action data from MDMS is cached",
    };

    /// Readiness check bound.
    pub const READINESS_TIMEOUT_MS: EnvVar = EnvVar {
        name: "READINESS_TIMEOUT_MS",
        aliases: &[],
        default: "2000",
        help: "Upper bound of each readiness check of <ctx>/health/ready (Postgres query, broker metadata fetch)",
    };

    /// The variables every service reads (`ServiceSettings::from_env`, plus the runtime's
    /// readiness timeout).
    pub const COMMON: &[EnvVar] = &[
        SERVER_PORT,
        SERVER_CONTEXT_PATH,
        SERVER_ADDRESS,
        AUTH_MODE,
        JWT_SECRET,
        JWT_PUBLIC_KEY_PATH,
        JWT_ISSUER,
        OPEN_ENDPOINTS,
        MIXED_ENDPOINTS,
        STATE_LEVEL_TENANT_ID,
        STATE_LEVEL_TENANTID_LENGTH,
        LOG_FORMAT,
        RUST_LOG,
        SHUTDOWN_TIMEOUT_SECONDS,
        MAX_BODY_BYTES,
        REQUEST_TIMEOUT_SECONDS,
        ROLE_ACTION_CACHE_MINUTES,
        READINESS_TIMEOUT_MS,
    ];
}

/// Static facts about one binary.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    /// Binary name, e.g. `pgr`.
    pub name: &'static str,
    /// What it replaces, one line.
    pub description: &'static str,
    /// Default port (DESIGN.md table).
    pub default_port: u16,
    /// Default context path, e.g. `/pgr-services`.
    pub default_context_path: &'static str,
    /// Variables this binary reads besides the common ones (printed by `--help`).
    pub env: &'static [&'static [EnvVar]],
}

/// How callers are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Verify a signed JWT; ignore client-sent `userInfo`.
    Jwt,
    /// Trust `RequestInfo.userInfo` as the DIGIT gateway injects it.
    Gateway,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Pretty,
}

/// Settings every service has.
#[derive(Clone)]
pub struct ServiceSettings {
    /// Binary name.
    pub name: &'static str,
    /// Bind address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Context path, normalised to `/x` (no trailing slash).
    pub context_path: String,
    /// Authentication mode.
    pub auth_mode: AuthMode,
    /// HS256 secret (jwt mode).
    pub jwt_secret: Option<String>,
    /// RS256 public key PEM (jwt mode).
    pub jwt_public_key_pem: Option<Vec<u8>>,
    /// Required issuer, if any.
    pub jwt_issuer: Option<String>,
    /// Paths served without authentication.
    pub open_endpoints: Vec<String>,
    /// Paths where authentication is optional.
    pub mixed_endpoints: Vec<String>,
    /// State-level tenant.
    pub state_tenant: String,
    /// Segments in a state-level tenant id.
    pub state_level_length: usize,
    /// Log format.
    pub log_format: LogFormat,
    /// Grace period on shutdown.
    pub shutdown_timeout: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Per-request time bound.
    pub request_timeout: Duration,
    /// Role-action cache lifetime.
    pub role_action_ttl: Duration,
}

impl std::fmt::Debug for ServiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        f.debug_struct("ServiceSettings")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("port", &self.port)
            .field("context_path", &self.context_path)
            .field("auth_mode", &self.auth_mode)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "jwt_public_key",
                &self.jwt_public_key_pem.as_ref().map(|_| "<pem>"),
            )
            .field("state_tenant", &self.state_tenant)
            .finish_non_exhaustive()
    }
}

impl ServiceSettings {
    /// Reads the common settings.
    pub fn from_env(info: &ServiceInfo, env: &Env) -> Result<Self, ConfigError> {
        Self::read(info, env, true)
    }

    /// Reads the common settings of a service that authenticates no caller (no business
    /// routes behind the gate: the persister, the indexer). `AUTH_MODE` and the JWT keys are
    /// not read, so none is required; the settings say gateway mode.
    pub fn from_env_without_auth(info: &ServiceInfo, env: &Env) -> Result<Self, ConfigError> {
        Self::read(info, env, false)
    }

    fn read(info: &ServiceInfo, env: &Env, authenticates: bool) -> Result<Self, ConfigError> {
        use vars::*;
        let port = match env.get(&SERVER_PORT) {
            Some(p) => p.trim().parse().map_err(|_| ConfigError::Invalid {
                name: SERVER_PORT.name,
                value: p,
            })?,
            None => info.default_port,
        };
        let context_path = normalize_context_path(
            &env.get(&SERVER_CONTEXT_PATH)
                .unwrap_or_else(|| info.default_context_path.to_owned()),
        );
        let auth_mode = match env
            .get(&AUTH_MODE)
            .filter(|_| authenticates)
            .unwrap_or_else(|| {
                if authenticates {
                    AUTH_MODE.default
                } else {
                    "gateway"
                }
                .to_owned()
            })
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "jwt" => AuthMode::Jwt,
            "gateway" => AuthMode::Gateway,
            other => {
                return Err(ConfigError::Invalid {
                    name: AUTH_MODE.name,
                    value: other.to_owned(),
                })
            }
        };
        let jwt_secret = env.get(&JWT_SECRET).filter(|_| authenticates);
        let jwt_public_key_pem = match env.get(&JWT_PUBLIC_KEY_PATH).filter(|_| authenticates) {
            Some(path) => {
                Some(std::fs::read(&path).map_err(|source| ConfigError::File { path, source })?)
            }
            None => None,
        };
        if auth_mode == AuthMode::Jwt && jwt_secret.is_none() && jwt_public_key_pem.is_none() {
            return Err(ConfigError::Missing(
                "AUTH_MODE=jwt needs JWT_SECRET or JWT_PUBLIC_KEY_PATH (or set AUTH_MODE=gateway behind the DIGIT gateway)".into(),
            ));
        }
        let log_format = match env
            .get_or_default(&LOG_FORMAT)
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "json" => LogFormat::Json,
            "pretty" | "text" => LogFormat::Pretty,
            other => {
                return Err(ConfigError::Invalid {
                    name: LOG_FORMAT.name,
                    value: other.to_owned(),
                })
            }
        };
        Ok(Self {
            name: info.name,
            address: env.get_or_default(&SERVER_ADDRESS),
            port,
            context_path,
            auth_mode,
            jwt_secret,
            jwt_public_key_pem,
            jwt_issuer: env.get(&JWT_ISSUER),
            open_endpoints: env.list(&OPEN_ENDPOINTS),
            mixed_endpoints: env.list(&MIXED_ENDPOINTS),
            state_tenant: env.get_or_default(&STATE_LEVEL_TENANT_ID),
            state_level_length: env.parse(&STATE_LEVEL_TENANTID_LENGTH)?,
            log_format,
            shutdown_timeout: Duration::from_secs(env.parse(&SHUTDOWN_TIMEOUT_SECONDS)?),
            max_body_bytes: env.parse(&MAX_BODY_BYTES)?,
            request_timeout: Duration::from_secs(env.parse(&REQUEST_TIMEOUT_SECONDS)?),
            role_action_ttl: Duration::from_secs(
                60 * env.parse::<u64>(&ROLE_ACTION_CACHE_MINUTES)?,
            ),
        })
    }
}

/// `pgr-services/` → `/pgr-services`; `/` or empty → `` (root).
pub fn normalize_context_path(raw: &str) -> String {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// The `--help` text: description, then every variable with aliases and default.
pub fn help_text(info: &ServiceInfo) -> String {
    let mut out = format!(
        "{} — {}\n\nUsage: {} [--help] [--version]\n\nConfiguration is read from environment variables:\n\n",
        info.name, info.description, info.name
    );
    let groups = std::iter::once(vars::COMMON).chain(info.env.iter().copied());
    for var in groups.flatten() {
        let default = match var.name {
            "SERVER_PORT" => info.default_port.to_string(),
            "SERVER_CONTEXT_PATH" => info.default_context_path.to_owned(),
            _ => var.default.to_owned(),
        };
        out.push_str(&format!("  {:<38} {}\n", var.name, var.help));
        if !var.aliases.is_empty() {
            out.push_str(&format!(
                "  {:<38} aliases: {}\n",
                "",
                var.aliases.join(", ")
            ));
        }
        if !default.is_empty() {
            out.push_str(&format!("  {:<38} default: {}\n", "", default));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: ServiceInfo = ServiceInfo {
        name: "pgr",
        description: "test",
        default_port: 8081,
        default_context_path: "/pgr-services",
        env: &[],
    };

    #[test]
    fn defaults_and_aliases() {
        let env = Env::from_pairs([("JWT_SECRET", "s"), ("SERVER_SERVLET_CONTEXT_PATH", "pgr/")]);
        let s = ServiceSettings::from_env(&INFO, &env).unwrap();
        assert_eq!(s.port, 8081);
        assert_eq!(s.context_path, "/pgr");
        assert_eq!(s.auth_mode, AuthMode::Jwt);
        assert_eq!(s.state_tenant, "pg");
        assert!(s
            .mixed_endpoints
            .contains(&"/egov-idgen/id/_generate".to_owned()));
        assert!(!format!("{s:?}").contains("\"s\""));
    }

    #[test]
    fn jwt_mode_requires_a_key_and_bad_values_are_reported() {
        assert!(matches!(
            ServiceSettings::from_env(&INFO, &Env::from_pairs::<[(&str, &str); 0], _, _>([])),
            Err(ConfigError::Missing(_))
        ));
        let gw = Env::from_pairs([("AUTH_MODE", "gateway"), ("SERVER_PORT", "9000")]);
        let s = ServiceSettings::from_env(&INFO, &gw).unwrap();
        assert_eq!((s.auth_mode, s.port), (AuthMode::Gateway, 9000));
        let bad = Env::from_pairs([("AUTH_MODE", "gateway"), ("SERVER_PORT", "x")]);
        assert!(matches!(
            ServiceSettings::from_env(&INFO, &bad),
            Err(ConfigError::Invalid {
                name: "SERVER_PORT",
                ..
            })
        ));
    }

    #[test]
    fn a_service_without_auth_needs_no_key() {
        let none = Env::from_pairs([("SERVER_PORT", "9001"), ("JWT_PUBLIC_KEY_PATH", "/missing")]);
        let s = ServiceSettings::from_env_without_auth(&INFO, &none).unwrap();
        assert_eq!((s.auth_mode, s.port), (AuthMode::Gateway, 9001));
        assert!(s.jwt_secret.is_none() && s.jwt_public_key_pem.is_none());
    }

    #[test]
    fn help_lists_every_variable() {
        let text = help_text(&INFO);
        for v in vars::COMMON {
            assert!(text.contains(v.name), "{}", v.name);
        }
        assert!(text.contains("default: 8081"));
    }
}
