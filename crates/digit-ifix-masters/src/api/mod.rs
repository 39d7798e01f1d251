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

use crate::domain::adapter::{CodeCriteria, Department, Expenditure, Project, ProjectCriteria};
use crate::domain::coa::{ChartOfAccount, CoaCriteria};
use crate::domain::entity::{DepartmentEntity, EntityCriteria, HierarchyCriteria, HierarchyLevel};
use crate::domain::header::{RequestHeader, ResponseHeader};
use crate::service::{Caller, Masters};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use digit_core::error::codes as digit_codes;
use digit_service::extract::mapping_error;
use digit_service::gate::RequestContext;
use digit_service::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// All routes of the master data.
pub fn router(masters: Masters) -> Router {
    let s = masters.settings.clone();
    let (coa, adapter, entity) = (&s.coa_context, &s.adapter_context, &s.entity_context);
    Router::new()
        .route(
            &format!("{coa}/chartOfAccount/v1/_create"),
            post(coa_create),
        )
        .route(
            &format!("{coa}/chartOfAccount/v1/_search"),
            post(coa_search),
        )
        .route(
            &format!("{adapter}/department/v1/_create"),
            post(department_create),
        )
        .route(
            &format!("{adapter}/department/v1/_search"),
            post(department_search),
        )
        .route(
            &format!("{adapter}/expenditure/v1/_create"),
            post(expenditure_create),
        )
        .route(
            &format!("{adapter}/expenditure/v1/_search"),
            post(expenditure_search),
        )
        .route(
            &format!("{adapter}/project/v1/_create"),
            post(project_create),
        )
        .route(
            &format!("{adapter}/project/v1/_update"),
            post(project_update),
        )
        .route(
            &format!("{adapter}/project/v1/_search"),
            post(project_search),
        )
        .route(
            &format!("{entity}/departmentEntity/hierarchyLevel/v1/_create"),
            post(level_create),
        )
        .route(
            &format!("{entity}/departmentEntity/hierarchyLevel/v1/_search"),
            post(level_search),
        )
        .route(
            &format!("{entity}/departmentEntity/v1/_create"),
            post(entity_create),
        )
        .route(
            &format!("{entity}/departmentEntity/v1/_update"),
            post(entity_update),
        )
        .route(
            &format!("{entity}/departmentEntity/v1/_search"),
            post(entity_search),
        )
        .with_state(masters)
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

/// What a body must carry, with upstream's code and message when it does not.
struct Shape {
    /// The record's key (`chartOfAccount`, `criteria`, …).
    key: &'static str,
    /// `requestHeader` required (code, message); `None`: optional.
    header: Option<(&'static str, &'static str)>,
    /// The record missing (code, message).
    missing: (&'static str, &'static str),
}

const HEADER: (&str, &str) = ("REQUEST_HEADER", "Request header is missing");
const PAYLOAD: (&str, &str) = ("REQUEST_PAYLOAD", "Request payload is missing some value");

/// Reads `{"requestHeader", key}` into its types.
fn read<T: DeserializeOwned>(bytes: &Bytes, shape: &Shape) -> Result<(RequestHeader, T), ApiError> {
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
        None => match shape.header {
            Some((code, message)) => return Err(ApiError::bad_request(code, message)),
            None => RequestHeader::default(),
        },
    };
    let record = object
        .get(shape.key)
        .filter(|r| !r.is_null())
        .ok_or_else(|| ApiError::bad_request(shape.missing.0, shape.missing.1))?;
    let record = serde_path_to_error::deserialize(record.clone()).map_err(|e| mapping_error(&e))?;
    Ok((header, record))
}

/// `{"responseHeader", plural: items}` with `status`.
fn answer<T: Serialize>(
    status: StatusCode,
    header: &RequestHeader,
    caller: &Caller,
    plural: &str,
    items: T,
) -> Result<Response, ApiError> {
    let mut body = serde_json::Map::new();
    body.insert(
        "responseHeader".into(),
        serde_json::to_value(ResponseHeader::successful(header, &caller.correlation_id))
            .map_err(|e| ApiError::internal(&e))?,
    );
    body.insert(
        plural.into(),
        serde_json::to_value(items).map_err(|e| ApiError::internal(&e))?,
    );
    Ok((status, Json(Value::Object(body))).into_response())
}

macro_rules! handler {
    ($name:ident, $shape:expr, $ty:ty, $status:expr, $plural:literal, |$m:ident, $who:ident, $h:ident, $rec:ident| $call:expr) => {
        async fn $name(
            State($m): State<Masters>,
            ctx: Ctx,
            bytes: Bytes,
        ) -> Result<Response, ApiError> {
            let $who = caller(&ctx);
            let ($h, $rec): (RequestHeader, $ty) = read(&bytes, &$shape)?;
            let out = $call.await?;
            answer($status, &$h, &$who, $plural, out)
        }
    };
}

