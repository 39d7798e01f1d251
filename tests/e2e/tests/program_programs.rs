//! Programs (spec §1.8): create on the owning side (program code from idgen, `on-program`
//! reply through the outbox) and on the sending side (forward `program`), update and the
//! on-program replies echoing the client's status, searches with every criterion and
//! paging, every program rule code (header, binding and 403 cases: `program_smoke`), and
//! a redelivered message answering its stored result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::program::{envelope, other_id, own_id, ProgramStack, OWN_EXCHANGE};
use program::domain::model::{Envelope, Program, RequestHeader};
use serde_json::{json, Value};

const LOC: &str = "pg.citya";
const EXCHANGE: &str = "http://127.0.0.1:8084/digit-exchange/v1/exchange/";

fn program(name: &str) -> Value {
    json!({
        "location_code": LOC, "name": name, "description": "Roads and drains",
        "start_date": 1672531200, "end_date": 1704067200,
        "function_code": "OT-GEN-ECO-SVC", "administration_code": "MU-UD-CUTTACK",
        "currency_code": "INR", "additional_details": {"scheme": "x"}
    })
}

/// An outbox row: (kind, topic, url, payload JSON, headers JSON).
type Row = (String, Option<String>, Option<String>, Value, Value);

/// Outbox rows in id order.
async fn outbox(stack: &ProgramStack) -> Vec<Row> {
    type Raw = (String, Option<String>, Option<String>, Vec<u8>, Value);
    let rows: Vec<Raw> = sqlx::query_as(
        "SELECT kind, topic, http_url, payload, headers FROM digit_outbox ORDER BY id",
    )
    .fetch_all(stack.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(k, t, u, p, h)| (k, t, u, serde_json::from_slice(&p).unwrap(), h))
        .collect()
}

fn http_rows(rows: &[Row]) -> Vec<(String, Value, Value)> {
    rows.iter()
        .filter(|r| r.0 == "http")
        .map(|r| (r.2.clone().unwrap(), r.3.clone(), r.4.clone()))
        .collect()
}

fn status_message(out: &Value) -> String {
    assert_eq!(out["message"]["status"]["status_code"], "ERROR", "{out}");
    out["message"]["status"]["status_message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates a program on the owning side (sender: the other installation).
async fn owned(stack: &ProgramStack, name: &str) -> Value {
    let body = envelope("program", "create", &other_id(), &own_id(), program(name));
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    out["message"].clone()
}

#[tokio::test]
async fn owner_generates_the_code_and_replies_through_the_outbox() {
    let stack = ProgramStack::start().await;
    let body = envelope(
        "program",
        "create",
        &other_id(),
        &own_id(),
        program("Roads"),
    );
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    let m = &out["message"];
    let id = m["id"].as_str().unwrap();
    let code = m["program_code"].as_str().unwrap();
    assert!(
        code.starts_with("PROG/") && code.ends_with("/PG_CITYA/00001"),
        "{code}"
    );
    assert_eq!(m["status"]["status_code"], "ACTIVE");
    assert_eq!(m["type"], "program");
    assert_eq!(m["audit_details"]["createdBy"], other_id());
    assert!(m["children"].is_null() && m.get("locale_code").is_some());
    // The answer shows the reply's header, as upstream's in-place updateUri.
    let h = &out["header"];
    assert_eq!(h["message_id"], id);
    assert_eq!(h["message_type"], "on-program");
    assert_eq!(h["receiver_id"], other_id());
    assert_eq!(h["sender_id"], format!("program@{OWN_EXCHANGE}"));
    assert_eq!(out["signature"], "sig");

    let rows = outbox(&stack).await;
    let http = http_rows(&rows);
    assert_eq!(http.len(), 1, "{rows:?}");
    let (url, payload, headers) = &http[0];
    assert_eq!(url, &format!("{EXCHANGE}on-program"));
    assert_eq!(payload["signature"], "sig");
    assert_eq!(payload["header"]["message_type"], "on-program");
    let inner: Value = serde_json::from_str(
        payload["message"]
            .as_str()
            .expect("message is a JSON string"),
    )
    .unwrap();
    assert_eq!(inner["program_code"], code);
    assert!(
        !headers
            .to_string()
            .to_ascii_lowercase()
            .contains("authorization"),
        "{headers}"
    );
    let events: Vec<_> = rows.iter().filter(|r| r.0 == "kafka").collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].1.as_deref(),
        Some(format!("ifix-program-events-{}", stack.tag).as_str())
    );
    assert_eq!(events[0].3["event_type"], "CREATED");
    assert_eq!(events[0].3["program"]["id"], id);
}

