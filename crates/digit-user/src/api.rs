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

use crate::login::{user_details, Login, LoginError, Tokens, UserSearch};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use digit_core::ErrorDetail;
use digit_kafka::Producer;
use digit_service::gate::RequestContext;
use digit_service::jwt::TokenVerifier;
use digit_service::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
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

/// The routes (`verifier` checks the tokens `_details` and `_logout` receive). With a
/// `producer` and the login's citizen OTPs, also user-otp's `_send` and
/// `/user/citizen/_create` ([`crate::citizen_api`]).
pub fn router(login: Login, verifier: Option<TokenVerifier>, producer: Option<Producer>) -> Router {
    let citizen = match (producer, login.otps().cloned()) {
        (Some(producer), Some(otps)) => {
            crate::citizen_api::router(login.clone(), otps, producer, token_answer)
        }
        _ => Router::new(),
    };
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(DETAILS_PATH, post(details))
        .route(LOGOUT_PATH, post(logout))
        .route(SEARCH_PATH, post(search))
        .with_state(UserApi {
            login,
            verifier: verifier.map(Arc::new),
        })
        .merge(citizen)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
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

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "tenantId")]
    tenant_id: Option<String>,
    #[serde(rename = "userType")]
    user_type: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

pub(crate) fn token_answer(t: Tokens, scope: &str) -> Response {
    Json(json!({
        "access_token": t.access_token,
        "token_type": "bearer",
        "refresh_token": t.refresh_token,
        "expires_in": t.expires_in,
        "scope": scope,
        "ResponseInfo": {"api_id": "", "ver": "", "ts": "", "res_msg_id": "", "msg_id": "", "status": "Access Token generated successfully"},
        "UserRequest": user_details(&t.user),
    }))
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

#[derive(Debug, Default, Deserialize)]
struct AccessTokenQuery {
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
    Query(q): Query<AccessTokenQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = verify(&api, &q)?;
    Ok(Json(user_details(&user)))
}

async fn logout(
    State(api): State<UserApi>,
    Query(q): Query<AccessTokenQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = verify(&api, &q)?;
    let uuid = user.uuid.clone().unwrap_or_default();
    api.login
        .logout(&uuid)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(
        json!({"ResponseInfo": {"status": "Logout successfully"}}),
    ))
}

async fn search(
    State(api): State<UserApi>,
    ctx: Option<Extension<RequestContext>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
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
    let users: Vec<Value> = users.iter().map(user_details).collect();
    Ok(Json(
        json!({"responseInfo": {"status": "successful"}, "user": users}),
    ))
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
