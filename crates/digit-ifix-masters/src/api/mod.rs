//! The routes of the three upstream services, each under its own (configurable) context
//! path, all `POST` with the iFIX envelope `{"requestHeader", "<record>"|"criteria"}`:
//!
//! | path | upstream's status |
//! |---|---|
//! | `{coa}/chartOfAccount/v1/_create`, `_search` | 202, 200 |
//! | `{adapter}/department/v1/_create`, `_search` | 202, 200 |
//! | `{adapter}/expenditure/v1/_create`, `_search` | 200, 202 |
//! | `{adapter}/project/v1/_create`, `_update`, `_search` | 200, 200, 202 |
//! | `{entity}/departmentEntity/hierarchyLevel/v1/_create`, `_search` | 200, 200 |
//! | `{entity}/departmentEntity/v1/_create`, `_update`, `_search` | 200, 200, 200 |
//!
//! Answers are `{"responseHeader", "<plural>": [...]}`; errors are HTTP 400 (rules) in the
//! DIGIT envelope. The caller is the gate's user, never the body's `userInfo`.
//!
//! Each route's envelope is a [`Route`]: bodies are read by [`IfixRequest`] and answered by
//! [`IfixAnswer`], which also describe them in the one OpenAPI document, served (open) at
//! `<context>/openapi.json` and `<context>/docs` under each of the three context paths.

use crate::domain::adapter::{CodeCriteria, Department, Expenditure, Project, ProjectCriteria};
use crate::domain::coa::{ChartOfAccount, CoaCriteria};
use crate::domain::entity::{DepartmentEntity, EntityCriteria, HierarchyCriteria, HierarchyLevel};
use crate::domain::header::{RequestHeader, ResponseHeader};
use crate::service::entity::EntitySearchResult;
use crate::service::{Caller, Masters};
use aide::generate::GenContext;
use aide::openapi::{MediaType, Operation, RequestBody, Response as DocResponse, SchemaObject};
use aide::{OperationInput, OperationOutput};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use digit_core::error::codes as digit_codes;
use digit_service::extract::mapping_error;
use digit_service::gate::RequestContext;
use digit_service::openapi::{body_example, document, post_with, Documented};
use digit_service::{ApiError, ApiRouter};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::marker::PhantomData;

/// A request body example: `docs/openapi/examples/ifix-masters/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/ifix-masters/",
            $name,
            ".json"
        ))
    };
}

