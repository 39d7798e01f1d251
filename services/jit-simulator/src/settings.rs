//! The simulator's settings from the environment (`JIT_SIMULATOR_*`), printed by `--help`.

use crate::scenario::Scenario;
use crate::SimulatorConfig;
use digit_jit::JitPrivateKey;
use digit_service::config::{ConfigError, Env, EnvVar};
use std::path::Path;
use std::time::Duration;

/// Default accepted `clientId`.
pub const DEFAULT_CLIENT_ID: &str = "digit-rs-dev";
/// Default accepted `clientSecret` (a dev value: the simulator guards nothing).
pub const DEFAULT_CLIENT_SECRET: &str = "digit-rs-dev-secret";

/// Port.
pub const JIT_SIMULATOR_PORT: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_PORT",
    aliases: &[],
    default: "8095",
    help: "HTTP port",
};
/// Bind address.
pub const JIT_SIMULATOR_ADDRESS: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_ADDRESS",
    aliases: &[],
    default: "127.0.0.1",
    help: "Address to bind",
};
/// Private key.
pub const JIT_SIMULATOR_PRIVATE_KEY_PATH: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_PRIVATE_KEY_PATH",
    aliases: &[],
    default: "configs/ifms/jit-simulator-private.pem",
    help: "RSA private key (PKCS#8, PEM or DER) that decrypts the clients' app keys",
};
/// Client id.
pub const JIT_SIMULATOR_CLIENT_ID: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_CLIENT_ID",
    aliases: &[],
    default: DEFAULT_CLIENT_ID,
    help: "clientId header authenticate accepts",
};
/// Client secret.
pub const JIT_SIMULATOR_CLIENT_SECRET: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_CLIENT_SECRET",
    aliases: &[],
    default: DEFAULT_CLIENT_SECRET,
    help: "clientSecret header authenticate accepts",
};
/// Scenario file.
pub const JIT_SIMULATOR_SCENARIO: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_SCENARIO",
    aliases: &[],
    default: "configs/ifms/jit-scenario.json",
    help: "Scenario JSON (allotments, wrong IFSCs, rejected and failing accounts; see configs/ifms/README.md)",
};
/// Session lifetime.
pub const JIT_SIMULATOR_SESSION_TIMEOUT_MS: EnvVar = EnvVar {
    name: "JIT_SIMULATOR_SESSION_TIMEOUT_MS",
    aliases: &[],
    default: "1800000",
    help: "How long a session (auth token + SEK) is valid; the scenario's sessionTimeoutMs overrides it",
};

/// Every variable, for `--help`.
pub const SIMULATOR_VARS: &[EnvVar] = &[
    JIT_SIMULATOR_PORT,
    JIT_SIMULATOR_ADDRESS,
    JIT_SIMULATOR_PRIVATE_KEY_PATH,
    JIT_SIMULATOR_CLIENT_ID,
    JIT_SIMULATOR_CLIENT_SECRET,
    JIT_SIMULATOR_SCENARIO,
    JIT_SIMULATOR_SESSION_TIMEOUT_MS,
];

/// Where to listen and what to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `address:port`.
    pub bind: String,
    /// The simulator's setup.
    pub config: SimulatorConfig,
}

impl Settings {
    /// Reads [`SIMULATOR_VARS`], the key file and the scenario file.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let port: u16 = env.parse(&JIT_SIMULATOR_PORT)?;
        let address = env.get_or_default(&JIT_SIMULATOR_ADDRESS);
        let key_path = env.get_or_default(&JIT_SIMULATOR_PRIVATE_KEY_PATH);
        let private_key = JitPrivateKey::from_file(Path::new(&key_path)).map_err(|e| {
            ConfigError::Missing(format!("{}: {e}", JIT_SIMULATOR_PRIVATE_KEY_PATH.name))
        })?;
        let scenario_path = env.get_or_default(&JIT_SIMULATOR_SCENARIO);
        let scenario = Scenario::from_file(Path::new(&scenario_path))
            .map_err(|e| ConfigError::Missing(format!("{}: {e}", JIT_SIMULATOR_SCENARIO.name)))?;
        Ok(Self {
            bind: format!("{address}:{port}"),
            config: SimulatorConfig {
                client_id: env.get_or_default(&JIT_SIMULATOR_CLIENT_ID),
                client_secret: env.get_or_default(&JIT_SIMULATOR_CLIENT_SECRET),
                private_key,
                scenario,
                session_timeout: Duration::from_millis(
                    env.parse(&JIT_SIMULATOR_SESSION_TIMEOUT_MS)?,
                ),
            },
        })
    }
}

/// The `--help` text.
pub fn help_text() -> String {
    let mut out = String::from(
        "jit-simulator — stand-in for Odisha's JIT-FS treasury (same encrypted protocol)\n\n\
         Usage: jit-simulator [--help] [--version]\n\n\
         Configuration is read from environment variables:\n\n",
    );
    for var in SIMULATOR_VARS.iter().chain([
        &digit_service::config::vars::LOG_FORMAT,
        &digit_service::config::vars::RUST_LOG,
    ]) {
        out.push_str(&format!("  {:<38} {}\n", var.name, var.help));
        if !var.default.is_empty() {
            out.push_str(&format!("  {:<38} default: {}\n", "", var.default));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn repo(path: &str) -> String {
        format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn reads_defaults_and_files() {
        let env = Env::from_pairs([
            (
                "JIT_SIMULATOR_PRIVATE_KEY_PATH",
                repo("configs/ifms/jit-simulator-private.pem"),
            ),
            (
                "JIT_SIMULATOR_SCENARIO",
                repo("configs/ifms/jit-scenario.json"),
            ),
        ]);
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8095");
        assert_eq!(s.config.client_id, "digit-rs-dev");
        assert_eq!(s.config.client_secret, "digit-rs-dev-secret");
        assert_eq!(s.config.session_timeout, Duration::from_secs(1800));
        assert_eq!(s.config.scenario.allotments.len(), 3);
        let missing = Env::from_pairs([("JIT_SIMULATOR_PRIVATE_KEY_PATH", "/nonexistent.pem")]);
        assert!(Settings::from_env(&missing).is_err());
        assert!(help_text().contains("JIT_SIMULATOR_SCENARIO"));
    }
}
