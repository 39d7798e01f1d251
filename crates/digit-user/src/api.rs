//! egov-user's paths in standalone mode (served by the `pgr` binary, which owns the users):
//!
//! * `POST /user/oauth/token` — form-urlencoded, HTTP Basic client (`egov-user-client`):
//!   `grant_type=password` (`username`, `password`, `tenantId`, `userType`) or
//!   `grant_type=refresh_token` (`refresh_token`) → `{access_token, token_type, refresh_token,
//!   expires_in, scope, ResponseInfo, UserRequest}`; OAuth2 errors as Spring answers them
//!   (`{"error": "invalid_grant", "error_description": "Invalid login credentials" | "Account
//!   locked" …}`, 400; a bad client 401).
//! * `POST /user/_details?access_token=` — the token's user (`CustomUserDetails`); an invalid
//!   token is `400 InvalidAccessTokenException`, as egov-user answers (the gateway turns it into
//!   the 401 the UI logs out on).
//! * `POST /user/_logout?access_token=` — revokes the user's refresh tokens.
//! * `POST /user-otp/v1/_send`, `POST /user/citizen/_create` — citizens' OTPs and
//!   registration ([`crate::citizen_api`]).
//! * `POST /user/_search` — `{RequestInfo, uuid[], id[], userName, mobileNumber, tenantId,
//!   userType, roleCodes[], pageSize}` → `{responseInfo, user: [...]}`, behind the gate; a
//!   citizen finds only itself.

use crate::login::{user_details, Login, LoginError, Tokens, UserDetails, UserSearch};
use aide::openapi::{MediaType, ReferenceOr, RequestBody, SchemaObject, SecurityRequirement};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use digit_core::{ErrorDetail, ErrorResponse};
use digit_kafka::Producer;
use digit_service::gate::RequestContext;
use digit_service::jwt::TokenVerifier;
use digit_service::openapi::{document, post_with, TransformOperation};
use digit_service::{ApiError, ApiRouter, Documented, QueryCriteria};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Token path.
pub const TOKEN_PATH: &str = "/user/oauth/token";
/// Token details path.
pub const DETAILS_PATH: &str = "/user/_details";
/// Logout path.
pub const LOGOUT_PATH: &str = "/user/_logout";
/// Search path.
pub const SEARCH_PATH: &str = "/user/_search";

#[derive(Clone)]
struct UserApi {
    login: Login,
    verifier: Option<Arc<TokenVerifier>>,
}

/// The contexts the document is served under (`<context>/openapi.json`, `<context>/docs`).
pub const DOC_CONTEXTS: [&str; 2] = ["/user", "/user-otp"];

/// The routes (`verifier` checks the tokens `_details` and `_logout` receive) and their
/// OpenAPI document. With a `producer` and the login's citizen OTPs, also user-otp's `_send`
/// and `/user/citizen/_create` ([`crate::citizen_api`]), in the same document.
pub fn router(
    login: Login,
    verifier: Option<TokenVerifier>,
    producer: Option<Producer>,
) -> Documented {
    let citizen = match (producer, login.otps().cloned()) {
        (Some(producer), Some(otps)) => Some(crate::citizen_api::router(
            login.clone(),
            otps,
            producer,
            token_answer,
        )),
        _ => None,
    };
    let mut routes = ApiRouter::new()
        .api_route(TOKEN_PATH, post_with(token, document_token))
        .api_route(
            DETAILS_PATH,
            post_with(details, |o| {
                open(o)
                    .tag("Users")
                    .summary("The user of an access token (`?access_token=`; open)")
            }),
        )
        .api_route(
            LOGOUT_PATH,
            post_with(logout, |o| {
                open(o).tag("Users").summary(
                    "Log out: revoke the refresh tokens of the access token's user \
                     (`?access_token=`; open)",
                )
            }),
        )
        .api_route(
            SEARCH_PATH,
            post_with(search, |o| {
                json_body::<UserSearchBody>(
                    o,
                    false,
                    "Optional: the criteria beside `RequestInfo` (a body that is not a JSON \
                     object searches without criteria)",
                )
                .tag("Users")
                .summary("Search users (a citizen finds only itself; at most 100)")
            }),
        )
        .with_state(UserApi {
            login,
            verifier: verifier.map(Arc::new),
        });
    if let Some(citizen) = citizen {
        routes = routes.merge(citizen);
    }
    document(
        "Users",
        "egov-user and user-otp in standalone mode: login (OAuth2 password and refresh \
         grants), token details and logout, user search, citizens' OTPs and registration.",
        &DOC_CONTEXTS,
        routes,
    )
}