/// All routes of the master data and their one OpenAPI document, served at each of the
/// three context paths (`<context>/openapi.json`, `<context>/docs`).
pub fn router(masters: Masters) -> Documented {
    let s = masters.settings.clone();
    let (coa, adapter, entity) = (&s.coa_context, &s.adapter_context, &s.entity_context);
    let routes = ApiRouter::new()
        .api_route(
            &format!("{coa}/chartOfAccount/v1/_create"),
            post_with(coa_create, |o| {
                let o = o.tag("Chart of accounts").summary("Create a chart of account (202)");
                body_example(o, example!("coa-create"))
            }),
        )
        .api_route(
            &format!("{coa}/chartOfAccount/v1/_search"),
            post_with(coa_search, |o| {
                let o = o.tag("Chart of accounts").summary("Search charts of account");
                body_example(o, example!("coa-search"))
            }),
        )
        .api_route(
            &format!("{adapter}/department/v1/_create"),
            post_with(department_create, |o| {
                let o = o.tag("Departments").summary("Create a department (202)");
                body_example(o, example!("department-create"))
            }),
        )
        .api_route(
            &format!("{adapter}/department/v1/_search"),
            post_with(department_search, |o| {
                let o = o.tag("Departments").summary("Search departments");
                body_example(o, example!("department-search"))
            }),
        )
        .api_route(
            &format!("{adapter}/expenditure/v1/_create"),
            post_with(expenditure_create, |o| {
                o.tag("Expenditures").summary("Create an expenditure")
            }),
        )
        .api_route(
            &format!("{adapter}/expenditure/v1/_search"),
            post_with(expenditure_search, |o| {
                o.tag("Expenditures").summary("Search expenditures (202)")
            }),
        )
        .api_route(
            &format!("{adapter}/project/v1/_create"),
            post_with(project_create, |o| {
                o.tag("Projects").summary("Create a project")
            }),
        )
        .api_route(
            &format!("{adapter}/project/v1/_update"),
            post_with(project_update, |o| {
                o.tag("Projects")
                    .summary("Update a project (its links added or removed)")
            }),
        )
        .api_route(
            &format!("{adapter}/project/v1/_search"),
            post_with(project_search, |o| {
                o.tag("Projects").summary("Search projects (202)")
            }),
        )
        .api_route(
            &format!("{entity}/departmentEntity/hierarchyLevel/v1/_create"),
            post_with(level_create, |o| {
                let o = o
                    .tag("Department hierarchy levels")
                    .summary("Create a department hierarchy level");
                body_example(o, example!("hierarchy-level-create"))
            }),
        )
        .api_route(
            &format!("{entity}/departmentEntity/hierarchyLevel/v1/_search"),
            post_with(level_search, |o| {
                let o = o
                    .tag("Department hierarchy levels")
                    .summary("Search department hierarchy levels");
                body_example(o, example!("hierarchy-level-search"))
            }),
        )
        .api_route(
            &format!("{entity}/departmentEntity/v1/_create"),
            post_with(entity_create, |o| {
                let o = o.tag("Department entities").summary("Create a department entity");
                body_example(o, example!("entity-create"))
            }),
        )
        .api_route(
            &format!("{entity}/departmentEntity/v1/_update"),
            post_with(entity_update, |o| {
                o.tag("Department entities")
                    .summary("Update a department entity (its children added or removed)")
            }),
        )
        .api_route(
            &format!("{entity}/departmentEntity/v1/_search"),
            post_with(entity_search, |o| {
                let o = o.tag("Department entities").summary(
                    "Search department entities (or, with `getAncestry`, their chains from the root)",
                );
                body_example(o, example!("entity-search"))
            }),
        )
        .with_state(masters);
    // The same document at each context path (once when two are configured alike).
    let mut contexts: Vec<&str> = Vec::new();
    for c in [coa, adapter, entity] {
        if !contexts.contains(&c.as_str()) {
            contexts.push(c);
        }
    }
    document(
        "iFIX master data",
        "Chart of accounts (ifix-master-data), departments, expenditures and projects \
         (adapter-master-data), department hierarchy levels and entities \
         (ifix-department-entity), in the iFIX `requestHeader` envelope.",
        &contexts,
        routes,
    )
}

type Ctx = Option<Extension<RequestContext>>;

fn caller(ctx: &Ctx) -> Caller {
    Caller {
        user: ctx.as_ref().and_then(|c| c.0.user.clone()),
        correlation_id: ctx
            .as_ref()
            .map(|c| c.0.correlation_id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    }
}

/// One route's iFIX envelope: what its body must carry (with upstream's code and message
/// when it does not) and what it answers, under which key and status.
pub trait Route: Send + Sync + 'static {
    /// The record (or criteria) under [`Self::KEY`].
    type Record: DeserializeOwned + JsonSchema + Send;
    /// What the answer carries under [`Self::PLURAL`].
    type Answer: Serialize + JsonSchema;
    /// The record's key (`chartOfAccount`, `criteria`, …).
    const KEY: &'static str;
    /// `requestHeader` required (code, message); `None`: optional.
    const HEADER: Option<(&'static str, &'static str)>;
    /// The record missing (code, message).
    const MISSING: (&'static str, &'static str);
    /// The answer's key (`chartOfAccounts`, `department`, …).
    const PLURAL: &'static str;
    /// The answer's status (upstream's: 200 or 202).
    const STATUS: StatusCode;
}

