//! One exchange on the real broker and Postgres, delivering to a stand-in local service:
//! an upstream peer's message (upstream's own test vector and signature) reaches the local
//! service as an object with the exchange's bearer token; the Kafka wrapper and the
//! event-log record have upstream's shapes; the edge refuses unknown types, bad
//! envelopes, unauthenticated local senders, forged signatures and unknown senders.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use digit_e2e::exchange::{
    envelope, program_message, program_service, signed, topic_records, ExchangeStack, LocalService,
};
use digit_e2e::user;
use serde_json::{json, Value};
use std::time::Duration;

/// An upstream installation (its public sample key 1 is upstream's `app.auth.public-key`).
const UPSTREAM: &str = "https://unified-dev.digit.org/mukta/digit-exchange";

/// §2.4's test vector: the message and upstream's signature of it with sample key 1.
const VECTOR_MESSAGE: &str = r#"{"location_code":"pg.citya","name":"Test 1","start_date":0,"end_date":0,"client_host_url":"https://unified-dev.digit.org","function_code":"string","administration_code":"string","recipient_segment_code":"string","economic_segment_code":"string","source_of_fund_code":"string","target_segment_code":"string","currency_code":"string","locale_code":"string","status":{"status_code":"RECEIVED","status_message":"string"}}"#;
const VECTOR_SIGNATURE: &str = "TgE1hcA2E+YPMdPGz4vveKQpR0x+pgzRTlet52qh63Kekr71vWWScXqaRFtQW64uRFZGBUhHYYZQ2y6LffwnNOOQhhssaThhqVBhXNEwX9i75SNYXi5XSJVDYzSyHrhF20HW6RE9mAVWdc80i7d+FXlh+b/U+fnj+SrZ2s6Xd0WUZvU29LgqeUpyznlWLu1mDdJxNZavsDLWmxjTnknqBjDvwSc35WhFDhXDA2lWmm8YpZ1Y6TBmvvtVS7mAOTnhFy9sdCbrLcfXk5QWIsdzlvPqlkvdwEf30OZ6ewb680Aj3hO2OT5LCv7iLyz7C7srnB9lJT5gXiw+eSnktPXlDA==";

const WAIT: Duration = Duration::from_secs(30);

async fn stack() -> (ExchangeStack, LocalService) {
    let local = LocalService::start().await;
    let stack = ExchangeStack::start(2, &local.base_url, &[]).await;
    let (_, upstream_public) = digit_e2e::exchange::sample_key(1);
    stack.register(UPSTREAM, &upstream_public, false).await;
    (stack, local)
}

fn upstream_message(stack: &ExchangeStack, message_type: &str) -> Value {
    let mut body = envelope(
        message_type,
        "create",
        &format!("program@{UPSTREAM}"),
        &stack.program_id(),
        &json!({}),
    );
    body["message"] = Value::String(VECTOR_MESSAGE.into());
    body["signature"] = Value::String(VECTOR_SIGNATURE.into());
    // Upstream's header: message_ts in seconds, as in its Postman collection.
    body["header"]["message_ts"] = json!(1708428280);
    body
}

#[tokio::test]
async fn an_upstream_peers_message_reaches_the_local_service_as_an_object_with_the_token() {
    let (stack, local) = stack().await;
    let body = upstream_message(&stack, "program");
    let id = body["header"]["message_id"].as_str().unwrap().to_owned();
    let (status, echo) = stack.post_http("program", &body).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo, body, "the 200 echo is {{signature, header, message}}");

    let got = local.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.path, "/program-service/v1/program/_create");
    let expected_token = format!("Bearer {}", stack.outbound_token);
    assert_eq!(r.authorization.as_deref(), Some(expected_token.as_str()));
    assert_eq!(r.body["signature"], VECTOR_SIGNATURE);
    assert_eq!(r.body["header"], body["header"]);
    let vector: Value = serde_json::from_str(VECTOR_MESSAGE).unwrap();
    assert_eq!(r.body["message"], vector, "message as a JSON object");

    // The Kafka wrapper: {"type", "message"} keyed by receiver_id (per-receiver order).
    let topic = stack.topic("exchange-topic");
    let wanted = id.clone();
    let wrappers = topic_records(
        &topic,
        1,
        move |v| v["message"]["header"]["message_id"] == wanted.as_str(),
        WAIT,
    )
    .await;
    assert_eq!(wrappers.len(), 1);
    assert_eq!(
        wrappers[0].key.as_deref(),
        body["header"]["receiver_id"].as_str()
    );
    assert_eq!(
        wrappers[0].value,
        json!({"type": "program", "message": body})
    );

    // The event record: upstream's JsonMessage, message parsed.
    let wanted = id.clone();
    let events = topic_records(
        &stack.topic("exchange-event-log-queue"),
        1,
        move |v| v["header"]["message_id"] == wanted.as_str(),
        WAIT,
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].value,
        json!({"signature": VECTOR_SIGNATURE, "header": body["header"], "message": vector})
    );
    let keys: Vec<&String> = events[0].value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["signature", "header", "message"]);
}

#[tokio::test]
async fn types_are_case_insensitive_and_unknown_types_are_400() {
    let (stack, local) = stack().await;
    let body = upstream_message(&stack, "on-program");
    let (status, _) = stack.post("ON-Program", None, &body).await;
    assert_eq!(status, 200);
    let got = local.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/program-service/v1/on-program/_create");

    for as_user in [None, Some(program_service())] {
        let (status, answer) = stack.post("estimate", as_user.as_ref(), &body).await;
        assert_eq!(status, 400);
        assert_eq!(answer["Errors"][0]["code"], "INVALID_EXCHANGE_TYPE");
        assert_eq!(answer["ResponseInfo"], Value::Null);
    }
}

