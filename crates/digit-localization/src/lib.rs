//! Localized messages, as egov-localization serves them: `(locale, module, code) → message`.
//!
//! [`EmbeddedLocalization`] reads `configs/localization/<locale>/*.json` (each file
//! `{"tenantId", "module", "locale", "messages": [{"code", "message", "module", "locale"}]}`)
//! at start; [`RemoteLocalization`] calls egov-localization's
//! `/localization/messages/v1/_search?locale=&tenantId=&module=`. Both implement
//! [`Localization`]. A missing message is `None`, never an empty string. [`api`] serves the
//! embedded messages at egov-localization's search paths.

pub mod api;

use digit_core::RequestInfo;
use digit_http::HttpClient;
use digit_service::config::{Env, EnvVar};
use digit_service::Metrics;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Why messages could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LocalizationError {
    /// A file could not be read or parsed.
    #[error("localization file {file}: {message}")]
    File {
        /// File.
        file: String,
        /// Problem.
        message: String,
    },
    /// egov-localization could not be reached or answered with an error.
    #[error("egov-localization: {0}")]
    Remote(#[from] digit_http::HttpError),
    /// The remote egov-localization is misconfigured (URL or HTTP settings).
    #[error("egov-localization configuration: {0}")]
    Config(#[source] digit_http::HttpError),
}

/// Messages of one module in one locale, by code.
pub type Messages = HashMap<String, String>;

/// Looking messages up — embedded or remote.
#[async_trait::async_trait]
pub trait Localization: Send + Sync + std::fmt::Debug {
    /// The messages of `module` in `locale` for `tenant` (a state tenant).
    async fn messages(
        &self,
        request_info: &RequestInfo,
        tenant: &str,
        locale: &str,
        module: &str,
    ) -> Result<Messages, LocalizationError>;
}

#[derive(Debug, Deserialize)]
struct MessageFile {
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    code: String,
    message: String,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// Messages from files (standalone mode).
#[derive(Debug, Default, Clone)]
pub struct EmbeddedLocalization {
    by_key: HashMap<(String, String), Messages>,
}

impl EmbeddedLocalization {
    /// Loads every `*.json` under `dir` (one level of locale folders, or flat). A missing
    /// folder loads nothing.
    pub fn load(dir: &Path) -> Result<Self, LocalizationError> {
        let mut me = Self::default();
        let mut files = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(me);
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                if let Ok(inner) = std::fs::read_dir(&path) {
                    files.extend(inner.filter_map(Result::ok).map(|e| e.path()));
                }
            } else {
                files.push(path);
            }
        }
        files.retain(|p| p.extension().is_some_and(|x| x == "json"));
        files.sort();
        for file in files {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| LocalizationError::File {
                file: name.clone(),
                message: e.to_string(),
            })?;
            let parsed: MessageFile =
                serde_json::from_str(&text).map_err(|e| LocalizationError::File {
                    file: name.clone(),
                    message: e.to_string(),
                })?;
            for m in parsed.messages {
                let module = m.module.or(parsed.module.clone()).unwrap_or_default();
                let locale = m.locale.or(parsed.locale.clone()).unwrap_or_default();
                me.by_key
                    .entry((locale, module))
                    .or_default()
                    .insert(m.code, m.message);
            }
        }
        Ok(me)
    }
}

#[async_trait::async_trait]
impl Localization for EmbeddedLocalization {
    async fn messages(
        &self,
        _request_info: &RequestInfo,
        _tenant: &str,
        locale: &str,
        module: &str,
    ) -> Result<Messages, LocalizationError> {
        Ok(self
            .by_key
            .get(&(locale.to_owned(), module.to_owned()))
            .cloned()
            .unwrap_or_default())
    }
}

/// egov-localization over HTTP, through the shared [`digit_http::HttpClient`].
#[derive(Debug, Clone)]
pub struct RemoteLocalization {
    http: HttpClient,
    url: String,
}

impl RemoteLocalization {
    /// `host` like `http://egov-localization:8080`.
    pub fn new(http: HttpClient, host: &str) -> Result<Self, LocalizationError> {
        let url = http
            .endpoint(host, "/localization/messages/v1/_search")
            .map_err(LocalizationError::Config)?;
        Ok(Self { http, url })
    }
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(default)]
    messages: Vec<Message>,
}

#[async_trait::async_trait]
impl Localization for RemoteLocalization {
    async fn messages(
        &self,
        request_info: &RequestInfo,
        tenant: &str,
        locale: &str,
        module: &str,
    ) -> Result<Messages, LocalizationError> {
        let parsed: SearchResponse = self
            .http
            .post(&self.url)
            .request_info(request_info)
            .query(&[("locale", locale), ("tenantId", tenant), ("module", module)])
            .json(&serde_json::json!({"RequestInfo": request_info}))
            .idempotent()
            .send_json()
            .await?;
        Ok(parsed
            .messages
            .into_iter()
            .map(|m| (m.code, m.message))
            .collect())
    }
}

/// A DIGIT egov-localization to read messages from (instead of files).
pub const LOCALIZATION_HOST: EnvVar = EnvVar {
    name: "EGOV_LOCALIZATION_HOST",
    aliases: &[],
    default: "",
    help: "Read localized messages from a DIGIT egov-localization at this URL instead of files",
};
/// The embedded message files.
pub const LOCALIZATION_CONFIG_PATH: EnvVar = EnvVar {
    name: "LOCALIZATION_CONFIG_PATH",
    aliases: &[],
    default: "configs/localization",
    help: "Embedded localization messages (<locale>/*.json), used when EGOV_LOCALIZATION_HOST is unset",
};
/// The variables this crate reads, for `--help` (HTTP client settings are in
/// [`digit_http::HTTP_VARS`]).
pub const LOCALIZATION_VARS: &[EnvVar] = &[LOCALIZATION_HOST, LOCALIZATION_CONFIG_PATH];

/// [`LOCALIZATION_HOST`] set → remote (its calls counted in `metrics`); else files under
/// [`LOCALIZATION_CONFIG_PATH`].
pub fn from_env(env: &Env, metrics: &Metrics) -> Result<Arc<dyn Localization>, LocalizationError> {
    match env.get(&LOCALIZATION_HOST) {
        Some(host) => {
            let http = HttpClient::from_env("localization", env, metrics)
                .map_err(LocalizationError::Config)?;
            Ok(Arc::new(RemoteLocalization::new(http, &host)?))
        }
        None => {
            let dir = env.get_or_default(&LOCALIZATION_CONFIG_PATH);
            Ok(Arc::new(EmbeddedLocalization::load(Path::new(&dir))?))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn shipped_messages_load_by_locale_and_module() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/localization");
        let l = EmbeddedLocalization::load(&dir).unwrap();
        let pgr = l
            .messages(&RequestInfo::default(), "pg", "en_IN", "rainmaker-pgr")
            .await
            .unwrap();
        assert!(pgr
            .get("PGR_CITIZEN_APPLY_PENDINGFORASSIGNMENT_SMS_MESSAGE")
            .is_some_and(|m| m.contains("{id}")));
        let none = l
            .messages(&RequestInfo::default(), "pg", "xx_XX", "rainmaker-pgr")
            .await
            .unwrap();
        assert!(none.is_empty());
        assert!(EmbeddedLocalization::load(&dir.join("missing")).is_ok());
    }
}
