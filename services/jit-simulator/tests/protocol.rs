//! The digit-jit client against the simulator served in-process: every service through the
//! real protocol (RSA app key, SEK, REK), sessions, credentials, timeouts, admin endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use digit_http::{HttpClient, HttpSettings};
use digit_jit::{JitClient, JitError, JitPublicKey, JitResponse, JitSettings, ServiceId};
use digit_service::Metrics;
use jit_simulator::scenario::Scenario;
use jit_simulator::{serve, SimulatorConfig, SimulatorHandle};
use serde_json::{json, Value};
use std::time::Duration;

const PUBLIC_PEM: &str = include_str!("../../../configs/ifms/jit-simulator-public.pem");
const GENERAL_HOA: &str = "221705800358641045908";
const GOOD_IFSC: &str = "ICIC0003892";

async fn simulator() -> SimulatorHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve(listener, SimulatorConfig::dev().unwrap()).await
}

fn client_with(sim: &SimulatorHandle, secret: &str, http: HttpSettings) -> JitClient {
    let settings = JitSettings::for_host(sim.base_url(), "digit-rs-dev", secret);
    let http = HttpClient::new("jit", &http, &Metrics::new("test")).unwrap();
    JitClient::with_public_key(settings, JitPublicKey::from_pem(PUBLIC_PEM).unwrap(), http).unwrap()
}

fn client(sim: &SimulatorHandle) -> JitClient {
    client_with(sim, "digit-rs-dev-secret", HttpSettings::default())
}

fn benf(id: &str, account: &str, ifsc: &str, amount: &str) -> Value {
    json!({
        "benefId": id, "benefName": format!("Payee {id}"), "benfAcctNo": account,
        "benfBankIfscCode": ifsc, "benfMobileNo": "9999999999", "benfEmailId": "",
        "benfAddress": "Angul", "benfAccountType": "Saving", "benfAmount": amount,
        "purpose": "Mukta Payment"
    })
}

fn pi_params(bill_no: &str, net: &str, beneficiaries: Vec<Value>) -> Value {
    json!({
        "jitBillNo": bill_no, "jitBillDate": "2026-04-20 10:00:00", "jitBillDdoCode": "OLSHUD001",
        "granteeAgCode": "GOHUDULBMPL0036", "schemeCode": "13145", "hoa": GENERAL_HOA,
        "ssuIaId": "1621", "mstAllotmentDistId": "5001", "ssuAllotmentId": "6001",
        "allotmentTxnSlNo": "0", "billGrossAmount": net, "billNetAmount": net,
        "billNumberOfBenf": beneficiaries.len().to_string(), "purpose": "Mukta",
        "beneficiaryDetails": beneficiaries
    })
}

fn item(r: &JitResponse) -> &Value {
    assert!(r.succeeded(), "expected success: {r:?}");
    &r.data[0]
}

/// PI → PIS → PAG → PD for one bill; returns the PAG item.
async fn pay(c: &JitClient, bill_no: &str, beneficiaries: Vec<Value>, net: &str) -> Value {
    let pi = c
        .call(ServiceId::PI, pi_params(bill_no, net, beneficiaries))
        .await
        .unwrap();
    assert_eq!(item(&pi)["jitBillNo"], bill_no);
    let pis = c
        .call(
            ServiceId::PIS,
            json!({"jitBillNo": bill_no, "jitBillDate": "2026-04-20", "ssuIaId": "1621"}),
        )
        .await
        .unwrap();
    let pis = item(&pis).clone();
    let pag = c
        .call(
            ServiceId::PAG,
            json!({"pmtInstId": pis["pmtInstId"], "pmtInstDate": pis["payInstDate"],
                   "billNo": bill_no, "billDate": "2026-04-20", "ssuIaId": "1621"}),
        )
        .await
        .unwrap();
    let pag = item(&pag).clone();
    let pd = c
        .call(
            ServiceId::PD,
            json!({"finYear": pag["finYear"], "extAppName": "MUKTA", "billRefNo": pag["onlineBillRefNo"],
                   "tokenNumber": pag["tokenNumber"], "tokenDate": pag["tokenDate"]}),
        )
        .await
        .unwrap();
    let pd = item(&pd);
    assert_eq!(pd["billNumber"], bill_no);
    assert_eq!(
        pd["paymentStatus"],
        "Paid by RBI eKuber,please check with your bank"
    );
    pag
}

