//! `indexer-load`: documents per second the indexer writes to Elasticsearch, one record per
//! `_bulk` (`INDEXER_BATCH_SIZE=1`, "single") against up to 500 per `_bulk` ("bulk").
//!
//! For each batch size it produces `--records N` messages shaped like `save-pgr-request`
//! (RequestInfo, service with citizen, workflow) to a fresh topic, then starts the indexer
//! binary on a config in egov-indexer's format for that topic (id, masking, `@timestamp`, a
//! custom document wrapping the record in `Data` — no external or MDMS lookups, which would
//! measure other services), and times from the first document in Elasticsearch until all N
//! are there. Needs the broker, Elasticsearch and Postgres of `make infra` (the indexer keeps
//! its job table in `--db`).

#[path = "../load_common.rs"]
#[allow(dead_code)] // Only main_with is used here.
mod load_common;

use digit_kafka::{KafkaSettings, Producer};
use serde_json::{json, Value};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "indexer-load — documents/s written by the indexer (single vs bulk)

Usage: indexer-load [options]
  --indexer-bin PATH   indexer binary (default target/release/indexer)
  --records N          messages per run (default 20000)
  --batch-sizes LIST   INDEXER_BATCH_SIZE values to compare (default 1,500)
  --kafka HOSTS        broker (default 127.0.0.1:9092)
  --es URL             Elasticsearch (default http://127.0.0.1:9200)
  --db URL             Postgres database for the indexer (default postgres://postgres@127.0.0.1:5432/postgres)
";

struct Options {
    bin: String,
    records: usize,
    batch_sizes: Vec<usize>,
    kafka: String,
    es: String,
    db: String,
}

fn parse() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        bin: "target/release/indexer".into(),
        records: 20_000,
        batch_sizes: vec![1, 500],
        kafka: "127.0.0.1:9092".into(),
        es: "http://127.0.0.1:9200".into(),
        db: "postgres://postgres@127.0.0.1:5432/postgres".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--indexer-bin" => o.bin = value()?,
            "--records" => o.records = value()?.parse().map_err(|e| format!("--records: {e}"))?,
            "--batch-sizes" => {
                o.batch_sizes = value()?
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|e| format!("--batch-sizes: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--kafka" => o.kafka = value()?,
            "--es" => o.es = value()?,
            "--db" => o.db = value()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn message(i: usize) -> Value {
    json!({
        "RequestInfo": {"apiId": "Rainmaker", "ver": "1.0", "ts": 0, "msgId": "indexer-load"},
        "service": {
            "tenantId": "pg.citya", "serviceCode": "StreetLightNotWorking",
            "serviceRequestId": format!("PG-PGR-LOAD-{i:08}"), "description": "indexer load",
            "applicationStatus": "PENDINGFORASSIGNMENT", "source": "web", "active": true,
            "citizen": {"uuid": "22222222-2222-4222-8222-000000000001", "name": "Demo Citizen", "userName": "9999900001",
                        "mobileNumber": "9999900001", "emailId": null, "type": "CITIZEN", "tenantId": "pg"},
            "address": {"city": "pg.citya", "locality": {"code": "ALOC1"}, "geoLocation": {"latitude": 0, "longitude": 0}},
            "auditDetails": {"createdBy": "load", "lastModifiedBy": "load", "createdTime": 1_727_931_561_688_i64 + i as i64,
                             "lastModifiedTime": 1_727_931_561_688_i64 + i as i64}
        },
        "workflow": {"action": "APPLY", "verificationDocuments": []}
    })
}

fn config(topic: &str, index: &str) -> String {
    format!(
        r#"ServiceMaps:
  serviceName: indexer-load
  version: 1.0.0
  mappings:
    - topic: {topic}
      configKey: INDEX
      indexes:
        - name: {index}
          type: general
          id: $.service.serviceRequestId
          jsonPath: $
          timeStampField: $.service.auditDetails.lastModifiedTime
          fieldsToBeMasked: ["$.service.citizen.userName", "$.service.citizen.name", "$.service.citizen.mobileNumber", "$.service.citizen.emailId"]
          customJsonMapping:
            indexMapping: {{"Data":{{}}}}
            fieldMapping:
              - inJsonPath: $
                outJsonPath: $.Data
"#
    )
}

async fn count(http: &reqwest::Client, es: &str, index: &str) -> u64 {
    let _ = http.post(format!("{es}/{index}/_refresh")).send().await;
    let Ok(r) = http
        .post(format!("{es}/{index}/_search"))
        .json(&json!({"size": 0, "track_total_hits": true}))
        .send()
        .await
    else {
        return 0;
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["hits"]["total"]["value"].as_u64().unwrap_or(0)
}

async fn run_one(o: &Options, batch: usize) -> Result<(f64, f64), String> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let topic = format!("indexer-load-{tag}");
    let index = format!("indexer-load-{tag}");
    let dir = std::env::temp_dir().join(format!("indexer-load-{tag}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("load.yml"), config(&topic, &index)).map_err(|e| e.to_string())?;
    let settings = KafkaSettings::new(o.kafka.clone());
    digit_kafka::create_topics(&settings, &[(topic.as_str(), 1)])
        .await
        .map_err(|e| e.to_string())?;
    let producer = Producer::new(&settings).map_err(|e| e.to_string())?;
    let produced = Instant::now();
    for chunk in (0..o.records).collect::<Vec<_>>().chunks(1000) {
        let sends = chunk.iter().map(|&i| {
            let producer = producer.clone();
            let topic = topic.clone();
            async move { producer.send_json(&topic, None, &message(i), None).await }
        });
        for r in futures::future::join_all(sends).await {
            r.map_err(|e| e.to_string())?;
        }
    }
    eprintln!(
        "  produced {} messages in {:.1} s",
        o.records,
        produced.elapsed().as_secs_f64()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut child = Command::new(&o.bin)
        .env("DB_URL", &o.db)
        .env("KAFKA_BOOTSTRAP_SERVERS", &o.kafka)
        .env("SERVER_PORT", port.to_string())
        .env("ELASTICSEARCH_URL", &o.es)
        .env("EGOV_INDEXER_YML_REPO_PATH", &dir)
        .env("INDEXER_TEMPLATES_PATH", "")
        .env("INDEXER_GROUP_ID", format!("indexer-load-{tag}"))
        .env("INDEXER_BATCH_SIZE", batch.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", o.bin))?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<(Instant, u64)> = None;
    let result = loop {
        let n = count(&http, &o.es, &index).await;
        if n > 0 && first.is_none() {
            first = Some((Instant::now(), n));
        }
        if n >= o.records as u64 {
            let (at, seen) = first.unwrap_or((Instant::now(), 0));
            let secs = at.elapsed().as_secs_f64().max(0.001);
            break Ok((secs, (n - seen) as f64 / secs));
        }
        if Instant::now() > deadline {
            break Err(format!("only {n} of {} documents after 600 s", o.records));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = http.delete(format!("{}/{index}", o.es)).send().await;
    let _ = std::fs::remove_dir_all(dir);
    result
}

/// One line of the report on stdout.
fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

async fn run(o: Options) -> Result<(), String> {
    report(&format!(
        "indexer-load: {} PGR-shaped records per run, {}",
        o.records, o.bin
    ));
    report(&format!(
        "{:>12} {:>10} {:>14}",
        "batch size", "seconds", "documents/s"
    ));
    for &batch in &o.batch_sizes {
        let (secs, rate) = run_one(&o, batch).await?;
        report(&format!("{batch:>12} {secs:>10.2} {rate:>14.0}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    load_common::main_with("indexer-load", USAGE, parse, run)
}
