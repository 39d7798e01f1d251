//! The payment path (spec A1.6, A1.8, A1.9 PA; C.1 items 19, 26, 30) over the real broker
//! and Postgres with both simulators: approved bills → PA → expense publishes
//! `expense-payment-create` → PIs (deduction to the department, merged beneficiaries) →
//! PIS → PAG → PD with one failure → FD → a revised PI (`parentPI`) with the old account
//! from the audit log → COR → FTPS; redeliveries and racing retries make one PI; a COMPLETED
//! payment gets no new original PI; every code of A1.6/A1.8; no-funds and unknown-payee PIs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::ifms::{accountant, scenario, va_item, IfmsStack, TENANT};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ORG_ACCOUNT: &str = "50100012345678";
const WAGE_BILL: &str = "5d1a2b4e-0c7f-4e8a-9b31-1a2b3c4d5e01";
const PURCHASE_BILL: &str = "5d1a2b4e-0c7f-4e8a-9b31-1a2b3c4d5e02";

struct Stacks {
    s: IfmsStack,
    mukta: mukta_simulator::SimulatorHandle,
    topic: String,
    http: reqwest::Client,
}

async fn start(jit: Value) -> Stacks {
    let topic = format!("expense-payment-create-{}", digit_e2e::tag());
    let mut config =
        mukta_simulator::SimulatorConfig::dev(Some(&digit_e2e::kafka().brokers)).unwrap();
    config.payment_create_topic = topic.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mukta = mukta_simulator::serve(listener, config).await.unwrap();
    let host = format!("{}/", mukta.base_url());
    let s = IfmsStack::start(
        jit,
        &[
            ("EGOV_BILL_HOST", &host),
            ("EGOV_BANK_ACCOUNT_HOST", &host),
            ("EGOV_INDIVIDUAL_HOST", &host),
            ("EGOV_ORGANISATION_HOST", &host),
            ("EGOV_AUDIT_LOG_HOST", &host),
            ("PAYMENT_CREATE_TOPIC", &topic),
        ],
    )
    .await;
    Stacks {
        s,
        mukta,
        topic,
        http: reqwest::Client::new(),
    }
}

