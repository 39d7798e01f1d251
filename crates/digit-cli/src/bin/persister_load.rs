//! `persister-load`: messages per second the persister writes to Postgres, beside pgbench
//! inserting the same rows.
//!
//! It creates a fresh database (`persister_load_<pid>`, or `--database`) with the PGR tables
//! (`migrations/pgr/*.sql`; the persister applies its own migrations on start), and for each
//! mode produces `--messages N` messages shaped like PGR's `save-pgr-request` (every one with
//! its own service id, serviceRequestId and address id) to a fresh topic, *then* starts the
//! persister binary on a config holding `configs/persister/pgr-services-persister.yml`'s
//! `save-pgr-request` mapping verbatim with that topic, and times from the first row in
//! `eg_pgr_service_v2` until all N are there (the count is polled every 50 ms), so the
//! figure is the persister's throughput alone. Modes:
//!
//! - `single`: an ordinary topic, one transaction per message (`PERSISTER_GROUP_COMMIT=1`,
//!   as upstream);
//! - `group`: an ordinary topic with group commit (`PERSISTER_GROUP_COMMIT=--batch-size`:
//!   already-fetched messages share a transaction);
//! - `batch`: a `-batch` topic, a poll of up to `--batch-size` messages per transaction
//!   (`PERSISTER_BULK_ENABLED=true`, `PERSISTER_BATCH_SIZE`).
//!
//! Then pgbench runs a generated script inserting the same two rows per message
//! (`eg_pgr_service_v2` + `eg_pgr_address_v2`, the mapping's columns, similar values) in two
//! shapes: one message per transaction (compared with `single`) and `--batch-size` messages
//! per transaction (compared with `group` and `batch`). pgbench does less than the persister
//! (no JSON, no stored offset row per transaction, many connections): it is the ceiling the
//! database sets on this machine. Tables are emptied before every run.

#[path = "../load_common.rs"]
#[allow(dead_code)] // Only main_with and write_summary are used here.
mod load_common;

use digit_kafka::{KafkaSettings, Producer, Watermarks};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "persister-load — messages/s written by the persister (single, group, batch) beside pgbench

