//! Two exchanges (own databases, topics and keys, each registered in the other's registry
//! through the registry API as a `seal_required` peer) on the real broker and Postgres,
//! talking over HTTP: A signs and seals, B verifies and delivers to its local service;
//! replies travel back; forged, tampered and replayed messages are refused and nothing is
//! delivered; a receiver that is down is retried and then answered with the §2.7 error
//! reply — signed by the exchange that generates it, so the other side accepts it;
//! `is_msg_encrypted` messages cross in ciphertext.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use digit_e2e::exchange::{
    envelope, program_message, program_service, signed, topic_records, ExchangeStack, LocalService,
};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

struct Two {
    a: ExchangeStack,
    b: ExchangeStack,
    la: LocalService,
    lb: LocalService,
}

/// A on the default context path, B on upstream's treasury path `/ifms/digit-exchange`.
async fn two(settings: &[(&str, &str)]) -> Two {
    let la = LocalService::start().await;
    let lb = LocalService::start().await;
    let a = ExchangeStack::start(1, &la.base_url, settings).await;
    let mut b_settings = settings.to_vec();
    b_settings.push(("SERVER_CONTEXT_PATH", "/ifms/digit-exchange"));
    let b = ExchangeStack::start(2, &lb.base_url, &b_settings).await;
    a.trust(&b, true).await;
    b.trust(&a, true).await;
    Two { a, b, la, lb }
}

fn error_status(message: &str) -> Value {
    json!({"status_code": "ERROR", "status_message": message})
}

#[tokio::test]
async fn a_signs_b_verifies_and_delivers_locally_and_the_reply_comes_back() {
    let t = two(&[]).await;
    let program = program_message("Rural roads");
    let body = envelope(
        "program",
        "create",
        &t.a.program_id(),
        &t.b.program_id(),
        &program,
    );
    let (status, echo) = t.a.post("program", Some(&program_service()), &body).await;
    assert_eq!(status, 200, "{echo}");

    let got = t.lb.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "delivered once on B's side");
    let r = &got[0];
    assert_eq!(r.path, "/program-service/v1/program/_create");
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {}", t.b.outbound_token).as_str())
    );
    assert_eq!(r.body["message"], program, "the message as an object");
    assert_eq!(r.body["header"]["sender_id"], t.a.program_id().as_str());
    assert_eq!(r.body["header"]["receiver_id"], t.b.program_id().as_str());
    assert_eq!(r.body["header"]["message_id"], body["header"]["message_id"]);
    // A's signature over the message string (upstream's algorithm) came along.
    let signature = r.body["signature"].as_str().unwrap();
    digit_exchange::security::verify(
        &t.a.public_pem,
        body["message"].as_str().unwrap(),
        signature,
    )
    .unwrap();
    assert!(t.la.received().is_empty());
    assert!(t.b.host_url.ends_with("/ifms/digit-exchange"));

    // B's program answers on-program; A delivers it to its program service.
    let mut reply_msg = program.clone();
    reply_msg["program_code"] = json!("PG/2024-25/000001");
    let reply = envelope(
        "on-program",
        "create",
        &t.b.program_id(),
        &t.a.program_id(),
        &reply_msg,
    );
    let (status, _) =
        t.b.post("on-program", Some(&program_service()), &reply)
            .await;
    assert_eq!(status, 200);
    let got = t.la.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/program-service/v1/on-program/_create");
    assert_eq!(got[0].body["message"]["program_code"], "PG/2024-25/000001");

    let metrics = t.a.metrics().await;
    for line in [
        r#"exchange_messages_total{event="accepted_local",service="digit-exchange"} 1"#,
        r#"exchange_messages_total{event="accepted_remote",service="digit-exchange"} 1"#,
        r#"exchange_messages_total{event="delivered",service="digit-exchange"} 2"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[tokio::test]
async fn forged_and_tampered_messages_are_refused_and_nothing_is_delivered() {
    let t = two(&[]).await;
    let fresh = || {
        envelope(
            "program",
            "create",
            &t.a.program_id(),
            &t.b.program_id(),
            &program_message("P"),
        )
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "message changed after signing",
            {
                let mut v = signed(&fresh(), &t.a.private_pem, true);
                v["message"] = Value::String(program_message("Q").to_string());
                v
            },
            "INVALID_SIGNATURE",
        ),
        (
            "signed with another key",
            signed(&fresh(), &t.b.private_pem, true),
            "INVALID_SIGNATURE",
        ),
        ("no signature", fresh(), "INVALID_SIGNATURE"),
        (
            "action changed after sealing",
            {
                let mut v = signed(&fresh(), &t.a.private_pem, true);
                v["header"]["action"] = json!("update");
                v
            },
            "INVALID_SEAL",
        ),
        (
            "receiver changed after sealing",
            {
                let mut v = signed(&fresh(), &t.a.private_pem, true);
                v["header"]["receiver_id"] = json!(format!("adapter@{}", t.b.host_url));
                v
            },
            "INVALID_SEAL",
        ),
        (
            "no seal from a seal_required peer",
            signed(&fresh(), &t.a.private_pem, false),
            "INVALID_SEAL",
        ),
    ];
    for (what, body, code) in cases {
        let (status, answer) = t.b.post_http("program", &body).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["Errors"][0]["code"], code, "{what}");
        assert_eq!(answer["ResponseInfo"], Value::Null);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(t.lb.received().is_empty(), "nothing delivered");
}

