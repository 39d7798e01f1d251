//! The dashboard against the running Elasticsearch API (osmem in `make test`,
//! `TEST_ELASTICSEARCH_URL`): fixture documents in the shapes the indexer writes
//! (`tests/fixtures/dashboard/*.ndjson`, derived from upstream's sample PGR documents and
//! the exchange, IFMS and program-service payloads) are bulk-loaded into indexes named for
//! this run, and the summary API's figures are asserted exactly — all tenants, one tenant
//! with a date range, a state tenant, missing indexes; upstream's DSS chart queries on
//! `pgr-services` run unchanged on the same index and give the API's buckets; every error
//! code; and the page rendered by headless Chromium shows every chart's total.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use indexer::dashboard::{self, codes, Dashboard, DashboardSettings, Indexes};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const CONTEXT: &str = "/egov-indexer";
const JUNE_1: i64 = 1_717_200_000_000; // 2024-06-01T00:00:00Z
const AUGUST_31_END: i64 = 1_725_148_799_999; // 2024-08-31T23:59:59.999Z

fn es_url() -> String {
    std::env::var("TEST_ELASTICSEARCH_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:9200".into())
        .trim_end_matches('/')
        .to_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dashboard")
}

/// The five indexes of one test, named for it (`dash-<uuid>-<upstream name>`).
struct Fixture {
    http: reqwest::Client,
    indexes: Indexes,
}

impl Fixture {
    fn names() -> Indexes {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let name = |index: &str| format!("dash-{}-{index}", &run[..12]);
        Indexes {
            pgr: name("pgr-services"),
            payment_instructions: name("ifms-pi-index"),
            disbursements: name("ifix-disbursements"),
            sanctions: name("ifix-sanctions"),
            exchange: name("exchange-events-v1"),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("pgr-services", &self.indexes.pgr),
            ("ifms-pi-index", &self.indexes.payment_instructions),
            ("ifix-disbursements", &self.indexes.disbursements),
            ("ifix-sanctions", &self.indexes.sanctions),
            ("exchange-events-v1", &self.indexes.exchange),
        ]
    }

    /// Names only: none of the indexes exists.
    fn missing() -> Self {
        Self {
            http: reqwest::Client::new(),
            indexes: Self::names(),
        }
    }

