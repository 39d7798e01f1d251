//! `{context}/v1/…` — the sixteen endpoints of spec §1.3, all in the table of [`router`].
//! Every endpoint is `POST` with the iFIX envelope ([`envelope`]): the twelve creates,
//! updates and replies run [`ProgramService::write`] (the pipeline, or the async intake)
//! and answer HTTP 200 with the (mutated) envelope — status `ERROR` on a business rule
//! failure; the four searches answer `{header, <plural>: [...], pagination}`. Header and
//! structural errors are HTTP 400 in the DIGIT envelope.
//!
//! The bodies are read raw ([`EnvelopeBytes`]) and the answers built as JSON ([`Answer`]);
//! both carry their typed form for the OpenAPI document (`<context>/openapi.json`, open).

pub mod envelope;

use crate::domain::model::{
    Allocation, AllocationSearch, DisburseSearch, Disbursement, Envelope, Program, ProgramSearch,
    RequestHeader, Sanction, SanctionSearch, SearchResponse,
};
use crate::error::ProgramError;
use crate::service::intake::{Aggregate, Write};
use crate::service::{Caller, ProgramService};
use aide::axum::routing::ApiMethodRouter;
use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, RequestBody, Response as DocResponse, SchemaObject};
use aide::{OperationInput, OperationOutput};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use digit_service::gate::RequestContext;
use digit_service::openapi::{body_example, document, post_with, Documented, TransformOperation};
use digit_service::{ApiError, ApiRouter};
use envelope::{parse_search, Body, SearchBody, WriteBody};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::marker::PhantomData;

/// A request body example: `docs/openapi/examples/program-service/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/program-service/",
            $name,
            ".json"
        ))
    };
}

/// All routes under `context` (e.g. `/program-service`) and their OpenAPI document.
pub fn router(context: &str, service: ProgramService) -> Documented {
    let mut routes = ApiRouter::new();
    // program/_create|_update, on-program/…, on-sanction/…, on-allocation/…,
    // disburse/_create|_update, on-disburse/_create|_update.
    for write in Write::ALL {
        let route = match write.aggregate() {
            Aggregate::Program => write_route::<Program>(write),
            Aggregate::Sanction => write_route::<Sanction>(write),
            Aggregate::Allocation => write_route::<Allocation>(write),
            Aggregate::Disburse => write_route::<Disbursement>(write),
        };
        routes = routes.api_route(&format!("{context}/v1/{}", write.path()), route);
    }
    let routes = routes
        .api_route(
            &format!("{context}/v1/program/_search"),
            search_route::<_, Program, _, _>(
                Body::ProgramSearch,
                ("Programs", "Search programs"),
                Some(example!("program-search")),
                |s, who, h, c: ProgramSearch| async move { s.search_programs(&who, h, c).await },
            ),
        )
        .api_route(
            &format!("{context}/v1/sanction/_search"),
            search_route::<_, Sanction, _, _>(
                Body::SanctionSearch,
                ("Sanctions", "Search sanctions (with their balances)"),
                Some(example!("sanction-search")),
                |s, who, h, c: SanctionSearch| async move { s.search_sanctions(&who, h, c).await },
            ),
        )
        .api_route(
            &format!("{context}/v1/allocation/_search"),
            search_route::<_, Allocation, _, _>(
                Body::AllocationSearch,
                ("Allocations", "Search allocations and deductions"),
                None,
                |s, who, h, c: AllocationSearch| async move {
                    s.search_allocations(&who, h, c).await
                },
            ),
        )
        .api_route(
            &format!("{context}/v1/disburse/_search"),
            search_route::<_, Disbursement, _, _>(
                Body::DisburseSearch,
                ("Disbursements", "Search disbursements"),
                Some(example!("disburse-search")),
                |s, who, h, c: DisburseSearch| async move { s.disburse_search(&who, h, c).await },
            ),
        )
        .with_state(service);
    document(
        "iFIX program service",
        "Programs, sanctions, allocations and disbursements in the iFIX envelope \
         `{signature, header, message}`: writes answer 200 with the envelope (status `ERROR` \
         on a business rule failure), searches `{header, <plural>, pagination}`.",
        &[context],
        routes,
    )
}

