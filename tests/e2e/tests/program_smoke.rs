//! The program service starts through its production wiring and refuses an unauthenticated
//! call; header errors are HTTP 400 with upstream's codes.

use digit_e2e::program::{envelope, other_id, own_id, ProgramStack};
use serde_json::json;

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