#[tokio::test]
async fn sender_side_forwards_with_its_header_and_a_token() {
    let stack = ProgramStack::start_with(&[("PROGRAM_OUTBOUND_TOKEN", "tok-1")]).await;
    let mut msg = program("Drains");
    msg["id"] = json!("c0ffee00-0000-4000-8000-000000000001");
    let body = envelope("program", "create", &own_id(), &other_id(), msg);
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["message"]["id"], "c0ffee00-0000-4000-8000-000000000001");
    assert!(out["message"]["program_code"].is_null());
    assert_eq!(out["header"]["message_type"], "program");
    assert_eq!(out["header"]["receiver_id"], other_id());
    assert_eq!(
        out["header"]["message_id"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    let http = http_rows(&outbox(&stack).await);
    assert_eq!(http.len(), 1);
    assert_eq!(http[0].0, format!("{EXCHANGE}program"));
    assert_eq!(http[0].1["header"]["sender_id"], own_id());
    assert!(http[0].1["message"].is_string());
    assert!(
        http[0].2.to_string().contains("Bearer tok-1"),
        "{}",
        http[0].2
    );
}

#[tokio::test]
async fn update_and_replies_echo_the_status_and_searches_find_every_status() {
    let stack = ProgramStack::start().await;
    let created = owned(&stack, "Water").await;
    let id = created["id"].as_str().unwrap();
    let code = created["program_code"].as_str().unwrap();

    // program/_update from the client (sender other) with INITIATED.
    let mut msg = created.clone();
    msg["status"] = json!({"status_code": "INITIATED", "status_message": "INITIATED"});
    msg["description"] = json!("Water supply");
    let body = envelope("program", "update", &other_id(), &own_id(), msg);
    let (status, out) = stack.admin("/program/_update", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["message"]["status"]["status_code"], "INITIATED");
    assert_eq!(out["message"]["description"], "Water supply");
    assert_eq!(out["header"]["message_type"], "on-program");
    assert_eq!(
        out["message"]["audit_details"]["createdTime"],
        created["audit_details"]["createdTime"]
    );

    // on-program/_create and _update (the owner's reply arriving at the client: here).
    for (action, st) in [
        ("create", "APPROVED"),
        ("update", "INPROCESS"),
        ("update", "SUCCESSFUL"),
    ] {
        let mut msg = created.clone();
        msg["status"] = json!({"status_code": st, "status_message": st});
        let body = envelope("on-program", action, &other_id(), &own_id(), msg);
        let (status, out) = stack.admin(&format!("/on-program/_{action}"), &body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["message"]["status"]["status_code"], st, "{out}");
        assert_eq!(out["header"]["message_type"], "on-program");
    }

    // A search without status still finds it (no silent ACTIVE filter).
    let search = |m: Value| envelope("program", "search", &other_id(), &other_id(), m);
    let (status, out) = stack
        .admin("/program/_search", &search(json!({"location_code": LOC})))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["programs"][0]["id"], id);
    assert_eq!(out["programs"][0]["status"]["status_code"], "SUCCESSFUL");
    assert_eq!(out["programs"][0]["description"], "Roads and drains");
    assert_eq!(out["programs"][0]["program_code"], code);
    assert_eq!(out["programs"][0]["function_code"], "OT-GEN-ECO-SVC");
    assert_eq!(out["programs"][0]["additional_details"]["scheme"], "x");
    assert_eq!(out["pagination"]["total_count"], 1);
    assert_eq!(out["header"]["message_type"], "program");
    for criteria in [
        json!({"location_code": LOC, "ids": [id]}),
        json!({"location_code": LOC, "program_code": code}),
        json!({"location_code": LOC, "name": "Water"}),
        json!({"location_code": LOC, "status": "SUCCESSFUL"}),
    ] {
        let (_, out) = stack
            .admin("/program/_search", &search(criteria.clone()))
            .await;
        assert_eq!(
            out["programs"].as_array().unwrap().len(),
            1,
            "{criteria} {out}"
        );
    }
    for criteria in [
        json!({"location_code": LOC, "status": "ACTIVE"}),
        json!({"location_code": "pg.cityb"}),
        json!({"location_code": LOC, "name": "Other"}),
        json!({"location_code": LOC, "parent_id": "nope"}),
    ] {
        let (_, out) = stack
            .admin("/program/_search", &search(criteria.clone()))
            .await;
        assert_eq!(
            out["programs"].as_array().unwrap().len(),
            0,
            "{criteria} {out}"
        );
    }
}

