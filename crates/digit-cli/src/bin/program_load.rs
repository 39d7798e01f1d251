//! `program-load`: disbursements per second against a running program service (`make up`).
//!
//! Setup (through the API, as the treasury would): one program (owned here, so its code
//! comes from idgen), `--sanctions S` sanctions on it in one on-sanction message, each fully
//! funded by one on-allocation. Then `--disbursements N` disburse/_create calls, `--users C`
//! in flight, each a one-line payment of `--amount` for its own target, naming sanction
//! `i % S` (or none with `--auto-pick`: the service picks the oldest sanction with enough
//! balance). Prints disbursements/s, p50/p95/p99/max of disburse/_create, and checks that
//! every sanction's balance equals its funding minus what was accepted — exactly.
//! `--round-trip` measures the two-domain path instead: a program created on the
//! department comes back with the treasury's code (through both exchanges).

#[path = "../load_common.rs"]
mod load_common;

use digit_core::UserType;
use load_common::{call, latency_summary, percentile, token, write_summary};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "program-load — disbursement load generator

Usage: program-load [options]
  --base-url URL       program service base URL (default http://127.0.0.1:8083)
  --sanctions S        sanctions to spread the payments over (default 1)
  --disbursements N    payments (default 1000)
  --users C            payments in flight (default 10)
  --amount A           gross amount of each payment (default 10.01)
  --auto-pick          let the service choose the sanction
  --round-trip         instead: N program creates on the department (--base-url), each
                       waiting until the treasury's code came back through both exchanges
  --secret S           JWT secret (default $JWT_SECRET or the dev secret)
  --summary-json FILE  also write the figures as JSON (rate, n/p50/p95/p99/max, failures)
";

const ADMIN: &str = "55555555-5555-4555-8555-0000000000aa";
const OWN: &str = "program@http://127.0.0.1:8084/digit-exchange";
const OTHER: &str = "program@http://127.0.0.1:8094/digit-exchange";
const LOCATION: &str = "pg.citya";

struct Options {
    base: String,
    sanctions: usize,
    disbursements: usize,
    users: usize,
    amount: String,
    auto_pick: bool,
    round_trip: bool,
    secret: String,
    summary: Option<String>,
}

fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        base: "http://127.0.0.1:8083".into(),
        sanctions: 1,
        disbursements: 1000,
        users: 10,
        amount: "10.01".into(),
        auto_pick: false,
        round_trip: false,
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
        let num = |v: String| {
            v.parse::<usize>()
                .map(|n| n.max(1))
                .map_err(|e| format!("{}: {e}", args[i]))
        };
        match args[i].as_str() {
            "--base-url" => o.base = value()?,
            "--sanctions" => o.sanctions = num(value()?)?,
            "--disbursements" => o.disbursements = num(value()?)?,
            "--users" => o.users = num(value()?)?,
            "--amount" => o.amount = value()?,
            "--secret" => o.secret = value()?,
            "--summary-json" => o.summary = Some(value()?),
            "--auto-pick" => {
                o.auto_pick = true;
                i += 1;
                continue;
            }
            "--round-trip" => {
                o.round_trip = true;
                i += 1;
                continue;
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    o.amount
        .parse::<rust_decimal::Decimal>()
        .map_err(|e| format!("--amount: {e}"))?;
    Ok(o)
}

fn envelope(
    message_type: &str,
    action: &str,
    sender: &str,
    receiver: &str,
    message: Value,
) -> Value {
    json!({"signature": null, "header": {
        "message_id": uuid::Uuid::new_v4().to_string(), "message_ts": chrono::Utc::now().timestamp_millis(),
        "message_type": message_type, "action": action, "sender_id": sender, "sender_uri": null,
        "receiver_id": receiver, "is_msg_encrypted": false}, "message": message})
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The program, its sanctions (ids) and the funding of each.
async fn setup(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
) -> Result<(String, Vec<String>, rust_decimal::Decimal), String> {
    let url = |p: &str| format!("{}/program-service/v1/{p}", o.base);
    let run = chrono::Utc::now().timestamp_millis();
    let (program, _) = call(
        client,
        &url("program/_create"),
        Some(bearer),
        &envelope("program", "create", OTHER, OWN, json!({
            "location_code": LOCATION, "name": format!("load {run}"), "start_date": 1_672_531_200_i64})),
    )
    .await?;
    let code = program["message"]["program_code"]
        .as_str()
        .ok_or_else(|| format!("program create: no program_code in {program}"))?
        .to_owned();
    let amount: rust_decimal::Decimal = o.amount.parse().map_err(|e| format!("{e}"))?;
    let per_sanction =
        amount * rust_decimal::Decimal::from(o.disbursements.div_ceil(o.sanctions) as u64 + 1);
    let child = json!({"location_code": LOCATION, "program_code": code,
        "net_amount": number(&per_sanction.to_string()), "gross_amount": number(&per_sanction.to_string()),
        "status": {"status_code": "SUCCESSFUL", "status_message": null}});
    let (sanctioned, _) = call(
        client,
        &url("on-sanction/_create"),
        Some(bearer),
        &envelope(
            "on-sanction",
            "create",
            OTHER,
            OWN,
            json!({
            "location_code": LOCATION, "program_code": code,
            "net_amount": child["net_amount"], "gross_amount": child["gross_amount"],
            "status": {"status_code": "SUCCESSFUL", "status_message": null},
            "children": vec![child; o.sanctions]}),
        ),
    )
    .await?;
    let ids: Vec<String> = sanctioned["message"]["children"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if ids.len() != o.sanctions {
        return Err(format!("on-sanction: {sanctioned}"));
    }
    for id in &ids {
        let allocation = json!({"location_code": LOCATION, "program_code": code, "sanction_id": id,
            "net_amount": number(&per_sanction.to_string()), "gross_amount": number(&per_sanction.to_string()),
            "allocation_type": "ALLOCATION", "status": {"status_code": "SUCCESSFUL", "status_message": null}});
        let mut parent = allocation.clone();
        parent["children"] = json!([allocation]);
        let (allocated, _) = call(
            client,
            &url("on-allocation/_create"),
            Some(bearer),
            &envelope("on-allocation", "create", OTHER, OWN, parent),
        )
        .await?;
        if allocated["message"]["children"][0]["status"]["status_code"] == "ERROR" {
            return Err(format!("on-allocation: {allocated}"));
        }
    }
    Ok((code, ids, per_sanction))
}

fn payment(o: &Options, code: &str, sanction: Option<&str>, n: usize, run: i64) -> Value {
    let gross = number(&o.amount);
    let child = json!({"location_code": LOCATION, "program_code": code, "target_id": format!("LINE-{run}-{n}"),
        "sanction_id": sanction, "account_code": "1234567890@SBIN0003491", "net_amount": gross, "gross_amount": gross,
        "individual": {"name": "Load Payee", "phone": "9999999999", "address": "Cuttack", "pin": "751001"},
        "status": {"status_code": "INITIATED", "status_message": null}, "children": null});
    envelope(
        "disburse",
        "create",
        OWN,
        OTHER,
        json!({
        "location_code": LOCATION, "program_code": code, "target_id": format!("EP/LOAD/{run}/{n}"),
        "sanction_id": sanction, "net_amount": gross, "gross_amount": gross,
        "status": {"status_code": "INITIATED", "status_message": null}, "children": [child]}),
    )
}

#[derive(Default)]
struct Samples {
    took: Vec<Duration>,
    accepted: usize,
    accepted_ids: Vec<String>,
    refused: Vec<String>,
    errors: Vec<String>,
}

/// One program created on the department and its code back from the treasury: four
/// messages through two exchanges (program → treasury, on-program → department).
async fn round_trip(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    n: usize,
) -> Result<Duration, String> {
    let started = Instant::now();
    let url = |p: &str| format!("{}/program-service/v1/{p}", o.base);
    let (created, _) = call(
        client,
        &url("program/_create"),
        Some(bearer),
        &envelope(
            "program",
            "create",
            OWN,
            OTHER,
            json!({
            "location_code": LOCATION, "name": format!("rt {n}"), "start_date": 1_672_531_200_i64}),
        ),
    )
    .await?;
    let id = created["message"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    loop {
        let (found, _) = call(
            client,
            &url("program/_search"),
            Some(bearer),
            &envelope(
                "program",
                "search",
                OWN,
                OWN,
                json!({"ids": [id], "location_code": LOCATION}),
            ),
        )
        .await?;
        if found["programs"][0]["program_code"].is_string() {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("no code for {id} after 30 s"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn run_round_trips(o: Options) -> Result<(), String> {
    let bearer = Arc::new(token(
        &o.secret,
        ADMIN,
        UserType::Employee,
        &[("IFIX_PROGRAM_ADMIN", "pg")],
    )?);
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let o = Arc::new(o);
    let started = Instant::now();
    let started_ms = chrono::Utc::now().timestamp_millis();
    let mut workers = Vec::new();
    for _ in 0..o.users {
        let (o, bearer, next, client) = (o.clone(), bearer.clone(), next.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut s = Samples::default();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= o.disbursements {
                    break;
                }
                match round_trip(&client, &o, &bearer, n).await {
                    Ok(took) => s.took.push(took),
                    Err(e) => s.errors.push(e),
                }
            }
            s
        }));
    }
    let mut all = Samples::default();
    for w in workers {
        let s = w.await.map_err(|e| e.to_string())?;
        all.took.extend(s.took);
        all.errors.extend(s.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let finished_ms = chrono::Utc::now().timestamp_millis();
    all.took.sort();
    let done = all.took.len();
    let out = format!(
        "round trips: {done} ok, {} failed, {} users, {elapsed:.1} s → {:.1} round trips/s ({:.1} messages/s through the exchanges)\n\
         create → code back ms: p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}\n{}",
        all.errors.len(),
        o.users,
        done as f64 / elapsed,
        4.0 * done as f64 / elapsed,
        percentile(&all.took, 50.0),
        percentile(&all.took, 95.0),
        percentile(&all.took, 99.0),
        percentile(&all.took, 100.0),
        all.errors
            .first()
            .map(|e| format!("first failure: {e}\n"))
            .unwrap_or_default(),
    );
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if let Some(path) = &o.summary {
        write_summary(
            path,
            &json!({
                "tool": "program-load",
                "mode": "round-trip",
                "users": o.users,
                "requested": o.disbursements,
                "ok": done,
                "failed": all.errors.len(),
                "seconds": elapsed,
                "round_trips_per_s": done as f64 / elapsed,
                "messages_per_s": 4.0 * done as f64 / elapsed,
                "latency": latency_summary(&all.took),
                "first_failure": all.errors.first(),
                "window_unix_ms": [started_ms, finished_ms],
            }),
        )?;
    }
    if all.errors.is_empty() {
        Ok(())
    } else {
        Err("some round trips failed".into())
    }
}

async fn run(o: Options) -> Result<(), String> {
    if o.round_trip {
        return run_round_trips(o).await;
    }
    let bearer = token(
        &o.secret,
        ADMIN,
        UserType::Employee,
        &[("IFIX_PROGRAM_ADMIN", "pg")],
    )?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.users)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let (code, sanctions, funded) = setup(&client, &o, &bearer).await?;
    eprintln!(
        "program {code}: {} sanctions funded {funded} each",
        sanctions.len()
    );
    let run = chrono::Utc::now().timestamp_millis();
    let next = Arc::new(AtomicUsize::new(0));
    let o = Arc::new(o);
    let (code, sanctions, bearer) = (Arc::new(code), Arc::new(sanctions), Arc::new(bearer));
    let started = Instant::now();
    let started_ms = chrono::Utc::now().timestamp_millis();
    let mut workers = Vec::new();
    for _ in 0..o.users {
        let (o, code, sanctions, bearer, next, client) = (
            o.clone(),
            code.clone(),
            sanctions.clone(),
            bearer.clone(),
            next.clone(),
            client.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut s = Samples::default();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= o.disbursements {
                    break;
                }
                let sanction = (!o.auto_pick).then(|| sanctions[n % sanctions.len()].as_str());
                let url = format!("{}/program-service/v1/disburse/_create", o.base);
                match call(
                    &client,
                    &url,
                    Some(&bearer),
                    &payment(&o, &code, sanction, n, run),
                )
                .await
                {
                    Ok((answer, took)) => {
                        s.took.push(took);
                        match answer["message"]["status"]["status_code"].as_str() {
                            Some("INITIATED") => {
                                s.accepted += 1;
                                if let Some(id) = answer["message"]["id"].as_str() {
                                    s.accepted_ids.push(id.to_owned());
                                }
                            }
                            _ => s
                                .refused
                                .push(answer["message"]["status"]["status_message"].to_string()),
                        }
                    }
                    Err(e) => s.errors.push(e),
                }
            }
            s
        }));
    }
    let mut all = Samples::default();
    for w in workers {
        let s = w.await.map_err(|e| e.to_string())?;
        all.took.extend(s.took);
        all.accepted += s.accepted;
        all.accepted_ids.extend(s.accepted_ids);
        all.refused.extend(s.refused);
        all.errors.extend(s.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let finished_ms = chrono::Utc::now().timestamp_millis();
    all.took.sort();
    let mut out = format!(
        "disbursements: {} accepted, {} refused, {} failed; {} sanctions{}, {} users, {elapsed:.1} s → {:.1} disbursements/s\n\
         disburse/_create ms: p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}\n",
        all.accepted,
        all.refused.len(),
        all.errors.len(),
        sanctions.len(),
        if o.auto_pick { " (auto-pick)" } else { "" },
        o.users,
        all.accepted as f64 / elapsed,
        percentile(&all.took, 50.0),
        percentile(&all.took, 95.0),
        percentile(&all.took, 99.0),
        percentile(&all.took, 100.0),
    );
    let amount: rust_decimal::Decimal = o.amount.parse().map_err(|e| format!("{e}"))?;
    let ledger = ledger_check(
        &client,
        &o,
        &bearer,
        &sanctions,
        &all.accepted_ids,
        funded * rust_decimal::Decimal::from(sanctions.len() as u64),
        amount,
    )
    .await?;
    let (available, expected) = (ledger.available, ledger.expected);
    out.push_str(&format!(
        "ledger: available {available}, expected {expected} ({} refunded by FAILED/ERROR answers, {} still in flight) → {}\n",
        ledger.refunded,
        ledger.in_flight,
        if available == expected {
            "exact"
        } else {
            "MISMATCH"
        }
    ));
    if let Some(e) = all.errors.first().or(all.refused.first()) {
        out.push_str(&format!("first failure: {e}\n"));
    }
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if let Some(path) = &o.summary {
        write_summary(
            path,
            &json!({
                "tool": "program-load",
                "mode": "disbursements",
                "sanctions": sanctions.len(),
                "auto_pick": o.auto_pick,
                "users": o.users,
                "requested": o.disbursements,
                "accepted": all.accepted,
                "refused": all.refused.len(),
                "failed": all.errors.len(),
                "seconds": elapsed,
                "disbursements_per_s": all.accepted as f64 / elapsed,
                "latency": latency_summary(&all.took),
                "ledger": {"available": available.to_string(), "expected": expected.to_string(),
                           "refunded": ledger.refunded, "in_flight": ledger.in_flight, "exact": available == expected},
                "first_failure": all.errors.first().or(all.refused.first()),
                "window_unix_ms": [started_ms, finished_ms],
            }),
        )?;
    }
    if available == expected {
        Ok(())
    } else {
        Err("the sanctions' balances do not match the accepted payments".into())
    }
}

/// The ledger after a run, once the treasury's answers have settled.
struct Ledger {
    /// Σ available over the sanctions.
    available: rust_decimal::Decimal,
    /// Σ funding − (accepted − refunded) × amount.
    expected: rust_decimal::Decimal,
    /// Accepted payments a FAILED or ERROR answer refunded.
    refunded: usize,
    /// Accepted payments still INITIATED/INPROCESS when the wait ended (0 when settled).
    in_flight: usize,
}

/// The ledger check: Σ available over the sanctions = Σ funding − amount × the accepted
/// payments that were not refunded. Answers (and their refunds) keep arriving through the
/// exchanges after the run, so both sides are read until they agree, or until two readings
/// in a row are the same (settled, and then a mismatch is real), for at most a minute.
async fn ledger_check(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    sanctions: &[String],
    accepted_ids: &[String],
    funding: rust_decimal::Decimal,
    amount: rust_decimal::Decimal,
) -> Result<Ledger, String> {
    // Refunds arrive with the treasury's answers, after the run: wait until no payment is
    // in flight any more, then read the balances (so both readings see the same refunds).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let statuses = payment_statuses(client, o, bearer, accepted_ids).await?;
        if statuses.in_flight == 0 || Instant::now() > deadline {
            let available = available_sum(client, o, bearer, sanctions).await?;
            let charged = accepted_ids.len() - statuses.refunded;
            let expected = funding - amount * rust_decimal::Decimal::from(charged as u64);
            return Ok(Ledger {
                available,
                expected,
                refunded: statuses.refunded,
                in_flight: statuses.in_flight,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn available_sum(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    sanctions: &[String],
) -> Result<rust_decimal::Decimal, String> {
    let mut sum = rust_decimal::Decimal::ZERO;
    for ids in sanctions.chunks(100) {
        let (found, _) = call(
            client,
            &format!("{}/program-service/v1/sanction/_search", o.base),
            Some(bearer),
            &envelope(
                "sanction",
                "search",
                OWN,
                OWN,
                json!({"ids": ids, "location_code": LOCATION, "pagination": {"limit": 100}}),
            ),
        )
        .await?;
        for s in found["sanctions"].as_array().into_iter().flatten() {
            sum += s["available_amount"]
                .to_string()
                .parse::<rust_decimal::Decimal>()
                .map_err(|e| format!("sanction available_amount: {e}"))?;
        }
    }
    Ok(sum)
}

/// Where the accepted payments stand.
struct PaymentStatuses {
    /// FAILED or ERROR: their debit is refunded.
    refunded: usize,
    /// INITIATED or INPROCESS: the treasury has not answered yet.
    in_flight: usize,
}

/// The statuses of payments `ids`, read with disburse/_search.
async fn payment_statuses(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    ids: &[String],
) -> Result<PaymentStatuses, String> {
    let mut statuses = PaymentStatuses {
        refunded: 0,
        in_flight: 0,
    };
    for ids in ids.chunks(100) {
        let (found, _) = call(
            client,
            &format!("{}/program-service/v1/disburse/_search", o.base),
            Some(bearer),
            &envelope(
                "disburse",
                "search",
                OWN,
                OWN,
                json!({"ids": ids, "location_code": LOCATION, "pagination": {"limit": 100}}),
            ),
        )
        .await?;
        for d in found["disbursements"].as_array().into_iter().flatten() {
            match d["status"]["status_code"].as_str() {
                Some("FAILED" | "ERROR") => statuses.refunded += 1,
                Some("INITIATED" | "INPROCESS") => statuses.in_flight += 1,
                _ => {}
            }
        }
    }
    Ok(statuses)
}

fn main() -> ExitCode {
    load_common::main_with("program-load", USAGE, parse, run)
}
