//! `ifms-load`: payment instructions per second created and polled by the IFMS adapter
//! against the JIT simulator (`make up`).
//!
//! Setup, through the APIs: the treasury's program service owns a program (its code from
//! idgen); the simulator hands out one Initial Allotment large enough for every payment;
//! `/_scheduler?serviceId=VA` turns it into a sanction. Then `--pis N` disbursements
//! (`--users C` in flight), each a one-line payment of `--amount` for its own payment number,
//! go to `/ifms/v1/disburse/_create` as the program service would send them — every one a PI
//! posted to JIT through the encrypted protocol. Prints PIs/s and the p50/p95/p99/max of the
//! create; then runs PIS, PAG and PD through `/_scheduler` and prints each poller's PIs/s;
//! finally checks that the sanction's available funds are exactly its allotment minus what
//! was paid.

#[path = "../load_common.rs"]
mod load_common;

use digit_core::UserType;
use load_common::{call, percentile, token};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "ifms-load — IFMS adapter load generator (PIs created and polled)

Usage: ifms-load [options]
  --adapter-url URL    IFMS adapter base URL (default http://127.0.0.1:8085)
  --program-url URL    the treasury's program service (default http://127.0.0.1:8093)
  --jit-url URL        the JIT simulator (default http://127.0.0.1:8095)
  --pis N              payment instructions to create (default 1000)
  --users C            creates in flight (default 10)
  --amount A           amount of each payment (default 10.01)
  --secret S           JWT secret (default $JWT_SECRET or the dev secret)
";

const DEPARTMENT: &str = "program@http://127.0.0.1:8084/digit-exchange";
const TREASURY: &str = "program@http://127.0.0.1:8094/digit-exchange";
const LOCATION: &str = "pg.citya";
const HOA: &str = "221705800358641045908";

struct Options {
    adapter: String,
    program: String,
    jit: String,
    pis: usize,
    users: usize,
    amount: rust_decimal::Decimal,
    secret: String,
}

fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        adapter: "http://127.0.0.1:8085".into(),
        program: "http://127.0.0.1:8093".into(),
        jit: "http://127.0.0.1:8095".into(),
        pis: 1000,
        users: 10,
        amount: rust_decimal::Decimal::new(1001, 2),
        secret: std::env::var("JWT_SECRET").unwrap_or_else(|_| "digit-dev-secret-change-me".into()),
    };
    let mut i = 0;
    while i < args.len() {
        let value = args
            .get(i + 1)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[i]));
        let num = |v: String| {
            v.parse::<usize>()
                .map(|n| n.max(1))
                .map_err(|e| format!("{}: {e}", args[i]))
        };
        match args[i].as_str() {
            "--adapter-url" => o.adapter = value?,
            "--program-url" => o.program = value?,
            "--jit-url" => o.jit = value?,
            "--pis" => o.pis = num(value?)?,
            "--users" => o.users = num(value?)?,
            "--amount" => o.amount = value?.parse().map_err(|e| format!("--amount: {e}"))?,
            "--secret" => o.secret = value?,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    Ok(o)
}

fn header(message_type: &str, action: &str, sender: &str, receiver: &str) -> Value {
    json!({"message_id": uuid::Uuid::new_v4().to_string(), "message_ts": chrono::Utc::now().timestamp_millis(),
        "message_type": message_type, "action": action, "sender_id": sender, "sender_uri": null,
        "receiver_id": receiver, "is_msg_encrypted": false})
}

fn number(d: rust_decimal::Decimal) -> Value {
    serde_json::from_str(&d.to_string()).unwrap_or(Value::Null)
}

/// One line of the report on stdout.
fn say(line: String) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn main() -> ExitCode {
    load_common::main_with("ifms-load", USAGE, parse, run)
}

