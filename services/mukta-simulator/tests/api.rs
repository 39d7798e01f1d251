//! The simulator over HTTP: every endpoint's happy path and an error path, paging, the
//! Kafka publish of a payment create (real broker: `TEST_KAFKA_BROKERS`, default
//! 127.0.0.1:9092) and the audit log after a bank-account change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mukta_simulator::{serve, SimulatorConfig};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TENANT: &str = "pg.citya";
const WAGE_BILL: &str = "5d1a2b4e-0c7f-4e8a-9b31-1a2b3c4d5e01";
const PURCHASE_BILL: &str = "5d1a2b4e-0c7f-4e8a-9b31-1a2b3c4d5e02";
const INDIVIDUAL: &str = "7a1c0e52-3b9d-4f6e-8a21-5c4d3e2f1a01";
const ORG: &str = "c948254b-efa1-4e2a-8db7-bf24533f2aa5";
const DEDUCTION: &str = "Deduction_pg.citya_LC";

fn brokers() -> String {
    std::env::var("TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

struct App {
    handle: mukta_simulator::SimulatorHandle,
    client: reqwest::Client,
    topic: Option<String>,
}

/// A simulator on a random port; with Kafka, payments go to a topic of its own.
async fn spawn(kafka: bool) -> App {
    let mut config = SimulatorConfig::dev(None).unwrap();
    config.payment_seq_start = Some(1);
    let topic = if kafka {
        let brokers = brokers();
        let mut settings = digit_kafka_settings(&brokers);
        let prefix = format!("t{}", uuid_like());
        settings.topic_prefix = Some(prefix.clone());
        config.kafka = Some(settings);
        Some(format!("{prefix}-expense-payment-create"))
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(listener, config).await.unwrap();
    App {
        handle,
        client: reqwest::Client::new(),
        topic,
    }
}

fn digit_kafka_settings(brokers: &str) -> digit_kafka::KafkaSettings {
    digit_kafka::KafkaSettings::new(brokers)
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn request_info() -> Value {
    json!({"apiId": "ifms-adapter", "ver": "1.0", "ts": 1714521600000_i64, "msgId": "m-1",
           "authToken": "t", "userInfo": {"uuid": "adapter-user", "type": "SYSTEM", "tenantId": TENANT}})
}

impl App {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.handle.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.handle.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn bills(&self, criteria: Value, pagination: Value) -> (u16, Value) {
        self.post(
            "/expense/bill/v1/_search",
            json!({"RequestInfo": request_info(), "billCriteria": criteria, "pagination": pagination}),
        )
        .await
    }

    async fn bill(&self, id: &str) -> Value {
        let (_, body) = self
            .bills(
                json!({"tenantId": TENANT, "ids": [id]}),
                json!({"limit": 10, "offSet": 0}),
            )
            .await;
        body["bills"][0].clone()
    }

    async fn create_payment(&self, payment: Value) -> (u16, Value) {
        self.post(
            "/expense/payment/v1/_create",
            json!({"RequestInfo": request_info(), "payment": payment}),
        )
        .await
    }
}

/// The payment PA builds for a bill (spec A1.9 PA).
fn payment_for(bill: &Value) -> Value {
    let details: Vec<Value> = bill["billDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let items: Vec<Value> = d["payableLineItems"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["status"] == "ACTIVE")
                .map(|l| json!({"lineItemId": l["id"], "paidAmount": l["amount"], "tenantId": l["tenantId"]}))
                .collect();
            json!({"billDetailId": d["id"], "tenantId": d["tenantId"], "totalAmount": d["totalAmount"],
                   "totalPaidAmount": d["totalAmount"], "payableLineItems": items})
        })
        .collect();
    json!({"tenantId": bill["tenantId"], "netPayableAmount": bill["totalAmount"],
           "netPaidAmount": bill["totalAmount"],
           "bills": [{"billId": bill["id"], "tenantId": bill["tenantId"], "totalAmount": bill["totalAmount"],
                      "totalPaidAmount": bill["totalAmount"], "billDetails": details}]})
}

fn error_codes(body: &Value) -> Vec<String> {
    assert!(body["ResponseInfo"].is_null(), "{body}");
    body["Errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no Errors in {body}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Reads the topic from the beginning until a record with `key` arrives.
fn read_record(topic: &str, key: &str, timeout: Duration) -> Option<Value> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("reader-{}", uuid_like()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            if m.key() == Some(key.as_bytes()) {
                return serde_json::from_slice(m.payload().unwrap_or_default()).ok();
            }
        }
    }
    None
}

#[tokio::test]
async fn health_answers_up() {
    let app = spawn(false).await;
    assert_eq!(app.get("/health").await, json!({"status": "UP"}));
}

#[tokio::test]
async fn bill_search_filters_pages_and_keeps_exact_amounts() {
    let app = spawn(false).await;
    let (status, all) = app
        .bills(
            json!({"tenantId": TENANT, "isPaymentStatusNull": true}),
            json!({"limit": 100, "offSet": 0}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["ResponseInfo"]["status"], "successful");
    assert_eq!(all["ResponseInfo"]["msgId"], "m-1");
    assert_eq!(all["bills"].as_array().unwrap().len(), 2);
    assert_eq!(all["pagination"]["totalCount"], 2);
    let wage = &all["bills"][0];
    assert_eq!(wage["id"], WAGE_BILL);
    assert_eq!(wage["wfStatus"], "APPROVED");
    assert!(wage["paymentStatus"].is_null());
    assert_eq!(wage["totalAmount"].to_string(), "1000.00");
    assert_eq!(wage["billDetails"][0]["payee"]["type"], "INDIVIDUAL");
    assert_eq!(wage["billDetails"][0]["payee"]["identifier"], INDIVIDUAL);
    let items = &wage["billDetails"][0]["payableLineItems"];
    assert_eq!(items[0]["amount"].to_string(), "949.50");
    assert_eq!(items[1]["headCode"], "LC");
    assert_eq!(items[1]["type"], "DEDUCTION");

    // Paging: limits as doubles (bankaccount-style clients send 1.0) are accepted.
    let (_, second) = app
        .bills(
            json!({"tenantId": TENANT}),
            json!({"limit": 1.0, "offSet": 1}),
        )
        .await;
    assert_eq!(second["bills"].as_array().unwrap().len(), 1);
    assert_eq!(second["bills"][0]["id"], PURCHASE_BILL);
    assert_eq!(second["pagination"]["totalCount"], 2);
    let (_, beyond) = app
        .bills(
            json!({"tenantId": TENANT}),
            json!({"limit": 1, "offSet": 2}),
        )
        .await;
    assert_eq!(beyond["bills"], json!([]));

    let (_, by_number) = app
        .bills(json!({"tenantId": TENANT, "billNumbers": ["PB/2024-25/000001"], "businessService": "EXPENSE.PURCHASE"}), json!({}))
        .await;
    assert_eq!(by_number["bills"][0]["id"], PURCHASE_BILL);
    let (_, state_level) = app.bills(json!({"tenantId": "pg"}), json!({})).await;
    assert_eq!(state_level["bills"].as_array().unwrap().len(), 2);
    let (_, other_city) = app.bills(json!({"tenantId": "pg.cityb"}), json!({})).await;
    assert_eq!(other_city["bills"], json!([]));

    let (status, err) = app.bills(json!({"ids": [WAGE_BILL]}), json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);
    let (status, err) = app
        .post(
            "/expense/bill/v1/_search",
            json!({"billCriteria": {"tenantId": TENANT}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["MissingJsonException"]);
}

#[tokio::test]
async fn payment_create_publishes_marks_the_bill_and_refuses_a_second_payment() {
    let app = spawn(true).await;
    let bill = app.bill(WAGE_BILL).await;
    let (status, created) = app.create_payment(payment_for(&bill)).await;
    assert_eq!(status, 200, "{created}");
    let payment = &created["payments"][0];
    let number = payment["paymentNumber"].as_str().unwrap().to_owned();
    assert!(number.starts_with("EP/CITYA/"), "{number}");
    assert!(number.ends_with("/000001"), "{number}");
    assert_eq!(number.split('/').count(), 6);
    assert_eq!(payment["status"], "INITIATED");
    assert_eq!(payment["referenceStatus"], "PAYMENT_INITIATED");
    assert_eq!(payment["netPayableAmount"].to_string(), "1000.00");
    let pb = &payment["bills"][0];
    assert!(pb["id"].is_string());
    assert_eq!(pb["status"], "INITIATED");
    assert_eq!(pb["billDetails"][0]["status"], "INITIATED");
    let line = &pb["billDetails"][0]["payableLineItems"][0];
    assert!(line["id"].is_string());
    assert_eq!(line["status"], "INITIATED");
    assert_eq!(line["paidAmount"].to_string(), "949.50");
    assert_eq!(payment["auditDetails"]["createdBy"], "adapter-user");

    // Published as upstream expense does: {RequestInfo, payment}, key = payment number.
    let topic = app.topic.clone().unwrap();
    let key = number.clone();
    let record =
        tokio::task::spawn_blocking(move || read_record(&topic, &key, Duration::from_secs(20)))
            .await
            .unwrap()
            .expect("the payment-create record");
    assert_eq!(record["RequestInfo"]["userInfo"]["uuid"], "adapter-user");
    assert_eq!(record["payment"], *payment);
    let state = app.get("/simulator/state").await;
    assert_eq!(state["published"][0]["key"], number.as_str());
    assert_eq!(
        state["published"][0]["topic"],
        app.topic.clone().unwrap().as_str()
    );

    // The bill now has a payment: PA's isPaymentStatusNull search skips it.
    let paid = app.bill(WAGE_BILL).await;
    assert_eq!(paid["paymentStatus"], "INITIATED");
    assert_eq!(paid["totalPaidAmount"].to_string(), "1000.00");
    assert_eq!(paid["billDetails"][0]["paymentStatus"], "INITIATED");
    let (_, unpaid) = app
        .bills(
            json!({"tenantId": TENANT, "isPaymentStatusNull": true}),
            json!({}),
        )
        .await;
    assert_eq!(unpaid["bills"].as_array().unwrap().len(), 1);
    assert_eq!(unpaid["bills"][0]["id"], PURCHASE_BILL);

    // A second payment for the same bill is refused, and nothing is published or stored.
    let (status, err) = app.create_payment(payment_for(&bill)).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["EG_PAYMENT_INVALID_PAYMENT_ERROR"]);
    assert!(err["Errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&number));
    let state = app.get("/simulator/state").await;
    assert_eq!(state["payments"].as_array().unwrap().len(), 1);
    assert_eq!(state["published"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn payment_create_checks_bills_and_amounts_as_expense_does() {
    let app = spawn(false).await;
    let bill = app.bill(PURCHASE_BILL).await;

    let mut twice = payment_for(&bill);
    let b = twice["bills"][0].clone();
    twice["bills"] = json!([b.clone(), b]);
    let (status, err) = app.create_payment(twice).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["EG_PAYMENT_DUPLICATE_BILLS_ERROR"]);

    let mut unknown = payment_for(&bill);
    unknown["bills"][0]["billId"] = json!("no-such-bill");
    let (_, err) = app.create_payment(unknown).await;
    assert_eq!(error_codes(&err), ["EG_PAYMENT_INVALID_BILLS_ERROR"]);

    let mut short = payment_for(&bill);
    short["netPayableAmount"] = json!(2500.74);
    let (_, err) = app.create_payment(short).await;
    assert_eq!(error_codes(&err), ["EG_PAYMENT_INVALID_PAYMENT_ERROR"]);

    let mut wrong_line = payment_for(&bill);
    wrong_line["bills"][0]["billDetails"][0]["payableLineItems"][0]["paidAmount"] = json!(1);
    wrong_line["bills"][0]["billDetails"][0]["payableLineItems"]
        .as_array_mut()
        .unwrap()
        .push(json!({"lineItemId": "nope", "paidAmount": 0, "tenantId": TENANT}));
    let (_, err) = app.create_payment(wrong_line).await;
    assert_eq!(
        error_codes(&err),
        [
            "EG_EXPENSE_PAYMENT_LINEITEM_INVALID_AMOUNT[0]",
            "EG_EXPENSE_PAYMENT_INVALID_LINEITEM[1]"
        ]
    );

    let (_, err) = app.create_payment(json!({"netPayableAmount": 1})).await;
    assert_eq!(error_codes(&err), ["EG_EXPENSE_PAYMENT_INVALID_REQUEST"]);
    let (status, err) = app
        .post(
            "/expense/payment/v1/_create",
            json!({"RequestInfo": request_info()}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["EG_EXPENSE_PAYMENT_INVALID_REQUEST"]);

    // Nothing of that touched the bill.
    assert!(app.bill(PURCHASE_BILL).await["paymentStatus"].is_null());
}

#[tokio::test]
async fn payment_search_and_update_keep_a_status_history() {
    let app = spawn(false).await;
    let bill = app.bill(PURCHASE_BILL).await;
    let (_, created) = app.create_payment(payment_for(&bill)).await;
    let payment = created["payments"][0].clone();
    let number = payment["paymentNumber"].as_str().unwrap();

    let search = |criteria: Value| {
        app.post(
            "/expense/payment/v1/_search",
            json!({"RequestInfo": request_info(), "paymentCriteria": criteria,
                   "pagination": {"limit": 10, "offSet": 0}}),
        )
    };
    let (status, found) = search(json!({"tenantId": TENANT, "paymentNumbers": [number]})).await;
    assert_eq!(status, 200);
    assert_eq!(found["payments"], json!([payment.clone()]));
    let (_, by_id) = search(json!({"tenantId": TENANT, "ids": [payment["id"]]})).await;
    assert_eq!(by_id["payments"][0]["paymentNumber"], number);
    let (_, none) = search(json!({"tenantId": TENANT, "paymentNumbers": ["EP/X"]})).await;
    assert_eq!(none["payments"], json!([]));
    let (status, err) = search(json!({"paymentNumbers": [number]})).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);

    // The adapter's A1.6 step 11: every status to FAILED.
    let mut failed = payment.clone();
    failed["status"] = json!("FAILED");
    failed["referenceStatus"] = json!("PAYMENT_INSUFFICIENT_FUNDS");
    failed["bills"][0]["status"] = json!("FAILED");
    failed["bills"][0]["billDetails"][0]["status"] = json!("FAILED");
    failed["bills"][0]["billDetails"][0]["payableLineItems"][0]["status"] = json!("FAILED");
    let update = |p: Value| {
        app.post(
            "/expense/payment/v1/_update",
            json!({"RequestInfo": request_info(), "payment": p}),
        )
    };
    let (status, updated) = update(failed.clone()).await;
    assert_eq!(status, 200, "{updated}");
    let stored = &updated["payments"][0];
    assert_eq!(stored["status"], "FAILED");
    assert_eq!(stored["referenceStatus"], "PAYMENT_INSUFFICIENT_FUNDS");
    assert_eq!(
        stored["bills"][0]["billDetails"][0]["payableLineItems"][0]["status"],
        "FAILED"
    );
    assert_eq!(stored["netPaidAmount"].to_string(), "2500.75");
    assert_eq!(app.bill(PURCHASE_BILL).await["paymentStatus"], "FAILED");

    // Then a retry moves it to INITIATED.
    let mut initiated = failed.clone();
    initiated["status"] = json!("INITIATED");
    initiated["referenceStatus"] = json!("PAYMENT_INITIATED");
    initiated["bills"][0]["billDetails"][0]["payableLineItems"][0]["status"] = json!("INITIATED");
    update(initiated).await;

    let state = app.get("/simulator/state").await;
    let history: Vec<(String, String, String)> = state["paymentHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
                e["referenceStatus"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (
                "CREATE".into(),
                "INITIATED".into(),
                "PAYMENT_INITIATED".into()
            ),
            (
                "UPDATE".into(),
                "FAILED".into(),
                "PAYMENT_INSUFFICIENT_FUNDS".into()
            ),
            (
                "UPDATE".into(),
                "INITIATED".into(),
                "PAYMENT_INITIATED".into()
            ),
        ]
    );
    assert_eq!(
        state["paymentHistory"][1]["payment"]["bills"][0]["billDetails"][0]["payableLineItems"][0]
            ["status"],
        "FAILED"
    );

    // Error paths.
    let mut no_ref = failed.clone();
    no_ref["referenceStatus"] = Value::Null;
    let (status, err) = update(no_ref).await;
    assert_eq!(status, 400);
    assert_eq!(
        error_codes(&err),
        ["EG_PAYMENT_UPDATE_REFERENCE_STATUS_NOTNULL"]
    );
    let mut no_status = failed.clone();
    no_status["status"] = Value::Null;
    assert_eq!(
        error_codes(&update(no_status).await.1),
        ["EG_PAYMENT_UPDATE_STATUS_NOTNULL"]
    );
    let mut nested = failed.clone();
    nested["bills"][0]["billDetails"][0]["status"] = Value::Null;
    assert_eq!(
        error_codes(&update(nested).await.1),
        ["EG_EXPENSE_PAYMENT_UPDATE_STATUS_NOTNULL"]
    );
    let mut unknown = failed.clone();
    unknown["id"] = json!("no-such-payment");
    assert_eq!(
        error_codes(&update(unknown).await.1),
        ["EG_EXPENSE_PAYMENT_UPDATE_ERROR"]
    );
    let mut no_id = failed;
    no_id["id"] = Value::Null;
    assert_eq!(
        error_codes(&update(no_id).await.1),
        ["EG_EXPENSE_PAYMENT_UPDATE_ERROR"]
    );
}

#[tokio::test]
async fn bank_accounts_individuals_and_organisations_have_upstream_shapes() {
    let app = spawn(false).await;
    let (status, accounts) = app
        .post(
            "/bankaccount-service/bankaccount/v1/_search",
            json!({"RequestInfo": request_info(),
                   "bankAccountDetails": {"tenantId": TENANT, "referenceId": [INDIVIDUAL, ORG, DEDUCTION]},
                   "pagination": {"limit": 3.0, "offSet": 0, "order": "ASC"}}),
        )
        .await;
    assert_eq!(status, 200);
    let list = accounts["bankAccounts"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(accounts["pagination"]["totalCount"], 3);
    let ind = list
        .iter()
        .find(|a| a["referenceId"] == INDIVIDUAL)
        .unwrap();
    assert_eq!(ind["serviceCode"], "IND");
    let detail = &ind["bankAccountDetails"][0];
    assert_eq!(detail["accountHolderName"], "Ramesh Kumar");
    assert_eq!(detail["accountNumber"], "880182873839");
    assert_eq!(detail["accountType"], "SAVINGS");
    assert_eq!(detail["isPrimary"], true);
    assert_eq!(detail["isActive"], true);
    assert_eq!(detail["bankBranchIdentifier"]["type"], "IFSC");
    assert_eq!(detail["bankBranchIdentifier"]["code"], "SBIN0001237");
    assert!(list
        .iter()
        .any(|a| a["referenceId"] == DEDUCTION && a["serviceCode"] == "DEPT"));
    let (_, paged) = app
        .post(
            "/bankaccount-service/bankaccount/v1/_search",
            json!({"RequestInfo": request_info(),
                   "bankAccountDetails": {"tenantId": TENANT, "referenceId": [INDIVIDUAL, ORG, DEDUCTION]},
                   "pagination": {"limit": 2, "offSet": 2}}),
        )
        .await;
    assert_eq!(paged["bankAccounts"].as_array().unwrap().len(), 1);
    let (status, err) = app
        .post(
            "/bankaccount-service/bankaccount/v1/_search",
            json!({"RequestInfo": request_info(), "bankAccountDetails": {"referenceId": [ORG]}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);

    let (status, people) = app
        .post(
            &format!("/individual/v1/_search?tenantId={TENANT}&offset=0&limit=10"),
            json!({"RequestInfo": request_info(), "Individual": {"id": [INDIVIDUAL, "unknown"]}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(people["TotalCount"], 1);
    let person = &people["Individual"][0];
    assert_eq!(person["id"], INDIVIDUAL);
    assert_eq!(person["individualId"], "IND-2024-05-01-000001");
    assert_eq!(person["name"]["givenName"], "Ramesh Kumar");
    assert_eq!(person["mobileNumber"], "9876543210");
    assert_eq!(person["address"][0]["ward"]["code"], "B1");
    assert_eq!(person["address"][0]["locality"]["code"], "SUN01");
    let (status, err) = app
        .post(
            "/individual/v1/_search?offset=0&limit=10",
            json!({"RequestInfo": request_info(), "Individual": {"id": [INDIVIDUAL]}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);

    let (status, orgs) = app
        .post(
            "/org-services/organisation/v1/_search",
            json!({"RequestInfo": request_info(), "SearchCriteria": {"tenantId": TENANT, "id": [ORG]},
                   "Pagination": {"limit": 10, "offSet": 0}}),
        )
        .await;
    assert_eq!(status, 200);
    let org = &orgs["organisations"][0];
    assert_eq!(org["id"], ORG);
    assert_eq!(org["name"], "Shubhang Mahila Samiti");
    assert_eq!(
        org["contactDetails"][0]["contactMobileNumber"],
        "9123456780"
    );
    assert_eq!(org["orgAddress"][0]["boundaryCode"], "SUN01");
    assert_eq!(org["orgAddress"][0]["city"], TENANT);
    let (status, err) = app
        .post(
            "/org-services/organisation/v1/_search",
            json!({"RequestInfo": request_info(), "SearchCriteria": {"id": [ORG]}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);
}

#[tokio::test]
async fn a_bank_account_change_leaves_the_old_values_in_the_audit_log() {
    let app = spawn(false).await;
    let app = &app;
    let audit = |object_id: String| async move {
        let path = format!(
            "/audit-service/log/v1/_search?tenantId={TENANT}&offset=0&limit=1000&objectId={object_id}"
        );
        app.post(&path, json!({"RequestInfo": request_info()}))
            .await
    };
    let account_id = "b0a1c0de-0000-4000-8000-0000000000a1".to_owned();
    let (status, before) = audit(account_id.clone()).await;
    assert_eq!(status, 200);
    let logs = before["AuditLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["entityName"], "eg_bank_account_detail");
    assert_eq!(logs[0]["keyValueMap"]["accountNumber"], "880182873839");
    assert_eq!(logs[1]["entityName"], "eg_bank_branch_identifier");
    assert_eq!(logs[1]["keyValueMap"]["code"], "SBIN0001237");
    assert_eq!(logs[0]["operationType"], "CREATE");
    let created_at = logs[0]["changeDate"].as_i64().unwrap();

    let (status, changed) = app
        .post(
            "/simulator/bankaccounts/_change",
            json!({"referenceId": INDIVIDUAL, "accountNumber": "112233445566", "ifsc": "HDFC0000999"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["bankAccount"]["bankAccountDetails"][0]["accountNumber"],
        "112233445566"
    );
    assert_eq!(changed["auditLogs"].as_array().unwrap().len(), 2);

    // The current account is the new one …
    let (_, accounts) = app
        .post(
            "/bankaccount-service/bankaccount/v1/_search",
            json!({"RequestInfo": request_info(),
                   "bankAccountDetails": {"tenantId": TENANT, "referenceId": [INDIVIDUAL]}}),
        )
        .await;
    let detail = &accounts["bankAccounts"][0]["bankAccountDetails"][0];
    assert_eq!(detail["accountNumber"], "112233445566");
    assert_eq!(detail["bankBranchIdentifier"]["code"], "HDFC0000999");

    // … and the audit log answers "what was it at time T" the way AuditLogUtils asks:
    // newest entry of the entity with changeDate <= T.
    let (_, after) = audit(account_id).await;
    let logs = after["AuditLogs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 4);
    let value_at = |entity: &str, key: &str, t: i64| -> String {
        let mut of: Vec<&Value> = logs
            .iter()
            .filter(|l| l["entityName"] == entity && l["changeDate"].as_i64().unwrap() <= t)
            .collect();
        of.sort_by_key(|l| std::cmp::Reverse(l["changeDate"].as_i64().unwrap()));
        of[0]["keyValueMap"][key].as_str().unwrap().to_owned()
    };
    let now = chrono_now();
    assert_eq!(
        value_at("eg_bank_account_detail", "accountNumber", created_at),
        "880182873839"
    );
    assert_eq!(
        value_at("eg_bank_branch_identifier", "code", created_at),
        "SBIN0001237"
    );
    assert_eq!(
        value_at("eg_bank_account_detail", "accountNumber", now),
        "112233445566"
    );
    assert_eq!(
        value_at("eg_bank_branch_identifier", "code", now),
        "HDFC0000999"
    );
    assert!(logs.iter().any(|l| l["operationType"] == "UPDATE"));

    // Error paths.
    let (status, err) = app
        .post(
            "/simulator/bankaccounts/_change",
            json!({"referenceId": "nobody", "ifsc": "X"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["SIMULATOR_BANK_ACCOUNT_NOT_FOUND"]);
    let (status, err) = app
        .post(
            "/audit-service/log/v1/_search?objectId=x",
            json!({"RequestInfo": request_info()}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["INVALID_SEARCH_CRITERIA"]);
}

fn chrono_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
async fn admin_adds_bills_replaces_fixtures_and_resets() {
    let app = spawn(false).await;
    // Parsed from text so 100.10 keeps its scale (json! would go through f64).
    let body: Value = serde_json::from_str(&format!(
        r#"{{"bills": [{{
            "tenantId": "{TENANT}", "businessService": "EXPENSE.PURCHASE", "referenceId": "WO/2024-25/000099",
            "payer": {{"type": "DEPARTMENT", "identifier": "RURALMINISTRY-MUKTHA"}},
            "billDetails": [{{
                "payee": {{"type": "ORG", "identifier": "{ORG}"}},
                "lineItems": [{{"headCode": "MC", "amount": 100.10, "type": "PAYABLE"}}],
                "payableLineItems": [{{"headCode": "MC", "amount": 100.10, "type": "PAYABLE"}}]
            }}]
        }}]}}"#
    ))
    .unwrap();
    let (status, added) = app.post("/simulator/bills", body).await;
    assert_eq!(status, 200, "{added}");
    let bill = &added["bills"][0];
    let id = bill["id"].as_str().unwrap().to_owned();
    assert_eq!(bill["wfStatus"], "APPROVED");
    assert_eq!(bill["status"], "ACTIVE");
    assert!(bill["paymentStatus"].is_null());
    assert!(bill["billNumber"].as_str().unwrap().starts_with("PB/"));
    assert_eq!(bill["totalAmount"].to_string(), "100.10");
    assert_eq!(bill["billDetails"][0]["billId"], id.as_str());
    assert!(bill["billDetails"][0]["payableLineItems"][0]["id"].is_string());

    // PA can pay it.
    let (_, unpaid) = app
        .bills(
            json!({"tenantId": TENANT, "isPaymentStatusNull": true}),
            json!({}),
        )
        .await;
    assert_eq!(unpaid["bills"].as_array().unwrap().len(), 3);
    let (status, created) = app.create_payment(payment_for(&app.bill(&id).await)).await;
    assert_eq!(status, 200, "{created}");

    let (status, err) = app.post("/simulator/bills", json!("not a bill")).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["SIMULATOR_INVALID_REQUEST"]);

    // Reset: back to the shipped fixtures, payments forgotten.
    app.post("/simulator/state/_reset", json!({})).await;
    let state = app.get("/simulator/state").await;
    assert_eq!(state["bills"].as_array().unwrap().len(), 2);
    assert_eq!(state["payments"], json!([]));
    assert_eq!(state["paymentHistory"], json!([]));

    // Replace: only what was posted.
    let mut fixtures = app.get("/simulator/fixtures").await;
    fixtures["bills"] = json!([fixtures["bills"][1].clone()]);
    let (status, _) = app.post("/simulator/fixtures", fixtures).await;
    assert_eq!(status, 200);
    let (_, only) = app.bills(json!({"tenantId": TENANT}), json!({})).await;
    assert_eq!(only["bills"].as_array().unwrap().len(), 1);
    assert_eq!(only["bills"][0]["id"], PURCHASE_BILL);
    // Add: merged by id.
    let (status, _) = app
        .post(
            "/simulator/fixtures/_add",
            json!({"individuals": [{"id": "new-person", "tenantId": TENANT, "name": {"givenName": "Asha"}}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, people) = app
        .post(
            &format!("/individual/v1/_search?tenantId={TENANT}&offset=0&limit=10"),
            json!({"RequestInfo": request_info(), "Individual": {"id": ["new-person", INDIVIDUAL]}}),
        )
        .await;
    assert_eq!(people["TotalCount"], 2);
    let (status, err) = app.post("/simulator/fixtures", json!({"bills": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&err), ["SIMULATOR_INVALID_REQUEST"]);
}

#[tokio::test]
async fn concurrent_creates_for_one_bill_make_one_payment() {
    let app = std::sync::Arc::new(spawn(false).await);
    let bill = app.bill(WAGE_BILL).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        let body = payment_for(&bill);
        tasks.push(tokio::spawn(
            async move { app.create_payment(body).await.0 },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.handle.store().payments.len(), 1);
}

#[tokio::test]
async fn on_disburse_callbacks_are_recorded_and_one_without_an_id_is_refused() {
    let app = spawn(false).await;
    let message =
        json!({"id": "D-1", "target_id": "PAY/1", "status": {"status_code": "INITIATED"}});
    let (status, _) = app
        .post(
            "/mukta-ifix-adapter/v1/on-disburse/_create",
            json!({"signature": null, "header": {"message_type": "on-disburse"}, "message": message}),
        )
        .await;
    assert_eq!(status, 200);
    let updated =
        json!({"id": "D-1", "target_id": "PAY/1", "status": {"status_code": "SUCCESSFUL"}});
    let (status, _) = app
        .post(
            "/mukta-ifix-adapter/v1/on-disburse/_update",
            json!({"header": {}, "message": updated}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app
        .post(
            "/mukta-ifix-adapter/v1/on-disburse/_create",
            json!({"header": {}, "message": {"target_id": "PAY/2"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&body), ["SIMULATOR_INVALID_DISBURSEMENT"]);

    let state = app.get("/simulator/state").await;
    assert_eq!(state["disburseCallbacksReceived"], 2);
    let seen: Vec<(&str, &str)> = state["disburseCallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap(),
                c["statusCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("create", "INITIATED"), ("update", "SUCCESSFUL")]);
    assert_eq!(state["disburseCallbacks"][0]["targetId"], "PAY/1");
}