    /// Every fixture file bulk-loaded (refreshed) into its index.
    async fn load() -> Self {
        let f = Self::missing();
        let mappings: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("mappings.json")).unwrap(),
        )
        .unwrap();
        for (upstream, index) in f.pairs() {
            let mapping = &mappings[upstream];
            let body = if mapping.as_object().is_some_and(|m| !m.is_empty()) {
                json!({"mappings": mapping})
            } else {
                json!({})
            };
            f.put_index(index, body).await;
            let ndjson = std::fs::read(fixtures().join(format!("{upstream}.ndjson"))).unwrap();
            f.bulk(index, ndjson).await;
        }
        f
    }

    async fn put_index(&self, index: &str, body: Value) {
        let r = self
            .http
            .put(format!("{}/{index}", es_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    async fn bulk(&self, index: &str, ndjson: Vec<u8>) {
        let r = self
            .http
            .post(format!("{}/{index}/_bulk?refresh=true", es_url()))
            .header("content-type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["errors"], false, "{answer}");
    }

    async fn search(&self, index: &str, body: &Value) -> Value {
        let r = self
            .http
            .post(format!("{}/{index}/_search", es_url()))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let answer: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{answer}");
        answer
    }

    fn settings(&self) -> DashboardSettings {
        DashboardSettings {
            indexes: self.indexes.clone(),
            ..DashboardSettings::default()
        }
    }

    async fn cleanup(self) {
        for (_, index) in self.pairs() {
            let _ = self
                .http
                .delete(format!("{}/{index}", es_url()))
                .send()
                .await;
        }
    }
}

/// The dashboard's router on a random port of 127.0.0.1; its base URL.
async fn serve(settings: DashboardSettings, elasticsearch: &str) -> String {
    let client = indexer::elasticsearch_client(elasticsearch).unwrap();
    let dashboard = Arc::new(Dashboard::new(client, settings, CONTEXT));
    let app = dashboard::router(dashboard, CONTEXT).into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}{CONTEXT}/dashboard")
}

async fn post(base: &str, body: Value) -> (u16, Value) {
    post_raw(base, "application/json", body.to_string()).await
}

async fn post_raw(base: &str, content_type: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/_summary"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// A breakdown's buckets as a map, after checking they come largest first.
fn buckets(v: &Value) -> BTreeMap<String, u64> {
    let list = v.as_array().unwrap_or_else(|| panic!("no buckets: {v}"));
    let counts: Vec<u64> = list.iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "not largest first: {v}"
    );
    list.iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_owned(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// A JSON number's exact text.
fn num(v: &Value) -> String {
    assert!(v.is_number(), "not a number: {v}");
    v.to_string()
}

/// The non-empty points of a series as `date → count`, after checking the total.
fn points(series: &Value) -> BTreeMap<String, u64> {
    let all = series["points"].as_array().unwrap();
    let sum: u64 = all.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(series["total"].as_u64().unwrap(), sum, "{series}");
    all.iter()
        .filter(|p| p["count"].as_u64().unwrap() > 0)
        .map(|p| {
            (
                p["date"].as_str().unwrap().to_owned(),
                p["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn summary_of_every_tenant() {
    let f = Fixture::load().await;
    let base = serve(f.settings(), &es_url()).await;
    let (status, s) = post(&base, json!({})).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["ResponseInfo"]["status"], "successful");
    assert_eq!(s["tenantId"], Value::Null);

    let c = &s["complaints"];
    assert_eq!(c["total"], 17);
    assert_eq!(
        buckets(&c["byStatus"]["buckets"]),
        map(&[
            ("RESOLVED", 7),
            ("PENDINGFORASSIGNMENT", 3),
            ("PENDINGATLME", 2),
            ("REJECTED", 1),
            ("CLOSEDAFTERRESOLUTION", 1),
            ("CLOSEDAFTERREJECTION", 1),
            ("CANCELLED", 1),
            ("RESOLVEDBYSUPERVISOR", 1),
        ])
    );
    assert_eq!(
        (
            c["byStatus"]["other"].as_u64(),
            c["byStatus"]["missing"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(
        buckets(&c["byDepartment"]["buckets"]),
        map(&[
            ("Operation & Maintenance", 6),
            ("Street Lights", 5),
            ("Health & Sanitation", 3),
            ("Building & Roads", 2),
        ])
    );
    assert_eq!(
        c["byDepartment"]["missing"], 1,
        "'Others' has no Department row"
    );
    assert_eq!(c["byDepartment"]["total"], 17);
    assert_eq!(
        buckets(&c["byWard"]["buckets"]),
        map(&[("Alakapuri", 6), ("Bharat Nagar", 5), ("Cantonment", 5)])
    );
    assert_eq!(c["byWard"]["missing"], 1, "one boundary lookup failed");
    assert_eq!(
        buckets(&c["byTenant"]["buckets"]),
        map(&[("pg.citya", 12), ("pg.cityb", 5)])
    );
    assert_eq!(c["citizens"], 11);
    assert_eq!(c["overTime"]["interval"], "month");
    assert_eq!(
        points(&c["overTime"]),
        map(&[
            ("2024-03-01", 3),
            ("2024-04-01", 2),
            ("2024-05-01", 2),
            ("2024-06-01", 2),
            ("2024-07-01", 2),
            ("2024-08-01", 1),
            ("2024-09-01", 3),
            ("2024-10-01", 2),
        ])
    );
    let sla = &c["sla"];
    assert_eq!(sla["rule"], "perComplaint");
    assert_eq!(sla["defaultHours"], 48.0);
    assert_eq!(
        [
            &sla["closed"],
            &sla["closedWithinSla"],
            &sla["closedLate"],
            &sla["openOverdue"],
            &sla["breaches"]
        ],
        [11, 6, 5, 5, 10]
    );
    assert_eq!(
        buckets(&sla["closedWithinSlaByTenant"]),
        map(&[("pg.citya", 4), ("pg.cityb", 2)])
    );
    // Σ(lastModifiedTime − createdTime) / 11 = 3,827,700,000 / 11 ms.
    assert_eq!(c["resolution"]["resolved"], 11);
    assert_eq!(c["resolution"]["averageMs"], 347_972_727);
    assert_eq!(c["resolution"]["averageHours"], 96.66);

    let pi = &s["paymentInstructions"];
    assert_eq!(pi["count"], 8);
    assert_eq!(num(&pi["grossAmount"]), "1000014834.93");
    assert_eq!(num(&pi["netAmount"]), "1000014450.6");
    let by: BTreeMap<String, (u64, String)> = pi["byStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_owned(),
                (b["count"].as_u64().unwrap(), num(&b["grossAmount"])),
            )
        })
        .collect();
    assert_eq!(by["SUCCESSFUL"], (2, "0.3".to_owned()), "0.1 + 0.2 exactly");
    assert_eq!(by["IN PROCESS"], (1, "333.33".to_owned()));
    assert_eq!(by["APPROVED"], (1, "1000000000.05".to_owned()));
    assert_eq!(by.len(), 7);
    assert_eq!(pi["other"]["count"], 0);
    assert_eq!(num(&pi["other"]["grossAmount"]), "0");
    assert_eq!(pi["missing"]["count"], 0);

    let d = &s["disbursements"];
    assert_eq!(d["count"], 5);
    assert_eq!(num(&d["grossAmount"]), "1000014001.6");
    assert_eq!(num(&d["netAmount"]), "1000013700.6");
    let statuses: BTreeMap<String, u64> = buckets(&d["byStatus"]);
    assert_eq!(
        statuses,
        map(&[
            ("INITIATED", 1),
            ("SUCCESSFUL", 1),
            ("FAILED", 1),
            ("PARTIAL", 1),
            ("INPROCESS", 1)
        ])
    );

    let funds = &s["funds"];
    assert_eq!(funds["headOfAccountCode"], "function_code");
    assert_eq!(funds["sanctions"], 5);
    assert_eq!(num(&funds["sanctioned"]), "2450000.45");
    assert_eq!(num(&funds["allocated"]), "1610000.65");
    assert_eq!(num(&funds["available"]), "1546000.35");
    let rows: Vec<(Value, Value, u64, String, String, String)> = funds["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["programCode"].clone(),
                r["headOfAccount"].clone(),
                r["sanctions"].as_u64().unwrap(),
                num(&r["sanctioned"]),
                num(&r["allocated"]),
                num(&r["available"]),
            )
        })
        .collect();
    let row = |p: &str, h: Option<&str>, n: u64, s: &str, a: &str, v: &str| {
        (
            json!(p),
            json!(h),
            n,
            s.to_owned(),
            a.to_owned(),
            v.to_owned(),
        )
    };
    assert_eq!(
        rows,
        vec![
            row(
                "PROG/2024-25/PG.CITYA/1",
                Some("OT-GEN-ECO-SVC"),
                1,
                "100000",
                "60000",
                "45999.7"
            ),
            row(
                "PROG/2024-25/PG.CITYA/1",
                Some("UD-SAN-SWM"),
                1,
                "50000.25",
                "50000.25",
                "0.25"
            ),
            row(
                "PROG/2024-25/PG.CITYB/1",
                Some("OT-GEN-ECO-SVC"),
                2,
                "300000.2",
                "0.3",
                "0.3"
            ),
            row(
                "PROG/2024-25/PG.CITYA/2",
                None,
                1,
                "2000000",
                "1500000.1",
                "1500000.1"
            ),
        ]
    );
    assert_eq!(funds["other"]["sanctions"], 0);

    let x = &s["exchange"];
    assert_eq!(x["total"], 8);
    assert_eq!(x["perDay"]["interval"], "day");
    assert_eq!(
        points(&x["perDay"]),
        map(&[
            ("2024-06-01", 2),
            ("2024-06-02", 2),
            ("2024-06-04", 3),
            ("2024-06-05", 1)
        ])
    );
    assert_eq!(
        x["perDay"]["points"].as_array().unwrap().len(),
        5,
        "the empty 3 June is drawn"
    );
    assert_eq!(
        buckets(&x["byType"]["buckets"]),
        map(&[
            ("program", 2),
            ("disburse", 2),
            ("on-program", 1),
            ("on-sanction", 1),
            ("on-allocation", 1),
            ("on-disburse", 1),
        ])
    );
    f.cleanup().await;
}

#[tokio::test]
async fn summary_of_one_tenant_over_a_date_range() {
    let f = Fixture::load().await;
    let base = serve(f.settings(), &es_url()).await;
    let (status, s) = post(
        &base,
        json!({"RequestInfo": {"apiId": "Rainmaker", "msgId": "dash|en_IN"},
            "tenantId": "pg.citya", "fromDate": JUNE_1, "toDate": AUGUST_31_END}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["ResponseInfo"]["apiId"], "Rainmaker");
    assert_eq!(s["ResponseInfo"]["msgId"], "dash|en_IN");
    assert_eq!(
        (&s["tenantId"], &s["fromDate"], &s["toDate"]),
        (&json!("pg.citya"), &json!(JUNE_1), &json!(AUGUST_31_END))
    );

    // Complaints whose last change (@timestamp) is in June–August: c06–c09 (c10 changed
    // in September; pg.cityb's are another tenant).
    let c = &s["complaints"];
    assert_eq!(c["total"], 4);
    assert_eq!(
        buckets(&c["byStatus"]["buckets"]),
        map(&[
            ("CLOSEDAFTERRESOLUTION", 1),
            ("PENDINGATLME", 1),
            ("CLOSEDAFTERREJECTION", 1),
            ("CANCELLED", 1)
        ])
    );
    assert_eq!(
        buckets(&c["byDepartment"]["buckets"]),
        map(&[
            ("Street Lights", 2),
            ("Operation & Maintenance", 1),
            ("Building & Roads", 1)
        ])
    );
    assert_eq!(
        buckets(&c["byWard"]["buckets"]),
        map(&[("Alakapuri", 2), ("Bharat Nagar", 2)])
    );
    assert_eq!(c["citizens"], 4);
    assert_eq!(c["overTime"]["interval"], "day");
    assert_eq!(
        c["overTime"]["points"].as_array().unwrap().len(),
        92,
        "every day of the range"
    );
    assert_eq!(
        points(&c["overTime"]),
        map(&[
            ("2024-06-22", 1),
            ("2024-07-02", 1),
            ("2024-07-21", 1),
            ("2024-08-05", 1)
        ])
    );
    let sla = &c["sla"];
    assert_eq!(
        [
            &sla["closed"],
            &sla["closedWithinSla"],
            &sla["closedLate"],
            &sla["openOverdue"],
            &sla["breaches"]
        ],
        [2, 1, 1, 1, 2]
    );
    assert_eq!(c["resolution"]["averageMs"], 342_000_000);
    assert_eq!(c["resolution"]["averageHours"], 95.0);

    let pi = &s["paymentInstructions"];
    assert_eq!(pi["count"], 5, "p1 was created in May");
    assert_eq!(num(&pi["grossAmount"]), "12834.38");
    assert_eq!(num(&pi["netAmount"]), "12601.05");
    let d = &s["disbursements"];
    assert_eq!(d["count"], 3);
    assert_eq!(num(&d["grossAmount"]), "12501.05");
    assert_eq!(num(&d["netAmount"]), "12301.05");
    let funds = &s["funds"];
    assert_eq!(funds["sanctions"], 3, "balances ignore the dates");
    assert_eq!(num(&funds["sanctioned"]), "2150000.25");
    assert_eq!(num(&funds["allocated"]), "1610000.35");
    assert_eq!(num(&funds["available"]), "1546000.05");
    let x = &s["exchange"];
    assert_eq!(
        x["total"], 6,
        "pg.cityb's and the encrypted message are out"
    );
    assert_eq!(x["perDay"]["points"].as_array().unwrap().len(), 92);
    assert_eq!(
        points(&x["perDay"]),
        map(&[("2024-06-01", 2), ("2024-06-02", 2), ("2024-06-04", 2)])
    );
    f.cleanup().await;
}

#[tokio::test]
async fn a_state_tenant_covers_its_cities_and_an_unknown_one_has_nothing() {
    let f = Fixture::load().await;
    let base = serve(f.settings(), &es_url()).await;
    let (_, all) = post(&base, json!({})).await;
    let (status, state) = post(&base, json!({"tenantId": "pg"})).await;
    assert_eq!(status, 200, "{state}");
    for figure in [
        "complaints",
        "paymentInstructions",
        "disbursements",
        "funds",
    ] {
        assert_eq!(all[figure], state[figure], "{figure}");
    }
    assert_eq!(all["exchange"]["total"], 8);
    assert_eq!(
        state["exchange"]["total"], 7,
        "the encrypted message names no tenant"
    );
    let (_, other) = post(&base, json!({"tenantId": "pg.cityc"})).await;
    assert_eq!(other["complaints"]["total"], 0);
    assert_eq!(num(&other["funds"]["sanctioned"]), "0");
    let (_, prefix) = post(&base, json!({"tenantId": "pg.city"})).await;
    assert_eq!(
        prefix["complaints"]["total"], 0,
        "pg.city is not the state of pg.citya"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn missing_indexes_give_zeros() {
    let f = Fixture::missing();
    let base = serve(f.settings(), &es_url()).await;
    let (status, s) = post(
        &base,
        json!({"tenantId": "pg.citya", "fromDate": JUNE_1, "toDate": AUGUST_31_END}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let c = &s["complaints"];
    assert_eq!(c["total"], 0);
    assert_eq!(c["byStatus"]["total"], 0);
    assert_eq!(c["citizens"], 0);
    assert_eq!(c["sla"]["breaches"], 0);
    assert_eq!(c["resolution"]["averageMs"], Value::Null);
    assert_eq!(c["overTime"]["total"], 0);
    assert_eq!(s["paymentInstructions"]["count"], 0);
    assert_eq!(num(&s["paymentInstructions"]["grossAmount"]), "0");
    assert_eq!(s["disbursements"]["count"], 0);
    assert_eq!(s["funds"]["sanctions"], 0);
    assert_eq!(s["funds"]["rows"], json!([]));
    assert_eq!(s["exchange"]["total"], 0);
}

// --------------------------------------------------------------- upstream DSS queries

/// The file with its trailing commas removed (outside strings); the file stays as
/// upstream has it.
fn strip_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// True when an aggregation (not a `filter` aggregation's query) carries a script.
fn aggregation_script(aggs: &Value) -> bool {
    aggs.as_object().into_iter().flatten().any(|(_, agg)| {
        agg.as_object()
            .into_iter()
            .flatten()
            .any(|(kind, body)| match kind.as_str() {
                "aggs" | "aggregations" => aggregation_script(body),
                // A filter aggregation's body is a query: a script there is a script query.
                "filter" | "filters" | "meta" => false,
                _ => body.get("script").is_some(),
            })
    })
}

/// DSS's request for a chart query (dashboard-analytics `QueryService`): the date range on
/// `dateRefField` and the tenant through `requestQueryMap`, around the chart's `aggs`.
fn dss_request(query: &Value, tenant: Option<&str>, from: i64, to: i64) -> Value {
    let aggr: Value = serde_json::from_str(query["aggrQuery"].as_str().unwrap()).unwrap();
    let map: Value = serde_json::from_str(query["requestQueryMap"].as_str().unwrap()).unwrap();
    let date_field = query["dateRefField"].as_str().unwrap();
    let mut filter = Vec::new();
    if let Some(t) = tenant {
        filter.push(json!({"terms": {map["tenantId"].as_str().unwrap(): [t]}}));
    }
    json!({
        "size": 0,
        "query": {"bool": {"must": [{"range": {date_field: {"gte": from, "lte": to}}}], "filter": filter}},
        "aggs": aggr["aggs"]
    })
}

/// The named aggregation anywhere in a DSS answer.
fn find<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let object = v.as_object()?;
    if let Some(found) = object.get(name) {
        return Some(found);
    }
    object.values().find_map(|child| find(child, name))
}

/// `{tenant: count}` of a DSS `terms` → `value_count` aggregation, checking that the two
/// agree.
fn dss_tenant_counts(agg: &Value) -> BTreeMap<String, u64> {
    let terms = agg.get("count").unwrap_or(agg);
    terms["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let count = b["doc_count"].as_u64().unwrap();
            assert_eq!(b["tenant_count"]["value"].as_u64(), Some(count), "{b}");
            (b["key"].as_str().unwrap().to_owned(), count)
        })
        .collect()
}

#[tokio::test]
async fn upstream_dss_charts_on_pgr_services_return_our_buckets() {
    let text = std::fs::read_to_string(fixtures().join("dss/ChartApiConfig.json")).unwrap();
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "upstream's file has a trailing comma"
    );
    let charts: Value = serde_json::from_str(&strip_trailing_commas(&text)).unwrap();
    let mut runnable = Vec::new();
    let mut not_runnable = Vec::new();
    for (id, chart) in charts.as_object().unwrap() {
        for query in chart["queries"].as_array().into_iter().flatten() {
            if query["indexName"] != "pgr-services" {
                continue;
            }
            let aggr: Value = serde_json::from_str(query["aggrQuery"].as_str().unwrap()).unwrap();
            if aggregation_script(&aggr["aggs"]) {
                not_runnable.push(id.clone());
            } else {
                runnable.push((id.clone(), chart.clone(), query.clone()));
            }
        }
    }
    let names: Vec<&str> = runnable.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(
        names,
        [
            "dssSlaAchievedOverview",
            "citizenRegistered",
            "topPerformingUlbsCompletionRate",
            "bottomPerformingUlbsCompletionRate"
        ]
    );
    // Its `avg` runs a script over each document; osmem runs scripts in queries only.
    assert_eq!(not_runnable, ["eventDurationGraph"]);
    eprintln!("DSS charts run against our index: {names:?}; not run (aggregation script): {not_runnable:?}");

    let f = Fixture::load().await;
    // DSS's notion of closed and its fixed 48-hour SLA (README "Indexer dashboard").
    let settings = DashboardSettings {
        closed_statuses: vec![
            "RESOLVED".into(),
            "REJECTED".into(),
            "CLOSEDAFTERRESOLUTION".into(),
        ],
        ..f.settings()
    };
    let base = serve(settings, &es_url()).await;
    let cases: [(Option<&str>, i64, i64); 3] = [
        (None, 0, 253_402_300_799_999),
        (Some("pg.citya"), JUNE_1, AUGUST_31_END),
        (Some("pg.cityb"), 0, AUGUST_31_END),
    ];
    let mut compared = 0;
    for (tenant, from, to) in cases {
        let (status, ours) = post(
            &base,
            json!({"tenantId": tenant, "fromDate": from, "toDate": to, "slaHours": 48}),
        )
        .await;
        assert_eq!(status, 200, "{ours}");
        let c = &ours["complaints"];
        for (id, chart, query) in &runnable {
            let answer = f
                .search(&f.indexes.pgr, &dss_request(query, tenant, from, to))
                .await;
            let aggs = &answer["aggregations"];
            for path in chart["aggregationPaths"].as_array().unwrap() {
                let path = path.as_str().unwrap();
                let agg = find(aggs, path).unwrap_or_else(|| panic!("{id}: no {path} in {answer}"));
                let what = format!("{id} / {path} / {tenant:?}");
                match path {
                    "Citizen Registered" => assert_eq!(agg["value"], c["citizens"], "{what}"),
                    "Total Applications" => assert_eq!(
                        dss_tenant_counts(agg),
                        buckets(&c["byTenant"]["buckets"]),
                        "{what}"
                    ),
                    "Closed With In Sla" => assert_eq!(
                        dss_tenant_counts(agg),
                        buckets(&c["sla"]["closedWithinSlaByTenant"]),
                        "{what}"
                    ),
                    other => panic!("{id}: no figure of ours for {other}"),
                }
                compared += 1;
            }
        }
        if tenant.is_none() {
            // The figures DSS shows for these data (Python-computed, README).
            assert_eq!(c["citizens"], 11);
            assert_eq!(
                buckets(&c["sla"]["closedWithinSlaByTenant"]),
                map(&[("pg.citya", 2), ("pg.cityb", 2)])
            );
            assert_eq!(c["sla"]["closed"], 9);
        }
    }
    assert_eq!(compared, 3 * 7);
    f.cleanup().await;
}

// ------------------------------------------------------------------------------ errors

fn error_code(body: &Value) -> &str {
    assert_eq!(body["ResponseInfo"], Value::Null, "{body}");
    body["Errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {body}"))
}

#[tokio::test]
async fn bad_requests_are_400_with_a_code() {
    let f = Fixture::missing();
    let base = serve(f.settings(), &es_url()).await;
    for (body, code) in [
        (json!({"fromDate": "2024-06-01"}), codes::INVALID_DATE),
        (json!({"toDate": -5}), codes::INVALID_DATE),
        (json!({"toDate": 1.5}), codes::INVALID_DATE),
        (
            json!({"fromDate": AUGUST_31_END, "toDate": JUNE_1}),
            codes::INVALID_DATE_RANGE,
        ),
        (json!({"tenantId": "pg city"}), codes::INVALID_TENANT),
        (json!({"slaHours": -1}), codes::INVALID_SLA_HOURS),
    ] {
        let (status, answer) = post(&base, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(error_code(&answer), code, "{body}");
        assert!(answer["Errors"][0]["params"].is_array(), "{answer}");
    }
    assert_eq!(codes::INVALID_TENANT, "INVALID_TENANT_ID_FORMAT");
    let (status, answer) = post_raw(&base, "application/json", "{".into()).await;
    assert_eq!((status, error_code(&answer)), (400, "JsonParseException"));
    let (status, answer) = post_raw(&base, "application/json", "[]".into()).await;
    assert_eq!((status, error_code(&answer)), (400, "MissingJsonException"));
    let (status, answer) = post_raw(&base, "text/plain", "{}".into()).await;
    assert_eq!((status, error_code(&answer)), (400, "UnsupportedMediaType"));
    let (status, _) = post_raw(&base, "text/plain", String::new()).await;
    assert_eq!(status, 200, "an empty body asks for everything");
}

#[tokio::test]
async fn elasticsearch_down_is_503() {
    // A port that was just free: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = serve(
        DashboardSettings {
            es_timeout: Duration::from_secs(2),
            ..Fixture::missing().settings()
        },
        &format!("http://127.0.0.1:{port}"),
    )
    .await;
    let (status, answer) = post(&base, json!({"tenantId": "pg.citya"})).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(error_code(&answer), codes::ES_UNAVAILABLE);
    assert_eq!(codes::ES_UNAVAILABLE, "DASHBOARD_ES_UNAVAILABLE");
}

#[tokio::test]
async fn a_query_elasticsearch_refuses_is_502() {
    // An index whose amounts are text: Elasticsearch refuses to sum them (HTTP 400).
    let f = Fixture::missing();
    f.put_index(&f.indexes.payment_instructions, json!({}))
        .await;
    f.bulk(
        &f.indexes.payment_instructions,
        b"{\"index\":{\"_id\":\"x\"}}\n{\"Data\":{\"tenantId\":\"pg.citya\",\"grossAmount\":\"lots\"}}\n".to_vec(),
    )
    .await;
    let base = serve(f.settings(), &es_url()).await;
    let (status, answer) = post(&base, json!({})).await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(error_code(&answer), codes::ES_QUERY_FAILED);
    assert_eq!(codes::ES_QUERY_FAILED, "DASHBOARD_ES_QUERY_FAILED");
    f.cleanup().await;
}

// -------------------------------------------------------------------------------- page

#[tokio::test]
async fn the_page_and_its_assets_fetch_nothing_elsewhere() {
    let base = serve(Fixture::missing().settings(), &es_url()).await;
    let http = reqwest::Client::new();
    for (path, content_type) in [
        ("", "text/html"),
        ("/assets/dashboard.js", "text/javascript"),
        ("/assets/dashboard.css", "text/css"),
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let headers = r.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self'"),
            "{csp}"
        );
        let text = r.text().await.unwrap();
        // The SVG namespace is a name, not a fetch.
        let rest = text.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !rest.contains("http://") && !rest.contains("https://") && !rest.contains("//cdn"),
            "{path}"
        );
    }
    let page = http.get(&base).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(r#"data-api="/egov-indexer/dashboard/v1/_summary""#),
        "{page}"
    );
    let missing = http
        .get(format!("{base}/assets/other.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// Chromium's binary: `CHROMIUM_BIN`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Ok(bin) = std::env::var("CHROMIUM_BIN") {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

async fn run_chromium(bin: &Path, args: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!("dash-chromium-{}", uuid::Uuid::new_v4()));
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("chromium did not finish in 120 s")
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn assert_totals(dom: &str, totals: &[(&str, &str)]) {
    assert!(
        dom.contains(r#"data-state="ready""#),
        "the page did not finish: {dom}"
    );
    for (chart, total) in totals {
        let span = format!(r#"<span data-total="{chart}">{total}</span>"#);
        assert!(dom.contains(&span), "{span} not in the page");
    }
    assert_eq!(
        dom.matches("<section class=\"card\"").count(),
        9,
        "nine charts"
    );
}

#[tokio::test]
async fn dashboard_renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed: run scripts/deps.sh chromium");
        }
        eprintln!("SKIPPED dashboard_renders_in_headless_chromium: chromium is not installed (scripts/deps.sh chromium)");
        return;
    };
    let f = Fixture::load().await;
    let base = serve(f.settings(), &es_url()).await;

    let dom = run_chromium(&bin, &["--dump-dom".into(), base.clone()]).await;
    assert_totals(
        &dom,
        &[
            ("complaintsByStatus", "17"),
            ("citizens", "11"),
            ("complaintsByDepartment", "17"),
            ("complaintsByWard", "17"),
            ("complaintsOverTime", "17"),
            ("slaBreaches", "10"),
            ("closedWithinSla", "6"),
            ("averageResolutionHours", "96.66"),
            ("paymentInstructionsByStatus", "8"),
            ("paymentInstructionsGrossAmount", "1000014834.93"),
            ("paymentInstructionsNetAmount", "1000014450.6"),
            ("disbursementsByStatus", "5"),
            ("disbursementsGrossAmount", "1000014001.6"),
            ("fundsByProgramAndHead", "5"),
            ("fundsSanctioned", "2450000.45"),
            ("fundsAllocated", "1610000.65"),
            ("fundsAvailable", "1546000.35"),
            ("exchangeMessagesPerDay", "8"),
        ],
    );
    // One bar per status, ward, …: the SVG is drawn, not just the numbers.
    assert!(dom.matches("<rect").count() > 30, "bars drawn");
    assert!(dom.matches("<polyline").count() == 2, "two line charts");

    let filtered = format!("{base}?tenantId=pg.citya&from=2024-06-01&to=2024-08-31");
    let dom = run_chromium(&bin, &["--dump-dom".into(), filtered]).await;
    assert_totals(
        &dom,
        &[
            ("complaintsByStatus", "4"),
            ("complaintsOverTime", "4"),
            ("slaBreaches", "2"),
            ("averageResolutionHours", "95"),
            ("paymentInstructionsByStatus", "5"),
            ("paymentInstructionsGrossAmount", "12834.38"),
            ("disbursementsByStatus", "3"),
            ("fundsSanctioned", "2150000.25"),
            ("exchangeMessagesPerDay", "6"),
        ],
    );
    assert!(
        dom.contains(r#"value="pg.citya""#) || dom.contains("pg.citya ·"),
        "the filter is shown"
    );

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("dashboard.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        &bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,2000".into(),
            base.clone(),
        ],
    )
    .await;
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "a real screenshot"
    );
    eprintln!("dashboard screenshot: {}", png.display());
    f.cleanup().await;
}