#[tokio::test]
async fn va_serves_allotments_from_the_date_inclusive() {
    let sim = simulator().await;
    let c = client(&sim);
    let va = |from: &str| json!({"hoa": GENERAL_HOA, "fromDate": from, "ddoCode": "OLSHUD001", "granteCode": "GOHUDULBMPL0036"});
    let all = c
        .call(ServiceId::VA, va("2026-04-01 00:00:00"))
        .await
        .unwrap();
    assert!(all.succeeded());
    assert_eq!(all.data.len(), 3);
    let first = &all.data[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ddoCode",
            "schemeCode",
            "schemeName",
            "granteeAgCode",
            "granteeName",
            "ssuId",
            "ssuOffice",
            "allotmentDate",
            "allotmentTxnSlNo",
            "allotmentAmount",
            "availableBalance",
            "allotmentTxnType",
            "mstAllotmentDistId",
            "ssuAllotmentId"
        ]
    );
    assert_eq!(first["allotmentTxnType"], "Initial Allotment");
    assert_eq!(first["allotmentAmount"], "100000");
    // The boundary day is included.
    let later = c
        .call(ServiceId::VA, va("2026-04-15 18:30:00"))
        .await
        .unwrap();
    assert_eq!(later.data.len(), 2);
    assert_eq!(later.data[0]["allotmentTxnType"], "Additional allotment");
    // Nothing after the last allotment, nothing for an unknown DDO: data [] and no error.
    let none = c
        .call(ServiceId::VA, va("2027-01-01 00:00:00"))
        .await
        .unwrap();
    assert!(none.error_msg.is_none() && none.data.is_empty() && !none.succeeded());
    let bad = c
        .call(
            ServiceId::VA,
            json!({"hoa": GENERAL_HOA, "ddoCode": "OLSHUD001", "fromDate": "yesterday"}),
        )
        .await
        .unwrap();
    assert!(bad.error_msg.unwrap().contains("fromDate"));
}

#[tokio::test]
async fn a_bill_goes_through_pi_pis_pag_pd_and_failures_show_in_fd() {
    let sim = simulator().await;
    let c = client(&sim);
    let pag = pay(
        &c,
        "PI-1/2026-27/000001",
        vec![
            benf("BN-1", "389201502452", GOOD_IFSC, "250.00"),
            benf("BN-2", "000000000999", GOOD_IFSC, "250.50"),
        ],
        "500.5",
    )
    .await;
    assert_eq!(pag["benfList"].as_array().unwrap().len(), 2);
    assert_eq!(pag["benfList"][1]["amount"], "250.50");
    let fd = c
        .call(
            ServiceId::FD,
            json!({"finYear": "2026", "extAppName": "MUKTA", "voucherDate": "2026-01-01"}),
        )
        .await
        .unwrap();
    let failed = item(&fd);
    assert_eq!(failed["billNumber"], "PI-1/2026-27/000001");
    let dtls = failed["benfDtls"].as_array().unwrap();
    assert_eq!(dtls.len(), 1);
    assert_eq!(dtls[0]["benfId"], "BN-2");
    assert_eq!(dtls[0]["failedReason"], "Account does not exist");
    for key in [
        "orgBillRefNumber",
        "challanNumber",
        "challanDate",
        "utrNo",
        "endToEndId",
    ] {
        assert!(dtls[0][key].is_string(), "{key}");
    }
    // The older PD-like form finds the same bill by billRefNo.
    let old = c
        .call(
            ServiceId::FD,
            json!({"billRefNo": pag["onlineBillRefNo"], "tokenNumber": pag["tokenNumber"]}),
        )
        .await
        .unwrap();
    assert_eq!(item(&old)["billNumber"], "PI-1/2026-27/000001");
    // A window starting after today holds nothing.
    let future = c
        .call(ServiceId::FD, json!({"voucherDate": "2999-01-01"}))
        .await
        .unwrap();
    assert!(future.data.is_empty() && future.error_msg.is_none());
    let state = sim.state();
    assert_eq!(state.pis[0].status.as_deref(), Some("PAID"));
    assert_eq!(state.calls["FD"], 3);
    assert_eq!(state.authentications, 1);
}