/// `/user/_search`'s body: the criteria, beside the `RequestInfo` (read and ignored here).
#[derive(Debug, schemars::JsonSchema)]
#[allow(dead_code)] // Describes the body the handler reads as JSON.
struct UserSearchBody {
    /// Envelope (the gate reads it; the search ignores it).
    #[serde(rename = "RequestInfo")]
    request_info: Option<digit_core::RequestInfo>,
    /// The criteria.
    #[serde(flatten)]
    criteria: UserSearch,
}

/// Marks the operation open: no token needed (its path is in the open-endpoint list).
pub(crate) fn open(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    op.inner_mut().security = vec![SecurityRequirement::new()];
    op
}

fn media(json_schema: schemars::Schema) -> MediaType {
    MediaType {
        schema: Some(SchemaObject {
            json_schema,
            example: None,
            external_docs: None,
        }),
        ..Default::default()
    }
}

/// Documents a request body of type `T` under `content_type`.
fn body<'a, T: schemars::JsonSchema>(
    mut op: TransformOperation<'a>,
    content_type: &str,
    required: bool,
    description: &str,
) -> TransformOperation<'a> {
    let json_schema = aide::generate::in_context(|ctx| ctx.schema.subschema_for::<T>());
    op.inner_mut().request_body = Some(ReferenceOr::Item(RequestBody {
        description: Some(description.to_owned()),
        content: IndexMap::from_iter([(content_type.to_owned(), media(json_schema))]),
        required,
        extensions: IndexMap::default(),
    }));
    op
}

/// Documents a JSON request body of type `T` (for handlers that read the raw bytes).
pub(crate) fn json_body<'a, T: schemars::JsonSchema>(
    op: TransformOperation<'a>,
    required: bool,
    description: &str,
) -> TransformOperation<'a> {
    body::<T>(op, "application/json", required, description)
}

fn document_token(op: TransformOperation<'_>) -> TransformOperation<'_> {
    body::<TokenForm>(
        open(op),
        "application/x-www-form-urlencoded",
        true,
        "`grant_type=password` with `username`, `password`, `tenantId` (and `userType`, \
         `EMPLOYEE` by default), or `grant_type=refresh_token` with `refresh_token`",
    )
    .tag("Users")
    .summary("Log in or refresh a token (OAuth2; form body, HTTP Basic client)")
    .description(
        "The client authenticates with HTTP Basic, `Authorization: Basic \
         base64(<client id>:<secret>)` (egov's `egov-user-client` with an empty secret by \
         default); no bearer token. Errors are OAuth2's, as Spring answers them, except \
         those of the gate in front (a JSON body that does not parse, a body over the \
         limit), which are DIGIT envelopes.",
    )
    .response_with::<200, Json<TokenResponse>, _>(|r| r.description("The token pair and its user"))
    .response_with::<400, Json<TokenError>, _>(|r| {
        r.description(
            "`invalid_grant` (bad credentials, locked account, bad refresh token), \
             `unsupported_grant_type`, `invalid_request` (a missing parameter); or the \
             gate's envelope for an unparsable JSON body",
        )
    })
    .response_with::<401, Json<OAuthError>, _>(|r| {
        r.description("Missing or unknown Basic client (`unauthorized`)")
    })
    .response_with::<500, Json<TokenError>, _>(|r| {
        r.description("`server_error`: the login could not be processed")
    })
    .default_response_with::<Json<ErrorResponse>, _>(|r| {
        r.description("Any other error of the gate (413 …) in the DIGIT envelope")
    })
}

/// An OAuth2 error, as Spring answers it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OAuthError {
    /// `invalid_grant`, `unsupported_grant_type`, `invalid_request`, `unauthorized`,
    /// `server_error`.
    pub error: String,
    /// What went wrong.
    pub error_description: String,
}