async fn run(o: Options) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.users * 2)
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| e.to_string())?;
    let admin = token(
        &o.secret,
        "55555555-5555-4555-8555-0000000000ab",
        UserType::Employee,
        &[
            ("IFIX_PROGRAM_ADMIN", "pg"),
            ("IFMS_SCHEDULER", "pg"),
            ("BILL_ACCOUNTANT", "pg"),
        ],
    )?;
    let program_service = token(
        &o.secret,
        "66666666-6666-4666-8666-000000000001",
        UserType::System,
        &[("IFIX_PROGRAM_SERVICE", "pg")],
    )?;

    // 1. A program owned by the treasury (the adapter tags sanctions with the newest one).
    let (created, _) = call(
        &client,
        &format!("{}/program-service/v1/program/_create", o.program),
        Some(&admin),
        &json!({"signature": null, "header": header("program", "create", DEPARTMENT, TREASURY),
            "message": {"location_code": LOCATION, "name": format!("ifms-load {}", uuid::Uuid::new_v4()),
                "start_date": 1672531200}}),
    )
    .await?;
    let code = created["message"]["program_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if code.is_empty() {
        return Err(format!("the treasury gave the program no code: {created}"));
    }

    // 2. One allotment that covers every payment, applied by VA.
    let total = o.amount * rust_decimal::Decimal::from(o.pis);
    let master = format!("L{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(19_800).ok_or("offset")?)
        .format("%Y-%m-%d")
        .to_string();
    let item = json!({"ddoCode": "OLSHUD001", "schemeCode": "13145", "schemeName": "MUKTA",
        "granteeAgCode": "GOHUDULBMPL0036", "granteeName": "ANGUL MUNICIPALITY", "ssuId": "1621",
        "ssuOffice": "angul_op", "allotmentDate": today, "allotmentTxnSlNo": "0",
        "allotmentAmount": total.to_string(), "availableBalance": "0",
        "allotmentTxnType": "Initial Allotment", "mstAllotmentDistId": master,
        "ssuAllotmentId": format!("{master}-0")});
    call(
        &client,
        &format!("{}/simulator/scenario", o.jit),
        None,
        &json!({"allotments": [{"hoa": HOA, "ddoCode": "OLSHUD001", "items": [item]}]}),
    )
    .await?;
    let scheduler = |service: &str| format!("{}/ifms/_scheduler?serviceId={service}", o.adapter);
    let request_info = json!({"RequestInfo": {"apiId": "ifms-load"}});
    call(&client, &scheduler("VA"), Some(&admin), &request_info).await?;
    let (funds, _) = call(
        &client,
        &format!("{}/ifms/funds/v1/_search", o.adapter),
        Some(&admin),
        &json!({"RequestInfo": {}, "searchCriteria": {"tenantId": LOCATION, "masterAllotmentId": master}}),
    )
    .await?;
    let sanction = funds["funds"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if sanction.is_empty() {
        return Err(format!("VA made no sanction: {funds}"));
    }
    say(format!(
        "setup: program {code}, sanction {sanction} with {total} for {} PIs",
        o.pis
    ));

    // 3. The creates.
    let next = Arc::new(AtomicUsize::new(0));
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..o.users {
        let (client, next, url) = (
            client.clone(),
            next.clone(),
            format!("{}/ifms/v1/disburse/_create", o.adapter),
        );
        let (bearer, sanction, code, run_id) = (
            program_service.clone(),
            sanction.clone(),
            code.clone(),
            run_id.clone(),
        );
        let amount = number(o.amount);
        let n = o.pis;
        workers.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut failed = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let line = json!({"id": uuid::Uuid::new_v4().to_string(), "target_id": format!("L-{run_id}-{i}"),
                    "location_code": LOCATION, "program_code": code, "sanction_id": sanction,
                    "account_code": format!("{}@SBIN0000001", 100_000 + i), "net_amount": amount, "gross_amount": amount,
                    "status": {"status_code": "INITIATED", "status_message": null},
                    "individual": {"name": "Load Payee", "phone": "9999999999", "address": "1 Main Road"}});
                let body = json!({"signature": null, "header": header("disburse", "create", DEPARTMENT, TREASURY),
                    "message": {"id": uuid::Uuid::new_v4().to_string(), "target_id": format!("EP/{run_id}/{i}"),
                        "location_code": LOCATION, "program_code": code, "sanction_id": sanction,
                        "net_amount": amount, "gross_amount": amount,
                        "status": {"status_code": "INITIATED", "status_message": null}, "children": [line]}});
                match call(&client, &url, Some(&bearer), &body).await {
                    Ok((v, t)) if v["message"]["status"]["status_code"] == "INITIATED" => took.push(t),
                    Ok((v, _)) => {
                        failed += 1;
                        eprintln!("not initiated: {}", v["message"]["status"]);
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("create failed: {e}");
                    }
                }
            }
            (took, failed)
        }));
    }
    let mut took = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (t, f) = w.await.map_err(|e| e.to_string())?;
        took.extend(t);
        failed += f;
    }
    let elapsed = started.elapsed();
    took.sort();
    say(format!(
        "created: {} PIs in {:.1} s = {:.1} PIs/s ({} users); failed {failed}; disburse/_create p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        took.len(),
        elapsed.as_secs_f64(),
        took.len() as f64 / elapsed.as_secs_f64(),
        o.users,
        percentile(&took, 50.0),
        percentile(&took, 95.0),
        percentile(&took, 99.0),
        percentile(&took, 100.0),
    ));

    // 4. The pollers, each over every PI.
    for service in ["PIS", "PAG", "PD"] {
        let (_, t) = call(&client, &scheduler(service), Some(&admin), &request_info).await?;
        say(format!(
            "polled: {service} over {} PIs in {:.1} s = {:.1} PIs/s",
            took.len(),
            t.as_secs_f64(),
            took.len() as f64 / t.as_secs_f64()
        ));
    }

    // 5. The books.
    let (funds, _) = call(
        &client,
        &format!("{}/ifms/funds/v1/_search", o.adapter),
        Some(&admin),
        &json!({"RequestInfo": {}, "searchCriteria": {"tenantId": LOCATION, "masterAllotmentId": master}}),
    )
    .await?;
    let available: rust_decimal::Decimal = funds["funds"][0]["fundsSummary"]["availableAmount"]
        .to_string()
        .parse()
        .map_err(|e| format!("availableAmount: {e}"))?;
    let expected = total - o.amount * rust_decimal::Decimal::from(took.len());
    say(format!("funds: available {available}, expected {expected}"));
    if available != expected {
        return Err(format!("the funds are off: {available} != {expected}"));
    }
    Ok(())
}