#[tokio::test]
async fn pi_errors_are_coded() {
    let sim = simulator().await;
    let c = client(&sim);
    let wrong_ifsc = c
        .call(
            ServiceId::PI,
            pi_params(
                "PI-2",
                "300",
                vec![
                    benf("BN-1", "1", "BADX0000001", "100"),
                    benf("BN-2", "2", GOOD_IFSC, "200"),
                ],
            ),
        )
        .await
        .unwrap();
    assert!(!wrong_ifsc.succeeded());
    let errors = wrong_ifsc.error_msgs.clone().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_code, "340");
    assert_eq!(
        errors[0].error_msg,
        "Wrong IFSC provided in Beneficiary Details for BenefId BN-1"
    );
    let mismatch = c
        .call(
            ServiceId::PI,
            pi_params("PI-3", "301", vec![benf("BN-1", "1", GOOD_IFSC, "300.00")]),
        )
        .await
        .unwrap();
    assert_eq!(mismatch.error_msgs.unwrap()[0].error_code, "304");
    let duplicate_account = c
        .call(
            ServiceId::PI,
            pi_params(
                "PI-4",
                "2",
                vec![
                    benf("BN-1", "1", GOOD_IFSC, "1"),
                    benf("BN-2", "1", GOOD_IFSC, "1"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(duplicate_account.error_msgs.unwrap()[0].error_code, "305");
    let empty = c
        .call(ServiceId::PI, pi_params("PI-5", "0", vec![]))
        .await
        .unwrap();
    assert_eq!(empty.error_msgs.unwrap()[0].error_code, "302");
    let ok = c
        .call(
            ServiceId::PI,
            pi_params("PI-6", "300", vec![benf("BN-1", "1", GOOD_IFSC, "300.00")]),
        )
        .await
        .unwrap();
    assert!(ok.succeeded());
    assert!(ok.data[0]["sucessDescrp"]
        .as_str()
        .unwrap()
        .starts_with("Jit Bill is received successfully"));
    let again = c
        .call(
            ServiceId::PI,
            pi_params("PI-6", "300", vec![benf("BN-1", "1", GOOD_IFSC, "300.00")]),
        )
        .await
        .unwrap();
    assert_eq!(
        again.error_text().unwrap(),
        "300: Duplicate Payment Information Id"
    );
    let state = sim.state();
    assert_eq!(state.pis.len(), 6);
    assert_eq!(state.pis.iter().filter(|p| p.accepted).count(), 1);
}

#[tokio::test]
async fn pis_waits_rejects_and_reports_unknown_bills() {
    let sim = simulator().await;
    let mut scenario = sim.scenario();
    scenario.pis_pending_polls = 2;
    sim.set_scenario(scenario);
    let c = client(&sim);
    let pis = |no: &str| json!({"jitBillNo": no, "jitBillDate": "2026-04-20", "ssuIaId": "1621"});
    let unknown = c.call(ServiceId::PIS, pis("PI-X")).await.unwrap();
    assert!(unknown.error_msg.unwrap().contains("PI-X"));
    c.call(
        ServiceId::PI,
        pi_params("PI-7", "10", vec![benf("BN-1", "1", GOOD_IFSC, "10")]),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let pending = c.call(ServiceId::PIS, pis("PI-7")).await.unwrap();
        assert!(pending.error_msg.is_none() && pending.data.is_empty());
    }
    let approved = c.call(ServiceId::PIS, pis("PI-7")).await.unwrap();
    let a = item(&approved);
    assert_eq!(a["jitBillNumber"], "PI-7");
    assert_eq!(a["totalNumberOfBeneficiary"], "1");
    assert!(a["pmtInstId"].is_string());
    // PAG before approval of another bill: nothing yet.
    c.call(
        ServiceId::PI,
        pi_params(
            "PI-8",
            "10",
            vec![benf("BN-1", "000000000666", GOOD_IFSC, "10")],
        ),
    )
    .await
    .unwrap();
    let early = c
        .call(ServiceId::PAG, json!({"billNo": "PI-8", "ssuIaId": "1621"}))
        .await
        .unwrap();
    assert!(early.data.is_empty());
    let rejected = c.call(ServiceId::PIS, pis("PI-8")).await.unwrap();
    assert!(!rejected.succeeded());
    assert_eq!(
        rejected.error_msg.unwrap(),
        "This Bill Number PI-8 is rejected by SSU angul_op"
    );
    assert_eq!(sim.state().pis[1].status.as_deref(), Some("REJECTED"));
    let pd_unknown = c
        .call(
            ServiceId::PD,
            json!({"billRefNo": "nope", "tokenNumber": "1"}),
        )
        .await
        .unwrap();
    assert!(pd_unknown.error_msg.is_some());
}

#[tokio::test]
async fn corrections_are_paid_by_ftps_and_still_failing_accounts_come_back_in_ftfps() {
    let sim = simulator().await;
    let c = client(&sim);
    let pag = pay(
        &c,
        "PI-9",
        vec![
            benf("BN-1", "000000000999", GOOD_IFSC, "100"),
            benf("BN-2", "000000000998", GOOD_IFSC, "100"),
        ],
        "200",
    )
    .await;
    let mut scenario = sim.scenario();
    scenario
        .fail_accounts
        .insert("000000000998".into(), "Account is Dormant".into());
    sim.set_scenario(scenario);
    let cor = |no: &str, org: &str, ifsc: &str| {
        json!({
            "jitCorBillNo": no, "jitCorBillDate": "2026-05-02", "jitCorBillDeptCode": "MUKTA",
            "jitOrgBillRefNo": pag["onlineBillRefNo"], "jitOrgBillNo": org, "jitOrgBillDate": "2026-04-20",
            "beneficiaryDtls": [
                {"benefId": "BN-1", "orgAccountNo": "000000000999", "orgIfsc": GOOD_IFSC,
                 "correctedAccountNo": "123456780005", "correctedIfsc": ifsc,
                 "curAccountNo": "000000000999", "curIfsc": GOOD_IFSC},
                {"benefId": "BN-2", "orgAccountNo": "000000000998", "orgIfsc": GOOD_IFSC,
                 "correctedAccountNo": "000000000998", "correctedIfsc": GOOD_IFSC,
                 "curAccountNo": "000000000998", "curIfsc": GOOD_IFSC}
            ]
        })
    };
    let unknown = c
        .call(ServiceId::COR, cor("COR-1", "PI-NOPE", GOOD_IFSC))
        .await
        .unwrap();
    assert_eq!(unknown.error_msgs.unwrap()[0].error_code, "320");
    let bad_ifsc = c
        .call(ServiceId::COR, cor("COR-1", "PI-9", "BADX0000001"))
        .await
        .unwrap();
    assert_eq!(bad_ifsc.error_msgs.unwrap()[0].error_code, "322");
    let ok = c
        .call(ServiceId::COR, cor("COR-1", "PI-9", GOOD_IFSC))
        .await
        .unwrap();
    assert_eq!(item(&ok)["jitCorBillNo"], "COR-1");
    assert_eq!(item(&ok)["successCode"], "0");
    // FTFPS before FTPS: nothing yet.
    let early = c
        .call(ServiceId::FTFPS, json!({"jitCorBillNo": "COR-1"}))
        .await
        .unwrap();
    assert!(early.data.is_empty() && early.error_msg.is_none());
    let ftps = c
        .call(
            ServiceId::FTPS,
            json!({"jitCorBillNo": "COR-1", "jitCorBillDate": "2026-05-02", "jitCorBillDeptCode": "MUKTA",
                   "jitOrgBillRefNo": pag["onlineBillRefNo"], "jitOrgBillNo": "PI-9", "jitOrgBillDate": "2026-04-20"}),
        )
        .await
        .unwrap();
    let paid = item(&ftps).clone();
    assert_eq!(paid["jitOrgBillRefNo"], pag["onlineBillRefNo"]);
    let paid_benf = paid["benfDtls"].as_array().unwrap();
    assert_eq!(paid_benf.len(), 1);
    assert_eq!(paid_benf[0]["benfAcctNo"], "123456780005");
    let ftfps = c
        .call(
            ServiceId::FTFPS,
            json!({"jitCorBillNo": "COR-1", "jitCorBillDate": "2026-05-02", "billRefNo": pag["onlineBillRefNo"],
                   "tokenNumber": paid["tokenNumber"], "tokenDate": paid["tokenDate"]}),
        )
        .await
        .unwrap();
    let failed = item(&ftfps);
    assert_eq!(failed["billRefNo"], paid["billRefNo"]);
    assert_eq!(failed["benfDtls"][0]["benfId"], "BN-2");
    assert_eq!(failed["benfDtls"][0]["failedReason"], "Account is Dormant");
    let unknown_ftps = c
        .call(ServiceId::FTPS, json!({"jitCorBillNo": "COR-9"}))
        .await
        .unwrap();
    assert!(unknown_ftps.error_msg.is_some());
    let state = sim.state();
    assert_eq!(state.cors.len(), 3);
    assert_eq!(state.cors[2].status.as_deref(), Some("PAID"));
}

#[tokio::test]
async fn pa_is_answered_with_an_error_and_every_id_is_counted() {
    let sim = simulator().await;
    let c = client(&sim);
    for id in ServiceId::ALL {
        let r = c.call(id, json!({})).await.unwrap();
        assert_eq!(r.service_id.as_deref(), Some(id.as_str()));
        if id != ServiceId::VA {
            assert!(r.error_text().is_some(), "{id}: {r:?}");
        }
    }
    let state = sim.state();
    assert_eq!(state.calls.len(), ServiceId::ALL.len());
    assert!(state.calls.values().all(|&n| n == 1));
    assert_eq!(state.authentications, 1, "one session serves every call");
}

#[tokio::test]
async fn an_expired_session_costs_one_reauthentication_and_one_retry() {
    let sim = simulator().await;
    let c = client(&sim);
    let va = json!({"hoa": GENERAL_HOA, "fromDate": "2026-04-01 00:00:00", "ddoCode": "OLSHUD001"});
    c.call(ServiceId::VA, va.clone()).await.unwrap();
    assert_eq!(sim.expire_sessions(), 1);
    let again = c.call(ServiceId::VA, va.clone()).await.unwrap();
    assert!(again.succeeded());
    let state = sim.state();
    assert_eq!(state.authentications, 2);
    assert_eq!(
        state.calls["VA"], 2,
        "the refused call never reached the treasury"
    );
    // Server-side expiry by time (scenario override) behaves the same.
    let mut scenario = sim.scenario();
    scenario.session_timeout_ms = Some(1);
    sim.set_scenario(scenario);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = c.call(ServiceId::VA, va).await;
    // With a 1 ms lifetime even the fresh session may lapse before the retry: one retry
    // only, then the 400 surfaces as Rejected.
    match r {
        Ok(r) => assert!(r.succeeded()),
        Err(e) => assert!(e.is_session_expired(), "{e:?}"),
    }
    assert_eq!(sim.state().authentications, 3);
}

#[tokio::test]
async fn the_client_logs_in_again_when_its_own_timeout_passes() {
    let sim = simulator().await;
    let mut settings = JitSettings::for_host(sim.base_url(), "digit-rs-dev", "digit-rs-dev-secret");
    settings.session_timeout = Duration::from_millis(20);
    let http = HttpClient::new("jit", &HttpSettings::default(), &Metrics::new("test")).unwrap();
    let c = JitClient::with_public_key(settings, JitPublicKey::from_pem(PUBLIC_PEM).unwrap(), http)
        .unwrap();
    c.call(ServiceId::VA, json!({})).await.unwrap();
    c.call(ServiceId::VA, json!({})).await.unwrap();
    assert_eq!(sim.state().authentications, 1);
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.call(ServiceId::VA, json!({})).await.unwrap();
    assert_eq!(sim.state().authentications, 2);
}

#[tokio::test]
async fn a_wrong_client_secret_is_rejected() {
    let sim = simulator().await;
    let c = client_with(&sim, "wrong", HttpSettings::default());
    let err = c.call(ServiceId::VA, json!({})).await.unwrap_err();
    match err {
        JitError::Rejected { status, .. } => assert_eq!(status, 401),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(sim.state().authentications, 0);
}

#[tokio::test]
async fn the_request_timeout_is_honoured_and_not_retried() {
    let sim = simulator().await;
    let mut scenario = sim.scenario();
    scenario.delay_ms = 1500;
    sim.set_scenario(scenario);
    let http = HttpSettings {
        request_timeout: Duration::from_millis(300),
        ..HttpSettings::default()
    };
    let c = client_with(&sim, "digit-rs-dev-secret", http);
    let started = std::time::Instant::now();
    let err = c.call(ServiceId::VA, json!({})).await.unwrap_err();
    assert!(matches!(err, JitError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "no retry after a timeout"
    );
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let settings = JitSettings::for_host(format!("http://127.0.0.1:{port}"), "a", "b");
    let http = HttpSettings {
        retries: 0,
        ..HttpSettings::default()
    };
    let http = HttpClient::new("jit", &http, &Metrics::new("test")).unwrap();
    let c = JitClient::with_public_key(settings, JitPublicKey::from_pem(PUBLIC_PEM).unwrap(), http)
        .unwrap();
    let err = c.call(ServiceId::VA, json!({})).await.unwrap_err();
    assert!(matches!(err, JitError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn raw_protocol_errors_and_admin_endpoints() {
    let sim = simulator().await;
    let http = HttpClient::new("raw", &HttpSettings::default(), &Metrics::new("test")).unwrap();
    let url = |p: &str| format!("{}{p}", sim.base_url());
    // No session: 400 with JIT's text.
    let err = http
        .post(url(jit_simulator::SERVICE_PATH))
        .header("authToken", "nope")
        .json(&json!({"params": "x", "rek": "y"}))
        .send()
        .await
        .unwrap_err();
    match err {
        digit_http::HttpError::Status { status, body, .. } => {
            assert_eq!(status, 400);
            assert!(body.contains(digit_jit::NO_VALID_SESSION));
        }
        other => panic!("{other:?}"),
    }
    // An app key not encrypted under the simulator's key.
    let err = http
        .post(url(jit_simulator::AUTHENTICATE_PATH))
        .header("clientId", "digit-rs-dev")
        .header("clientSecret", "digit-rs-dev-secret")
        .json(&json!({"appKey": "AAAA"}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        digit_http::HttpError::Status { status: 400, .. }
    ));
    // Scenario: read, replace, reject nonsense.
    let got: Scenario = http
        .get(url("/simulator/scenario"))
        .send_json()
        .await
        .unwrap();
    assert_eq!(got, sim.scenario());
    let replaced: Value = http
        .post(url("/simulator/scenario"))
        .json(&json!({"pisPendingPolls": 3}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(replaced["status"], "replaced");
    assert_eq!(sim.scenario().pis_pending_polls, 3);
    assert!(sim.scenario().allotments.is_empty());
    let bad = http
        .post(url("/simulator/scenario"))
        .json(&json!({"pisPendingPols": 3}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        digit_http::HttpError::Status { status: 400, .. }
    ));
    // Sessions and state.
    let c = client(&sim);
    c.call(
        ServiceId::PI,
        pi_params("PI-A", "1", vec![benf("BN-1", "1", GOOD_IFSC, "1")]),
    )
    .await
    .unwrap();
    let expired: Value = http
        .post(url("/simulator/sessions/_expire"))
        .send_json()
        .await
        .unwrap();
    assert_eq!(expired["expired"], 1);
    let state: Value = http.get(url("/simulator/state")).send_json().await.unwrap();
    assert_eq!(state["calls"]["PI"], 1);
    assert_eq!(state["pis"][0]["billNo"], "PI-A");
    assert_eq!(state["pis"][0]["status"], "RECEIVED");
    assert_eq!(state["pis"][0]["params"]["billNetAmount"], "1");
    let _: Value = http
        .post(url("/simulator/state/_reset"))
        .send_json()
        .await
        .unwrap();
    assert!(sim.state().pis.is_empty());
    let health: Value = http.get(url("/health")).send_json().await.unwrap();
    assert_eq!(health["status"], "UP");
}
