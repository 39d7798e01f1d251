//! `pgr-load`: upstream's PGR load scenario against a running suite (`make up`).
//!
//! One lifecycle = citizen create (APPLY) → GRO update (ASSIGN) → LME update (RESOLVE) →
//! citizen search by id, no think time, `--users` lifecycles in flight. Prints lifecycles/s
//! and p50/p95/p99/max per call. `--seed N` first inserts N complaints (with their address
//! and workflow rows) straight into the suite's database with `generate_series`, to measure
//! at size; seeded rows are reused by later runs (`--seed` tops up to N).

#[path = "../load_common.rs"]
mod load_common;

use digit_core::UserType;
use load_common::{call, latency_summary, percentile, token, write_summary};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "pgr-load — PGR lifecycle load generator

Usage: pgr-load [options]
  --base-url URL       pgr base URL (default http://127.0.0.1:8081)
  --users N            concurrent lifecycles (default 10)
  --lifecycles N       total lifecycles (default 500)
  --seed N             first make sure N seeded complaints exist (default 0)
  --db-url URL         database for --seed (default $DB_URL or postgres://postgres@127.0.0.1:5432/digit)
  --secret S           JWT secret (default $JWT_SECRET or the dev secret)
  --summary-json FILE  also write the figures as JSON (lifecycles/s, n/p50/p95/p99/max per call, errors)
";

const CITIZEN: &str = "22222222-2222-4222-8222-000000000001";
const GRO: &str = "11111111-1111-4111-8111-000000000001";
const LME: &str = "11111111-1111-4111-8111-000000000002";

struct Options {
    base: String,
    users: usize,
    lifecycles: usize,
    seed: i64,
    db_url: String,
    secret: String,
    summary: Option<String>,
}

fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        base: "http://127.0.0.1:8081".into(),
        users: 10,
        lifecycles: 500,
        seed: 0,
        db_url: std::env::var("DB_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/digit".into()),
        secret: std::env::var("JWT_SECRET").unwrap_or_else(|_| "digit-dev-secret-change-me".into()),
        summary: None,
    };
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| format!("{} needs a value", args[i]))
        };
        let num = |v: String| v.parse::<i64>().map_err(|e| format!("{}: {e}", args[i]));
        match args[i].as_str() {
            "--base-url" => o.base = value()?,
            "--users" => o.users = usize::try_from(num(value()?)?.max(1)).unwrap_or(1),
            "--lifecycles" => o.lifecycles = usize::try_from(num(value()?)?.max(1)).unwrap_or(1),
            "--seed" => o.seed = num(value()?)?.max(0),
            "--db-url" => o.db_url = value()?,
            "--secret" => o.secret = value()?,
            "--summary-json" => o.summary = Some(value()?),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    Ok(o)
}

struct Tokens {
    citizen: String,
    gro: String,
    lme: String,
}

#[derive(Default)]
struct Samples {
    create: Vec<Duration>,
    assign: Vec<Duration>,
    resolve: Vec<Duration>,
    search: Vec<Duration>,
    errors: Vec<String>,
}

fn ri(token: &str) -> Value {
    json!({"apiId": "Rainmaker", "msgId": "load|en_IN", "authToken": token})
}