Usage: persister-load [options]
  --persister-bin PATH  persister binary (default target/release/persister)
  --messages N          messages per mode (default 20000)
  --modes LIST          of single,group,batch (default single,group,batch)
  --batch-size N        PERSISTER_BATCH_SIZE / PERSISTER_GROUP_COMMIT, and messages per
                        transaction of pgbench's batch shape (default 100)
  --kafka HOSTS         broker (default 127.0.0.1:9092)
  --db-admin-url URL    where the fresh database is created (default postgres://postgres@127.0.0.1:5432/postgres)
  --database NAME       the database (dropped first when it exists; default persister_load_<pid>)
  --pgr-config FILE     persister config holding the save-pgr-request mapping
                        (default configs/persister/pgr-services-persister.yml)
  --migrations DIR      folder of the PGR migrations (default migrations/pgr)
  --pgbench PATH        pgbench binary (default: pgbench on PATH, else /usr/lib/postgresql/*/bin/pgbench)
  --pgbench-clients C   pgbench clients (default 8)
  --pgbench-seconds S   duration of each pgbench run (default 20)
  --no-pgbench          skip pgbench
  --timeout S           longest wait for one mode's rows (default 600)
  --summary-json FILE   also write the figures as JSON
  --keep                keep the database (and the persister logs)
";

/// Rows one message writes: the service and its address (no documents).
const ROWS_PER_MESSAGE: u64 = 2;
const CITIZEN: &str = "22222222-2222-4222-8222-000000000001";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Single,
    Group,
    Batch,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Group => "group",
            Mode::Batch => "batch",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "single" => Ok(Mode::Single),
            "group" => Ok(Mode::Group),
            "batch" => Ok(Mode::Batch),
            other => Err(format!(
                "--modes: unknown mode {other} (single, group, batch)"
            )),
        }
    }

    /// The pgbench shape it is compared with: messages per transaction.
    fn pgbench_shape(self, batch: usize) -> usize {
        if self == Mode::Single {
            1
        } else {
            batch
        }
    }
}

struct Options {
    bin: String,
    messages: usize,
    modes: Vec<Mode>,
    batch_size: usize,
    kafka: String,
    admin_url: String,
    database: Option<String>,
    pgr_config: String,
    migrations: String,
    pgbench: Option<String>,
    pgbench_clients: usize,
    pgbench_seconds: u64,
    timeout: u64,
    summary: Option<String>,
    keep: bool,
}

fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        bin: "target/release/persister".into(),
        messages: 20_000,
        modes: vec![Mode::Single, Mode::Group, Mode::Batch],
        batch_size: 100,
        kafka: "127.0.0.1:9092".into(),
        admin_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        database: None,
        pgr_config: "configs/persister/pgr-services-persister.yml".into(),
        migrations: "migrations/pgr".into(),
        pgbench: Some(String::new()),
        pgbench_clients: 8,
        pgbench_seconds: 20,
        timeout: 600,
        summary: None,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let positive = |v: String| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            Ok(_) => Err(format!("{flag}: must be at least 1")),
            Err(e) => Err(format!("{flag}: {e}")),
        };
        match flag.as_str() {
            "--persister-bin" => o.bin = value()?,
            "--messages" => o.messages = positive(value()?)?,
            "--modes" => {
                o.modes = value()?
                    .split(',')
                    .map(Mode::parse)
                    .collect::<Result<_, _>>()?
            }
            "--batch-size" => o.batch_size = positive(value()?)?.min(10_000),
            "--kafka" => o.kafka = value()?,
            "--db-admin-url" => o.admin_url = value()?,
            "--database" => {
                let name = value()?;
                let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
                if name.is_empty() || !name.chars().all(plain) {
                    return Err("--database: lower-case letters, digits and _ only".into());
                }
                o.database = Some(name);
            }
            "--pgr-config" => o.pgr_config = value()?,
            "--migrations" => o.migrations = value()?,
            "--pgbench" => o.pgbench = Some(value()?),
            "--pgbench-clients" => o.pgbench_clients = positive(value()?)?,
            "--pgbench-seconds" => o.pgbench_seconds = positive(value()?)? as u64,
            "--no-pgbench" => o.pgbench = None,
            "--timeout" => o.timeout = positive(value()?)? as u64,
            "--summary-json" => o.summary = Some(value()?),
            "--keep" => o.keep = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.pgbench.as_deref() == Some("") {
        o.pgbench = Some(default_pgbench());
    }
    Ok(o)
}

/// `pgbench` on PATH, else the newest `/usr/lib/postgresql/<version>/bin/pgbench` (Debian
/// keeps it off PATH), else plain `pgbench` (the error then names it).
fn default_pgbench() -> String {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("pgbench").is_file()))
        .unwrap_or(false);
    if on_path {
        return "pgbench".into();
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin/pgbench");
            bin.is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p.display().to_string())
        .unwrap_or_else(|| "pgbench".into())
}

/// `url` with its database replaced by `db` (query string kept).
fn with_database(url: &str, db: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("{url}: not a postgres:// URL"))?;
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// The `save-pgr-request` mapping of `file` (the list item holding `fromTopic:
/// save-pgr-request`, as written), with `fromTopic` set to `topic`, in a config of its own.
fn persister_config(file: &str, topic: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "fromTopic: save-pgr-request")
        .ok_or_else(|| format!("{file}: no mapping with fromTopic: save-pgr-request"))?;
    // The mapping starts at the nearest `- ` item above at a smaller indentation and ends
    // before the next item at that indentation (or a line indented less).
    let indent = |l: &str| l.len() - l.trim_start().len();
    let field_indent = indent(lines[at]);
    let start = (0..at)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with("- ") && indent(lines[i]) < field_indent)
        .ok_or_else(|| format!("{file}: the save-pgr-request mapping is not a list item"))?;
    let item_indent = indent(lines[start]);
    let end = (start + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            !l.trim().is_empty()
                && !l.trim_start().starts_with('#')
                && (indent(l) < item_indent
                    || (indent(l) == item_indent && l.trim_start().starts_with("- ")))
        })
        .unwrap_or(lines.len());
    let mut out = String::from("serviceMaps:\n  serviceName: persister-load\n  mappings:\n");
    for (i, line) in lines[start..end].iter().enumerate() {
        let line = if start + i == at {
            format!("{}fromTopic: {topic}", " ".repeat(field_indent))
        } else {
            (*line).to_owned()
        };
        // Re-indented to sit under `mappings:` at two spaces.
        let shifted = if line.trim().is_empty() {
            String::new()
        } else if indent(&line) >= item_indent {
            format!("  {}", &line[item_indent..])
        } else {
            format!("  {}", line.trim_start())
        };
        out.push_str(&shifted);
        out.push('\n');
    }
    Ok(out)
}

/// Message `i` of run `run`, as PGR publishes it on `save-pgr-request` after a create:
/// RequestInfo with the caller, the enriched service (ids, audit, merged additionalDetail,
/// address with its id and geoLocation, the workflow's process instance), the workflow.
fn message(run: &str, i: usize) -> Value {
    let id = uuid::Uuid::new_v4().to_string();
    let address_id = uuid::Uuid::new_v4().to_string();
    let srid = format!("PG-PGR-LOAD-{run}-{i:08}");
    let now = 1_727_931_561_688_i64 + i as i64;
    let audit = json!({"createdBy": CITIZEN, "lastModifiedBy": CITIZEN, "createdTime": now, "lastModifiedTime": now});
    let citizen_user = json!({"id": 1, "uuid": CITIZEN, "userName": "9999900001", "name": "Demo Citizen",
        "mobileNumber": "9999900001", "emailId": null, "locale": null, "type": "CITIZEN",
        "roles": [{"name": "Citizen", "code": "CITIZEN", "tenantId": "pg"}], "tenantId": "pg", "permanentCity": null});
    json!({
        "RequestInfo": {"apiId": "Rainmaker", "ver": ".01", "ts": null, "action": "_create", "did": "1", "key": "",
                        "msgId": "20170310130900|en_IN", "authToken": null, "correlationId": null, "userInfo": citizen_user},
        "service": {
            "active": true,
            "citizen": {"id": 1, "userName": "9999900001", "name": "Demo Citizen", "type": "CITIZEN",
                        "mobileNumber": "9999900001", "countryCode": null, "emailId": null, "correspondenceAddress": null,
                        "roles": [{"name": "Citizen", "code": "CITIZEN", "tenantId": "pg"}], "tenantId": "pg",
                        "uuid": CITIZEN, "active": true},
            "id": id,
            "tenantId": "pg.citya",
            "serviceCode": "StreetLightNotWorking",
            "serviceRequestId": srid,
            "description": "persister load",
            "accountId": CITIZEN,
            "rating": null,
            "additionalDetail": {"department": "DEPT_1", "serviceName": "StreetLightNotWorking"},
            "applicationStatus": "PENDINGFORASSIGNMENT",
            "source": "web",
            "address": {"tenantId": "pg.citya", "id": address_id, "doorNo": "12", "plotNo": null, "buildingName": null,
                        "street": "Main Road", "landmark": "near the park", "city": "pg.citya", "district": null,
                        "region": null, "state": null, "country": null, "pincode": "143001", "additionDetails": null,
                        "locality": {"code": "ALOC1", "name": null, "label": null, "latitude": null, "longitude": null,
                                     "children": null, "materializedPath": null},
                        "geoLocation": {"latitude": 31.634, "longitude": 74.8723, "additionalDetails": null}},
            "documents": [],
            "auditDetails": audit,
            "processInstance": {"id": uuid::Uuid::new_v4().to_string(), "tenantId": "pg.citya", "businessService": "PGR",
                "businessId": srid, "action": "APPLY", "moduleName": "pgr-services",
                "state": {"uuid": null, "tenantId": "pg.citya", "businessServiceId": null, "sla": null,
                          "state": "PENDINGFORASSIGNMENT", "applicationStatus": "PENDINGFORASSIGNMENT",
                          "docUploadRequired": false, "isStartState": false, "isTerminateState": false,
                          "isStateUpdatable": true, "actions": null, "auditDetails": null},
                "comment": null, "documents": null, "assigner": citizen_user, "assignes": null, "nextActions": [],
                "stateSla": 172_800_000, "businesssServiceSla": 432_000_000, "previousStatus": null, "entity": null,
                "auditDetails": audit, "rating": null, "escalated": false},
            "extendedAttributes": null
        },
        "workflow": {"action": "APPLY", "assignes": null, "comments": null, "verificationDocuments": null}
    })
}

/// The pgbench script: `per_txn` messages (service + address rows, the persister's columns
/// and similar values) per transaction, ids unique per client (`-D seq=0`, incremented).
fn pgbench_script(run: &str, per_txn: usize) -> String {
    let mut s = String::new();
    if per_txn > 1 {
        s.push_str("BEGIN;\n");
    }
    for _ in 0..per_txn {
        s.push_str("\\set seq :seq + 1\n");
        s.push_str(&format!(
            "INSERT INTO eg_pgr_service_v2(id, tenantid, servicecode, servicerequestid, description, accountid, additionaldetails, extended_attributes, applicationstatus, source, createdby, createdtime, lastmodifiedby, lastmodifiedtime) \
             VALUES ('pgb-{run}-' || :client_id || '-' || :seq, 'pg.citya', 'StreetLightNotWorking', 'PG-PGR-PGB-{run}-' || :client_id || '-' || :seq, 'persister load', '{CITIZEN}', \
             '{{\"department\": \"DEPT_1\", \"serviceName\": \"StreetLightNotWorking\"}}'::jsonb, NULL, 'PENDINGFORASSIGNMENT', 'web', '{CITIZEN}', 1727931561688 + :seq, '{CITIZEN}', 1727931561688 + :seq);\n"
        ));
        s.push_str(&format!(
            "INSERT INTO eg_pgr_address_v2(id, tenantid, parentid, doorno, plotno, buildingname, street, landmark, city, pincode, locality, district, region, state, country, latitude, longitude, additionaldetails, createdby, createdtime, lastmodifiedby, lastmodifiedtime) \
             VALUES ('pgb-addr-{run}-' || :client_id || '-' || :seq, 'pg.citya', 'pgb-{run}-' || :client_id || '-' || :seq, '12', NULL, NULL, 'Main Road', 'near the park', 'pg.citya', '143001', 'ALOC1', NULL, NULL, NULL, NULL, 31.634, 74.8723, NULL, \
             '{CITIZEN}', 1727931561688 + :seq, '{CITIZEN}', 1727931561688 + :seq);\n"
        ));
    }
    if per_txn > 1 {
        s.push_str("COMMIT;\n");
    }
    s
}

/// A running persister: stopped with SIGTERM by [`Persister::stop`], killed when dropped
/// unstopped (error paths).
struct Persister {
    child: Child,
    log: PathBuf,
}

impl Persister {
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the persister exited ({status}); last lines of {}:\n{}",
                self.log.display(),
                tail(&self.log, 20)
            )),
            Ok(None) => None,
            Err(e) => Some(format!("the persister: {e}")),
        }
    }

    /// SIGTERM, then up to 30 s for a clean exit, then SIGKILL.
    fn stop(&mut self) -> Result<(), String> {
        if self.child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().map_err(|e| e.to_string())?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("the persister did not stop within 30 s of SIGTERM (killed)".into())
    }
}

impl Drop for Persister {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// What one persister mode measured.
struct ModeResult {
    mode: Mode,
    seconds: f64,
    timed_messages: u64,
    messages_per_s: f64,
    /// First row seen → last row seen, Unix ms (to match CPU samples to the timed part).
    window: (i64, i64),
}

/// What one pgbench shape measured.
struct PgbenchResult {
    per_txn: usize,
    tps: f64,
    transactions: u64,
    failed: u64,
    window: (i64, i64),
}

impl PgbenchResult {
    fn messages_per_s(&self) -> f64 {
        self.tps * self.per_txn as f64
    }
}

async fn empty_tables(pool: &sqlx::PgPool) -> Result<(), String> {
    sqlx::raw_sql("TRUNCATE eg_pgr_document_v2, eg_pgr_address_v2, eg_pgr_service_v2")
        .execute(pool)
        .await
        .map_err(|e| format!("emptying the PGR tables: {e}"))?;
    Ok(())
}

async fn count_rows(pool: &sqlx::PgPool) -> Result<i64, String> {
    sqlx::query_scalar("SELECT count(*) FROM eg_pgr_service_v2")
        .fetch_one(pool)
        .await
        .map_err(|e| format!("counting eg_pgr_service_v2: {e}"))
}

async fn produce(o: &Options, topic: &str, run: &str) -> Result<(), String> {
    let mut settings = KafkaSettings::new(o.kafka.clone());
    settings.extra.push(("linger.ms".into(), "20".into()));
    digit_kafka::create_topics(&settings, &[(topic, 1)])
        .await
        .map_err(|e| format!("creating {topic}: {e}"))?;
    let producer = Producer::new(&settings).map_err(|e| format!("kafka producer: {e}"))?;
    let started = Instant::now();
    let indexes: Vec<usize> = (0..o.messages).collect();
    for chunk in indexes.chunks(1000) {
        let sends = chunk.iter().map(|&i| {
            let producer = producer.clone();
            let body = message(run, i);
            async move { producer.send_json(topic, None, &body, None).await }
        });
        for r in futures::future::join_all(sends).await {
            r.map_err(|e| format!("producing to {topic}: {e}"))?;
        }
    }
    eprintln!(
        "  produced {} messages to {topic} in {:.1} s",
        o.messages,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn unix_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

async fn run_mode(
    o: &Options,
    pool: &sqlx::PgPool,
    db_url: &str,
    dir: &Path,
    tag: &str,
    mode: Mode,
) -> Result<ModeResult, String> {
    empty_tables(pool).await?;
    let topic = format!("persister-load-{tag}-{}", mode.name());
    let dead_letters = format!("persister-load-{tag}-{}-deadletter", mode.name());
    let config_dir = dir.join(mode.name());
    std::fs::create_dir_all(&config_dir).map_err(|e| format!("{}: {e}", config_dir.display()))?;
    let config_file = config_dir.join("persister-load.yml");
    std::fs::write(&config_file, persister_config(&o.pgr_config, &topic)?)
        .map_err(|e| format!("{}: {e}", config_file.display()))?;
    produce(o, &topic, &format!("{tag}-{}", mode.name())).await?;
    let log = dir.join(format!("persister-{}.log", mode.name()));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let group_commit = if mode == Mode::Single {
        1
    } else {
        o.batch_size
    };
    let child = Command::new(&o.bin)
        .env("DB_URL", db_url)
        .env("DB_MIGRATE", "true")
        .env("KAFKA_BOOTSTRAP_SERVERS", &o.kafka)
        .env("SERVER_PORT", free_port()?.to_string())
        .env("SERVER_ADDRESS", "127.0.0.1")
        .env("EGOV_PERSIST_YML_REPO_PATH", &config_dir)
        .env(
            "PERSISTER_GROUP_ID",
            format!("persister-load-{tag}-{}", mode.name()),
        )
        .env("PERSISTER_DEADLETTER_TOPIC", &dead_letters)
        .env("PERSISTER_BULK_ENABLED", "true")
        .env("PERSISTER_BATCH_SIZE", o.batch_size.to_string())
        .env("PERSISTER_GROUP_COMMIT", group_commit.to_string())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err))
        .spawn()
        .map_err(|e| format!("{}: {e}", o.bin))?;
    let mut persister = Persister { child, log };
    let result = time_rows(o, pool, &mut persister, &dead_letters).await;
    let stopped = persister.stop();
    let (seconds, timed, window) = result?;
    stopped?;
    Ok(ModeResult {
        mode,
        seconds,
        timed_messages: timed,
        messages_per_s: timed as f64 / seconds,
        window,
    })
}

/// From the first row to the N-th: the seconds, how many messages landed in that time and
/// when (Unix ms).
async fn time_rows(
    o: &Options,
    pool: &sqlx::PgPool,
    persister: &mut Persister,
    dead_letters: &str,
) -> Result<(f64, u64, (i64, i64)), String> {
    let want = o.messages as i64;
    let deadline = Instant::now() + Duration::from_secs(o.timeout);
    let mut first: Option<(Instant, i64)> = None;
    let mut first_ms = 0;
    let (mut last_n, mut last_change) = (0_i64, Instant::now());
    loop {
        let n = count_rows(pool).await?;
        let now = Instant::now();
        if n > 0 && first.is_none() {
            first = Some((now, n));
            first_ms = unix_ms();
        }
        if n >= want {
            let (at, seen) = first.unwrap_or((now, 0));
            let secs = now.duration_since(at).as_secs_f64().max(0.001);
            if n == seen {
                eprintln!("  all {n} rows appeared between two polls: use more --messages");
            }
            return Ok((secs, (n - seen).max(1) as u64, (first_ms, unix_ms())));
        }
        if let Some(e) = persister.exited() {
            return Err(e);
        }
        if n != last_n {
            (last_n, last_change) = (n, now);
        } else if now.duration_since(last_change) > Duration::from_secs(15) {
            // No progress: poison messages go to the dead-letter topic, not the tables.
            if let Some(dead) = dead_letter_count(o, dead_letters).await.filter(|&d| d > 0) {
                return Err(format!(
                    "{dead} messages went to the dead-letter topic {dead_letters} ({n} rows of {want}); see {}",
                    persister.log.display()
                ));
            }
        }
        if now > deadline {
            return Err(format!(
                "only {n} of {want} rows after {} s; last lines of {}:\n{}",
                o.timeout,
                persister.log.display(),
                tail(&persister.log, 20)
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn dead_letter_count(o: &Options, topic: &str) -> Option<i64> {
    let watermarks = Watermarks::new(&KafkaSettings::new(o.kafka.clone())).ok()?;
    watermarks.high(topic, 0, Duration::from_secs(5)).await.ok()
}

/// One pgbench run of the `per_txn` shape: transactions/s as pgbench reports them
/// (without connection time).
async fn run_pgbench(
    o: &Options,
    pgbench: &str,
    pool: &sqlx::PgPool,
    db_url: &str,
    dir: &Path,
    tag: &str,
    per_txn: usize,
) -> Result<PgbenchResult, String> {
    empty_tables(pool).await?;
    let script = dir.join(format!("pgbench-{per_txn}.sql"));
    std::fs::write(
        &script,
        pgbench_script(&format!("{tag}-{per_txn}"), per_txn),
    )
    .map_err(|e| format!("{}: {e}", script.display()))?;
    let clients = o.pgbench_clients.to_string();
    let threads = o.pgbench_clients.min(2).to_string();
    let seconds = o.pgbench_seconds.to_string();
    let script_arg = script.display().to_string();
    let args = [
        "-n",
        "-f",
        &script_arg,
        "-D",
        "seq=0",
        "-c",
        &clients,
        "-j",
        &threads,
        "-T",
        &seconds,
        db_url,
    ];
    eprintln!("  {pgbench} {}", args.join(" "));
    let started_ms = unix_ms();
    let output = tokio::process::Command::new(pgbench)
        .args(args)
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("{pgbench}: {e}"))?;
    let window = (started_ms, unix_ms());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "pgbench ({}): {}{}",
            output.status,
            stdout.trim(),
            stderr.trim()
        ));
    }
    let field = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
    };
    let tps = field("tps = ")
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("pgbench printed no tps line:\n{stdout}"))?;
    let transactions = field("number of transactions actually processed:")
        .and_then(|v| v.split('/').next().and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let failed = field("number of failed transactions:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rows = count_rows(pool).await?;
    if rows < (transactions * per_txn as u64) as i64 {
        return Err(format!(
            "pgbench reported {transactions} transactions of {per_txn} but the table holds {rows} rows"
        ));
    }
    Ok(PgbenchResult {
        per_txn,
        tps,
        transactions,
        failed,
        window,
    })
}

/// One line of the report on stdout.
fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

async fn create_database(o: &Options, db: &str) -> Result<String, String> {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&o.admin_url)
        .await
        .map_err(|e| format!("{}: {e}", o.admin_url))?;
    // Two statements: DROP/CREATE DATABASE cannot share an (implicit) transaction.
    for sql in [
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db}"),
    ] {
        sqlx::raw_sql(&sql)
            .execute(&admin)
            .await
            .map_err(|e| format!("creating database {db}: {e}"))?;
    }
    admin.close().await;
    with_database(&o.admin_url, db)
}

async fn drop_database(o: &Options, db: &str) -> Result<(), String> {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&o.admin_url)
        .await
        .map_err(|e| format!("{}: {e}", o.admin_url))?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&admin)
        .await
        .map_err(|e| format!("dropping database {db}: {e}"))?;
    admin.close().await;
    Ok(())
}

/// `migrations/pgr/*.sql` in file-name order.
async fn apply_pgr_tables(o: &Options, pool: &sqlx::PgPool) -> Result<(), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&o.migrations)
        .map_err(|e| format!("{}: {e}", o.migrations))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .sql migrations", o.migrations));
    }
    for file in files {
        let sql = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        sqlx::raw_sql(&sql)
            .execute(pool)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

struct Measured {
    modes: Vec<ModeResult>,
    pgbench: Vec<PgbenchResult>,
}

async fn measure(o: &Options, db_url: &str, dir: &Path, tag: &str) -> Result<Measured, String> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(db_url)
        .await
        .map_err(|e| format!("{db_url}: {e}"))?;
    apply_pgr_tables(o, &pool).await?;
    let mut modes = Vec::new();
    for &mode in &o.modes {
        eprintln!("persister-load: mode {}", mode.name());
        let r = run_mode(o, &pool, db_url, dir, tag, mode).await?;
        eprintln!(
            "  {} messages in {:.2} s → {:.0} messages/s",
            r.timed_messages, r.seconds, r.messages_per_s
        );
        modes.push(r);
    }
    let mut pgbench = Vec::new();
    if let Some(bin) = &o.pgbench {
        let mut shapes: Vec<usize> = o
            .modes
            .iter()
            .map(|m| m.pgbench_shape(o.batch_size))
            .collect();
        shapes.sort_unstable();
        shapes.dedup();
        for per_txn in shapes {
            eprintln!("persister-load: pgbench, {per_txn} message(s) per transaction");
            pgbench.push(run_pgbench(o, bin, &pool, db_url, dir, tag, per_txn).await?);
        }
    }
    pool.close().await;
    Ok(Measured { modes, pgbench })
}

fn summary(o: &Options, m: &Measured) -> Value {
    let pgbench_for = |mode: Mode| {
        m.pgbench
            .iter()
            .find(|p| p.per_txn == mode.pgbench_shape(o.batch_size))
    };
    json!({
        "tool": "persister-load",
        "persister_bin": o.bin,
        "messages": o.messages,
        "batch_size": o.batch_size,
        "rows_per_message": ROWS_PER_MESSAGE,
        "modes": m.modes.iter().map(|r| {
            let p = pgbench_for(r.mode);
            json!({
                "mode": r.mode.name(),
                "seconds": r.seconds,
                "timed_messages": r.timed_messages,
                "messages_per_s": r.messages_per_s,
                "rows_per_s": r.messages_per_s * ROWS_PER_MESSAGE as f64,
                "pgbench_messages_per_txn": r.mode.pgbench_shape(o.batch_size),
                "pgbench_messages_per_s": p.map(PgbenchResult::messages_per_s),
                "ratio_to_pgbench": p.map(|p| r.messages_per_s / p.messages_per_s()),
                "window_unix_ms": [r.window.0, r.window.1],
            })
        }).collect::<Vec<_>>(),
        "pgbench": m.pgbench.iter().map(|p| json!({
            "messages_per_txn": p.per_txn,
            "clients": o.pgbench_clients,
            "seconds": o.pgbench_seconds,
            "tps": p.tps,
            "transactions": p.transactions,
            "failed": p.failed,
            "messages_per_s": p.messages_per_s(),
            "rows_per_s": p.messages_per_s() * ROWS_PER_MESSAGE as f64,
            "window_unix_ms": [p.window.0, p.window.1],
        })).collect::<Vec<_>>(),
    })
}

fn print_table(o: &Options, m: &Measured) {
    report(&format!(
        "persister-load: {} PGR create messages per mode ({} rows each), {}; pgbench {} clients × {} s",
        o.messages, ROWS_PER_MESSAGE, o.bin, o.pgbench_clients, o.pgbench_seconds
    ));
    report(&format!(
        "{:<8} {:>9} {:>12} {:>10} {:>10} {:>14} {:>8}",
        "mode", "seconds", "messages/s", "rows/s", "msgs/txn", "pgbench msg/s", "ratio"
    ));
    for r in &m.modes {
        let shape = r.mode.pgbench_shape(o.batch_size);
        let p = m.pgbench.iter().find(|p| p.per_txn == shape);
        report(&format!(
            "{:<8} {:>9.2} {:>12.0} {:>10.0} {:>10} {:>14} {:>8}",
            r.mode.name(),
            r.seconds,
            r.messages_per_s,
            r.messages_per_s * ROWS_PER_MESSAGE as f64,
            shape,
            p.map_or("-".into(), |p| format!("{:.0}", p.messages_per_s())),
            p.map_or("-".into(), |p| format!(
                "{:.2}",
                r.messages_per_s / p.messages_per_s()
            )),
        ));
    }
    for p in &m.pgbench {
        report(&format!(
            "pgbench {} message(s)/txn: {:.1} tps × {} = {:.0} messages/s ({} transactions, {} failed)",
            p.per_txn,
            p.tps,
            p.per_txn,
            p.messages_per_s(),
            p.transactions,
            p.failed
        ));
    }
}

async fn run(o: Options) -> Result<(), String> {
    if !Path::new(&o.bin).is_file() {
        return Err(format!(
            "{}: no such file (cargo build --release -p persister, or --persister-bin)",
            o.bin
        ));
    }
    let pid = std::process::id();
    let stamp = chrono::Utc::now().timestamp();
    let tag = format!("{pid}-{stamp}");
    let db = o
        .database
        .clone()
        .unwrap_or_else(|| format!("persister_load_{pid}"));
    let dir = std::env::temp_dir().join(format!("persister-load-{tag}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db_url = match create_database(&o, &db).await {
        Ok(url) => url,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let measured = measure(&o, &db_url, &dir, &tag).await;
    let cleanup = if o.keep {
        eprintln!("persister-load: kept database {db} and {}", dir.display());
        Ok(())
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        drop_database(&o, &db).await
    };
    let measured = measured?;
    cleanup?;
    print_table(&o, &measured);
    if let Some(path) = &o.summary {
        load_common::write_summary(path, &summary(&o, &measured))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    load_common::main_with("persister-load", USAGE, parse, run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h", "x").unwrap(),
            "postgres://h/x"
        );
    }

    #[test]
    fn the_create_mapping_is_taken_verbatim_with_the_topic_renamed() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../configs/persister/pgr-services-persister.yml"
        );
        let config = persister_config(file, "t-single").unwrap();
        assert!(config.contains("    fromTopic: t-single\n"));
        assert!(!config.contains("save-pgr-request"));
        assert!(!config.contains("update-pgr-request"));
        assert!(config.contains("INSERT INTO eg_pgr_address_v2"));
        assert_eq!(config.matches("  - version:").count(), 1);
    }
}