type Ctx = Option<Extension<RequestContext>>;

/// The raw body of an iFIX envelope, documented as a `B` (the endpoint parses it itself:
/// upstream's bean validation runs on the JSON before it is typed). Never refused here but
/// for a body that cannot be read.
#[derive(Debug)]
pub struct EnvelopeBytes<B>(pub Bytes, PhantomData<B>);

impl<B, S: Send + Sync> FromRequest<S> for EnvelopeBytes<B> {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Bytes::from_request(req, state).await?, PhantomData))
    }
}

impl<B: JsonSchema> OperationInput for EnvelopeBytes<B> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let json_schema = ctx.schema.subschema_for::<B>();
        let mut body = RequestBody {
            description: Some("JSON body in the iFIX envelope".into()),
            required: true,
            ..Default::default()
        };
        body.content.insert(
            "application/json".into(),
            MediaType {
                schema: Some(SchemaObject {
                    json_schema,
                    example: None,
                    external_docs: None,
                }),
                ..Default::default()
            },
        );
        aide::operation::set_body(ctx, operation, body);
    }
}

/// A JSON answer built as a [`Value`], documented as a `T` (its typed form).
#[derive(Debug)]
pub struct Answer<T>(pub Value, PhantomData<T>);

impl<T> Answer<T> {
    fn of(value: Value) -> Self {
        Self(value, PhantomData)
    }
}

impl<T> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Answer<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<DocResponse> {
        <Json<T> as OperationOutput>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, DocResponse)> {
        <Json<T> as OperationOutput>::inferred_responses(ctx, operation)
    }
}

/// What a write endpoint does (its OpenAPI tag and summary).
fn describe(write: Write) -> (&'static str, &'static str) {
    match write {
        Write::ProgramCreate => ("Programs", "Create a program (sent to its owner)"),
        Write::ProgramUpdate => ("Programs", "Update a program"),
        Write::OnProgramCreate => ("Programs", "The owner's reply to a program create"),
        Write::OnProgramUpdate => ("Programs", "The owner's reply to a program update"),
        Write::OnSanctionCreate => ("Sanctions", "Sanctions of a program (create)"),
        Write::OnSanctionUpdate => ("Sanctions", "Sanctions of a program (update)"),
        Write::OnAllocationCreate => ("Allocations", "Allocations or deductions (create)"),
        Write::OnAllocationUpdate => ("Allocations", "Allocations or deductions (update)"),
        Write::DisburseCreate => ("Disbursements", "Create a disbursement (debits a sanction)"),
        Write::DisburseUpdate => ("Disbursements", "Update a disbursement"),
        Write::OnDisburseCreate => (
            "Disbursements",
            "The treasury's reply to a disbursement create",
        ),
        Write::OnDisburseUpdate => (
            "Disbursements",
            "The treasury's reply to a disbursement update (status, refunds)",
        ),
    }
}

/// The request body example of a write endpoint (the Postman collection's iFIX ledger story).
fn write_example(write: Write) -> Option<&'static str> {
    match write {
        Write::ProgramCreate => Some(example!("program-create")),
        Write::OnProgramUpdate => Some(example!("on-program-update")),
        Write::OnSanctionCreate => Some(example!("on-sanction-create")),
        Write::OnAllocationCreate => Some(example!("on-allocation-create")),
        Write::DisburseCreate => Some(example!("disburse-create")),
        Write::OnDisburseCreate => Some(example!("on-disburse-create")),
        _ => None,
    }
}

/// The operation's tag and summary, and its body example when it has one.
fn describe_operation<'t>(
    o: TransformOperation<'t>,
    (tag, summary): (&'static str, &'static str),
    example: Option<&'static str>,
) -> TransformOperation<'t> {
    let o = o.tag(tag).summary(summary);
    match example {
        Some(json) => body_example(o, json),
        None => o,
    }
}

/// A create/update/reply endpoint whose message is a `T`.
fn write_route<T: JsonSchema + Send + 'static>(write: Write) -> ApiMethodRouter<ProgramService> {
    let (described, example) = (describe(write), write_example(write));
    post_with(
        move |State(s): State<ProgramService>,
              ctx: Ctx,
              uri: Uri,
              EnvelopeBytes(body, _): EnvelopeBytes<WriteBody<T>>| async move {
            let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
            s.write(&who, write, &body)
                .await
                .map(Answer::<Envelope<T>>::of)
        },
        move |o| describe_operation(o, described, example),
    )
}