#[tokio::test]
async fn a_replayed_message_is_409_and_delivered_once() {
    let t = two(&[]).await;
    let body = signed(
        &envelope(
            "program",
            "create",
            &t.a.program_id(),
            &t.b.program_id(),
            &program_message("P"),
        ),
        &t.a.private_pem,
        true,
    );
    let (status, _) = t.b.post_http("program", &body).await;
    assert_eq!(status, 200);
    let (status, answer) = t.b.post_http("program", &body).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["Errors"][0]["code"], "REPLAYED_MESSAGE");

    // A message_ts outside the window (sealed, so it cannot be refreshed in transit).
    let mut old = envelope(
        "program",
        "create",
        &t.a.program_id(),
        &t.b.program_id(),
        &program_message("P"),
    );
    old["header"]["message_ts"] = json!(digit_core::time::now_ms() - 3_600_000);
    let (status, answer) =
        t.b.post_http("program", &signed(&old, &t.a.private_pem, true))
            .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["Errors"][0]["code"], "REPLAYED_MESSAGE");

    let got = t.lb.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(t.lb.received().len(), 1, "delivered once: {got:?}");
}

#[tokio::test]
async fn a_remote_exchange_that_is_down_is_retried_then_the_sender_gets_an_error_reply() {
    // The "remote exchange" is a stand-in answering 503, so the attempts can be counted.
    let remote = LocalService::start().await;
    remote.answer(503);
    let remote_host = remote
        .base_url
        .trim_end_matches("/program-service/v1/")
        .to_owned()
        + "/treasury";
    let la = LocalService::start().await;
    let a = ExchangeStack::start(1, &la.base_url, &[("EXCHANGE_DELIVERY_ATTEMPTS", "3")]).await;
    let program = program_message("Rural roads");
    let body = envelope(
        "program",
        "create",
        &a.program_id(),
        &format!("program@{remote_host}"),
        &program,
    );
    let (status, _) = a.post("program", Some(&program_service()), &body).await;
    assert_eq!(status, 200);

    let got = la.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "the error reply reached the local sender");
    let attempts = remote.received();
    assert_eq!(attempts.len(), 3, "three attempts at the remote exchange");
    for attempt in &attempts {
        assert_eq!(attempt.path, "/treasury/v1/exchange/program");
        assert!(
            attempt.body["message"].is_string(),
            "message as a string between exchanges"
        );
        assert!(attempt.body["signature"].is_string() && attempt.body["seal"].is_string());
        assert_eq!(
            attempt.body["header"]["message_id"],
            body["header"]["message_id"]
        );
    }
    let r = &got[0];
    assert_eq!(r.path, "/program-service/v1/on-program/_create");
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {}", a.outbound_token).as_str())
    );
    let h = &r.body["header"];
    assert_eq!(h["message_type"], "on-program");
    assert_eq!(h["action"], "create");
    assert_eq!(h["sender_id"], format!("program@{remote_host}").as_str());
    assert_eq!(h["receiver_id"], a.program_id().as_str());
    let status = error_status("EXTERANL_SERVICE_ERROR HTTP 503 Service Unavailable");
    assert_eq!(r.body["message"]["status"], status);
    assert_eq!(
        r.body["message"]["children"][0]["status"], status,
        "children too"
    );
    assert_eq!(r.body["message"]["name"], "Rural roads");
}

