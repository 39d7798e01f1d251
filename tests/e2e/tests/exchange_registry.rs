//! The exchange registry's management API through the production wiring (gate, MDMS
//! role-actions, Postgres): create, search (every row), update, deactivate, admin-only; the
//! `EXCHANGE_REGISTRY_SEED` rows present at start; and a key change seen by the registry
//! the message path uses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::Router;
use digit_core::{UserInfo, UserType};
use digit_e2e::{kafka, platform, post_as, repo_root, send, superuser, tag, token, user};
use digit_store::TestDb;
use serde_json::{json, Value};

const DEPT: &str = "http://127.0.0.1:8084/digit-exchange";
const TREASURY: &str = "http://127.0.0.1:8094/digit-exchange";

fn key(file: &str) -> String {
    std::fs::read_to_string(repo_root().join("configs/exchange").join(file)).unwrap()
}

fn admin() -> UserInfo {
    user(
        "44444444-4444-4444-8444-000000000001",
        UserType::Employee,
        &[("EXCHANGE_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

fn program_admin() -> UserInfo {
    user(
        "44444444-4444-4444-8444-000000000002",
        UserType::Employee,
        &[("IFIX_PROGRAM_ADMIN", "pg"), ("EMPLOYEE", "pg")],
    )
}

struct Exchange {
    app: Router,
    platform: digit_runtime::Platform,
    _seed: std::path::PathBuf,
    db: TestDb,
}

async fn start() -> Exchange {
    let needs = digit_exchange::NEEDS;
    let db = TestDb::migrated(needs.migrators).await.unwrap();
    let t = tag();
    let seed = std::env::temp_dir().join(format!("exchange-seed-{t}.json"));
    std::fs::write(
        &seed,
        json!([{
            "id": "seed-treasury",
            "name": "Treasury",
            "description": "Treasury exchange (seed)",
            "host_url": TREASURY,
            "public_key": key("sample_public_key-2.pem"),
            "seal_required": true
        }])
        .to_string(),
    )
    .unwrap();
    let root = repo_root();
    let vars: Vec<(String, String)> = [
        ("SERVICE_HOST_URL", DEPT.to_owned()),
        (
            "APP_AUTH_PRIVATE_KEY_PATH",
            root.join("configs/exchange/sample_private_key1.pem")
                .display()
                .to_string(),
        ),
        ("EXCHANGE_REGISTRY_SEED", seed.display().to_string()),
        ("APP_EXCHANGE_TOPIC_NAME", format!("exchange-topic-{t}")),
        ("APP_ERROR_TOPIC_NAME", format!("exchange-error-queue-{t}")),
        (
            "APP_EVENTS_LOG_TOPIC_NAME",
            format!("exchange-event-log-queue-{t}"),
        ),
        ("EXCHANGE_KAFKA_GROUP_ID", format!("digit-exchange-{t}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let _ = kafka();
    let platform = platform(&digit_exchange::INFO, needs, &db, vars).await;
    let routes = digit_exchange::routes(platform.clone()).await.unwrap();
    let app = digit_runtime::app(&platform, &needs, routes).await.unwrap();
    Exchange {
        app,
        platform,
        _seed: seed,
        db,
    }
}

impl Exchange {
    async fn call(&self, op: &str, who: Option<&UserInfo>, body: Value) -> (u16, Value) {
        let (status, out) = post_as(
            &self.app,
            &format!("/digit-exchange/v1/registry/{op}"),
            who,
            body,
        )
        .await;
        (status.as_u16(), out)
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.platform.shutdown.trigger();
        std::fs::remove_file(&self._seed).ok();
    }
}

fn server(id: &str, host: &str, key_file: &str) -> Value {
    json!({
        "id": id,
        "name": format!("Server {id}"),
        "description": "An exchange server",
        "host_url": host,
        "public_key": key(key_file),
    })
}

fn ids(out: &Value) -> Vec<String> {
    let mut v: Vec<String> = out["ExchangeServers"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn create_search_update_deactivate() {
    let x = start().await;
    let a = Some(&admin());

    // The seed row is there at start.
    let (status, out) = x.call("_search", a, json!({"criteria": {}})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(ids(&out), ["seed-treasury"]);
    assert_eq!(out["ExchangeServers"][0]["seal_required"], true);
    assert_eq!(out["ResponseInfo"]["status"], "successful");

    // Create: two active keys for the department (rotation), one more for the treasury.
    let (status, out) = x
        .call(
            "_create",
            a,
            json!({"ExchangeServers": [
                server("dept-old", &format!("{DEPT}/"), "sample_public_key1.pem"),
                server("dept-new", DEPT, "sample_public_key-2.pem"),
                server("treasury-2", TREASURY, "sample_public_key1.pem"),
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let rows = out["ExchangeServers"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["host_url"], DEPT, "normalised");
    assert_eq!(rows[0]["is_active"], true);
    assert_eq!(rows[0]["seal_required"], false);
    assert_eq!(
        rows[0]["audit_details"]["created_by"],
        "44444444-4444-4444-8444-000000000001"
    );

    // Search returns every row (upstream returned only the last).
    let (_, out) = x.call("_search", a, json!({"criteria": {}})).await;
    assert_eq!(
        ids(&out),
        ["dept-new", "dept-old", "seed-treasury", "treasury-2"]
    );
    let (_, out) = x
        .call(
            "_search",
            a,
            json!({"criteria": {"host_url": format!("program@{DEPT}")}}),
        )
        .await;
    assert_eq!(ids(&out), ["dept-new", "dept-old"]);
    let (_, out) = x
        .call(
            "_search",
            a,
            json!({"criteria": {"ids": ["treasury-2", "dept-old"]}}),
        )
        .await;
    assert_eq!(ids(&out), ["dept-old", "treasury-2"]);

    // Update: rename and require seals.
    let mut changed = server("dept-new", DEPT, "sample_public_key-2.pem");
    changed["name"] = json!("Department (2026 key)");
    changed["seal_required"] = json!(true);
    let (status, out) = x
        .call("_update", a, json!({"ExchangeServers": [changed]}))
        .await;
    assert_eq!(status, 200, "{out}");
    let (_, out) = x
        .call("_search", a, json!({"criteria": {"ids": ["dept-new"]}}))
        .await;
    assert_eq!(out["ExchangeServers"][0]["name"], "Department (2026 key)");
    assert_eq!(out["ExchangeServers"][0]["seal_required"], true);
    assert_eq!(out["ExchangeServers"][0]["is_active"], true);

    // Deactivate the old key: gone from the default search, listed with is_active=false.
    let (status, out) = x.call("_deactivate", a, json!({"ids": ["dept-old"]})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["ExchangeServers"][0]["is_active"], false);
    let (_, out) = x
        .call("_search", a, json!({"criteria": {"host_url": DEPT}}))
        .await;
    assert_eq!(ids(&out), ["dept-new"]);
    let (_, out) = x
        .call("_search", a, json!({"criteria": {"is_active": false}}))
        .await;
    assert_eq!(ids(&out), ["dept-old"]);

    // A superuser may manage the registry too.
    let (status, _) = x
        .call("_search", Some(&superuser()), json!({"criteria": {}}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_rows_are_400_in_the_digit_envelope() {
    let x = start().await;
    let a = Some(&admin());
    let mut bad_key = server("k1", DEPT, "sample_public_key1.pem");
    bad_key["public_key"] = json!("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----");
    let cases = [
        (json!({"ExchangeServers": [bad_key]}), "INVALID_PUBLIC_KEY"),
        (
            json!({"ExchangeServers": [server("k2", "not a url", "sample_public_key1.pem")]}),
            "INVALID_HOST_URL",
        ),
        (json!({"ExchangeServers": []}), "INVALID_EXCHANGE_SERVER"),
        (
            json!({"ExchangeServers": [server("seed-treasury", TREASURY, "sample_public_key1.pem")]}),
            "DUPLICATE_EXCHANGE_SERVER",
        ),
    ];
    for (body, code) in cases {
        let (status, out) = x.call("_create", a, body).await;
        assert_eq!(status, 400, "{out}");
        assert_eq!(out["ResponseInfo"], Value::Null);
        assert_eq!(out["Errors"][0]["code"], code, "{out}");
    }
    // A private key pasted as the public key is refused (and not echoed).
    let mut private = server("k3", DEPT, "sample_public_key1.pem");
    private["public_key"] = json!(key("sample_private_key1.pem"));
    let (status, out) = x
        .call("_create", a, json!({"ExchangeServers": [private]}))
        .await;
    assert_eq!(status, 400);
    assert!(!out.to_string().contains("MIIE"), "{out}");

    let (status, out) = x
        .call(
            "_update",
            a,
            json!({"ExchangeServers": [server("nope", DEPT, "sample_public_key1.pem")]}),
        )
        .await;
    assert_eq!(
        (status, out["Errors"][0]["code"].clone()),
        (400, json!("EXCHANGE_SERVER_NOT_FOUND"))
    );
    let (status, out) = x.call("_deactivate", a, json!({"ids": ["nope"]})).await;
    assert_eq!(
        (status, out["Errors"][0]["code"].clone()),
        (400, json!("EXCHANGE_SERVER_NOT_FOUND"))
    );
    // No RequestInfo (token in the header): the DIGIT envelope's 400.
    let req = axum::http::Request::post("/digit-exchange/v1/registry/_search")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", token(&admin())))
        .body(axum::body::Body::from(json!({"criteria": {}}).to_string()))
        .unwrap();
    let (status, bytes) = send(&x.app, req).await;
    let out: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status, 400, "{out}");
    assert_eq!(out["Errors"][0]["code"], "MissingJsonException", "{out}");
    // Nothing was created.
    let (_, out) = x.call("_search", a, json!({"criteria": {}})).await;
    assert_eq!(ids(&out), ["seed-treasury"]);
}

#[tokio::test]
async fn only_admins() {
    let x = start().await;
    for op in ["_create", "_update", "_search", "_deactivate"] {
        let body = json!({
            "ExchangeServers": [server("z", DEPT, "sample_public_key1.pem")],
            "ids": ["seed-treasury"],
            "criteria": {}
        });
        let (status, out) = x.call(op, Some(&program_admin()), body.clone()).await;
        assert_eq!(status, 403, "{op}: {out}");
        assert_eq!(out["Errors"][0]["code"], "CustomException", "{out}");
        let (status, _) = x.call(op, None, body).await;
        assert_eq!(status, 401, "{op}");
    }
    // Nothing changed.
    let (_, out) = x
        .call("_search", Some(&admin()), json!({"criteria": {}}))
        .await;
    assert_eq!(ids(&out), ["seed-treasury"]);
    assert_eq!(out["ExchangeServers"][0]["is_active"], true);
}

/// The message path's registry (`Guard`) sees API writes: a key registered through the API
/// verifies, and stops verifying once deactivated.
#[tokio::test]
async fn api_writes_reach_the_message_path() {
    use digit_exchange::registry::Registry;
    use digit_exchange::security::{seal, Guard, SealInput, Seen, Signer};
    let x = start().await;
    let a = Some(&admin());
    // Another process's registry (TTL 0: reads the table every time).
    let registry = Registry::new(x.db.pool().clone(), std::time::Duration::ZERO);
    let guard = Guard::new(registry, Seen::new(x.db.pool().clone(), 300_000), true);
    let signer = Signer::from_pem(&key("sample_private_key1.pem")).unwrap();
    let message = r#"{"id":"p1"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let input = |id: &'static str| SealInput {
        message,
        message_id: id,
        message_ts: now,
        message_type: "program",
        action: "create",
        sender_id: "program@http://127.0.0.1:8084/digit-exchange",
        receiver_id: "program@http://127.0.0.1:8094/digit-exchange",
    };
    let sig = signer.sign(message);
    let e = guard
        .check(&input("m1"), Some(&sig), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "UNKNOWN_SENDER");
    let mut row = server("dept", DEPT, "sample_public_key1.pem");
    row["seal_required"] = json!(true);
    let (status, _) = x
        .call("_create", a, json!({"ExchangeServers": [row]}))
        .await;
    assert_eq!(status, 200);
    let e = guard
        .check(&input("m1"), Some(&sig), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_SEAL");
    let s = seal::seal(&signer, &input("m1")).unwrap();
    guard
        .check(&input("m1"), Some(&sig), Some(&s))
        .await
        .unwrap();
    let e = guard
        .check(&input("m1"), Some(&sig), Some(&s))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "REPLAYED_MESSAGE");
    let (status, _) = x.call("_deactivate", a, json!({"ids": ["dept"]})).await;
    assert_eq!(status, 200);
    let s2 = seal::seal(&signer, &input("m2")).unwrap();
    let e = guard
        .check(&input("m2"), Some(&sig), Some(&s2))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "UNKNOWN_SENDER");
}
