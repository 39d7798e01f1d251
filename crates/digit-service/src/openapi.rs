//! OpenAPI documents generated from the handlers' own types, so they cannot drift.
//!
//! A service builds its routes as an [`ApiRouter`] (`api_route(path, post_with(handler, …))`);
//! the request, query and response schemas come from the extractor and return types
//! (`DigitJson<T>`, `QueryCriteria<T>`, `Json<T>`, [`Accepted<T>`], `ApiError`) through
//! `schemars`. [`document`] finishes the router into the axum routes plus an OpenAPI 3.1
//! document served, without a token, at `<context>/openapi.json` with a Swagger UI page at
//! `<context>/docs` (assets compiled into the binary; nothing fetched at run time).

use crate::error::ApiError;
use crate::extract::DigitJson;
use crate::query::QueryCriteria;
use aide::generate::GenContext;
use aide::openapi::{
    Components, Info, MediaType, OpenApi, Operation, ReferenceOr, RequestBody, Response,
    SchemaObject, SecurityRequirement, SecurityScheme,
};
use aide::operation::{add_parameters, parameters_from_schema, set_body, ParamLocation};
use aide::{OperationInput, OperationOutput};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use digit_core::ErrorResponse;
use indexmap::IndexMap;
use schemars::JsonSchema;
use std::sync::Arc;

pub use aide::axum::routing::{get_with, post_with, put_with};
pub use aide::axum::ApiRouter;
pub use aide::transform::TransformOperation;

/// Name of the bearer-token security scheme in every document.
pub const BEARER: &str = "bearerAuth";

/// A `202 Accepted` answer with body `T` (the contract's status for writes that are
/// persisted asynchronously).
#[derive(Debug, Clone)]
pub struct Accepted<T>(pub T);

impl<T: IntoResponse> IntoResponse for Accepted<T> {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::ACCEPTED, self.0).into_response()
    }
}

impl<T: OperationOutput> OperationOutput for Accepted<T> {
    type Inner = T::Inner;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<Response> {
        T::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        T::operation_response(ctx, operation)
            .map(|r| vec![(Some(202), r)])
            .unwrap_or_default()
    }
}

/// The DIGIT error envelope as a response of `status` described by `description`.
fn error_response(ctx: &mut GenContext, description: &str) -> Response {
    let json_schema = ctx.schema.subschema_for::<ErrorResponse>();
    Response {
        description: description.to_owned(),
        content: IndexMap::from_iter([(
            "application/json".into(),
            MediaType {
                schema: Some(SchemaObject {
                    json_schema,
                    example: None,
                    external_docs: None,
                }),
                ..Default::default()
            },
        )]),
        ..Default::default()
    }
}

impl OperationOutput for ApiError {
    type Inner = ErrorResponse;

    fn operation_response(ctx: &mut GenContext, _: &mut Operation) -> Option<Response> {
        Some(error_response(ctx, "Error in the DIGIT envelope"))
    }

    fn inferred_responses(ctx: &mut GenContext, _: &mut Operation) -> Vec<(Option<u16>, Response)> {
        vec![
            (
                Some(400),
                error_response(ctx, "Invalid request: validation or body errors"),
            ),
            (
                Some(401),
                error_response(ctx, "Missing, invalid or expired access token"),
            ),
            (
                Some(403),
                error_response(
                    ctx,
                    "The user's roles do not grant this action for the tenant",
                ),
            ),
            (
                None,
                error_response(
                    ctx,
                    "Any other error (404, 409, 413, 415, 429, 5xx) in the DIGIT envelope",
                ),
            ),
        ]
    }
}

impl<T: JsonSchema> OperationInput for DigitJson<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let json_schema = ctx.schema.subschema_for::<T>();
        set_body(
            ctx,
            operation,
            RequestBody {
                description: Some("JSON body with the `RequestInfo` envelope".into()),
                content: IndexMap::from_iter([(
                    "application/json".into(),
                    MediaType {
                        schema: Some(SchemaObject {
                            json_schema,
                            example: None,
                            external_docs: None,
                        }),
                        ..Default::default()
                    },
                )]),
                required: true,
                extensions: IndexMap::default(),
            },
        );
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        vec![
            (
                Some(400),
                error_response(ctx, "Body missing, not JSON, or a field of the wrong type"),
            ),
            (Some(413), error_response(ctx, "Body larger than the limit")),
            (
                Some(415),
                error_response(ctx, "Content type is not application/json"),
            ),
        ]
    }
}

impl<T: JsonSchema> OperationInput for QueryCriteria<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let schema = ctx.schema.subschema_for::<T>();
        let params = parameters_from_schema(ctx, schema, ParamLocation::Query);
        add_parameters(ctx, operation, params);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        vec![(
            Some(400),
            error_response(ctx, "A query parameter of the wrong type"),
        )]
    }
}

/// A finished router: the business routes (to put behind the gate) and the open document
/// routes.
#[derive(Debug)]
pub struct Documented {
    /// The routes as built, without the document routes.
    pub routes: Router,
    /// `GET <context>/openapi.json` and `GET <context>/docs`, open (no token).
    pub docs: Router,
    /// The generated document.
    pub document: Arc<OpenApi>,
}

