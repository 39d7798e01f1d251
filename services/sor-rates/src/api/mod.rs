//! `/sor-rates/sor/v1/…` and `/sor-rates/sor/rate/v1/…` — the SOR/Rates v1 contract. Writes
//! answer **202** as the contract says (upstream DIGIT services answer 200); searches 200.

use crate::domain::model::{
    AnalysisRequest, AnalysisResponse, CompositionRequest, CompositionResponse,
    CompositionSearchRequest, RateRequest, RateResponse, RateSearchRequest, SorRequest,
    SorResponse, SorSearchRequest,
};
use crate::service::SorService;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use axum::{Json, Router};
use digit_core::response::ResponseStatus;
use digit_core::{RequestInfo, ResponseInfo};
use digit_service::{ApiError, DigitJson};

/// The routes under `context` (e.g. `/sor-rates`).
pub fn router(context: &str, service: SorService) -> Router {
    let p = |s: &str| format!("{context}{s}");
    Router::new()
        .route(&p("/sor/v1/_create"), post(create_sors))
        .route(&p("/sor/v1/_update"), post(update_sors))
        .route(&p("/sor/v1/_search"), post(search_sors))
        .route(&p("/sor/rate/v1/_create"), post(create_rates))
        .route(&p("/sor/rate/v1/_update"), post(update_rates))
        .route(&p("/sor/rate/v1/_search"), post(search_rates))
        .route(&p("/sor/composition/v1/_create"), post(create_compositions))
        .route(&p("/sor/composition/v1/_search"), post(search_compositions))
        .route(&p("/sor/rate-analysis/v1/_calculate"), post(calculate))
        .route(&p("/sor/rate-analysis/v1/_create"), post(create_analysed))
        .with_state(service)
}

fn ok(ri: &RequestInfo) -> Option<ResponseInfo> {
    Some(ResponseInfo::from_request(
        Some(ri),
        ResponseStatus::Successful,
    ))
}

async fn create_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorRequest>,
) -> Result<(StatusCode, Json<SorResponse>), ApiError> {
    let sors = s
        .create_sors(&req.request_info, uri.path(), req.sors)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SorResponse {
            response_info: ok(&req.request_info),
            sors,
            pagination: None,
        }),
    ))
}

async fn update_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorRequest>,
) -> Result<(StatusCode, Json<SorResponse>), ApiError> {
    let sors = s
        .update_sors(&req.request_info, uri.path(), req.sors)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SorResponse {
            response_info: ok(&req.request_info),
            sors,
            pagination: None,
        }),
    ))
}

async fn search_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorSearchRequest>,
) -> Result<Json<SorResponse>, ApiError> {
    let (sors, pagination) = s
        .search_sors(
            &req.request_info,
            uri.path(),
            &req.criteria,
            &req.pagination,
        )
        .await?;
    Ok(Json(SorResponse {
        response_info: ok(&req.request_info),
        sors,
        pagination: Some(pagination),
    }))
}

async fn create_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateRequest>,
) -> Result<(StatusCode, Json<RateResponse>), ApiError> {
    let rates = s
        .create_rates(&req.request_info, uri.path(), req.rate_details, false)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RateResponse {
            response_info: ok(&req.request_info),
            rate_details: rates,
            pagination: None,
        }),
    ))
}

async fn update_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateRequest>,
) -> Result<(StatusCode, Json<RateResponse>), ApiError> {
    let rates = s
        .update_rates(&req.request_info, uri.path(), req.rate_details)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RateResponse {
            response_info: ok(&req.request_info),
            rate_details: rates,
            pagination: None,
        }),
    ))
}

async fn search_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateSearchRequest>,
) -> Result<Json<RateResponse>, ApiError> {
    let (rates, pagination) = s
        .search_rates(
            &req.request_info,
            uri.path(),
            &req.criteria,
            &req.pagination,
        )
        .await?;
    Ok(Json(RateResponse {
        response_info: ok(&req.request_info),
        rate_details: rates,
        pagination: Some(pagination),
    }))
}

async fn create_compositions(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<CompositionRequest>,
) -> Result<(StatusCode, Json<CompositionResponse>), ApiError> {
    let compositions = s
        .create_compositions(&req.request_info, uri.path(), req.compositions)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CompositionResponse {
            response_info: ok(&req.request_info),
            compositions,
        }),
    ))
}

async fn search_compositions(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<CompositionSearchRequest>,
) -> Result<Json<CompositionResponse>, ApiError> {
    let compositions = s
        .search_compositions(&req.request_info, uri.path(), &req.criteria)
        .await?;
    Ok(Json(CompositionResponse {
        response_info: ok(&req.request_info),
        compositions,
    }))
}

async fn calculate(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<AnalysisRequest>,
) -> Result<Json<AnalysisResponse>, ApiError> {
    let analyses = s
        .analyse(&req.request_info, uri.path(), &req.sor_details)
        .await?;
    Ok(Json(AnalysisResponse {
        response_info: ok(&req.request_info),
        rate_analysis: analyses,
    }))
}

async fn create_analysed(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<AnalysisRequest>,
) -> Result<(StatusCode, Json<RateResponse>), ApiError> {
    let rates = s
        .create_analysed_rates(&req.request_info, uri.path(), &req.sor_details)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RateResponse {
            response_info: ok(&req.request_info),
            rate_details: rates,
            pagination: None,
        }),
    ))
}