/// A search endpoint of `T`s: `body` names the criteria type `C` of upstream's binding
/// codes; `example` is its request body example.
fn search_route<C, T, F, Fut>(
    body: Body,
    described: (&'static str, &'static str),
    example: Option<&'static str>,
    run: F,
) -> ApiMethodRouter<ProgramService>
where
    C: DeserializeOwned + JsonSchema + Send + 'static,
    T: serde::Serialize + JsonSchema + Send + 'static,
    F: Fn(ProgramService, Caller, RequestHeader, C) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ProgramError>> + Send + 'static,
{
    post_with(
        move |State(s): State<ProgramService>,
              ctx: Ctx,
              uri: Uri,
              EnvelopeBytes(bytes, _): EnvelopeBytes<SearchBody<C>>| async move {
            let (header, criteria) = parse_search::<C>(body, &bytes)?;
            let who = caller(ctx.as_ref().map(|c| &c.0), &uri);
            Ok::<_, ApiError>(Answer::<SearchResponse<T>>::of(
                run(s, who, header, criteria).await?,
            ))
        },
        move |o| describe_operation(o, described, example),
    )
}

/// The caller of a request (the gate's context; none when the routes are open).
pub fn caller(ctx: Option<&RequestContext>, uri: &Uri) -> Caller {
    Caller {
        user: ctx.and_then(|c| c.user.clone()),
        path: uri.path().to_owned(),
        correlation_id: ctx.map(|c| c.correlation_id.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use digit_service::config::Env;
    use std::sync::Arc;

    /// A service that never connects (the document needs only the routes).
    fn service() -> ProgramService {
        let env = Env::from_pairs(Vec::<(String, String)>::new());
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let mdms: Arc<dyn digit_mdms::MdmsSource> =
            Arc::new(digit_mdms::EmbeddedMdms::from_documents([]));
        ProgramService {
            pool: pool.clone(),
            mdms: mdms.clone(),
            idgen: Arc::new(digit_store::IdGenerator::new(
                pool,
                digit_store::mdms_masters(mdms),
                digit_store::IdgenSettings::default(),
            )),
            pii: crate::store::pii::PiiCipher::from_config(
                "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            )
            .unwrap(),
            settings: Arc::new(crate::service::ProgramSettings::from_env(&env).unwrap()),
            authorizer: None,
            intake: crate::service::intake::IntakeSettings::from_env(&env).unwrap(),
            producer: None,
        }
    }

    #[tokio::test]
    async fn every_endpoint_is_documented_with_its_envelope() {
        let doc = router("/program-service", service()).document;
        let doc = serde_json::to_value(doc.as_ref()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 16);
        for (path, item) in paths {
            let op = &item["post"];
            assert!(op.is_object(), "{path}");
            let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            assert!(
                body.as_str().unwrap().ends_with("Request"),
                "{path}: {body}"
            );
            assert!(op["responses"]["200"].is_object(), "{path}");
            assert!(op["responses"]["400"].is_object(), "{path}");
        }
        let write = &paths["/program-service/v1/disburse/_create"]["post"];
        assert_eq!(
            write["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Envelope_for_Disbursement"
        );
        // Request examples from the Postman collection: the writes of its ledger story and
        // the searches it sends.
        for path in [
            "program/_create",
            "on-program/_update",
            "on-sanction/_create",
            "on-allocation/_create",
            "disburse/_create",
            "on-disburse/_create",
            "program/_search",
            "sanction/_search",
            "disburse/_search",
        ] {
            let op = &paths[&format!("/program-service/v1/{path}")]["post"];
            let example = &op["requestBody"]["content"]["application/json"]["example"];
            assert!(example["header"]["message_type"].is_string(), "{path}");
            assert!(example["message"].is_object(), "{path}");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        assert!(
            schemas.contains_key("RequestHeaderIn"),
            "{:?}",
            schemas.keys()
        );
    }
}