const HEADER: (&str, &str) = ("REQUEST_HEADER", "Request header is missing");
const PAYLOAD: (&str, &str) = ("REQUEST_PAYLOAD", "Request payload is missing some value");
const SEARCH_MISSING: &str = "Search criteria is missing";

/// The body `{"requestHeader", R::KEY}` read into its types; any failure is HTTP 400 in
/// the DIGIT envelope (JSON, header or record missing, a field of the wrong type). The
/// content type is not checked (as upstream's fixtures, some clients send none).
#[derive(Debug)]
pub struct IfixRequest<R: Route> {
    /// `requestHeader` (default when optional and absent).
    pub header: RequestHeader,
    /// The record.
    pub record: R::Record,
}

impl<R: Route, S: Send + Sync> FromRequest<S> for IfixRequest<R> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        read::<R>(&bytes).map_err(IntoResponse::into_response)
    }
}

/// Reads `{"requestHeader", key}` into its types.
fn read<R: Route>(bytes: &Bytes) -> Result<IfixRequest<R>, ApiError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            digit_codes::JSON_PARSE,
            format!("Failed to parse JSON body: {e}"),
        )
    })?;
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request(
            digit_codes::MISSING_JSON,
            "JSON body has errors or is missing",
        ));
    };
    let header = match object.get("requestHeader").filter(|h| !h.is_null()) {
        Some(h) => serde_path_to_error::deserialize(h.clone()).map_err(|e| mapping_error(&e))?,
        None => match R::HEADER {
            Some((code, message)) => return Err(ApiError::bad_request(code, message)),
            None => RequestHeader::default(),
        },
    };
    let record = object
        .get(R::KEY)
        .filter(|r| !r.is_null())
        .ok_or_else(|| ApiError::bad_request(R::MISSING.0, R::MISSING.1))?;
    let record = serde_path_to_error::deserialize(record.clone()).map_err(|e| mapping_error(&e))?;
    Ok(IfixRequest { header, record })
}

/// A JSON media type of `schema`.
fn json_content(schema: Value) -> MediaType {
    MediaType {
        schema: Some(SchemaObject {
            json_schema: schemars::Schema::try_from(schema).unwrap_or_default(),
            example: None,
            external_docs: None,
        }),
        ..Default::default()
    }
}

/// A schema of the DIGIT envelope for a request refused before the handler ran.
fn refused(ctx: &mut GenContext, description: &str) -> DocResponse {
    let schema = ctx.schema.subschema_for::<digit_core::ErrorResponse>();
    let mut response = DocResponse {
        description: description.to_owned(),
        ..Default::default()
    };
    response
        .content
        .insert("application/json".into(), json_content(schema.to_value()));
    response
}

impl<R: Route> OperationInput for IfixRequest<R> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        let header = ctx.schema.subschema_for::<RequestHeader>().to_value();
        let record = ctx.schema.subschema_for::<R::Record>().to_value();
        let mut required = vec![R::KEY];
        let header = if R::HEADER.is_some() {
            required.insert(0, "requestHeader");
            header
        } else {
            json!({ "anyOf": [header, { "type": "null" }] })
        };
        let schema = json!({
            "type": "object",
            "properties": { "requestHeader": header, (R::KEY): record },
            "required": required,
        });
        let mut body = RequestBody {
            description: Some(
                "JSON body in the iFIX envelope (`requestHeader` and the record)".into(),
            ),
            required: true,
            ..Default::default()
        };
        body.content
            .insert("application/json".into(), json_content(schema));
        aide::operation::set_body(ctx, operation, body);
    }

    fn inferred_early_responses(
        ctx: &mut GenContext,
        _: &mut Operation,
    ) -> Vec<(Option<u16>, DocResponse)> {
        vec![(
            Some(400),
            refused(
                ctx,
                "Body not JSON, `requestHeader` or the record missing, or a field of the wrong type; or a rule of the record broken",
            ),
        )]
    }
}

