//! What the load generators (`pgr-load`, `program-load`, …) share: dev tokens, timed POSTs,
//! percentiles and the `--summary-json` file. Included by each binary with `#[path]` (the
//! crate has no library).

use digit_core::{Role, UserInfo, UserType};
use serde_json::Value;
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// An HS256 dev token for `uuid` with `roles` (code, tenant).
pub fn token(
    secret: &str,
    uuid: &str,
    user_type: UserType,
    roles: &[(&str, &str)],
) -> Result<String, String> {
    let user = UserInfo {
        uuid: Some(uuid.into()),
        user_name: Some(uuid.into()),
        user_type: Some(user_type),
        tenant_id: roles.first().map(|(_, t)| (*t).to_owned()),
        roles: roles
            .iter()
            .map(|(c, t)| Role {
                code: (*c).into(),
                tenant_id: Some((*t).into()),
                ..Role::default()
            })
            .collect(),
        ..UserInfo::default()
    };
    digit_service::jwt::mint_hs256(&user, secret.as_bytes(), 86_400, None)
        .map_err(|e| e.to_string())
}

/// POSTs `body` (with `bearer` as `Authorization: Bearer` when given); the JSON answer and
/// the time it took. A non-2xx answer is an error naming the first DIGIT error code.
pub async fn call(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Result<(Value, Duration), String> {
    let started = Instant::now();
    let mut request = client.post(url).json(body);
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let value: Value = response.json().await.map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !status.is_success() {
        return Err(format!("{status}: {}", value["Errors"][0]["code"]));
    }
    Ok((value, took))
}

/// The `p`-th percentile of `sorted` in milliseconds (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// `{"n", "p50_ms", "p95_ms", "p99_ms", "max_ms"}` of `sorted`, for `--summary-json`.
#[allow(dead_code)] // Not every load generator writes a summary.
pub fn latency_summary(sorted: &[Duration]) -> Value {
    serde_json::json!({
        "n": sorted.len(),
        "p50_ms": percentile(sorted, 50.0),
        "p95_ms": percentile(sorted, 95.0),
        "p99_ms": percentile(sorted, 99.0),
        "max_ms": percentile(sorted, 100.0),
    })
}

/// Writes `summary` as pretty JSON to `path` (`--summary-json`).
#[allow(dead_code)] // Not every load generator writes a summary.
pub fn write_summary(path: &str, summary: &Value) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("--summary-json {path}: {e}"))
}

/// A load generator's `main`: parse the options (print `usage` on error, exit 2), run
/// `run` on a multi-threaded runtime, report its error as `<name>: <error>`.
pub fn main_with<O, Fut>(
    name: &str,
    usage: &str,
    parse: impl FnOnce() -> Result<O, String>,
    run: impl FnOnce(O) -> Fut,
) -> ExitCode
where
    Fut: Future<Output = Result<(), String>>,
{
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}
