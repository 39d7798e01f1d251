//! `program-load`: disbursements per second against a running program service (`make up`).
//!
//! Setup (through the APIs, both domains, as upstream runs them): one program created on the
//! department for the treasury (the treasury's idgen gives its code, which comes back on
//! on-program); then `--sanctions S` Initial Allotments added to the JIT simulator's VA
//! answer (`--jit-url`) and the IFMS adapter's VA job run (`--adapter-url`): the adapter
//! records the sanctions on the newest program and sends one on-sanction and one
//! on-allocation to the treasury's program service (`--treasury-url`), which forwards them
//! to the department; setup waits until the department holds them all, funded. Then `--disbursements N` disburse/_create calls, `--users C`
//! in flight, each a one-line payment of `--amount` for its own target, naming sanction
//! `i % S` (or none with `--auto-pick`: the service picks the oldest sanction with enough
//! balance). Prints disbursements/s, p50/p95/p99/max of disburse/_create, and checks that
//! every sanction's balance equals its funding minus what was accepted and not refunded —
//! exactly, on both ledgers (the department's and the treasury's, which debits the same
//! payments when they arrive through the exchanges and sends them on to the IFMS adapter).
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
  --base-url URL       the department's program service (default http://127.0.0.1:8083)
  --treasury-url URL   the treasury's program service (default http://127.0.0.1:8093)
  --adapter-url URL    the IFMS adapter (default http://127.0.0.1:8085/ifms)
  --jit-url URL        the JIT simulator (default http://127.0.0.1:8095)
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
    treasury: String,
    adapter: String,
    jit: String,
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
        treasury: "http://127.0.0.1:8093".into(),
        adapter: "http://127.0.0.1:8085/ifms".into(),
        jit: "http://127.0.0.1:8095".into(),
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
            "--treasury-url" => o.treasury = value()?,
            "--adapter-url" => o.adapter = value()?,
            "--jit-url" => o.jit = value()?,
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
    let run = chrono::Utc::now().timestamp_millis();
    let (program, _) = call(
        client,
        &format!("{}/program-service/v1/program/_create", o.base),
        Some(bearer),
        &envelope("program", "create", OWN, OTHER, json!({
            "location_code": LOCATION, "name": format!("load {run}"), "start_date": 1_672_531_200_i64})),
    )
    .await?;
    let id = program["message"]["id"]
        .as_str()
        .ok_or_else(|| format!("program create: no id in {program}"))?;
    let code = program_code_back(client, o, bearer, id, Instant::now()).await?;
    let amount: rust_decimal::Decimal = o.amount.parse().map_err(|e| format!("{e}"))?;
    let per_sanction =
        amount * rust_decimal::Decimal::from(o.disbursements.div_ceil(o.sanctions) as u64 + 1);
    fund_through_va(client, o, run, per_sanction).await?;
    let ids = department_sanctions(client, o, bearer, &code, o.sanctions).await?;
    // The sanctions and allocations reach the department through both exchanges.
    let funding = per_sanction * rust_decimal::Decimal::from(ids.len() as u64);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = available_sum(client, &o.base, bearer, &ids).await?;
        if held == funding {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the department holds {held} of the {funding} funded on the treasury after 60 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((code, ids, per_sanction))
}

/// The SSU and head of account of the shipped MDMS (`ifms.SSUDetails`, the General head of
/// `ifms.HeadOfAccounts`) whose VA answer the simulator serves.
const DDO: &str = "OLSHUD001";
const GENERAL_HOA: &str = "221705800358641045908";

/// Adds `--sanctions` Initial Allotments of `per_sanction` (dated today, masters unique to
/// this run) to the simulator's VA answer for the General head, then runs the adapter's VA
/// job: it records them as sanctions of the newest program and tells the program services.
async fn fund_through_va(
    client: &reqwest::Client,
    o: &Options,
    run: i64,
    per_sanction: rust_decimal::Decimal,
) -> Result<(), String> {
    let scenario_url = format!("{}/simulator/scenario", o.jit);
    let mut scenario: Value = client
        .get(&scenario_url)
        .send()
        .await
        .map_err(|e| format!("JIT simulator: {e}"))?
        .json()
        .await
        .map_err(|e| format!("JIT simulator scenario: {e}"))?;
    let today = (chrono::Utc::now() + chrono::Duration::minutes(330))
        .format("%Y-%m-%d")
        .to_string();
    let items: Vec<Value> = (0..o.sanctions)
        .map(|i| {
            json!({"ddoCode": DDO, "schemeCode": "13145", "schemeName": "MUKTA",
                "granteeAgCode": "GOHUDULBMPL0036", "granteeName": "ANGUL MUNICIPALITY",
                "ssuId": "1621", "ssuOffice": "angul_op", "allotmentDate": today,
                "allotmentTxnSlNo": "0", "allotmentAmount": per_sanction.to_string(),
                "availableBalance": "0", "allotmentTxnType": "Initial Allotment",
                "mstAllotmentDistId": format!("LOAD-{run}-{i}"),
                "ssuAllotmentId": format!("LOAD-{run}-{i}-A")})
        })
        .collect();
    // This run's allotments replace the General head's (earlier runs' are recorded).
    let mut allotments: Vec<Value> = scenario["allotments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["hoa"] != GENERAL_HOA)
        .collect();
    allotments.push(json!({"hoa": GENERAL_HOA, "ddoCode": DDO, "items": items}));
    scenario["allotments"] = Value::Array(allotments);
    let response = client
        .post(&scenario_url)
        .json(&scenario)
        .send()
        .await
        .map_err(|e| format!("JIT simulator: {e}"))?;
    if !response.status().is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("JIT simulator refused the scenario: {text}"));
    }
    // The cron's identity (role IFMS_SCHEDULER, as the access-control masters give it).
    let scheduler = token(
        &o.secret,
        "77777777-7777-4777-8777-000000000002",
        UserType::System,
        &[("IFMS_SCHEDULER", "pg")],
    )?;
    let (ran, _) = call(
        client,
        &format!("{}/_scheduler?serviceId=VA", o.adapter),
        Some(&scheduler),
        &json!({"RequestInfo": {"apiId": "program-load"}}),
    )
    .await?;
    if ran["status"] != "successful" && ran["status"] != "SUCCESSFUL" {
        return Err(format!("the adapter's VA run: {ran}"));
    }
    Ok(())
}

/// The department's sanctions of program `code` once all `count` have arrived (at most
/// 60 s), oldest first.
async fn department_sanctions(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    code: &str,
    count: usize,
) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut ids = Vec::new();
        loop {
            let (found, _) = call(
                client,
                &format!("{}/program-service/v1/sanction/_search", o.base),
                Some(bearer),
                &envelope(
                    "sanction",
                    "search",
                    OWN,
                    OWN,
                    json!({"location_code": LOCATION, "program_code": code,
                        "pagination": {"limit": 100, "offset": ids.len(), "sort_by": "created_time", "sort_order": "ASC"}}),
                ),
            )
            .await?;
            let page: Vec<String> = found["sanctions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect();
            let last = page.len() < 100;
            ids.extend(page);
            if last {
                break;
            }
        }
        if ids.len() >= count {
            return Ok(ids);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the department holds {} of the {count} sanctions of {code} after 60 s",
                ids.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the department's program `id` until the treasury's code has come back on
/// on-program (at most 30 s from `started`).
async fn program_code_back(
    client: &reqwest::Client,
    o: &Options,
    bearer: &str,
    id: &str,
    started: Instant,
) -> Result<String, String> {
    loop {
        let (found, _) = call(
            client,
            &format!("{}/program-service/v1/program/_search", o.base),
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
        if let Some(code) = found["programs"][0]["program_code"].as_str() {
            return Ok(code.to_owned());
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("no code for {id} after 30 s"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn payment(o: &Options, code: &str, sanction: Option<&str>, n: usize, run: i64) -> Value {
    let gross = number(&o.amount);
    let child = json!({"location_code": LOCATION, "program_code": code, "target_id": format!("LINE-{run}-{n}"),
        "sanction_id": sanction, "account_code": "1234567890@SBIN0003491", "net_amount": gross, "gross_amount": gross,
        "individual": {"name": "Load Payee", "phone": "9999999999", "address": "Cuttack", "pin": "751001"},
        "additional_details": {"beneficiaryId": format!("IND-{run}-{n}"), "beneficiaryType": "IND"},
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
    program_code_back(client, o, bearer, &id, started).await?;
    Ok(started.elapsed())
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
    let funding = funded * rust_decimal::Decimal::from(sanctions.len() as u64);
    let mut ledgers = Vec::new();
    for (side, base) in [("department", &o.base), ("treasury", &o.treasury)] {
        let ledger = ledger_check(
            &client,
            base,
            &bearer,
            &sanctions,
            &all.accepted_ids,
            funding,
            amount,
        )
        .await?;
        out.push_str(&format!(
            "{side} ledger: available {}, expected {} ({} not arrived, {} refunded by FAILED/ERROR answers, {} in flight) → {}\n",
            ledger.available,
            ledger.expected,
            ledger.missing,
            ledger.refunded,
            ledger.in_flight,
            if ledger.exact() { "exact" } else { "MISMATCH" }
        ));
        ledgers.push(ledger);
    }
    let exact = ledgers.iter().all(Ledger::exact);
    // Department → exchange → exchange → treasury: when the treasury held every payment
    // (an upper bound: the reading follows the department's check and polls every 200 ms).
    let through = ledgers[1].read_at.duration_since(started).as_secs_f64();
    let through_rate = (all.accepted - ledgers[1].missing) as f64 / through;
    out.push_str(&format!(
        "through both exchanges: the treasury held {} of {} after {through:.1} s → {through_rate:.1} disbursements/s end to end\n",
        all.accepted - ledgers[1].missing,
        all.accepted
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
                "treasury_held_after_s": through,
                "end_to_end_per_s": through_rate,
                "latency": latency_summary(&all.took),
                "ledger": {"exact": exact, "department": ledgers[0].to_json(), "treasury": ledgers[1].to_json()},
                "first_failure": all.errors.first().or(all.refused.first()),
                "window_unix_ms": [started_ms, finished_ms],
            }),
        )?;
    }
    if exact {
        Ok(())
    } else {
        Err("the sanctions' balances do not match the accepted payments".into())
    }
}

/// The ledger after a run, once the treasury's answers have settled.
struct Ledger {
    /// When the settled reading was taken.
    read_at: Instant,
    /// Σ available over the sanctions.
    available: rust_decimal::Decimal,
    /// Σ funding − (held − refunded) × amount.
    expected: rust_decimal::Decimal,
    /// Accepted payments the service did not hold when the wait ended (0 when settled).
    missing: usize,
    /// Accepted payments a FAILED or ERROR answer refunded.
    refunded: usize,
    /// Accepted payments still INITIATED/INPROCESS (the treasury's JIT jobs move them on).
    in_flight: usize,
}

impl Ledger {
    fn exact(&self) -> bool {
        self.available == self.expected
    }

    fn to_json(&self) -> Value {
        json!({"available": self.available.to_string(), "expected": self.expected.to_string(),
               "missing": self.missing, "refunded": self.refunded, "in_flight": self.in_flight,
               "exact": self.exact()})
    }
}

/// The ledger check of the program service at `base`: Σ available over the sanctions =
/// Σ funding − amount × the accepted payments it holds that were not refunded. Payments
/// reach the treasury and answers (with their refunds) reach both sides through the
/// exchanges after the run, so it reads the statuses, the balances and the statuses again,
/// and takes the reading when nothing changed in between and every payment has arrived
/// (or after two minutes, when the reading is still consistent but some are missing).
/// Payments the treasury has accepted stay in flight until its JIT jobs (PIS, PD) run.
#[allow(clippy::too_many_arguments)]
async fn ledger_check(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    sanctions: &[String],
    accepted_ids: &[String],
    funding: rust_decimal::Decimal,
    amount: rust_decimal::Decimal,
) -> Result<Ledger, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let before = payment_statuses(client, base, bearer, accepted_ids).await?;
        let available = available_sum(client, base, bearer, sanctions).await?;
        let after = payment_statuses(client, base, bearer, accepted_ids).await?;
        let settled = before == after && after.found == accepted_ids.len();
        if !settled && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        if before != after {
            continue;
        }
        let charged = after.found - after.refunded;
        let expected = funding - amount * rust_decimal::Decimal::from(charged as u64);
        return Ok(Ledger {
            read_at: Instant::now(),
            available,
            expected,
            missing: accepted_ids.len() - after.found,
            refunded: after.refunded,
            in_flight: after.in_flight,
        });
    }
}

async fn available_sum(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    sanctions: &[String],
) -> Result<rust_decimal::Decimal, String> {
    let mut sum = rust_decimal::Decimal::ZERO;
    for ids in sanctions.chunks(100) {
        let (found, _) = call(
            client,
            &format!("{base}/program-service/v1/sanction/_search"),
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
#[derive(PartialEq, Eq)]
struct PaymentStatuses {
    /// Held by the service (the treasury's arrive through the exchanges).
    found: usize,
    /// FAILED or ERROR: their debit is refunded.
    refunded: usize,
    /// INITIATED or INPROCESS: the treasury has not answered yet.
    in_flight: usize,
}

/// The statuses of payments `ids`, read with disburse/_search.
async fn payment_statuses(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    ids: &[String],
) -> Result<PaymentStatuses, String> {
    let mut statuses = PaymentStatuses {
        found: 0,
        refunded: 0,
        in_flight: 0,
    };
    for ids in ids.chunks(100) {
        let (found, _) = call(
            client,
            &format!("{base}/program-service/v1/disburse/_search"),
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
            statuses.found += 1;
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