#[tokio::test]
async fn a_local_service_that_is_down_gets_the_error_reply_back_signed_by_the_receiving_exchange() {
    let t = two(&[("EXCHANGE_DELIVERY_ATTEMPTS", "3")]).await;
    t.lb.answer(503);
    let body = envelope(
        "disburse",
        "create",
        &t.a.program_id(),
        &t.b.program_id(),
        &program_message("P"),
    );
    let (status, _) = t.a.post("disburse", Some(&program_service()), &body).await;
    assert_eq!(status, 200);

    // B retried its program service, then sent on-disburse back, signed and sealed by B;
    // A verified it (B is seal_required at A) and delivered it.
    let got = t.la.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "the error reply came back through A");
    assert_eq!(
        t.lb.received().len(),
        3,
        "three attempts at B's program service"
    );
    let r = &got[0];
    assert_eq!(r.path, "/program-service/v1/on-disburse/_create");
    assert_eq!(r.body["header"]["sender_id"], t.b.program_id().as_str());
    assert_eq!(r.body["header"]["receiver_id"], t.a.program_id().as_str());
    assert_eq!(
        r.body["message"]["status"],
        error_status("EXTERANL_SERVICE_ERROR HTTP 503 Service Unavailable")
    );
    // The reply's signature is B's.
    let text = r.body["message"].to_string();
    let reparsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reparsed, r.body["message"]);
    let wanted = r.body["header"]["message_id"].as_str().unwrap().to_owned();
    let events = topic_records(
        &t.a.topic("exchange-event-log-queue"),
        1,
        move |v| {
            v["header"]["message_id"] == wanted.as_str()
                && v["header"]["message_type"] == "on-disburse"
        },
        WAIT,
    )
    .await;
    assert_eq!(events.len(), 1, "A recorded the reply it received");
}

#[tokio::test]
async fn encrypted_messages_cross_in_ciphertext_and_arrive_in_clear() {
    let t = two(&[]).await;
    let disbursement = json!({
        "id": "D-1", "location_code": "pg.citya", "program_code": "PG/1", "target_id": "T-1",
        "net_amount": 100.25, "gross_amount": 100.25,
        "status": {"status_code": "INITIATED", "status_message": null},
        "children": [{"id": "D-1-1", "target_id": "T-2", "net_amount": 100.25, "gross_amount": 100.25,
            "account_code": "XYZ1230987@SBI000007",
            "individual": {"name": "Asha Kumari", "email": null, "phone": "9999912345", "address": "Ward 4"}}]
    });
    let mut body = envelope(
        "disburse",
        "create",
        &t.a.program_id(),
        &t.b.program_id(),
        &disbursement,
    );
    body["header"]["is_msg_encrypted"] = json!(true);
    let (status, _) = t.a.post("disburse", Some(&program_service()), &body).await;
    assert_eq!(status, 200);

    let got = t.lb.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.body["header"]["is_msg_encrypted"], false);
    let expected: Value = serde_json::from_str(body["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        r.body["message"], expected,
        "in clear for the local service"
    );

    let id = body["header"]["message_id"].as_str().unwrap().to_owned();
    for (stack, topic) in [
        (&t.a, "exchange-event-log-queue"),
        (&t.b, "exchange-event-log-queue"),
        (&t.b, "exchange-topic"),
    ] {
        let wanted = id.clone();
        let records = topic_records(
            &stack.topic(topic),
            1,
            move |v| {
                v["header"]["message_id"] == wanted.as_str()
                    || v["message"]["header"]["message_id"] == wanted.as_str()
            },
            WAIT,
        )
        .await;
        assert_eq!(records.len(), 1, "{topic}");
        let text = records[0].value.to_string();
        for secret in ["Asha Kumari", "9999912345", "XYZ1230987"] {
            assert!(!text.contains(secret), "{topic} holds {secret}");
        }
    }
    let wanted = id.clone();
    let event = topic_records(
        &t.b.topic("exchange-event-log-queue"),
        1,
        move |v| v["header"]["message_id"] == wanted.as_str(),
        WAIT,
    )
    .await;
    let m = &event[0].value["message"];
    assert_eq!(
        m["alg"], "RSA-OAEP-256+A256GCM",
        "the envelope, parsed: {m}"
    );
    assert!(m["ct"].is_string() && m["key"].is_string() && m["iv"].is_string());
}

