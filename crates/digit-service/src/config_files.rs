//! The file/folder list of DIGIT's YAML-config services (`EGOV_PERSIST_YML_REPO_PATH`,
//! `EGOV_INDEXER_YML_REPO_PATH`): which files a comma-separated spec names, read once at
//! start-up. The persister and the indexer share these rules, as upstream's two services do.

use std::path::{Path, PathBuf};

/// Why a config list could not be read. The caller wraps it with the service's own words.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFilesError {
    /// The list resolved to no YAML file at all.
    #[error("no config files found in {spec:?}")]
    NoFiles {
        /// The configured list.
        spec: String,
    },
    /// An entry uses a scheme this implementation cannot read.
    #[error("config entry {entry:?} is not supported: {reason}")]
    Unsupported {
        /// The entry as configured.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A file or directory could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The YAML files `spec` names, in order, with their text.
///
/// Entries (trimmed; empty ones ignored):
/// * `file:///abs/x.yml` or a plain path whose last `.`-segment is `yml`/`yaml` — one file;
/// * anything else — a local directory (plain path or `file://`): every `*.yml`/`*.yaml`
///   directly inside it (not recursive), sorted by file name;
/// * `classpath:`, `http://`, `https://` — [`ConfigFilesError::Unsupported`] (there is no
///   classpath, and configs are not fetched over the network at start-up: mount them).
///
/// Zero files in total is an error, as upstream.
pub fn read_yaml_files(spec: &str) -> Result<Vec<(PathBuf, String)>, ConfigFilesError> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let lower = entry.to_ascii_lowercase();
        if lower.starts_with("classpath:") {
            return Err(ConfigFilesError::Unsupported {
                entry: entry.to_string(),
                reason: "there is no Java classpath".to_string(),
            });
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Err(ConfigFilesError::Unsupported {
                entry: entry.to_string(),
                reason: "configs are not fetched over the network".to_string(),
            });
        }
        let path = match entry.strip_prefix("file://") {
            Some(rest) => PathBuf::from(rest),
            None if entry.contains("://") || lower.starts_with("file:") => {
                return Err(ConfigFilesError::Unsupported {
                    entry: entry.to_string(),
                    reason: "only file:///absolute/path URLs and plain paths are supported"
                        .to_string(),
                })
            }
            None => PathBuf::from(entry),
        };
        if is_yaml_name(entry) {
            files.push(path);
        } else {
            files.extend(yaml_files_in(&path)?);
        }
    }
    if files.is_empty() {
        return Err(ConfigFilesError::NoFiles {
            spec: spec.to_string(),
        });
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| ConfigFilesError::Io {
            path: f.clone(),
            source,
        })?;
        out.push((f, text));
    }
    Ok(out)
}

/// Upstream's test: the last `.`-separated segment is `yml` or `yaml`.
pub fn is_yaml_name(name: &str) -> bool {
    matches!(name.rsplit('.').next(), Some("yml" | "yaml"))
}

fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, ConfigFilesError> {
    let io = |source| ConfigFilesError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let is_file = entry.file_type().map_err(io)?.is_file()
            || std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
        let name = entry.file_name();
        if is_file && is_yaml_name(&name.to_string_lossy()) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_folders_sorted_and_refuses_remote_entries() {
        let dir = std::env::temp_dir().join(format!("cfg-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.yml"), "b").unwrap();
        std::fs::write(dir.join("a.yaml"), "a").unwrap();
        std::fs::write(dir.join("c.txt"), "c").unwrap();
        let files = read_yaml_files(&format!(" {} ,", dir.display())).unwrap();
        let names: Vec<_> = files.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(matches!(
            read_yaml_files("http://x/y.yml"),
            Err(ConfigFilesError::Unsupported { .. })
        ));
        assert!(matches!(
            read_yaml_files(" , "),
            Err(ConfigFilesError::NoFiles { .. })
        ));
        assert!(matches!(
            read_yaml_files("/nonexistent/x.yml"),
            Err(ConfigFilesError::Io { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