impl Documented {
    /// `routes` behind `protect` merged with the open document routes.
    pub fn protected(self, protect: impl FnOnce(Router) -> Router) -> Router {
        protect(self.routes).merge(self.docs)
    }

    /// The routes and the document routes, ungated (tests; APIs with no gate in front).
    pub fn into_router(self) -> Router {
        self.routes.merge(self.docs)
    }
}

/// Finishes `routes` into the document titled `title` (with `description` as its summary),
/// served at `<context>/openapi.json` and `<context>/docs` for each of `contexts` (the API's
/// context paths, e.g. `["/sor-rates"]`; the first names the committed copy).
///
/// Call right after building `routes`: aide keeps the schemas of routes under construction
/// in a per-thread generator that this call drains.
pub fn document(
    title: &str,
    description: &str,
    contexts: &[&str],
    routes: ApiRouter,
) -> Documented {
    let mut api = OpenApi {
        info: Info {
            title: title.to_owned(),
            description: Some(description.to_owned()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Info::default()
        },
        ..OpenApi::default()
    };
    aide::generate::infer_responses(true);
    let routes = routes.finish_api(&mut api);
    api.openapi = "3.1.0".into();
    let components = api.components.get_or_insert_with(Components::default);
    components.security_schemes.insert(
        BEARER.to_owned(),
        ReferenceOr::Item(SecurityScheme::Http {
            scheme: "bearer".into(),
            bearer_format: Some("JWT".into()),
            description: Some(
                "A token from `/user/oauth/token`, sent as `Authorization: Bearer …` or as \
                 `RequestInfo.authToken` in the body (DIGIT's convention). Open endpoints \
                 ignore it."
                    .into(),
            ),
            extensions: IndexMap::default(),
        }),
    );
    let mut requirement = SecurityRequirement::new();
    requirement.insert(BEARER.to_owned(), Vec::new());
    api.security = vec![requirement];
    let document = Arc::new(api);
    // Serialized once; a failure would be a bug in the document types, served as an empty
    // body after logging rather than taking the service down.
    let json = bytes::Bytes::from(serde_json::to_vec_pretty(document.as_ref()).unwrap_or_else(
        |e| {
            tracing::error!(error = %e, "OpenAPI document does not serialize.");
            Vec::new()
        },
    ));
    let mut docs = Router::new();
    for context in contexts {
        let json = json.clone();
        let page = bytes::Bytes::from(
            aide::swagger::Swagger::new(format!("{context}/openapi.json"))
                .with_title(title)
                .html(),
        );
        docs = docs
            .route(
                &format!("{context}/openapi.json"),
                get(move || {
                    let json = json.clone();
                    async move { ([(CONTENT_TYPE, "application/json")], json) }
                }),
            )
            .route(
                &format!("{context}/docs"),
                get(move || {
                    let page = page.clone();
                    async move { ([(CONTENT_TYPE, "text/html; charset=utf-8")], page) }
                }),
            );
    }
    Documented {
        routes,
        docs,
        document,
    }
}

/// Documents the request body as JSON of type `T` (`required` or not), replacing what the
/// extractor set: for handlers that read raw bytes (aide would say octet-stream).
pub fn json_request_body<'t, T: JsonSchema>(
    mut op: TransformOperation<'t>,
    description: &str,
    required: bool,
) -> TransformOperation<'t> {
    let json_schema = aide::generate::in_context(|ctx| ctx.schema.subschema_for::<T>());
    op.inner_mut().request_body = Some(ReferenceOr::Item(RequestBody {
        description: Some(description.to_owned()),
        content: IndexMap::from_iter([(
            "application/json".into(),
            MediaType {
                schema: Some(SchemaObject {
                    json_schema,
                    example: None,
                    external_docs: None,
                }),
                ..Default::default()
            },
        )]),
        required,
        extensions: IndexMap::default(),
    }));
    op
}

/// Documents the request body as *optional* JSON of type `T`, for handlers that read the raw
/// bytes because an empty body is allowed.
pub fn optional_json_body<T: JsonSchema>(op: TransformOperation<'_>) -> TransformOperation<'_> {
    json_request_body::<T>(
        op,
        "Optional JSON body (a `RequestInfo`, bare or wrapped)",
        false,
    )
}

/// Adds `json` (the text of a request the tests send) as the example of the operation's JSON
/// request body. Call after the body is set (the handler's extractor sets it first).
/// Text that is not JSON is a programmer error: logged, and the example left out.
pub fn body_example<'t>(mut op: TransformOperation<'t>, json: &str) -> TransformOperation<'t> {
    let value: serde_json::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "OpenAPI body example is not JSON; left out.");
            return op;
        }
    };
    if let Some(ReferenceOr::Item(body)) = op.inner_mut().request_body.as_mut() {
        for media in body.content.values_mut() {
            media.example = Some(value.clone());
        }
    }
    op
}