/// A `/user/oauth/token` error: OAuth2's, or the gate's DIGIT envelope.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TokenError {
    /// The login's.
    OAuth(OAuthError),
    /// The gate's.
    Digit(ErrorResponse),
}

/// A login: the token pair and its user.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// `bearer`.
    pub token_type: String,
    /// The refresh token (opaque).
    pub refresh_token: String,
    /// Lifetime of the access token, seconds.
    pub expires_in: i64,
    /// The requested scope (`read` by default).
    pub scope: String,
    /// egov-user's snake-case response info.
    #[serde(rename = "ResponseInfo")]
    pub response_info: TokenResponseInfo,
    /// The user.
    #[serde(rename = "UserRequest")]
    pub user_request: UserDetails,
}

/// The token answer's `ResponseInfo` (snake case, as egov-user sends it).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TokenResponseInfo {
    /// Empty.
    pub api_id: String,
    /// Empty.
    pub ver: String,
    /// Empty.
    pub ts: String,
    /// Empty.
    pub res_msg_id: String,
    /// Empty.
    pub msg_id: String,
    /// `Access Token generated successfully`.
    pub status: String,
}

/// A `{status}` response info.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StatusInfo {
    /// E.g. `successful`.
    pub status: String,
}

/// `/user/_logout`'s answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LogoutResponse {
    /// `{"status": "Logout successfully"}`.
    #[serde(rename = "ResponseInfo")]
    pub response_info: StatusInfo,
}

/// `/user/_search`'s answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UserSearchResponse {
    /// `{"status": "successful"}` (lower-case key, as egov-user).
    #[serde(rename = "responseInfo")]
    pub response_info: StatusInfo,
    /// The users found.
    pub user: Vec<UserDetails>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(OAuthError {
            error: error.to_owned(),
            error_description: description.to_owned(),
        }),
    )
        .into_response()
}

fn login_error(e: LoginError) -> Response {
    match e {
        LoginError::InvalidCredentials => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid login credentials",
        ),
        LoginError::Locked => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Account locked")
        }
        LoginError::InvalidRefreshToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token",
        ),
        LoginError::UnsupportedGrant => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
        LoginError::Missing(p) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("Missing parameter: {p}"),
        ),
        LoginError::Database(m) | LoginError::Signing(m) => {
            tracing::error!(error = %m, "Login failed.");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The login could not be processed",
            )
        }
    }
}

/// The HTTP Basic client of the request, if any.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':').unwrap_or((text.as_str(), ""));
    Some((id.to_owned(), secret.to_owned()))
}

/// The token form (every field a string; an empty one counts as missing).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(transform = form_fields)]
struct TokenForm {
    /// `password` or `refresh_token`.
    grant_type: Option<String>,
    /// User name (password grant).
    username: Option<String>,
    /// Password, or a citizen's login OTP (password grant).
    password: Option<String>,
    /// Tenant (password grant).
    #[serde(rename = "tenantId")]
    tenant_id: Option<String>,
    /// `EMPLOYEE` (default), `CITIZEN` or `SYSTEM` (password grant).
    #[serde(rename = "userType")]
    user_type: Option<String>,
    /// The refresh token (refresh grant).
    refresh_token: Option<String>,
    /// Echoed back (`read` by default).
    scope: Option<String>,
}

/// A form has no nulls: every field of [`TokenForm`] is an optional string.
fn form_fields(schema: &mut schemars::Schema) {
    let properties = schema
        .as_object_mut()
        .and_then(|s| s.get_mut("properties"))
        .and_then(Value::as_object_mut);
    for field in properties.into_iter().flat_map(|p| p.values_mut()) {
        if let Some(field) = field.as_object_mut() {
            field.insert("type".into(), "string".into());
            field.remove("default");
        }
    }
}

pub(crate) fn token_answer(t: Tokens, scope: &str) -> Response {
    Json(TokenResponse {
        access_token: t.access_token,
        token_type: "bearer".into(),
        refresh_token: t.refresh_token,
        expires_in: t.expires_in,
        scope: scope.to_owned(),
        response_info: TokenResponseInfo {
            api_id: String::new(),
            ver: String::new(),
            ts: String::new(),
            res_msg_id: String::new(),
            msg_id: String::new(),
            status: "Access Token generated successfully".into(),
        },
        user_request: user_details(&t.user),
    })
    .into_response()
}

