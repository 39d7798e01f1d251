//! Readiness: `GET <ctx>/health/ready` runs every registered check (concurrently, each
//! bounded by a timeout) and answers 200 when all pass, 503 otherwise, with a JSON body
//! naming each check:
//!
//! ```json
//! {"status":"DOWN","checks":{"postgres":{"status":"UP"},
//!   "kafka":{"status":"DOWN","error":"metadata fetch failed: …"}},"failing":["kafka"]}
//! ```
//!
//! `GET <ctx>/health` stays the liveness probe (upstream's path and body, no checks).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// The result of one named check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Name shown in the body, e.g. `postgres`, `kafka`, `worker:outbox-relay`.
    pub name: String,
    /// `None` when healthy; otherwise what is wrong.
    pub error: Option<String>,
}

impl CheckOutcome {
    /// A passing check.
    pub fn up(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            error: None,
        }
    }

    /// A failing check.
    pub fn down(name: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            error: Some(error.into()),
        }
    }
}

/// Something readiness depends on. One check may report several outcomes (the workers
/// check reports one per worker).
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// Name used when the check times out.
    fn name(&self) -> &str;
    /// Runs the check.
    async fn check(&self) -> Vec<CheckOutcome>;
}

/// The set of checks behind the readiness endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<Vec<Arc<dyn ReadinessCheck>>>,
    timeout: Duration,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name()).collect();
        f.debug_struct("Readiness")
            .field("checks", &names)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new(Duration::from_secs(3))
    }
}

impl Readiness {
    /// No checks yet; each check is bounded by `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            checks: Arc::new(Vec::new()),
            timeout,
        }
    }

    /// Adds a check.
    pub fn with(mut self, check: Arc<dyn ReadinessCheck>) -> Self {
        Arc::make_mut(&mut self.checks).push(check);
        self
    }

    /// Runs every check; `(all passed, body)`.
    pub async fn evaluate(&self) -> (bool, Value) {
        let runs = self.checks.iter().map(|c| async move {
            match tokio::time::timeout(self.timeout, c.check()).await {
                Ok(outcomes) => outcomes,
                Err(_) => vec![CheckOutcome::down(
                    c.name(),
                    format!("no answer within {} ms", self.timeout.as_millis()),
                )],
            }
        });
        let outcomes: Vec<CheckOutcome> = futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect();
        let mut checks = Map::new();
        let mut failing = Vec::new();
        for o in outcomes {
            let entry = match &o.error {
                None => json!({"status": "UP"}),
                Some(e) => {
                    failing.push(Value::String(o.name.clone()));
                    json!({"status": "DOWN", "error": e})
                }
            };
            checks.insert(o.name, entry);
        }
        let ok = failing.is_empty();
        let body = json!({
            "status": if ok { "UP" } else { "DOWN" },
            "checks": checks,
            "failing": failing,
        });
        (ok, body)
    }
}

/// `GET <ctx>/health/ready`.
pub async fn endpoint(State(readiness): State<Readiness>) -> Response {
    let (ok, body) = readiness.evaluate().await;
    if !ok {
        tracing::warn!(failing = %body["failing"], "Not ready.");
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Option<&'static str>);
    #[async_trait]
    impl ReadinessCheck for Fixed {
        fn name(&self) -> &str {
            self.0
        }
        async fn check(&self) -> Vec<CheckOutcome> {
            vec![CheckOutcome {
                name: self.0.into(),
                error: self.1.map(str::to_owned),
            }]
        }
    }
    struct Hangs;
    #[async_trait]
    impl ReadinessCheck for Hangs {
        fn name(&self) -> &str {
            "slow"
        }
        async fn check(&self) -> Vec<CheckOutcome> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            vec![]
        }
    }

    #[tokio::test]
    async fn failing_and_hanging_checks_are_named() {
        let r = Readiness::new(Duration::from_millis(50))
            .with(Arc::new(Fixed("postgres", None)))
            .with(Arc::new(Fixed("kafka", Some("unreachable"))))
            .with(Arc::new(Hangs));
        let (ok, body) = r.evaluate().await;
        assert!(!ok);
        assert_eq!(body["failing"], json!(["kafka", "slow"]));
        assert_eq!(body["checks"]["postgres"]["status"], "UP");
        assert_eq!(body["checks"]["kafka"]["error"], "unreachable");
        assert_eq!(body["checks"]["slow"]["error"], "no answer within 50 ms");
        let (ok, body) = Readiness::default().evaluate().await;
        assert!(ok);
        assert_eq!(body["status"], "UP");
    }
}