async fn lifecycle(
    client: &reqwest::Client,
    base: &str,
    t: &Tokens,
    out: &mut Samples,
) -> Result<(), String> {
    let create = json!({"RequestInfo": ri(&t.citizen), "service": {
        "tenantId": "pg.citya", "serviceCode": "StreetLightNotWorking", "description": "load test", "source": "web",
        "address": {"locality": {"code": "ALOC1"}, "geoLocation": {"latitude": 0, "longitude": 0}}},
        "workflow": {"action": "APPLY"}});
    let (created, d) = call(
        client,
        &format!("{base}/pgr-services/v2/request/_create"),
        None,
        &create,
    )
    .await?;
    out.create.push(d);
    let service = created["ServiceWrappers"][0]["service"].clone();
    let srid = service["serviceRequestId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let assign = json!({"RequestInfo": ri(&t.gro), "service": service,
        "workflow": {"action": "ASSIGN", "assignes": [LME]}});
    let (assigned, d) = call(
        client,
        &format!("{base}/pgr-services/v2/request/_update"),
        None,
        &assign,
    )
    .await?;
    out.assign.push(d);
    let resolve = json!({"RequestInfo": ri(&t.lme), "service": assigned["ServiceWrappers"][0]["service"].clone(),
        "workflow": {"action": "RESOLVE"}});
    let (_, d) = call(
        client,
        &format!("{base}/pgr-services/v2/request/_update"),
        None,
        &resolve,
    )
    .await?;
    out.resolve.push(d);
    let (found, d) = call(
        client,
        &format!(
            "{base}/pgr-services/v2/request/_search?tenantId=pg.citya&serviceRequestId={srid}"
        ),
        None,
        &json!({"RequestInfo": ri(&t.citizen)}),
    )
    .await?;
    out.search.push(d);
    if found["ServiceWrappers"][0]["service"]["applicationStatus"] != "RESOLVED" {
        return Err(format!(
            "search after resolve saw {}",
            found["ServiceWrappers"][0]["service"]["applicationStatus"]
        ));
    }
    Ok(())
}

async fn seed(db_url: &str, n: i64) -> Result<(), String> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(db_url)
        .await
        .map_err(|e| e.to_string())?;
    let have: i64 =
        sqlx::query_scalar("SELECT count(*) FROM eg_pgr_service_v2 WHERE id LIKE 'seed-%'")
            .fetch_one(&pool)
            .await
            .map_err(|e| e.to_string())?;
    if have >= n {
        eprintln!("seed: {have} seeded complaints present");
        return Ok(());
    }
    let state: Option<String> = sqlx::query_scalar(
        "SELECT st.uuid FROM eg_wf_state_v2 st JOIN eg_wf_businessservice_v2 bs ON bs.uuid = st.businessserviceid
         WHERE bs.businessservice = 'PGR' AND st.state = 'PENDINGFORASSIGNMENT'",
    )
    .fetch_optional(&pool)
    .await
    .map_err(|e| e.to_string())?;
    let state =
        state.ok_or("the PGR business service is not in the database (start the suite first)")?;
    let started = Instant::now();
    let now = digit_core::time::now_ms();
    for (from, to) in chunks(have + 1, n, 100_000) {
        let statements = [
            "INSERT INTO eg_pgr_service_v2 (id, tenantid, servicecode, servicerequestid, description, accountid, additionaldetails,
               applicationstatus, source, createdby, createdtime, lastmodifiedby, lastmodifiedtime)
             SELECT 'seed-' || g, CASE WHEN g % 2 = 0 THEN 'pg.citya' ELSE 'pg.cityb' END, 'StreetLightNotWorking',
               'PG-PGR-SEED-' || lpad(g::text, 8, '0'), 'seeded', $3, '{\"department\":\"DEPT_1\"}',
               CASE WHEN g % 3 = 0 THEN 'RESOLVED' ELSE 'PENDINGFORASSIGNMENT' END, 'web', $3, $4 - g * 1000, $3, $4 - g * 1000
             FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT DO NOTHING",
            "INSERT INTO eg_pgr_address_v2 (id, tenantid, parentid, locality, latitude, longitude, createdby, createdtime)
             SELECT 'seed-addr-' || g, CASE WHEN g % 2 = 0 THEN 'pg.citya' ELSE 'pg.cityb' END, 'seed-' || g,
               CASE WHEN g % 2 = 0 THEN 'ALOC1' ELSE 'BLOC1' END, 0, 0, $3, $4 - g * 1000
             FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT DO NOTHING",
            "INSERT INTO eg_wf_processinstance_v2 (id, tenantid, businessservice, businessid, action, status, assigner,
               statesla, businessservicesla, modulename, escalated, createdby, lastmodifiedby, createdtime, lastmodifiedtime)
             SELECT 'seed-pi-' || g, CASE WHEN g % 2 = 0 THEN 'pg.citya' ELSE 'pg.cityb' END, 'PGR',
               'PG-PGR-SEED-' || lpad(g::text, 8, '0'), 'APPLY', $5, $3, 172800000, 432000000, 'pgr-services', false,
               $3, $3, $4 - g * 1000, $4 - g * 1000
             FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT DO NOTHING",
        ];
        for sql in statements {
            sqlx::query(sql)
                .bind(from)
                .bind(to)
                .bind(CITIZEN)
                .bind(now)
                .bind(&state)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
        }
        eprintln!("seed: {to}/{n} ({:.0} s)", started.elapsed().as_secs_f64());
    }
    // Three statements: the simple protocol (a prepared statement holds only one).
    sqlx::raw_sql(
        "ANALYZE eg_pgr_service_v2; ANALYZE eg_pgr_address_v2; ANALYZE eg_wf_processinstance_v2",
    )
    .execute(&pool)
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