async fn token(State(api): State<UserApi>, headers: HeaderMap, body: Bytes) -> Response {
    match basic_client(&headers) {
        Some((id, secret)) if api.login.client_allowed(&id, &secret) => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Full authentication is required to access this resource",
            )
        }
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return login_error(LoginError::Missing("grant_type"));
    };
    let scope = form
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "read".into());
    let need = |v: &Option<String>, name: &'static str| {
        v.clone()
            .filter(|s| !s.is_empty())
            .ok_or(LoginError::Missing(name))
    };
    let result = match form.grant_type.as_deref() {
        Some("password") => match (
            need(&form.username, "username"),
            need(&form.password, "password"),
            need(&form.tenant_id, "tenantId"),
        ) {
            (Ok(u), Ok(p), Ok(t)) => {
                api.login
                    .password_grant(&u, &p, &t, form.user_type.as_deref().unwrap_or("EMPLOYEE"))
                    .await
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        },
        Some("refresh_token") => match need(&form.refresh_token, "refresh_token") {
            Ok(r) => api.login.refresh_grant(&r).await,
            Err(e) => Err(e),
        },
        None => Err(LoginError::Missing("grant_type")),
        Some(_) => Err(LoginError::UnsupportedGrant),
    };
    match result {
        Ok(t) => token_answer(t, &scope),
        Err(e) => login_error(e),
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct AccessTokenQuery {
    /// The access token (a missing or invalid one is `400 InvalidAccessTokenException`).
    access_token: Option<String>,
}

fn invalid_token() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        vec![ErrorDetail::new(
            "InvalidAccessTokenException",
            "Invalid access token or access token expired for the request",
        )],
    )
}

fn verify(api: &UserApi, q: &AccessTokenQuery) -> Result<digit_core::UserInfo, ApiError> {
    let token = q
        .access_token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(invalid_token)?;
    let verifier = api.verifier.as_ref().ok_or_else(invalid_token)?;
    verifier.verify(token).map_err(|_| invalid_token())
}

async fn details(
    State(api): State<UserApi>,
    QueryCriteria(q): QueryCriteria<AccessTokenQuery>,
) -> Result<Json<UserDetails>, ApiError> {
    let user = verify(&api, &q)?;
    Ok(Json(user_details(&user)))
}

async fn logout(
    State(api): State<UserApi>,
    QueryCriteria(q): QueryCriteria<AccessTokenQuery>,
) -> Result<Json<LogoutResponse>, ApiError> {
    let user = verify(&api, &q)?;
    let uuid = user.uuid.clone().unwrap_or_default();
    api.login
        .logout(&uuid)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(LogoutResponse {
        response_info: StatusInfo {
            status: "Logout successfully".into(),
        },
    }))
}

async fn search(
    State(api): State<UserApi>,
    ctx: Option<Extension<RequestContext>>,
    body: Bytes,
) -> Result<Json<UserSearchResponse>, ApiError> {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut criteria: UserSearch = serde_path_to_error_free(&value)?;
    let caller = ctx.and_then(|c| c.0.user.clone());
    if caller
        .as_ref()
        .is_some_and(digit_core::UserInfo::is_citizen)
    {
        // A citizen finds itself only.
        criteria.uuid = caller.and_then(|u| u.uuid).into_iter().collect();
    }
    let limit = criteria.page_size.unwrap_or(100).clamp(1, 100);
    let users = api
        .login
        .search(&criteria, limit)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(UserSearchResponse {
        response_info: StatusInfo {
            status: "successful".into(),
        },
        user: users.iter().map(user_details).collect(),
    }))
}

/// The criteria are the body's top-level fields beside `RequestInfo`.
fn serde_path_to_error_free(value: &Value) -> Result<UserSearch, ApiError> {
    match value {
        Value::Object(_) => serde_json::from_value(value.clone()).map_err(|e| {
            ApiError::bad_request(
                digit_core::error::codes::JSON_MAPPING,
                format!("Failed to parse the search criteria: {e}"),
            )
        }),
        _ => Ok(UserSearch::default()),
    }
}