#[tokio::test]
async fn search_pages_in_whitelisted_order_with_total_count() {
    let stack = ProgramStack::start().await;
    let parent = owned(&stack, "Parent").await;
    let parent_id = parent["id"].as_str().unwrap().to_owned();
    let mut names = Vec::new();
    for i in 0..5 {
        let mut msg = program(&format!("Child {i}"));
        msg["parent_id"] = json!(parent_id);
        let body = envelope("program", "create", &other_id(), &own_id(), msg);
        let (status, out) = stack.admin("/program/_create", &body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["message"]["status"]["status_code"], "ACTIVE", "{out}");
        names.push(format!("Child {i}"));
    }
    let search = |p: Value| {
        envelope(
            "program",
            "SEARCH",
            &other_id(),
            &other_id(),
            json!({"location_code": LOC, "parent_id": parent_id, "pagination": p}),
        )
    };
    let (status, out) = stack
        .admin(
            "/program/_search",
            &search(json!({"limit": 2, "offset": 1, "sort_by": "name", "sort_order": "ASC"})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let got: Vec<_> = out["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, names[1..3]);
    assert_eq!(
        out["pagination"],
        json!({"limit": 2, "offset": 1, "total_count": 5, "sort_by": "name", "sort_order": "ASC"})
    );
    // An unknown sort column falls back to last_modified_time (never raw SQL); beyond the
    // last page the total is still known; limits are capped.
    let (status, out) = stack
        .admin(
            "/program/_search",
            &search(json!({"sort_by": "name; DROP TABLE eg_program", "offset": 10, "limit": 1000})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["programs"].as_array().unwrap().len(), 0);
    assert_eq!(out["pagination"]["total_count"], 5);
    assert_eq!(out["pagination"]["limit"], 100);
    assert_eq!(out["pagination"]["sort_by"], "last_modified_time");
    let (_, out) = stack
        .admin(
            "/program/_search",
            &search(json!({"sort_by": "id", "sort_order": "DESC"})),
        )
        .await;
    let ids: Vec<_> = out["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn program_rule_codes() {
    let stack = ProgramStack::start().await;
    let created = owned(&stack, "Base").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let before = outbox(&stack).await.len();

    // Create on the owning side: the error goes back to the (other-domain) sender.
    let mut msg = program("Bad dates");
    msg["start_date"] = json!(1810852664);
    let body = envelope("program", "create", &other_id(), &own_id(), msg);
    let (status, out) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        status_message(&out),
        "DATES_ERROR StartDate should be less than endDate"
    );
    assert_eq!(out["header"]["message_type"], "on-program");
    let rows = outbox(&stack).await;
    assert_eq!(rows.len(), before + 1, "only the error reply, no event");
    let (url, payload, _) = http_rows(&rows[before..]).remove(0);
    assert_eq!(url, format!("{EXCHANGE}on-program"));
    let inner: Value = serde_json::from_str(payload["message"].as_str().unwrap()).unwrap();
    assert_eq!(inner["status"]["status_code"], "ERROR");

    let cases: Vec<(&str, Value, &str, String)> = vec![
        (
            "/program/_create",
            {
                let mut m = program("Orphan");
                m["parent_id"] = json!("missing-parent");
                m
            },
            "create",
            "PROGRAM_PARENT_ID_NOT_FOUND Program not found for ParentId: missing-parent".into(),
        ),
        (
            "/program/_create",
            {
                let mut m = program("Twin");
                m["id"] = json!(id);
                m
            },
            "create",
            format!("PROGRAM_FOUND_FOR_CREATE Program already present for id: {id}"),
        ),
        (
            "/program/_update",
            {
                let mut m = created.clone();
                m["id"] = Value::Null;
                m
            },
            "update",
            "PROGRAM_ID_ERROR programId should not be empty for update".into(),
        ),
        (
            "/program/_update",
            {
                let mut m = created.clone();
                m["id"] = json!("no-such-program");
                m
            },
            "update",
            "PROGRAM_NOT_FOUND Program not found for id: no-such-program".into(),
        ),
        (
            "/program/_update",
            {
                let mut m = created.clone();
                m["program_code"] = Value::Null;
                m
            },
            "update",
            "PROGRAM_CODE_ERROR programCode should not be empty".into(),
        ),
    ];
    for (path, msg, action, expected) in cases {
        let body = envelope("program", action, &other_id(), &own_id(), msg);
        let (status, out) = stack.admin(path, &body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(status_message(&out), expected);
    }

    // Replies: ERROR in the answer only.
    let before = outbox(&stack).await.len();
    let mut msg = created.clone();
    msg["program_code"] = Value::Null;
    msg["status"] = json!({"status_code": "APPROVED"});
    let body = envelope("on-program", "create", &other_id(), &own_id(), msg);
    let (_, out) = stack.admin("/on-program/_create", &body).await;
    assert_eq!(
        status_message(&out),
        "PROGRAM_CODE_ERROR programCode should not be empty"
    );
    // Not APPROVED: the code may be absent (the stored one is kept).
    let mut msg = created.clone();
    msg["program_code"] = Value::Null;
    msg["status"] = json!({"status_code": "INITIATED"});
    let body = envelope("on-program", "create", &other_id(), &own_id(), msg);
    let (_, out) = stack.admin("/on-program/_create", &body).await;
    assert_eq!(
        out["message"]["status"]["status_code"], "INITIATED",
        "{out}"
    );
    assert_eq!(out["message"]["program_code"], created["program_code"]);
    // A reply addressed to another installation than the MDMS MUKTA host.
    let body = envelope(
        "on-program",
        "update",
        &own_id(),
        &other_id(),
        created.clone(),
    );
    let (_, out) = stack.admin("/on-program/_update", &body).await;
    assert_eq!(
        status_message(&out),
        "RECEIVER_ID_CLIENT_HOST_URL_ERROR ReceiverId should be same as client host url"
    );
    assert_eq!(out["header"]["message_type"], "on-program");
    let events = outbox(&stack).await.len() - before;
    assert_eq!(
        events, 1,
        "only the INITIATED reply was committed (its event)"
    );
}

#[tokio::test]
async fn idgen_error_when_the_location_has_no_format() {
    let stack = ProgramStack::start_with(&[("PROGRAM_OPEN_ACCESS", "true")]).await;
    let mut msg = program("Nowhere");
    msg["location_code"] = json!("zz.nowhere");
    let body = envelope("program", "create", &other_id(), &own_id(), msg);
    let (status, out) = stack.post("/program/_create", None, &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        status_message(&out),
        "IDGEN_ERROR No ids returned from IdGen Service"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_program")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn start_date_error_reaches_internal_callers() {
    // Bean validation rejects start_date 0 over HTTP (Min.…startDate); upstream's async
    // consumer — and any internal caller — reaches the rule.
    let stack = ProgramStack::start().await;
    let service = service_of(&stack).await;
    let mut msg = program("No start");
    msg["start_date"] = json!(0);
    let env = Envelope {
        signature: None,
        header: header("program", "create", &other_id(), &own_id()),
        message: serde_json::from_value::<Program>(msg.clone()).unwrap(),
    };
    let caller = program::service::Caller::default();
    let out = service.create_program(&caller, env, msg).await.unwrap();
    assert_eq!(
        status_message(&out),
        "START_DATE_ERROR StartDate should not be empty"
    );
}

fn header(t: &str, a: &str, sender: &str, receiver: &str) -> RequestHeader {
    RequestHeader {
        message_id: uuid::Uuid::new_v4().to_string(),
        message_ts: 0,
        message_type: program::domain::model::MessageType::parse(t).unwrap(),
        action: program::domain::model::Action::parse(a).unwrap(),
        sender_id: sender.into(),
        sender_uri: None,
        receiver_id: receiver.into(),
        is_msg_encrypted: false,
    }
}

async fn service_of(stack: &ProgramStack) -> program::service::ProgramService {
    program::service(&stack.platform).await.unwrap()
}

#[tokio::test]
async fn a_redelivered_create_answers_the_stored_result() {
    let stack = ProgramStack::start().await;
    let body = envelope("program", "create", &other_id(), &own_id(), program("Once"));
    let (_, first) = stack.admin("/program/_create", &body).await;
    let (status, second) = stack.admin("/program/_create", &body).await;
    assert_eq!(status, 200);
    assert_eq!(first, second);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM eg_program")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(http_rows(&outbox(&stack).await).len(), 1);
    // The same message id with other content is another message.
    let mut other = body.clone();
    other["message"]["name"] = json!("Twice");
    let (_, third) = stack.admin("/program/_create", &other).await;
    assert_ne!(third["message"]["id"], first["message"]["id"]);
}

#[tokio::test]
async fn the_owners_on_program_stores_the_code_on_the_sending_side() {
    // This installation created the program (forwarded, no code); the owner's reply
    // carries the code it generated.
    let stack = ProgramStack::start().await;
    let body = envelope("program", "create", &own_id(), &other_id(), program("Mine"));
    let (_, out) = stack.admin("/program/_create", &body).await;
    let mut reply = out["message"].clone();
    assert!(reply["program_code"].is_null());
    reply["program_code"] = json!("PROG/2023-24/PG.CITYA/00001");
    reply["status"] = json!({"status_code": "APPROVED", "status_message": "APPROVED"});
    let body = envelope(
        "on-program",
        "create",
        &other_id(),
        &own_id(),
        reply.clone(),
    );
    let (status, out) = stack.admin("/on-program/_create", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["message"]["status"]["status_code"], "APPROVED");
    let search = envelope(
        "program",
        "search",
        &own_id(),
        &own_id(),
        json!({"location_code": LOC, "program_code": "PROG/2023-24/PG.CITYA/00001"}),
    );
    let (_, found) = stack.admin("/program/_search", &search).await;
    assert_eq!(found["programs"][0]["id"], reply["id"], "{found}");
    assert_eq!(found["programs"][0]["status"]["status_code"], "APPROVED");
    // A reply here does not travel further (the receiver is this installation).
    let http: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM digit_outbox WHERE kind = 'http' AND http_url LIKE '%on-program'",
    )
    .fetch_one(stack.db.pool())
    .await
    .unwrap();
    assert_eq!(http, 0);
    // Another program of the location cannot take the same code.
    let body = envelope(
        "program",
        "create",
        &own_id(),
        &other_id(),
        program("Other"),
    );
    let (_, out) = stack.admin("/program/_create", &body).await;
    let mut clash = out["message"].clone();
    clash["program_code"] = json!("PROG/2023-24/PG.CITYA/00001");
    let body = envelope("on-program", "create", &other_id(), &own_id(), clash);
    let (status, out) = stack.admin("/on-program/_create", &body).await;
    assert_eq!(status, 400, "{out}");
    assert_eq!(out["Errors"][0]["code"], "DUPLICATE_PROGRAM_CODE");
}