const fn search_shape(code: &'static str, header: Option<(&'static str, &'static str)>) -> Shape {
    Shape {
        key: "criteria",
        header,
        missing: (code, "Search criteria is missing"),
    }
}

handler!(
    coa_create,
    Shape {
        key: "chartOfAccount",
        header: Some(HEADER),
        missing: ("INVALID_REQUEST", "COA request is invalid")
    },
    ChartOfAccount,
    StatusCode::ACCEPTED,
    "chartOfAccounts",
    |m, who, h, rec| async { m.create_coa(&who, &h, rec).await.map(|c| vec![c]) }
);
handler!(
    coa_search,
    search_shape("INVALID_SEARCH_CRITERIA", Some(HEADER)),
    CoaCriteria,
    StatusCode::OK,
    "chartOfAccounts",
    |m, who, h, rec| m.search_coa(&rec)
);

handler!(
    department_create,
    Shape {
        key: "department",
        header: Some(HEADER),
        missing: PAYLOAD
    },
    Department,
    StatusCode::ACCEPTED,
    "department",
    |m, who, h, rec| async { m.create_department(&who, &h, rec).await.map(|d| vec![d]) }
);
handler!(
    department_search,
    search_shape("INVALID_SEARCH_CRITERIA", Some(HEADER)),
    CodeCriteria,
    StatusCode::OK,
    "department",
    |m, who, h, rec| m.search_departments(&rec)
);

handler!(
    expenditure_create,
    Shape {
        key: "expenditure",
        header: Some(HEADER),
        missing: ("REQUEST_PAYLOAD", "Expenditure request is invalid")
    },
    Expenditure,
    StatusCode::OK,
    "expenditure",
    |m, who, h, rec| async { m.create_expenditure(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    expenditure_search,
    search_shape("INVALID_SEARCH_CRITERIA", None),
    CodeCriteria,
    StatusCode::ACCEPTED,
    "expenditure",
    |m, who, h, rec| m.search_expenditures(&rec)
);

handler!(
    project_create,
    Shape {
        key: "project",
        header: Some(PAYLOAD),
        missing: PAYLOAD
    },
    Project,
    StatusCode::OK,
    "project",
    |m, who, h, rec| async { m.create_project(&who, &h, rec).await.map(|p| vec![p]) }
);
handler!(
    project_update,
    Shape {
        key: "project",
        header: Some(PAYLOAD),
        missing: PAYLOAD
    },
    Project,
    StatusCode::OK,
    "project",
    |m, who, h, rec| async { m.update_project(&who, &h, rec).await.map(|p| vec![p]) }
);
handler!(
    project_search,
    search_shape("INVALID_SEARCH_CRITERIA", Some(PAYLOAD)),
    ProjectCriteria,
    StatusCode::ACCEPTED,
    "project",
    |m, who, h, rec| m.search_projects(&rec)
);

handler!(
    level_create,
    Shape {
        key: "departmentHierarchyLevel",
        header: Some(HEADER),
        missing: ("INVALID_REQUEST", "Department hierarchy request is invalid")
    },
    HierarchyLevel,
    StatusCode::OK,
    "departmentHierarchyLevel",
    |m, who, h, rec| async { m.create_level(&who, &h, rec).await.map(|l| vec![l]) }
);
handler!(
    level_search,
    search_shape("SEARCH_CRITERIA", Some(HEADER)),
    HierarchyCriteria,
    StatusCode::OK,
    "departmentHierarchyLevel",
    |m, who, h, rec| m.search_levels(&rec)
);

handler!(
    entity_create,
    Shape {
        key: "departmentEntity",
        header: Some(PAYLOAD),
        missing: PAYLOAD
    },
    DepartmentEntity,
    StatusCode::OK,
    "departmentEntity",
    |m, who, h, rec| async { m.create_entity(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    entity_update,
    Shape {
        key: "departmentEntity",
        header: Some(PAYLOAD),
        missing: PAYLOAD
    },
    DepartmentEntity,
    StatusCode::OK,
    "departmentEntity",
    |m, who, h, rec| async { m.update_entity(&who, &h, rec).await.map(|e| vec![e]) }
);
handler!(
    entity_search,
    search_shape("SEARCH_CRITERIA", Some(HEADER)),
    EntityCriteria,
    StatusCode::OK,
    "departmentEntity",
    |m, who, h, rec| m.search_entities(&rec)
);
