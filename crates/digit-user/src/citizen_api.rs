//! The citizen's own front door in standalone mode, as user-otp and egov-user answer it:
//!
//! * `POST /user-otp/v1/_send` — `{RequestInfo, otp: {mobileNumber, tenantId, type, userType}}`
//!   (`type`: `register` | `login` | `passwordreset`) → `{ResponseInfo, isSuccessful: true}`;
//!   the OTP goes out as an SMS message (`{mobileNumber, message, category: "OTP",
//!   expiryTime, tenantId, locale}`) on the notification topic egov-notification-sms reads.
//! * `POST /user/citizen/_create` — `{RequestInfo, User: {name, username | mobileNumber,
//!   otpReference, tenantId, …}}` registers the citizen at the state tenant once its register
//!   OTP verifies, and logs it in (upstream's `citizen.registration.withlogin.enabled`): the
//!   answer is `/user/oauth/token`'s.
//!
//! Both are open endpoints (no token), as upstream's gateway whitelists them.

use crate::api::{json_body, open, TokenResponse};
use crate::embedded::now_ms;
use crate::login::{Login, Tokens};
use crate::otp::{OtpError, OtpPurpose, Otps};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use digit_core::{ErrorDetail, RequestInfo, ResponseInfo};
use digit_kafka::Producer;
use digit_service::openapi::post_with;
use digit_service::{ApiError, ApiRouter};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// user-otp's send path.
pub const OTP_SEND_PATH: &str = "/user-otp/v1/_send";
/// egov-user's citizen registration path.
pub const CITIZEN_CREATE_PATH: &str = "/user/citizen/_create";

#[derive(Clone)]
struct CitizenApi {
    login: Login,
    /// The login's citizen OTPs (the routes exist only where they are configured).
    otps: Otps,
    producer: Producer,
    /// How a token answer is built (shared with `/user/oauth/token`).
    answer: fn(Tokens, &str) -> Response,
}

/// The routes, documented (the caller finishes them into its document with its own routes);
/// OTPs are kept by `otps` and their SMS messages published with `producer`. `answer`
/// renders a login.
pub(crate) fn router(
    login: Login,
    otps: Otps,
    producer: Producer,
    answer: fn(Tokens, &str) -> Response,
) -> ApiRouter {
    ApiRouter::new()
        .api_route(
            OTP_SEND_PATH,
            post_with(send, |o| {
                json_body::<OtpSendRequest>(open(o), true, "The OTP request")
                    .tag("Citizens")
                    .summary(
                        "Send a citizen an OTP by SMS (register, login or password reset; open)",
                    )
            }),
        )
        .api_route(
            CITIZEN_CREATE_PATH,
            post_with(create_citizen, |o| {
                json_body::<CitizenCreateRequest>(open(o), true, "The citizen to register")
                    .tag("Citizens")
                    .summary("Register a citizen with its register OTP and log it in (open)")
                    .response_with::<200, Json<TokenResponse>, _>(|r| {
                        r.description("The new citizen's login, as `/user/oauth/token` answers")
                    })
            }),
        )
        .with_state(CitizenApi {
            login,
            otps,
            producer,
            answer,
        })
}

fn bad(code: &str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        vec![ErrorDetail::new(code, message)],
    )
}

fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        bad(
            digit_core::error::codes::JSON_MAPPING,
            &format!("The request body is not valid JSON: {e}"),
        )
    })
}

/// `/user-otp/v1/_send`'s body.
#[derive(Debug, schemars::JsonSchema)]
#[allow(dead_code)] // Describes the body the handler reads as JSON.
struct OtpSendRequest {
    /// Envelope (optional here).
    #[serde(rename = "RequestInfo")]
    request_info: Option<RequestInfo>,
    /// The OTP to send.
    otp: OtpBody,
}

/// The OTP request.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct OtpBody {
    /// 10-digit mobile number (mandatory).
    mobile_number: Option<String>,
    /// Tenant (mandatory).
    tenant_id: Option<String>,
    /// `register`, `login` or `passwordreset` (mandatory).
    #[serde(rename = "type")]
    purpose: Option<String>,
    /// `CITIZEN` by default.
    user_type: Option<String>,
}