#[tokio::test]
async fn malformed_envelopes_are_digit_400s() {
    let (stack, _local) = stack().await;
    let mut body = upstream_message(&stack, "program");
    body.as_object_mut().unwrap().remove("header");
    let (status, answer) = stack.post("program", None, &body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["Errors"][0]["code"], "NotNull.requestMessage.header");

    let mut body = upstream_message(&stack, "program");
    body.as_object_mut().unwrap().remove("message");
    let (status, answer) = stack.post("program", None, &body).await;
    assert_eq!(
        (status.as_u16(), answer["Errors"][0]["code"].clone()),
        (400, json!("NotNull.requestMessage.message"))
    );

    let mut body = upstream_message(&stack, "program");
    body["message"] = json!("not JSON");
    let (status, answer) = stack.post("program", None, &body).await;
    assert_eq!(
        (status.as_u16(), answer["Errors"][0]["code"].clone()),
        (400, json!("INVALID_MESSAGE"))
    );

    let mut body = upstream_message(&stack, "program");
    body["message"] = serde_json::from_str(VECTOR_MESSAGE).unwrap();
    let (status, answer) = stack.post("program", None, &body).await;
    assert_eq!(
        (status.as_u16(), answer["Errors"][0]["code"].clone()),
        (400, json!("JsonMappingException"))
    );
}

#[tokio::test]
async fn local_senders_need_a_token_with_a_sender_role() {
    let (stack, local) = stack().await;
    let body = envelope(
        "program",
        "create",
        &stack.program_id(),
        &format!("program@{UPSTREAM}"),
        &program_message("P"),
    );
    let (status, answer) = stack.post("program", None, &body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["Errors"][0]["code"], "InvalidAccessTokenException");
    let viewer = user(
        "66666666-6666-4666-8666-000000000009",
        digit_core::UserType::Employee,
        &[("IFIX_VIEWER", "pg")],
    );
    let (status, _) = stack.post("program", Some(&viewer), &body).await;
    assert_eq!(status, 403);

    // A local receiver whose service has no endpoint: refused at the edge.
    let body = envelope(
        "program",
        "create",
        &stack.program_id(),
        &format!("billing@{}", stack.host_url),
        &program_message("P"),
    );
    let (status, answer) = stack.post("program", Some(&program_service()), &body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["Errors"][0]["code"], "UNKNOWN_RECEIVER");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(local.received().is_empty());
}

#[tokio::test]
async fn forged_signatures_and_unknown_senders_are_refused_and_nothing_is_delivered() {
    let (stack, local) = stack().await;
    // Upstream's signature over another message.
    let mut body = upstream_message(&stack, "program");
    body["message"] = Value::String(VECTOR_MESSAGE.replace("Test 1", "Test 2"));
    let (status, answer) = stack.post_http("program", &body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(
        answer,
        json!({"ResponseInfo": null, "Errors": [{"code": "INVALID_SIGNATURE",
        "message": "Signature is not valid", "description": null, "params": null}]})
    );

    // Signed with a key the registry does not hold for that sender.
    let (other_private, _) = digit_e2e::exchange::sample_key(2);
    let body = signed(&upstream_message(&stack, "program"), &other_private, true);
    let (status, answer) = stack.post_http("program", &body).await;
    assert_eq!(status, 401, "{answer}");

    // No signature at all.
    let mut body = upstream_message(&stack, "program");
    body["signature"] = Value::Null;
    let (status, _) = stack.post_http("program", &body).await;
    assert_eq!(status, 401);

    // A sender whose exchange is not registered.
    let mut body = upstream_message(&stack, "program");
    body["header"]["sender_id"] = json!("program@https://unknown.example.org/digit-exchange");
    let (status, answer) = stack.post_http("program", &body).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["Errors"][0]["code"], "UNKNOWN_SENDER");

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(local.received().is_empty(), "nothing delivered");
}

#[tokio::test]
async fn an_unreadable_wrapper_goes_to_the_error_queue_and_the_consumer_moves_on() {
    let (stack, local) = stack().await;
    let producer = digit_kafka::Producer::new(&digit_e2e::kafka()).unwrap();
    producer
        .send_raw(
            &stack.topic("exchange-topic"),
            Some("junk-1"),
            b"{not json",
            &[],
        )
        .await
        .unwrap();
    let records = topic_records(
        &stack.topic("exchange-error-queue"),
        1,
        |v| v.is_null(),
        WAIT,
    )
    .await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some("junk-1"));
    assert!(records[0]
        .header("x-exchange-error")
        .unwrap()
        .starts_with("INVALID_WRAPPER"));
    // The next message is delivered.
    let (status, _) = stack
        .post_http("program", &upstream_message(&stack, "program"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(local.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn with_validation_off_as_upstream_an_unsigned_message_from_anyone_is_delivered() {
    let local = LocalService::start().await;
    let stack =
        ExchangeStack::start(2, &local.base_url, &[("APP_AUTH_SIGN_VALIDATION", "false")]).await;
    let body = envelope(
        "on-disburse",
        "update",
        "program@https://unknown.example.org/digit-exchange",
        &stack.program_id(),
        &program_message("P"),
    );
    let (status, answer) = stack.post_http("on-disburse", &body).await;
    assert_eq!(status, 200, "{answer}");
    let got = local.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/program-service/v1/on-disburse/_update");
}
