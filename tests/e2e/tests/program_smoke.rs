//! The program service starts through its production wiring and refuses an unauthenticated
//! call; header errors are HTTP 400 with upstream's codes, binding errors with Spring's
//! codes; a viewer may search but not write, and only at its roles' tenant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use digit_e2e::program::{
    envelope, exchange_identity, other_id, own_id, program_admin, viewer, ProgramStack,
};
use serde_json::{json, Value};

const LOC: &str = "pg.citya";

fn program(name: &str) -> Value {
    json!({"location_code": LOC, "name": name, "start_date": 1672531200, "end_date": 1704067200})
}

#[tokio::test]
async fn starts_and_checks_headers() {
    let stack = ProgramStack::start().await;
    let body = envelope(
        "program",
        "create",
        &other_id(),
        &other_id(),
        json!({"location_code": "pg.citya", "name": "P1", "start_date": 1}),
    );
    let (status, _) = stack.post("/program/_create", None, &body).await;
    assert_eq!(status, 401);
    let (status, out) = stack.admin("/program/_search", &json!({})).await;
    assert_eq!(status, 400, "{out}");
    assert_eq!(
        out["Errors"][0]["code"],
        "NotNull.programSearchRequest.header"
    );
    let _ = own_id();
}

#[tokio::test]
async fn header_and_binding_errors_are_400() {
    let stack = ProgramStack::start().await;
    let cases = [
        (
            envelope("program", "create", &own_id(), &own_id(), program("PP")),
            "RECEIVER_ID_SENDER_ID_ERROR",
        ),
        (
            envelope("program", "create", &own_id(), "no-at-sign", program("PP")),
            "RECEIVER_ID_ERROR",
        ),
        (
            envelope("program", "create", "no-at-sign", &own_id(), program("PP")),
            "SENDER_ID_ERROR",
        ),
        (
            envelope("program", "update", &other_id(), &own_id(), program("PP")),
            "ACTION_ERROR",
        ),
        (
            envelope(
                "on-program",
                "create",
                &other_id(),
                &own_id(),
                program("PP"),
            ),
            "MESSAGE_TYPE_ERROR",
        ),
        (
            envelope(
                "program",
                "create",
                &other_id(),
                &own_id(),
                json!({"name": "PP", "start_date": 1}),
            ),
            "NotNull.programRequest.program.locationCode",
        ),
        (
            envelope(
                "program",
                "create",
                &other_id(),
                &own_id(),
                json!({"location_code": LOC, "name": "PP"}),
            ),
            "Min.programRequest.program.startDate",
        ),
    ];
    for (body, code) in cases {
        let (status, out) = stack.admin("/program/_create", &body).await;
        assert_eq!(status, 400, "{code}: {out}");
        assert_eq!(out["Errors"][0]["code"], code, "{out}");
    }
    // Searches may have sender = receiver; the type must still match.
    let body = envelope(
        "sanction",
        "search",
        &own_id(),
        &own_id(),
        json!({"location_code": LOC}),
    );
    let (status, out) = stack.admin("/program/_search", &body).await;
    assert_eq!(status, 400);
    assert_eq!(out["Errors"][0]["code"], "MESSAGE_TYPE_ERROR");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM digit_outbox")
        .fetch_one(stack.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_viewer_may_search_but_not_write() {
    let stack = ProgramStack::start().await;
    let body = envelope("program", "create", &other_id(), &own_id(), program("PP"));
    let (status, out) = stack.post("/program/_create", Some(&viewer()), &body).await;
    assert_eq!(status, 403, "{out}");
    let (status, _) = stack
        .post("/program/_create", Some(&exchange_identity()), &body)
        .await;
    assert_eq!(status, 200);
    let body = envelope(
        "program",
        "search",
        &other_id(),
        &other_id(),
        json!({"location_code": LOC}),
    );
    let (status, out) = stack.post("/program/_search", Some(&viewer()), &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["programs"].as_array().unwrap().len(), 1);
    // Another location than the roles' tenant is forbidden.
    let body = envelope(
        "program",
        "search",
        &other_id(),
        &other_id(),
        json!({"location_code": "od.cuttack"}),
    );
    let (status, _) = stack
        .post("/program/_search", Some(&program_admin()), &body)
        .await;
    assert_eq!(status, 403);
}