/// `{"responseHeader", R::PLURAL: items}` with `R::STATUS`.
#[derive(Debug)]
pub struct IfixAnswer<R: Route> {
    body: Value,
    route: PhantomData<R>,
}

impl<R: Route> IntoResponse for IfixAnswer<R> {
    fn into_response(self) -> Response {
        (R::STATUS, Json(self.body)).into_response()
    }
}

impl<R: Route> OperationOutput for IfixAnswer<R> {
    type Inner = R::Answer;

    fn operation_response(ctx: &mut GenContext, _: &mut Operation) -> Option<DocResponse> {
        let header = ctx.schema.subschema_for::<ResponseHeader>().to_value();
        let items = ctx.schema.subschema_for::<R::Answer>().to_value();
        let schema = json!({
            "type": "object",
            "properties": { "responseHeader": header, (R::PLURAL): items },
            "required": ["responseHeader", R::PLURAL],
        });
        let mut response = DocResponse {
            description: "The records in the iFIX envelope (`responseHeader` and the list)".into(),
            ..Default::default()
        };
        response
            .content
            .insert("application/json".into(), json_content(schema));
        Some(response)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<u16>, DocResponse)> {
        Self::operation_response(ctx, operation)
            .map(|r| vec![(Some(R::STATUS.as_u16()), r)])
            .unwrap_or_default()
    }
}

/// The answer of `items` to `header`.
fn answer<R: Route>(
    header: &RequestHeader,
    caller: &Caller,
    items: R::Answer,
) -> Result<IfixAnswer<R>, ApiError> {
    let mut body = serde_json::Map::new();
    body.insert(
        "responseHeader".into(),
        serde_json::to_value(ResponseHeader::successful(header, &caller.correlation_id))
            .map_err(|e| ApiError::internal(&e))?,
    );
    body.insert(
        R::PLURAL.into(),
        serde_json::to_value(items).map_err(|e| ApiError::internal(&e))?,
    );
    Ok(IfixAnswer {
        body: Value::Object(body),
        route: PhantomData,
    })
}

/// A handler `$name` and its [`Route`] `$route`.
macro_rules! handler {
    (
        $name:ident: $route:ident {
            key: $key:literal,
            header: $header:expr,
            missing: $missing:expr,
            record: $ty:ty,
            answer: $answer:ty,
            status: $status:expr,
            plural: $plural:literal $(,)?
        },
        |$m:ident, $who:ident, $h:ident, $rec:ident| $call:expr
    ) => {
        #[doc = concat!("The envelope of `", stringify!($name), "`.")]
        #[derive(Debug)]
        struct $route;

        impl Route for $route {
            type Record = $ty;
            type Answer = $answer;
            const KEY: &'static str = $key;
            const HEADER: Option<(&'static str, &'static str)> = $header;
            const MISSING: (&'static str, &'static str) = $missing;
            const PLURAL: &'static str = $plural;
            const STATUS: StatusCode = $status;
        }

        async fn $name(
            State($m): State<Masters>,
            ctx: Ctx,
            IfixRequest {
                header: $h,
                record: $rec,
            }: IfixRequest<$route>,
        ) -> Result<IfixAnswer<$route>, ApiError> {
            let $who = caller(&ctx);
            let out = $call.await?;
            answer::<$route>(&$h, &$who, out)
        }
    };
}

handler!(
    coa_create: CoaCreate {
        key: "chartOfAccount",
        header: Some(HEADER),
        missing: ("INVALID_REQUEST", "COA request is invalid"),
        record: ChartOfAccount,
        answer: Vec<ChartOfAccount>,
        status: StatusCode::ACCEPTED,
        plural: "chartOfAccounts",
    },
    |m, who, h, rec| async { m.create_coa(&who, &h, rec).await.map(|c| vec![c]) }
);
handler!(
    coa_search: CoaSearch {
        key: "criteria",
        header: Some(HEADER),
        missing: ("INVALID_SEARCH_CRITERIA", SEARCH_MISSING),
        record: CoaCriteria,
        answer: Vec<ChartOfAccount>,
        status: StatusCode::OK,
        plural: "chartOfAccounts",
    },
    |m, who, h, rec| m.search_coa(&rec)
);

