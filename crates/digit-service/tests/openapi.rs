//! The generated OpenAPI document: request bodies, query parameters, the 202 of `Accepted`,
//! the DIGIT error envelope and the bearer scheme come from the handlers' types, and the
//! document and its page are served open beside gated routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::Json;
use digit_core::RequestInfo;
use digit_service::openapi::{document, post_with};
use digit_service::{Accepted, ApiError, ApiRouter, DigitJson, QueryCriteria};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ThingRequest {
    #[serde(rename = "RequestInfo")]
    #[allow(dead_code)]
    request_info: RequestInfo,
    #[allow(dead_code)]
    name: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ThingResponse {
    id: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", default)]
struct ThingCriteria {
    #[allow(dead_code)]
    tenant_id: Option<String>,
    #[allow(dead_code)]
    limit: Option<i64>,
}

async fn create(
    State(()): State<()>,
    DigitJson(_): DigitJson<ThingRequest>,
) -> Result<Accepted<Json<ThingResponse>>, ApiError> {
    Ok(Accepted(Json(ThingResponse { id: "1".into() })))
}

async fn search(
    QueryCriteria(_): QueryCriteria<ThingCriteria>,
    DigitJson(_): DigitJson<ThingRequest>,
) -> Result<Json<ThingResponse>, ApiError> {
    Ok(Json(ThingResponse { id: "1".into() }))
}

fn documented() -> digit_service::Documented {
    let routes = ApiRouter::new()
        .api_route(
            "/thing/v1/_create",
            post_with(create, |o| o.tag("Things").summary("Create")),
        )
        .api_route(
            "/thing/v1/_search",
            post_with(search, |o| o.summary("Search")),
        )
        .with_state(());
    document("Things", "Test API.", &["/thing", "/thing-alias"], routes)
}

async fn get(app: axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let response = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, body.to_vec())
}

#[test]
fn document_describes_bodies_parameters_statuses_and_security() {
    let doc = serde_json::to_value(documented().document.as_ref()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Things");
    let create = &doc["paths"]["/thing/v1/_create"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ThingRequest"
    );
    assert_eq!(create["requestBody"]["required"], true);
    let responses = create["responses"].as_object().unwrap();
    for status in ["202", "400", "401", "403", "413", "415", "default"] {
        assert!(responses.contains_key(status), "{status}: {responses:?}");
    }
    assert!(
        !responses.contains_key("200"),
        "an Accepted answer is only 202"
    );
    assert_eq!(
        create["responses"]["202"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ThingResponse"
    );
    assert_eq!(
        create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorResponse"
    );
    let search = &doc["paths"]["/thing/v1/_search"]["post"];
    assert!(search["responses"].get("200").is_some());
    let names: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["in"], "query");
            p["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["tenantId", "limit"]);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "ThingRequest",
        "ThingResponse",
        "RequestInfo",
        "ErrorResponse",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearerAuth"], Value::Array(vec![]));
}

#[tokio::test]
async fn document_and_page_are_served_at_every_context_outside_the_gate() {
    let documented = documented();
    let expected = serde_json::to_value(documented.document.as_ref()).unwrap();
    // A gate that refuses everything: the document routes must not be behind it.
    let app = documented.protected(|routes| {
        routes.layer(axum::middleware::from_fn(
            |_: Request<Body>, _: axum::middleware::Next| async {
                axum::response::IntoResponse::into_response(ApiError::invalid_token())
            },
        ))
    });
    for context in ["/thing", "/thing-alias"] {
        let (status, content_type, body) =
            get(app.clone(), &format!("{context}/openapi.json")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/json");
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), expected);
        let (status, content_type, body) = get(app.clone(), &format!("{context}/docs")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let page = String::from_utf8(body).unwrap();
        assert!(page.contains("SwaggerUIBundle"));
        assert!(page.contains(&format!("{context}/openapi.json")));
        // The UI's script and styles are inline: nothing is fetched from elsewhere.
        assert!(!page.contains("<script src") && !page.contains("<link "));
    }
    // …while the business routes are.
    let response = app
        .oneshot(
            Request::post("/thing/v1/_search")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"RequestInfo":{},"name":"x"}"#))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