#[tokio::test]
async fn a_reply_that_cannot_be_delivered_goes_to_the_error_queue() {
    let t = two(&[]).await;
    t.la.answer(400);
    let reply = envelope(
        "on-program",
        "create",
        &t.b.program_id(),
        &t.a.program_id(),
        &program_message("P"),
    );
    let (status, _) =
        t.b.post("on-program", Some(&program_service()), &reply)
            .await;
    assert_eq!(status, 200);
    let id = reply["header"]["message_id"].as_str().unwrap().to_owned();
    let wanted = id.clone();
    let records = topic_records(
        &t.a.topic("exchange-error-queue"),
        1,
        move |v| v["message"]["header"]["message_id"] == wanted.as_str(),
        WAIT,
    )
    .await;
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.value["type"], "on-program");
    assert_eq!(r.key.as_deref(), Some(id.as_str()));
    assert_eq!(
        r.header("x-exchange-error"),
        Some("EXTERANL_SERVICE_ERROR HTTP 400 Bad Request")
    );
    assert_eq!(t.la.received().len(), 1, "a 4xx is not retried");
    assert!(t.lb.received().is_empty(), "no error reply for a reply");
}

#[tokio::test]
async fn a_remote_exchange_that_refuses_connections_gets_the_same_treatment() {
    let dead = digit_e2e::exchange::dead_url().await;
    let la = LocalService::start().await;
    let a = ExchangeStack::start(1, &la.base_url, &[("EXCHANGE_DELIVERY_ATTEMPTS", "2")]).await;
    let body = envelope(
        "sanction",
        "update",
        &a.program_id(),
        &format!("program@{dead}"),
        &program_message("S"),
    );
    let (status, _) = a.post("sanction", Some(&program_service()), &body).await;
    assert_eq!(status, 200);
    let got = la.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/program-service/v1/on-sanction/_update");
    assert_eq!(
        got[0].body["message"]["status"],
        error_status("EXTERANL_SERVICE_ERROR Connection refused or unreachable")
    );
}

#[tokio::test]
async fn a_wrapper_handled_twice_reaches_the_other_side_once() {
    // At-least-once: a crash after the POST but before the offset commit hands the same
    // wrapper to the consumer again. The origin seals it afresh (new message_ts); the
    // receiving exchange answers 409 "received before", which counts as delivered — no
    // second delivery, no error reply.
    let t = two(&[]).await;
    let body = envelope(
        "program",
        "create",
        &t.a.program_id(),
        &t.b.program_id(),
        &program_message("P"),
    );
    let wrapper = digit_exchange::domain::model::Wrapper {
        exchange_type: digit_exchange::domain::model::ExchangeType::Program,
        message: digit_exchange::api::envelope::parse_message(&body).unwrap(),
    };
    let registry = digit_exchange::registry::Registry::new(t.a.db.pool().clone(), Duration::ZERO);
    let service = digit_exchange::service(&t.a.platform, registry).unwrap();
    service.dispatch(&wrapper, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    service.dispatch(&wrapper, None).await.unwrap();
    let got = t.lb.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(t.lb.received().len(), 1, "delivered once");
    assert!(t.la.received().is_empty(), "no error reply");
}

#[tokio::test]
async fn many_messages_at_once_are_each_delivered_once() {
    let t = two(&[]).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let body = envelope(
            "disburse",
            "create",
            &t.a.program_id(),
            &t.b.program_id(),
            &program_message(&format!("P{i}")),
        );
        ids.push(body["header"]["message_id"].as_str().unwrap().to_owned());
        let (status, _) = t.a.post("disburse", Some(&program_service()), &body).await;
        assert_eq!(status, 200);
    }
    let got = t.lb.wait_for(30, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(t.lb.received().len(), 30, "{} delivered", got.len());
    let mut seen: Vec<String> =
        t.lb.received()
            .iter()
            .map(|r| r.body["header"]["message_id"].as_str().unwrap().to_owned())
            .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "each once");
    assert!(t.la.received().is_empty());
}