handler!(
    department_create: DepartmentCreate {
        key: "department",
        header: Some(HEADER),
        missing: PAYLOAD,
        record: Department,
        answer: Vec<Department>,
        status: StatusCode::ACCEPTED,
        plural: "department",
    },
    |m, who, h, rec| async { m.create_department(&who, &h, rec).await.map(|d| vec![d]) }
);
handler!(
    department_search: DepartmentSearch {
        key: "criteria",
        header: Some(HEADER),
        missing: ("INVALID_SEARCH_CRITERIA", SEARCH_MISSING),
        record: CodeCriteria,
        answer: Vec<Department>,
        status: StatusCode::OK,
        plural: "department",
    },
    |m, who, h, rec| m.search_departments(&rec)
);

handler!(
    expenditure_create: ExpenditureCreate {
        key: "expenditure",
        header: Some(HEADER),
        missing: ("REQUEST_PAYLOAD", "Expenditure request is invalid"),
        record: Expenditure,
        answer: Vec<Expenditure>,
        status: StatusCode::OK,
        plural: "expenditure",
    },
    |m, who, h, rec| async { m.create_expenditure(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    expenditure_search: ExpenditureSearch {
        key: "criteria",
        header: None,
        missing: ("INVALID_SEARCH_CRITERIA", SEARCH_MISSING),
        record: CodeCriteria,
        answer: Vec<Expenditure>,
        status: StatusCode::ACCEPTED,
        plural: "expenditure",
    },
    |m, who, h, rec| m.search_expenditures(&rec)
);

handler!(
    project_create: ProjectCreate {
        key: "project",
        header: Some(PAYLOAD),
        missing: PAYLOAD,
        record: Project,
        answer: Vec<Project>,
        status: StatusCode::OK,
        plural: "project",
    },
    |m, who, h, rec| async { m.create_project(&who, &h, rec).await.map(|p| vec![p]) }
);
handler!(
    project_update: ProjectUpdate {
        key: "project",
        header: Some(PAYLOAD),
        missing: PAYLOAD,
        record: Project,
        answer: Vec<Project>,
        status: StatusCode::OK,
        plural: "project",
    },
    |m, who, h, rec| async { m.update_project(&who, &h, rec).await.map(|p| vec![p]) }
);
handler!(
    project_search: ProjectSearch {
        key: "criteria",
        header: Some(PAYLOAD),
        missing: ("INVALID_SEARCH_CRITERIA", SEARCH_MISSING),
        record: ProjectCriteria,
        answer: Vec<Project>,
        status: StatusCode::ACCEPTED,
        plural: "project",
    },
    |m, who, h, rec| m.search_projects(&rec)
);

handler!(
    level_create: LevelCreate {
        key: "departmentHierarchyLevel",
        header: Some(HEADER),
        missing: ("INVALID_REQUEST", "Department hierarchy request is invalid"),
        record: HierarchyLevel,
        answer: Vec<HierarchyLevel>,
        status: StatusCode::OK,
        plural: "departmentHierarchyLevel",
    },
    |m, who, h, rec| async { m.create_level(&who, &h, rec).await.map(|l| vec![l]) }
);
handler!(
    level_search: LevelSearch {
        key: "criteria",
        header: Some(HEADER),
        missing: ("SEARCH_CRITERIA", SEARCH_MISSING),
        record: HierarchyCriteria,
        answer: Vec<HierarchyLevel>,
        status: StatusCode::OK,
        plural: "departmentHierarchyLevel",
    },
    |m, who, h, rec| m.search_levels(&rec)
);

handler!(
    entity_create: EntityCreate {
        key: "departmentEntity",
        header: Some(PAYLOAD),
        missing: PAYLOAD,
        record: DepartmentEntity,
        answer: Vec<DepartmentEntity>,
        status: StatusCode::OK,
        plural: "departmentEntity",
    },
    |m, who, h, rec| async { m.create_entity(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    entity_update: EntityUpdate {
        key: "departmentEntity",
        header: Some(PAYLOAD),
        missing: PAYLOAD,
        record: DepartmentEntity,
        answer: Vec<DepartmentEntity>,
        status: StatusCode::OK,
        plural: "departmentEntity",
    },
    |m, who, h, rec| async { m.update_entity(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    entity_search: EntitySearch {
        key: "criteria",
        header: Some(HEADER),
        missing: ("SEARCH_CRITERIA", SEARCH_MISSING),
        record: EntityCriteria,
        answer: EntitySearchResult,
        status: StatusCode::OK,
        plural: "departmentEntity",
    },
    |m, who, h, rec| m.search_entities(&rec)
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::MastersSettings;
    use digit_service::config::Env;
    use std::sync::Arc;

    /// Master data that never connects (the document needs only the routes).
    fn masters(pairs: &[(&str, &str)]) -> Masters {
        let env = Env::from_pairs(pairs.iter().copied());
        Masters {
            pool: sqlx::postgres::PgPoolOptions::new()
                .connect_lazy("postgres://nobody@127.0.0.1:1/none")
                .unwrap(),
            mdms: Arc::new(digit_mdms::EmbeddedMdms::from_documents([])),
            producer: digit_kafka::Producer::new(&digit_kafka::KafkaSettings::new("127.0.0.1:1"))
                .unwrap(),
            commits: None,
            settings: Arc::new(MastersSettings::from_env(&env).unwrap().unwrap()),
            state_level_length: 1,
        }
    }

    #[tokio::test]
    async fn every_route_is_documented_with_its_envelope_and_status() {
        let documented = router(masters(&[]));
        let doc = serde_json::to_value(documented.document.as_ref()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 14);
        let op = |p: &str| &paths[p]["post"];
        let coa = op("/ifix-master-data/chartOfAccount/v1/_create");
        assert!(coa["responses"]["202"].is_object());
        assert!(coa["responses"]["200"].is_null());
        let body = &coa["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["required"], json!(["requestHeader", "chartOfAccount"]));
        let answer = &coa["responses"]["202"]["content"]["application/json"]["schema"];
        assert_eq!(
            answer["required"],
            json!(["responseHeader", "chartOfAccounts"])
        );
        let expenditures = op("/adapter-master-data/expenditure/v1/_search");
        assert!(expenditures["responses"]["202"].is_object());
        let body = &expenditures["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["required"], json!(["criteria"]));
        let entities = op("/ifix-department-entity/departmentEntity/v1/_search");
        assert!(entities["responses"]["200"].is_object());
        assert!(entities["responses"]["400"].is_object());
        // The document at every context path.
        let app = documented.into_router();
        for context in [
            "/ifix-master-data",
            "/adapter-master-data",
            "/ifix-department-entity",
        ] {
            let response = tower::ServiceExt::oneshot(
                app.clone(),
                Request::get(format!("{context}/openapi.json"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{context}");
        }
    }

    #[tokio::test]
    async fn one_context_for_all_three_serves_one_document() {
        let same = "/ifix";
        let documented = router(masters(&[
            ("IFIX_MASTER_DATA_CONTEXT_PATH", same),
            ("ADAPTER_MASTER_DATA_CONTEXT_PATH", same),
            ("IFIX_DEPARTMENT_ENTITY_CONTEXT_PATH", same),
        ]));
        let doc = serde_json::to_value(documented.document.as_ref()).unwrap();
        assert_eq!(doc["paths"].as_object().unwrap().len(), 14);
        // Building the router does not panic on duplicate document routes.
        let _ = documented.into_router();
    }
}