impl Stacks {
    async fn admin(&self, path: &str, body: &Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.mukta.base_url()))
            .json(body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    async fn state(&self) -> Value {
        let r = self
            .http
            .get(format!("{}/simulator/state", self.mukta.base_url()))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// The payment number expense made for a bill.
    async fn payment_of(&self, bill: &str) -> String {
        let state = self.state().await;
        state["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["bills"][0]["billId"] == bill)
            .map(|p| p["paymentNumber"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no payment for {bill}: {state}"))
    }

    async fn await_pis(&self, n: i64) {
        let started = Instant::now();
        loop {
            if self
                .s
                // Made, and its post answered: the pollers skip a PI whose post is in flight.
                .count(
                    "SELECT count(*) FROM jit_payment_inst_details
                      WHERE jitposted OR pistatus <> 'INITIATED'",
                )
                .await
                >= n
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "fewer than {n} PIs"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn pi_of(&self, payment: &str) -> (String, String, String) {
        sqlx::query_as(
            "SELECT id, pinumber, pistatus FROM jit_payment_inst_details WHERE muktareferenceid = $1
              ORDER BY createdtime DESC LIMIT 1",
        )
        .bind(payment)
        .fetch_one(self.s.db.pool())
        .await
        .unwrap()
    }

    /// Waits until expense saw an update of `payment` to `status`.
    async fn await_update(&self, payment: &str, status: &str) {
        let started = Instant::now();
        loop {
            let history = self.state().await["paymentHistory"].clone();
            if history.as_array().unwrap().iter().any(|h| {
                h["paymentNumber"] == payment && h["action"] == "UPDATE" && h["status"] == status
            }) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{payment} never {status}: {history}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn create(&self, body: Value) -> (u16, Value) {
        let mut body = body;
        body["RequestInfo"] = json!({"apiId": "ifms"});
        let (st, out) = self.s.post("/pi/v1/_create", &accountant(), &body).await;
        (st.as_u16(), out)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approved_bills_are_paid_through_pis_to_the_end() {
    let mut jit = scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        "10000",
        "0",
        "2026-05-01",
    )]);
    jit["failAccounts"] = json!({ORG_ACCOUNT: "Account does not exist"});
    let st = start(jit).await;
    let s = &st.s;
    let _workers = s.start_workers();
    let sanction = s.funded_sanction().await;

    // PA: both approved bills get payments; expense publishes them; the consumer makes PIs.
    let pa = s.service.run_pa().await.unwrap();
    assert_eq!((pa.bills, pa.payments, pa.failed), (2, 2, 0), "{pa:?}");
    st.await_pis(2).await;
    let wage = st.payment_of(WAGE_BILL).await;
    let purchase = st.payment_of(PURCHASE_BILL).await;
    let (wage_pi, _, status) = st.pi_of(&wage).await;
    assert_eq!(status, "INITIATED");
    // The deduction goes to the department's account; the rest to the individual.
    let benefs: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT beneficiaryid, beneficiarytype, trim_scale(amount)::text FROM jit_beneficiary_details
          WHERE piid = $1 ORDER BY amount",
    )
    .bind(&wage_pi)
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        benefs[0],
        ("Deduction_pg.citya_LC".into(), "DEPT".into(), "50.5".into())
    );
    assert_eq!(benefs[1].1, "IND");
    assert_eq!(s.funds(&sanction).await, "10000/6499.25");
    let pi_params = s
        .jit
        .state()
        .pis
        .iter()
        .find(|p| p.bill_no.starts_with("PI-"))
        .unwrap()
        .params
        .clone();
    assert!(pi_params["beneficiaryDetails"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["benfAddress"] == "City A Municipal Corporation"));

    // 20 redeliveries of the wage payment's message: nothing new.
    let message = json!({"RequestInfo": {}, "payment": st.state().await["payments"].as_array().unwrap()
        .iter().find(|p| p["paymentNumber"] == wage.as_str()).unwrap().clone()});
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", digit_e2e::kafka().brokers)
        .create()
        .unwrap();
    for _ in 0..20 {
        producer
            .send(
                FutureRecord::to(&st.topic)
                    .key(&wage)
                    .payload(&message.to_string()),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        s.count("SELECT count(*) FROM jit_payment_inst_details")
            .await,
        2
    );
    assert_eq!(s.funds(&sanction).await, "10000/6499.25");

    // The treasury: approved, advised, paid; the organisation's account bounces.
    s.service.run_pis().await.unwrap();
    s.service.run_pag().await.unwrap();
    s.service.run_pd().await.unwrap();
    s.service.run_fd().await.unwrap();
    let (purchase_pi, purchase_no, status) = st.pi_of(&purchase).await;
    assert_eq!(status, "PARTIAL");
    assert_eq!(st.pi_of(&wage).await.2, "SUCCESSFUL");
    // The expense payments followed (C.1 item 26), through the outbox.
    st.await_update(&wage, "SUCCESSFUL").await;
    st.await_update(&purchase, "PARTIAL").await;

    // A revised PI for the failed organisation, after its account was corrected.
    let changed = st
        .admin(
            "/simulator/bankaccounts/_change",
            &json!({"referenceId": "c948254b-efa1-4e2a-8db7-bf24533f2aa5",
            "accountNumber": "60200098765432", "ifsc": "HDFC0000124", "tenantId": TENANT}),
        )
        .await;
    assert!(changed.get("bankAccount").is_some(), "{changed}");
    let (code, out) = st
        .create(json!({"tenantId": TENANT, "parentPI": purchase_no}))
        .await;
    assert_eq!(code, 200, "{out}");
    let revised = &out["paymentInstruction"];
    assert!(
        revised["jitBillNo"].as_str().unwrap().starts_with("REPI-"),
        "{out}"
    );
    assert_eq!(revised["parentPiNumber"], purchase_no.as_str());
    assert_eq!(revised["piStatus"], "INITIATED");
    let cor = s.jit.state().cors[0].params.clone();
    assert_eq!(
        cor["beneficiaryDtls"][0]["orgAccountNo"], ORG_ACCOUNT,
        "the account of the original, from the audit log"
    );
    assert_eq!(
        cor["beneficiaryDtls"][0]["correctedAccountNo"],
        "60200098765432"
    );
    assert_eq!(s.pi_status(&purchase_pi).await, "COMPLETED");
    assert_eq!(s.funds(&sanction).await, "10000/6499.25", "no second debit");
    s.service.run_ftps().await.unwrap();
    assert_eq!(st.pi_of(&purchase).await.2, "SUCCESSFUL");

    // A COMPLETED payment gets no new original PI (C.1 item 19), neither by retry nor by body.
    let (code, out) = st
        .create(json!({"tenantId": TENANT, "referenceId": purchase}))
        .await;
    assert_eq!(
        (code, out["Errors"][0]["code"].as_str()),
        (400, Some("PI_DUPLICATE_ERROR")),
        "{out}"
    );
    // A revision of a PI that did not fail.
    let (_, wage_no, _) = st.pi_of(&wage).await;
    let (code, out) = st
        .create(json!({"tenantId": TENANT, "parentPI": wage_no}))
        .await;
    assert_eq!(
        (code, out["Errors"][0]["code"].as_str()),
        (400, Some("REVISED_PI_GEN_ERROR")),
        "{out}"
    );
    let (code, out) = st
        .create(json!({"tenantId": TENANT, "referenceId": "EP/NOPE"}))
        .await;
    assert_eq!(
        (code, out["Errors"][0]["code"].as_str()),
        (400, Some("PAYMENT_NOT_FIND_ERROR")),
        "{out}"
    );
    let (code, out) = st.create(json!({"tenantId": TENANT})).await;
    assert_eq!(
        (code, out["Errors"][0]["code"].as_str()),
        (400, Some("PI_REQUEST_INVALID_PARAMS")),
        "{out}"
    );
    // A payment naming a bill expense does not know is refused whole, not paid in part.
    let (code, out) = st
        .create(
            json!({"payment": {"tenantId": TENANT, "paymentNumber": "EP/GHOST/1",
            "bills": [{"billId": "no-such-bill", "billDetails": []}]}}),
        )
        .await;
    assert_eq!(
        (code, out["Errors"][0]["code"].as_str()),
        (400, Some("PI_REQUEST_INVALID_PARAMS")),
        "{out}"
    );
    assert_eq!(s.ledger_available(&sanction).await, "6499.25");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_funds_and_unknown_payees_fail_and_a_retry_makes_one_pi() {
    let st = start(scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        "100",
        "0",
        "2026-05-01",
    )]))
    .await;
    let s = &st.s;
    let _workers = s.start_workers();
    let sanction = s.funded_sanction().await;
    // A bill to a payee nobody knows.
    st.admin(
        "/simulator/bills",
        &json!({"bills": [{"tenantId": TENANT, "businessService": "EXPENSE.WAGES",
        "totalAmount": 10, "billDetails": [{"totalAmount": 10,
            "payee": {"type": "INDIVIDUAL", "identifier": "ghost-payee"},
            "payableLineItems": [{"headCode": "WEG", "amount": 10, "type": "PAYABLE"}]}]}]}),
    )
    .await;
    let pa = s.service.run_pa().await.unwrap();
    assert_eq!(pa.payments, 3, "{pa:?}");
    st.await_pis(3).await;
    // 1000 and 2500.75 exceed the 100 of funds: FAILED without JIT; the ghost is refused.
    let wage = st.payment_of(WAGE_BILL).await;
    let (wage_pi, _, status) = st.pi_of(&wage).await;
    assert_eq!(status, "FAILED");
    let (error, log): (String, String) = sqlx::query_as(
        "SELECT p.pierrorresp, l.status FROM jit_payment_inst_details p JOIN jit_pi_status_logs l ON l.piid = p.id WHERE p.id = $1",
    )
    .bind(&wage_pi)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (error.as_str(), log.as_str()),
        ("PAYMENT_INSUFFICIENT_FUNDS", "STATUS_LOG_PI_NO_FUNDS")
    );
    let ghost: String = sqlx::query_scalar(
        "SELECT pierrorresp FROM jit_payment_inst_details p JOIN jit_beneficiary_details b ON b.piid = p.id
          WHERE b.beneficiaryid = 'ghost-payee'",
    )
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert!(
        ghost.starts_with("PAYEE_NOT_FOUND") && ghost.contains("ghost-payee"),
        "{ghost}"
    );
    assert!(s.jit.state().pis.is_empty(), "JIT was not asked");
    assert_eq!(s.funds(&sanction).await, "100/100");
    st.await_update(&wage, "FAILED").await;
    let history = st.state().await["paymentHistory"].clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["paymentNumber"] == wage.as_str()
                && h["status"] == "FAILED"
                && h["referenceStatus"] == "PAYMENT_INSUFFICIENT_FUNDS"),
        "{history}"
    );

    // Funds arrive (on the Scheduled Caste head: the heads are tried in sequence); 20 racing
    // retries of the wage payment make one PI.
    s.jit.set_scenario(
        serde_json::from_value(
            json!({"allotments": [{"hoa": "221705789358641045908", "ddoCode": "OLSHUD001",
        "items": [va_item("Initial Allotment", "5002", 0, "6002", "5000", "0", "2026-05-02")]}]}),
        )
        .unwrap(),
    );
    s.service.run_va().await.unwrap();
    let sc = s.sanction_of("5002").await;
    let answers = futures::future::join_all(
        (0..20).map(|_| st.create(json!({"tenantId": TENANT, "referenceId": wage}))),
    )
    .await;
    let ok = answers.iter().filter(|(c, _)| *c == 200).count();
    let dup = answers
        .iter()
        .filter(|(_, o)| o["Errors"][0]["code"] == "PI_DUPLICATE_ERROR")
        .count();
    assert_eq!((ok, dup), (1, 19), "{answers:?}");
    let (_, _, status) = st.pi_of(&wage).await;
    assert_eq!(status, "INITIATED");
    assert_eq!(s.funds(&sc).await, "5000/4000");
    assert_eq!(s.funds(&sanction).await, "100/100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payees_sharing_an_account_are_one_beneficiary() {
    let st = start(scenario(vec![va_item(
        "Initial Allotment",
        "5001",
        0,
        "6001",
        "10000",
        "0",
        "2026-05-01",
    )]))
    .await;
    let s = &st.s;
    let _workers = s.start_workers();
    s.funded_sanction().await;
    // A second individual whose bank account is the first one's (a joint account).
    let fixtures: Value = serde_json::from_str(
        &std::fs::read_to_string(digit_e2e::repo_root().join("configs/mukta/fixtures.json"))
            .unwrap(),
    )
    .unwrap();
    let mut person = fixtures["individuals"][0].clone();
    person["id"] = json!("ind-joint");
    let mut account = fixtures["bankAccounts"][0].clone();
    account["id"] = json!("acct-joint");
    account["referenceId"] = json!("ind-joint");
    account["bankAccountDetails"][0]["id"] = json!("acct-joint-d");
    st.admin(
        "/simulator/fixtures/_add",
        &json!({"individuals": [person], "bankAccounts": [account]}),
    )
    .await;
    let detail = |payee: &str, amount: f64| {
        json!({"totalAmount": amount,
        "payee": {"type": "INDIVIDUAL", "identifier": payee},
        "payableLineItems": [{"headCode": "WEG", "amount": amount, "type": "PAYABLE"}]})
    };
    let added = st
        .admin("/simulator/bills", &json!({"bills": [{"tenantId": TENANT, "businessService": "EXPENSE.WAGES",
            "totalAmount": 30, "billDetails": [detail("7a1c0e52-3b9d-4f6e-8a21-5c4d3e2f1a01", 10.0), detail("ind-joint", 20.0)]}]}))
        .await;
    let bill = added["bills"][0]["id"].as_str().unwrap().to_owned();
    // Pay only the new bill (retry path: the payment is made by expense, the PI on demand).
    let payment: Value = st
        .http
        .post(format!("{}/expense/payment/v1/_create", st.mukta.base_url()))
        .json(&json!({"RequestInfo": {}, "payment": ifms_adapter::service::payment::pa::payment_of(&added["bills"][0])}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = payment["payments"][0]["paymentNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    st.await_pis(1).await;
    let (pi, _, status) = st.pi_of(&number).await;
    assert_eq!(status, "INITIATED", "{bill}");
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT trim_scale(b.amount)::text, (SELECT count(*) FROM jit_beneficiary_lineitems l WHERE l.beneficiaryid = b.id)
           FROM jit_beneficiary_details b WHERE b.piid = $1",
    )
    .bind(&pi)
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [("30".to_owned(), 2)],
        "one beneficiary for one account, both lines"
    );
}