/// `/user-otp/v1/_send`'s answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OtpSendResponse {
    /// Always null, as user-otp answers.
    #[serde(rename = "ResponseInfo")]
    pub response_info: Option<ResponseInfo>,
    /// Always true (failures are errors).
    #[serde(rename = "isSuccessful")]
    pub is_successful: bool,
}

/// Indian mobile numbers, as user-otp and egov-user validate them.
fn valid_mobile(m: &str) -> bool {
    m.len() == 10 && m.bytes().all(|b| b.is_ascii_digit())
}

fn otp_store_error(e: OtpError) -> ApiError {
    match e {
        OtpError::TooManyRequests => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            vec![ErrorDetail::new(
                "OTP.TOO_MANY_REQUESTS",
                "Too many OTPs were requested for this number; try again later",
            )],
        ),
        OtpError::Database(e) => ApiError::internal(&e),
    }
}

/// The SMS text (user-otp's English defaults).
fn message(purpose: OtpPurpose, otp: &str) -> String {
    match purpose {
        OtpPurpose::Register => {
            format!("Dear Citizen, Your OTP to complete your registration is {otp}.")
        }
        OtpPurpose::Login => format!("Dear Citizen, Your Login OTP is {otp}."),
        OtpPurpose::PasswordReset => {
            format!("Dear Citizen, Your OTP for recovering password is {otp}.")
        }
    }
}

async fn send(
    State(api): State<CitizenApi>,
    body: Bytes,
) -> Result<Json<OtpSendResponse>, ApiError> {
    let value = body_json(&body)?;
    let Some(otp) = value.get("otp").filter(|o| o.is_object()) else {
        return Err(bad("OTP.REQUEST_MANDATORY", "The otp object is mandatory"));
    };
    let req: OtpBody = serde_json::from_value(otp.clone()).map_err(|e| {
        bad(
            digit_core::error::codes::JSON_MAPPING,
            &format!("Failed to read the otp request: {e}"),
        )
    })?;
    let mut errors = Vec::new();
    let mobile = req.mobile_number.as_deref().map(str::trim).unwrap_or("");
    if mobile.is_empty() {
        errors.push(ErrorDetail::new(
            "OTP.MOBILE_NUMBER_MANDATORY",
            "Mobile number is mandatory",
        ));
    } else if !valid_mobile(mobile) {
        errors.push(ErrorDetail::new(
            "OTP.MOBILE_NUMBER_INVALID",
            "Mobile number must be 10 digits",
        ));
    }
    let tenant = req.tenant_id.as_deref().map(str::trim).unwrap_or("");
    if tenant.is_empty() {
        errors.push(ErrorDetail::new(
            "OTP.TENANT_ID_MANDATORY",
            "Tenant id is mandatory",
        ));
    }
    let purpose = req.purpose.as_deref().and_then(OtpPurpose::parse);
    if purpose.is_none() {
        errors.push(ErrorDetail::new(
            "OTP.REQUEST_TYPE_MANDATORY",
            "Type is mandatory: register, login or passwordreset",
        ));
    }
    let (Some(purpose), true) = (purpose, errors.is_empty()) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, errors));
    };
    let user_type = req
        .user_type
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("CITIZEN")
        .to_ascii_uppercase();
    let state = api.login.state_tenant(tenant).to_owned();
    let exists = api
        .login
        .user_exists(mobile, &user_type, tenant)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match (purpose, exists) {
        (OtpPurpose::Register, true) => {
            return Err(bad(
                "OTP.USER_ALREADY_EXISTS",
                "User already exists with this mobile number",
            ))
        }
        (OtpPurpose::Login | OtpPurpose::PasswordReset, false) => {
            return Err(bad(
                "OTP.USER_NOT_EXISTING",
                "No user is registered with this mobile number",
            ))
        }
        _ => {}
    }
    let issued = api
        .otps
        .issue(&state, mobile, purpose)
        .await
        .map_err(otp_store_error)?;
    let sms = json!({
        "mobileNumber": mobile,
        "message": message(purpose, &issued.otp),
        "category": "OTP",
        "expiryTime": issued.expires_at,
        "tenantId": tenant,
        "locale": "en_IN",
        "templateId": null,
    });
    if let Err(e) = api
        .producer
        .send_json(&api.otps.settings.sms_topic, Some(mobile), &sms, None)
        .await
    {
        // No SMS, no OTP: the number gets a fresh one on its next request.
        api.otps.revoke(&issued.id).await.map_err(otp_store_error)?;
        tracing::error!(error = %e, "The OTP SMS could not be published.");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![ErrorDetail::new(
                "OTP.SMS_FAILED",
                "The OTP could not be sent; try again",
            )],
        ));
    }
    tracing::info!(purpose = purpose.as_str(), "OTP sent.");
    Ok(Json(OtpSendResponse {
        response_info: None,
        is_successful: true,
    }))
}