fn chunks(from: i64, to: i64, size: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + size - 1).min(to);
        out.push((start, end));
        start = end + 1;
    }
    out
}

async fn run(o: Options) -> Result<(), String> {
    let mut seeded = Value::Null;
    if o.seed > 0 {
        let (started, started_ms) = (Instant::now(), chrono::Utc::now().timestamp_millis());
        seed(&o.db_url, o.seed).await?;
        seeded = json!({"complaints": o.seed, "seconds": started.elapsed().as_secs_f64(),
            "window_unix_ms": [started_ms, chrono::Utc::now().timestamp_millis()]});
    }
    let tokens = Arc::new(Tokens {
        citizen: token(&o.secret, CITIZEN, UserType::Citizen, &[("CITIZEN", "pg")])?,
        gro: token(
            &o.secret,
            GRO,
            UserType::Employee,
            &[("GRO", "pg.citya"), ("EMPLOYEE", "pg.citya")],
        )?,
        lme: token(
            &o.secret,
            LME,
            UserType::Employee,
            &[("PGR_LME", "pg.citya"), ("EMPLOYEE", "pg.citya")],
        )?,
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.users)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(o.lifecycles));
    let started = Instant::now();
    let started_ms = chrono::Utc::now().timestamp_millis();
    let mut workers = Vec::new();
    for _ in 0..o.users {
        let (client, base, tokens, remaining) = (
            client.clone(),
            o.base.clone(),
            tokens.clone(),
            remaining.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while remaining
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                if let Err(e) = lifecycle(&client, &base, &tokens, &mut samples).await {
                    samples.errors.push(e);
                }
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for w in workers {
        let s = w.await.map_err(|e| e.to_string())?;
        all.create.extend(s.create);
        all.assign.extend(s.assign);
        all.resolve.extend(s.resolve);
        all.search.extend(s.search);
        all.errors.extend(s.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let finished_ms = chrono::Utc::now().timestamp_millis();
    let done = all.search.len();
    let mut calls = serde_json::Map::new();
    let mut out = format!(
        "lifecycles: {done} ok, {} failed, {} users, {elapsed:.1} s → {:.1} lifecycles/s\n\ncall      n      p50 ms   p95 ms   p99 ms   max ms\n",
        all.errors.len(),
        o.users,
        done as f64 / elapsed
    );
    for (name, mut v) in [
        ("create", all.create),
        ("assign", all.assign),
        ("resolve", all.resolve),
        ("search", all.search),
    ] {
        v.sort();
        calls.insert(name.into(), latency_summary(&v));
        out.push_str(&format!(
            "{name:<8} {:>5} {:>8.1} {:>8.1} {:>8.1} {:>8.1}\n",
            v.len(),
            percentile(&v, 50.0),
            percentile(&v, 95.0),
            percentile(&v, 99.0),
            percentile(&v, 100.0)
        ));
    }
    if let Some(e) = all.errors.first() {
        out.push_str(&format!("first error: {e}\n"));
    }
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if let Some(path) = &o.summary {
        write_summary(
            path,
            &json!({
                "tool": "pgr-load",
                "users": o.users,
                "lifecycles": o.lifecycles,
                "seed": seeded,
                "ok": done,
                "failed": all.errors.len(),
                "seconds": elapsed,
                "lifecycles_per_s": done as f64 / elapsed,
                "calls": calls,
                "first_error": all.errors.first(),
                "window_unix_ms": [started_ms, finished_ms],
            }),
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    load_common::main_with("pgr-load", USAGE, parse, run)
}