/// `/user/citizen/_create`'s body (`User`, or `user`).
#[derive(Debug, schemars::JsonSchema)]
#[allow(dead_code)] // Describes the body the handler reads as JSON.
struct CitizenCreateRequest {
    /// Envelope (optional here).
    #[serde(rename = "RequestInfo")]
    request_info: Option<RequestInfo>,
    /// The citizen (also read as `user`).
    #[serde(rename = "User")]
    user: CitizenBody,
}

/// The citizen to register.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CitizenBody {
    /// Name (mandatory, at most 100 characters).
    name: Option<String>,
    /// The 10-digit mobile number (or `userName`, or `mobileNumber`).
    username: Option<String>,
    /// The 10-digit mobile number.
    user_name: Option<String>,
    /// The 10-digit mobile number.
    mobile_number: Option<String>,
    /// The register OTP (mandatory when registration requires one).
    otp_reference: Option<String>,
    /// Tenant (mandatory; the citizen is registered at its state).
    tenant_id: Option<String>,
    /// E-mail.
    email_id: Option<String>,
}

async fn create_citizen(State(api): State<CitizenApi>, body: Bytes) -> Result<Response, ApiError> {
    let value = body_json(&body)?;
    let Some(user) = value
        .get("User")
        .or_else(|| value.get("user"))
        .filter(|u| u.is_object())
    else {
        return Err(bad("USER_MANDATORY", "The User object is mandatory"));
    };
    let req: CitizenBody = serde_json::from_value(user.clone()).map_err(|e| {
        bad(
            digit_core::error::codes::JSON_MAPPING,
            &format!("Failed to read the user: {e}"),
        )
    })?;
    // A citizen's user name is its mobile number.
    let mobile = req
        .mobile_number
        .or(req.username)
        .or(req.user_name)
        .map(|m| m.trim().to_owned())
        .unwrap_or_default();
    let name = req.name.map(|n| n.trim().to_owned()).unwrap_or_default();
    let tenant = req
        .tenant_id
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    let mut errors = Vec::new();
    if !valid_mobile(&mobile) {
        errors.push(ErrorDetail::new(
            "INVALID_MOBILE_NUMBER",
            "A citizen's user name is its 10-digit mobile number",
        ));
    }
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(ErrorDetail::new(
            "INVALID_NAME",
            "Name is mandatory (at most 100 characters)",
        ));
    }
    if tenant.is_empty() {
        errors.push(ErrorDetail::new(
            "INVALID_TENANT_ID",
            "Tenant id is mandatory",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, errors));
    }
    let state = api.login.state_tenant(&tenant).to_owned();
    if api.otps.settings.register_mandatory {
        let otp = req.otp_reference.as_deref().map(str::trim).unwrap_or("");
        if otp.is_empty() {
            return Err(bad("OTP_REFERENCE_MANDATORY", "otpReference is mandatory"));
        }
        if !api
            .otps
            .verify(&state, &mobile, otp, &[OtpPurpose::Register])
            .await
            .map_err(otp_store_error)?
        {
            return Err(bad("INVALID_OTP", "The OTP is invalid, used or expired"));
        }
    }
    let created = api
        .login
        .create_citizen(&state, &mobile, &name, req.email_id.as_deref(), now_ms())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(uuid) = created else {
        return Err(bad(
            "DUPLICATE_USER_NAME",
            "A citizen with this mobile number is already registered",
        ));
    };
    let tokens = api
        .login
        .tokens_for(&uuid)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok((api.answer)(tokens, "read"))
}
